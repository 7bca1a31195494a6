"""The request and response of ``searchsvc.search.search``: plain frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

SORTS = ("relevance", "newest", "oldest")
FACET_NAMES = ("category", "source", "year", "month")


@dataclass(frozen=True)
class SearchRequest:
    """What a reader asked for; validated by ``request_from_params`` or ``validate``."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    facets: bool = True
    highlight: bool = True


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
class Reading:
    """How the query was read: as typed, or decoded from Telex/VNI keystrokes."""

    mode: str  # "literal" | "telex" | "vni"
    text: str  # the query as searched


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
    sort: str = "relevance"
    truncated: bool = False  # the query was cut to the configured length

    @property
    def pages(self) -> int:
        """Return the number of result pages."""
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form of the response (the API contract)."""
        data = asdict(self)
        data["facets"] = {name: [asdict(v) for v in values] for name, values in self.facets.items()}
        data["hits"] = [asdict(h) | {"tags": list(h.tags)} for h in self.hits]
        data["matched_terms"] = list(self.matched_terms)
        return data
