"""Matching over ``indexview.IndexView`` alone: a few documents held in Python lists and numpy arrays.

``MemoryIndex`` implements the protocol without Whoosh or a read model; the same
queries over the same documents in a real index give the same masks, so the
protocol says all that matching needs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from searchsvc.accents import plan
from searchsvc.config import SearchSettings
from searchsvc.indexer import reindex
from searchsvc.indexview import IndexView
from searchsvc.lexicon import Lexicon, LexiconBuilder
from searchsvc.matching import evaluate
from searchsvc.query import parse_query
from searchsvc.schema import EXACT_FIELDS, SEARCH_FIELDS
from searchsvc.state import Column, Columns
from searchsvc.store import open_store
from searchsvc.text import forms, syllables

ARTICLES = [
    {"id": "a0", "title": "Hà Nội mưa lớn", "body": "Mưa lớn kéo dài ở Hà Nội."},
    {"id": "a1", "title": "Đà Nẵng nắng nóng", "body": "Đà Nẵng nắng nóng kỷ lục."},
    {"id": "a2", "title": "Nội thất Hà Đông", "body": "Hà Đông có hội chợ nội thất."},
    {"id": "a3", "title": "Lũ lụt miền Trung", "body": "Lũ lớn ở miền Trung.", "author": "Lan"},
    {"id": "a4", "title": "Giá lợn hơi", "body": "Con lợn được giá."},
]


class MemoryIndex:
    """An ``IndexView`` over a few articles: postings and positions in dicts, lengths in arrays."""

    def __init__(self, articles: list[dict[str, str]]) -> None:
        self.size = len(articles)
        self.positions: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(dict)
        self.lengths = {f: np.zeros(self.size) for f in (*SEARCH_FIELDS, *EXACT_FIELDS.values())}
        builder = LexiconBuilder()
        for docnum, article in enumerate(articles):
            builder.add(article["title"], None)
            for field in SEARCH_FIELDS:
                for form, name in ((1, field), (0, EXACT_FIELDS[field])):
                    terms = [forms(raw)[form] for raw in syllables(article.get(field, ""))]
                    self.lengths[name][docnum] = len(terms)
                    for position, term in enumerate(terms):
                        self.positions[(name, term)].setdefault(docnum, []).append(position)
        self._lexicon = builder.build()
        live = np.ones(self.size, dtype=bool)
        none = Column(np.zeros(self.size, dtype=np.int32), ("",))
        zeros = np.zeros(self.size, dtype=np.int64)
        self._columns = Columns(none, none, none, none, zeros, zeros, live)

    @property
    def state(self) -> MemoryIndex:
        return self

    @property
    def doc_count(self) -> int:
        return self.size

    @property
    def columns(self) -> Columns:
        return self._columns

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        found = self.positions.get((field, term), {})
        docs = sorted(found)
        return np.asarray(docs, dtype=np.int32), np.asarray([len(found[d]) for d in docs], dtype=np.float32)

    def doc_frequency(self, field: str, term: str) -> int:
        return len(self.positions.get((field, term), {}))

    def length_norm(self, field: str, k1: float, b: float) -> np.ndarray:
        lengths = self.lengths[field]
        average = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
        norm: np.ndarray = k1 * ((1.0 - b) + b * lengths / average)
        return norm

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        words = sorted({t for f, t in self.positions if f == field and t.startswith(prefix)})
        return words[:limit]

    def term_positions(self, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = self.positions.get((field, term), {})
        pairs = [(i, p) for i, d in enumerate(docnums.tolist()) for p in found.get(d, [])]
        return np.asarray([i for i, _ in pairs], dtype=np.int64), np.asarray(
            [p for _, p in pairs], dtype=np.int64
        )


def matches(index: IndexView, q: str, accents: bool = False) -> list[str]:
    """Return the ids of the articles ``q`` matches (marked words matched exactly when ``accents``)."""
    parsed = parse_query(q)
    evaluation = evaluate(index, parsed, SearchSettings(), plan(index, parsed) if accents else None)
    return [ARTICLES[d]["id"] for d in np.nonzero(evaluation.required)[0]]


CASES = [
    ("ha noi", False, ["a0", "a2"]),
    ('"ha noi"', False, ["a0"]),
    ("ha noi -mua", False, ["a2"]),
    ("lo*", False, ["a0", "a3", "a4"]),
    ("lon", False, ["a0", "a3", "a4"]),
    ("lớn", True, ["a0", "a3"]),
    ("lợn", True, ["a4"]),
    ("mua OR nang", False, ["a0", "a1"]),
    ("da nang", False, ["a1"]),
    ("lan", False, ["a3"]),
    ("hoi cho", False, ["a2"]),
    ("tuyet", False, []),
]


@pytest.fixture(scope="module")
def memory() -> IndexView:
    """Return the in-memory index, checked by mypy to be an ``IndexView``."""
    return MemoryIndex(ARTICLES)


@pytest.mark.parametrize(("q", "accents", "expected"), CASES)
def test_matching_over_an_in_memory_index(memory, q, accents, expected):
    assert matches(memory, q, accents) == expected


def test_scores_are_given_to_the_matches_only(memory):
    evaluation = evaluate(memory, parse_query("lon"), SearchSettings())
    scores = evaluation.scores_within(memory, evaluation.required)
    assert (scores > 0).tolist() == evaluation.required.tolist()
    # The word in the title and the body outranks the word in the body only.
    assert scores[0] > scores[3]


def test_a_real_index_matches_as_the_in_memory_one(tmp_path: Path):
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    reindex([source], tmp_path / "index")
    with open_store(tmp_path / "index") as store:
        assert [matches(store, q, accents) for q, accents, _ in CASES] == [e for _, _, e in CASES]
