"""The article record every layer passes around, and the public form of a stored one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


def article_view(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the public form of a stored article (the API's article body), in the API's order."""
    return {
        "id": fields.get("id"),
        "url": fields.get("url"),
        "title": fields.get("title", ""),
        "summary": fields.get("summary"),
        "body": fields.get("body", ""),
        "author": fields.get("author"),
        "published": fields.get("published"),
        "category": fields.get("category"),
        "source": fields.get("source"),
        "tags": list(fields.get("tags") or []),
    }
