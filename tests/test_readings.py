"""Readings on their own: when a query is read as Telex or VNI keystrokes, and when as typed."""

from __future__ import annotations

import pytest

from searchsvc.query import parse_query
from searchsvc.readings import choose_reading, decode_abbreviation

# Folded word -> articles using it: a tiny corpus where `viet`, `ma` and `cdv` are common.
CORPUS = {"viet": 50, "nam": 80, "taxi": 30, "ma": 40, "tan": 5, "cdv": 30}


def doc_freq(folded: str) -> int:
    """Return how many articles of the tiny corpus use a folded word."""
    return CORPUS.get(folded, 0)


@pytest.mark.parametrize(
    ("typed", "mode", "searched"),
    [
        ("vieejt nam", "telex", "việt nam"),
        ("vie65t nam", "vni", "việt nam"),
        ("cddv", "telex", "cđv"),
        # Accents typed: the input method was on, nothing is decoded.
        ("Việt Nam", "literal", "Việt Nam"),
        # A word of the corpus stays as typed ...
        ("taxi", "literal", "taxi"),
        ("nam", "literal", "nam"),
        # ... and so does one whose decoding the corpus does not use.
        ("hanoi", "literal", "hanoi"),
        # `max` is no word of the corpus, `mã` (folded `ma`) is common.
        ("max tan", "telex", "mã tan"),
    ],
)
def test_choose_reading(typed: str, mode: str, searched: str) -> None:
    parsed, chosen = choose_reading(parse_query(typed), doc_freq)
    assert (chosen, parsed.text) == (mode, searched)


def test_a_literal_reading_returns_the_query_unchanged() -> None:
    parsed = parse_query("Việt Nam")
    assert choose_reading(parsed, doc_freq) == (parsed, "literal")


def test_decoding_needs_the_decoded_word_to_dominate() -> None:
    # `viet` in 50 articles is not 20 times more than a typed word in 5.
    corpus = {**CORPUS, "vieejt": 5}
    parsed, mode = choose_reading(parse_query("vieejt"), lambda w: corpus.get(w, 0))
    assert (mode, parsed.text) == ("literal", "vieejt")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("cddv", "cđv"), ("DDT", "đt"), ("cdv", None), ("dda", None), ("dd2", None), ("ddđ", None)],
)
def test_decode_abbreviation(word: str, expected: str | None) -> None:
    assert decode_abbreviation(word) == expected
