"""The one boundary between query understanding and an index engine.

``search.search`` understands a query once (parsing, keystroke readings, accent
resolution, aliases, corrections) and hands each *attempt* to a backend, which
matches, counts, facets and ranks it. Two backends implement the contract: the
embedded Whoosh index with its read model (``embedded.py``) and an OpenSearch
cluster (``opensearch/searching.py``). Highlights and snippets are computed above
the boundary from the stored text a backend returns, so both mark the same words.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from searchsvc.accents import Plan
from searchsvc.aliases import Expansion
from searchsvc.config import SearchSettings
from searchsvc.lexicon import Completion, Lexicon
from searchsvc.messages import AliasUse, FacetValue, SearchRequest
from searchsvc.query import ParsedQuery
from searchsvc.related import RelatedResponse


@dataclass(frozen=True)
class Scope:
    """The filters of a request: the query's own ``category:``/``source:`` words included."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def of(cls, request: SearchRequest, parsed: ParsedQuery) -> Scope:
        """Return the filters of ``request`` with those written in its query."""
        return cls(
            categories=request.categories + parsed.filters.get("category", ()),
            sources=request.sources + parsed.filters.get("source", ()),
            authors=request.authors,
            tags=request.tags,
            date_from=request.date_from,
            date_to=request.date_to,
        )


@dataclass(frozen=True)
class Attempt:
    """One reading of the query to match: understood above the boundary, executed below it."""

    parsed: ParsedQuery  # the words as typed (or read): what ranks
    expansion: Expansion  # the same words with their aliases (searched when ``expand``)
    expand: bool
    resolutions: Plan  # how each word typed with marks is matched ({} when accents are ignored)
    scope: Scope
    request: SearchRequest
    settings: SearchSettings

    @property
    def searched(self) -> ParsedQuery:
        """Return the query as searched and marked: with its aliases when they are searched."""
        return self.expansion.parsed if self.expand else self.parsed

    @property
    def aliases(self) -> tuple[AliasUse, ...]:
        """Return the alias expansions searched."""
        return self.expansion.uses if self.expand else ()

    @property
    def offers(self) -> tuple[AliasUse, ...]:
        """Return the alias expansions the query has but did not search."""
        return () if self.expand else self.expansion.uses


@dataclass(frozen=True)
class Matched:
    """What a backend found for one attempt; each backend extends it with what its ``results`` needs."""

    attempt: Attempt
    found: bool  # some article has every positive word (before the filters)
    total: int  # articles that match and pass the filters
    partial: bool  # no article has every word: these have the most of them
    matched_terms: tuple[str, ...]  # the index words (folded or exact) the positive clauses looked for


@dataclass(frozen=True)
class Results:
    """The rest of an answer: facet counts, the requested page and the accent-blind total."""

    facets: Mapping[str, tuple[FacetValue, ...]]
    page: tuple[tuple[dict[str, Any], float], ...]  # stored fields and score, in result order
    folded_total: int
    topic_narrowed: bool = False  # a date sort kept only the articles with the words together
    relevance_total: int | None = None  # with topic_narrowed: how many the relevance sort lists


class Backend(Protocol):
    """What the core call and the front ends need from an index engine."""

    kind: str

    @property
    def lexicon(self) -> Lexicon:
        """Return the generation's lexicon (suggestions, completions, word pairs)."""
        ...

    @property
    def doc_count(self) -> int:
        """Return the number of searchable articles."""
        ...

    @property
    def generation(self) -> str:
        """Return the name of the live generation."""
        ...

    @property
    def created(self) -> str | None:
        """Return when the live generation was built (ISO time), if known."""
        ...

    def state_key(self) -> Hashable | None:
        """Return a key that changes whenever the searchable state does (answers are kept per state); None keeps none."""
        ...

    def doc_frequency(self, field: str, term: str) -> int:
        """Return how many articles hold ``term`` in ``field`` (a schema field name)."""
        ...

    def prefetch_frequencies(self, terms: Iterable[str]) -> None:
        """Look many words' frequencies up at once, ahead of their ``doc_frequency`` calls."""
        ...

    def match(self, attempt: Attempt) -> Matched:
        """Match one attempt: what it finds, how many pass the filters, whether it is partial."""
        ...

    def results(self, matched: Matched) -> Results:
        """Count facets, rank and read the requested page of a match."""
        ...

    def pair_documents(self, first: str, second: str) -> tuple[int, list[dict[str, Any]]]:
        """Return about how many articles have two folded words adjacent in the body, and a few of them."""
        ...

    def richest_documents(self, words: list[str]) -> list[dict[str, Any]]:
        """Return the stored fields of a few articles holding the most of ``words`` (two at least)."""
        ...

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the public form of an article, or raise ``NotFound``."""
        ...

    def related(
        self, article_id: str, limit: int, before: datetime | None, settings: SearchSettings
    ) -> RelatedResponse:
        """Return up to ``limit`` other articles on the same story or topic (``before``: only earlier ones)."""
        ...

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return accent-insensitive completions of what is being typed."""
        ...

    def stats(self) -> dict[str, Any]:
        """Return documents, generation, size and per-category/source counts and the date range."""
        ...

    def health(self) -> dict[str, Any]:
        """Return ok, or degraded with the reason."""
        ...

    def refresh(self, force: bool = False) -> None:
        """Notice a new generation or commit and serve it from the next request on."""
        ...

    def close(self) -> None:
        """Release what the backend holds."""
        ...
