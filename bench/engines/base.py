"""The engine contract every benchmarked search engine implements."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable

# The same relative weights for every engine, so rankings are comparable.
FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "summary": 1.5, "body": 1.0}
SEARCH_FIELDS: tuple[str, ...] = tuple(FIELD_WEIGHTS)

_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class EngineResult:
    """The part of a search answer the harness scores."""

    ids: list[str]
    total: int
    category_counts: dict[str, int] | None = None


@runtime_checkable
class Engine(Protocol):
    """A search engine under test: build once, then answer queries."""

    name: str

    def build(self, articles: Iterable[dict], workdir: Path) -> None:
        """Index the articles into workdir (timed by the harness)."""

    def search(self, q: str, params: dict, k: int, facets: bool) -> EngineResult:
        """Return the top k ids, the total and, if asked, category counts."""

    def close(self) -> None:
        """Release readers and files."""


def split_query(q: str) -> list[tuple[str, ...]]:
    """Split a user query into words and quoted phrases, each a tuple of words."""
    parts: list[tuple[str, ...]] = []
    for phrase, word in _PHRASE_OR_WORD.findall(q):
        words = tuple(phrase.split()) if phrase else (word.strip('"'),)
        if any(words):
            parts.append(tuple(w for w in words if w))
    return parts


def local_day(published: str | None) -> int | None:
    """Return the Vietnam local date of a `published` value as YYYYMMDD."""
    # `published` is always written with +07:00, so its date part is the local date.
    if not published:
        return None
    return int(published[:10].replace("-", ""))


def day_bounds(params: dict) -> tuple[int | None, int | None]:
    """Return the inclusive date_from/date_to filter as YYYYMMDD integers."""
    lo, hi = params.get("date_from"), params.get("date_to")
    return (_day(lo), _day(hi))


def _day(value: str | date | None) -> int | None:
    """Turn an ISO date (string or date) into YYYYMMDD."""
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    return int(text[:10].replace("-", ""))
