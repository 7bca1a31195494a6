"""Every use of Whoosh's private internals, in one place, checked when an index is opened.

The read model (``readmodel.py``) is derived from Whoosh segments: it reads each
term's posting blocks (the W3 codec's block layout), the segment list with its
deletions (the TOC), and hooks the writer's commit so a segment's read model is
written before the segment becomes visible. None of that is public Whoosh API;
``check_supported`` verifies each attribute up front and names the supported
version instead of failing half-way through a request. Writing W3 segments in
bulk (public Whoosh API and the block layout) is ``segmentwriter.py``'s.
"""

from __future__ import annotations

import pickle
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
from whoosh.reading import SegmentReader
from whoosh.writing import IndexWriter, SegmentWriter

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
