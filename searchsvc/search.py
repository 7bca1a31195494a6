"""The one core call: ``search(store, request) -> response``.

Every front end (JSON API, HTML page, CLI) builds a ``SearchRequest`` (usually
through ``request_from_params``) and renders the same ``SearchResponse``.
"""

from __future__ import annotations

import html
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from searchsvc.accents import FOLDED, Plan, Resolution, loosened, plan
from searchsvc.aliases import Expansion, expand_aliases, load_aliases
from searchsvc.backend import Attempt, Backend, Matched, Scope
from searchsvc.config import SearchSettings
from searchsvc.embedded import as_backend
from searchsvc.errors import QueryError
from searchsvc.highlight import Targets, best_snippet, mark
from searchsvc.messages import (
    ACCENT_MODES,
    SORTS,
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
    is_sort,
)
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


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """Return the single value of a parameter, rejecting repeats."""
    values = params.get(name) or []
    if len(values) > 1:
        raise QueryError("invalid_parameter", f"'{name}' may be given only once")
    return values[0] if values else None


def _int(params: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int) -> int:
    """Parse an integer parameter of ASCII digits within ``[low, high]``; empty means ``default``."""
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    # int() also takes "٣", "1_0", "+2" and " 2": the API promises digits.
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError("invalid_parameter", f"'{name}' must be an integer, got {raw[:40]!r}")
    # More than 18 digits is out of range anyway (and int() refuses 4,300).
    value = int(raw) if len(raw) <= 18 else high + 1
    if not low <= value <= high:
        raise QueryError("invalid_parameter", f"'{name}' must be between {low} and {high}, got {raw[:40]}")
    return value


def _date(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    """Parse a ``YYYY-MM-DD`` parameter of ASCII digits; empty means no date."""
    raw = _one(params, name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            "invalid_parameter", f"'{name}' must be a date YYYY-MM-DD, got {raw[:40]!r}"
        ) from None


def _flag(params: Mapping[str, Sequence[str]], name: str, default: bool | None) -> bool | None:
    """Parse a yes/no parameter: ``1``/``true`` or ``0``/``false``; empty means ``default``."""
    raw = (_one(params, name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise QueryError("invalid_parameter", f"'{name}' must be 1 or 0, got {raw[:40]!r}")


def _values(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    """Return the non-empty values of a repeatable parameter."""
    return tuple(v for v in (params.get(name) or []) if v.strip())


def request_from_params(params: Mapping[str, Sequence[str]], limits: SearchSettings) -> SearchRequest:
    """Build a validated request from query-string style parameters (name -> values)."""
    sort = _one(params, "sort") or "relevance"
    if not is_sort(sort):
        raise QueryError("invalid_parameter", f"'sort' must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
    accents = _one(params, "accents") or "match"
    if accents not in ACCENT_MODES:
        raise QueryError(
            "invalid_parameter", f"'accents' must be one of {', '.join(ACCENT_MODES)}, got {accents[:40]!r}"
        )
    date_from, date_to = _date(params, "date_from"), _date(params, "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError("invalid_parameter", "'date_from' is after 'date_to'")
    return SearchRequest(
        q=_one(params, "q") or "",
        page=_int(params, "page", 1, 1, limits.max_page),
        per_page=_int(params, "per_page", limits.per_page, 1, limits.max_per_page),
        sort=sort,
        categories=_values(params, "category"),
        sources=_values(params, "source"),
        authors=_values(params, "author"),
        tags=_values(params, "tag"),
        date_from=date_from,
        date_to=date_to,
        as_typed=bool(_flag(params, "as_typed", False)),
        aliases=_flag(params, "aliases", None),
        accents=accents,
    )


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
    key = (state, *_answer_key(request, settings))
    cached = _ANSWERS.get(key)
    if cached is not None:
        return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
    response = _search(backend, request, settings, started)
    _ANSWERS.put(key, response)
    return response


def _answer_key(request: SearchRequest, settings: SearchSettings) -> tuple[object, ...]:
    """Return what an answer depends on besides the index state (the hour, when freshness counts)."""
    hour = int(time.time() // 3600) if settings.freshness_boost > 0 else 0
    return (request, settings, hour)


class _Answers:
    """Recent answers keyed by index state and request (a new state never meets an old key)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, SearchResponse] = OrderedDict()

    def get(self, key: Hashable) -> SearchResponse | None:
        """Return the kept answer for ``key``, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, response: SearchResponse) -> None:
        """Keep an answer, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._items[key] = response
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# The head of the query log repeats all day (an answer is about 30 KB).
_ANSWERS = _Answers(512)


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
