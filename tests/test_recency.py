"""Recency in the default ranking: topical queries prefer recent coverage; undated ranks as old."""

from __future__ import annotations

from dataclasses import replace

from searchsvc.config import SearchSettings
from searchsvc.ranking import SECONDS_PER_DAY, Candidate, is_topical, rerank

NOW = 1_780_000_000.0
SETTINGS = replace(SearchSettings(), freshness_boost=1.0, freshness_half_life_days=365.0, rerank_depth=4)


def cand(docnum: int, score: float, days_old: float | None) -> Candidate:
    """Return a candidate published ``days_old`` days before NOW (None: undated)."""
    published = 0 if days_old is None else int(NOW - days_old * SECONDS_PER_DAY)
    return Candidate(docnum, score, {}, "", published)


def order(
    candidates: list[Candidate], settings: SearchSettings = SETTINGS, topical: bool = True
) -> list[int]:
    """Return the docnums in ranked order (a topical query unless told otherwise)."""
    return [docnum for docnum, _ in rerank(candidates, [], settings, NOW, topical=topical)]


def filler(start: int) -> list[Candidate]:
    """Return weak old matches that fill the re-ranked head (a topic has many matches)."""
    return [cand(start + i, 0.1, 4000) for i in range(SETTINGS.rerank_depth)]


def test_a_topic_puts_recent_coverage_before_old_undated_articles():
    found = order([cand(1, 1.2, None), cand(2, 1.0, 30), *filler(10)])
    assert found[:2] == [2, 1]


def test_a_known_item_is_ranked_by_its_words_alone():
    # Rare words: no phrase of the titles, or fewer matches than the re-ranked head holds.
    assert (is_topical(0, 400, SETTINGS), is_topical(12, 2, SETTINGS), is_topical(3, 4, SETTINGS)) == (
        False,
        False,
        True,
    )
    assert order([cand(1, 1.2, None), cand(2, 1.0, 30), *filler(10)], topical=False)[:2] == [1, 2]


def test_an_undated_article_ranks_as_old_and_never_above_a_dated_equal():
    found = order([cand(1, 1.0, None), cand(2, 1.0, 3650), cand(3, 1.0, 10), *filler(10)])
    assert found[:3] == [3, 2, 1]
    # Without freshness too: the tie goes to the dated article.
    assert order([cand(1, 1.0, None), cand(2, 1.0, 3650)], replace(SETTINGS, freshness_boost=0.0)) == [2, 1]


def test_a_much_better_match_still_beats_a_recent_one():
    found = order([cand(1, 3.0, None), cand(2, 1.0, 0), *filler(10)])
    assert found[:2] == [1, 2]
