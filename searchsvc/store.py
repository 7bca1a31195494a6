"""The read side of the index: the live generation, its searcher and in-memory columns.

A ``Store`` is opened once per process and ``refresh``-ed before each request:
it notices a new generation (``searchsvc reindex``) or new commits to the live
one (``searchsvc index add/delete``) and reopens, so a running server serves
the new index without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index

from searchsvc.errors import IndexNotReady, NotFound
from searchsvc.indexer import CURRENT, Generation, current_generation, directory_size
from searchsvc.lexicon import Lexicon, load_lexicon


@dataclass(frozen=True)
class Column:
    """A categorical column: one code per document and the distinct values (code 0 = none)."""

    codes: np.ndarray
    values: tuple[str, ...]

    def code_of(self, value: str) -> int | None:
        """Return the code of ``value``, or None when no document has it."""
        try:
            return self.values.index(value)
        except ValueError:
            return None


@dataclass(frozen=True)
class Columns:
    """Per-document arrays indexed by Whoosh document number."""

    category: Column
    source: Column
    month: Column
    year: Column
    published_ts: np.ndarray
    day: np.ndarray
    live: np.ndarray  # False for deleted documents


def _categorical(raw: list[Any]) -> Column:
    """Encode a list of optional strings as a ``Column``."""
    values: dict[str, int] = {"": 0}
    codes = np.empty(len(raw), dtype=np.int32)
    for i, value in enumerate(raw):
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        value = value or ""
        code = values.get(value)
        if code is None:
            code = values[value] = len(values)
        codes[i] = code
    return Column(codes, tuple(values))


def _read_columns(reader: Any) -> Columns:
    """Read the sortable columns of every document into numpy arrays."""
    total = reader.doc_count_all()

    def column(name: str) -> list[Any]:
        if not reader.has_column(name):
            return [None] * total
        return list(reader.column_reader(name))

    months = column("month")
    live = np.ones(total, dtype=bool)
    if reader.has_deletions():
        for docnum in range(total):
            if reader.is_deleted(docnum):
                live[docnum] = False
    month = _categorical(months)
    year = _categorical([(m.decode() if isinstance(m, bytes) else m or "")[:4] for m in months])
    return Columns(
        category=_categorical(column("category")),
        source=_categorical(column("source")),
        month=month,
        year=year,
        published_ts=np.asarray(column("published_ts"), dtype=np.int64),
        day=np.asarray(column("day"), dtype=np.int64),
        live=live,
    )


class Store:
    """The live index generation of one index directory, ready to search."""

    def __init__(self, index_dir: Path, refresh_interval: float = 0.5) -> None:
        self.index_dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self._lock = threading.RLock()
        self._checked = 0.0
        self._open()

    def _open(self) -> None:
        """Open the live generation and read its columns and lexicon."""
        generation = current_generation(self.index_dir)
        try:
            ix = whoosh_index.open_dir(str(generation.path))
        except (OSError, whoosh_index.EmptyIndexError) as exc:
            raise IndexNotReady(
                f"cannot open index {generation.path}: {exc}; run `searchsvc reindex`"
            ) from exc
        self._set(generation, ix, ix.searcher())

    def _set(self, generation: Generation, ix: Any, searcher: Any) -> None:
        """Install a newly opened generation/searcher pair."""
        old = getattr(self, "searcher", None)
        self.current = generation
        self.ix = ix
        self.searcher = searcher
        self.columns = _read_columns(searcher.reader())
        self.lexicon: Lexicon = load_lexicon(generation.path)
        self.doc_freq_cache: dict[tuple[str, str], int] = {}
        if old is not None and old is not searcher:
            old.close()

    @property
    def generation(self) -> str:
        """Return the live generation's name."""
        return self.current.name

    @property
    def doc_count(self) -> int:
        """Return the number of searchable documents."""
        return int(self.searcher.doc_count())

    def refresh(self, force: bool = False) -> None:
        """Reopen when the live generation changed or was updated (checked at most every interval)."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_interval:
            return
        with self._lock:
            self._checked = now
            try:
                name = (self.index_dir / CURRENT).read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                return  # keep serving what we have; the pointer is replaced atomically
            if name != self.current.name:
                self._open()
            elif not self.searcher.up_to_date():
                self._set(self.current, self.ix, self.searcher.refresh())

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the number of documents with ``term`` in ``field`` (cached per generation)."""
        key = (field, term)
        cached = self.doc_freq_cache.get(key)
        if cached is None:
            cached = self.doc_freq_cache[key] = int(self.searcher.doc_frequency(field, term))
        return cached

    def stored(self, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number."""
        return self.searcher.stored_fields(docnum)

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        docnum = self.searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article_view(self.stored(docnum))

    def complete(self, prefix: str, limit: int = 8) -> list[Any]:
        """Return accent-insensitive completions of what is being typed."""
        return self.lexicon.complete(prefix, limit)

    def stats(self) -> dict[str, Any]:
        """Return documents, generation, size and per-category/source counts and date range."""
        cols = self.columns
        live = cols.live
        dated = cols.published_ts[live & (cols.day > 0)]
        days = cols.day[live & (cols.day > 0)]
        return {
            "generation": self.generation,
            "schema_version": self.current.manifest.get("schema_version"),
            "created": self.current.manifest.get("created"),
            "documents": self.doc_count,
            "size_bytes": directory_size(self.current.path),
            "dated_documents": int(dated.size),
            "date_range": [_day_text(int(days.min())), _day_text(int(days.max()))] if days.size else None,
            "categories": _value_counts(cols.category, live),
            "sources": _value_counts(cols.source, live),
        }

    def close(self) -> None:
        """Release the searcher's files."""
        self.searcher.close()


def _value_counts(column: Column, live: np.ndarray) -> dict[str, int]:
    """Count live documents per value, most frequent first."""
    counts = np.bincount(column.codes[live], minlength=len(column.values))
    pairs = [(column.values[i], int(c)) for i, c in enumerate(counts) if i and c]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def _day_text(day: int) -> str:
    """Format a YYYYMMDD integer as YYYY-MM-DD."""
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def article_view(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the public form of a stored article."""
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


def open_store(index_dir: Path, refresh_interval: float = 0.5) -> Store:
    """Open the live index of ``index_dir`` for searching (raises ``IndexNotReady``)."""
    return Store(index_dir, refresh_interval)
