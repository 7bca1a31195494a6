"""One state of the live index: its segments' read models, columns and lengths, built whole.

``build_state`` opens a generation's newest TOC, mapping only the segments the
previous state does not hold, and returns a frozen ``State``; ``live.py`` swaps
states in. Whoosh is asked for stored fields only (``documents.py``).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from searchsvc import codec
from searchsvc.errors import IndexNotReady
from searchsvc.generations import DAMAGE, Generation, damaged
from searchsvc.lexicon import Lexicon, with_additions
from searchsvc.readmodel import (
    LENGTH_FIELDS,
    DamagedReadModel,
    SegmentModel,
    WhooshSource,
    model_path,
    open_lexicon,
    open_model,
    write_model,
)

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, eq=False)
class State:
    """Everything one generation's TOC serves; built whole, then swapped in.

    Compared and hashed by identity: a state is one moment of the index, and the
    layers above keep their memos per state (``answers.py``).
    """

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


def build_state(generation: Generation, previous: State | None) -> State:
    """Open ``generation``'s newest TOC, reusing the segments ``previous`` already maps."""
    storage = codec.open_storage(str(generation.path))
    with damaged(f"index generation {generation.name}", "cannot be opened"):
        toc = codec.toc_generation(storage)
        if toc < 0:
            raise IndexNotReady(
                f"index generation {generation.name} has no Whoosh index; run `searchsvc reindex`"
            )
        schema, infos = codec.read_segments(storage, toc)
    same = previous if previous is not None and previous.generation.path == generation.path else None
    opened: list[Part] = []
    try:
        parts = _parts(generation, storage, schema, infos, same, opened)
        base_lexicon = same.base_lexicon if same else _load_lexicon(generation)
        return _state(generation, toc, parts, base_lexicon, _with_additions(base_lexicon, generation, toc))
    except BaseException:
        # A state that is not built is never served: close what it opened.
        for part in opened:
            part.reader.close()
        raise


def _parts(
    generation: Generation,
    storage: FileStorage,
    schema: Schema,
    infos: list[codec.SegmentInfo],
    previous: State | None,
    opened: list[Part],
) -> tuple[Part, ...]:
    """Place every segment of the TOC, reusing those ``previous`` holds and appending new ones to ``opened``."""
    held = {p.info.segment_id: p for p in previous.parts} if previous else {}
    parts: list[Part] = []
    offset = 0
    for info in infos:
        old = held.get(info.segment_id)
        if old is not None:
            parts.append(Part(info, old.model, old.reader, offset))
        else:
            opened.append(_open_part(generation, storage, schema, info, offset))
            parts.append(opened[-1])
        offset += info.doc_count
    return tuple(parts)


def _state(
    generation: Generation, toc: int, parts: tuple[Part, ...], base_lexicon: Lexicon, lexicon: Lexicon
) -> State:
    """Assemble a state from its segments: the columns and lengths of the whole index."""
    lengths = _lengths(parts)
    columns = _build_columns(parts, parts[-1].end if parts else 0)
    return State(
        generation=generation,
        toc=toc,
        parts=parts,
        columns=columns,
        lengths=lengths,
        averages={field: _average(values) for field, values in lengths.items()},
        doc_count=int(columns.live.sum()),
        lexicon=lexicon,
        base_lexicon=base_lexicon,
        norms={},
    )


def _open_part(
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
            return Part(info, _segment_model(generation, info, reader), reader, offset)
    except BaseException:
        reader.close()
        raise


def _segment_model(generation: Generation, info: codec.SegmentInfo, reader: SegmentReader) -> SegmentModel:
    """Map a segment's read model, rebuilding a missing, damaged or mismatched one."""
    path = model_path(generation.path, info.segment_id)
    try:
        model = open_model(path)
    except DamagedReadModel as exc:
        log.warning("%s: rebuilding it from its Whoosh segment", exc)
        model = _rebuild_model(reader, path, info.segment_id)
    if model.doc_count != info.doc_count:
        log.warning("read model %s does not match its segment: rebuilding it", path.name)
        model = _rebuild_model(reader, path, info.segment_id)
    return model


def _rebuild_model(reader: SegmentReader, path: Path, segment_id: str) -> SegmentModel:
    """Write a segment's read model again from Whoosh (in a temporary folder when the index is read-only)."""
    try:
        return open_model(write_model(WhooshSource(reader), path, segment_id))
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="searchsvc-readmodel-"))
        return open_model(write_model(WhooshSource(reader), folder / path.name, segment_id))
