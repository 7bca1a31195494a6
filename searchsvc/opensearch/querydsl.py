"""An attempt as OpenSearch query DSL: the clause rules of ``matching.py``, written for another engine.

The words come already understood (folded, or resolved to exact forms by
``accents.plan``), so every query here is on index terms (``term``, ``terms``,
``prefix`` and span queries), never re-analysed: the tokens searched are the ones
the embedded index holds. The AND of the positive clauses matches; the folded
words' BM25 per field, times the field's weight, scores, as on the embedded
backend. Pure functions of plain data: nothing here talks to a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from searchsvc.accents import Plan
from searchsvc.aliases import Key, Span
from searchsvc.backend import Scope
from searchsvc.config import SearchSettings
from searchsvc.opensearch.mapping import os_field
from searchsvc.query import Clause, ParsedQuery, Syllable
from searchsvc.schema import EXACT_FIELDS, SEARCH_FIELDS, facet_key

Query = dict[str, Any]
# The exact forms that earn the accent bonus, and the fields a date sort's word pairs must stand in.
BONUS_FIELDS = ("title", "summary")
TOPIC_FIELDS = ("title", "summary", "body")
# More distinct category or source values than any newsroom has: terms aggregations count them all.
FACET_SIZE = 10_000


def field_weights(settings: SearchSettings) -> dict[str, float]:
    """Return the BM25F weight of each searched field and of its exact twin."""
    weights = {
        "title": settings.title_weight,
        "summary": settings.summary_weight,
        "body": settings.body_weight,
        "author": settings.author_weight,
    }
    return weights | {EXACT_FIELDS[name]: weight for name, weight in weights.items()}


def any_of(queries: Sequence[Query]) -> Query:
    """Return a query matching when one of ``queries`` does (their scores summed)."""
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


def all_of(queries: Sequence[Query]) -> Query:
    """Return a query matching when every one of ``queries`` does."""
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"must": list(queries)}}


def unscored(query: Query) -> Query:
    """Return ``query`` as a filter that adds nothing to the score."""
    return {"constant_score": {"filter": query, "boost": 0.0}}


def term(field: str, value: str, boost: float = 1.0) -> Query:
    """Return a query for one index term of a schema field."""
    return {"term": {os_field(field): {"value": value, "boost": boost}}}


def _span_term(base: str, field: str, word: str) -> Query:
    """Return a span on ``word`` in ``field``, reported as ``base`` (a field and its exact twin share positions)."""
    span: Query = {"span_term": {os_field(field): word}}
    if field != base:
        span = {"field_masking_span": {"query": span, "field": os_field(base)}}
    return span


def slots(field: str, syllables: Sequence[Syllable], resolutions: Plan | None) -> list[list[tuple[str, str]]]:
    """Return, per phrase syllable, the (field, word) pairs it may stand for in ``field``."""
    found: list[list[tuple[str, str]]] = []
    for syllable in syllables:
        resolution = resolutions.get(syllable.exact) if resolutions else None
        if resolution is not None and resolution.exact:
            found.append([(EXACT_FIELDS[field], t) for t in resolution.terms])
        else:
            found.append([(field, syllable.folded)])
    return found


def phrase_span(field: str, phrase_slots: Sequence[Sequence[tuple[str, str]]]) -> Query:
    """Return a span query for one word of each slot adjacent, in order, in ``field``."""
    clauses = []
    for slot in phrase_slots:
        spans = [_span_term(field, f, w) for f, w in slot]
        clauses.append(spans[0] if len(spans) == 1 else {"span_or": {"clauses": spans}})
    if len(clauses) == 1:
        return clauses[0]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


def _phrase(
    fields: Sequence[str],
    syllables: Sequence[Syllable],
    weights: Mapping[str, float],
    resolutions: Plan | None,
) -> Query:
    """Match the syllables adjacent in one of ``fields``; the folded words of that field score."""
    words = list(dict.fromkeys(s.folded for s in syllables))
    per_field = [
        {
            "bool": {
                "filter": [phrase_span(field, slots(field, syllables, resolutions))],
                "should": [term(field, w, weights[field]) for w in words],
            }
        }
        for field in fields
    ]
    return any_of(per_field)


def _prefix(fields: Sequence[str], syllable: Syllable, weights: Mapping[str, float], exact: bool) -> Query:
    """Match the words starting with a prefix (its exact forms when ``exact``) in one of ``fields``."""
    if exact:
        return any_of(
            [
                {"prefix": {os_field(EXACT_FIELDS[f]): {"value": syllable.exact, "boost": weights[f]}}}
                for f in fields
            ]
        )
    return any_of(
        [{"prefix": {os_field(f): {"value": syllable.folded, "boost": weights[f]}}} for f in fields]
    )


def clause_query(
    clause: Clause,
    weights: Mapping[str, float],
    resolutions: Plan | None,
    exact_prefixes: frozenset[str] = frozenset(),
) -> Query:
    """Return one clause as a query: marked syllables as ``resolutions`` says, the others folded.

    ``exact_prefixes`` are the marked prefixes some exact form starts with (the others are read folded).
    """
    if clause.alternatives:
        return any_of(
            [clause_query(alt, weights, resolutions, exact_prefixes) for alt in clause.alternatives]
        )
    fields = (clause.field,) if clause.field else SEARCH_FIELDS
    if clause.is_phrase:
        return _phrase(fields, clause.syllables, weights, resolutions)
    syllable = clause.syllables[0]
    if clause.prefix:
        exact = resolutions is not None and syllable.accented and syllable.exact in exact_prefixes
        return _prefix(fields, syllable, weights, exact)
    resolution = resolutions.get(syllable.exact) if resolutions else None
    scoring = [term(f, syllable.folded, weights[f]) for f in fields]
    if resolution is not None and resolution.exact:
        exact_terms = [{"terms": {os_field(EXACT_FIELDS[f]): list(resolution.terms)}} for f in fields]
        return {"bool": {"filter": [any_of(exact_terms)], "should": scoring}}
    return any_of(scoring)


def marked_prefixes(parsed: ParsedQuery) -> list[str]:
    """Return the marked prefixes of a query (each needs to know whether an exact form starts with it)."""
    found = [
        part.syllables[0].exact
        for clause in parsed.clauses
        for part in clause.alternatives or (clause,)
        if part.prefix and part.syllables and part.syllables[0].accented
    ]
    return list(dict.fromkeys(found))


def exact_bonus(parsed: ParsedQuery, weights: Mapping[str, float], boost: float) -> list[Query]:
    """Return the optional queries that add score for syllables whose accents equal the query's."""
    if boost <= 0:
        return []
    exact = dict.fromkeys(s.exact for s in parsed.all_syllables() if s.accented)
    return [term(EXACT_FIELDS[name], word, weights[name] * boost) for word in exact for name in BONUS_FIELDS]


def forms_query(keys: Sequence[Key]) -> Query:
    """Return a filter for any of the alias forms (syllables adjacent, in one searched field)."""
    found: list[Query] = []
    for key in keys:
        for field in SEARCH_FIELDS:
            if len(key) == 1:
                found.append({"term": {os_field(field): key[0]}})
            else:
                found.append(phrase_span(field, [[(field, word)] for word in key]))
    return unscored(any_of(found))


def positive_clauses(
    parsed: ParsedQuery,
    settings: SearchSettings,
    resolutions: Plan | None,
    spans: Sequence[Span] = (),
    exact_prefixes: frozenset[str] = frozenset(),
) -> list[Query]:
    """Return one query per positive clause; a clause run that makes an alias form also matches its other forms.

    As on the embedded backend, an article found only by an alias earns no score for those words.
    """
    weights = field_weights(settings)
    queries = {
        i: clause_query(c, weights, resolutions, exact_prefixes)
        for i, c in enumerate(parsed.clauses)
        if not c.negated
    }
    covered = {i for span in spans for i in range(span.start, span.end)}
    kept = [q for i, q in queries.items() if i not in covered]
    widened = [
        any_of([all_of([queries[i] for i in range(s.start, s.end)]), forms_query(s.keys)]) for s in spans
    ]
    return kept + widened


def negative_clauses(
    parsed: ParsedQuery, settings: SearchSettings, resolutions: Plan | None, exact_prefixes: frozenset[str]
) -> list[Query]:
    """Return one query per negated clause."""
    weights = field_weights(settings)
    return [clause_query(c, weights, resolutions, exact_prefixes) for c in parsed.clauses if c.negated]


def matching(positive: Sequence[Query], negative: Sequence[Query], bonus: Sequence[Query] = ()) -> Query:
    """Return the query every positive clause and no negated one matches (optional ``bonus`` only scores)."""
    body: dict[str, Any] = {"must": list(positive), "minimum_should_match": 0}
    if negative:
        body["must_not"] = list(negative)
    if bonus:
        body["should"] = list(bonus)
    return {"bool": body}


def at_least(positive: Sequence[Query], negative: Sequence[Query], count: int) -> Query:
    """Return the query ``count`` of the positive clauses (and no negated one) match."""
    body: dict[str, Any] = {"should": list(positive), "minimum_should_match": count}
    if negative:
        body["must_not"] = list(negative)
    return {"bool": body}


def pairs_together(pairs: Sequence[tuple[Syllable, Syllable]], resolutions: Plan | None) -> Query:
    """Return the filter a date sort narrows to: every word pair adjacent in title, summary or body."""
    return all_of(
        [any_of([phrase_span(f, slots(f, pair, resolutions)) for f in TOPIC_FIELDS]) for pair in pairs]
    )


def _day(value: Any) -> int:
    """Return a date as the YYYYMMDD integer the ``day`` field holds."""
    return int(value.year * 10000 + value.month * 100 + value.day)


def scope_filters(scope: Scope) -> dict[str, Query]:
    """Return one filter per filter kind the scope uses (category, source, date, other)."""
    found: dict[str, Query] = {}
    if scope.categories:
        found["category"] = {
            "terms": {os_field("category_key"): sorted({facet_key(v) for v in scope.categories})}
        }
    if scope.sources:
        found["source"] = {"terms": {os_field("source_key"): sorted({facet_key(v) for v in scope.sources})}}
    if scope.date_from or scope.date_to:
        bounds: dict[str, int] = {"gt": 0}
        if scope.date_from:
            bounds["gte"] = _day(scope.date_from)
        if scope.date_to:
            bounds["lte"] = _day(scope.date_to)
        found["date"] = {"range": {os_field("day"): bounds}}
    other = []
    if scope.authors:
        other.append({"terms": {os_field("author_key"): [facet_key(v) for v in scope.authors]}})
    if scope.tags:
        other.append({"terms": {os_field("tag_key"): [facet_key(v) for v in scope.tags]}})
    if other:
        found["other"] = all_of(other)
    return found


def combined(filters: Mapping[str, Query], skip: str | None = None) -> Query | None:
    """AND every filter but the one named ``skip``; None when no filter applies."""
    chosen = [q for name, q in filters.items() if name != skip]
    if not chosen:
        return None
    return {"bool": {"filter": chosen}}


def _within(filters: Mapping[str, Query], skip: str, inner: Query) -> Query:
    """Return an aggregation counted over the matches that pass every filter but ``skip``."""
    return {"filter": combined(filters, skip) or {"match_all": {}}, "aggs": {"values": inner}}


def facet_aggregations(filters: Mapping[str, Query]) -> dict[str, Any]:
    """Return disjunctive category, source and month counts: each over every filter but its own."""
    return {
        "category": _within(
            filters, "category", {"terms": {"field": os_field("category"), "size": FACET_SIZE}}
        ),
        "source": _within(filters, "source", {"terms": {"field": os_field("source"), "size": FACET_SIZE}}),
        "month": _within(filters, "date", {"terms": {"field": os_field("month"), "size": FACET_SIZE}}),
    }


def relevance_sort() -> list[Any]:
    """Return the result order of a relevance sort: score, then the newer article."""
    return [{"_score": "desc"}, {os_field("published_ts"): {"order": "desc", "missing": "_last"}}]


def date_sort(newest: bool) -> list[Any]:
    """Return the result order of a date sort; undated articles come last either way."""
    order = "desc" if newest else "asc"
    return [{os_field("published_ts"): {"order": order, "missing": "_last"}}]
