"""The request and response of ``searchsvc.search.search``: plain frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypeGuard, get_args

Sort = Literal["relevance", "newest", "oldest"]
SORTS: tuple[Sort, ...] = get_args(Sort)
# How the query was read: as typed, or decoded from Telex/VNI keystrokes.
ReadingMode = Literal["literal", "telex", "vni"]
READING_MODES: tuple[ReadingMode, ...] = get_args(ReadingMode)
# ``match``: a word typed with marks matches only those marks; ``ignore``: every word matches every accent form.
AccentMode = Literal["match", "ignore"]
ACCENT_MODES: tuple[AccentMode, ...] = get_args(AccentMode)
FACET_NAMES = ("category", "source", "year", "month")
# The query parameters of /api/search and the search page, in the OpenAPI document's order.
SINGLE_PARAMETERS = (
    "q",
    "page",
    "per_page",
    "sort",
    "date_from",
    "date_to",
    "as_typed",
    "aliases",
    "accents",
)
REPEATABLE_PARAMETERS = ("category", "source", "author", "tag")
# The OpenAPI order: the query and paging, the repeatable filters, then the other single ones.
SEARCH_PARAMETERS = (*SINGLE_PARAMETERS[:4], *REPEATABLE_PARAMETERS, *SINGLE_PARAMETERS[4:])


def is_sort(value: str) -> TypeGuard[Sort]:
    """Return whether ``value`` names a result order."""
    return value in SORTS


@dataclass(frozen=True)
class SearchRequest:
    """What a reader asked for; ``request_from_params`` builds a validated one from parameters."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: Sort = "relevance"
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    facets: bool = True
    highlight: bool = True
    as_typed: bool = False  # never replace a query without full matches by its correction
    # Abbreviations and aliases (`UBND` = `Ủy ban nhân dân`): True searches them too, False never,
    # None (the default) only when the words as typed have no full match; otherwise they are offered.
    aliases: bool | None = None
    accents: AccentMode = "match"


@dataclass(frozen=True)
class Highlights:
    """HTML-escaped title and snippet with ``<mark>`` around matched words."""

    title: str
    snippet: str


@dataclass(frozen=True)
class Hit:
    """One result row."""

    id: str
    title: str
    url: str | None
    published: str | None
    category: str | None
    source: str | None
    author: str | None
    score: float
    highlights: Highlights
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FacetValue:
    """One facet bucket."""

    value: str
    count: int


@dataclass(frozen=True)
class Suggestion:
    """A 'did you mean' query: plain text and HTML with the changed words in ``<em>``."""

    text: str
    html: str


@dataclass(frozen=True)
class Correction:
    """The corrected query whose results are shown instead of the query as typed (which had no full match)."""

    text: str
    html: str  # the changed words in ``<em>``
    typed: str  # the query as typed, to search exactly instead


@dataclass(frozen=True)
class AliasUse:
    """An abbreviation or alias searched besides the words as typed."""

    typed: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """How the query was read: as typed, or decoded from Telex/VNI keystrokes."""

    mode: ReadingMode
    text: str  # the query as searched


@dataclass(frozen=True)
class Loosened:
    """A word typed with marks that no article has as typed, read at a looser level."""

    word: str  # as typed
    level: str  # "toneless": the same letters with any tone; "folded": accents ignored
    forms: tuple[str, ...]  # the index words it was read as


@dataclass(frozen=True)
class SearchResponse:
    """The result every front end renders."""

    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: tuple[Hit, ...]
    facets: Mapping[str, tuple[FacetValue, ...]]
    suggestion: Suggestion | None = None
    reading: Reading = field(default_factory=lambda: Reading("literal", ""))
    # Set when no article had every word: the best partial match was used instead.
    partial: bool = False
    matched_terms: tuple[str, ...] = ()
    sort: Sort = "relevance"
    truncated: bool = False  # the query was cut to the configured length
    correction: Correction | None = None
    aliases: tuple[AliasUse, ...] = ()
    alias_offers: tuple[AliasUse, ...] = ()  # expansions the query has but did not search (aliases=1 does)
    accents: AccentMode = "match"
    # How many articles would match with accents ignored (the same filters); equals total when
    # the query has no marked word or accents are ignored already.
    folded_total: int = 0
    loosened: tuple[Loosened, ...] = ()
    # Set when a date sort lists only the articles with the query's words standing together
    # (``topical.py``); ``relevance_total`` is then how many the relevance sort lists.
    topic_narrowed: bool = False
    relevance_total: int | None = None

    @property
    def accent_extra(self) -> int:
        """Return how many more articles ignoring accents would find."""
        return max(0, self.folded_total - self.total) if self.accents == "match" else 0

    @property
    def pages(self) -> int:
        """Return the number of result pages."""
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form of the response (the API contract)."""
        # Built by hand: dataclasses.asdict deep-copies recursively and cost ~2 ms a response.
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": self.took_ms,
            "hits": [_hit_dict(h) for h in self.hits],
            "facets": {
                name: [{"value": v.value, "count": v.count} for v in values]
                for name, values in self.facets.items()
            },
            "suggestion": None
            if self.suggestion is None
            else {"text": self.suggestion.text, "html": self.suggestion.html},
            "reading": {"mode": self.reading.mode, "text": self.reading.text},
            "partial": self.partial,
            "matched_terms": list(self.matched_terms),
            "sort": self.sort,
            "truncated": self.truncated,
            "correction": None
            if self.correction is None
            else {"text": self.correction.text, "html": self.correction.html, "typed": self.correction.typed},
            "aliases": [{"typed": a.typed, "aliases": list(a.aliases)} for a in self.aliases],
            "alias_offers": [{"typed": a.typed, "aliases": list(a.aliases)} for a in self.alias_offers],
            "accents": self.accents,
            "folded_total": self.folded_total,
            "loosened": [{"word": x.word, "level": x.level, "forms": list(x.forms)} for x in self.loosened],
            "topic_narrowed": self.topic_narrowed,
            "relevance_total": self.relevance_total,
        }


def _hit_dict(hit: Hit) -> dict[str, Any]:
    """Return the JSON-ready form of one hit."""
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "published": hit.published,
        "category": hit.category,
        "source": hit.source,
        "author": hit.author,
        "score": hit.score,
        "highlights": {"title": hit.highlights.title, "snippet": hit.highlights.snippet},
        "tags": list(hit.tags),
    }
