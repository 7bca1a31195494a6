"""The one core call: ``search(store, request) -> response``.

Every front end (JSON API, HTML page, CLI) builds a ``SearchRequest`` (usually
through ``request_from_params``) and renders the same ``SearchResponse``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from searchsvc.accents import FOLDED, Plan, Resolution, loosened, plan
from searchsvc.aliases import Expansion, expand_aliases, load_aliases, widen
from searchsvc.config import SearchSettings
from searchsvc.errors import QueryError
from searchsvc.facets import FilterMasks, build_masks, facet_counts
from searchsvc.highlight import Targets, best_snippet, mark
from searchsvc.matching import Evaluation, evaluate, key_mask, nearness, partial_matches, top_documents
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
    SearchRequest,
    SearchResponse,
    Suggestion,
    is_sort,
)
from searchsvc.query import ParsedQuery, parse_query
from searchsvc.ranking import BODY_DEPTH, PROXIMITY_FIELDS, Candidate, is_topical, rerank
from searchsvc.readings import reading_candidates
from searchsvc.spelling import FEW_RESULTS, document_frequency, suggest_query
from searchsvc.store import Store
from searchsvc.topical import on_topic

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


def search(store: Store, request: SearchRequest, settings: SearchSettings | None = None) -> SearchResponse:
    """Run ``request`` against the live index of ``store``; the one call every front end uses.

    The same request with the same settings on the same index state gets the same
    answer, so a state keeps its recent answers (any commit or reindex starts a new state).
    """
    started = time.perf_counter()
    settings = settings or SearchSettings()
    key = _answer_key(request, settings)
    cached = store.cached_response(key)
    if isinstance(cached, SearchResponse):
        return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
    response = _search(store, request, settings, started)
    store.remember_response(key, response)
    return response


def _answer_key(request: SearchRequest, settings: SearchSettings) -> tuple[object, ...]:
    """Return what an answer depends on besides the index state (the hour, when freshness counts)."""
    hour = int(time.time() // 3600) if settings.freshness_boost > 0 else 0
    return (request, settings, hour)


@dataclass(frozen=True)
class _Match:
    """What one reading of the query matched: the query as typed and as searched, the masks, the aliases used."""

    parsed: ParsedQuery  # the words as typed (or read): what ranks
    searched: ParsedQuery  # with aliases expanded: what matches and is marked
    evaluation: Evaluation
    base: np.ndarray  # matches before the filters (what the facets count)
    final: np.ndarray  # matches that pass the filters
    partial: bool
    aliases: tuple[AliasUse, ...]  # expansions searched
    resolutions: Plan  # how each word typed with marks is matched
    offers: tuple[AliasUse, ...] = ()  # expansions the query has but did not search


def _match(
    store: Store,
    parsed: ParsedQuery,
    masks: FilterMasks,
    request: SearchRequest,
    settings: SearchSettings,
    expand: bool = False,
) -> _Match:
    """Resolve marked words, match (widened by the aliases if ``expand``), and fall back to the best partial match."""
    expansion = (
        expand_aliases(parsed, load_aliases(settings.aliases))
        if request.aliases is not False
        else Expansion(parsed)
    )
    searched = expansion if expand else Expansion(parsed)
    resolutions = plan(store, parsed) if request.accents == "match" else {}
    evaluation = evaluate(store, parsed, settings, resolutions)
    if searched.spans:
        evaluation = widen(store, parsed, evaluation, searched.spans)
    base = evaluation.required
    if request.sort != "relevance":
        base = _on_topic(store, parsed, resolutions, base, masks)
    final = _apply(base, masks)
    partial = False
    if not final.any() and len(evaluation.clause_masks) > 1:
        base, matched = partial_matches(evaluation, store.columns.live, None)
        final = _apply(base, masks)
        partial = bool(matched)
    offers = () if expand else expansion.uses
    return _Match(
        parsed, searched.parsed, evaluation, base, final, partial, searched.uses, resolutions, offers
    )


def _plain_words(parsed: ParsedQuery) -> bool:
    """Tell whether a query is only unquoted words (its correction then says all it said)."""
    return bool(parsed.clauses) and all(
        not (c.negated or c.alternatives or c.prefix or c.quoted or c.field) for c in parsed.clauses
    )


def _search(store: Store, request: SearchRequest, settings: SearchSettings, started: float) -> SearchResponse:
    """Match, count, rank and render ``request`` (the work behind ``search``)."""
    parsed = parse_query(request.q, settings.max_query_chars, settings.max_terms)
    categories = request.categories + parsed.filters.get("category", ())
    sources = request.sources + parsed.filters.get("source", ())
    readings = reading_candidates(parsed, lambda folded: document_frequency(store, folded))
    parsed, mode = readings[0]
    masks = build_masks(
        store.columns, categories, sources, request.date_from, request.date_to, _other_mask(store, request)
    )
    expand = request.aliases is True
    match = _match(store, parsed, masks, request, settings, expand)
    for fallback in readings[1:]:
        if match.evaluation.required.any():
            break
        # The keystroke reading finds nothing: decode fewer words, at last none (the words as typed).
        parsed, mode = fallback
        match = _match(store, parsed, masks, request, settings, expand)
    if match.offers and request.aliases is None and (match.partial or not match.final.any()):
        # The words as typed have no full match: search their aliases too (UBND = Ủy ban nhân dân).
        widened = _match(store, parsed, masks, request, settings, expand=True)
        if widened.final.any() and not widened.partial:
            match = widened
    total = int(match.final.sum())
    suggestion = suggest_query(parsed, store, total) if total < FEW_RESULTS or match.partial else None
    correction = None
    if suggestion and (match.partial or not total) and not request.as_typed and _plain_words(parsed):
        # No article has every word as typed: show the correction's results first, if it has full matches.
        corrected = parse_query(suggestion.text, settings.max_query_chars, settings.max_terms)
        again = _match(store, corrected, masks, request, settings, expand)
        if again.final.any() and not again.partial:
            correction = Correction(suggestion.text, suggestion.html, request.q)
            parsed, match, suggestion = corrected, again, None
            total = int(match.final.sum())
    facets = facet_counts(store.columns, match.base, masks) if request.facets else {}
    # A date sort lists only on-topic matches (_on_topic): the page says so, with the relevance count.
    dated = request.sort != "relevance" and not match.partial
    wider = int(_apply(match.evaluation.required, masks).sum()) if dated else total
    ranked = _order(store, request, match.parsed, match.evaluation, match.final, settings)
    start = (request.page - 1) * request.per_page
    page = ranked[start : start + request.per_page]
    targets = highlight_targets(match.searched, match.resolutions)
    hits = tuple(_hit(store, docnum, score, targets, request.highlight, settings) for docnum, score in page)
    folded_total = _folded_total(store, match.parsed, settings, match.resolutions, masks, total)
    return SearchResponse(
        query=request.q,
        total=total,
        page=request.page,
        per_page=request.per_page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=hits,
        facets=facets,
        suggestion=suggestion,
        reading=Reading(mode, parsed.text),
        partial=match.partial,
        sort=request.sort,
        truncated=parsed.truncated,
        correction=correction,
        aliases=match.aliases,
        alias_offers=match.offers,
        matched_terms=match.evaluation.matched_words(),
        accents=request.accents,
        folded_total=folded_total,
        loosened=tuple(Loosened(r.word, r.level, r.terms) for r in loosened(match.resolutions)),
        topic_narrowed=wider > total,
        relevance_total=wider if wider > total else None,
    )


def _on_topic(
    store: Store, parsed: ParsedQuery, resolutions: Plan, base: np.ndarray, masks: FilterMasks
) -> np.ndarray:
    """Return the matches a date sort lists: those with the query's word pairs together, if any pass the filters."""
    together = on_topic(store, parsed, resolutions)
    if together is None:
        return base
    narrowed = base & together
    return narrowed if _apply(narrowed, masks).any() else base


def _folded_total(
    store: Store,
    parsed: ParsedQuery,
    settings: SearchSettings,
    resolutions: Plan,
    masks: FilterMasks,
    total: int,
) -> int:
    """Return how many articles the query matches with accents ignored (the same filters)."""
    if not any(r.exact for r in resolutions.values()):
        return total
    return int(_apply(evaluate(store, parsed, settings).required, masks).sum())


def _other_mask(store: Store, request: SearchRequest) -> np.ndarray | None:
    """Return the author and tag filter mask (None when neither is asked for)."""
    mask = None
    if request.authors:
        mask = key_mask(store, "author_key", request.authors)
    if request.tags:
        tags = key_mask(store, "tag_key", request.tags)
        mask = tags if mask is None else mask & tags
    return mask


def _apply(base: np.ndarray, masks: FilterMasks) -> np.ndarray:
    """Return the matches that pass every filter."""
    mask = masks.combined()
    return base if mask is None else base & mask


def _order(
    store: Store,
    request: SearchRequest,
    parsed: ParsedQuery,
    evaluation: Evaluation,
    final: np.ndarray,
    settings: SearchSettings,
) -> list[tuple[int, float]]:
    """Return (docnum, score) pairs in result order, as far as the requested page needs."""
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


def query_targets(store: Store, q: str, settings: SearchSettings) -> Targets:
    """Return what to mark for a query outside a search (the article page), words typed with marks as matched."""
    parsed = parse_query(q, settings.max_query_chars, settings.max_terms)
    return highlight_targets(parsed, plan(store, parsed))


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
    store: Store, docnum: int, score: float, targets: Targets, highlight: bool, settings: SearchSettings
) -> Hit:
    """Build one result row with highlights from the stored article."""
    fields = store.stored(docnum)
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
