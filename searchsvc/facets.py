"""Filters and disjunctive facet counts over in-memory columns (numpy, no Whoosh).

A match set is a boolean mask over document numbers. Each facet is counted over
the matches that pass every filter *except its own*, so a reader who ticked one
category still sees how many matches the other categories have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from searchsvc.messages import FacetValue
from searchsvc.schema import facet_key
from searchsvc.state import Column, Columns


@dataclass(frozen=True)
class FilterMasks:
    """One boolean mask per filter kind (None when that filter is not used)."""

    category: np.ndarray | None = None
    source: np.ndarray | None = None
    date: np.ndarray | None = None
    other: np.ndarray | None = None  # author and tag filters, never faceted

    def combined(self, skip: str | None = None) -> np.ndarray | None:
        """AND all masks but the one named ``skip``; None when no mask applies."""
        result: np.ndarray | None = None
        for name in ("category", "source", "date", "other"):
            mask = getattr(self, name)
            if mask is None or name == skip:
                continue
            result = mask if result is None else result & mask
        return result


def value_mask(column: Column, wanted: Iterable[str]) -> np.ndarray:
    """Return the documents whose value equals one of ``wanted`` (case and accents ignored)."""
    keys = {facet_key(w) for w in wanted}
    codes = [i for i, value in enumerate(column.values) if i and facet_key(value) in keys]
    return np.isin(column.codes, np.asarray(codes, dtype=column.codes.dtype))


def date_mask(columns: Columns, start: date | None, end: date | None) -> np.ndarray:
    """Return the dated documents whose Vietnam local day lies in ``[start, end]``."""
    day = columns.day
    mask = day > 0
    if start is not None:
        mask &= day >= start.year * 10000 + start.month * 100 + start.day
    if end is not None:
        mask &= day <= end.year * 10000 + end.month * 100 + end.day
    return mask


def build_masks(
    columns: Columns,
    categories: tuple[str, ...],
    sources: tuple[str, ...],
    start: date | None,
    end: date | None,
    other: np.ndarray | None,
) -> FilterMasks:
    """Build the filter masks of a request."""
    return FilterMasks(
        category=value_mask(columns.category, categories) if categories else None,
        source=value_mask(columns.source, sources) if sources else None,
        date=date_mask(columns, start, end) if (start or end) else None,
        other=other,
    )


def count_values(column: Column, matches: np.ndarray, limit: int | None = None) -> tuple[FacetValue, ...]:
    """Count matches per value of ``column``, most frequent first (ties by value)."""
    counts = np.bincount(column.codes[matches], minlength=len(column.values))
    pairs = [(column.values[i], int(c)) for i in np.nonzero(counts)[0] if i for c in (counts[i],)]
    pairs.sort(key=lambda p: (-p[1], p[0]))
    return tuple(FacetValue(v, c) for v, c in pairs[:limit])


def count_periods(column: Column, matches: np.ndarray) -> tuple[FacetValue, ...]:
    """Count matches per year or month, in time order (a histogram)."""
    counts = np.bincount(column.codes[matches], minlength=len(column.values))
    pairs = [(column.values[i], int(counts[i])) for i in np.nonzero(counts)[0] if i]
    pairs.sort()
    return tuple(FacetValue(v, c) for v, c in pairs)


def facet_counts(
    columns: Columns, base: np.ndarray, masks: FilterMasks
) -> Mapping[str, tuple[FacetValue, ...]]:
    """Return disjunctive category, source, year and month counts for the text matches ``base``."""

    def within(skip: str) -> np.ndarray:
        mask = masks.combined(skip)
        return base if mask is None else base & mask

    by_date = within("date")
    return {
        "category": count_values(columns.category, within("category")),
        "source": count_values(columns.source, within("source")),
        "year": count_periods(columns.year, by_date),
        "month": count_periods(columns.month, by_date),
    }
