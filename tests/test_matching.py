"""The one phrase algorithm of ``matching``, checked against the stored text of the demo index."""

from __future__ import annotations

import numpy as np
import pytest

from searchsvc.matching import phrase_docs, slot_docs, word_slots
from searchsvc.text import exact_terms, folded_terms


def holding(store, field: str, words: list[str], terms_of=folded_terms) -> list[int]:
    """Return the live documents whose stored ``field`` has ``words`` adjacent, in order (by reading it)."""
    size = len(words)
    found = []
    for docnum in np.nonzero(store.columns.live)[0].tolist():
        terms = terms_of(store.stored(docnum).get(field) or "")
        if any(terms[i : i + size] == words for i in range(len(terms) - size + 1)):
            found.append(docnum)
    return found


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("title", ["ha", "noi"]),
        ("title", ["noi", "ha"]),
        ("body", ["uy", "ban", "nhan", "dan"]),
        ("summary", ["thu", "tuong"]),
        ("body", ["ha"]),
    ],
)
def test_phrase_docs_finds_exactly_the_adjacent_words(store, field, words):
    everything = store.columns.live.copy()
    assert phrase_docs(store, word_slots(field, words), everything).tolist() == holding(store, field, words)


def test_phrase_docs_looks_only_among_the_candidates(store):
    slots = word_slots("title", ["ha", "noi"])
    all_found = phrase_docs(store, slots, store.columns.live.copy())
    some = np.zeros_like(store.columns.live)
    some[all_found[:1]] = True
    assert phrase_docs(store, slots, some).tolist() == all_found[:1].tolist()


def test_a_slot_may_hold_exact_forms_beside_folded_words(store):
    # `bão` exactly (the storm, not `báo` the newspaper), then folded `so`.
    slots = [[("body_x", "bão")], [("body", "so")]]
    exact = holding(store, "body", ["bão", "số"], exact_terms)
    assert exact
    assert set(exact) <= set(phrase_docs(store, slots, store.columns.live.copy()).tolist())


def test_slot_docs_marks_the_documents_with_any_word_of_the_slot(store):
    size = store.columns.live.shape[0]
    either = slot_docs(store, [("title", "ha"), ("title", "bao")], size)
    alone = slot_docs(store, [("title", "ha")], size) | slot_docs(store, [("title", "bao")], size)
    assert either.tolist() == alone.tolist()
