"""'Did you mean' on its own: corrections and accent restoration against the demo index."""

from __future__ import annotations

import pytest

from searchsvc.embedded import EmbeddedBackend
from searchsvc.messages import Suggestion
from searchsvc.query import parse_query
from searchsvc.spelling import _keep_accents, document_frequency, suggest_query
from searchsvc.store import Store


def test_document_frequency_counts_titles_and_bodies(store: Store) -> None:
    expected = store.doc_frequency("body", "noi") + store.doc_frequency("title", "noi")
    assert document_frequency(store, "noi") == expected > 0
    assert document_frequency(store, "zzzq") == 0


@pytest.mark.parametrize(
    ("typed", "total", "expected"),
    [
        # A typo is corrected and the accents restored, whatever the results (a title's
        # sentence-start capital is not the word's: "Thủ tướng" becomes "thủ tướng").
        ("thu tuongg", 0, Suggestion("thủ tướng", "<em>thủ</em> <em>tướng</em>")),
        ("thu tuongg", 10, Suggestion("thủ tướng", "<em>thủ</em> <em>tướng</em>")),
        # Accents alone are suggested only when nothing was found.
        ("ha noi", 0, Suggestion("Hà Nội", "<em>Hà</em> <em>Nội</em>")),
        ("ha noi", 10, None),
        # An accented typo keeps the reader's accents on the corrected word.
        ("Hà Nộii", 10, Suggestion("hà nội", "hà <em>nội</em>")),
    ],
)
def test_suggest_query(store: Store, typed: str, total: int, expected: Suggestion | None) -> None:
    assert suggest_query(parse_query(typed), EmbeddedBackend(store), total) == expected


def test_nothing_to_suggest_for_an_exclusion_only_query(store: Store) -> None:
    assert suggest_query(parse_query("-bão"), EmbeddedBackend(store), 0) is None


@pytest.mark.parametrize(
    ("typed", "corrected", "expected"),
    [("dụcc", "duc", "dục"), ("giáoo", "giao", "giáo"), ("dụcc", "dac", None), ("ducc", "duc", None)],
)
def test_keep_accents(typed: str, corrected: str, expected: str | None) -> None:
    assert _keep_accents(typed, corrected) == expected
