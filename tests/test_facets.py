"""Filter masks and disjunctive facet counts over in-memory columns."""

from __future__ import annotations

from datetime import date

import numpy as np

from searchsvc.facets import (
    FilterMasks,
    build_masks,
    count_periods,
    count_values,
    date_mask,
    facet_counts,
    value_mask,
)
from searchsvc.messages import FacetValue
from searchsvc.store import Column, Columns

# Five documents: categories, sources, days (0 = undated).
CATEGORY = Column(np.array([1, 1, 2, 0, 2], dtype=np.int32), ("", "Thể thao", "Kinh doanh"))
SOURCE = Column(np.array([1, 2, 1, 1, 2], dtype=np.int32), ("", "VnExpress", "Dân trí"))
MONTH = Column(np.array([1, 2, 2, 0, 3], dtype=np.int32), ("", "2023-12", "2024-01", "2024-02"))
YEAR = Column(np.array([1, 2, 2, 0, 2], dtype=np.int32), ("", "2023", "2024"))
DAY = np.array([20231231, 20240101, 20240131, 0, 20240201], dtype=np.int64)
COLUMNS = Columns(CATEGORY, SOURCE, MONTH, YEAR, DAY * 0, DAY, np.ones(5, dtype=bool))
EVERY = np.ones(5, dtype=bool)


def test_value_mask_ignores_case_accents_and_spacing():
    assert value_mask(CATEGORY, ["THE  THAO", "kinh doanh"]).tolist() == [True, True, True, False, True]
    assert value_mask(CATEGORY, ["Văn hóa"]).tolist() == [False] * 5


def test_date_mask_is_inclusive_and_skips_undated():
    assert date_mask(COLUMNS, date(2024, 1, 1), date(2024, 1, 31)).tolist() == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert date_mask(COLUMNS, None, None).tolist() == [True, True, True, False, True]


def test_counts():
    assert count_values(CATEGORY, EVERY) == (FacetValue("Kinh doanh", 2), FacetValue("Thể thao", 2))
    assert count_periods(MONTH, EVERY) == (
        FacetValue("2023-12", 1),
        FacetValue("2024-01", 2),
        FacetValue("2024-02", 1),
    )


def test_facet_counts_are_disjunctive():
    masks = build_masks(COLUMNS, ("Thể thao",), ("Dân trí",), None, None, None)
    assert facet_counts(COLUMNS, EVERY, masks) == {
        # Categories ignore the category filter but respect the source filter.
        "category": (FacetValue("Kinh doanh", 1), FacetValue("Thể thao", 1)),
        "source": (FacetValue("Dân trí", 1), FacetValue("VnExpress", 1)),
        "year": (FacetValue("2024", 1),),
        "month": (FacetValue("2024-01", 1),),
    }


def test_combined_masks():
    masks = FilterMasks(category=np.array([True, False]), date=np.array([True, True]))
    assert (masks.combined().tolist(), masks.combined(skip="category").tolist()) == (
        [True, False],
        [True, True],
    )
    assert FilterMasks().combined() is None
