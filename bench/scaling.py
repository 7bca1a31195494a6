"""Measure how indexing and search grow with corpus size: build time, size, latency, memory.

python -m bench.scaling [--sizes 10000,30000,all,4x,10x | --growth] [--corpus FILE] [--out FILE]
python -m bench.scaling --write-archive FILE.jsonl.gz --copies 10

Each size's build and search run in a fresh subprocess, so peak RSS and memory are per size.
"""

from __future__ import annotations

import argparse
import calendar
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from bench import corpus, metrics, procmem, runinfo
from bench.tables import aligned, markdown_table

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = "10000,30000,all"
# The growth curve of issue #8: 10k, the corpus (58.8k), 4x (235k) and the 10x archive (588k).
GROWTH_SIZES = "10000,all,4x,10x"
PER_PAGE = 10
BUILD_PHASE = "_build"
SEARCH_PHASE = "_search"
# Copy k >= 1 of a replicated archive gets this suffix and k, so every id stays unique.
REPLICA_SUFFIX = "~r"
# A replicated archive is written as gzip JSONL: level 1 is fast, and the file is temporary.
ARCHIVE_COMPRESSLEVEL = 1


class ScalingError(RuntimeError):
    """A size could not be measured: bad size, or a phase subprocess failed."""


@dataclass(frozen=True)
class Size:
    """One corpus size: the lowest-SHA-1 `count` articles, all of them, or all `copies` times."""

    label: str
    count: int | None = None
    copies: int = 1


@dataclass
class SizeResult:
    """The numbers of one size."""

    label: str
    docs: int
    build_s: float
    docs_per_s: float
    size_mb: float
    build_rss_mb: float
    build_children_rss_mb: float
    open_s: float
    cold_ms: float
    latency: dict
    max_ms: float | None
    took: dict
    search_rss_mb: float
    queries: int
    errors: int
    first_error: str | None
    search_memory: procmem.MemorySplit | None = None


def parse_size(text: str) -> Size:
    """Parse `N`, `all` or `Kx` (all articles K times: fresh ids, dates k years back)."""
    text = text.strip().lower()
    if text == "all":
        return Size("all")
    if text.endswith("x") and text[:-1].isdigit() and int(text[:-1]) >= 1:
        return Size(text, copies=int(text[:-1]))
    if text.isdigit() and int(text) >= 1:
        return Size(text, count=int(text))
    raise ScalingError(f"size must be a positive count, 'all' or 'Kx', got {text!r}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="comma-separated: N, all, Kx (4x takes 20+ minutes on 2 cores; add it by hand)",
    )
    ap.add_argument(
        "--prebuilt",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also search an existing index directory (e.g. 10x=/tmp/idx-10x from bench.replicate); not built",
    )
    ap.add_argument("--growth", action="store_true", help=f"the growth curve: --sizes {GROWTH_SIZES} (hours)")
    ap.add_argument(
        "--write-archive", type=Path, default=None, help="only write a replicated gzip JSONL here"
    )
    ap.add_argument("--copies", type=int, default=10, help="copies of the corpus for --write-archive")
    ap.add_argument("--corpus", type=Path, default=None, help="JSONL(.gz) corpus (default: shared)")
    ap.add_argument("--queries", type=Path, default=None, help="queries JSONL (default: shared eval)")
    ap.add_argument("--max-queries", type=int, default=None, help="search at most this many queries")
    ap.add_argument("--procs", type=int, default=2, help="indexing processes")
    ap.add_argument("--workdir", type=Path, default=None, help="where slices and indexes go")
    ap.add_argument("--keep", action="store_true", help="keep the slices and indexes")
    ap.add_argument("--out", type=Path, default=None, help="append a Markdown section here")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure each size in turn, print the table, write the reports."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in (BUILD_PHASE, SEARCH_PHASE):
        return run_phase(argv)
    args = parse_args(argv)
    shared = corpus.default_shared_dir()
    source = args.corpus or shared / corpus.CORPUS_FILE
    queries = args.queries or shared / corpus.QUERIES_FILE
    if args.write_archive:
        return main_write_archive(source, args.write_archive, args.copies)
    try:
        sizes = [parse_size(s) for s in (GROWTH_SIZES if args.growth else args.sizes).split(",") if s.strip()]
        for path in (source, queries):
            if not path.exists():
                raise ScalingError(f"{path} not found")
        if args.workdir:
            refuse_repository_path(args.workdir)
        results = measure_all(sizes, source, queries, args) + measure_prebuilt(args.prebuilt, queries, args)
    except ScalingError as exc:
        print(f"bench.scaling: {exc}", file=sys.stderr)
        return 2
    print(terminal(results))
    meta = run_meta(source, args)
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(markdown(results, meta))
        print(f"report appended to {args.out}")
    if args.json:
        raw = {"meta": meta, "sizes": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def main_write_archive(source: Path, target: Path, copies: int) -> int:
    """Write the replicated archive only, and say where and how big."""
    try:
        if copies < 1:
            raise ScalingError(f"--copies must be at least 1, got {copies}")
        if not source.exists():
            raise ScalingError(f"{source} not found")
        refuse_repository_path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        written = write_slice(source, Size(f"{copies}x", copies=copies), target)
    except ScalingError as exc:
        print(f"bench.scaling: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - t0
    print(
        f"wrote {written} articles ({copies} copies) to {target}: {target.stat().st_size / 1e6:.0f} MB in {seconds:.0f} s"
    )
    return 0


def refuse_repository_path(path: Path) -> None:
    """Refuse to write corpus text inside the repository."""
    resolved = path.resolve()
    if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
        raise ScalingError(f"{path} is inside the repository; write corpus copies elsewhere (e.g. /tmp)")


def measure_all(sizes: list[Size], source: Path, queries: Path, args: argparse.Namespace) -> list[SizeResult]:
    """Write each slice, build it and search it, each phase in its own subprocess."""
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    results = []
    try:
        for size in sizes:
            work = root / size.label
            work.mkdir(parents=True, exist_ok=True)
            jsonl = slice_path(work, size)
            docs = write_slice(source, size, jsonl)
            print(f"== {size.label}: {docs} articles, building", flush=True)
            build = run_child([BUILD_PHASE, str(jsonl), str(work / "index"), str(args.procs)])
            print(f"   built in {build['seconds']:.1f} s; searching", flush=True)
            limit = "" if args.max_queries is None else str(args.max_queries)
            found = run_child([SEARCH_PHASE, str(work / "index"), str(queries), limit])
            results.append(size_result(size.label, build, found))
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return results


def iter_lines(path: Path) -> Iterator[str]:
    """Yield the non-blank lines of a JSONL file, gzip or plain."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line.rstrip("\n")


def slice_path(work: Path, size: Size) -> Path:
    """Return where a size's articles go: gzip JSONL for a replicated archive, plain JSONL otherwise."""
    return work / ("archive.jsonl.gz" if size.copies > 1 else "articles.jsonl")


def write_slice(source: Path, size: Size, target: Path) -> int:
    """Write the articles of one size to a JSONL file (gzip if it ends in .gz) and return how many.

    Streams line by line: copy 0 is the source as is, copy k >= 1 is every article again with
    a fresh id and its dates k years back, so a 10x archive never sits in memory.
    """
    chosen: set[str] | None = None
    if size.count is not None:
        # The lowest SHA-1 of the id mixes every source, unlike the corpus order.
        ids = sorted((corpus.record_id(line) for line in iter_lines(source)), key=corpus.sample_key)
        chosen = set(ids[: size.count])
    written = 0
    with open_output(target) as out:
        for copy in range(size.copies):
            for line in iter_lines(source):
                if chosen is not None and corpus.record_id(line) not in chosen:
                    continue
                out.write((replica(line, copy) if copy else line) + "\n")
                written += 1
    return written


def open_output(target: Path) -> TextIO:
    """Open a JSONL file for writing text, gzip-compressed when its name ends in .gz."""
    if target.suffix == ".gz":
        return gzip.open(target, "wt", encoding="utf-8", compresslevel=ARCHIVE_COMPRESSLEVEL)
    return target.open("w", encoding="utf-8")


def replica(line: str, copy: int) -> str:
    """Return the JSON line of an article's copy k: id `<id>~r<k>`, dates k years earlier."""
    record = json.loads(line)
    record["id"] = f"{record['id']}{REPLICA_SUFFIX}{copy}"
    if isinstance(record.get("published"), str):
        record["published"] = years_back(record["published"], copy)
    return json.dumps(record, ensure_ascii=False)


def years_back(stamp: str, years: int) -> str:
    """Return an ISO date or date-time `years` years earlier (29 February becomes the 28th)."""
    if len(stamp) < 10 or not stamp[:4].isdigit() or stamp[4] != "-":
        return stamp
    year = int(stamp[:4]) - years
    rest = stamp[4:]
    if rest.startswith("-02-29") and not calendar.isleap(year):
        rest = "-02-28" + rest[6:]
    return f"{year:04d}{rest}"


def run_child(phase_args: list[str]) -> dict:
    """Run one phase in a fresh interpreter and return the JSON it prints last."""
    command = [sys.executable, "-m", "bench.scaling", *phase_args]
    done = subprocess.run(command, check=False, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise ScalingError(f"{phase_args[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise ScalingError(f"{phase_args[0]} printed nothing:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def run_phase(argv: list[str]) -> int:
    """Run the build or search phase named by argv[0] and print its numbers as JSON."""
    if argv[0] == BUILD_PHASE:
        numbers = build_phase(Path(argv[1]), Path(argv[2]), int(argv[3]))
    else:
        numbers = search_phase(Path(argv[1]), Path(argv[2]), int(argv[3]) if argv[3:] and argv[3] else None)
    print(json.dumps(numbers))
    return 0


def build_phase(jsonl: Path, index_dir: Path, procs: int) -> dict:
    """Reindex the slice and return its time, size and peak RSS."""
    from searchsvc.indexer import reindex

    report = reindex([jsonl], index_dir, procs=procs)
    return {
        "docs": report.indexed,
        "seconds": report.seconds,
        "size_bytes": report.size_bytes,
        "rss_mb": peak_rss_mb(resource.RUSAGE_SELF),
        # The indexing subprocesses have been waited for, so they are counted here.
        "children_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


def search_phase(index_dir: Path, queries_path: Path, limit: int | None) -> dict:
    """Open the store, run every query once (facets on, 10 hits), return latencies and RSS."""
    from searchsvc.errors import SearchsvcError
    from searchsvc.search import SearchRequest, search
    from searchsvc.store import open_store

    queries = [q["q"] for q in corpus.read_jsonl(queries_path)][:limit]
    t0 = time.perf_counter()
    store = open_store(index_dir)
    open_s = time.perf_counter() - t0
    latencies, took, errors = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        try:
            response = search(store, SearchRequest(q=q, per_page=PER_PAGE))
        except SearchsvcError as exc:
            errors.append(f"{q!r}: {type(exc).__name__}: {exc}")
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        took.append(response.took_ms)
    # Read after the queries, with the store still open: what a searching process holds.
    memory = procmem.memory_split(os.getpid(), "search")
    return {
        "open_s": open_s,
        "latencies_ms": latencies,
        "took_ms": took,
        "queries": len(queries),
        "errors": errors,
        "rss_mb": peak_rss_mb(resource.RUSAGE_SELF),
        "memory": asdict(memory) if memory else None,
    }


def peak_rss_mb(who: int) -> float:
    """Return ru_maxrss (KiB on Linux) in MiB."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def measure_prebuilt(entries: list[str], queries: Path, args: argparse.Namespace) -> list[SizeResult]:
    """Search existing index directories (``LABEL=DIR``), each in its own subprocess; nothing is built."""
    from searchsvc.generations import current_generation, directory_size

    results = []
    for entry in entries:
        label, _, folder = entry.partition("=")
        if not folder:
            raise ScalingError(f"--prebuilt takes LABEL=DIR, got {entry!r}")
        generation = current_generation(Path(folder))
        build = {
            "docs": int(generation.manifest.get("documents", 0)),
            "seconds": 0.0,
            "size_bytes": directory_size(generation.path),
            "rss_mb": 0.0,
            "children_rss_mb": 0.0,
        }
        print(f"== {label}: prebuilt {folder} ({build['docs']} articles), searching", flush=True)
        limit = "" if args.max_queries is None else str(args.max_queries)
        results.append(size_result(label, build, run_child([SEARCH_PHASE, folder, str(queries), limit])))
    return results


def size_result(label: str, build: dict, found: dict) -> SizeResult:
    """Combine one size's build and search numbers."""
    latencies = found["latencies_ms"]
    # The first query pays for lazy loading (postings, lexicon pages): shown apart, kept in p99.
    return SizeResult(
        label=label,
        docs=build["docs"],
        build_s=round(build["seconds"], 2),
        docs_per_s=round(build["docs"] / build["seconds"], 1) if build["seconds"] else 0.0,
        size_mb=round(build["size_bytes"] / 1e6, 1),
        build_rss_mb=build["rss_mb"],
        build_children_rss_mb=build["children_rss_mb"],
        open_s=round(found["open_s"], 3),
        cold_ms=round(latencies[0], 1) if latencies else 0.0,
        latency=metrics.latency_summary(latencies),
        max_ms=round(max(latencies), 1) if latencies else None,
        took=metrics.latency_summary(found["took_ms"]),
        search_rss_mb=found["rss_mb"],
        queries=found["queries"],
        errors=len(found["errors"]),
        first_error=found["errors"][0] if found["errors"] else None,
        search_memory=procmem.MemorySplit(**found["memory"]) if found.get("memory") else None,
    )


def run_meta(source: Path, args: argparse.Namespace) -> dict:
    """Describe the machine, commit and options of this run."""
    return runinfo.run_meta(
        "python -m bench.scaling",
        corpus=str(source),
        procs=args.procs,
        prebuilt=list(getattr(args, "prebuilt", [])),
    )


def table(results: list[SizeResult]) -> list[list[str]]:
    """Tabulate the sizes, header row first."""
    rows = [
        [
            "size",
            "docs",
            "build s",
            "docs/s",
            "index MB",
            "build RSS MB (+procs)",
            "open s",
            "first query ms",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "search RSS MB",
            "queries",
            "errors",
        ]
    ]
    for r in results:
        rows.append(
            [
                r.label,
                str(r.docs),
                f"{r.build_s:.1f}",
                f"{r.docs_per_s:.0f}",
                f"{r.size_mb:.1f}",
                f"{r.build_rss_mb:.0f} (+{r.build_children_rss_mb:.0f})",
                f"{r.open_s:.2f}",
                f"{r.cold_ms:.1f}",
                _ms(r.latency["p50"]),
                _ms(r.latency["p95"]),
                _ms(r.latency["p99"]),
                _ms(r.max_ms),
                f"{r.search_rss_mb:.0f}",
                str(r.queries),
                str(r.errors),
            ]
        )
    return rows


def memory_table(results: list[SizeResult]) -> list[list[str]]:
    """Tabulate each size's searching-process memory split (MB), header row first."""
    rows = [["size", *procmem.HEADER[2:]]]
    rows += [[r.label, *r.search_memory.row()[2:]] for r in results if r.search_memory is not None]
    return rows


def terminal(results: list[SizeResult]) -> str:
    """Return the sizes as aligned text tables, with first errors under them."""
    lines = aligned(table(results))
    lines += [
        "",
        "searching process memory after its queries (MB, smaps_rollup):",
        *aligned(memory_table(results)),
    ]
    lines += [f"first error ({r.label}): {r.first_error}" for r in results if r.first_error]
    return "\n" + "\n".join(lines)


def markdown(results: list[SizeResult], meta: dict) -> str:
    """Return one Markdown section describing the sizes."""
    lines = [
        *runinfo.section_head("Scaling with corpus size", meta),
        (
            f"- Corpus `{meta['corpus']}`: a count N takes the N articles with the lowest SHA-1 of "
            f"their id (every source mixed); `Kx` is every article K times (a gzip JSONL archive), "
            f"copy k with id `<id>{REPLICA_SUFFIX}k` and `published` k years earlier, titles and "
            f"text unchanged. `reindex(procs={meta['procs']})`; the slice is written before, untimed"
        ),
        (
            f"- Machine: {runinfo.machine_text(meta['machine'])}; "
            f"load average at end {runinfo.load_text(meta['load_at_end'])}"
        ),
        (
            "- Search: in process, sequential, every eval query once, 10 hits, facets and "
            "highlights on; a fresh process per size, so search RSS (`ru_maxrss`) is that "
            "size's. Build RSS is the reindex process, (+ its indexing subprocesses' peak)."
        ),
        *(
            [
                "- Prebuilt (`--prebuilt`, not built here, build columns 0): "
                + ", ".join(
                    f"{entry.partition('=')[0]} = `{entry.partition('=')[2]}`" for entry in meta["prebuilt"]
                )
                + "; an index made by `bench.replicate` repeats every id K times (speed and memory only)."
            ]
            if meta.get("prebuilt")
            else []
        ),
        "",
        *markdown_table(table(results)),
        "",
        (
            "Memory of each size's searching process after its queries (store still open), from "
            "`/proc/self/smaps_rollup`, in MB (MiB): Private = Private_Clean + Private_Dirty; "
            "Anonymous is the heap, as opposed to file-backed pages such as a memory-mapped index; "
            "alone, Pss equals Rss less what it shares with other processes (libraries)."
        ),
        "",
        *markdown_table(memory_table(results)),
    ]
    lines += [f"- First error ({r.label}): `{r.first_error}`" for r in results if r.first_error]
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    """Format milliseconds."""
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
