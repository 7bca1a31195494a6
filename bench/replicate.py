"""A K-times archive for the read path, made from an existing index by copying its segments.

Building a 588,000-article archive through ``searchsvc reindex`` takes most of an hour
on these machines, and the question this answers is about the read side: how query
time and a serving worker's memory grow with the archive. So each Whoosh segment of the
source generation is copied K times under new segment ids, and each copy gets its own
read model whose date columns are moved back k years (year and month facets spread as
in a real archive). Stored fields and ids are the source's (every id appears K times);
relevance is not measured on this index, only speed and memory.

    python -m bench.replicate --index-dir index --copies 10 --out /tmp/index-10x
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from searchsvc import codec
from searchsvc.generations import CURRENT, MANIFEST, current_generation
from searchsvc.lexicon import LEXICON_FILE
from searchsvc.readmodel import LEXICON_MODEL, WhooshSource, model_path, write_model

SECONDS_PER_YEAR = 365 * 86400


class ShiftedDates:
    """A segment reader whose date columns read ``years`` earlier (everything else passes through)."""

    def __init__(self, reader: Any, years: int) -> None:
        self._reader = reader
        self._years = years

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def column_reader(self, name: str) -> list[Any]:
        """Return a column, dates moved back."""
        values = list(self._reader.column_reader(name))
        if name == "published_ts":
            return [v - self._years * SECONDS_PER_YEAR if v else 0 for v in values]
        if name == "day":
            return [_shift_day(v, self._years) for v in values]
        if name == "month":
            return [_shift_month(v, self._years) for v in values]
        return values


def _shift_day(day: int, years: int) -> int:
    """Move a YYYYMMDD day back ``years`` years (29 February becomes the 28th)."""
    if not day:
        return 0
    y, m, d = day // 10000 - years, day // 100 % 100, day % 100
    d = min(d, 28) if m == 2 else d
    return date(y, m, d).year * 10000 + m * 100 + d


def _shift_month(month: Any, years: int) -> Any:
    """Move a ``YYYY-MM`` month back ``years`` years."""
    text = month.decode("utf-8") if isinstance(month, bytes) else month
    if not text:
        return month
    return f"{int(text[:4]) - years:04d}{text[4:]}"


def _copy_segment(source: Path, target: Path, segment: Any) -> Any:
    """Copy a segment's files under a new random id; return the new segment object.

    A compound segment names its inner files after its id, so the copy is written as
    separate files with the new id instead.
    """
    fresh = copy.copy(segment)
    fresh.segid = fresh._random_id()
    old_prefix, new_prefix = segment.segment_id(), fresh.segment_id()
    if segment.is_compound():
        inner = segment.open_compound_file(codec.open_storage(str(source)))
        for name in inner.list():
            with (
                inner.open_file(name) as handle,
                open(target / name.replace(old_prefix, new_prefix, 1), "wb") as out,
            ):
                out.write(handle.read())
        inner.close()
        fresh.compound = False
    else:
        for path in source.glob(old_prefix + "*"):
            shutil.copyfile(path, target / path.name.replace(old_prefix, new_prefix, 1))
    return fresh


def _write_copy_model(target: Path, schema: Any, segment: Any, years: int) -> None:
    """Write one copy's read model with its dates moved back."""
    storage = codec.open_storage(str(target), mmap=True)
    reader = codec.open_segment(storage, schema, segment)
    try:
        write_model(
            WhooshSource(ShiftedDates(reader, years)),
            model_path(target, segment.segment_id()),
            segment.segment_id(),
        )
    finally:
        reader.close()


def replicate(index_dir: Path, copies: int, out: Path, procs: int = 2) -> dict[str, Any]:
    """Write a generation holding ``copies`` copies of ``index_dir``'s live generation into ``out``."""
    started = time.perf_counter()
    generation = current_generation(index_dir)
    storage = codec.open_storage(str(generation.path))
    schema, infos = codec.read_segments(storage, codec.toc_generation(storage))
    target = out / f"gen-x{copies}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    segments, jobs = [], []
    for k in range(copies):
        for info in infos:
            fresh = _copy_segment(generation.path, target, info.segment)
            segments.append(fresh)
            jobs.append((fresh, k))
    with ProcessPoolExecutor(max_workers=procs) as pool:
        for done in [pool.submit(_write_copy_model, target, schema, seg, k) for seg, k in jobs]:
            done.result()
    whoosh_index.TOC(schema, segments, 1).write(codec.open_storage(str(target)), codec.INDEX_NAME)
    for name in (LEXICON_FILE, LEXICON_MODEL):
        if (generation.path / name).exists():
            shutil.copyfile(generation.path / name, target / name)
    documents = sum(s.doc_count_all() for s in segments)
    manifest = dict(generation.manifest, generation=target.name, documents=documents, replicated=copies)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (out / CURRENT).write_text(target.name + "\n", encoding="utf-8")
    return {"documents": documents, "segments": len(segments), "seconds": time.perf_counter() - started}


def main() -> None:
    """Parse arguments and replicate."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="the index directory to copy")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True, help="new index directory (outside the repository)")
    ap.add_argument("--procs", type=int, default=2, help="processes writing read models")
    args = ap.parse_args()
    report = replicate(args.index_dir, args.copies, args.out, args.procs)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
