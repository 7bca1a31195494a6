"""Re-ranking's pure pieces: the whole-word test for exact accents in the body."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchsvc.ranking import exact_body_share, has_word


def _regex_has_word(text: str, word: str) -> bool:
    """The definition has_word replaces: a whole-word regex search."""
    return re.search(rf"(?<![^\W\d_])(?:{re.escape(word)})(?![^\W\d_])", text) is not None


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("cơn bão số 3", "bão", True),
        ("báo chí", "bão", False),
        ("bãoo", "bão", False),
        ("tin bão.", "bão", True),
        ("bão2024", "bão", True),
        ("2024bão", "bão", True),
        ("_bão_", "bão", True),
        ("hòa bình", "hòa", True),
        ("", "bão", False),
        ("abão bão", "bão", True),
    ],
)
def test_has_word_golden(text: str, word: str, expected: bool):
    assert has_word(text, word) is expected
    assert _regex_has_word(text, word) is expected


@given(
    st.text(alphabet="ab ã.1_²ơ\u0301", max_size=30),
    st.text(alphabet="abãơ", min_size=1, max_size=3),
)
def test_has_word_equals_the_regex(text: str, word: str):
    assert has_word(text, word) == _regex_has_word(text, word)


def test_exact_body_share_counts_either_tone_style():
    assert exact_body_share(["hòa", "bão"], "Hoà bình sau cơn bão") == 1.0
    assert exact_body_share(["hòa", "bão"], "Hoa bình sau cơn báo") == 0.0
    assert exact_body_share(["hòa", "bão"], "hòa") == 0.5
