"""Every use of Whoosh's private internals, in one place, checked when an index is opened.

The read model (``readmodel.py``) is derived from Whoosh segments: it reads each
term's posting blocks (the W3 codec's block layout), the segment list with its
deletions (the TOC), and hooks the writer's commit so a segment's read model is
written before the segment becomes visible. None of that is public Whoosh API;
``check_supported`` verifies each attribute up front and names the supported
version instead of failing half-way through a request.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.codec.base import Segment
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.reading import SegmentReader
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length
from whoosh.writing import MERGE_SMALL, IndexWriter, SegmentWriter

from searchsvc.errors import IndexNotReady

SUPPORTED_WHOOSH = "whoosh3 3.54.0"
INDEX_NAME = "MAIN"
POSITION_PREFIX = 4  # Positions values start with a packed count, then a pickled delta list
POSITION_PREFIX_BYTES = b"\x80\x02]q\x00"  # protocol 2: PROTO, EMPTY_LIST, BINPUT 0
_PRIVATE = (
    (whoosh3, "W3LeafMatcher"),
    (whoosh3.W3LeafMatcher, "_read_data"),
    (whoosh3.W3LeafMatcher, "_read_values"),
    (whoosh3.W3LeafMatcher, "_next_block"),
    (SegmentWriter, "_commit_toc"),
    (whoosh_index.TOC, "read"),
    (whoosh_index.TOC, "_latest_generation"),
)


class UnsupportedWhoosh(IndexNotReady):
    """The installed Whoosh lacks an internal the read model relies on."""


@dataclass(frozen=True)
class SegmentInfo:
    """One Whoosh segment as the TOC lists it."""

    segment_id: str
    doc_count: int
    deleted: frozenset[int]
    segment: Segment  # the Whoosh segment object, for opening its reader


def whoosh_version() -> str:
    """Return the installed Whoosh distribution and version."""
    for name in ("whoosh3", "whoosh", "Whoosh"):
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return "whoosh (unknown version)"


def check_supported() -> None:
    """Raise ``UnsupportedWhoosh`` when an internal the read model uses is missing."""
    for owner, name in _PRIVATE:
        if not hasattr(owner, name):
            raise UnsupportedWhoosh(
                f"the installed {whoosh_version()} has no {getattr(owner, '__name__', owner)}.{name}; "
                f"searchsvc supports {SUPPORTED_WHOOSH} (pip install 'whoosh3==3.54.0')"
            )


def open_storage(path: str, mmap: bool = False) -> FileStorage:
    """Open an index directory; without mmap (serving) a truncated file raises instead of SIGBUS.

    Only a writer reading the segments it has just written maps them (faster).
    """
    return FileStorage(path, supports_mmap=mmap)


def toc_generation(storage: FileStorage) -> int:
    """Return the newest TOC generation number in ``storage`` (-1 when there is none)."""
    return int(whoosh_index.TOC._latest_generation(storage, INDEX_NAME))


def _info(segment: Segment) -> SegmentInfo:
    """Describe one Whoosh segment."""
    return SegmentInfo(
        segment.segment_id(), segment.doc_count_all(), frozenset(segment.deleted_docs()), segment
    )


def read_segments(storage: FileStorage, generation: int) -> tuple[Schema, list[SegmentInfo]]:
    """Return the schema and the segments (with deletions) of one TOC generation."""
    toc = whoosh_index.TOC.read(storage, INDEX_NAME, gen=generation)
    return toc.schema, [_info(seg) for seg in toc.segments]


def latest_segments(storage: FileStorage) -> list[SegmentInfo]:
    """Return the segments the newest TOC lists."""
    return read_segments(storage, toc_generation(storage))[1]


def writer_segments(writer: SegmentWriter) -> list[SegmentInfo]:
    """Return the committed segments a writer works on, in document-number order."""
    return [_info(seg) for seg in writer.segments]


def check_segment_files(storage: FileStorage, segment: Segment) -> None:
    """Raise ``OSError``/``EOFError`` when a segment's file is missing or cut short.

    A compound segment writes its directory last, at the end of its file: a
    truncated file loses it, so reading the directory finds the damage.
    """
    if segment.is_compound():
        segment.open_compound_file(storage).close()


def remove_unlisted_segments(storage: FileStorage) -> list[SegmentInfo]:
    """Delete the files of segments that the newest TOC does not list (Whoosh's own clean-up); return those it lists."""
    generation = toc_generation(storage)
    _, infos = read_segments(storage, generation)
    whoosh_index.clean_files(storage, INDEX_NAME, generation, [info.segment for info in infos])
    return infos


def open_segment(storage: FileStorage, schema: Schema, segment: Segment) -> SegmentReader:
    """Open a reader over one segment (stored fields, terms, columns)."""
    return SegmentReader(storage, schema, segment)


def _block_ids(matcher: Any) -> np.ndarray:
    """Decode the current block's document ids (delta-coded unless stored as bytes)."""
    ids = np.asarray(matcher._data[0], dtype=np.int64)
    return ids if matcher._byteids else np.cumsum(ids)


def _block_weights(matcher: Any, size: int) -> np.ndarray:
    """Decode the current block's weights (None means all 1.0, a float means all equal)."""
    raw = matcher._data[1]
    if raw is None:
        return np.ones(size, dtype=np.float32)
    if isinstance(raw, float):
        return np.full(size, raw, dtype=np.float32)
    return np.asarray(raw, dtype=np.float32)


def _decode_positions(values: list[bytes]) -> list[int]:
    """Return the position deltas of several Positions-format values, one flat list.

    Each value is a packed count and a protocol-2 pickle of a list of ints. Their
    bodies (the append opcodes) are spliced into one pickle, so a whole block is
    unpickled in one call instead of one call per posting.
    """
    header = len(POSITION_PREFIX_BYTES) + POSITION_PREFIX
    if all(v[POSITION_PREFIX:header] == POSITION_PREFIX_BYTES and v[-1:] == b"." for v in values):
        spliced: list[int] = pickle.loads(
            b"".join([POSITION_PREFIX_BYTES, *(v[header:-1] for v in values), b"."])
        )
        return spliced
    return [d for v in values for d in pickle.loads(v[POSITION_PREFIX:])]


def _read_blocks(
    matcher: Any, positions: bool, ids: list[np.ndarray], weights: list[np.ndarray], deltas: list[int]
) -> None:
    """Decode every W3 block of a matcher into ``ids``, ``weights`` and ``deltas``."""
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        block_ids = _block_ids(matcher)
        ids.append(block_ids)
        weights.append(_block_weights(matcher, block_ids.size))
        if positions:
            matcher._read_values()
            deltas.extend(_decode_positions(matcher._values))
        matcher._next_block()


def _matcher_postings(matcher: Any, positions: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a matcher's ids, weights and (if asked) all position deltas, posting after posting.

    For a positions field a posting's weight is its number of positions.
    """
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    deltas: list[int] = []
    if isinstance(matcher, whoosh3.W3LeafMatcher):
        try:
            _read_blocks(matcher, positions, ids, weights, deltas)
        except AttributeError as exc:
            raise UnsupportedWhoosh(
                f"the installed {whoosh_version()} reads posting blocks differently ({exc}); "
                f"searchsvc supports {SUPPORTED_WHOOSH}"
            ) from None
    else:
        # Inlined short lists: the public per-posting path.
        one: list[int] = []
        w: list[float] = []
        while matcher.is_active():
            one.append(matcher.id())
            w.append(matcher.weight())
            if positions:
                deltas.extend(_decode_positions([matcher.value()]))
            matcher.next()
        ids.append(np.asarray(one, dtype=np.int64))
        weights.append(np.asarray(w, dtype=np.float32))
    flat = np.asarray(deltas, dtype=np.int64)
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), flat
    return np.concatenate(ids).astype(np.int32), np.concatenate(weights), flat


def field_postings(
    reader: SegmentReader, field: str, positions: bool
) -> Iterator[tuple[bytes, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (term, local ids, weights, position deltas) for every term of a field, in byte order.

    Walks the segment's ordered term table once instead of looking each term up.
    """
    if field not in reader.schema:
        return
    try:
        terms = reader._terms
        postfile, make_matcher = terms._postfile, terms._codec.postings_reader
    except AttributeError as exc:
        raise UnsupportedWhoosh(
            f"the installed {whoosh_version()} has no segment term table ({exc}); searchsvc supports {SUPPORTED_WHOOSH}"
        ) from None
    fmt = reader.schema[field].format
    for (name, term), info in terms.items_from(field, b""):
        if name != field:
            break
        yield (term, *_matcher_postings(make_matcher(postfile, info, fmt), positions))


def field_lengths(reader: SegmentReader, field: str) -> np.ndarray:
    """Return every document's length of a scorable field, as Whoosh scores it."""
    count = reader.doc_count_all()
    if field not in reader.schema or not reader.schema[field].scorable:
        return np.zeros(count, dtype=np.float32)
    dfl = reader.doc_field_length
    # Whoosh reads a document without the field as None (its length byte is 0): say 0.
    return np.fromiter((dfl(d, field, 0) or 0 for d in range(count)), dtype=np.float32, count=count)


def column_values(reader: SegmentReader, name: str, default: Any) -> list[Any]:
    """Return a column's value for every document of a segment (``default`` where it has none)."""
    count = reader.doc_count_all()
    if not reader.has_column(name):
        return [default] * count
    return list(reader.column_reader(name))


CommitHook = Callable[[FileStorage, Schema, list[Segment]], None]


def hook_commit(writer: IndexWriter, before_toc: CommitHook) -> None:
    """Run ``before_toc(storage, schema, segments)`` just before ``writer`` makes its segments visible.

    Whoosh writes the TOC last; anything written here (the read model of new
    segments) is in place before any reader can see those segments.
    """
    if not isinstance(writer, SegmentWriter):
        raise TypeError(f"cannot hook the commit of a {type(writer).__name__}")
    original: Callable[[list[Segment]], None] = writer._commit_toc

    def commit_toc(segments: list[Segment]) -> None:
        before_toc(writer.storage, writer.schema, segments)
        original(segments)

    writer._commit_toc = commit_toc  # type: ignore[method-assign]


# Writing segments in bulk. The W3 posting layout, mirrored from Whoosh's
# W3PostingsWriter: per term a magic tag, then blocks of at most 128 postings,
# each an int length (negative for the last block), a pickled info tuple and a
# pickled (maybe zlib-compressed) data tuple (delta-coded ids, weights, values).
# The data pickles are assembled from byte slices encoded in bulk by numpy;
# any valid pickle loads the same, so opcodes newer than protocol 2 (short
# byte strings) serve where Whoosh's own pickler would spell bytes slowly.
BLOCK_LIMIT = 128
COMPRESSION = 3
_TERM_INFO = struct.Struct("!BfIBBfII")
_LENGTH_BYTES = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)
_POSITIONS_HEAD = b"\x80\x02]q\x00("  # PROTO 2, EMPTY_LIST, BINPUT 0, MARK
_POSITIONS_TAIL = b"e."  # APPENDS, STOP


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Return Whoosh's one-byte encoding of each field length (``length_to_byte``, in bulk)."""
    found: np.ndarray = np.minimum(np.searchsorted(_LENGTH_BYTES, lengths, side="left"), 255)
    return found.astype(np.uint8)


def quantized_lengths(lengths: np.ndarray) -> np.ndarray:
    """Return each field length as Whoosh stores and reads it back (through its length byte)."""
    quantized: np.ndarray = _LENGTH_BYTES[length_bytes(lengths)]
    return quantized


def encode_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pickle each non-negative int as one opcode (BININT1/2/BININT); return the bytes and offsets."""
    values = values.astype(np.int64, copy=False)
    sizes = np.where(values < 256, 2, np.where(values < 65536, 3, 5))
    offsets = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), dtype=np.uint8)
    at = offsets[:-1]
    out[at] = np.where(sizes == 2, ord("K"), np.where(sizes == 3, ord("M"), ord("J")))
    for byte in range(4):
        has = sizes > byte + 1
        out[at[has] + 1 + byte] = (values[has] >> (8 * byte)) & 0xFF
    return out, offsets


def _byte_headers(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the pickle headers (SHORT_BINBYTES or BINBYTES and the length) of byte strings, and their sizes."""
    short = lengths < 256
    sizes = np.where(short, 2, 5)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), dtype=np.uint8)
    at = offsets[:-1]
    out[at] = np.where(short, ord("C"), ord("B"))
    out[at[short] + 1] = lengths[short]
    for byte in range(4):
        out[at[~short] + 1 + byte] = (lengths[~short] >> (8 * byte)) & 0xFF
    return out, sizes


def pickled_values(blob: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrap each byte string ``blob[offsets[i]:offsets[i + 1]]`` as a pickled bytes object; return bytes and offsets."""
    lengths = np.diff(offsets)
    headers, header_sizes = _byte_headers(lengths)
    sizes = header_sizes + lengths
    out_offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_offsets[1:])
    out = np.empty(int(out_offsets[-1]), dtype=np.uint8)
    header_at = np.repeat(out_offsets[:-1], header_sizes) + _ramp(header_sizes)
    out[header_at] = headers
    body_at = np.repeat(out_offsets[:-1] + header_sizes, lengths) + _ramp(lengths)
    out[body_at] = blob[offsets[0] : offsets[-1]]
    return out, out_offsets


def _ramp(sizes: np.ndarray) -> np.ndarray:
    """Return 0..size-1 for each size, concatenated."""
    total = int(sizes.sum())
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    ramp: np.ndarray = np.arange(total, dtype=np.int64) - starts
    return ramp


def position_values(counts: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encode every posting's positions as Whoosh's Positions format does (a count, a pickled delta list).

    ``counts[i]`` deltas of ``deltas`` belong to posting ``i``; returns the values' bytes and offsets.
    """
    items, item_offsets = encode_ints(deltas)
    firsts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=firsts[1:])
    item_bytes = item_offsets[firsts[1:]] - item_offsets[firsts[:-1]]
    fixed = 4 + len(_POSITIONS_HEAD) + len(_POSITIONS_TAIL)
    sizes = item_bytes + fixed
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    starts = offsets[:-1]
    out[(starts[:, None] + np.arange(4)).ravel()] = counts.astype(">u4").view(np.uint8)
    head = np.frombuffer(_POSITIONS_HEAD, dtype=np.uint8)
    out[(starts[:, None] + 4 + np.arange(head.size)).ravel()] = np.tile(head, counts.size)
    body_at = np.repeat(starts + 4 + head.size, item_bytes) + _ramp(item_bytes)
    out[body_at] = items
    tail = np.frombuffer(_POSITIONS_TAIL, dtype=np.uint8)
    out[(offsets[1:, None] - tail.size + np.arange(tail.size)).ravel()] = np.tile(tail, counts.size)
    return out, offsets


@dataclass
class PostingArrays:
    """One field's postings in term order, then document order, ready to be written.

    A Positions field gives its position deltas (``weights`` are the counts) and
    they are encoded chunk by chunk as they are written; any other field gives
    its posting values' bytes.
    """

    terms: list[bytes]
    term_offsets: np.ndarray  # int64, len(terms) + 1: each term's first posting
    docs: np.ndarray  # int32 document numbers
    weights: np.ndarray  # float64
    length_bytes: np.ndarray  # uint8 per posting: the document's field length byte (0: none)
    values: np.ndarray  # uint8: every posting's value bytes, concatenated (empty with deltas)
    value_offsets: np.ndarray  # int64, postings + 1
    deltas: np.ndarray | None = None  # int32 position deltas, posting after posting


# Postings encoded at a time: bounds the encoder's temporary arrays (~100 MB).
CHUNK_POSTINGS = 1 << 18


class SegmentFiles:
    """A new Whoosh W3 segment being written in bulk: per-document data, term table and postings."""

    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage
        self.codec = whoosh3.W3Codec()
        self.segment = self.codec.new_segment(storage, INDEX_NAME)
        self.perdoc = self.codec.per_document_writer(storage, self.segment)
        self._terms: OrderedHashWriter | None = None
        self._postings: Any = None
        self._fieldmap: dict[str, int] = {}

    def segment_id(self) -> str:
        """Return the new segment's id."""
        return str(self.segment.segment_id())

    def add_document(
        self, docnum: int, stored: list[tuple[str, Any, Any, int]], columns: list[tuple[str, Any, Any]]
    ) -> None:
        """Write one document's stored values and lengths ``(name, field, value, length)`` and column values."""
        perdoc = self.perdoc
        perdoc.start_doc(docnum)
        for name, field, value, length in stored:
            perdoc.add_field(name, field, value, length)
        for name, column, value in columns:
            perdoc.add_column_value(name, column, value)
        perdoc.finish_doc()

    def write_field(self, name: str, fieldobj: Any, postings: PostingArrays) -> None:
        """Write one field's terms and posting blocks (fields must come in name order)."""
        if self._terms is None:
            self._terms = OrderedHashWriter(self.segment.create_file(self.storage, whoosh3.W3Codec.TERMS_EXT))
            self._terms.extras["fieldmap"] = self._fieldmap
            self._postings = self.segment.create_file(self.storage, whoosh3.W3Codec.POSTS_EXT)
        field_id = self._fieldmap.setdefault(name, len(self._fieldmap))
        _write_postings(self._terms, self._postings, pack_ushort(field_id), fieldobj.format, postings)

    def finish(self, doc_count: int) -> Any:
        """Close the files, assemble the compound segment file and return the segment."""
        self.perdoc.close()
        if self._terms is None:
            self._terms = OrderedHashWriter(self.segment.create_file(self.storage, whoosh3.W3Codec.TERMS_EXT))
            self._terms.extras["fieldmap"] = self._fieldmap
            self._postings = self.segment.create_file(self.storage, whoosh3.W3Codec.POSTS_EXT)
        self._terms.close()
        self._postings.close()
        self.segment.set_doc_count(doc_count)
        if self.segment.should_assemble():
            self.segment.create_compound_file(self.storage)
        return self.segment


def _write_postings(terms: OrderedHashWriter, out: Any, field_key: bytes, fmt: Any, p: PostingArrays) -> None:
    """Write every term's posting blocks to ``out`` and its term info to ``terms``, a chunk of terms at a time."""
    first = 0
    ends = p.term_offsets
    # Each term's postings at once (a term's blocks are written together); several terms per chunk.
    counts = p.weights.astype(np.int64) if p.deltas is not None else None
    position_ends = np.concatenate([[0], np.cumsum(counts)]) if counts is not None else None
    while first < len(p.terms):
        last = int(np.searchsorted(ends, ends[first] + CHUNK_POSTINGS, side="right")) - 1
        last = min(max(last, first + 1), len(p.terms))
        _write_chunk(terms, out, field_key, fmt, _chunk(p, first, last, position_ends))
        first = last


def _chunk(p: PostingArrays, first: int, last: int, position_ends: np.ndarray | None) -> PostingArrays:
    """Return terms ``first``..``last`` - 1 as arrays of their own (offsets from 0)."""
    start, end = int(p.term_offsets[first]), int(p.term_offsets[last])
    if p.deltas is not None and position_ends is not None:
        deltas = p.deltas[position_ends[start] : position_ends[end]]
        values, value_offsets = p.values, p.value_offsets
    else:
        deltas = None
        values = p.values[p.value_offsets[start] : p.value_offsets[end]]
        value_offsets = p.value_offsets[start : end + 1] - p.value_offsets[start]
    return PostingArrays(
        p.terms[first:last],
        p.term_offsets[first : last + 1] - start,
        p.docs[start:end],
        p.weights[start:end],
        p.length_bytes[start:end],
        values,
        value_offsets,
        deltas,
    )


def _write_chunk(terms: OrderedHashWriter, out: Any, field_key: bytes, fmt: Any, p: PostingArrays) -> None:
    """Write the posting blocks and term infos of a chunk of terms."""
    if not p.terms:
        return
    fixed = fmt.fixed_value_size()
    blocks = _Blocks(p)
    id_bytes, id_offsets = encode_ints(blocks.id_deltas)
    weight_bytes = _float_items(p.weights)
    if p.deltas is not None:
        raw, raw_offsets = position_values(p.weights.astype(np.int64), p.deltas)
        value_bytes, value_offsets = pickled_values(raw, raw_offsets)
    elif fixed is None or fixed < 0:
        value_bytes, value_offsets = pickled_values(p.values, p.value_offsets)
    else:
        value_bytes, value_offsets = p.values, p.value_offsets
    ids_b = id_bytes.tobytes()
    weights_b = weight_bytes.tobytes()
    values_b = value_bytes.tobytes()
    del id_bytes, weight_bytes, value_bytes
    # Per block and per term only: per-posting lists would cost ~30 bytes a posting.
    starts = blocks.starts
    ends = blocks.ends
    id_from, id_to = id_offsets[starts].tolist(), id_offsets[ends].tolist()
    value_from, value_to = value_offsets[starts].tolist(), value_offsets[ends].tolist()
    starts_l, ends_l = starts.tolist(), ends.tolist()
    counts = blocks.counts.tolist()
    last_ids = p.docs[ends - 1].tolist()
    max_weights = blocks.max_weights.tolist()
    weight_kinds = blocks.weight_kinds.tolist()
    min_lengths = blocks.min_lengths.tolist()
    max_lengths = blocks.max_lengths.tolist()
    term_blocks = blocks.term_blocks.tolist()
    term_offsets = p.term_offsets.tolist()
    first_ids = p.docs[p.term_offsets[:-1]].tolist()
    final_ids = p.docs[p.term_offsets[1:] - 1].tolist()
    totals = np.add.reduceat(p.weights, p.term_offsets[:-1]).tolist()
    term_max_weight = np.maximum.reduceat(p.weights, p.term_offsets[:-1]).tolist()
    magic = whoosh3.WHOOSH3_HEADER_MAGIC
    minimum = whoosh3.COMPRESSION_MIN_SIZE
    dumps = pickle.dumps
    for t, term in enumerate(p.terms):
        start = out.tell()
        parts = [magic]
        first_block, last_block = term_blocks[t], term_blocks[t + 1]
        term_min = 0
        term_max = 0
        for b in range(first_block, last_block):
            s, e = starts_l[b], ends_l[b]
            kind = weight_kinds[b]
            if kind == 0:
                weights = b"N"
            elif kind == 1:
                weights = weights_b[9 * s : 9 * s + 9]
            else:
                weights = b"(" + weights_b[9 * s : 9 * e] + b"t"
            if fixed is None or fixed < 0:
                values = b"(" + values_b[value_from[b] : value_to[b]] + b"t"
            elif fixed == 0:
                values = b"N"
            else:
                values = _bytes_opcode(values_b[value_from[b] : value_to[b]])
            data = b"".join((b"\x80\x02(", ids_b[id_from[b] : id_to[b]], b"t", weights, values, b"\x87."))
            level = COMPRESSION if len(data) >= minimum else 0
            if level:
                data = zlib.compress(data, level)
            low, high = min_lengths[b], max_lengths[b]
            info = dumps((counts[b], last_ids[b], max_weights[b], level, low, high), 2)
            size = len(info) + len(data)
            parts.append(pack_int(-size if b == last_block - 1 else size))
            parts.append(info)
            parts.append(data)
            if low and (not term_min or low < term_min):
                term_min = low
            term_max = max(term_max, high)
        blob = b"".join(parts)
        out.write(blob)
        info_bytes = _TERM_INFO.pack(
            0,
            totals[t],
            term_offsets[t + 1] - term_offsets[t],
            term_min,
            term_max,
            term_max_weight[t],
            first_ids[t],
            final_ids[t],
        )
        terms.add(field_key + term, info_bytes + pack_long(start) + pack_int(len(blob)))


def _bytes_opcode(data: bytes) -> bytes:
    """Return ``data`` pickled as one bytes object."""
    if len(data) < 256:
        return b"C" + bytes((len(data),)) + data
    return b"B" + struct.pack("<I", len(data)) + data


def _float_items(weights: np.ndarray) -> np.ndarray:
    """Pickle each weight as BINFLOAT (an opcode and a big-endian double), 9 bytes each."""
    out = np.empty((weights.size, 9), dtype=np.uint8)
    out[:, 0] = ord("G")
    out[:, 1:] = weights.astype(">f8").view(np.uint8).reshape(-1, 8)
    return out.ravel()


class _Blocks:
    """The W3 blocks of a field's postings: at most 128 postings of one term each, with their statistics."""

    def __init__(self, p: PostingArrays) -> None:
        df = np.diff(p.term_offsets)
        per_term = (df + BLOCK_LIMIT - 1) // BLOCK_LIMIT
        self.term_blocks = np.zeros(df.size + 1, dtype=np.int64)
        np.cumsum(per_term, out=self.term_blocks[1:])
        owner = np.repeat(np.arange(df.size), per_term)
        self.starts = p.term_offsets[owner] + BLOCK_LIMIT * _ramp(per_term)
        self.ends = np.minimum(self.starts + BLOCK_LIMIT, p.term_offsets[owner + 1])
        self.counts = self.ends - self.starts
        docs = p.docs.astype(np.int64)
        deltas = np.empty_like(docs)
        deltas[0] = docs[0]
        deltas[1:] = docs[1:] - docs[:-1]
        deltas[self.starts] = docs[self.starts]
        self.id_deltas = deltas
        low_weight = np.minimum.reduceat(p.weights, self.starts)
        self.max_weights = np.maximum.reduceat(p.weights, self.starts)
        self.weight_kinds = np.where(
            (low_weight == 1.0) & (self.max_weights == 1.0), 0, np.where(low_weight == self.max_weights, 1, 2)
        )
        lengths = p.length_bytes.astype(np.int64)
        self.max_lengths = np.maximum.reduceat(lengths, self.starts)
        low = np.minimum.reduceat(np.where(lengths == 0, 256, lengths), self.starts)
        self.min_lengths = np.where(low == 256, 0, low)


def write_toc(storage: FileStorage, schema: Any, segments: list[Any], generation: int) -> None:
    """Make ``segments`` the index's content as TOC ``generation`` (the last step of a bulk build)."""
    whoosh_index.TOC(schema, segments, generation).write(storage, INDEX_NAME)


def delete_documents(segment: Any, docnums: list[int]) -> None:
    """Mark documents of a segment not yet listed in a TOC as deleted."""
    for docnum in docnums:
        segment.delete_document(docnum)


def commit(writer: SegmentWriter, segments: list[Segment]) -> None:
    """Commit ``writer``, its TOC listing ``segments`` (bulk-written into its index) after its own.

    Whoosh's merge policy still runs over the existing segments; the new ones join
    the list it returns, so the TOC names them in the same atomic step.
    """
    if not segments:
        writer.commit()
        return

    def policy(target: SegmentWriter, current: list[Segment]) -> list[Segment]:
        return list(MERGE_SMALL(target, current)) + segments

    writer.commit(mergetype=policy)
