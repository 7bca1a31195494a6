"""The read model: per-segment arrays the query path needs, in one file numpy can memory-map.

Whoosh stays the system of record. Beside each Whoosh segment, ``readmodel/<segment
id>.rm`` holds, derived from that segment: every searched field's sorted term
dictionary, its posting lists (document ids and term frequencies), positions,
field lengths, and the sort and facet columns. Serving processes map the file
read-only, so all workers share the same pages through the OS page cache and
nothing is decoded per process or per query.

File layout (little-endian)::

    MAGIC | array | array | ... | directory (JSON) | footer

Arrays start on 64-byte boundaries. The footer holds the directory's offset and
length, the file size and a CRC-32 of everything before it. A file is checked
(size, footer, every array inside the file, optionally the CRC) before it is
mapped: reading past the end of a mapped file kills the process with SIGBUS.
Files are written once under a temporary name and renamed; never changed in place.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import logging
import mmap
import os
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import DTypeLike

from searchsvc import codec
from searchsvc.errors import IndexNotReady
from searchsvc.lexicon import LEXICON_FILE, Lexicon, load_lexicon
from searchsvc.schema import INDEXED_TEXT_FIELDS

log = logging.getLogger(__name__)

FORMAT_VERSION = 5
MAGIC = b"SSRM\x01\r\n\x1a"
FOOTER_MAGIC = b"SSRMEND1"
FOOTER = struct.Struct("<8sQQQI4x")  # magic, directory offset, directory length, file size, crc32
ALIGN = 64
DIRECTORY = "readmodel"
SUFFIX = ".rm"
CRC_CHUNK = 1 << 22

# Fields of the article schema the query path reads, and whether it needs positions.
POSITION_FIELDS = INDEXED_TEXT_FIELDS
TERM_FIELDS = ("author_key", "tag_key", "category_key", "source_key", "id")
LENGTH_FIELDS = INDEXED_TEXT_FIELDS
TEXT_COLUMNS = ("category", "source", "month")
NUMBER_COLUMNS = ("published_ts", "day")


class DamagedReadModel(IndexNotReady):
    """A read-model file is missing, truncated or fails its checks."""


def model_path(index_path: Path, segment_id: str) -> Path:
    """Return where the read model of one segment lives."""
    return Path(index_path) / DIRECTORY / f"{segment_id}{SUFFIX}"


# ---------------------------------------------------------------- writing


class _Writer:
    """Stream arrays into a read-model file, recording where each one lands."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.offset = 0
        self.crc = 0
        self.arrays: dict[str, list[Any]] = {}
        self.write(MAGIC)

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes, keeping the running CRC."""
        self.handle.write(data)
        self.crc = zlib.crc32(data, self.crc)
        self.offset += len(data)

    def pad(self) -> None:
        """Pad to the next array boundary."""
        extra = -self.offset % ALIGN
        if extra:
            self.write(b"\0" * extra)

    def array(self, name: str, values: np.ndarray) -> None:
        """Write one array (made contiguous little-endian) under ``name``."""
        values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
        self.pad()
        self.arrays[name] = [values.dtype.str, int(values.size), self.offset]
        self.write(values.data.cast("B"))

    def finish(self, meta: dict[str, Any]) -> None:
        """Write the directory and the footer."""
        directory = json.dumps(dict(meta, arrays=self.arrays), separators=(",", ":")).encode("utf-8")
        start = self.offset
        self.write(directory)
        size = self.offset + FOOTER.size
        # The CRC covers everything before the footer, the directory included.
        self.handle.write(FOOTER.pack(FOOTER_MAGIC, start, len(directory), size, self.crc))


def _blob(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Return the concatenated bytes of ``items`` and their offsets (len + 1)."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    if items:
        np.cumsum([len(b) for b in items], out=offsets[1:])
    return np.frombuffer(b"".join(items), dtype=np.uint8), offsets


def _positions(deltas: np.ndarray, weights: np.ndarray, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Turn the deltas of consecutive postings into absolute positions and per-posting counts."""
    counts = weights.astype(np.int64)
    if int(counts.sum()) != deltas.size:
        raise DamagedReadModel(f"{path}: position counts do not match term frequencies")
    running = np.cumsum(deltas)
    ends = np.cumsum(counts)
    before = np.zeros(counts.size, dtype=np.int64)
    before[1:] = running[ends[:-1] - 1] if counts.size > 1 else before[1:]
    return running - np.repeat(before, counts), counts


@dataclass
class FieldData:
    """One field of a segment as the read model stores it: terms in byte order and their postings."""

    terms: list[bytes]
    post_offsets: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int32
    weights: np.ndarray  # float32 term frequencies
    term_positions: np.ndarray | None  # int64, len(terms) + 1: where each term's positions start
    positions: np.ndarray | None  # int32, posting after posting

    @classmethod
    def empty(cls, positions: bool) -> FieldData:
        """Return a field no document has."""
        zero = np.zeros(1, dtype=np.int64)
        none = np.zeros(0, dtype=np.int32)
        return cls(
            [], zero, none, none.astype(np.float32), zero if positions else None, none if positions else None
        )


class WhooshSource:
    """An open Whoosh segment reader as the read model reads it."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.doc_count = int(reader.doc_count_all())

    def field_data(self, field: str, positions: bool) -> FieldData:
        """Decode one field's postings (and positions) from the segment's blocks."""
        terms: list[bytes] = []
        docs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        where: list[np.ndarray] = []
        counts: list[int] = []
        for term, ids, tfs, deltas in codec.field_postings(self.reader, field, positions):
            terms.append(term)
            docs.append(ids)
            weights.append(tfs)
            if positions:
                absolute, per_posting = _positions(deltas, tfs, f"{field}:{term!r}")
                where.append(absolute.astype(np.int32))
                counts.append(int(per_posting.sum()))
        post_offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        if terms:
            np.cumsum([d.size for d in docs], out=post_offsets[1:])
        term_positions = None
        if positions:
            term_positions = np.zeros(len(terms) + 1, dtype=np.int64)
            np.cumsum(counts, out=term_positions[1:])
        return FieldData(
            terms,
            post_offsets,
            _concat(docs, np.int32),
            _concat(weights, np.float32),
            term_positions,
            _concat(where, np.int32) if positions else None,
        )

    def field_lengths(self, field: str) -> np.ndarray:
        """Return every document's length of a field, as Whoosh scores it."""
        return codec.field_lengths(self.reader, field)

    def column(self, name: str, default: Any) -> list[Any]:
        """Return a column's value for every document."""
        return codec.column_values(self.reader, name, default)


def _write_field(out: _Writer, source: Any, field: str, positions: bool) -> int:
    """Write one field's term dictionary, postings and positions; return its term count."""
    data: FieldData = source.field_data(field, positions)
    _write_strings(out, f"{field}/terms", data.terms)
    out.array(f"{field}/post_offsets", data.post_offsets)
    out.array(f"{field}/docs", data.docs.astype(np.int32, copy=False))
    out.array(f"{field}/weights", data.weights.astype(np.float32, copy=False))
    if positions:
        # Where each term's positions start; within a term, a posting's positions follow
        # the postings before it (their counts are the term frequencies).
        assert data.term_positions is not None and data.positions is not None
        out.array(f"{field}/term_positions", data.term_positions)
        out.array(f"{field}/positions", data.positions.astype(np.int32, copy=False))
    return len(data.terms)


def _table_size(count: int) -> int:
    """Return the slot count of a term table: a power of two, at most half full."""
    return 1 << max(3, (2 * count).bit_length())


def _hash_table(terms: list[bytes]) -> np.ndarray:
    """Return an open-addressing table: slot (CRC-32 of the term, then linear probing) -> term index + 1."""
    mask = _table_size(len(terms)) - 1
    table = np.zeros(mask + 1, dtype=np.int32)
    for index, term in enumerate(terms):
        slot = zlib.crc32(term) & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = index + 1
    return table


def _write_strings(out: _Writer, name: str, items: list[bytes], table: bool = True) -> None:
    """Write a list of byte strings (blob and offsets), with a hash table for exact lookup."""
    blob, offsets = _blob(items)
    out.array(f"{name}/blob", blob)
    out.array(f"{name}/offsets", offsets)
    if table:
        out.array(f"{name}/table", _hash_table(items))


def _concat(parts: list[np.ndarray], dtype: DTypeLike) -> np.ndarray:
    """Concatenate arrays (an empty array of ``dtype`` when there are none)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _text(value: Any) -> str:
    """Return a column value as text ('' when missing)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


def _write_columns(out: _Writer, source: Any) -> None:
    """Write the sort and facet columns: text as value table plus codes, numbers as arrays."""
    for name in TEXT_COLUMNS:
        values: dict[str, int] = {"": 0}
        raw = source.column(name, "")
        codes = np.fromiter(
            (values.setdefault(_text(v), len(values)) for v in raw), dtype=np.int32, count=len(raw)
        )
        blob, offsets = _blob([v.encode("utf-8") for v in values])
        out.array(f"col/{name}/values", blob)
        out.array(f"col/{name}/value_offsets", offsets)
        out.array(f"col/{name}/codes", codes)
    for name in NUMBER_COLUMNS:
        out.array(f"col/{name}", np.asarray(source.column(name, 0), dtype=np.int64))


@contextlib.contextmanager
def _new_file(path: Path) -> Iterator[_Writer]:
    """Write a read-model file under a temporary name, then rename it into place (or remove it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            yield _Writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_model(source: Any, path: Path, segment_id: str) -> Path:
    """Write the read model of one segment to ``path`` (atomically).

    ``source`` is a ``WhooshSource`` over an open segment reader, or the bulk
    writer's arrays of a segment it has just written (the same four methods).
    """
    fields: dict[str, dict[str, Any]] = {}
    with _new_file(path) as out:
        for field in POSITION_FIELDS + TERM_FIELDS:
            count = _write_field(out, source, field, positions=field in POSITION_FIELDS)
            fields[field] = {"positions": field in POSITION_FIELDS, "terms": count}
        for field in LENGTH_FIELDS:
            out.array(f"{field}/lengths", source.field_lengths(field))
        _write_columns(out, source)
        out.finish(
            {
                "format": FORMAT_VERSION,
                "segment": segment_id,
                "doc_count": source.doc_count,
                "whoosh": codec.whoosh_version(),
                "fields": fields,
            }
        )
    return path


def remove_stale(index_path: Path, keep: set[str]) -> None:
    """Delete read models of segments no longer listed, and leftover temporary files."""
    folder = Path(index_path) / DIRECTORY
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.startswith(".") or (path.suffix == SUFFIX and path.stem not in keep):
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- reading


def _checked_footer(handle: BinaryIO, path: Path) -> tuple[int, int, int, int]:
    """Return (directory offset, length, size, crc) after checking the file's size and footer."""
    size = os.fstat(handle.fileno()).st_size
    if size < len(MAGIC) + FOOTER.size:
        raise DamagedReadModel(f"read model {path.name} is truncated ({size} bytes)")
    handle.seek(0)
    if handle.read(len(MAGIC)) != MAGIC:
        raise DamagedReadModel(f"read model {path.name} has no read-model header")
    handle.seek(size - FOOTER.size)
    magic, start, length, recorded, crc = FOOTER.unpack(handle.read(FOOTER.size))
    if magic != FOOTER_MAGIC or recorded != size or start + length + FOOTER.size != size:
        raise DamagedReadModel(f"read model {path.name} is truncated or damaged (bad footer)")
    return start, length, size, crc


def _checksum(handle: BinaryIO, end: int) -> int:
    """Return the CRC-32 of the first ``end`` bytes of a file."""
    handle.seek(0)
    crc, left = 0, end
    while left > 0:
        chunk = handle.read(min(CRC_CHUNK, left))
        if not chunk:
            break
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    return crc


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: local document ids and term frequencies."""

    docs: np.ndarray
    weights: np.ndarray
    term: int  # the term's index in the field's dictionary (for positions)


class MappedFile:
    """A read-model file, checked (size, footer, optionally its checksum) and then mapped read-only."""

    kind = "read model"

    def __init__(self, path: Path, verify: bool = True) -> None:
        self.path = path
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the with below; missing is its own error
        except FileNotFoundError:
            raise DamagedReadModel(f"{self.kind} {path.name} is missing") from None
        with handle:
            start, length, size, crc = _checked_footer(handle, path)
            if verify and _checksum(handle, size - FOOTER.size) != crc:
                raise DamagedReadModel(f"{self.kind} {path.name} fails its checksum")
            handle.seek(start)
            try:
                self.meta = json.loads(handle.read(length))
            except ValueError:
                raise DamagedReadModel(f"{self.kind} {path.name} has a damaged directory") from None
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._limit = start
        if self.meta.get("format") != FORMAT_VERSION:
            raise DamagedReadModel(f"{self.kind} {path.name} has format {self.meta.get('format')}")

    def array(self, name: str) -> np.ndarray:
        """Return a named array as a read-only view of the map, after checking it lies inside the file."""
        try:
            dtype, count, offset = self.meta["arrays"][name]
        except KeyError:
            raise DamagedReadModel(f"{self.kind} {self.path.name} lacks {name}") from None
        dt = np.dtype(dtype)
        if offset < len(MAGIC) or offset + count * dt.itemsize > self._limit:
            raise DamagedReadModel(f"{self.kind} {self.path.name}: {name} lies outside the file")
        return np.frombuffer(self._map, dtype=dt, count=count, offset=offset)

    def damaged(self, what: str) -> DamagedReadModel:
        """Return the error for a part of this file that does not add up."""
        return DamagedReadModel(f"{self.kind} {self.path.name}: {what} does not add up")


class Strings:
    """A mapped list of byte strings, in order, with an optional hash table for exact lookup."""

    def __init__(self, source: MappedFile, name: str, table: bool = True) -> None:
        self.blob = source.array(f"{name}/blob")
        self.offsets = source.array(f"{name}/offsets")
        self.count = self.offsets.size - 1
        self._starts = self.offsets.data.cast("B").cast("q")
        self._bytes = self.blob.data.cast("B")
        self.table = source.array(f"{name}/table") if table else None
        self._slots = self.table.data.cast("B").cast("i") if self.table is not None else None
        if self.count < 0 or self.offsets[0] != 0 or self.offsets[-1] != self.blob.size:
            raise source.damaged(name)
        if np.any(np.diff(self.offsets) < 0):
            raise source.damaged(name)
        if self.table is not None and (
            self.table.size != _table_size(self.count)
            or (self.count and (self.table.min() < 0 or self.table.max() > self.count))
        ):
            raise source.damaged(f"{name} table")

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> bytes:
        return bytes(self._bytes[self._starts[index] : self._starts[index + 1]])

    def find(self, key: bytes) -> int | None:
        """Return the index of ``key``, or None (hash table lookup)."""
        slots = self._slots
        assert slots is not None
        mask = len(slots) - 1
        slot = zlib.crc32(key) & mask
        # The table is at most half full, so probing ends at an empty slot.
        for _ in range(mask + 1):
            entry = slots[slot]
            if not entry:
                return None
            if self[entry - 1] == key:
                return entry - 1
            slot = (slot + 1) & mask
        return None

    def first_at_least(self, key: bytes) -> int:
        """Return the first index whose string is >= ``key`` (the list is sorted)."""
        return bisect.bisect_left(self, key)


class FieldModel:
    """One field's term dictionary, postings and positions in one segment (views of the map)."""

    def __init__(self, model: SegmentModel, field: str, positions: bool) -> None:
        self.terms = Strings(model, f"{field}/terms")
        self.post_offsets = model.array(f"{field}/post_offsets")
        self.docs = model.array(f"{field}/docs")
        self.weights = model.array(f"{field}/weights")
        self.term_pos = model.array(f"{field}/term_positions") if positions else None
        self.positions = model.array(f"{field}/positions") if positions else None
        self.count = self.terms.count

    def term(self, index: int) -> bytes:
        """Return the term at ``index`` of the sorted dictionary."""
        return self.terms[index]

    def find(self, term: bytes) -> int | None:
        """Return the index of ``term``, or None when this segment lacks it."""
        return self.terms.find(term)

    def postings(self, index: int) -> Postings:
        """Return the postings of the term at ``index``."""
        start, end = int(self.post_offsets[index]), int(self.post_offsets[index + 1])
        return Postings(self.docs[start:end], self.weights[start:end], index)

    def prefixed(self, prefix: bytes, limit: int) -> list[bytes]:
        """Return up to ``limit`` terms starting with ``prefix``, in order."""
        found: list[bytes] = []
        at = self.terms.first_at_least(prefix)
        while at < self.count and len(found) < limit:
            term = self.terms[at]
            if not term.startswith(prefix):
                break
            found.append(term)
            at += 1
        return found


class SegmentModel(MappedFile):
    """An opened, checked read-model file of one segment."""

    def __init__(self, path: Path, verify: bool = True) -> None:
        super().__init__(path, verify)
        self.doc_count = int(self.meta["doc_count"])
        self.fields = {
            name: FieldModel(self, name, info["positions"]) for name, info in self.meta["fields"].items()
        }
        self.lengths = {name: self.array(f"{name}/lengths") for name in LENGTH_FIELDS}
        self.text_columns = {name: self._text_column(name) for name in TEXT_COLUMNS}
        self.number_columns = {name: self.array(f"col/{name}") for name in NUMBER_COLUMNS}
        self._check_sizes()

    def _text_column(self, name: str) -> tuple[tuple[str, ...], np.ndarray]:
        """Return a text column's distinct values and per-document codes."""
        blob = self.array(f"col/{name}/values").tobytes()
        offsets = self.array(f"col/{name}/value_offsets").tolist()
        values = tuple(blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets))
        return values, self.array(f"col/{name}/codes")

    def _check_sizes(self) -> None:
        """Check that offsets stay inside their arrays, so no lookup can read past the map."""
        for name, field in self.fields.items():
            posts = field.docs.size
            if field.post_offsets.size != field.count + 1 or (
                field.count and field.post_offsets[-1] != posts
            ):
                raise DamagedReadModel(f"read model {self.path.name}: {name} postings do not add up")
            if field.weights.size != posts:
                raise DamagedReadModel(f"read model {self.path.name}: {name} terms do not add up")
            if (
                field.term_pos is not None
                and field.positions is not None
                and (
                    field.term_pos.size != field.count + 1
                    or field.term_pos[-1] != field.positions.size
                    or field.term_pos[-1] != field.weights.sum(dtype=np.float64)
                )
            ):
                raise DamagedReadModel(f"read model {self.path.name}: {name} positions do not add up")
            if posts and (field.docs.min() < 0 or field.docs.max() >= self.doc_count):
                raise DamagedReadModel(f"read model {self.path.name}: {name} names unknown documents")
        for name, lengths in self.lengths.items():
            if lengths.size != self.doc_count:
                raise DamagedReadModel(f"read model {self.path.name}: {name} lengths do not add up")
        for name, (values, codes) in self.text_columns.items():
            if codes.size != self.doc_count or (codes.size and codes.max() >= len(values)):
                raise DamagedReadModel(f"read model {self.path.name}: column {name} does not add up")

    def term_positions(
        self, field: str, postings: Postings, picks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (pick index, position) pairs for some postings (``picks``, ascending) of one term."""
        model = self.fields[field]
        assert model.term_pos is not None and model.positions is not None
        wanted = postings.weights[picks].astype(np.int64)
        ends = np.cumsum(postings.weights, dtype=np.int64)
        starts = int(model.term_pos[postings.term]) + ends[picks] - wanted
        owner = np.repeat(np.arange(picks.size), wanted)
        # Index of every position: its posting's start plus its rank within the posting.
        ranks = np.arange(int(wanted.sum())) - np.repeat(np.cumsum(wanted) - wanted, wanted)
        return owner, model.positions[np.repeat(starts, wanted) + ranks].astype(np.int64)


def open_model(path: Path, verify: bool = True) -> SegmentModel:
    """Open and check a segment's read model (raises ``DamagedReadModel``)."""
    return SegmentModel(path, verify)


def iter_models(index_path: Path) -> Iterator[Path]:
    """Yield the read-model files of an index generation."""
    folder = Path(index_path) / DIRECTORY
    if folder.is_dir():
        yield from sorted(folder.glob(f"*{SUFFIX}"))


# ---------------------------------------------------------------- the lexicon, mapped

LEXICON_MODEL = "lexicon.rm"
# An older index may hold lone surrogates; they round-trip, and the front ends escape them.
TEXT_ERRORS = "surrogatepass"


def write_lexicon_model(lexicon: Lexicon, directory: Path) -> Path:
    """Write a lexicon as a mapped file beside a generation (atomically); return its path."""
    path = Path(directory) / LEXICON_MODEL
    with _new_file(path) as out:
        for name in ("words", "pairs"):
            table: Mapping[str, tuple[str, int]] = getattr(lexicon, name)
            keys = sorted(table, key=lambda k: k.encode("utf-8", TEXT_ERRORS))
            _write_strings(out, f"{name}/keys", [k.encode("utf-8", TEXT_ERRORS) for k in keys])
            forms = [table[k][0].encode("utf-8", TEXT_ERRORS) for k in keys]
            _write_strings(out, f"{name}/forms", forms, table=False)
            out.array(f"{name}/counts", np.asarray([table[k][1] for k in keys], dtype=np.int64))
        _write_strings(
            out, "entries/keys", [k.encode("utf-8", TEXT_ERRORS) for k in lexicon.keys], table=False
        )
        displays = [d.encode("utf-8", TEXT_ERRORS) for d, _ in lexicon.entries]
        _write_strings(out, "entries/displays", displays, table=False)
        out.array("entries/counts", np.asarray([c for _, c in lexicon.entries], dtype=np.int64))
        prefixes = sorted(lexicon.short, key=lambda k: k.encode("utf-8", TEXT_ERRORS))
        _write_strings(out, "short/keys", [k.encode("utf-8", TEXT_ERRORS) for k in prefixes])
        lists = [np.asarray(lexicon.short[k], dtype=np.int32) for k in prefixes]
        bounds = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([x.size for x in lists], out=bounds[1:])
        out.array("short/bounds", bounds)
        out.array("short/items", _concat(lists, np.int32))
        out.finish({"format": FORMAT_VERSION, "kind": "lexicon"})
    return path


class _Texts(Sequence[str]):
    """Mapped byte strings read as text."""

    def __init__(self, strings: Strings) -> None:
        self.strings = strings

    def __len__(self) -> int:
        return self.strings.count

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self.strings[index].decode("utf-8", TEXT_ERRORS)


class _FormsAndCounts:
    """A mapped ``key -> (written form, count)`` table (the lexicon's words and pairs)."""

    def __init__(self, source: MappedFile, name: str) -> None:
        self.keys = Strings(source, f"{name}/keys")
        self.forms = Strings(source, f"{name}/forms", table=False)
        self.counts = source.array(f"{name}/counts")
        if not self.keys.count == self.forms.count == self.counts.size:
            raise source.damaged(name)

    def __len__(self) -> int:
        return self.keys.count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.keys.find(key.encode("utf-8", TEXT_ERRORS)) is not None

    def get(self, key: str, default: Any = None) -> Any:
        """Return (form, count) of ``key``, or ``default``."""
        index = self.keys.find(key.encode("utf-8", TEXT_ERRORS))
        if index is None:
            return default
        return self.forms[index].decode("utf-8", TEXT_ERRORS), int(self.counts[index])


class _Entries(Sequence[tuple[str, int]]):
    """The mapped autocomplete entries: (display text, count)."""

    def __init__(self, source: MappedFile) -> None:
        self.displays = Strings(source, "entries/displays", table=False)
        self.counts = source.array("entries/counts")
        if self.displays.count != self.counts.size:
            raise source.damaged("entries")

    def __len__(self) -> int:
        return self.displays.count

    def __getitem__(self, index: int) -> tuple[str, int]:  # type: ignore[override]
        return self.displays[index].decode("utf-8", TEXT_ERRORS), int(self.counts[index])


class _PrefixLists:
    """The mapped ``short prefix -> best entry indexes`` table."""

    def __init__(self, source: MappedFile, entries: int) -> None:
        self.keys = Strings(source, "short/keys")
        self.bounds = source.array("short/bounds")
        self.items = source.array("short/items")
        if (
            self.bounds.size != self.keys.count + 1
            or self.bounds[-1] != self.items.size
            or (self.items.size and (self.items.min() < 0 or self.items.max() >= entries))
        ):
            raise source.damaged("short")

    def get(self, key: str, default: Any = None) -> Any:
        """Return the entry indexes listed for ``key``, or ``default``."""
        index = self.keys.find(key.encode("utf-8", TEXT_ERRORS))
        if index is None:
            return default
        return self.items[self.bounds[index] : self.bounds[index + 1]].tolist()


class LexiconModel(MappedFile):
    """A mapped lexicon file."""

    kind = "lexicon"

    def lexicon(self) -> Lexicon:
        """Return a ``Lexicon`` whose tables read the map (nothing is copied into the process)."""
        keys = _Texts(Strings(self, "entries/keys", table=False))
        entries = _Entries(self)
        if len(keys) != len(entries):
            raise self.damaged("entries")
        return Lexicon(
            words=_FormsAndCounts(self, "words"),  # type: ignore[arg-type]
            pairs=_FormsAndCounts(self, "pairs"),  # type: ignore[arg-type]
            keys=keys,  # type: ignore[arg-type]
            entries=entries,  # type: ignore[arg-type]
            short=_PrefixLists(self, len(entries)),  # type: ignore[arg-type]
        )


def open_lexicon(directory: Path, verify: bool = True) -> Lexicon:
    """Map a generation's lexicon; a missing or damaged map is written again from ``lexicon.pickle``."""
    path = Path(directory) / LEXICON_MODEL
    try:
        return LexiconModel(path, verify).lexicon()
    except DamagedReadModel as exc:
        if not (Path(directory) / LEXICON_FILE).exists():
            return Lexicon()
        log.warning("%s: writing it again from %s", exc, LEXICON_FILE)
        source = load_lexicon(Path(directory))
    try:
        return LexiconModel(write_lexicon_model(source, directory), verify).lexicon()
    except OSError:
        return source  # a read-only index: serve the unpickled lexicon from this process
