"""The one core call: ``search(store, request) -> response``.

Every front end (JSON API, HTML page, CLI) builds a ``SearchRequest`` (usually
through ``request_from_params``) and renders the same ``SearchResponse``.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, replace
from typing import Any

from searchsvc.accents import FOLDED, Plan, Resolution, loosened, plan
from searchsvc.aliases import Expansion, expand_aliases, load_aliases
from searchsvc.answers import SEARCH_ANSWERS
from searchsvc.backend import Attempt, Backend, Matched, Scope
from searchsvc.config import SearchSettings
from searchsvc.embedded import as_backend
from searchsvc.highlight import Targets, best_snippet, mark
from searchsvc.messages import (
    AliasUse,
    Correction,
    FacetValue,
    Highlights,
    Hit,
    Loosened,
    Reading,
    ReadingMode,
    SearchRequest,
    SearchResponse,
    Suggestion,
)
from searchsvc.params import request_from_params
from searchsvc.query import ParsedQuery, parse_query
from searchsvc.readings import reading_candidates
from searchsvc.spelling import FEW_RESULTS, document_frequency, suggest_query
from searchsvc.store import Store

__all__ = [
    "AliasUse",
    "Correction",
    "FacetValue",
    "Highlights",
    "Hit",
    "Reading",
    "SearchRequest",
    "SearchResponse",
    "Suggestion",
    "request_from_params",
    "search",
]


# What an unmarked (or unplanned) syllable is read as.
_FOLDED_READING = Resolution("", FOLDED, ())


def search(
    index: Backend | Store, request: SearchRequest, settings: SearchSettings | None = None
) -> SearchResponse:
    """Run ``request`` against the live index of a backend (or an open store); the one call every front end uses.

    The same request with the same settings on the same index state gets the same
    answer, so a state keeps its recent answers (any commit or reindex starts a new state).
    """
    started = time.perf_counter()
    backend = as_backend(index)
    settings = settings or SearchSettings()
    state = backend.state_key()
    if state is None:
        return _search(backend, request, settings, started)
    key = _answer_key(request, settings)
    cached = SEARCH_ANSWERS.get(state, key)
    if cached is not None:
        return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
    response = _search(backend, request, settings, started)
    SEARCH_ANSWERS.put(state, key, response)
    return response


def _answer_key(request: SearchRequest, settings: SearchSettings) -> tuple[object, ...]:
    """Return what an answer depends on besides the index state (the hour, when freshness counts)."""
    hour = int(time.time() // 3600) if settings.freshness_boost > 0 else 0
    return (request, settings, hour)


@dataclass(frozen=True)
class _Context:
    """What every attempt of one request shares: the request, its filters and settings, the alias table."""

    backend: Backend
    request: SearchRequest
    settings: SearchSettings
    scope: Scope

    def attempt(self, parsed: ParsedQuery, expand: bool) -> Attempt:
        """Understand one reading of the query (marked words resolved, aliases found) as an attempt."""
        request = self.request
        expansion = (
            expand_aliases(parsed, load_aliases(self.settings.aliases))
            if request.aliases is not False
            else Expansion(parsed)
        )
        resolutions = plan(self.backend, parsed) if request.accents == "match" else {}
        return Attempt(parsed, expansion, expand, resolutions, self.scope, request, self.settings)


@dataclass(frozen=True)
class _Outcome:
    """The attempt an answer is built on, how the query was read, and any correction shown."""

    matched: Matched
    mode: ReadingMode
    correction: Correction | None = None
    suggestion: Suggestion | None = None


def _plain_words(parsed: ParsedQuery) -> bool:
    """Tell whether a query is only unquoted words (its correction then says all it said)."""
    return bool(parsed.clauses) and all(
        not (c.negated or c.alternatives or c.prefix or c.quoted or c.field) for c in parsed.clauses
    )


def _fewer_keystrokes(
    ctx: _Context, outcome: _Outcome, readings: list[tuple[ParsedQuery, ReadingMode]]
) -> _Outcome:
    """Fallback 1: a keystroke reading that finds nothing gives way to one decoding fewer words, at last none."""
    for parsed, mode in readings[1:]:
        if outcome.matched.found:
            break
        outcome = _Outcome(ctx.backend.match(ctx.attempt(parsed, outcome.matched.attempt.expand)), mode)
    return outcome


def _with_aliases(ctx: _Context, outcome: _Outcome) -> _Outcome:
    """Fallback 2: words as typed with no full match search their aliases too (UBND = Ủy ban nhân dân)."""
    matched = outcome.matched
    if (
        not matched.attempt.offers
        or ctx.request.aliases is not None
        or (matched.total and not matched.partial)
    ):
        return outcome
    widened = ctx.backend.match(ctx.attempt(matched.attempt.parsed, expand=True))
    if widened.total and not widened.partial:
        return replace(outcome, matched=widened)
    return outcome


def _corrected(ctx: _Context, outcome: _Outcome) -> _Outcome:
    """Fallback 3: suggest a correction; show its results first when the words as typed have no full match."""
    matched = outcome.matched
    parsed, total = matched.attempt.parsed, matched.total
    suggestion = suggest_query(parsed, ctx.backend, total) if total < FEW_RESULTS or matched.partial else None
    outcome = replace(outcome, suggestion=suggestion)
    if (
        not suggestion
        or not (matched.partial or not total)
        or ctx.request.as_typed
        or not _plain_words(parsed)
    ):
        return outcome
    settings = ctx.settings
    corrected = parse_query(suggestion.text, settings.max_query_chars, settings.max_terms)
    again = ctx.backend.match(ctx.attempt(corrected, matched.attempt.expand))
    if again.total and not again.partial:
        correction = Correction(suggestion.text, suggestion.html, ctx.request.q)
        return replace(outcome, matched=again, correction=correction, suggestion=None)
    return outcome


def _search(
    backend: Backend, request: SearchRequest, settings: SearchSettings, started: float
) -> SearchResponse:
    """Understand ``request``, run its attempts in order, and render the one that answers."""
    parsed = parse_query(request.q, settings.max_query_chars, settings.max_terms)
    ctx = _Context(backend, request, settings, Scope.of(request, parsed))
    readings = reading_candidates(parsed, lambda folded: document_frequency(backend, folded))
    first, mode = readings[0]
    outcome = _Outcome(backend.match(ctx.attempt(first, expand=request.aliases is True)), mode)
    # The attempts after the first, in order; each keeps the outcome it was given unless it finds better.
    outcome = _fewer_keystrokes(ctx, outcome, readings)
    outcome = _with_aliases(ctx, outcome)
    outcome = _corrected(ctx, outcome)
    matched = outcome.matched
    attempt = matched.attempt
    results = backend.results(matched)
    targets = highlight_targets(attempt.searched, attempt.resolutions)
    hits = tuple(_hit(fields, score, targets, request.highlight, settings) for fields, score in results.page)
    return SearchResponse(
        query=request.q,
        total=matched.total,
        page=request.page,
        per_page=request.per_page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=hits,
        facets=results.facets,
        suggestion=outcome.suggestion,
        reading=Reading(outcome.mode, attempt.parsed.text),
        partial=matched.partial,
        sort=request.sort,
        truncated=attempt.parsed.truncated,
        correction=outcome.correction,
        aliases=attempt.aliases,
        alias_offers=attempt.offers,
        matched_terms=matched.matched_terms,
        accents=request.accents,
        folded_total=results.folded_total,
        loosened=tuple(Loosened(r.word, r.level, r.terms) for r in loosened(attempt.resolutions)),
        topic_narrowed=results.topic_narrowed,
        relevance_total=results.relevance_total,
    )


def highlight_targets(parsed: ParsedQuery, resolutions: Plan | None = None) -> Targets:
    """Return what to mark for a parsed query: words, prefixes, phrases and neighbouring words.

    A phrase (quoted, or a word that splits into syllables such as ``COVID-19``)
    is marked only where it stands whole. Plain words typed next to each other
    (``ha noi``) form pairs, marked as a run where they stand together; a
    negated, prefixed or ``OR`` clause between them breaks the sequence. With
    ``resolutions`` a word typed with marks is marked only in the forms it matched.
    """
    words: list[str] = []
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []
    pairs: list[tuple[str, str]] = []
    previous: str | None = None  # the plain word just before, for pairs
    for clause in parsed.clauses:
        if clause.negated:
            previous = None
            continue
        for part in clause.alternatives or (clause,):
            if part.field == "author":
                continue
            folded = tuple(s.folded for s in part.syllables)
            if part.prefix:
                prefixes.extend(folded)
            elif part.is_phrase:
                phrases.append(folded)
            else:
                words.extend(folded)
        plain = not clause.alternatives and not clause.prefix and not clause.is_phrase
        if plain and clause.field != "author" and clause.syllables:
            word = clause.syllables[0].folded
            if previous is not None:
                pairs.append((previous, word))
            previous = word
        else:
            previous = None
    exact = _exact_targets(parsed, resolutions or {})
    return Targets(frozenset(words), tuple(prefixes), tuple(dict.fromkeys(phrases)), frozenset(pairs), exact)


def query_targets(backend: Backend, q: str, settings: SearchSettings) -> Targets:
    """Return what to mark for a query outside a search (the article page), words typed with marks as matched."""
    parsed = parse_query(q, settings.max_query_chars, settings.max_terms)
    return highlight_targets(parsed, plan(backend, parsed))


def _exact_targets(parsed: ParsedQuery, resolutions: Plan) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Return folded word -> the exact forms to mark, for words typed only with marks."""
    loose = {s.folded for s in parsed.all_syllables() if not resolutions.get(s.exact, _FOLDED_READING).exact}
    forms: dict[str, set[str]] = {}
    for syllable in parsed.all_syllables():
        resolution = resolutions.get(syllable.exact)
        if resolution is not None and resolution.exact and syllable.folded not in loose:
            forms.setdefault(syllable.folded, set()).update(resolution.terms)
    return tuple(sorted((word, tuple(sorted(found))) for word, found in forms.items()))


def _hit(
    fields: dict[str, Any], score: float, targets: Targets, highlight: bool, settings: SearchSettings
) -> Hit:
    """Build one result row with highlights from the stored article."""
    title = fields.get("title", "")
    lead = fields.get("summary") or ""
    body = fields.get("body", "")
    if highlight:
        # Where the article has the query's words together, a lone one elsewhere is a stray syllable.
        targets = targets.settled(title, lead, body)
        highlights = Highlights(
            mark(title, targets), best_snippet((lead, body), targets, settings.snippet_chars)
        )
    else:
        highlights = Highlights(html.escape(title), html.escape((lead or body)[: settings.snippet_chars]))
    return Hit(
        id=fields["id"],
        title=title,
        url=fields.get("url"),
        published=fields.get("published"),
        category=fields.get("category"),
        source=fields.get("source"),
        author=fields.get("author"),
        score=round(float(score), 4),
        highlights=highlights,
        tags=tuple(fields.get("tags") or ()),
    )
