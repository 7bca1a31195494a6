"""Build, switch and update index generations on disk (the layout is ``generations.py``'s).

A reindex builds a new generation beside the live one and switches ``CURRENT``
with ``os.replace`` only after the new index is committed, so readers never see
a half-built index and a killed build leaves the live one untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from searchsvc import codec, segmentwriter
from searchsvc.article import Article
from searchsvc.bulkwriter import SegmentBuilder
from searchsvc.errors import BuildFailed, IndexBusy, IndexNotReady, IngestError
from searchsvc.generations import (
    BUILD_PREFIX,
    CURRENT,
    GEN_PREFIX,
    MANIFEST,
    REINDEX,
    current_generation,
    damaged,
    directory_size,
    lock_path,
)
from searchsvc.ingest import (
    DEFAULT_LIMITS,
    IngestLimits,
    IngestReport,
    IngestWarning,
    Reject,
    expand_sources,
    iter_sources,
)
from searchsvc.lexicon import (
    Lexicon,
    LexiconBuilder,
    discard_additions_after,
    load_lexicon,
    prune_additions,
    record_additions,
    save_lexicon,
)
from searchsvc.readmodel import (
    LEXICON_MODEL,
    DamagedReadModel,
    LexiconModel,
    WhooshSource,
    model_path,
    open_model,
    remove_stale,
    write_lexicon_model,
    write_model,
)
from searchsvc.schema import SCHEMA_VERSION, build_schema, to_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class ReindexReport:
    """What one reindex did."""

    generation: str = ""
    indexed: int = 0
    duplicates: int = 0
    duplicate_ids: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[IngestWarning] = field(default_factory=list)
    seconds: float = 0.0
    size_bytes: int = 0


class NothingToIndex(IngestError):
    """The sources held no valid article; the live index is left as it was."""


@contextmanager
def write_lock(index_dir: Path, timeout: float) -> Iterator[None]:
    """Hold the index directory's writer lock, waiting up to ``timeout`` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_path(index_dir), "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(
                        f"another process is writing to {index_dir} (reindex or index add/delete); "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.1)
        _HELD_LOCKS.add(handle.fileno())
        try:
            yield
        finally:
            _HELD_LOCKS.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


# File descriptors of the writer locks this process holds: a forked indexing
# process closes its copies, so the lock goes with the parent (a killed reindex
# must not leave workers holding it).
_HELD_LOCKS: set[int] = set()
_PR_SET_PDEATHSIG = 1


def _start_worker() -> None:
    """Drop the inherited lock and ask the kernel to end this worker when its parent dies."""
    for fd in list(_HELD_LOCKS):
        os.close(fd)
    _HELD_LOCKS.clear()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def read_articles(
    sources: Sequence[str | Path], report: ReindexReport, limits: IngestLimits = DEFAULT_LIMITS
) -> list[Article]:
    """Read every source, keep the later record of a duplicate id, and note rejects."""
    ingest = IngestReport()
    by_id: dict[str, Article] = {}
    for article in ingest.collect(iter_sources(sources, limits)):
        if article.id in by_id:
            report.duplicates += 1
            report.duplicate_ids.append(article.id)
        by_id[article.id] = article
    report.rejects = ingest.rejects
    report.warnings = ingest.warnings
    return list(by_id.values())


def reindex(
    sources: Sequence[str | Path],
    index_dir: Path,
    procs: int = 1,
    limitmb: int = 512,
    keep_generations: int = 2,
    progress: Progress | None = None,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> ReindexReport:
    """Build a new generation from ``sources`` and make it live when complete.

    Sources are streamed: articles are read, analysed and written in batches of
    about ``limitmb`` of memory per process, each batch one segment.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    expand_sources(sources)  # fail on a missing source before taking the lock
    report = ReindexReport()
    with write_lock(index_dir, timeout=0):
        _remove_stale_builds(index_dir)
        name = GEN_PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        build_dir = index_dir / (BUILD_PREFIX + name)
        build_dir.mkdir(parents=True)
        try:
            report.indexed = _write_generation(
                build_dir, sources, report, Batching(procs, limitmb), progress, limits
            )
            if not report.indexed:
                raise NothingToIndex(", ".join(map(str, sources)), "no valid article found")
            _write_manifest(build_dir, name, report, sources)
            verify_generation(build_dir)
        except BaseException:
            # A failed build (disk full, a kill is not caught here) never stays behind to fill the disk.
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        final_dir = index_dir / name
        os.replace(build_dir, final_dir)
        _point_current(index_dir, name)
        _prune_generations(index_dir, keep_generations)
    report.generation = name
    report.size_bytes = directory_size(final_dir)
    report.seconds = time.perf_counter() - started
    return report


# Peak memory a batch's builder needs per character of article text (term
# numbers, sorting arrays, encoded chunks), measured on the shared corpus: 17.8
# bytes for 10,000 articles with schema 3 (README, "How a rebuild works").
MEMORY_PER_CHAR = 18


@dataclass(frozen=True)
class Batching:
    """How a reindex splits its articles: processes, and the memory one batch may use."""

    procs: int = 1
    limitmb: int = 512

    def full(self, chars: int) -> bool:
        """Tell whether a batch holding ``chars`` characters of text has reached its memory budget."""
        return chars * MEMORY_PER_CHAR >= self.limitmb * 1_000_000


def _write_generation(
    build_dir: Path,
    sources: Sequence[str | Path],
    report: ReindexReport,
    batching: Batching,
    progress: Progress | None,
    limits: IngestLimits,
) -> int:
    """Stream ``sources`` into bulk-written segments in ``build_dir``, then commit the TOC; return the count.

    The later record of a duplicate id wins: within a batch it replaces the
    earlier one, across batches the earlier segment's document is deleted.
    """
    schema = whoosh_index.create_in(str(build_dir), build_schema()).schema
    lexicon = LexiconBuilder()
    placed: dict[str, tuple[int, int]] = {}  # id -> (batch, document number)
    deletions: dict[int, list[int]] = {}
    ingest = IngestReport()
    read = 0
    with _SegmentWriters(build_dir, batching.procs) as writers:
        batch: dict[str, Article] = {}
        chars = 0
        for article in ingest.collect(iter_sources(sources, limits)):
            read += 1
            lexicon.add(article.title, article.summary)
            if article.id in batch or article.id in placed:
                report.duplicates += 1
                report.duplicate_ids.append(article.id)
                if article.id in placed:
                    number, docnum = placed.pop(article.id)
                    deletions.setdefault(number, []).append(docnum)
            batch[article.id] = article
            chars += _text_size(article)
            if batching.full(chars):
                _hand_over(writers, batch, placed)
                batch, chars = {}, 0
            if progress is not None and read % 1000 == 0:
                progress(writers.written, read)
        if batch:
            _hand_over(writers, batch, placed)
        writers.finish()
    report.rejects = ingest.rejects
    report.warnings = ingest.warnings
    if not placed:
        return 0
    for number, docnums in deletions.items():
        segmentwriter.delete_documents(writers.segments[number], docnums)
    # The lexicon is written before the TOC: a generation is complete or absent.
    _save_lexicon(lexicon.build(), build_dir)
    segments = [writers.segments[n] for n in sorted(writers.segments)]
    storage = codec.open_storage(str(build_dir))
    segmentwriter.write_toc(storage, schema, segments, 1)
    codec.remove_unlisted_segments(storage)  # the empty first TOC
    if progress is not None:
        progress(writers.written, read)
    return len(placed)


def _text_size(article: Article) -> int:
    """Return the characters of an article's searched text."""
    return len(article.title) + len(article.summary or "") + len(article.body)


def _hand_over(
    writers: _SegmentWriters, batch: dict[str, Article], placed: dict[str, tuple[int, int]]
) -> None:
    """Give a full batch to a segment writer and note where each of its articles goes."""
    number = writers.batches
    for docnum, article_id in enumerate(batch):
        placed[article_id] = (number, docnum)
    writers.submit(list(batch.values()))


class _SegmentWriters:
    """Write batches as segments: in this process, or in ``procs`` worker processes.

    At most ``procs`` batches are in flight, so memory stays bounded whatever the
    size of the sources.
    """

    def __init__(self, build_dir: Path, procs: int) -> None:
        self.build_dir = build_dir
        self.procs = procs
        self.batches = 0
        self.written = 0
        self.segments: dict[int, Any] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Future[Any], int] = {}

    def __enter__(self) -> Self:
        if self.procs > 1:
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(
                max_workers=self.procs, mp_context=context, initializer=_start_worker
            )
            # Start the workers now, while this process is small: they are forked copies of it.
            wait([self._pool.submit(int) for _ in range(self.procs)])
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, articles: list[Article]) -> None:
        """Write one batch as the next segment (waiting while ``procs`` batches are in flight)."""
        number = self.batches
        self.batches += 1
        if self._pool is None:
            self._done(number, write_segment(self.build_dir, articles))
            return
        self._pending[self._pool.submit(write_segment, self.build_dir, articles)] = number
        while len(self._pending) >= self.procs:
            self._collect(wait(self._pending, return_when=FIRST_COMPLETED).done)

    def finish(self) -> None:
        """Wait for every batch in flight (a failed batch raises here)."""
        if self._pending:
            self._collect(wait(self._pending).done)

    def _collect(self, finished: set[Future[Any]]) -> None:
        """Take finished batches out of the pending set."""
        for future in finished:
            number = self._pending.pop(future)
            try:
                segment = future.result()
            except BrokenProcessPool:
                raise BuildFailed(
                    f"an indexing process died while writing batch {number + 1} (out of memory? "
                    "lower index.limitmb or --procs); the live index is unchanged"
                ) from None
            self._done(number, segment)

    def _done(self, number: int, segment: Any) -> None:
        """Record a written segment."""
        self.segments[number] = segment
        self.written += segment.doc_count_all()


def write_segment(build_dir: Path, articles: list[Article]) -> Any:
    """Write ``articles`` as one new segment (with its read model) in ``build_dir``; return the segment."""
    storage = codec.open_storage(str(build_dir), mmap=True)
    builder = SegmentBuilder(storage, build_schema())
    for article in articles:
        builder.add(to_document(article))
    return builder.finish()


def write_read_models(storage: FileStorage, schema: Schema, segments: list[Segment]) -> None:
    """Write the read model of every segment that lacks one (called before Whoosh's TOC commit).

    Only segments Whoosh's writer made (an update's merges, a fallback update) lack
    one: the bulk writer writes its segments' models itself.
    """
    folder = Path(storage.folder)
    for segment in segments:
        if not model_path(folder, segment.segment_id()).exists():
            _write_segment_model(folder, schema, segment)


def _write_segment_model(folder: Path, schema: Schema, segment: Segment) -> None:
    """Write one segment's read model and read it back with its checksum (a bad write fails the commit)."""
    storage = codec.open_storage(str(folder), mmap=True)
    reader = codec.open_segment(storage, schema, segment)
    try:
        open_model(
            write_model(WhooshSource(reader), model_path(folder, segment.segment_id()), segment.segment_id())
        )
    finally:
        reader.close()


def verify_generation(path: Path) -> None:
    """Open every file a serving process will read (read models with their checksums, the lexicon).

    Raises ``IndexNotReady`` naming the generation, never a server path.
    """
    with damaged(f"the new index generation {path.name}", "failed its check", advice="", detail=True):
        try:
            _check_generation(path)
        except IndexNotReady as exc:
            raise IndexNotReady(f"the new index generation {path.name} failed its check: {exc}") from exc


def _check_generation(path: Path) -> None:
    """Read every segment's read model against its segment, and the lexicon in both forms."""
    for info in codec.latest_segments(codec.open_storage(str(path))):
        model = open_model(model_path(path, info.segment_id))
        if model.doc_count != info.doc_count:
            raise DamagedReadModel(f"read model {info.segment_id} does not match its segment")
    load_lexicon(path)
    LexiconModel(path / LEXICON_MODEL).lexicon()


def _remove_stale_models(index_path: Path, segments: list[codec.SegmentInfo] | None = None) -> None:
    """Delete read models of segments the TOC no longer lists (readers that map them keep their pages)."""
    if segments is None:
        segments = codec.latest_segments(codec.open_storage(str(index_path)))
    remove_stale(index_path, {s.segment_id for s in segments})


def _save_lexicon(lexicon: Lexicon, build_dir: Path) -> None:
    """Write the lexicon (the pickle, its source of record) and its mapped form."""
    save_lexicon(lexicon, build_dir)
    write_lexicon_model(lexicon, build_dir)


def _write_manifest(build_dir: Path, name: str, report: ReindexReport, sources: Sequence[str | Path]) -> None:
    """Record the schema version and the build's facts beside the index."""
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generation": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": report.indexed,
        "duplicates": report.duplicates,
        "rejects": len(report.rejects),
        "sources": [str(s) for s in sources],
    }
    (build_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _point_current(index_dir: Path, name: str) -> None:
    """Switch ``CURRENT`` to ``name`` atomically (and durably)."""
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / CURRENT)
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove_stale_builds(index_dir: Path) -> None:
    """Delete half-built generations left by a killed reindex (we hold the lock)."""
    for path in index_dir.glob(BUILD_PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)


def _prune_generations(index_dir: Path, keep: int) -> None:
    """Delete old generations, keeping the newest ``keep`` (the live one always)."""
    live = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    olds = sorted(p for p in index_dir.glob(GEN_PREFIX + "*") if p.name != live)
    for path in olds[: max(0, len(olds) - max(keep, 1) + 1)]:
        shutil.rmtree(path, ignore_errors=True)


def _open_live_index(index_dir: Path) -> Any:
    """Open the live generation's Whoosh index for writing, after checking its segments can be read."""
    generation = current_generation(index_dir)
    with damaged(
        f"index generation {generation.name}",
        advice=f"nothing was added: {REINDEX}",
        also=(whoosh_index.EmptyIndexError,),
    ):
        storage = codec.open_storage(str(generation.path))
        for info in codec.latest_segments(storage):
            codec.check_segment_files(storage, info.segment)
        return whoosh_index.open_dir(str(generation.path))


@contextmanager
def _live_writer(index_dir: Path, timeout: float) -> Iterator[tuple[Any, list[Segment]]]:
    """Yield a writer on the live generation and a list for bulk-written segments; commit both on success.

    The writer's commit lists the segments appended to the list (``write_segment``
    into the writer's folder) with its own, in one TOC.
    """
    with write_lock(index_dir, timeout):
        ix = _open_live_index(index_dir)
        try:
            writer = ix.writer(timeout=timeout)
        except LockError:
            raise IndexBusy(f"the index in {index_dir} is locked by another writer") from None
        codec.hook_commit(writer, write_read_models)
        folder = Path(ix.storage.folder)
        added: list[Segment] = []
        try:
            yield writer, added
        except BaseException:
            writer.cancel()
            _remove_unlisted_files(folder)
            raise
        try:
            segmentwriter.commit(writer, added)
        except BaseException:
            # A failed commit (disk full) leaves its half-written segment behind: remove it.
            _remove_unlisted_files(folder)
            raise
        # One read of the new TOC serves the clean-up and the manifest's count.
        segments = codec.latest_segments(codec.open_storage(str(folder)))
        _remove_stale_models(folder, segments)
        prune_additions(folder, writer.generation)
        _update_manifest_count(index_dir, segments)


def _remove_unlisted_files(index_path: Path) -> None:
    """Delete segment files and read models the live TOC does not list (a failed write's leftovers)."""
    try:
        storage = codec.open_storage(str(index_path))
        _remove_stale_models(index_path, codec.remove_unlisted_segments(storage))
        discard_additions_after(index_path, codec.toc_generation(storage))
    except OSError:
        log.warning("could not remove a failed write's files from %s", index_path.name)


def _update_manifest_count(index_dir: Path, segments: list[codec.SegmentInfo]) -> None:
    """Keep the manifest's document count equal to the index after an update (counted from its segments)."""
    generation = current_generation(index_dir)
    manifest = dict(generation.manifest, documents=sum(s.doc_count - len(s.deleted) for s in segments))
    tmp = generation.path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, generation.path / MANIFEST)


def add_articles(
    sources: Sequence[str | Path],
    index_dir: Path,
    timeout: float = 5.0,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> ReindexReport:
    """Insert or replace the articles of ``sources`` in the live generation."""
    started = time.perf_counter()
    expand_sources(sources)
    report = ReindexReport()
    articles = read_articles(sources, report, limits)
    if not articles:
        raise NothingToIndex(", ".join(map(str, sources)), "no valid article found")
    with _live_writer(Path(index_dir), timeout) as (writer, added):
        live = _live_docnums(writer, [a.id for a in articles])
        _record_lexicon_changes(writer, articles, live)
        if live is None:
            for article in articles:
                writer.update_document(**to_document(article))
        else:
            for docnums in live.values():
                for docnum in docnums:
                    writer.delete_document(docnum)
            # The new articles become one bulk-written segment, listed by the writer's commit.
            added.append(write_segment(Path(writer.storage.folder), articles))
    report.indexed = len(articles)
    report.generation = current_generation(Path(index_dir)).name
    report.seconds = time.perf_counter() - started
    return report


def delete_articles(ids: Sequence[str], index_dir: Path, timeout: float = 5.0) -> tuple[list[str], list[str]]:
    """Delete articles by id from the live generation; return (deleted, missing)."""
    deleted: list[str] = []
    missing: list[str] = []
    with _live_writer(Path(index_dir), timeout) as (writer, _):
        live = _live_docnums(writer, list(ids))
        _record_lexicon_changes(writer, (), live)
        if live is None:
            with writer.searcher() as searcher:
                live = {i: [d] for i in ids if (d := searcher.document_number(id=i)) is not None}
        for article_id in ids:
            if live.get(article_id):
                for docnum in live[article_id]:
                    writer.delete_document(docnum)
                deleted.append(article_id)
            else:
                missing.append(article_id)
    return deleted, missing


def _stored_texts(writer: Any, docnums: list[int]) -> list[tuple[str, str | None]]:
    """Return the stored (title, summary) of documents about to be deleted, opening only their segments."""
    texts: list[tuple[str, str | None]] = []
    if not docnums:
        return texts
    offset = 0
    for info in codec.writer_segments(writer):
        local = [d - offset for d in docnums if offset <= d < offset + info.doc_count]
        if local:
            reader = codec.open_segment(writer.storage, writer.schema, info.segment)
            try:
                for docnum in local:
                    fields = reader.stored_fields(docnum)
                    texts.append((fields.get("title") or "", fields.get("summary")))
            finally:
                reader.close()
        offset += info.doc_count
    return texts


def _record_lexicon_changes(
    writer: Any, added: Sequence[Article], replaced: dict[str, list[int]] | None
) -> None:
    """Count what an add or delete changes in the lexicon and write it just before the TOC ``writer`` commits.

    The titles and summaries of ``added`` count in; those of the ``replaced`` live
    documents (``_live_docnums``) count out, read from their stored fields (None, an
    unusable read model, skips this part). Suggestions and autocomplete then know a
    newly published name as soon as readers can find its article, without a reindex.
    """
    changes = LexiconBuilder()
    for title, summary in _stored_texts(writer, [d for ds in (replaced or {}).values() for d in ds]):
        changes.add(title, summary, weight=-1)
    for article in added:
        changes.add(article.title, article.summary)
    folder = Path(writer.storage.folder)
    toc = writer.generation

    def save(storage: Any, schema: Any, segments: list[Any]) -> None:
        record_additions(changes, folder, toc)

    codec.hook_commit(writer, save)


def _live_docnums(writer: Any, ids: list[str]) -> dict[str, list[int]] | None:
    """Return the live document numbers of each id from the read models (None if one is unusable).

    Finding ids in the mapped id dictionary spares opening Whoosh's term reader of
    the whole archive, most of an ``index add``'s time.
    """
    found: dict[str, list[int]] = {}
    folder = Path(writer.storage.folder)
    offset = 0
    for info in codec.writer_segments(writer):
        try:
            model = open_model(model_path(folder, info.segment_id), verify=False)
        except DamagedReadModel:
            return None
        id_field = model.fields["id"]
        for article_id in ids:
            index = id_field.find(article_id.encode("utf-8"))
            if index is None:
                continue
            for local in id_field.postings(index).docs.tolist():
                if local not in info.deleted:
                    found.setdefault(article_id, []).append(offset + local)
        offset += info.doc_count
    return found
