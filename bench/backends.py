"""Both backends side by side on one corpus, in one run: index time and size, relevance, latency, load.

python -m bench.backends --opensearch-url http://127.0.0.1:9200 [--source FILE] [--work DIR]
                         [--workers 2] [--clients 16] [--duration 20] [--out FILE] [--skip-build]

For each backend (embedded, then OpenSearch): `searchsvc reindex` of the corpus
(wall time), `searchsvc stats --json` (size), then a served instance scored by
`../shared/eval/score.py` over HTTP (queries, counts, precision), the sequential
scenario of `bench.load` (300 rare + head queries from a fresh start) and its mixed
scenario at ``--clients`` connections. One table, the machine's load at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import corpus, runinfo
from bench.load import serving
from bench.tables import markdown_table

REPO_ROOT = Path(__file__).resolve().parents[1]
EVAL_FILES = ("queries.jsonl", "counts.jsonl", "precision.jsonl")
BACKENDS = ("embedded", "opensearch")


@dataclass
class BackendRun:
    """What one backend measured."""

    name: str
    reindex_s: float | None = None
    size_bytes: int | None = None
    documents: int | None = None
    score: dict[str, Any] = field(default_factory=dict)
    sequential: dict[str, Any] = field(default_factory=dict)
    mixed: dict[str, Any] = field(default_factory=dict)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__.splitlines()[0])
    ap.add_argument("--opensearch-url", required=True, help="the cluster the OpenSearch backend uses")
    ap.add_argument("--index", default="bench_backends", help="the OpenSearch alias to build and serve")
    ap.add_argument("--source", type=Path, default=None, help="corpus (default: the shared corpus)")
    ap.add_argument("--work", type=Path, default=None, help="where the embedded index and configs go")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers of each served instance")
    ap.add_argument("--clients", type=int, default=16, help="connections of the mixed load")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the mixed load")
    ap.add_argument("--procs", type=int, default=2, help="embedded reindex processes")
    ap.add_argument("--skip-build", action="store_true", help="measure indexes built by an earlier run")
    ap.add_argument("--out", type=Path, default=None, help="append the Markdown section here")
    ap.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    return ap.parse_args(argv)


def write_config(path: Path, backend: str, index_dir: Path, args: argparse.Namespace) -> Path:
    """Write the settings file one backend is built and served with."""
    lines = [f'[index]\ndir = "{index_dir}"\nprocs = {args.procs}\n']
    if backend == "opensearch":
        lines.append(
            f'[backend]\nkind = "opensearch"\nurl = "{args.opensearch_url}"\nindex = "{args.index}"\n'
        )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def cli(config: Path, *words: str) -> subprocess.CompletedProcess[str]:
    """Run one searchsvc command with a settings file, failing loudly."""
    command = [sys.executable, "-m", "searchsvc.cli", "--config", str(config), *words]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"bench.backends: {' '.join(words)} failed: {done.stderr.strip()[-500:]}")
    return done


def build(run: BackendRun, config: Path, source: Path) -> None:
    """Rebuild one backend's index from the corpus, timing the whole command."""
    started = time.monotonic()
    cli(config, "reindex", str(source))
    run.reindex_s = round(time.monotonic() - started, 1)


def measure(run: BackendRun, config: Path, index_dir: Path, shared: Path, args: argparse.Namespace) -> None:
    """Read the size, then serve the index and score it, time it sequentially and load it."""
    stats = json.loads(cli(config, "stats", "--json").stdout)
    run.size_bytes, run.documents = stats.get("size_bytes"), stats.get("documents")
    eval_dir = shared / "eval"
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        summary = Path(tmp) / "score.json"
        with serving(argparse.Namespace(port=0, config=config), index_dir, args.workers) as served:
            score = [
                sys.executable,
                str(eval_dir / "score.py"),
                "--base-url",
                f"http://127.0.0.1:{served.port}",
            ]
            subprocess.run(
                [*score, *(str(eval_dir / f) for f in EVAL_FILES), "--json", str(summary)], check=True
            )
        run.score = json.loads(summary.read_text(encoding="utf-8"))
        for scenario, target, extra in (
            ("sequential-cold", run.sequential, []),
            ("mixed", run.mixed, ["--concurrency", str(args.clients), "--duration", str(args.duration)]),
        ):
            raw = Path(tmp) / f"{scenario}.json"
            command = [
                sys.executable,
                "-m",
                "bench.load",
                "--scenario",
                scenario,
                "--index-dir",
                str(index_dir),
            ]
            command += ["--config", str(config), "--workers", str(args.workers), "--json", str(raw), *extra]
            subprocess.run(command, cwd=REPO_ROOT, check=False)
            if raw.is_file():
                target.update(json.loads(raw.read_text(encoding="utf-8"))["scenario"])


def _phase(result: dict[str, Any]) -> dict[str, Any]:
    """Return the measured phase of a scenario result (the last one)."""
    phases = result.get("phases") or [{}]
    return dict(phases[-1])


def rows(runs: list[BackendRun]) -> list[list[str]]:
    """Return the comparison table: one row per figure, one column per backend."""

    def figure(run: BackendRun, name: str) -> str:
        score, seq, mixed = run.score, _phase(run.sequential), _phase(run.mixed)
        kinds = score.get("known_item") or {}
        counts = score.get("counts") or {}
        precision = score.get("precision") or {}
        latency = score.get("latency_ms") or {}
        values: dict[str, Any] = {
            "reindex s": run.reindex_s,
            "index MB": round(run.size_bytes / 1e6) if run.size_bytes else None,
            "documents": run.documents,
            **{f"MRR@10 {k}": round(v.get("mrr", 0), 3) for k, v in kinds.items()},
            **{f"{k} exact": round(v.get("exact_total", 0), 3) for k, v in counts.items()},
            **{f"{k} p@10": round(v.get("precision_at_10", 0), 3) for k, v in precision.items()},
            "score.py p50 ms": latency.get("p50"),
            "score.py p95 ms": latency.get("p95"),
            "sequential p50 ms": (seq.get("latency") or {}).get("p50"),
            "sequential p95 ms": (seq.get("latency") or {}).get("p95"),
            f"req/s at {mixed.get('clients', '?')} clients": mixed.get("requests_per_s"),
            "load p95 ms": (mixed.get("latency") or {}).get("p95"),
            "load errors": sum((mixed.get("errors") or {}).values()) if mixed else None,
        }
        found = values.get(name)
        return "" if found is None else str(found)

    names: list[str] = []
    for run in runs:
        for key in ("reindex s", "index MB", "documents"):
            names.append(key)
        names += [f"MRR@10 {k}" for k in (run.score.get("known_item") or {})]
        names += [f"{k} exact" for k in (run.score.get("counts") or {})]
        names += [f"{k} p@10" for k in (run.score.get("precision") or {})]
    names += ["score.py p50 ms", "score.py p95 ms", "sequential p50 ms", "sequential p95 ms"]
    names += [f"req/s at {_phase(runs[0].mixed).get('clients', '?')} clients", "load p95 ms", "load errors"]
    ordered = list(dict.fromkeys(names))
    return [["figure", *(r.name for r in runs)]] + [[n, *(figure(r, n) for r in runs)] for n in ordered]


def main(argv: list[str] | None = None) -> int:
    """Build, serve and measure both backends in turn, and print one table."""
    args = parse_args(argv)
    shared = corpus.default_shared_dir()
    source = args.source or shared / corpus.CORPUS_FILE
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-backends-"))
    work.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()
    commit = runinfo.git_commit()
    runs: list[BackendRun] = []
    for name in BACKENDS:
        index_dir = work / f"{name}-index"
        config = write_config(work / f"{name}.toml", name, index_dir, args)
        run = BackendRun(name)
        if not args.skip_build:
            build(run, config, source)
        measure(run, config, index_dir, shared, args)
        runs.append(run)
    table = "\n".join(markdown_table(rows(runs)))
    meta = runinfo.run_meta("python -m bench.backends", git_commit=commit, load_at_start=load_at_start)
    print(table)
    print(f"load average at start {load_at_start}; {meta.get('machine')}")
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(f"\n## Backends side by side ({meta['date']}, {commit})\n\n{table}\n")
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "runs": [r.__dict__ for r in runs]}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
