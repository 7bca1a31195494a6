"""The embedded backend: the Whoosh index with its mapped read model, matched as numpy masks.

A match is a boolean mask over document numbers: AND/OR/NOT are mask arithmetic,
filters and disjunctive facets are masks over columns, BM25F is a vector formula
and proximity is read from the candidates' positions (``matching.py``).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from searchsvc.accents import Plan
from searchsvc.aliases import widen
from searchsvc.backend import Attempt, Backend, Matched, Results, Scope
from searchsvc.config import SearchSettings
from searchsvc.facets import FilterMasks, build_masks, facet_counts
from searchsvc.lexicon import Completion, Lexicon
from searchsvc.matching import (
    Evaluation,
    evaluate,
    key_mask,
    nearness,
    partial_matches,
    phrase_docs,
    top_documents,
    word_slots,
)
from searchsvc.query import ParsedQuery
from searchsvc.ranking import BODY_DEPTH, PROXIMITY_FIELDS, Candidate, is_topical, rerank
from searchsvc.related import RelatedResponse, related
from searchsvc.schema import PROSE_FIELDS
from searchsvc.store import Store
from searchsvc.topical import on_topic

# Bodies checked for a word pair when ranking corrections: enough to compare candidates.
PAIR_CHECK_LIMIT = 2000
# Articles read for the written forms of a query's words.
CONTEXT_DOCS = 5


@dataclass(frozen=True)
class MaskMatch(Matched):
    """A match as masks: what ranks and counts, before and after the filters."""

    evaluation: Evaluation
    base: np.ndarray  # matches before the filters (what the facets count)
    final: np.ndarray  # matches that pass the filters
    masks: FilterMasks
    topic_narrowed: bool
    relevance_total: int | None  # with topic_narrowed: how many the relevance sort lists


class EmbeddedBackend:
    """The live generation of one index directory, searched in process."""

    kind = "embedded"

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def lexicon(self) -> Lexicon:
        """Return the generation's lexicon."""
        return self.store.lexicon

    @property
    def doc_count(self) -> int:
        """Return the number of searchable documents."""
        return self.store.doc_count

    @property
    def generation(self) -> str:
        """Return the live generation's name."""
        return self.store.generation

    @property
    def created(self) -> str | None:
        """Return when the live generation was built (ISO time), if its manifest says."""
        created = self.store.current.manifest.get("created")
        return str(created) if created else None

    def state_key(self) -> Hashable:
        """Return the state this thread answers from (answers are kept per state, held weakly)."""
        return self.store.state

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the documents with ``term`` in ``field`` (deleted ones included, as Whoosh)."""
        return self.store.doc_frequency(field, term)

    def prefetch_frequencies(self, terms: Iterable[str]) -> None:
        """Do nothing: the postings are in memory, a lookup costs no request."""

    def match(self, attempt: Attempt) -> MaskMatch:
        """Match an attempt over every document, and fall back to the best partial match."""
        store, parsed, request = self.store, attempt.parsed, attempt.request
        masks = _filter_masks(store, attempt.scope)
        evaluation = evaluate(store, parsed, attempt.settings, attempt.resolutions)
        if attempt.expand and attempt.expansion.spans:
            evaluation = widen(store, parsed, evaluation, attempt.expansion.spans)
        base = evaluation.required
        wider: int | None = None
        if request.sort != "relevance":
            base, wider = _on_topic(store, parsed, attempt.resolutions, base, masks)
        final = _apply(base, masks)
        partial = False
        if not final.any() and len(evaluation.clause_masks) > 1:
            base, matched = partial_matches(evaluation, store.columns.live, None)
            final = _apply(base, masks)
            partial = bool(matched)
        return MaskMatch(
            attempt=attempt,
            found=bool(evaluation.required.any()),
            total=int(final.sum()),
            partial=partial,
            matched_terms=evaluation.matched_words(),
            evaluation=evaluation,
            base=base,
            final=final,
            masks=masks,
            topic_narrowed=wider is not None,
            relevance_total=wider,
        )

    def results(self, matched: Matched) -> Results:
        """Count the facets, rank, and read the stored fields of the requested page."""
        assert isinstance(matched, MaskMatch)
        store, attempt = self.store, matched.attempt
        request = attempt.request
        facets = facet_counts(store.columns, matched.base, matched.masks) if request.facets else {}
        ranked = _order(store, attempt, matched.evaluation, matched.final)
        start = (request.page - 1) * request.per_page
        page = tuple((store.stored(d), s) for d, s in ranked[start : start + request.per_page])
        folded_total = _folded_total(store, attempt, matched.masks, matched.total)
        return Results(facets, page, folded_total, matched.topic_narrowed, matched.relevance_total)

    def pair_documents(self, first: str, second: str) -> tuple[int, list[dict[str, Any]]]:
        """Return the articles (at most PAIR_CHECK_LIMIT checked) with two folded words adjacent in the body."""
        store = self.store
        candidates = np.zeros(store.columns.live.shape[0], dtype=bool)
        first_ids, _ = store.postings("body", first)
        second_ids, _ = store.postings("body", second)
        both = np.intersect1d(first_ids, second_ids, assume_unique=True)[:PAIR_CHECK_LIMIT]
        candidates[both] = True
        candidates &= store.columns.live
        docs = phrase_docs(store, word_slots("body", (first, second)), candidates)
        return int(docs.size), [store.stored(int(d)) for d in docs[:CONTEXT_DOCS].tolist()]

    def richest_documents(self, words: list[str]) -> list[dict[str, Any]]:
        """Return a few articles holding the most of ``words`` (two at least), in any text field."""
        store = self.store
        size = store.columns.live.shape[0]
        counts = np.zeros(size, dtype=np.int32)
        for word in words:
            present = np.zeros(size, dtype=bool)
            for field in PROSE_FIELDS:
                present[store.postings(field, word)[0]] = True
            counts += present
        counts[~store.columns.live] = 0
        if counts.max(initial=0) < min(2, len(words)):
            return []
        order = np.argsort(-counts, kind="stable")[:CONTEXT_DOCS]
        return [store.stored(int(d)) for d in order if counts[d] >= min(2, len(words))]

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        return self.store.get_article(article_id)

    def related(
        self, article_id: str, limit: int, before: datetime | None, settings: SearchSettings
    ) -> RelatedResponse:
        """Return other articles on the same story or topic as ``article_id``."""
        return related(self.store, article_id, limit, before, settings)

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return accent-insensitive completions of what is being typed."""
        return self.store.complete(prefix, limit)

    def stats(self) -> dict[str, Any]:
        """Return the live generation's statistics."""
        return self.store.stats()

    def health(self) -> dict[str, Any]:
        """Return what this process serves."""
        return self.store.health()

    def refresh(self, force: bool = False) -> None:
        """Swap in a new generation or TOC when there is one."""
        self.store.refresh(force)

    def close(self) -> None:
        """Release the segment readers' files."""
        self.store.close()


def _filter_masks(store: Store, scope: Scope) -> FilterMasks:
    """Build the filter masks of a request's scope."""
    other = None
    if scope.authors:
        other = key_mask(store, "author_key", scope.authors)
    if scope.tags:
        tags = key_mask(store, "tag_key", scope.tags)
        other = tags if other is None else other & tags
    return build_masks(store.columns, scope.categories, scope.sources, scope.date_from, scope.date_to, other)


def _apply(base: np.ndarray, masks: FilterMasks) -> np.ndarray:
    """Return the matches that pass every filter."""
    mask = masks.combined()
    return base if mask is None else base & mask


def _on_topic(
    store: Store, parsed: ParsedQuery, resolutions: Plan, base: np.ndarray, masks: FilterMasks
) -> tuple[np.ndarray, int | None]:
    """Return the matches a date sort lists (those with the query's word pairs together, if any pass the filters).

    The second value is how many the relevance sort lists (the same filters) when the
    narrowing leaves some of them out, else None; OpenSearch's backend counts it the same way.
    """
    together = on_topic(store, parsed, resolutions)
    if together is None:
        return base, None
    narrowed = base & together
    kept = int(_apply(narrowed, masks).sum())
    if not kept:
        return base, None
    wider = int(_apply(base, masks).sum())
    return narrowed, (wider if kept < wider else None)


def _folded_total(store: Store, attempt: Attempt, masks: FilterMasks, total: int) -> int:
    """Return how many articles the query matches with accents ignored (the same filters)."""
    if not any(r.exact for r in attempt.resolutions.values()):
        return total
    return int(_apply(evaluate(store, attempt.parsed, attempt.settings).required, masks).sum())


def _order(
    store: Store, attempt: Attempt, evaluation: Evaluation, final: np.ndarray
) -> list[tuple[int, float]]:
    """Return (docnum, score) pairs in result order, as far as the requested page needs."""
    request, parsed, settings = attempt.request, attempt.parsed, attempt.settings
    needed = request.page * request.per_page
    if request.sort != "relevance" or not parsed.positive:
        return _by_date(store, final, newest=request.sort != "oldest", limit=needed)
    scores = evaluation.scores_within(store, final)
    top = top_documents(scores, final, store.columns.published_ts, max(needed, settings.rerank_depth))
    head = top[: settings.rerank_depth]
    sequence = [
        s.folded
        for c in parsed.positive
        if not c.alternatives and c.field in (None, "title")
        for s in c.syllables
    ]
    docnums = [docnum for docnum, _ in head]
    near = {name: nearness(store, name, sequence, docnums) for name in PROXIMITY_FIELDS}
    exact_words = [s.exact for s in parsed.all_syllables() if s.accented]
    candidates = [
        Candidate(
            docnum,
            score,
            {name: float(near[name].adjacency[i]) for name in PROXIMITY_FIELDS},
            store.stored(docnum).get("body", "") if exact_words and i < BODY_DEPTH else "",
            int(store.columns.published_ts[docnum]),
            float(near["title"].coverage[i]),
        )
        for i, (docnum, score) in enumerate(head)
    ]
    phrase = store.lexicon.entry(" ".join(sequence))  # a topic prefers recent coverage
    topical = is_topical(phrase[1] if phrase else 0, len(head), settings)
    reranked = rerank(candidates, exact_words, settings, time.time(), BODY_DEPTH, len(sequence) - 1, topical)
    return reranked + top[settings.rerank_depth :]


def _by_date(store: Store, final: np.ndarray, newest: bool, limit: int) -> list[tuple[int, float]]:
    """Return matches sorted by publication time; undated articles come last either way."""
    docnums = np.nonzero(final)[0]
    stamps = store.columns.published_ts[docnums]
    undated = stamps <= 0
    key = -stamps if newest else stamps
    order = np.lexsort((docnums, key, undated))
    return [(int(d), 0.0) for d in docnums[order[:limit]]]


def as_backend(index: Backend | Store) -> Backend:
    """Return ``index`` as a backend: an open store is searched in process."""
    return EmbeddedBackend(index) if isinstance(index, Store) else index
