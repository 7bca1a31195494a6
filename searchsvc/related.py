"""Related articles: an article's distinctive words, weighted like a query, scored by BM25F.

No second engine: the article's rarest syllables (title, summary and the start of
the body) and its rarest adjacent pairs in the title and summary (Vietnamese
words are mostly two syllables: ``Hà Nội``, ``bão lũ``) become ``matching``
clauses, and ``Evaluation.scores_within`` scores them over the read model like
any query. The same category and articles published close in time get a bonus;
the article itself, copies of it and copies of each other are left out.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from searchsvc.answers import ANSWER_ENTRIES, StateMemo
from searchsvc.article import article_view
from searchsvc.config import SearchSettings
from searchsvc.dates import VIETNAM_TZ
from searchsvc.errors import NotFound
from searchsvc.indexview import DocumentView, IndexView
from searchsvc.matching import ClauseMatch, Evaluation, Term, nearness, top_documents
from searchsvc.params import day, integer, one
from searchsvc.ranking import SECONDS_PER_DAY, field_weights, idf
from searchsvc.schema import LEAD_FIELDS, PROSE_FIELDS
from searchsvc.state import Columns
from searchsvc.text import folded_terms

DEFAULT_LIMIT = 5
MAX_LIMIT = 20
# Characters of the body read for words: the lead paragraphs say what the story is.
BODY_CHARS = 1500
# How many single syllables and adjacent pairs make the query.
MAX_WORDS = 12
MAX_PAIRS = 6
# A syllable in more than this share of the articles says nothing about the story.
MAX_SHARE = 0.05
# A small index (the demo's 48 articles) has no word in 5% of them: allow up to this many.
SMALL_INDEX_DF = 10
# Below this, a pair straddles two words (the lexicon's pair counts run low, hence negative):
# on the shared corpus `tot nghiep` scores 0.2, `dai hoc` -0.5, `va dai` -6.0, `hoc cua` -4.5.
MIN_COHESION = -2.5
# Where a word of the article stands, as a field weight of the query it becomes.
SOURCE_WEIGHTS = {"title": 3.0, "summary": 1.5, "body": 1.0}
SAME_CATEGORY_BONUS = 0.3
NEAR_TIME_BONUS = 0.3
NEAR_TIME_HALF_LIFE_DAYS = 30.0
# Two titles sharing this share of their syllables are one story told twice (a copy).
COPY_OVERLAP = 0.8
# Candidates read (stored titles) to fill ``limit`` after copies are dropped.
CANDIDATE_FACTOR = 4
# Best word matches checked for the article's pairs (positions are read for these only).
RERANK_DEPTH = 100


@dataclass(frozen=True)
class RelatedArticle:
    """One related article."""

    id: str
    title: str
    url: str | None
    published: str | None
    category: str | None
    source: str | None
    score: float


@dataclass(frozen=True)
class RelatedResponse:
    """The related articles of one article, best first."""

    id: str
    items: tuple[RelatedArticle, ...]
    terms: tuple[str, ...]  # the words and pairs the articles were found by, most distinctive first
    took_ms: float

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (the API contract)."""
        return {
            "id": self.id,
            "related": [dataclasses.asdict(a) for a in self.items],
            "terms": list(self.terms),
            "took_ms": self.took_ms,
        }


# Related answers kept per index state, like searches (``answers.py``).
_ANSWERS: StateMemo[Hashable, RelatedResponse] = StateMemo(ANSWER_ENTRIES)


def related_params(params: Mapping[str, Sequence[str]]) -> tuple[int, datetime | None]:
    """Parse ``limit`` (1 to 20, default 5) and ``before`` (YYYY-MM-DD, Vietnam time) from parameters."""
    for name in ("limit", "before"):
        one(params, name)  # a repeat of either is the first thing to report
    limit = integer(
        params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, digits=2, wanted=f"an integer from 1 to {MAX_LIMIT}"
    )
    found = day(params, "before")
    if found is None:
        return limit, None
    return limit, datetime(found.year, found.month, found.day, tzinfo=VIETNAM_TZ)


def article_words(fields: dict[str, Any]) -> dict[str, list[str]]:
    """Return the folded syllables of an article's title, summary and body start, in order."""
    return {
        "title": folded_terms(fields.get("title") or ""),
        "summary": folded_terms(fields.get("summary") or ""),
        "body": folded_terms((fields.get("body") or "")[:BODY_CHARS]),
    }


def distinctive_words(store: IndexView, words: dict[str, list[str]]) -> list[tuple[str, float]]:
    """Return the article's rarest, most repeated syllables with a query weight, best first."""
    count = store.doc_count or 1
    weighted: dict[str, float] = {}
    for field, terms in words.items():
        for term in terms:
            weighted[term] = weighted.get(term, 0.0) + SOURCE_WEIGHTS[field]
    scored = []
    for term, weight in weighted.items():
        # The body's count alone ranks rarity well enough, at half the look-ups.
        df = store.doc_frequency("body", term) or store.doc_frequency("title", term)
        if df == 0 or df > max(MAX_SHARE * count, min(SMALL_INDEX_DF, count / 4)):
            continue
        scored.append((term, (1.0 + math.log(weight)) * idf(count, df)))
    scored.sort(key=lambda p: (-p[1], p[0]))
    return scored[:MAX_WORDS]


def _cohesion(store: IndexView, pair: tuple[str, str], together: int) -> float:
    """Return how much more often two syllables stand together than chance says (pointwise mutual info)."""
    count = store.doc_count or 1
    apart = [store.doc_frequency("title", s) + store.doc_frequency("summary", s) for s in pair]
    return math.log(together * count / max(1, apart[0] * apart[1]))


def distinctive_pairs(store: IndexView, words: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Return the title's and summary's word-like adjacent syllable pairs, rarest first.

    The lexicon counts the recurring pairs of every title and summary; a pair it
    does not know, or whose syllables meet no more often than chance, straddles
    two words (``và đại`` in ``… và đại học``) and says nothing.
    """
    count = store.doc_count or 1
    together: dict[tuple[str, str], int] = {}
    for field in LEAD_FIELDS:
        terms = words[field]
        for pair in itertools.pairwise(terms):
            if pair[0] != pair[1] and pair not in together:
                together[pair] = store.lexicon.pair_count(*pair)
    kept: list[tuple[str, str]] = []
    for pair in sorted(together, key=lambda p: (together[p], p)):
        n = together[pair]
        if 0 < n <= MAX_SHARE * count and _cohesion(store, pair, n) >= MIN_COHESION:
            kept.append(pair)
            if len(kept) == MAX_PAIRS:
                break
    return kept


def _word_clause(store: IndexView, term: str, weight: float, weights: dict[str, float]) -> ClauseMatch:
    """Match one syllable in the searched fields, its BM25F scaled by ``weight``."""
    terms = []
    mask = np.zeros(store.columns.live.shape[0], dtype=bool)
    for field in PROSE_FIELDS:
        ids, tfs = store.postings(field, term)
        if ids.size:
            terms.append(Term(field, ids, tfs, weights[field] * weight))
            mask[ids] = True
    return ClauseMatch(mask, tuple(terms))


def _pair_bonus(
    store: IndexView, pairs: list[tuple[str, str]], docnums: list[int], weights: dict[str, float]
) -> np.ndarray:
    """Return, per candidate, the weighted idf of the article's pairs standing together in title or summary.

    Positions are read for the candidates only, as re-ranking does for a search.
    """
    count = store.doc_count or 1
    bonus = np.zeros(len(docnums))
    for pair in pairs:
        rarity = idf(count, store.lexicon.pair_count(*pair) or 1)
        best = np.zeros(len(docnums))
        for field in LEAD_FIELDS:
            near = nearness(store, field, list(pair), docnums)
            best = np.maximum(best, weights[field] * (near.adjacency == 1.0))
        bonus += rarity * best
    return bonus


def _day_distance(a: np.ndarray, b: int) -> np.ndarray:
    """Return the days between publication times (large when either is undated)."""
    far = np.full(a.shape, 1e6)
    if b <= 0:
        return far
    return np.where(a > 0, np.abs(a - b) / SECONDS_PER_DAY, far)


def _closeness(columns: Columns, docnum: int, found: np.ndarray) -> np.ndarray:
    """Return the bonus share of each candidate for being in the article's category and published near it."""
    own = int(columns.category.codes[docnum])
    same = (columns.category.codes[found] == own) & (own != 0)
    days = _day_distance(columns.published_ts[found].astype(np.float64), int(columns.published_ts[docnum]))
    bonus: np.ndarray = SAME_CATEGORY_BONUS * same + NEAR_TIME_BONUS * np.power(
        0.5, days / NEAR_TIME_HALF_LIFE_DAYS
    )
    return bonus


def _is_copy(title: list[str], other: list[str]) -> bool:
    """Tell whether two titles share most of their syllables (the same story, copied or reworded)."""
    a, b = set(title), set(other)
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= COPY_OVERLAP


def related(
    store: DocumentView,
    article_id: str,
    limit: int = DEFAULT_LIMIT,
    before: datetime | None = None,
    settings: SearchSettings | None = None,
) -> RelatedResponse:
    """Return up to ``limit`` other articles on the same story or topic (``before``: only earlier ones).

    Raises ``NotFound`` for an unknown id. Answers are kept per index state, like searches.
    """
    started = time.perf_counter()
    settings = settings or SearchSettings()
    key = ("related", article_id, limit, before, settings)
    state = store.state
    cached = _ANSWERS.get(state, key)
    if cached is None:
        cached = _related(store, article_id, limit, before, settings)
        _ANSWERS.put(state, key, cached)
    return RelatedResponse(
        cached.id, cached.items, cached.terms, round((time.perf_counter() - started) * 1000, 2)
    )


def _related(
    store: DocumentView, article_id: str, limit: int, before: datetime | None, settings: SearchSettings
) -> RelatedResponse:
    """Build the query of an article and rank the other articles by it."""
    docnum = store.document_number(article_id)
    if docnum is None:
        raise NotFound(f"no article with id {article_id!r}")
    fields = store.stored(docnum)
    words = article_words(fields)
    chosen = distinctive_words(store, words)
    pairs = distinctive_pairs(store, words)
    weights = field_weights(settings, PROSE_FIELDS)
    top = chosen[0][1] if chosen else 1.0
    clauses = tuple(_word_clause(store, term, weight / top, weights) for term, weight in chosen)
    columns = store.columns
    select = (
        columns.live & np.logical_or.reduce([c.mask for c in clauses]) if clauses else columns.live & False
    )
    select[docnum] = False
    if before is not None:
        stamps = columns.published_ts
        select &= (stamps > 0) & (stamps < before.astimezone(UTC).timestamp())
    scores = Evaluation(select, (), None, clauses).scores_within(store, select)
    head = top_documents(scores, select, columns.published_ts, RERANK_DEPTH)
    docnums = [d for d, _ in head]
    found = np.asarray(docnums, dtype=np.int64)
    adjusted = np.asarray([s for _, s in head]) + _pair_bonus(store, pairs, docnums, weights)
    adjusted *= 1.0 + _closeness(columns, docnum, found)
    order = np.lexsort((found, -columns.published_ts[found], -adjusted))
    ranked = [(docnums[int(i)], float(adjusted[i])) for i in order]
    items = _distinct(store, fields, ranked, limit)
    terms = tuple(t for t, _ in chosen) + tuple(" ".join(p) for p in pairs)
    return RelatedResponse(str(fields.get("id")), items, terms, 0.0)


def _related_article(view: dict[str, Any], score: float) -> RelatedArticle:
    """Return the related-article row of an article's public view."""
    return RelatedArticle(
        id=str(view["id"]),
        title=view["title"] or "",
        url=view["url"],
        published=view["published"],
        category=view["category"],
        source=view["source"],
        score=round(float(score), 4),
    )


def _distinct(
    store: DocumentView, fields: dict[str, Any], ranked: list[tuple[int, float]], limit: int
) -> tuple[RelatedArticle, ...]:
    """Return the first ``limit`` ranked articles that are not copies of the article or of each other."""
    kept: list[RelatedArticle] = []
    seen = [folded_terms(fields.get("title") or "")]
    urls = {fields.get("url")} - {None}
    for docnum, score in ranked:
        other = article_view(store.stored(docnum))
        title = folded_terms(other["title"] or "")
        if other["url"] in urls or any(_is_copy(title, s) for s in seen):
            continue
        seen.append(title)
        if other["url"]:
            urls.add(other["url"])
        kept.append(_related_article(other, score))
        if len(kept) == limit:
            break
    return tuple(kept)
