"""The read side of the index: the live generation, its searcher and in-memory columns.

A ``Store`` is opened once per process and ``refresh``-ed before each request:
it notices a new generation (``searchsvc reindex``) or new commits to the live
one (``searchsvc index add/delete``) and reopens, so a running server serves
the new index without a restart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
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


def _categorical(raw: list[str]) -> Column:
    """Encode a list of strings ('' = none) as a ``Column``."""
    values: dict[str, int] = {"": 0}
    codes = np.empty(len(raw), dtype=np.int32)
    for i, value in enumerate(raw):
        code = values.get(value)
        if code is None:
            code = values[value] = len(values)
        codes[i] = code
    return Column(codes, tuple(values))


def _column(reader: Any, name: str, default: Any) -> list[Any]:
    """Return a column's value for every document, segment by segment.

    A segment written without any value for the column has no column at all
    (an incremental add of undated articles), so each leaf is read on its own.
    """
    values: list[Any] = []
    for leaf, _ in reader.leaf_readers():
        count = leaf.doc_count_all()
        if leaf.has_column(name):
            values.extend(leaf.column_reader(name))
        else:
            values.extend([default] * count)
    return values


def _text(value: Any) -> str:
    """Return a column value as text ('' when missing)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


def _read_columns(reader: Any) -> Columns:
    """Read the sortable columns of every document into numpy arrays."""
    total = reader.doc_count_all()
    months = [_text(m) for m in _column(reader, "month", "")]
    live = np.ones(total, dtype=bool)
    if reader.has_deletions():
        for docnum in range(total):
            if reader.is_deleted(docnum):
                live[docnum] = False
    return Columns(
        category=_categorical([_text(v) for v in _column(reader, "category", "")]),
        source=_categorical([_text(v) for v in _column(reader, "source", "")]),
        month=_categorical(months),
        year=_categorical([m[:4] for m in months]),
        published_ts=np.asarray(_column(reader, "published_ts", 0), dtype=np.int64),
        day=np.asarray(_column(reader, "day", 0), dtype=np.int64),
        live=live,
    )


POSTINGS_CACHE_ENTRIES = 20_000_000
BLOCK_CACHE_SIZE = 20_000
STORED_CACHE_SIZE = 256


def _block_arrays(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """Decode the current posting block's ids and weights with numpy.

    Whoosh's own ``_read_ids`` delta-decodes id by id in Python, the largest cost of
    reading a long posting list. The block layout is the W3 codec's, the same in
    whoosh 2.7.4 and whoosh3.
    """
    if matcher._data is None:
        matcher._read_data()
    raw_ids, raw_weights = matcher._data[0], matcher._data[1]
    ids = np.asarray(raw_ids, dtype=np.int64)
    if not matcher._byteids:
        ids = np.cumsum(ids)
    if raw_weights is None:
        weights = np.ones(ids.size, dtype=np.float64)
    elif isinstance(raw_weights, float):
        weights = np.full(ids.size, raw_weights, dtype=np.float64)
    else:
        weights = np.asarray(raw_weights, dtype=np.float64)
    return ids, weights


def _leaf_postings(leaf: Any, field: str, term: str, values: bool) -> tuple[list[Any], list[Any]]:
    """Read one segment's posting list block by block: ids and weights, or ids and values.

    Matchers without W3 blocks (inlined short lists) take the public per-posting path.
    """
    matcher = leaf.postings(field, term)
    ids: list[Any] = []
    extra: list[Any] = []
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            block_ids, block_weights = _block_arrays(matcher)
            ids.append(block_ids)
            if values:
                matcher._read_values()
                extra.extend(matcher._values)
            else:
                extra.append(block_weights)
            matcher._next_block()
        return ids, extra
    one_ids = []
    while matcher.is_active():
        one_ids.append(matcher.id())
        extra.append(matcher.value() if values else matcher.weight())
        matcher.next()
    ids_array = np.asarray(one_ids, dtype=np.int64)
    return [ids_array], (extra if values else [np.asarray(extra, dtype=np.float64)])


def _remember(blocks: dict[Any, Any], key: Any, value: Any) -> None:
    """Keep a decoded block or directory, forgetting everything when the cache is full."""
    if len(blocks) >= BLOCK_CACHE_SIZE:
        blocks.clear()
    blocks[key] = value


def _block_directory(matcher: Any, term_key: Any, blocks: dict[Any, Any]) -> tuple[np.ndarray, list[int]]:
    """Return each posting block's highest id and file offset, walking the headers once per term."""
    key = (*term_key, "directory")
    found = blocks.get(key)
    if found is None:
        maxids: list[int] = []
        offsets: list[int] = []
        position = matcher._baseoffset
        while matcher.is_active():
            maxids.append(matcher._maxid)
            offsets.append(position)
            position = matcher._nextoffset
            matcher._next_block()
        found = (np.asarray(maxids, dtype=np.int64), offsets)
        _remember(blocks, key, found)
    return found


def positions_in(
    reader: Any, field: str, term: str, docnums: list[int], blocks: dict[Any, Any] | None = None
) -> dict[int, bytes]:
    """Return the encoded positions of a term for some (sorted) documents.

    Blocks whose highest id lies before the next wanted document are skipped by
    their header alone; the others are decoded with numpy, and kept in ``blocks``
    (frequent words' blocks serve many queries).
    """
    blocks = {} if blocks is None else blocks
    found: dict[int, bytes] = {}
    for leaf, offset in reader.leaf_readers():
        end = offset + leaf.doc_count_all()
        local = [d - offset for d in docnums if offset <= d < end]
        if not local or (field, term) not in leaf:
            continue
        matcher = leaf.postings(field, term)
        if not (hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block")):
            for docnum in local:
                if not matcher.is_active():
                    break
                matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    found[docnum + offset] = matcher.value()
            continue
        wanted = np.asarray(local, dtype=np.int64)
        maxids, offsets = _block_directory(matcher, (id(leaf), field, term), blocks)
        for block in sorted(set(np.searchsorted(maxids, wanted).tolist())):
            if block >= len(offsets):
                break
            key = (id(leaf), field, term, offsets[block])
            cached = blocks.get(key)
            if cached is None:
                matcher._goto(offsets[block])
                ids, _ = _block_arrays(matcher)
                matcher._read_values()
                cached = (ids, matcher._values)
                _remember(blocks, key, cached)
            ids, values = cached
            where = np.searchsorted(ids, wanted)
            for docnum, at in zip(local, where.tolist(), strict=True):
                if at < ids.size and ids[at] == docnum:
                    found[docnum + offset] = values[at]
    return found


def _gather(reader: Any, field: str, term: str, values: bool) -> tuple[list[np.ndarray], list[Any]]:
    """Collect a term's ids (renumbered to the whole index) and weights or values, segment by segment."""
    ids: list[np.ndarray] = []
    extra: list[Any] = []
    for leaf, offset in reader.leaf_readers():
        if (field, term) not in leaf:
            continue
        leaf_ids, leaf_extra = _leaf_postings(leaf, field, term, values)
        ids.extend(i + offset for i in leaf_ids)
        extra.extend(leaf_extra)
    return ids, extra


def read_postings(reader: Any, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a term's (docnums, weights) over all segments; empty arrays when absent."""
    ids, weights = _gather(reader, field, term, values=False)
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    # Half-size arrays: the cache holds millions of postings.
    return np.concatenate(ids).astype(np.int32), np.concatenate(weights).astype(np.float32)


def read_positions(reader: Any, field: str, term: str) -> tuple[np.ndarray, list[bytes]]:
    """Return a term's docnums and encoded position lists over all segments."""
    ids, values = _gather(reader, field, term, values=True)
    if not ids:
        return np.zeros(0, dtype=np.int64), []
    return np.concatenate(ids), values


def read_lengths(reader: Any, field: str) -> np.ndarray:
    """Return every document's stored field length."""
    total = reader.doc_count_all()
    lengths = np.zeros(total, dtype=np.float64)
    for leaf, offset in reader.leaf_readers():
        if field not in leaf.schema or not leaf.schema[field].scorable:
            continue
        dfl = leaf.doc_field_length
        for docnum in range(leaf.doc_count_all()):
            lengths[offset + docnum] = dfl(docnum, field, 0)
    return lengths


class Store:
    """The live index generation of one index directory, ready to search.

    Whoosh readers seek and read shared file objects, so every read holds the
    store's lock: threads of one worker take turns on the index, never corrupt it.
    """

    def __init__(self, index_dir: Path, refresh_interval: float = 0.5, warm_terms: int = 0) -> None:
        self.index_dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self.warm_terms = warm_terms
        self._lock = threading.RLock()
        self._checked = 0.0
        self._retired: Any = None
        self._closed = False
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
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._posting_entries = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._blocks: dict[Any, Any] = {}
        self._stored: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._averages: dict[str, float] = {}
        if self.warm_terms > 0:
            threading.Thread(target=self.warm, args=(self.warm_terms,), daemon=True, name="warm").start()
        if old is not None and old is not searcher:
            # Another thread may still be answering with the old searcher: close it
            # one switch later instead of now.
            if self._retired is not None:
                self._retired.close()
            self._retired = old

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
                # A fresh searcher, not searcher.refresh(): that one shares segment
                # readers with the old searcher, which is closed later.
                self._set(self.current, self.ix, self.ix.searcher())

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the number of documents with ``term`` in ``field`` (cached per generation)."""
        key = (field, term)
        cached = self.doc_freq_cache.get(key)
        if cached is None:
            with self._lock:
                cached = self.doc_freq_cache[key] = int(self.searcher.doc_frequency(field, term))
        return cached

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (docnums, term frequencies) of a term as arrays (LRU-cached per generation)."""
        key = (field, term)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
            found = read_postings(self.searcher.reader(), field, term)
            self._postings[key] = found
            self._posting_entries += found[0].size
            while self._posting_entries > POSTINGS_CACHE_ENTRIES and len(self._postings) > 1:
                _, (ids, _) = self._postings.popitem(last=False)
                self._posting_entries -= ids.size
        return found

    def lengths(self, field: str) -> np.ndarray:
        """Return every document's length (in syllables) of a text field."""
        found = self._lengths.get(field)
        if found is None:
            with self._lock:
                found = self._lengths[field] = read_lengths(self.searcher.reader(), field)
        return found

    def average_length(self, field: str) -> float:
        """Return the mean length of a text field over documents that have it."""
        found = self._averages.get(field)
        if found is None:
            lengths = self.lengths(field)
            present = lengths[lengths > 0]
            found = self._averages[field] = float(present.mean()) if present.size else 1.0
        return found

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` indexed words of ``field`` starting with ``prefix``."""
        words = []
        with self._lock:
            for term in self.searcher.reader().expand_prefix(field, prefix):
                words.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                if len(words) >= limit:
                    break
        return words

    def phrase_docs(self, field: str, words: list[str], candidates: np.ndarray) -> np.ndarray:
        """Return the documents (among ``candidates``) with ``words`` adjacent in ``field``."""
        docnums = np.nonzero(candidates)[0]
        decode = self.searcher.schema[field].format.decode_positions
        lists = []
        for word in words:
            ids, values = self.positions(field, word)
            lists.append((np.searchsorted(ids, docnums), values))
        found = []
        for j, docnum in enumerate(docnums):
            starts: set[int] | None = None
            for offset, (where, values) in enumerate(lists):
                shifted = {p - offset for p in decode(values[where[j]])}
                starts = shifted if starts is None else starts & shifted
                if not starts:
                    break
            if starts:
                found.append(docnum)
        return np.asarray(found, dtype=np.int64)

    def positions_for(self, field: str, term: str, docnums: list[int]) -> dict[int, bytes]:
        """Return the encoded positions of a term in a few documents (reads only their blocks)."""
        with self._lock:
            return positions_in(self.searcher.reader(), field, term, sorted(docnums), self._blocks)

    def positions(self, field: str, term: str) -> tuple[np.ndarray, list[bytes]]:
        """Return a term's docnums and encoded positions (cached like postings)."""
        key = ("positions:" + field, term)
        with self._lock:
            found = self._postings.get(key)
            if found is None:
                found = read_positions(self.searcher.reader(), field, term)
                self._postings[key] = found
                self._posting_entries += 4 * found[0].size
        return found

    def stored(self, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number (the last few are kept: re-ranking and hits read the same)."""
        with self._lock:
            found = self._stored.get(docnum)
            if found is None:
                found = self._stored[docnum] = self.searcher.stored_fields(docnum)
                if len(self._stored) > STORED_CACHE_SIZE:
                    self._stored.popitem(last=False)
            return found

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        with self._lock:
            docnum = self.searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article_view(self.stored(docnum))

    def complete(self, prefix: str, limit: int = 8) -> list[Any]:
        """Return accent-insensitive completions of what is being typed."""
        return self.lexicon.complete(prefix, limit)

    def warm(self, terms: int, fields: tuple[str, ...] = ("title", "summary", "body")) -> int:
        """Read the posting lists of the ``terms`` most frequent words into the cache; return how many.

        A word's first search decodes its whole posting list from Whoosh's blocks
        (most of a cold query's time); the frequent words are worth reading once
        up front. Safe beside requests: each read holds the store's lock.
        """
        generation = self.current
        words = sorted(self.lexicon.words.items(), key=lambda item: -item[1][1])[:terms]
        for done, (folded, _) in enumerate(words):
            with self._lock:
                # Stop when the store closed or moved on to another generation.
                if self._closed or self.current is not generation:
                    return done
                for field in fields:
                    self.postings(field, folded)
        return len(words)

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
        with self._lock:
            self._closed = True
            if self._retired is not None:
                self._retired.close()
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


def open_store(index_dir: Path, refresh_interval: float = 0.5, warm_terms: int = 0) -> Store:
    """Open the live index of ``index_dir`` for searching (raises ``IndexNotReady``).

    With ``warm_terms``, a background thread reads the posting lists of that many
    frequent words after each (re)open.
    """
    return Store(index_dir, refresh_interval, warm_terms)
