"""Re-ranking on its own: proximity, freshness, exact accents in the body and the final order."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchsvc.config import SearchSettings
from searchsvc.ranking import (
    SECONDS_PER_DAY,
    Candidate,
    exact_body_share,
    field_weights,
    freshness,
    has_word,
    idf,
    proximity,
    rerank,
)

WEIGHTS = {"title": 3.0, "summary": 1.5, "body": 1.0}
NOW = 1_700_000_000.0


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


def test_proximity_counts_the_title_most() -> None:
    assert proximity({"title": 1.0}, WEIGHTS) == 1.0
    assert proximity({"body": 1.0}, WEIGHTS) == pytest.approx((1 / 3) ** 0.5)
    assert proximity({"title": 0.5, "body": 1.0}, WEIGHTS) == pytest.approx((1 / 3) ** 0.5)
    assert proximity({}, WEIGHTS) == 0.0


def test_freshness_halves_every_half_life() -> None:
    day = SECONDS_PER_DAY
    assert freshness(int(NOW), NOW, 30.0) == 1.0
    assert freshness(int(NOW - 30 * day), NOW, 30.0) == pytest.approx(0.5)
    assert freshness(int(NOW - 60 * day), NOW, 30.0) == pytest.approx(0.25)
    # Undated, from the future, or freshness off.
    assert freshness(0, NOW, 30.0) == 0.0
    assert freshness(int(NOW + day), NOW, 30.0) == 1.0
    assert freshness(int(NOW), NOW, 0.0) == 0.0


def candidate(
    docnum: int,
    score: float = 1.0,
    adjacency: dict[str, float] | None = None,
    body: str = "",
    published_ts: int = 0,
    title_coverage: float = 0.0,
) -> Candidate:
    """Return a candidate with no evidence beyond what the arguments give."""
    return Candidate(docnum, score, adjacency or {}, body, published_ts, title_coverage)


def test_rerank_without_evidence_keeps_bm25_order_and_scores() -> None:
    found = rerank([candidate(1, 2.0), candidate(2, 3.0)], [], SearchSettings(), NOW)
    assert found == [(2, 3.0), (1, 2.0)]


def test_rerank_ties_go_to_the_newer_article_then_the_lower_docnum() -> None:
    found = rerank(
        [candidate(5, published_ts=100), candidate(3, published_ts=200), candidate(4, published_ts=200)],
        [],
        SearchSettings(),
        NOW,
    )
    assert [docnum for docnum, _ in found] == [3, 4, 5]


def test_rerank_words_together_in_the_title_beat_a_higher_bm25() -> None:
    settings = SearchSettings()
    together = candidate(1, 1.0, adjacency={"title": 1.0})
    apart = candidate(2, 2.0)
    found = rerank([apart, together], [], settings, NOW, pairs=2)
    # 1 + boost * 2 pairs * proximity 1, plus the whole-run bonus.
    assert found == [(1, pytest.approx(1.0 + settings.proximity_boost * 3)), (2, 2.0)]


def test_rerank_title_coverage_and_exact_accents() -> None:
    settings = SearchSettings()
    covered = candidate(1, title_coverage=1.0)
    exact = candidate(2, body="Cơn bão số 3")
    found = dict(rerank([covered, exact], ["bão"], settings, NOW))
    assert found == {
        1: pytest.approx(1.0 + settings.title_coverage_boost),
        2: pytest.approx(1.0 + settings.exact_boost * 0.5),
    }


def test_rerank_checks_exact_accents_only_within_the_body_depth() -> None:
    settings = SearchSettings()
    found = dict(
        rerank([candidate(1, body="bão"), candidate(2, body="bão")], ["bão"], settings, NOW, body_depth=1)
    )
    assert found == {1: pytest.approx(1.0 + settings.exact_boost * 0.5), 2: 1.0}


def test_field_weights_are_the_settings_of_the_fields_asked():
    settings = SearchSettings(title_weight=4.0, summary_weight=2.0, body_weight=1.5, author_weight=0.25)
    assert field_weights(settings) == {"title": 4.0, "summary": 2.0, "body": 1.5, "author": 0.25}
    assert field_weights(settings, ("body", "title")) == {"body": 1.5, "title": 4.0}


def test_idf_is_bm25s_and_falls_as_a_term_gets_common():
    assert idf(100, 1) == pytest.approx(math.log(1.0 + 99.5 / 1.5))
    assert idf(100, 1) > idf(100, 10) > idf(100, 100) > 0.0
