"""Stored documents of the live state: Whoosh's stored fields with a small LRU, ids, the article view, stats.

Whoosh is asked for stored fields only (the hits' text); everything searched is
read from the mapped read models (``postings.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from searchsvc.article import article_view
from searchsvc.errors import NotFound
from searchsvc.generations import damaged, directory_size
from searchsvc.postings import part_postings
from searchsvc.state import Column, Part, State

# Stored documents kept per process: about 1 MB of text (bodies are capped at ingest).
STORED_CACHE_CHARS = 500_000


class Documents:
    """The stored fields of documents by number, the last few kept (at most ``STORED_CACHE_CHARS`` characters).

    Re-ranking reads the best matches' bodies and the hits then read most of them
    again. Reads hold ``lock``, the lock the live index swaps under: a segment
    reader seeks a shared file, and a retired one is closed under it.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._stored: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._stored_chars = 0

    def stored(self, state: State, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number."""
        part = _part_of(state, docnum)
        key = (part.info.segment_id, docnum - part.offset)
        with self._lock:
            found = self._stored.get(key)
            if found is not None:
                self._stored.move_to_end(key)
                return found
            with damaged(f"stored fields of segment {part.info.segment_id}", "cannot be read"):
                found = part.reader.stored_fields(docnum - part.offset)
            self._keep(key, found)
            return found

    def _keep(self, key: tuple[str, int], fields: dict[str, Any]) -> None:
        """Add a document read to the kept ones, dropping the oldest beyond the budget (the lock is held)."""
        self._stored[key] = fields
        self._stored_chars += _chars(fields)
        while self._stored_chars > STORED_CACHE_CHARS and len(self._stored) > 1:
            _, dropped = self._stored.popitem(last=False)
            self._stored_chars -= _chars(dropped)

    def get_article(self, state: State, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        docnum = document_number(state, article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article_view(self.stored(state, docnum))


def _part_of(state: State, docnum: int) -> Part:
    """Return the segment holding a document number."""
    for part in state.parts:
        if part.offset <= docnum < part.end:
            return part
    raise NotFound(f"no document number {docnum}")


def _chars(fields: dict[str, Any]) -> int:
    """Return about how many characters a stored document holds (its text fields)."""
    return sum(len(v) for v in fields.values() if isinstance(v, str)) + 64


def document_number(state: State, article_id: str) -> int | None:
    """Return the live document number of an article id, or None."""
    live = state.columns.live
    for part, post in reversed(part_postings(state, "id", article_id)):
        for local in post.docs[::-1]:
            docnum = part.offset + int(local)
            if live[docnum]:
                return docnum
    return None


def stats(state: State) -> dict[str, Any]:
    """Return documents, generation, size and per-category/source counts and date range."""
    cols = state.columns
    live = cols.live
    dated = cols.published_ts[live & (cols.day > 0)]
    days = cols.day[live & (cols.day > 0)]
    return {
        "generation": state.generation.name,
        "schema_version": state.generation.manifest.get("schema_version"),
        "created": state.generation.manifest.get("created"),
        "documents": state.doc_count,
        "segments": len(state.parts),
        "size_bytes": directory_size(state.generation.path),
        "dated_documents": int(dated.size),
        "date_range": [_day_text(int(days.min())), _day_text(int(days.max()))] if days.size else None,
        "categories": _value_counts(cols.category, live),
        "sources": _value_counts(cols.source, live),
    }


def _value_counts(column: Column, live: np.ndarray) -> dict[str, int]:
    """Count live documents per value, most frequent first."""
    counts = np.bincount(column.codes[live], minlength=len(column.values))
    pairs = [(column.values[i], int(c)) for i, c in enumerate(counts) if i and c]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def _day_text(day: int) -> str:
    """Format a YYYYMMDD integer as YYYY-MM-DD."""
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"
