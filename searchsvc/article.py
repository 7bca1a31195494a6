"""The article record every layer passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Article:
    """One news article as ingested from the CMS export or a page."""

    id: str
    title: str
    body: str
    url: str | None = None
    summary: str | None = None
    author: str | None = None
    published: datetime | None = None  # timezone-aware; Vietnam time when the source says nothing
    category: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
