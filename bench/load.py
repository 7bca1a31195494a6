"""Load-test the production server over loopback: throughput, latency, errors, worker RSS.

python -m bench.load --index-dir DIR [--workers 2,3] [--concurrency 4,8] [--requests 3000]
                     [--max-seconds 300] [--out FILE]
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench import corpus, metrics

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SEARCH_PATH = "/api/search"
PER_PAGE = 10
HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 40.0
RSS_INTERVAL_S = 0.25
REQUEST_TIMEOUT_S = 60.0
# The server runs in its own interpreter so its RSS is its own; run_production blocks there.
SERVER_CODE = """
import sys
from dataclasses import replace
from searchsvc.config import Settings
from searchsvc.web.server import run_production
host, port, workers, index_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
settings = Settings()
settings = replace(settings, server=replace(settings.server, host=host, port=port, workers=workers))
run_production(settings, index_dir)
"""


class LoadError(RuntimeError):
    """The load test could not run: the server did not start or the setup is wrong."""


@dataclass(frozen=True)
class Call:
    """One request to send: the path with its query string, and its kind."""

    path: str
    kind: str


@dataclass
class Outcome:
    """What one request gave: client latency, status (0 for an exception), server took_ms."""

    ms: float
    status: int
    took_ms: float | None = None
    error: str | None = None


@dataclass
class RssPeak:
    """Peak resident memory of the server's processes, in MiB, sampled during a run."""

    master_mb: float = 0.0
    worker_max_mb: float = 0.0
    workers_sum_mb: float = 0.0
    total_mb: float = 0.0
    workers_seen: int = 0
    samples: int = 0

    def add(self, master_kb: int, workers_kb: list[int]) -> None:
        """Fold one sample (VmRSS in KiB) into the peaks."""
        self.master_mb = max(self.master_mb, master_kb / 1024)
        self.worker_max_mb = max(self.worker_max_mb, max(workers_kb, default=0) / 1024)
        self.workers_sum_mb = max(self.workers_sum_mb, sum(workers_kb) / 1024)
        self.total_mb = max(self.total_mb, (master_kb + sum(workers_kb)) / 1024)
        self.workers_seen = max(self.workers_seen, len(workers_kb))
        self.samples += 1


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used during a run by the server's processes and by this client."""

    server_s: float
    client_s: float


@dataclass
class RunResult:
    """The numbers of one (workers, concurrency) run."""

    workers: int
    concurrency: int
    planned: int
    sent: int
    seconds: float
    requests_per_s: float
    latency: dict
    max_ms: float | None
    took: dict
    errors: dict[str, int]
    first_error: str | None
    kinds: dict[str, int]
    rss: RssPeak
    rss_idle: RssPeak
    stopped_early: bool
    mean_ms: float | None = None
    took_mean_ms: float | None = None
    server_cpu_ms: float | None = None
    client_cpu_ms: float | None = None
    exit_code: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="searchsvc index directory")
    ap.add_argument("--build", action="store_true", help="build the index from --source when missing")
    ap.add_argument("--source", type=Path, default=None, help="corpus for --build (default: shared corpus)")
    ap.add_argument("--workers", default="2", help="gunicorn workers, comma-separated for several runs")
    ap.add_argument("--concurrency", default="8", help="client connections, comma-separated")
    ap.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    ap.add_argument("--warmup", type=int, default=200, help="requests sent first and not counted")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="time bound of each run")
    ap.add_argument("--filtered-share", type=float, default=0.1, help="share of filtered requests")
    ap.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    ap.add_argument("--shared", type=Path, default=None, help="shared/ dir (default ../shared)")
    ap.add_argument("--queries", type=Path, default=None, help="queries JSONL (default shared eval)")
    ap.add_argument("--out", type=Path, default=None, help="append a Markdown section here")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the server for each worker count, load it at each concurrency, report."""
    args = parse_args(argv)
    shared = args.shared or corpus.default_shared_dir()
    try:
        ensure_index(args.index_dir, args.build, args.source or shared / corpus.CORPUS_FILE)
        calls = load_calls(args.queries or shared / corpus.QUERIES_FILE, shared / corpus.COUNTS_FILE)
        calls = mix_calls(calls, args.filtered_share)
        results = run_matrix(args, calls)
    except LoadError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    print(terminal(results))
    meta = run_meta(args, len(calls))
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(markdown(results, meta))
        print(f"report appended to {args.out}")
    if args.json:
        raw = {"meta": meta, "runs": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if all(not r.errors and r.exit_code == 0 for r in results) else 1


def int_list(text: str) -> list[int]:
    """Parse a comma-separated list of positive integers."""
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise LoadError(f"expected positive integers, got {text!r}")
    return values


def run_matrix(args: argparse.Namespace, calls: list[Call]) -> list[RunResult]:
    """Run every (workers, concurrency) pair: one server per worker count."""
    results = []
    for workers in int_list(args.workers):
        port = args.port or free_port()
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            log_path = Path(tmp) / "server.log"
            server = start_server(args.index_dir, port, workers, log_path)
            try:
                wait_healthy(server, port, HEALTH_TIMEOUT_S, log_path)
                runs = []
                for concurrency in int_list(args.concurrency):
                    print(f"== workers {workers}, concurrency {concurrency}", flush=True)
                    runs.append(
                        run_load(
                            port,
                            server.pid,
                            calls,
                            workers,
                            concurrency,
                            args.requests,
                            args.warmup,
                            args.max_seconds,
                        )
                    )
            finally:
                code = stop_server(server)
            for run in runs:
                run.exit_code = code
            results.extend(runs)
    return results


def ensure_index(index_dir: Path, build: bool, source: Path) -> None:
    """Check the index exists; build it from source first when asked to."""
    if (index_dir / "CURRENT").exists():
        return
    if not build:
        raise LoadError(f"no index at {index_dir} (pass --build to build it from {source})")
    from searchsvc.indexer import reindex

    print(f"building {index_dir} from {source} (the full corpus takes several minutes)", flush=True)
    report = reindex([source], index_dir, procs=2)
    print(f"indexed {report.indexed} articles in {report.seconds:.0f} s", flush=True)


def load_calls(queries_path: Path, counts_path: Path) -> list[Call]:
    """Return the search calls of every eval query, then the filtered count checks."""
    calls = [search_call(q["q"], {}, "query") for q in corpus.read_jsonl(queries_path)]
    if counts_path.exists():
        calls += [
            search_call(c["q"], c["params"], "filtered")
            for c in corpus.read_jsonl(counts_path)
            if c.get("params")
        ]
    if not calls:
        raise LoadError(f"no queries in {queries_path}")
    return calls


def search_call(q: str, params: dict, kind: str) -> Call:
    """Return the /api/search call of one query and its filters."""
    query = {"q": q, "per_page": PER_PAGE, **params}
    return Call(f"{SEARCH_PATH}?{urlencode(query)}", kind)


def mix_calls(calls: list[Call], filtered_share: float) -> list[Call]:
    """Interleave filtered calls among the plain ones at about the given share."""
    plain = [c for c in calls if c.kind != "filtered"]
    filtered = [c for c in calls if c.kind == "filtered"]
    if not filtered or filtered_share <= 0 or not plain:
        return plain or filtered
    # One filtered call after every `per` plain ones gives the share asked for.
    per = max(1, round((1 - filtered_share) / filtered_share))
    mixed, extra = [], itertools.cycle(filtered)
    for i, call in enumerate(plain, start=1):
        mixed.append(call)
        if i % per == 0:
            mixed.append(next(extra))
    return mixed


def free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def require_loopback(host: str) -> None:
    """Refuse any target that is not a loopback address."""
    if not ipaddress.ip_address(host).is_loopback:
        raise LoadError(f"{host} is not a loopback address; the load test only targets this machine")


def start_server(index_dir: Path, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    """Start gunicorn (run_production) on loopback in a subprocess, its log to a file."""
    require_loopback(HOST)
    command = [sys.executable, "-c", SERVER_CODE, HOST, str(port), str(workers), str(index_dir)]
    with log_path.open("wb") as log:
        # The access log gets a line per request: a file, not a pipe nobody reads.
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(server: subprocess.Popen, port: int, timeout: float, log_path: Path) -> None:
    """Poll /healthz until it answers 200; fail if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadError(f"server exited with {server.returncode}:\n{log_tail(log_path)}")
        try:
            status, _ = get(http.client.HTTPConnection(HOST, port, timeout=5), "/healthz")
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    stop_server(server)
    raise LoadError(f"server not healthy after {timeout:.0f} s:\n{log_tail(log_path)}")


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of the server log."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_server(server: subprocess.Popen) -> int | None:
    """Send SIGTERM, wait for a graceful exit, and return the exit code (None if it hung)."""
    if server.poll() is not None:
        return server.returncode
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        return None


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    """Send one GET on a (kept-alive) connection and return status and body."""
    conn.request("GET", path, headers={"Accept": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def run_load(
    port: int,
    server_pid: int,
    calls: list[Call],
    workers: int,
    concurrency: int,
    requests: int,
    warmup: int,
    max_seconds: float,
) -> RunResult:
    """Warm up, then send `requests` calls from `concurrency` threads and summarize."""
    deadline = time.monotonic() + max_seconds
    send(port, calls, warmup, concurrency, deadline, offset=0)
    rss_idle = sample_rss_once(server_pid)
    sampler = RssSampler(server_pid)
    sampler.start()
    server_cpu, client_cpu = server_cpu_seconds(server_pid), client_cpu_seconds()
    started = time.perf_counter()
    outcomes = send(port, calls, requests, concurrency, deadline, offset=warmup)
    seconds = time.perf_counter() - started
    cpu = Cpu(server_cpu_seconds(server_pid) - server_cpu, client_cpu_seconds() - client_cpu)
    sampler.stop()
    result = summarize(
        workers, concurrency, requests, outcomes, seconds, sampler.peak, rss_idle, calls, warmup
    )
    result.server_cpu_ms = round(cpu.server_s * 1000 / max(1, len(outcomes)), 2)
    result.client_cpu_ms = round(cpu.client_s * 1000 / max(1, len(outcomes)), 2)
    return result


def send(
    port: int, calls: list[Call], count: int, concurrency: int, deadline: float, offset: int
) -> list[Outcome]:
    """Send `count` calls (cycling from `offset`) over `concurrency` connections until the deadline."""
    outcomes: list[Outcome | None] = [None] * count
    threads = [
        threading.Thread(
            target=client_loop,
            args=(port, calls, range(i, count, concurrency), offset, deadline, outcomes),
            daemon=True,
        )
        for i in range(min(concurrency, count))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [o for o in outcomes if o is not None]


def client_loop(
    port: int,
    calls: list[Call],
    slots: range,
    offset: int,
    deadline: float,
    outcomes: list[Outcome | None],
) -> None:
    """Send this client's share of the calls on one keep-alive connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        for slot in slots:
            if time.monotonic() >= deadline:
                return
            outcomes[slot] = timed_call(conn, calls[(offset + slot) % len(calls)].path)
    finally:
        conn.close()


def timed_call(conn: http.client.HTTPConnection, path: str) -> Outcome:
    """Send one call and time it; an exception becomes status 0 and the connection is reset."""
    t0 = time.perf_counter()
    try:
        status, body = get(conn, path)
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request reconnects
        return Outcome((time.perf_counter() - t0) * 1000, 0, error=f"{type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        return Outcome(ms, status, error=f"HTTP {status} for {path}: {body[:200]!r}")
    try:
        took = json.loads(body).get("took_ms")
    except ValueError as exc:
        return Outcome(ms, status, error=f"bad JSON for {path}: {exc}")
    return Outcome(ms, status, took_ms=took)


def server_processes(master: int) -> list[int]:
    """Return the pids of the master's descendants (its gunicorn workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = read_ppid(entry / "stat")
            if ppid is not None:
                parents[int(entry.name)] = ppid
    found, frontier = [], [master]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


def read_ppid(stat_path: Path) -> int | None:
    """Return the parent pid of a /proc/<pid>/stat file, or None if the process is gone."""
    try:
        text = stat_path.read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return int(text.rpartition(")")[2].split()[1])


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); index 0 here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master: int) -> float:
    """Return the CPU time used so far by the master and its workers."""
    return sum(cpu_seconds(pid) for pid in [master, *server_processes(master)])


def client_cpu_seconds() -> float:
    """Return the CPU time used so far by this process (all client threads)."""
    times = os.times()
    return times.user + times.system


def vm_rss_kb(pid: int) -> int:
    """Return VmRSS of a process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def sample_rss_once(master: int) -> RssPeak:
    """Return one RSS sample of the master and its workers."""
    peak = RssPeak()
    peak.add(vm_rss_kb(master), [vm_rss_kb(pid) for pid in server_processes(master)])
    return peak


class RssSampler:
    """Sample the server's RSS in a background thread and keep the peaks."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak = RssPeak()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and take a last sample."""
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        """Sample until stopped, and once more at the end."""
        while True:
            workers = server_processes(self.master)
            self.peak.add(vm_rss_kb(self.master), [vm_rss_kb(pid) for pid in workers])
            if self._done.wait(RSS_INTERVAL_S):
                return


def summarize(
    workers: int,
    concurrency: int,
    planned: int,
    outcomes: list[Outcome],
    seconds: float,
    rss: RssPeak,
    rss_idle: RssPeak,
    calls: list[Call],
    offset: int,
) -> RunResult:
    """Turn the outcomes of one run into its numbers."""
    ms = [o.ms for o in outcomes]
    took = [o.took_ms for o in outcomes if o.took_ms is not None]
    errors = Counter("exception" if o.status == 0 else f"HTTP {o.status}" for o in outcomes if o.error)
    kinds = Counter(calls[(offset + i) % len(calls)].kind for i in range(len(outcomes)))
    first_error = next((o.error for o in outcomes if o.error), None)
    return RunResult(
        workers=workers,
        concurrency=concurrency,
        planned=planned,
        sent=len(outcomes),
        seconds=round(seconds, 3),
        requests_per_s=round(len(outcomes) / seconds, 1) if seconds > 0 else 0.0,
        latency=metrics.latency_summary(ms),
        max_ms=round(max(ms), 3) if ms else None,
        took=metrics.latency_summary(took),
        errors=dict(errors),
        first_error=first_error,
        kinds=dict(kinds),
        rss=rss,
        rss_idle=rss_idle,
        stopped_early=len(outcomes) < planned,
        mean_ms=round(statistics.fmean(ms), 3) if ms else None,
        took_mean_ms=round(statistics.fmean(took), 3) if took else None,
    )


def run_meta(args: argparse.Namespace, distinct_calls: int) -> dict:
    """Describe the machine, commit and options of this load test."""
    from bench.__main__ import git_commit, machine_info

    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "command": "python -m bench.load " + " ".join(sys.argv[1:]),
        "index_dir": str(args.index_dir),
        "documents": index_documents(args.index_dir),
        "distinct_calls": distinct_calls,
        "filtered_share": args.filtered_share,
        "warmup": args.warmup,
        "max_seconds": args.max_seconds,
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": machine_info(),
    }


def index_documents(index_dir: Path) -> int | None:
    """Return the document count of the live generation's manifest, if readable."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        manifest = json.loads((index_dir / name / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("documents") or manifest.get("indexed") or manifest.get("count")


def table(results: list[RunResult]) -> list[list[str]]:
    """Tabulate the runs, header row first."""
    rows = [
        [
            "workers",
            "conc.",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "server p50",
            "server p95",
            "errors",
            "RSS master MB",
            "RSS workers MB (max one)",
            "exit",
        ]
    ]
    for r in results:
        rows.append(
            [
                str(r.workers),
                str(r.concurrency),
                f"{r.sent}/{r.planned}",
                f"{r.requests_per_s:.1f}",
                _ms(r.latency["p50"]),
                _ms(r.latency["p95"]),
                _ms(r.latency["p99"]),
                _ms(r.max_ms),
                _ms(r.took["p50"]),
                _ms(r.took["p95"]),
                ", ".join(f"{k}: {v}" for k, v in sorted(r.errors.items())) or "0",
                f"{r.rss.master_mb:.0f}",
                f"{r.rss.workers_sum_mb:.0f} ({r.rss.worker_max_mb:.0f})",
                "hung" if r.exit_code is None else str(r.exit_code),
            ]
        )
    return rows


def time_table(results: list[RunResult]) -> list[list[str]]:
    """Tabulate where the time goes: client mean vs server took_ms, CPU per request."""
    rows = [
        [
            "workers",
            "conc.",
            "client mean ms",
            "server took mean ms",
            "queue + HTTP ms",
            "server CPU ms/req",
            "client CPU ms/req",
            "CPU ceiling req/s",
        ]
    ]
    cores = os.cpu_count() or 1
    for r in results:
        gap = r.mean_ms - r.took_mean_ms if r.mean_ms is not None and r.took_mean_ms is not None else None
        cpu = (r.server_cpu_ms or 0) + (r.client_cpu_ms or 0)
        rows.append(
            [
                str(r.workers),
                str(r.concurrency),
                _ms(r.mean_ms),
                _ms(r.took_mean_ms),
                _ms(gap),
                _ms(r.server_cpu_ms),
                _ms(r.client_cpu_ms),
                # With every core busy on this load alone, req/s cannot pass cores / CPU per request.
                f"{cores * 1000 / cpu:.0f}" if cpu else "-",
            ]
        )
    return rows


def _aligned(rows: list[list[str]]) -> list[str]:
    """Render rows as right-aligned text lines."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]


def _markdown_table(rows: list[list[str]]) -> list[str]:
    """Render rows as Markdown table lines, header first."""
    head, *body = rows
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in body),
    ]


def terminal(results: list[RunResult]) -> str:
    """Return the runs as aligned text tables with the first errors under them."""
    lines = _aligned(table(results)) + ["", "where the time goes:"] + _aligned(time_table(results))
    lines += [
        f"first error (workers {r.workers}, conc. {r.concurrency}): {r.first_error}"
        for r in results
        if r.first_error
    ]
    lines += [
        f"stopped by --max-seconds: workers {r.workers}, conc. {r.concurrency}"
        for r in results
        if r.stopped_early
    ]
    return "\n" + "\n".join(lines)


def markdown(results: list[RunResult], meta: dict) -> str:
    """Return one Markdown section describing the runs."""
    machine = meta["machine"]
    lines = [
        "",
        f"## HTTP load test, {meta['date']}",
        "",
        f"- Command: `{meta['command']}`; git commit `{meta['git_commit']}`",
        (
            f"- Index: `{meta['index_dir']}` ({meta['documents'] or '?'} documents); "
            f"{meta['distinct_calls']} distinct calls cycled (eval queries, "
            f"{meta['filtered_share']:.0%} filtered count checks), per_page={PER_PAGE}, facets on; "
            f"{meta['warmup']} warm-up requests not counted"
        ),
        (
            f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram_gb']} GB RAM, "
            f"Python {machine['python']}; load average at end "
            + "/".join(f"{x:.2f}" for x in meta["load_at_end"])
        ),
        (
            "- Client and server share the machine's CPUs. Latency is client side (http.client "
            "threads; gunicorn's sync workers close each connection after one response); server p50/p95 is `took_ms` from the JSON bodies, so the "
            "difference is queueing and HTTP overhead. RSS is the peak VmRSS sampled every "
            f"{RSS_INTERVAL_S} s; workers: peak of their sum (peak of one)."
        ),
        "",
        *_markdown_table(table(results)),
        "",
        (
            "Where the time goes: client mean minus server `took_ms` mean is time queued for a "
            "worker plus HTTP, Flask and JSON; CPU per request is the CPU time of the server's "
            "processes (`/proc/<pid>/stat`) and of the client during the run, over the requests; "
            "the ceiling is CPUs / (server + client CPU per request)."
        ),
        "",
        *_markdown_table(time_table(results)),
    ]
    lines += [
        f"- First error (workers {r.workers}, conc. {r.concurrency}): `{r.first_error}`"
        for r in results
        if r.first_error
    ]
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    """Format milliseconds."""
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
