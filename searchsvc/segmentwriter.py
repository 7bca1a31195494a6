"""Write Whoosh W3 segments in bulk, beside the bulk writer (``bulkwriter.py``) that feeds it.

The W3 posting layout, mirrored from Whoosh's W3PostingsWriter: per term a magic
tag, then blocks of at most 128 postings, each an int length (negative for the
last block), a pickled info tuple and a pickled (maybe zlib-compressed) data
tuple (delta-coded ids, weights, values). The data pickles are assembled from
byte slices encoded in bulk by numpy; any valid pickle loads the same, so
opcodes newer than protocol 2 (short byte strings) serve where Whoosh's own
pickler would spell bytes slowly. Reading Whoosh's internals is ``codec.py``'s.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length
from whoosh.writing import MERGE_SMALL, SegmentWriter

from searchsvc.codec import INDEX_NAME

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

    def _term_files(self) -> tuple[OrderedHashWriter, Any]:
        """Return the term table and the postings file, created on first use."""
        if self._terms is None:
            self._terms = OrderedHashWriter(self.segment.create_file(self.storage, whoosh3.W3Codec.TERMS_EXT))
            self._terms.extras["fieldmap"] = self._fieldmap
            self._postings = self.segment.create_file(self.storage, whoosh3.W3Codec.POSTS_EXT)
        return self._terms, self._postings

    def write_field(self, name: str, fieldobj: Any, postings: PostingArrays) -> None:
        """Write one field's terms and posting blocks (fields must come in name order)."""
        terms, out = self._term_files()
        field_id = self._fieldmap.setdefault(name, len(self._fieldmap))
        _write_postings(terms, out, pack_ushort(field_id), fieldobj.format, postings)

    def finish(self, doc_count: int) -> Any:
        """Close the files, assemble the compound segment file and return the segment."""
        self.perdoc.close()
        terms, out = self._term_files()
        terms.close()
        out.close()
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


@dataclass(frozen=True)
class _ChunkBytes:
    """A chunk's postings encoded in bulk, and each block's slices of them as Python lists.

    Per block and per term only: per-posting lists would cost ~30 bytes a posting.
    """

    ids: bytes
    weights: bytes
    values: bytes
    id_from: list[int]
    id_to: list[int]
    value_from: list[int]
    value_to: list[int]
    starts: list[int]
    ends: list[int]
    counts: list[int]
    last_ids: list[int]
    max_weights: list[float]
    weight_kinds: list[int]
    min_lengths: list[int]
    max_lengths: list[int]
    term_blocks: list[int]


@dataclass(frozen=True)
class _TermStats:
    """What each term's entry in the term table says: postings, weights, first and last document."""

    term_offsets: list[int]
    first_ids: list[int]
    final_ids: list[int]
    totals: list[float]
    max_weights: list[float]

    def info(self, t: int, min_length: int, max_length: int) -> bytes:
        """Return term ``t``'s packed term info (without the postings' place in the file)."""
        return _TERM_INFO.pack(
            0,
            self.totals[t],
            self.term_offsets[t + 1] - self.term_offsets[t],
            min_length,
            max_length,
            self.max_weights[t],
            self.first_ids[t],
            self.final_ids[t],
        )


def _value_bytes(p: PostingArrays, fixed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Return every posting's value as the data pickle holds it (pickled bytes unless fixed-size), and offsets."""
    if p.deltas is not None:
        raw, raw_offsets = position_values(p.weights.astype(np.int64), p.deltas)
        return pickled_values(raw, raw_offsets)
    if fixed is None or fixed < 0:
        return pickled_values(p.values, p.value_offsets)
    return p.values, p.value_offsets


def _chunk_bytes(p: PostingArrays, fixed: int | None) -> _ChunkBytes:
    """Encode a chunk's ids, weights and values in bulk and cut them into blocks."""
    blocks = _Blocks(p)
    id_bytes, id_offsets = encode_ints(blocks.id_deltas)
    value_bytes, value_offsets = _value_bytes(p, fixed)
    starts, ends = blocks.starts, blocks.ends
    return _ChunkBytes(
        ids=id_bytes.tobytes(),
        weights=_float_items(p.weights).tobytes(),
        values=value_bytes.tobytes(),
        id_from=id_offsets[starts].tolist(),
        id_to=id_offsets[ends].tolist(),
        value_from=value_offsets[starts].tolist(),
        value_to=value_offsets[ends].tolist(),
        starts=starts.tolist(),
        ends=ends.tolist(),
        counts=blocks.counts.tolist(),
        last_ids=p.docs[ends - 1].tolist(),
        max_weights=blocks.max_weights.tolist(),
        weight_kinds=blocks.weight_kinds.tolist(),
        min_lengths=blocks.min_lengths.tolist(),
        max_lengths=blocks.max_lengths.tolist(),
        term_blocks=blocks.term_blocks.tolist(),
    )


def _term_stats(p: PostingArrays) -> _TermStats:
    """Return the term table's figures of every term of a chunk."""
    firsts = p.term_offsets[:-1]
    return _TermStats(
        term_offsets=p.term_offsets.tolist(),
        first_ids=p.docs[firsts].tolist(),
        final_ids=p.docs[p.term_offsets[1:] - 1].tolist(),
        totals=np.add.reduceat(p.weights, firsts).tolist(),
        max_weights=np.maximum.reduceat(p.weights, firsts).tolist(),
    )


def _write_chunk(terms: OrderedHashWriter, out: Any, field_key: bytes, fmt: Any, p: PostingArrays) -> None:
    """Write the posting blocks and term infos of a chunk of terms."""
    if not p.terms:
        return
    fixed = fmt.fixed_value_size()
    chunk = _chunk_bytes(p, fixed)
    stats = _term_stats(p)
    for t, term in enumerate(p.terms):
        start = out.tell()
        blob, min_length, max_length = _term_blocks(
            chunk, fixed, chunk.term_blocks[t], chunk.term_blocks[t + 1]
        )
        out.write(blob)
        terms.add(
            field_key + term, stats.info(t, min_length, max_length) + pack_long(start) + pack_int(len(blob))
        )


def _term_blocks(chunk: _ChunkBytes, fixed: int | None, first: int, last: int) -> tuple[bytes, int, int]:
    """Return one term's postings (blocks ``first``..``last`` - 1) and its least and greatest length bytes."""
    parts = [whoosh3.WHOOSH3_HEADER_MAGIC]
    term_min = 0
    term_max = 0
    for b in range(first, last):
        info, data = _block(chunk, fixed, b)
        size = len(info) + len(data)
        parts.append(pack_int(-size if b == last - 1 else size))
        parts.append(info)
        parts.append(data)
        low = chunk.min_lengths[b]
        if low and (not term_min or low < term_min):
            term_min = low
        term_max = max(term_max, chunk.max_lengths[b])
    return b"".join(parts), term_min, term_max


def _block(chunk: _ChunkBytes, fixed: int | None, b: int) -> tuple[bytes, bytes]:
    """Return block ``b``'s pickled info tuple and its pickled (maybe compressed) data tuple."""
    data = b"".join(
        (
            b"\x80\x02(",
            chunk.ids[chunk.id_from[b] : chunk.id_to[b]],
            b"t",
            _block_weights(chunk, b),
            _block_values(chunk, fixed, b),
            b"\x87.",
        )
    )
    level = COMPRESSION if len(data) >= whoosh3.COMPRESSION_MIN_SIZE else 0
    if level:
        data = zlib.compress(data, level)
    low, high = chunk.min_lengths[b], chunk.max_lengths[b]
    info = pickle.dumps((chunk.counts[b], chunk.last_ids[b], chunk.max_weights[b], level, low, high), 2)
    return info, data


def _block_weights(chunk: _ChunkBytes, b: int) -> bytes:
    """Return block ``b``'s weights as Whoosh pickles them: None when all 1.0, one float when all equal, else a tuple."""
    kind = chunk.weight_kinds[b]
    s = chunk.starts[b]
    if kind == 0:
        return b"N"
    if kind == 1:
        return chunk.weights[9 * s : 9 * s + 9]
    return b"(" + chunk.weights[9 * s : 9 * chunk.ends[b]] + b"t"


def _block_values(chunk: _ChunkBytes, fixed: int | None, b: int) -> bytes:
    """Return block ``b``'s values: a tuple of pickled values, None (no values) or one bytes of fixed-size ones."""
    values = chunk.values[chunk.value_from[b] : chunk.value_to[b]]
    if fixed is None or fixed < 0:
        return b"(" + values + b"t"
    if fixed == 0:
        return b"N"
    return _bytes_opcode(values)


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
