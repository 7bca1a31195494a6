"""The serving store: whole-state swaps, and what it does when a new generation is damaged."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from searchsvc import indexer
from searchsvc.answers import MASKS, SEARCH_ANSWERS, StateMemo
from searchsvc.demo import demo_sources
from searchsvc.errors import IndexNotReady
from searchsvc.generations import CURRENT, current_generation
from searchsvc.indexer import reindex
from searchsvc.lexicon import LEXICON_FILE
from searchsvc.readmodel import LEXICON_MODEL
from searchsvc.search import SearchRequest, SearchResponse, search
from searchsvc.store import open_store


@pytest.fixture()
def two_generations(tmp_path: Path) -> Path:
    """An index directory whose demo generation is live, with a second, smaller one beside it."""
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    return index_dir


def _small_generation(index_dir: Path, tmp_path: Path) -> str:
    """Build a one-article generation in another directory and move it beside the live one; return its name."""
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"id": "x1", "title": "Mưa lớn ở Huế", "body": "Huế mưa."}) + "\n", "utf-8")
    other = tmp_path / "other"
    name = reindex([source], other).generation
    shutil.move(str(other / name), str(index_dir / name))
    return name


def _point(index_dir: Path, name: str) -> None:
    """Switch CURRENT by hand, as an operator (or a bad copy) might."""
    (index_dir / CURRENT).write_text(name + "\n", encoding="utf-8")


def test_a_new_generation_is_swapped_in_whole(two_generations: Path, tmp_path: Path):
    store = open_store(two_generations, refresh_interval=0)
    try:
        before = store.doc_count
        name = _small_generation(two_generations, tmp_path)
        _point(two_generations, name)
        store.refresh()
        assert (store.generation, store.doc_count) == (name, 1)
        assert before > 1
        assert store.health()["status"] == "ok"
    finally:
        store.close()


@pytest.mark.parametrize("damage", ["missing", "lexicon", "toc", "pointer"])
def test_a_damaged_new_generation_is_not_served_and_health_says_so(
    two_generations: Path, tmp_path: Path, damage: str
):
    store = open_store(two_generations, refresh_interval=0)
    try:
        live = store.generation
        total = search(store, SearchRequest(q="")).total
        if damage == "missing":
            name = "gen-does-not-exist"
        elif damage == "pointer":
            name = "CURRENT"  # the pointer itself is what is damaged
            (two_generations / CURRENT).write_bytes(b"\xff\xfe")
        else:
            name = _small_generation(two_generations, tmp_path)
            target = two_generations / name
            if damage == "lexicon":
                # Both the pickle and its map: nothing is left to rebuild the lexicon from.
                for file in (LEXICON_FILE, LEXICON_MODEL):
                    data = (target / file).read_bytes()
                    (target / file).write_bytes(data[: len(data) // 2])
            else:
                for toc in target.glob("_MAIN_*.toc"):
                    toc.write_bytes(toc.read_bytes()[:40])
        if damage != "pointer":
            _point(two_generations, name)
        for _ in range(3):
            store.refresh()
            # Every request keeps answering from the generation that works.
            assert store.generation == live
            assert search(store, SearchRequest(q="")).total == total
        health = store.health()
        assert health["status"] == "degraded"
        assert name in health["problem"] and live in health["problem"]
        assert str(tmp_path) not in health["problem"]
        _point(two_generations, live)
        store.refresh()
        assert store.health()["status"] == "ok"
    finally:
        store.close()


def test_reindex_checks_the_new_generation_before_switching(
    two_generations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    live = current_generation(two_generations).name
    real_save = indexer.save_lexicon

    def truncated_save(lexicon, directory: Path) -> None:
        real_save(lexicon, directory)
        data = (directory / LEXICON_FILE).read_bytes()
        (directory / LEXICON_FILE).write_bytes(data[:100])

    monkeypatch.setattr(indexer, "save_lexicon", truncated_save)
    with pytest.raises(IndexNotReady, match="failed its check"):
        reindex([str(p) for p in demo_sources()], two_generations)
    assert current_generation(two_generations).name == live
    assert list(two_generations.glob(".build-*")) == []


def test_a_state_keeps_its_answers_and_a_new_state_starts_afresh(two_generations: Path, tmp_path: Path):
    from searchsvc.config import SearchSettings
    from searchsvc.indexer import add_articles

    store = open_store(two_generations, refresh_interval=0)
    try:
        request = SearchRequest(q="hue mua")
        first = search(store, request)
        again = search(store, request)
        assert (again.total, again.hits, again.facets) == (first.total, first.hits, first.facets)
        assert SEARCH_ANSWERS.get(store.state, (request, SearchSettings(), 0)) is not None
        other = search(store, request, SearchSettings(snippet_chars=40))
        assert all(len(h.highlights.snippet) < 120 for h in other.hits)
        source = tmp_path / "hue.jsonl"
        source.write_text(
            json.dumps({"id": "hue-moi", "title": "Huế mưa lớn cả tuần", "body": "Mưa lớn ở Huế."}) + "\n",
            encoding="utf-8",
        )
        add_articles([source], two_generations)
        store.refresh()
        after = search(store, request)
        # The demo corpus has no article with both words (a partial answer); the new one has.
        assert (first.partial, after.partial, after.total) == (True, False, 1)
        assert after.hits[0].id == "hue-moi"
    finally:
        store.close()


class _Moment:
    """A stand-in for one index state (compared by identity, weakly referable)."""


def test_a_state_memo_keeps_its_newest_entries_per_state_and_goes_with_the_state():
    memo: StateMemo[str, int] = StateMemo(2)
    first, second = _Moment(), _Moment()
    for number, key in enumerate("abc"):
        memo.put(first, key, number)
    memo.put(second, "a", 10)
    assert [memo.get(first, k) for k in "abc"] == [None, 1, 2]
    assert (memo.get(second, "a"), memo.get(second, "b")) == (10, None)
    del first
    gc.collect()
    assert len(memo._by_state) == 1


def test_alias_masks_are_kept_apart_from_the_answers(two_generations: Path):
    store = open_store(two_generations, refresh_interval=0)
    try:
        search(store, SearchRequest(q="tphcm"))
        state = store.state
        masks = MASKS._by_state.get(state) or {}
        answers = SEARCH_ANSWERS._by_state.get(state) or {}
        assert masks and all(isinstance(m, np.ndarray) for m in masks.values())
        assert answers and all(isinstance(a, SearchResponse) for a in answers.values())
    finally:
        store.close()
