"""The read side of the index: the live generation's segments, mapped read models and columns.

A ``Store`` is opened once per process. Each Whoosh segment of the live
generation comes with a read model (``readmodel.py``) that the store maps
read-only: posting lists, positions and field lengths are read straight from
pages every worker shares, so nothing is decoded or cached per process.
Whoosh itself is only asked for stored fields (the hits' text).

``refresh`` (called before each request, at most every ``refresh_interval``
seconds) notices a new generation (``searchsvc reindex``) or a new TOC of the
live one (``searchsvc index add/delete``). It builds the new state completely,
mapping only segments it does not hold yet, and swaps it in one step; the
calling thread then answers from that state until its next ``refresh``, so a
request never sees two states.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from searchsvc import codec
from searchsvc.errors import IndexNotReady, NotFound
from searchsvc.generations import CURRENT, DAMAGE, Generation, current_generation, damaged, directory_size
from searchsvc.lexicon import Completion, Lexicon, with_additions
from searchsvc.readmodel import (
    LENGTH_FIELDS,
    DamagedReadModel,
    Postings,
    SegmentModel,
    WhooshSource,
    model_path,
    open_lexicon,
    open_model,
    write_model,
)

log = logging.getLogger(__name__)

# Stored documents kept per process: about 1 MB of text (bodies are capped at ingest).
STORED_CACHE_CHARS = 500_000
# Answers kept per state: the head of the query log repeats all day (an answer is about 30 KB).
RESPONSE_CACHE_ENTRIES = 512


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


@dataclass(frozen=True)
class Part:
    """One segment as a serving process holds it: its read model, Whoosh reader and place."""

    info: codec.SegmentInfo
    model: SegmentModel
    reader: SegmentReader  # for stored fields only
    offset: int  # docnum of the segment's first document in the whole index

    @property
    def end(self) -> int:
        """Return one past the segment's last document number."""
        return self.offset + self.info.doc_count


@dataclass(frozen=True)
class State:
    """Everything one generation's TOC serves; built whole, then swapped in."""

    generation: Generation
    toc: int
    parts: tuple[Part, ...]
    columns: Columns
    lengths: dict[str, np.ndarray]
    averages: dict[str, float]
    doc_count: int
    lexicon: Lexicon  # the generation's lexicon with the additions of `index add` up to this TOC
    base_lexicon: Lexicon  # the generation's lexicon as `reindex` wrote it
    norms: dict[tuple[str, float, float], np.ndarray]  # BM25 length norms, filled on first use
    # Recent answers of this state (a new state starts empty); keyed and typed by search,
    # a layer above.
    responses: OrderedDict[Hashable, object]


def _merged_column(parts: tuple[Part, ...], name: str, key: Any = None) -> Column:
    """Concatenate one text column of every segment, re-coding values to one global table."""
    table: dict[str, int] = {"": 0}
    pieces = []
    for part in parts:
        values, codes = part.model.text_columns[name]
        mapping = np.asarray(
            [table.setdefault(key(v) if key else v, len(table)) if v else 0 for v in values], dtype=np.int32
        )
        pieces.append(mapping[codes] if codes.size else np.zeros(0, dtype=np.int32))
    codes = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    return Column(codes, tuple(table))


def _live_mask(parts: tuple[Part, ...], total: int) -> np.ndarray:
    """Return False for deleted documents."""
    live = np.ones(total, dtype=bool)
    for part in parts:
        if part.info.deleted:
            live[part.offset + np.fromiter(part.info.deleted, dtype=np.int64)] = False
    return live


def _build_columns(parts: tuple[Part, ...], total: int) -> Columns:
    """Build the per-document columns of the whole index from its segments."""

    def numbers(name: str) -> np.ndarray:
        arrays = [p.model.number_columns[name] for p in parts]
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

    return Columns(
        category=_merged_column(parts, "category"),
        source=_merged_column(parts, "source"),
        month=_merged_column(parts, "month"),
        year=_merged_column(parts, "month", key=lambda month: month[:4]),
        published_ts=numbers("published_ts"),
        day=numbers("day"),
        live=_live_mask(parts, total),
    )


def _lengths(parts: tuple[Part, ...]) -> dict[str, np.ndarray]:
    """Concatenate each field's document lengths (float64, as BM25 computes with them)."""
    return {
        field: np.concatenate([p.model.lengths[field] for p in parts]).astype(np.float64)
        if parts
        else np.zeros(0, dtype=np.float64)
        for field in LENGTH_FIELDS
    }


def _average(lengths: np.ndarray) -> float:
    """Return the mean length over documents that have the field (1.0 when none has)."""
    present = lengths[lengths > 0]
    return float(present.mean()) if present.size else 1.0


def _chars(fields: dict[str, Any]) -> int:
    """Return about how many characters a stored document holds (its text fields)."""
    return sum(len(v) for v in fields.values() if isinstance(v, str)) + 64


def _load_lexicon(generation: Generation) -> Lexicon:
    """Load a generation's lexicon, reporting a damaged one as ``IndexNotReady``."""
    with damaged(f"the lexicon of index generation {generation.name}"):
        return open_lexicon(generation.path)


def _with_additions(base: Lexicon, generation: Generation, toc: int) -> Lexicon:
    """Return the lexicon with the words of articles added since the build (the base alone if they are damaged)."""
    try:
        return with_additions(base, generation.path, toc)
    except DAMAGE as exc:
        # Suggestions only: searching goes on with the generation's own lexicon.
        log.warning("lexicon additions of %s unreadable (%s): serving its base lexicon", generation.name, exc)
        return base


class Store:
    """The live index generation of one index directory, ready to search.

    Read models are shared memory maps, safe to read from any thread; Whoosh's
    segment readers seek shared file objects, so stored-field reads and state
    changes hold the store's lock.
    """

    def __init__(self, index_dir: Path, refresh_interval: float = 0.25) -> None:
        codec.check_supported()
        self.index_dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self._lock = threading.RLock()
        self._local = threading.local()
        self._checked = 0.0
        self._retired: list[Part] = []
        self.problem: str | None = None  # why a newer generation or TOC is not being served
        self._stored: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._stored_chars = 0
        self._state = self._build(current_generation(self.index_dir), None)

    # ------------------------------------------------------------ state

    def _build(self, generation: Generation, previous: State | None) -> State:
        """Open ``generation``'s newest TOC, reusing the segments ``previous`` already maps."""
        storage = codec.open_storage(str(generation.path))
        with damaged(f"index generation {generation.name}", "cannot be opened"):
            toc = codec.toc_generation(storage)
            if toc < 0:
                raise IndexNotReady(
                    f"index generation {generation.name} has no Whoosh index; run `searchsvc reindex`"
                )
            schema, infos = codec.read_segments(storage, toc)
        same = previous is not None and previous.generation.path == generation.path
        held = {p.info.segment_id: p for p in previous.parts} if same and previous else {}
        parts: list[Part] = []
        opened: list[Part] = []
        offset = 0
        try:
            for info in infos:
                old = held.get(info.segment_id)
                if old is not None:
                    parts.append(Part(info, old.model, old.reader, offset))
                else:
                    opened.append(self._open_part(generation, storage, schema, info, offset))
                    parts.append(opened[-1])
                offset += info.doc_count
            frozen = tuple(parts)
            lengths = _lengths(frozen)
            columns = _build_columns(frozen, offset)
            base_lexicon = previous.base_lexicon if same and previous else _load_lexicon(generation)
            lexicon = _with_additions(base_lexicon, generation, toc)
        except BaseException:
            # A state that is not built is never served: close what it opened.
            for part in opened:
                part.reader.close()
            raise
        return State(
            generation=generation,
            toc=toc,
            parts=frozen,
            columns=columns,
            lengths=lengths,
            averages={field: _average(values) for field, values in lengths.items()},
            doc_count=int(columns.live.sum()),
            lexicon=lexicon,
            base_lexicon=base_lexicon,
            norms={},
            responses=OrderedDict(),
        )

    def _open_part(
        self,
        generation: Generation,
        storage: FileStorage,
        schema: Schema,
        info: codec.SegmentInfo,
        offset: int,
    ) -> Part:
        """Open one segment: map its read model (rebuilding a missing or damaged one) and its reader."""
        what = f"segment {info.segment_id} of index generation {generation.name}"
        with damaged(what):
            reader = codec.open_segment(storage, schema, info.segment)
        try:
            with damaged(what):  # rebuilding a lost read model reads the whole segment
                return Part(info, self._segment_model(generation, info, reader), reader, offset)
        except BaseException:
            reader.close()
            raise

    def _segment_model(
        self, generation: Generation, info: codec.SegmentInfo, reader: SegmentReader
    ) -> SegmentModel:
        """Map a segment's read model, rebuilding a missing, damaged or mismatched one."""
        path = model_path(generation.path, info.segment_id)
        try:
            model = open_model(path)
        except DamagedReadModel as exc:
            log.warning("%s: rebuilding it from its Whoosh segment", exc)
            model = self._rebuild_model(reader, path, info.segment_id)
        if model.doc_count != info.doc_count:
            log.warning("read model %s does not match its segment: rebuilding it", path.name)
            model = self._rebuild_model(reader, path, info.segment_id)
        return model

    def _rebuild_model(self, reader: SegmentReader, path: Path, segment_id: str) -> SegmentModel:
        """Write a segment's read model again from Whoosh (in a temporary folder when the index is read-only)."""
        try:
            return open_model(write_model(WhooshSource(reader), path, segment_id))
        except OSError:
            folder = Path(tempfile.mkdtemp(prefix="searchsvc-readmodel-"))
            return open_model(write_model(WhooshSource(reader), folder / path.name, segment_id))

    @property
    def state(self) -> State:
        """Return the state this thread answers from (pinned by its last ``refresh``)."""
        return getattr(self._local, "state", None) or self._state

    @property
    def current(self) -> Generation:
        """Return the live generation."""
        return self.state.generation

    @property
    def generation(self) -> str:
        """Return the live generation's name."""
        return self.state.generation.name

    @property
    def columns(self) -> Columns:
        """Return the per-document columns."""
        return self.state.columns

    @property
    def lexicon(self) -> Lexicon:
        """Return the generation's lexicon (suggestions, completions)."""
        return self.state.lexicon

    @property
    def doc_count(self) -> int:
        """Return the number of searchable documents."""
        return self.state.doc_count

    def health(self) -> dict[str, Any]:
        """Return what this process serves: ok, or degraded with the reason (no server paths)."""
        state = self.state
        report: dict[str, Any] = {
            "status": "degraded" if self.problem else "ok",
            "generation": state.generation.name,
            "documents": state.doc_count,
            "segments": len(state.parts),
        }
        if self.problem:
            report["problem"] = self.problem
        return report

    def refresh(self, force: bool = False) -> None:
        """Swap in a new generation or TOC when there is one, and pin the live state for this thread."""
        now = time.monotonic()
        if force or now - self._checked >= self.refresh_interval:
            with self._lock:
                self._checked = now
                self._swap_if_changed()
        self._local.state = self._state

    def _swap_if_changed(self) -> None:
        """Build and install the new state when CURRENT or the live TOC moved on.

        A new state that cannot be built (a damaged or missing generation) is not
        installed: the old one keeps serving and ``problem`` says why.
        """
        state = self._state
        try:
            name = (self.index_dir / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return  # keep serving what we have; the pointer is replaced atomically
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = f"the {CURRENT} pointer cannot be read ({type(exc).__name__}); still serving {state.generation.name}"
            return
        try:
            if name != state.generation.name:
                fresh = self._build(current_generation(self.index_dir), state)
            else:
                toc = codec.toc_generation(codec.open_storage(str(state.generation.path)))
                if toc == state.toc:
                    self.problem = None
                    return
                fresh = self._build(state.generation, state)
        except (IndexNotReady, OSError) as exc:
            if self.problem is None:
                log.error("keeping generation %s: %s", state.generation.name, exc)
            self.problem = f"index generation {name} cannot be served ({type(exc).__name__}); still serving {state.generation.name}"
            return
        self.problem = None
        kept = {id(p.reader) for p in fresh.parts}
        # Threads may still answer from the old state: close its readers one swap later.
        for part in self._retired:
            part.reader.close()
        self._retired = [p for p in state.parts if id(p.reader) not in kept]
        self._state = fresh

    # ------------------------------------------------------------ postings

    def _postings(self, field: str, term: str) -> list[tuple[Part, Postings]]:
        """Return each segment's postings of a term (segments without it left out)."""
        key = term.encode("utf-8")
        found: list[tuple[Part, Postings]] = []
        for part in self.state.parts:
            model = part.model.fields.get(field)
            if model is None:
                continue
            index = model.find(key)
            if index is not None:
                found.append((part, model.postings(index)))
        return found

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (docnums, term frequencies) of a term over the whole index (views where possible)."""
        found = self._postings(field, term)
        if not found:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if len(found) == 1 and found[0][0].offset == 0:
            return found[0][1].docs, found[0][1].weights
        docs = np.concatenate([p.docs + np.int32(part.offset) for part, p in found])
        return docs, np.concatenate([p.weights for _, p in found])

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the number of documents with ``term`` in ``field`` (deleted ones included, as Whoosh)."""
        return sum(p.docs.size for _, p in self._postings(field, term))

    def cached_response(self, key: Hashable) -> object | None:
        """Return the answer this state gave to the same request and settings, or None."""
        responses = self.state.responses
        with self._lock:
            found = responses.get(key)
            if found is not None:
                responses.move_to_end(key)
            return found

    def remember_response(self, key: Hashable, response: object) -> None:
        """Keep an answer for the same request and settings (at most ``RESPONSE_CACHE_ENTRIES``)."""
        responses = self.state.responses
        with self._lock:
            responses[key] = response
            while len(responses) > RESPONSE_CACHE_ENTRIES:
                responses.popitem(last=False)

    def length_norm(self, field: str, k1: float, b: float) -> np.ndarray:
        """Return BM25's per-document length normalisation ``k1 * (1 - b + b * len / avg)`` of a field."""
        state = self.state
        key = (field, k1, b)
        found = state.norms.get(key)
        if found is None:
            found = state.norms[key] = k1 * ((1.0 - b) + b * state.lengths[field] / state.averages[field])
        return found

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` indexed words of ``field`` starting with ``prefix``, in order."""
        key = prefix.encode("utf-8")
        words: set[bytes] = set()
        for part in self.state.parts:
            model = part.model.fields.get(field)
            if model is not None:
                words.update(model.prefixed(key, limit))
        return [w.decode("utf-8") for w in sorted(words)[:limit]]

    def term_positions(self, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (index into ``docnums``, position) for every occurrence of a term in those documents.

        ``docnums`` must be sorted and unique; only their postings' positions are read.
        """
        owners: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        for part, post in self._postings(field, term):
            if part.offset == 0 and (not docnums.size or docnums[-1] < part.end):
                inside, local = np.arange(docnums.size), docnums  # the common case: one segment
            else:
                inside = np.nonzero((docnums >= part.offset) & (docnums < part.end))[0]
                local = docnums[inside] - part.offset
            if not inside.size or not post.docs.size:
                continue
            at = np.searchsorted(post.docs, local)
            hit = at < post.docs.size
            hit[hit] = post.docs[at[hit]] == local[hit]
            if not hit.any():
                continue
            owner, where = part.model.term_positions(field, post, at[hit])
            owners.append(inside[hit][owner])
            positions.append(where)
        if not owners:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(owners), np.concatenate(positions)

    def phrase_docs(self, field: str, words: list[str], candidates: np.ndarray) -> np.ndarray:
        """Return the documents (among ``candidates``) with ``words`` adjacent, in order, in ``field``."""
        docnums = np.nonzero(candidates)[0].astype(np.int64)
        starts: np.ndarray | None = None
        for offset, word in enumerate(words):
            owner, where = self.term_positions(field, word, docnums)
            keep = where >= offset
            # One key per (document, phrase start): the word's position minus its place in the phrase.
            keys = np.unique((owner[keep] << 32) | (where[keep] - offset))
            starts = keys if starts is None else np.intersect1d(starts, keys, assume_unique=True)
            if not starts.size:
                return np.zeros(0, dtype=np.int64)
        if starts is None:
            return np.zeros(0, dtype=np.int64)
        return docnums[np.unique(starts >> 32)]

    # ------------------------------------------------------------ documents

    def _part_of(self, docnum: int) -> Part:
        """Return the segment holding a document number."""
        for part in self.state.parts:
            if part.offset <= docnum < part.end:
                return part
        raise NotFound(f"no document number {docnum}")

    def stored(self, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number.

        The last few documents read are kept (at most ``STORED_CACHE_CHARS`` characters):
        re-ranking reads the best matches' bodies and the hits then read most of them again.
        """
        part = self._part_of(docnum)
        key = (part.info.segment_id, docnum - part.offset)
        with self._lock:
            found = self._stored.get(key)
            if found is not None:
                self._stored.move_to_end(key)
                return found
            with damaged(f"stored fields of segment {part.info.segment_id}", "cannot be read"):
                found = part.reader.stored_fields(docnum - part.offset)
            self._stored[key] = found
            self._stored_chars += _chars(found)
            while self._stored_chars > STORED_CACHE_CHARS and len(self._stored) > 1:
                _, dropped = self._stored.popitem(last=False)
                self._stored_chars -= _chars(dropped)
            return found

    def document_number(self, article_id: str) -> int | None:
        """Return the live document number of an article id, or None."""
        live = self.state.columns.live
        for part, post in reversed(self._postings("id", article_id)):
            for local in post.docs[::-1]:
                docnum = part.offset + int(local)
                if live[docnum]:
                    return docnum
        return None

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        docnum = self.document_number(article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article_view(self.stored(docnum))

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return accent-insensitive completions of what is being typed."""
        return self.lexicon.complete(prefix, limit)

    def stats(self) -> dict[str, Any]:
        """Return documents, generation, size and per-category/source counts and date range."""
        state = self.state
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the segment readers' files."""
        with self._lock:
            for part in self._retired + list(self._state.parts):
                part.reader.close()
            self._retired = []


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


def open_store(index_dir: Path, refresh_interval: float = 0.25) -> Store:
    """Open the live index of ``index_dir`` for searching (raises ``IndexNotReady``)."""
    return Store(index_dir, refresh_interval)
