"""Ingest records: articles, rejects and warnings, the report that counts them, the limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from searchsvc.article import Article
from searchsvc.config import IndexSettings

EXCERPT_CHARS = 500
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Reject:
    """A source record that could not become an article, and why."""

    path: str
    line: int | None  # 1-based; None when the problem concerns the whole file or item
    reason: str
    raw: str = ""  # the start of the offending text, at most EXCERPT_CHARS characters


@dataclass(frozen=True)
class IngestWarning:
    """A problem in a record that was ingested anyway, such as an unparseable date."""

    path: str
    line: int | None
    article_id: str
    reason: str


Record = Article | Reject | IngestWarning


@dataclass
class IngestReport:
    """Count the articles of a record stream and keep its rejects and warnings."""

    articles: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[IngestWarning] = field(default_factory=list)

    def collect(self, records: Iterable[Record]) -> Iterator[Article]:
        """Yield the articles of records and keep the rejects and warnings aside."""
        for record in records:
            if isinstance(record, Article):
                self.articles += 1
                yield record
            elif isinstance(record, Reject):
                self.rejects.append(record)
            else:
                self.warnings.append(record)


@dataclass(frozen=True)
class IngestLimits:
    """What an article may hold to enter the index (``[index]`` settings)."""

    # Characters of text in all fields together; a longer body is cut (with a warning).
    max_article_chars: int = IndexSettings.max_article_chars

    @classmethod
    def from_settings(cls, index: IndexSettings) -> IngestLimits:
        """Return the limits of the ``[index]`` settings."""
        return cls(max_article_chars=index.max_article_chars)


DEFAULT_LIMITS = IngestLimits()


def write_rejects(rejects: Iterable[Reject], path: str | Path) -> int:
    """Write rejects to path as JSON lines (path, line, reason, raw); return how many."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(target, "w", encoding="utf-8") as out:
        for reject in rejects:
            entry = {
                "path": reject.path,
                "line": reject.line,
                "reason": reject.reason,
                "raw": reject.raw,
            }
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
    return count
