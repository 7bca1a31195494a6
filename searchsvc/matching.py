"""Turn parsed clauses into Whoosh queries and run them: match sets and scored top hits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F

from searchsvc.config import SearchSettings
from searchsvc.query import Clause, ParsedQuery
from searchsvc.schema import facet_key
from searchsvc.store import Store

TEXT_FIELDS = ("title", "summary", "body", "author")
EXACT_FIELDS = {"title": "title_x", "summary": "summary_x"}


@dataclass(frozen=True)
class Plan:
    """The Whoosh queries for one parsed query."""

    required: wq.Query  # what a document must match (None-free; Every() for an empty query)
    scoring: wq.Query  # required plus optional exact-accent clauses
    clause_queries: tuple[wq.Query, ...]  # one per positive clause (partial-match fallback)
    negative: wq.Query | None


def _weights(settings: SearchSettings) -> dict[str, float]:
    """Return the BM25F weight of each text field."""
    return {
        "title": settings.title_weight,
        "summary": settings.summary_weight,
        "body": settings.body_weight,
        "author": settings.author_weight,
    }


def _clause_query(clause: Clause, weights: dict[str, float]) -> wq.Query:
    """Return the query matching one clause in its field(s), accents ignored."""
    if clause.alternatives:
        return wq.Or([_clause_query(alt, weights) for alt in clause.alternatives])
    fields = (clause.field,) if clause.field else TEXT_FIELDS
    folded = [s.folded for s in clause.syllables]
    parts: list[wq.Query] = []
    for name in fields:
        boost = weights[name]
        if clause.is_phrase:
            parts.append(wq.Phrase(name, folded, boost=boost))
        elif clause.prefix:
            parts.append(wq.Prefix(name, folded[0], boost=boost))
        else:
            parts.append(wq.Term(name, folded[0], boost=boost))
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _exact_queries(parsed: ParsedQuery, weights: dict[str, float], boost: float) -> list[wq.Query]:
    """Return optional clauses rewarding syllables whose accents equal the query's."""
    if boost <= 0:
        return []
    seen: set[str] = set()
    out: list[wq.Query] = []
    for syllable in parsed.all_syllables():
        if not syllable.accented or syllable.exact in seen:
            continue
        seen.add(syllable.exact)
        for name, exact_field in EXACT_FIELDS.items():
            out.append(wq.Term(exact_field, syllable.exact, boost=weights[name] * boost))
    return out


def build_plan(parsed: ParsedQuery, settings: SearchSettings) -> Plan:
    """Build the required, scoring and per-clause queries of ``parsed``."""
    weights = _weights(settings)
    positive = [_clause_query(c, weights) for c in parsed.positive]
    negatives = [_clause_query(c, weights) for c in parsed.clauses if c.negated]
    if not positive:
        required: wq.Query = wq.Every()
    elif len(positive) == 1:
        required = positive[0]
    else:
        required = wq.And(positive)
    negative = wq.Or(negatives) if negatives else None
    if negative is not None:
        required = wq.AndNot(required, negative)
    exact = _exact_queries(parsed, weights, settings.exact_boost)
    scoring = wq.AndMaybe(required, wq.Or(exact)) if exact else required
    return Plan(required, scoring, tuple(positive), negative)


def partial_plan(plan: Plan, minimum: int) -> Plan:
    """Return a plan matching documents with at least ``minimum`` of the clauses."""
    required: wq.Query = wq.Or(list(plan.clause_queries), minmatch=minimum)
    if plan.negative is not None:
        required = wq.AndNot(required, plan.negative)
    return Plan(required, required, plan.clause_queries, plan.negative)


def match_mask(store: Store, q: wq.Query) -> np.ndarray:
    """Return a boolean mask over document numbers of the live documents matching ``q``."""
    columns = store.columns
    if isinstance(q, wq.Every):
        return columns.live.copy()
    mask = np.zeros(columns.live.shape[0], dtype=bool)
    ids = np.fromiter(store.searcher.docs_for_query(q), dtype=np.int64)
    mask[ids] = True
    return mask


def key_mask(store: Store, field: str, values: tuple[str, ...]) -> np.ndarray:
    """Return the documents whose keyword ``field`` has one of ``values`` (accents ignored)."""
    q = wq.Or([wq.Term(field, facet_key(v)) for v in values])
    return match_mask(store, q)


def top_scored(store: Store, q: wq.Query, allowed: np.ndarray | None, limit: int) -> list[tuple[int, float]]:
    """Return up to ``limit`` (docnum, score) pairs, best first, among ``allowed`` documents."""
    searcher = store.searcher
    if searcher.weighting is None or not isinstance(searcher.weighting, BM25F):
        searcher.weighting = BM25F()
    kwargs = {}
    if allowed is not None:
        kwargs["filter"] = set(np.nonzero(allowed)[0].tolist())
    results = searcher.search(q, limit=limit, **kwargs)
    return [(docnum, score) for score, docnum in results.top_n]
