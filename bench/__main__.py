"""Run every engine over the same workload and write the comparison report.

python -m bench [--quick|--full] [--limit N] [--engines a,b] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus, metrics, report, runinfo
from bench.engines import ENGINE_NAMES, make_engine
from bench.engines.base import Engine, EngineResult

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "bench" / "RESULTS.md"
TOP_K = 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick")
    mode.add_argument("--full", dest="mode", action="store_const", const="full")
    ap.set_defaults(mode="quick")
    ap.add_argument("--limit", type=int, default=3000, help="quick mode: articles in the slice")
    ap.add_argument(
        "--max-targets",
        type=int,
        default=None,
        help="quick mode: at most this many query targets (default limit/5)",
    )
    ap.add_argument("--engines", default=",".join(ENGINE_NAMES), help="comma-separated names")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report path")
    ap.add_argument("--json", type=Path, default=None, help="also write raw results here")
    ap.add_argument("--shared", type=Path, default=None, help="shared/ dir (default ../shared)")
    ap.add_argument("--procs", type=int, default=1, help="indexing processes/threads")
    ap.add_argument("--limitmb", type=int, default=256, help="Whoosh writer memory per proc")
    ap.add_argument("--workdir", type=Path, default=None, help="where indexes are built")
    ap.add_argument("--keep", action="store_true", help="keep the built indexes")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the workload, bench each engine in turn, print and write the report."""
    args = parse_args(argv)
    shared = args.shared or corpus.default_shared_dir()
    if not (shared / corpus.CORPUS_FILE).exists():
        print(f"bench: no corpus at {shared / corpus.CORPUS_FILE}", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINE_NAMES]
    if unknown:
        print(f"bench: unknown engine(s) {unknown}; known: {list(ENGINE_NAMES)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    # Taken before the run: the tree may get new commits while the engines run.
    commit, load = runinfo.git_commit(), os.getloadavg()
    workload = load_workload(args, shared)
    print(
        f"{workload.mode}: {len(workload.articles)} articles, {len(workload.queries)} "
        f"known-item queries, {len(workload.counts)} count checks "
        f"(loaded in {time.perf_counter() - started:.1f} s)"
    )
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-"))
    results = []
    for name in names:
        print(f"== {name}", flush=True)
        results.append(run_engine(name, workload, args, root / name))
        if not args.keep:
            shutil.rmtree(root / name, ignore_errors=True)
    if not args.keep and args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    run = {
        "meta": run_meta(args, workload, time.perf_counter() - started, commit, load),
        "engines": results,
    }
    print(report.terminal(run))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.markdown(run), encoding="utf-8")
    print(f"report written to {args.out}")
    if args.json:
        args.json.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def load_workload(args: argparse.Namespace, shared: Path) -> corpus.Workload:
    """Load the full corpus or the quick slice."""
    if args.mode == "full":
        return corpus.load_full(shared)
    return corpus.load_quick(shared, args.limit, args.max_targets)


def run_engine(name: str, workload: corpus.Workload, args: argparse.Namespace, workdir: Path) -> dict:
    """Build one engine, run both query passes, and summarize its numbers."""
    row: dict = {"name": name, "status": "ok"}
    try:
        engine = make_engine(name, procs=args.procs, limitmb=args.limitmb)
    except ImportError as exc:
        print(f"{name}: not available ({exc})")
        return dict(row, status="not available", reason=str(exc))
    try:
        row.update(build(engine, workload.articles, workdir))
        print(f"  built {len(workload.articles)} docs in {row['build_s']:.1f} s", flush=True)
        row.update(query_passes(engine, workload))
    # The harness is an edge: one engine failing must not lose the other engines' numbers.
    except Exception as exc:  # noqa: BLE001
        print(f"{name}: failed ({type(exc).__name__}: {exc})")
        return dict(row, status="failed", reason=f"{type(exc).__name__}: {exc}")
    finally:
        engine.close()
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def build(engine: Engine, articles: list[dict], workdir: Path) -> dict:
    """Time the engine's build and measure its index on disk."""
    workdir.mkdir(parents=True, exist_ok=True)
    prepare = getattr(engine, "prepare", None)
    if callable(prepare):
        prepare(articles, workdir)
    t0 = time.perf_counter()
    engine.build(articles, workdir)
    seconds = time.perf_counter() - t0
    return {
        "docs": len(articles),
        "build_s": round(seconds, 3),
        "docs_per_s": round(len(articles) / seconds, 1),
        "size_mb": round(dir_size(workdir) / 1e6, 2),
    }


def query_passes(engine: Engine, workload: corpus.Workload) -> dict:
    """Run known-item queries without facets, then all queries with facets and totals."""
    errors: list[str] = []
    if workload.queries:
        timed_search(engine, workload.queries[0]["q"], {}, TOP_K, False, [])
    plain, plain_ms = run_queries(engine, workload.queries, False, errors)
    faceted, faceted_ms = run_queries(engine, workload.queries, True, errors)
    counted, counted_ms = run_queries(engine, workload.counts, True, errors)
    return {
        "latency_plain_ms": plain_ms,
        "latency_facets_ms": faceted_ms + counted_ms,
        "latency_plain": metrics.latency_summary(plain_ms),
        "latency_facets": metrics.latency_summary(faceted_ms + counted_ms),
        "relevance": metrics.relevance(plain, TOP_K),
        "relevance_with_facets": metrics.relevance(faceted, TOP_K)["all"] if faceted else None,
        "counts": metrics.count_exactness(counted),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def run_queries(
    engine: Engine, rows: list[dict], facets: bool, errors: list[str]
) -> tuple[list[tuple[dict, EngineResult]], list[float]]:
    """Run each row's query once; return (row, result) pairs and latencies in ms."""
    answered, latencies = [], []
    for row in rows:
        result, ms = timed_search(engine, row["q"], row.get("params") or {}, TOP_K, facets, errors)
        answered.append((row, result))
        latencies.append(ms)
    return answered, latencies


def timed_search(
    engine: Engine, q: str, params: dict, k: int, facets: bool, errors: list[str]
) -> tuple[EngineResult, float]:
    """Run one search; an engine error counts as an empty answer, like a non-200."""
    t0 = time.perf_counter()
    try:
        result = engine.search(q, params, k, facets)
    except Exception as exc:  # noqa: BLE001 - scored as a failed answer, reported below
        errors.append(f"{q!r}: {type(exc).__name__}: {exc}")
        result = EngineResult(ids=[], total=-1, category_counts=None)
    return result, (time.perf_counter() - t0) * 1000


def dir_size(path: Path) -> int:
    """Return the total size in bytes of the files under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peak_rss_mb() -> dict:
    """Return the peak RSS so far of this process and of its waited-for children."""
    # ru_maxrss is in KiB on Linux; it only grows, so later engines inherit earlier peaks.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self": round(own, 1), "children": round(children, 1)}


def run_meta(
    args: argparse.Namespace,
    workload: corpus.Workload,
    seconds: float,
    commit: str,
    load: tuple[float, float, float],
) -> dict:
    """Describe the machine, software and workload of this run."""
    return runinfo.run_meta(
        "python -m bench",
        git_commit=commit,
        load_at_start=[round(x, 2) for x in load],
        mode=workload.mode,
        articles=len(workload.articles),
        queries=len(workload.queries),
        count_checks=len(workload.counts),
        counts_source=workload.counts_source,
        notes=workload.notes,
        procs=args.procs,
        limitmb=args.limitmb,
        seconds=round(seconds, 1),
    )


if __name__ == "__main__":
    sys.exit(main())
