"""Compare the Whoosh distributions under searchsvc: indexing (procs 1 and 2) and query speed.

python bench/whoosh_choice.py [--python LABEL=PATH ...] [--articles 10000] [--rounds 3]
                              [--tests] [--out bench/WHOOSH-CHOICE.md]

Each distribution lives in its own venv (searchsvc installed editable, only the Whoosh
distribution differs). Every measurement runs in a fresh interpreter of that venv
(`PATH --worker build|search ...`), and the distributions alternate round by round
(A B A B A B), so a change in the shared machine's load hits both alike. The reported
numbers are medians over the rounds. With `--tests` the test suite runs first in each venv.

searchsvc is imported from a `git archive` export of `--commit` (default HEAD), through
PYTHONPATH, so edits to the shared work tree cannot change the code during the run;
`--worktree` measures the work tree as it is instead.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PYTHONS = ("whoosh-2.7.4=/tmp/venv-w274/bin/python", "whoosh3-3.54.0=/tmp/venv-w3/bin/python")
PROCS = (1, 2)
Pick = Callable[[dict], float]  # one number out of a worker result
PER_PAGE = 10
TEST_COMMAND = ("-m", "pytest", "-q", "-m", "not browser", "-x", "-p", "no:cacheprovider")


class ChoiceError(RuntimeError):
    """A worker or a test run could not be started or printed no result."""


@dataclass
class Distribution:
    """One venv under test and everything measured in it."""

    label: str
    python: str
    code: Path = REPO_ROOT
    version: str = "?"
    package: str = "?"
    builds: dict[int, list[dict]] = field(default_factory=lambda: {p: [] for p in PROCS})
    searches: list[dict] = field(default_factory=list)
    tests: str = "not run"


# --- worker side: runs inside the venv under test ------------------------------------------


def worker_build(jsonl: Path, index_dir: Path, procs: int) -> dict:
    """Reindex the slice with `procs` processes and return docs/s, size and segment count."""
    from whoosh import index as whoosh_index

    from searchsvc.indexer import reindex

    load = os.getloadavg()[0]
    started = time.perf_counter()
    report = reindex([jsonl], index_dir, procs=procs)
    seconds = time.perf_counter() - started
    ix = whoosh_index.open_dir(str(index_dir / report.generation))
    with ix.reader() as reader:
        segments = len(reader.leaf_readers())
        # MpWriter drops a sub-writer's segment silently when it is missing from the
        # result queue, so count what the index really holds.
        in_index = reader.doc_count()
    return {
        "docs": report.indexed,
        "in_index": in_index,
        "seconds": seconds,
        "docs_per_s": report.indexed / seconds,
        "size_bytes": report.size_bytes,
        "segments": segments,
        "load": load,
    }


def worker_search(index_dir: Path, queries_path: Path) -> dict:
    """Run every eval query twice (cold, then warm) and return latencies and first-pass top ids."""
    from searchsvc.search import SearchRequest, search
    from searchsvc.store import open_store

    queries = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines() if line]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    store = open_store(index_dir)
    open_s = time.perf_counter() - started
    passes: list[list[float]] = []
    tops: list[dict[str, list[str]]] = []
    for _ in range(2):
        latencies: list[float] = []
        top: dict[str, list[str]] = {}
        for query in queries:
            t0 = time.perf_counter()
            response = search(store, SearchRequest(q=query["q"], per_page=PER_PAGE))
            latencies.append((time.perf_counter() - t0) * 1000)
            top[query["qid"]] = [hit.id for hit in response.hits]
        passes.append(latencies)
        tops.append(top)
    return {
        "open_s": open_s,
        "cold_ms": passes[0],
        "warm_ms": passes[1],
        "top": tops[0],
        "passes_agree": tops[0] == tops[1],
        "load": load,
    }


def worker_version() -> dict:
    """Return the imported Whoosh version and the distribution that provides it."""
    from importlib import metadata

    import whoosh

    import searchsvc

    packages = [name for name in ("whoosh3", "Whoosh") if _installed(metadata, name)]
    return {
        "version": ".".join(map(str, whoosh.__version__)),
        "package": "+".join(packages) or "?",
        "searchsvc": searchsvc.__file__,
    }


def _installed(metadata: ModuleType, name: str) -> bool:
    """Tell whether a distribution is installed."""
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def run_worker(args: argparse.Namespace) -> int:
    """Run one worker phase and print its result as one JSON line."""
    if args.worker == "build":
        result = worker_build(Path(args.slice), Path(args.index_dir), args.procs)
    elif args.worker == "search":
        result = worker_search(Path(args.index_dir), Path(args.queries))
    else:
        result = worker_version()
    print(json.dumps(result))
    return 0


# --- driver side ----------------------------------------------------------------------------


def call_worker(dist: Distribution, phase_args: list[str]) -> dict:
    """Run a worker in the distribution's venv; a failure becomes {"error": last stderr line}."""
    command = [dist.python, str(Path(__file__).resolve()), "--worker", *phase_args]
    done = subprocess.run(
        command, check=False, cwd=dist.code, env=code_env(dist.code), capture_output=True, text=True
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return {"error": tail[-1] if tail else f"exit {done.returncode}", "stderr": done.stderr[-3000:]}
    return json.loads(lines[-1])


def code_env(code: Path) -> dict[str, str]:
    """Return the environment that makes `searchsvc` import from `code` rather than the editable install."""
    return {**os.environ, "PYTHONPATH": str(code)}


def export_commit(commit: str, workdir: Path, shared: Path) -> Path:
    """Export a commit's tree to workdir/main, with shared/ beside it as the tests expect."""
    code = workdir / "main"
    code.mkdir()
    archive = subprocess.run(["git", "archive", commit], check=True, cwd=REPO_ROOT, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(code)], check=True, input=archive.stdout)
    (workdir / "shared").symlink_to(shared.resolve())
    return code


def write_slice(source: Path, count: int, target: Path) -> tuple[int, int]:
    """Write `count` articles evenly spaced through the corpus (about every Nth); return (written, total)."""
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    total = len(lines)
    picked = [lines[i * total // count] for i in range(min(count, total))]
    target.write_text(
        "".join(line if line.endswith("\n") else line + "\n" for line in picked), encoding="utf-8"
    )
    return len(picked), total


def slice_ids(jsonl: Path) -> set[str]:
    """Return the article ids of a slice."""
    return {json.loads(line)["id"] for line in jsonl.read_text(encoding="utf-8").splitlines() if line}


def run_tests(dist: Distribution) -> str:
    """Run the test suite in the distribution's venv and return pytest's summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        [dist.python, *TEST_COMMAND],
        check=False,
        cwd=dist.code,
        env=code_env(dist.code),
        capture_output=True,
        text=True,
    )
    lines = [line.strip("= ") for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else f"exit {done.returncode}"
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    wall = f"{time.perf_counter() - started:.0f} s wall"
    return "; ".join([summary, *failed[:3]]) if failed else f"{summary} ({wall})"


def measure(dists: list[Distribution], jsonl: Path, queries: Path, workdir: Path, rounds: int) -> None:
    """Build with procs 1 and 2 and search the procs=1 index, alternating the distributions."""
    for round_no in range(1, rounds + 1):
        for dist in dists:
            for procs in PROCS:
                index_dir = workdir / f"{dist.label}-r{round_no}-p{procs}"
                result = call_worker(
                    dist,
                    ["build", "--slice", str(jsonl), "--index-dir", str(index_dir), "--procs", str(procs)],
                )
                dist.builds[procs].append(result)
                _progress(f"round {round_no} {dist.label} build procs={procs}", result)
            searched = workdir / f"{dist.label}-r{round_no}-p1"
            result = call_worker(dist, ["search", "--index-dir", str(searched), "--queries", str(queries)])
            dist.searches.append(result)
            _progress(f"round {round_no} {dist.label} search", result)
            for procs in PROCS:
                shutil.rmtree(workdir / f"{dist.label}-r{round_no}-p{procs}", ignore_errors=True)


def _progress(what: str, result: dict) -> None:
    """Print one line per worker run to stderr."""
    if "error" in result:
        print(f"{what}: ERROR {result['error']}", file=sys.stderr)
    elif "docs_per_s" in result:
        print(f"{what}: {result['docs_per_s']:.0f} docs/s, load {result['load']:.2f}", file=sys.stderr)
    else:
        cold = percentile(result["cold_ms"], 50)
        warm = percentile(result["warm_ms"], 50)
        print(
            f"{what}: p50 cold {cold:.1f} ms, warm {warm:.1f} ms, load {result['load']:.2f}", file=sys.stderr
        )


def percentile(values: list[float], pct: float) -> float:
    """Return the nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def median_of(results: list[dict], pick: Pick) -> float | None:
    """Return the median of `pick(result)` over the successful results."""
    values = [pick(r) for r in results if "error" not in r]
    return statistics.median(values) if values else None


def spread(results: list[dict], pick: Pick, fmt: str) -> str:
    """Format the median with the min-max range of the successful results."""
    values = [pick(r) for r in results if "error" not in r]
    if not values:
        return "fails"
    text = format(statistics.median(values), fmt)
    if len(values) > 1:
        text += f" ({format(min(values), fmt)}-{format(max(values), fmt)})"
    failures = len(results) - len(values)
    return text + (f", {failures} of {len(results)} failed" if failures else "")


def relevance(search: dict, queries: list[dict], in_slice: set[str]) -> tuple[float, int]:
    """Return MRR@10 over the queries whose target is in the slice, and their number."""
    reciprocal = []
    for query in queries:
        if not set(query["relevant"]) & in_slice:
            continue
        ids = search["top"].get(query["qid"], [])
        rank = next((i for i, hit in enumerate(ids, 1) if hit in query["relevant"]), None)
        reciprocal.append(1 / rank if rank else 0.0)
    return (sum(reciprocal) / len(reciprocal) if reciprocal else 0.0), len(reciprocal)


def agreement(dists: list[Distribution]) -> str:
    """Compare the first successful search's top 10 of every distribution with the first one's."""
    tops = [next((s["top"] for s in d.searches if "error" not in s), None) for d in dists]
    if any(top is None for top in tops):
        return "not comparable (a search failed)"
    base = tops[0]
    assert base is not None  # checked above
    notes = []
    for dist, top in zip(dists[1:], tops[1:], strict=True):
        assert top is not None
        same = sum(1 for qid, ids in base.items() if top.get(qid) == ids)
        notes.append(f"{dist.label} vs {dists[0].label}: {same} of {len(base)} queries with identical top 10")
    return "; ".join(notes)


def machine() -> str:
    """Describe the CPU, RAM and Python of this machine."""
    cpu = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")
            ),
            "?",
        )
    ram = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        ram = f"{kib / 1024 / 1024:.1f} GB RAM"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def resolve_commit(rev: str) -> str:
    """Return the short hash of a revision (raises ChoiceError when git does not know it)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "--verify", f"{rev}^{{commit}}"],
        check=False,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ChoiceError(f"unknown revision {rev!r}: {done.stderr.strip()}")
    return done.stdout.strip()


def tree_changes() -> int:
    """Return how many files the work tree changes against HEAD."""
    status = subprocess.run(
        ["git", "status", "--porcelain"], check=False, cwd=REPO_ROOT, capture_output=True, text=True
    )
    return len([ln for ln in status.stdout.splitlines() if ln.strip()])


def loads() -> str:
    """Return the 1/5/15-minute load averages."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def markdown(dists: list[Distribution], meta: dict, queries: list[dict], in_slice: set[str]) -> str:
    """Return the report: the settings, the side-by-side table and the per-round numbers."""
    head = ["", *(f"{d.label} (`{d.package}` {d.version})" for d in dists)]
    rows: list[list[str]] = []

    def row(name: str, cell: Callable[[Distribution], str]) -> None:
        rows.append([name, *(cell(d) for d in dists)])

    for procs in PROCS:

        def docs_per_s(d: Distribution, p: int = procs) -> str:
            return spread(d.builds[p], lambda r: r["docs_per_s"], ".0f")

        row(f"index docs/s, procs={procs}", docs_per_s)
    for procs in PROCS:

        def build_s(d: Distribution, p: int = procs) -> str:
            return spread(d.builds[p], lambda r: r["seconds"], ".1f")

        row(f"index build s, procs={procs}", build_s)
    for procs in PROCS:

        def sizes(d: Distribution, p: int = procs) -> str:
            return _first(
                d.builds[p], lambda r: f"{r['in_index']} / {r['size_bytes'] / 1e6:.1f} / {r['segments']}"
            )

        row(f"docs in index / MB / segments, procs={procs}", sizes)
    row("open_store s", lambda d: spread(d.searches, lambda r: r["open_s"], ".2f"))
    for phase in ("cold", "warm"):
        for pct in (50, 95):

            def latency(d: Distribution, ph: str = phase, q: int = pct) -> str:
                return spread(d.searches, lambda r: percentile(r[f"{ph}_ms"], q), ".1f")

            row(f"query p{pct} ms, {phase}", latency)
    row(
        "MRR@10 (targets in slice)",
        lambda d: _first(
            d.searches, lambda r: "{:.3f} ({} queries)".format(*relevance(r, queries, in_slice))
        ),
    )
    row(
        "cold and warm top 10 agree",
        lambda d: _first(d.searches, lambda r: "yes" if r["passes_agree"] else "no"),
    )
    row("test suite (`not browser`)", lambda d: d.tests)
    row(
        "load (1 min) at worker starts",
        lambda d: "/".join(f"{r['load']:.1f}" for r in [*_all(d)] if "error" not in r),
    )
    lines = [
        f"# Whoosh distributions under searchsvc, {meta['date']}",
        "",
        "Generated by `python bench/whoosh_choice.py " + " ".join(meta["argv"]) + "`; do not edit by hand.",
        "",
        (
            f"- Machine: {meta['machine']}. Shared with other jobs: load average (1/5/15 min) "
            f"{meta['load_before']} before, {meta['load_after']} after. Compare within this run only."
        ),
        f"- Commit: `{meta['commit']}`.",
        (
            f"- Slice: {meta['docs']} of the {meta['total']} articles of `{meta['corpus']}`, evenly "
            f"spaced (about every {meta['total'] / meta['docs']:.1f}th), written once before the builds."
        ),
        (
            "- Indexing: `searchsvc.indexer.reindex([slice], dir, procs=P)` in a fresh process, "
            "wall time of the whole call (read, analyse, write, lexicon, commit)."
        ),
        (
            f"- Queries: the {len(queries)} queries of `{meta['queries']}` through "
            "`searchsvc.search.search` (10 hits, facets and highlights on) on the procs=1 index, in a "
            "fresh process: first pass cold (empty caches; the OS page cache is warm from the "
            "build), second pass warm. Latency percentiles are nearest-rank."
        ),
        (
            f"- Rounds: {meta['rounds']}, alternating the distributions ({' '.join(d.label for d in dists)} "
            "per round); each cell is the median (min-max over the rounds)."
        ),
        f"- Result agreement: {agreement(dists)}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    errors = [(d.label, r) for d in dists for r in _all(d) if "error" in r]
    if errors:
        lines += ["", "## Failures", ""]
        lines += [f"- {label}: `{r['error']}`" for label, r in errors]
    return "\n".join(lines) + "\n"


def _all(dist: Distribution) -> list[dict]:
    """Return every worker result of a distribution, builds first."""
    return [*dist.builds[1], *dist.builds[2], *dist.searches]


def _first(results: list[dict], show: Callable[[dict], str]) -> str:
    """Show the first successful result, or say that all failed."""
    ok = [r for r in results if "error" not in r]
    return show(ok[0]) if ok else "fails"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the driver and worker options."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", action="append", help="LABEL=PATH of a venv's python (repeatable)")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tests", action="store_true", help="run the test suite in each venv first")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "WHOOSH-CHOICE.md"))
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--commit", default="HEAD", help="measure this commit, exported to a temp dir")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="measure the work tree as it is (it may change during the run)",
    )
    parser.add_argument("--worker", choices=["build", "search", "version"], help=argparse.SUPPRESS)
    parser.add_argument("--slice", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", help=argparse.SUPPRESS)
    parser.add_argument("--procs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure every distribution and write the Markdown report."""
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    dists = []
    for spec in args.python or DEFAULT_PYTHONS:
        label, _, python = spec.partition("=")
        if not Path(python).exists():
            raise ChoiceError(f"{label}: no python at {python}")
        dists.append(Distribution(label, python))
    shared = Path(args.shared)
    corpus = shared / "corpus" / "articles.jsonl.gz"
    queries_path = shared / "eval" / "queries.jsonl"
    meta = {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine(),
        "commit": (
            f"work tree at {resolve_commit('HEAD')} (+{tree_changes()} changed files)"
            if args.worktree
            else f"{resolve_commit(args.commit)}, exported with git archive"
        ),
        "load_before": loads(),
        "rounds": args.rounds,
        "corpus": "shared/corpus/articles.jsonl.gz",
        "queries": "shared/eval/queries.jsonl",
    }
    with tempfile.TemporaryDirectory(prefix="whoosh-choice-") as tmp:
        workdir = Path(tmp)
        code = REPO_ROOT if args.worktree else export_commit(resolve_commit(args.commit), workdir, shared)
        for dist in dists:
            dist.code = code
            found = call_worker(dist, ["version"])
            if "error" in found:
                raise ChoiceError(f"{dist.label}: cannot import whoosh and searchsvc: {found['error']}")
            dist.version, dist.package = found["version"], found["package"]
            if Path(found["searchsvc"]).resolve().parent.parent != code.resolve():
                raise ChoiceError(f"{dist.label}: searchsvc imports from {found['searchsvc']}, not {code}")
            if args.tests:
                dist.tests = run_tests(dist)
                print(f"{dist.label} tests: {dist.tests}", file=sys.stderr)
        jsonl = workdir / "slice.jsonl"
        meta["docs"], meta["total"] = write_slice(corpus, args.articles, jsonl)
        in_slice = slice_ids(jsonl)
        measure(dists, jsonl, queries_path, workdir, args.rounds)
    meta["load_after"] = loads()
    queries = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines() if line]
    report = markdown(dists, meta, queries, in_slice)
    Path(args.out).write_text(report, encoding="utf-8")
    if args.json:
        raw = [
            {
                "label": d.label,
                "version": d.version,
                "builds": d.builds,
                "searches": d.searches,
                "tests": d.tests,
            }
            for d in dists
        ]
        Path(args.json).write_text(json.dumps({"meta": meta, "dists": raw}), encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
