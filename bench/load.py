"""Load-test the production server over loopback: throughput, latency, errors, worker memory.

python -m bench.load --index-dir DIR [--workers 2,3] [--concurrency 4,8] [--requests 3000]
                     [--max-seconds 300] [--out FILE]
python -m bench.load --index-dir DIR --scenario publish|mixed|sequential-cold [--duration S]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import ipaddress
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import corpus, metrics, procmem, runinfo
from bench.procmem import (
    RSS_INTERVAL_S,
    RssPeak,
    RssSampler,
    client_cpu_seconds,
    sample_rss_once,
    server_cpu_seconds,
    server_memory,
)
from bench.tables import aligned, markdown_table

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SEARCH_PATH = "/api/search"
PER_PAGE = 10
HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 40.0
REQUEST_TIMEOUT_S = 60.0
HEAD_QUERIES_FILE = Path("eval") / "head_queries.jsonl"
SCENARIOS = ("matrix", "publish", "mixed", "sequential-cold")
# Defaults per scenario: client connections and seconds per phase.
DEFAULT_CLIENTS = {"matrix": "8", "publish": "8", "mixed": "16", "sequential-cold": "1"}
DEFAULT_DURATION_S = {"publish": 120.0, "mixed": 20.0}
# A marker word built from letters that are no Telex key (s f r x j z w, doubled vowels, dd),
# so the query parser cannot read it as keystrokes: it matches the published title only.
MARKER_LETTERS = "bcghklmnpqtv"
MARKER_LENGTH = 12
# The server runs in its own interpreter so its RSS is its own; run_production blocks there.
# With a config file it reads settings like the CLI does (file, then SEARCHSVC_* environment);
# without one it uses the built-in defaults.
SERVER_CODE = """
import sys
from dataclasses import replace
from searchsvc.config import Settings, load_settings
from searchsvc.web.server import run_production
host, port, workers, index_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
settings = load_settings(sys.argv[5]) if sys.argv[5:] and sys.argv[5] else Settings()
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
    memory: list[procmem.MemorySplit] = field(default_factory=list)


@dataclass
class PhaseResult:
    """The numbers of one timed phase of a scenario (client-side latency)."""

    name: str
    clients: int
    seconds: float
    sent: int
    requests_per_s: float
    latency: dict
    max_ms: float | None
    errors: dict[str, int]
    first_error: str | None
    kinds: dict[str, int]
    first_ms: float | None = None


@dataclass
class Publication:
    """One `searchsvc index add` of the publish scenario and when its article became searchable."""

    id: str
    marker: str
    add_s: float
    visible_s: float | None
    polls: int
    error: str | None = None


@dataclass
class PublishResult:
    """What the publishing phase measured: each add, visibility delays, the p99 ratio."""

    every_s: float
    timeout_s: float
    poll_interval_s: float
    publications: list[Publication]
    adds: int
    visible: int
    failures: int
    visible_max_s: float | None
    visible_p50_s: float | None
    p99_ratio: float | None
    publishing_max_ms: float | None


@dataclass
class ScenarioResult:
    """The numbers of one scenario run: its phases, the publishing numbers, the server's memory."""

    scenario: str
    workers: int
    clients: int
    phases: list[PhaseResult]
    memory: list[procmem.MemorySplit]
    exit_code: int | None
    publish: PublishResult | None = None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="searchsvc index directory")
    ap.add_argument("--build", action="store_true", help="build the index from --source when missing")
    ap.add_argument("--source", type=Path, default=None, help="corpus for --build (default: shared corpus)")
    ap.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="matrix",
        help="what to run (default: the workers x clients matrix)",
    )
    ap.add_argument("--workers", default="2", help="gunicorn workers, comma-separated for several runs")
    ap.add_argument("--concurrency", default=None, help="client connections, comma-separated (matrix: 8)")
    ap.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    ap.add_argument("--warmup", type=int, default=200, help="requests sent first and not counted")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="time bound of each run")
    ap.add_argument("--filtered-share", type=float, default=0.1, help="share of filtered requests")
    ap.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    ap.add_argument("--shared", type=Path, default=None, help="shared/ dir (default ../shared)")
    ap.add_argument("--queries", type=Path, default=None, help="queries JSONL (default shared eval)")
    ap.add_argument(
        "--head-queries", type=Path, default=None, help="head queries JSONL (default shared eval)"
    )
    ap.add_argument("--config", type=Path, default=None, help="settings TOML for the server and index add")
    ap.add_argument("--duration", type=float, default=None, help="seconds per phase (publish 120, mixed 20)")
    ap.add_argument("--publish-every", type=float, default=5.0, help="publish: seconds between adds")
    ap.add_argument(
        "--publish-source", type=Path, default=None, help="publish: articles to copy (JSONL[.gz])"
    )
    ap.add_argument("--visibility-timeout", type=float, default=30.0, help="publish: give up after this")
    ap.add_argument("--poll-interval", type=float, default=0.05, help="publish: seconds between polls")
    ap.add_argument("--sequential-queries", type=int, default=300, help="sequential-cold: queries sent")
    ap.add_argument("--seed", type=int, default=None, help="publish: seed of the marker words")
    ap.add_argument("--out", type=Path, default=None, help="append a Markdown section here")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    args = ap.parse_args(argv)
    if args.concurrency is None:
        args.concurrency = DEFAULT_CLIENTS[args.scenario]
    if args.duration is None:
        args.duration = DEFAULT_DURATION_S.get(args.scenario, 0.0)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenario (by default the workers x clients matrix) and report."""
    args = parse_args(argv)
    if args.scenario != "matrix":
        return main_scenario(args)
    shared = args.shared or corpus.default_shared_dir()
    load_at_start = os.getloadavg()
    try:
        ensure_index(args.index_dir, args.build, args.source or shared / corpus.CORPUS_FILE, args.config)
        calls = load_calls(args.queries or shared / corpus.QUERIES_FILE, shared / corpus.COUNTS_FILE)
        calls = mix_calls(calls, args.filtered_share)
        results = run_matrix(args, calls)
    except LoadError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    print(terminal(results))
    meta = run_meta(args, len(calls), load_at_start)
    write_reports(args, markdown(results, meta), {"meta": meta, "runs": [asdict(r) for r in results]})
    return 0 if all(not r.errors and r.exit_code == 0 for r in results) else 1


def write_reports(args: argparse.Namespace, section: str, raw: dict) -> None:
    """Append the Markdown section to ``--out`` and write the raw numbers to ``--json``, when asked."""
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(section)
        print(f"report appended to {args.out}")
    if args.json:
        args.json.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")


def main_scenario(args: argparse.Namespace) -> int:
    """Run the publish, mixed or sequential-cold scenario and report it."""
    shared = args.shared or corpus.default_shared_dir()
    source = args.source or shared / corpus.CORPUS_FILE
    load_at_start = os.getloadavg()
    try:
        ensure_index(args.index_dir, args.build, source, args.config)
        head = load_queries(args.head_queries or shared / HEAD_QUERIES_FILE, "head")
        tail = load_queries(args.queries or shared / corpus.QUERIES_FILE, "tail")
        calls = interleave(head, tail)
        if args.scenario == "publish":
            result = run_publish(args, calls, args.publish_source or source)
        elif args.scenario == "mixed":
            result = run_mixed(args, calls)
        else:
            count = args.sequential_queries
            calls = interleave(spread(head, count - count // 2), spread(tail, count // 2))[:count]
            result = run_sequential_cold(args, calls)
    except LoadError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    print(scenario_terminal(result))
    meta = run_meta(args, len(calls), load_at_start)
    write_reports(args, scenario_markdown(result, meta), {"meta": meta, "scenario": asdict(result)})
    failed = result.publish is not None and result.publish.failures > 0
    return 0 if all(not p.errors for p in result.phases) and result.exit_code == 0 and not failed else 1


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
            server = start_server(args.index_dir, port, workers, log_path, args.config)
            try:
                wait_healthy(server, port, HEALTH_TIMEOUT_S, log_path)
                runs = []
                for concurrency in int_list(args.concurrency):
                    print(f"== workers {workers}, concurrency {concurrency}", flush=True)
                    run = run_load(
                        port,
                        server.pid,
                        calls,
                        workers,
                        concurrency,
                        args.requests,
                        args.warmup,
                        args.max_seconds,
                    )
                    run.memory = server_memory(server.pid)
                    runs.append(run)
            finally:
                code = stop_server(server)
            for run in runs:
                run.exit_code = code
            results.extend(runs)
    return results


def _served_elsewhere(config: Path | None) -> bool:
    """Return whether the settings file points the service at a cluster rather than an index directory."""
    if config is None:
        return False
    from searchsvc.config import load_settings

    return load_settings(config).backend.kind != "embedded"


def ensure_index(index_dir: Path, build: bool, source: Path, config: Path | None = None) -> None:
    """Check the index exists; build it from source first when asked to."""
    if (index_dir / "CURRENT").exists() or _served_elsewhere(config):
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


def load_queries(path: Path, kind: str) -> list[Call]:
    """Return one plain search call per line of a queries JSONL file (its "q" field)."""
    if not path.exists():
        raise LoadError(f"{path} not found")
    calls = [search_call(q["q"], {}, kind) for q in corpus.read_jsonl(path)]
    if not calls:
        raise LoadError(f"no queries in {path}")
    return calls


def interleave(first: list[Call], second: list[Call]) -> list[Call]:
    """Alternate the calls of two lists, cycling the shorter one, so each makes half the mix."""
    if not first or not second:
        return first or second
    return [
        call
        for i in range(max(len(first), len(second)))
        for call in (first[i % len(first)], second[i % len(second)])
    ]


def spread(calls: list[Call], count: int) -> list[Call]:
    """Pick `count` calls evenly across the list (the eval files group variants of one target)."""
    if count <= 0:
        return []
    return [calls[i * len(calls) // count % len(calls)] for i in range(count)]


def single_value(text: str, option: str) -> int:
    """Return the one worker or client count a scenario runs with."""
    counts = int_list(text)
    if len(counts) != 1:
        raise LoadError(
            f"a scenario runs one server and one client count: give one {option} value, not {text!r}"
        )
    return counts[0]


def send_for(
    port: int, calls: list[Call], clients: int, seconds: float
) -> tuple[list[tuple[str, Outcome]], float]:
    """Send calls from `clients` threads for `seconds`; return (kind, outcome) pairs and the time taken."""
    results: list[list[tuple[str, Outcome]]] = [[] for _ in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=timed_client, args=(port, calls, i, clients, deadline, results[i]), daemon=True
        )
        for i in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [pair for part in results for pair in part], time.perf_counter() - started


def timed_client(
    port: int, calls: list[Call], first: int, step: int, deadline: float, out: list[tuple[str, Outcome]]
) -> None:
    """Send calls first, first + step, ... (cycling) on one connection until the deadline."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        slot = first
        while time.monotonic() < deadline:
            call = calls[slot % len(calls)]
            out.append((call.kind, timed_call(conn, call.path)))
            slot += step
    finally:
        conn.close()


def phase_result(name: str, clients: int, pairs: list[tuple[str, Outcome]], seconds: float) -> PhaseResult:
    """Summarize the outcomes of one phase."""
    ms = [o.ms for _, o in pairs]
    errors = Counter("exception" if o.status == 0 else f"HTTP {o.status}" for _, o in pairs if o.error)
    return PhaseResult(
        name=name,
        clients=clients,
        seconds=round(seconds, 3),
        sent=len(pairs),
        requests_per_s=round(len(pairs) / seconds, 1) if seconds > 0 else 0.0,
        latency=metrics.latency_summary(ms),
        max_ms=round(max(ms), 3) if ms else None,
        errors=dict(errors),
        first_error=next((o.error for _, o in pairs if o.error), None),
        kinds=dict(Counter(kind for kind, _ in pairs)),
    )


def run_mixed(args: argparse.Namespace, calls: list[Call]) -> ScenarioResult:
    """Warm up, then load the server with head and rare queries for --duration seconds."""
    workers = single_value(args.workers, "--workers")
    clients = single_value(args.concurrency, "--concurrency")
    with serving(args, args.index_dir, workers) as server:
        send(server.port, calls, args.warmup, clients, time.monotonic() + args.max_seconds, offset=0)
        print(f"== mixed: {clients} clients for {args.duration:g} s", flush=True)
        phase = phase_result("mixed", clients, *send_for(server.port, calls, clients, args.duration))
        memory = server_memory(server.process.pid)
    return ScenarioResult("mixed", workers, clients, [phase], memory, server.exit_code)


def run_sequential_cold(args: argparse.Namespace, calls: list[Call]) -> ScenarioResult:
    """Start a fresh server and send the calls one at a time, the first one included."""
    workers = single_value(args.workers, "--workers")
    with serving(args, args.index_dir, workers) as server:
        print(f"== sequential-cold: {len(calls)} queries one at a time", flush=True)
        conn = http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT_S)
        started = time.perf_counter()
        pairs = [(call.kind, timed_call(conn, call.path)) for call in calls]
        seconds = time.perf_counter() - started
        conn.close()
        memory = server_memory(server.process.pid)
    phase = phase_result("sequential-cold", 1, pairs, seconds)
    phase.first_ms = round(pairs[0][1].ms, 3) if pairs else None
    return ScenarioResult("sequential-cold", workers, 1, [phase], memory, server.exit_code)


def run_publish(args: argparse.Namespace, calls: list[Call], source: Path) -> ScenarioResult:
    """Serve a copy of the index; a baseline phase, then one with an `index add` every few seconds."""
    workers = single_value(args.workers, "--workers")
    clients = single_value(args.concurrency, "--concurrency")
    adds = int(args.duration // args.publish_every) + 1
    articles = read_articles(source, adds)
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        copy = Path(tmp) / "index"
        print(f"== publish: copying {args.index_dir} to {copy} (index add changes it)", flush=True)
        shutil.copytree(args.index_dir, copy, symlinks=True)
        with serving(args, copy, workers) as server:
            port = server.port
            send(port, calls, args.warmup, clients, time.monotonic() + args.max_seconds, offset=0)
            print(f"== publish: baseline, {clients} clients for {args.duration:g} s", flush=True)
            baseline = phase_result("baseline", clients, *send_for(port, calls, clients, args.duration))
            publisher = Publisher(args, port, copy, Path(tmp), articles)
            print(
                f"== publish: an article every {args.publish_every:g} s for {args.duration:g} s", flush=True
            )
            publisher.start()
            publishing = phase_result("publishing", clients, *send_for(port, calls, clients, args.duration))
            publisher.join()
            memory = server_memory(server.process.pid)
    publish = publish_result(args, publisher.publications, baseline, publishing)
    phases = [baseline, publishing]
    return ScenarioResult("publish", workers, clients, phases, memory, server.exit_code, publish)


@dataclass
class Served:
    """A running server: its process, its port and, once stopped, its exit code (None if it hung)."""

    process: subprocess.Popen
    port: int
    exit_code: int | None = None


@contextlib.contextmanager
def serving(args: argparse.Namespace, index_dir: Path, workers: int) -> Iterator[Served]:
    """Start a fresh server on an index directory, wait until healthy, and stop it on leaving."""
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        log_path = Path(tmp) / "server.log"
        server = Served(start_server(index_dir, port, workers, log_path, args.config), port)
        try:
            wait_healthy(server.process, port, HEALTH_TIMEOUT_S, log_path)
            yield server
        finally:
            server.exit_code = stop_server(server.process)


def read_articles(path: Path, count: int) -> list[dict]:
    """Return the first `count` articles of a JSONL(.gz) file, reading no further."""
    if not path.exists():
        raise LoadError(f"{path} not found (the articles the publish scenario copies)")
    opener = gzip.open if path.suffix == ".gz" else open
    articles: list[dict] = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                articles.append(json.loads(line))
            if len(articles) >= count:
                break
    if not articles:
        raise LoadError(f"no articles in {path}")
    return articles


class Publisher:
    """Add an article every --publish-every seconds with `searchsvc index add`; time until found."""

    def __init__(
        self, args: argparse.Namespace, port: int, index_dir: Path, workdir: Path, articles: list[dict]
    ) -> None:
        self.args, self.port, self.index_dir, self.workdir = args, port, index_dir, workdir
        self.articles = articles
        self.publications: list[Publication] = []
        self._rng = random.Random(args.seed)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = 0.0

    def start(self) -> None:
        """Start publishing now, for --duration seconds."""
        self._started = time.monotonic()
        self._thread.start()

    def join(self) -> None:
        """Wait for the last add and its visibility check."""
        self._thread.join()

    def _loop(self) -> None:
        """Publish on schedule; an add that comes late (the previous one was slow) starts at once."""
        end, next_at, number = self._started + self.args.duration, self._started, 0
        while next_at < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            self.publications.append(self.publish(self.articles[number % len(self.articles)], number))
            number += 1
            next_at = max(next_at + self.args.publish_every, time.monotonic())

    def marker(self) -> str:
        """Return a random word no article holds."""
        return "".join(self._rng.choice(MARKER_LETTERS) for _ in range(MARKER_LENGTH))

    def publish(self, article: dict, number: int) -> Publication:
        """Add one copy of an article with a fresh id and a marker in its title; poll until found."""
        marker = self.marker()
        record = dict(article, id=f"{article['id']}~pub{number}-{marker}")
        record["title"] = f"{article.get('title') or ''} {marker}".strip()
        path = self.workdir / f"publish-{number}.jsonl"
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        t0 = time.monotonic()
        done = subprocess.run(
            add_command(self.index_dir, path, self.args.config),
            cwd=self.workdir,
            env=add_environment(self.args.config),
            capture_output=True,
            text=True,
            check=False,
        )
        add_s = round(time.monotonic() - t0, 3)
        if done.returncode != 0:
            error = f"index add exited {done.returncode}: {done.stderr.strip()[-300:]}"
            return Publication(record["id"], marker, add_s, None, 0, error)
        timeout, interval = self.args.visibility_timeout, self.args.poll_interval
        visible, polls = wait_visible(self.port, marker, record["id"], timeout, interval)
        missing = None if visible is not None else f"not found within {timeout:g} s"
        return Publication(record["id"], marker, add_s, visible, polls, missing)


def add_command(index_dir: Path, path: Path, config: Path | None) -> list[str]:
    """Return the `searchsvc index add` command line for one file, with the server's settings."""
    settings = ["--config", str(config.resolve())] if config else []
    return [
        sys.executable,
        "-m",
        "searchsvc.cli",
        *settings,
        "index",
        "add",
        "--index-dir",
        str(index_dir),
        str(path),
    ]


def add_environment(config: Path | None) -> dict[str, str]:
    """Return the environment of `index add`: without --config, no SEARCHSVC_* (the server ignores them)."""
    env = (
        dict(os.environ)
        if config
        else {k: v for k, v in os.environ.items() if not k.startswith("SEARCHSVC_")}
    )
    # Run from the temp dir (no config/searchsvc.toml there) yet import this checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def wait_visible(
    port: int, marker: str, article_id: str, timeout: float, interval: float
) -> tuple[float | None, int]:
    """Poll a search for the marker until the article is a hit; return (seconds or None, polls)."""
    path = f"{SEARCH_PATH}?{urlencode({'q': marker, 'per_page': PER_PAGE})}"
    started, polls = time.monotonic(), 0
    while True:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            status, body = get(conn, path)
        except (OSError, http.client.HTTPException):
            status, body = 0, b""
        finally:
            conn.close()
        polls += 1
        elapsed = time.monotonic() - started
        if status == 200 and has_hit(body, article_id):
            return round(elapsed, 3), polls
        if elapsed >= timeout:
            return None, polls
        time.sleep(interval)


def has_hit(body: bytes, article_id: str) -> bool:
    """Tell whether a search response body lists the article among its hits."""
    try:
        hits = json.loads(body).get("hits") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(hit, dict) and hit.get("id") == article_id for hit in hits)


def publish_result(
    args: argparse.Namespace, publications: list[Publication], baseline: PhaseResult, publishing: PhaseResult
) -> PublishResult:
    """Summarize the adds: visibility delays, failures, and publishing p99 over baseline p99."""
    delays = [p.visible_s for p in publications if p.visible_s is not None]
    before, during = baseline.latency["p99"], publishing.latency["p99"]
    return PublishResult(
        every_s=args.publish_every,
        timeout_s=args.visibility_timeout,
        poll_interval_s=args.poll_interval,
        publications=publications,
        adds=len(publications),
        visible=len(delays),
        failures=len(publications) - len(delays),
        visible_max_s=max(delays) if delays else None,
        visible_p50_s=round(statistics.median(delays), 3) if delays else None,
        p99_ratio=round(during / before, 2) if before and during is not None else None,
        publishing_max_ms=publishing.max_ms,
    )


def free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def require_loopback(host: str) -> None:
    """Refuse any target that is not a loopback address."""
    if not ipaddress.ip_address(host).is_loopback:
        raise LoadError(f"{host} is not a loopback address; the load test only targets this machine")


def start_server(
    index_dir: Path, port: int, workers: int, log_path: Path, config: Path | None = None
) -> subprocess.Popen:
    """Start gunicorn (run_production) on loopback in a subprocess, its log to a file."""
    require_loopback(HOST)
    command = [sys.executable, "-c", SERVER_CODE, HOST, str(port), str(workers), str(index_dir)]
    command.append(str(config.resolve()) if config else "")
    with log_path.open("wb") as log:
        # The access log gets a line per request: a file, not a pipe nobody reads.
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(server: subprocess.Popen, port: int, timeout: float, log_path: Path) -> None:
    """Poll /healthz until it answers 200; fail if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadError(f"server exited with {server.returncode}:\n{log_tail(log_path)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            status, _ = get(conn, "/healthz")
        except OSError:
            status = 0
        finally:
            conn.close()
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


def run_meta(args: argparse.Namespace, distinct_calls: int, load_at_start: tuple[float, ...]) -> dict:
    """Describe the machine, commit and options of this load test."""
    meta = runinfo.run_meta(
        "python -m bench.load",
        scenario=args.scenario,
        index_dir=str(args.index_dir),
        documents=index_documents(args.index_dir),
        config=str(args.config) if args.config else None,
        distinct_calls=distinct_calls,
        filtered_share=args.filtered_share,
        warmup=args.warmup,
        max_seconds=args.max_seconds,
        load_at_start=[round(x, 2) for x in load_at_start],
    )
    if args.scenario != "matrix":
        meta["duration_s"] = args.duration
        meta["sequential_queries"] = args.sequential_queries
    return meta


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


def terminal(results: list[RunResult]) -> str:
    """Return the runs as aligned text tables with the first errors under them."""
    lines = aligned(table(results)) + ["", "where the time goes:"] + aligned(time_table(results))
    lines += ["", "server memory at the end of each run (MB, smaps_rollup):"]
    lines += aligned(memory_table([(f"w{r.workers} c{r.concurrency}", r.memory) for r in results]))
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
    lines = [
        *runinfo.section_head("HTTP load test", meta),
        (
            f"- Index: `{meta['index_dir']}` ({meta['documents'] or '?'} documents); "
            f"{meta['distinct_calls']} distinct calls cycled (eval queries, "
            f"{meta['filtered_share']:.0%} filtered count checks), per_page={PER_PAGE}, facets on; "
            f"{meta['warmup']} warm-up requests not counted"
        ),
        (
            f"- Machine: {runinfo.machine_text(meta['machine'])}; "
            f"load average at end {runinfo.load_text(meta['load_at_end'])}"
        ),
        (
            "- Client and server share the machine's CPUs. Latency is client side (http.client "
            "threads; gunicorn's sync workers close each connection after one response); server p50/p95 is `took_ms` from the JSON bodies, so the "
            "difference is queueing and HTTP overhead. RSS is the peak VmRSS sampled every "
            f"{RSS_INTERVAL_S} s; workers: peak of their sum (peak of one)."
        ),
        "",
        *markdown_table(table(results)),
        "",
        (
            "Where the time goes: client mean minus server `took_ms` mean is time queued for a "
            "worker plus HTTP, Flask and JSON; CPU per request is the CPU time of the server's "
            "processes (`/proc/<pid>/stat`) and of the client during the run, over the requests; "
            "the ceiling is CPUs / (server + client CPU per request)."
        ),
        "",
        *markdown_table(time_table(results)),
        "",
        MEMORY_NOTE,
        "",
        *markdown_table(memory_table([(f"w{r.workers} c{r.concurrency}", r.memory) for r in results])),
    ]
    lines += [
        f"- First error (workers {r.workers}, conc. {r.concurrency}): `{r.first_error}`"
        for r in results
        if r.first_error
    ]
    return "\n".join(lines) + "\n"


MEMORY_NOTE = (
    "Memory of each server process at the end of the run, from `/proc/<pid>/smaps_rollup`, in MB "
    "(MiB): Rss counts shared pages in every process; Pss divides them among the processes sharing "
    "them (the Pss column adds up); Private = Private_Clean + Private_Dirty, what the process alone "
    "holds ((dirty) = Private_Dirty); Anonymous is its heap, as opposed to file-backed pages such "
    "as a memory-mapped index."
)


def memory_table(labelled: list[tuple[str, list[procmem.MemorySplit]]]) -> list[list[str]]:
    """Tabulate the server's memory splits under a run label, header row first."""
    rows = [["run", *procmem.HEADER]]
    for label, splits in labelled:
        rows += [[label, *split.row()] for split in splits]
        if splits:
            rows.append([label, "all", "-", "-", f"{sum(m.pss_mb for m in splits):.1f}", *["-"] * 5])
    return rows


def phase_table(phases: list[PhaseResult]) -> list[list[str]]:
    """Tabulate the phases of a scenario, header row first."""
    rows = [
        ["phase", "clients", "seconds", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
        + ["first ms", "errors", "kinds"]
    ]
    for p in phases:
        rows.append(
            [
                p.name,
                str(p.clients),
                f"{p.seconds:.1f}",
                str(p.sent),
                f"{p.requests_per_s:.1f}",
                _ms(p.latency["p50"]),
                _ms(p.latency["p95"]),
                _ms(p.latency["p99"]),
                _ms(p.max_ms),
                _ms(p.first_ms),
                ", ".join(f"{k}: {v}" for k, v in sorted(p.errors.items())) or "0",
                " ".join(f"{k} {v}" for k, v in sorted(p.kinds.items())),
            ]
        )
    return rows


def publication_table(publish: PublishResult) -> list[list[str]]:
    """Tabulate each add of the publishing phase, header row first."""
    rows = [["#", "id", "index add s", "visible after s", "polls", "error"]]
    for number, p in enumerate(publish.publications):
        visible = "-" if p.visible_s is None else f"{p.visible_s:.3f}"
        rows.append([str(number), p.id, f"{p.add_s:.2f}", visible, str(p.polls), p.error or ""])
    return rows


def publish_lines(publish: PublishResult) -> list[str]:
    """Return the summary sentences of the publishing phase."""
    adds = [p.add_s for p in publish.publications]
    return [
        (
            f"visibility (index add returned -> found by /api/search?q=<marker>, polled every "
            f"{publish.poll_interval_s:g} s): {publish.visible}/{publish.adds} found, "
            f"p50 {_s(publish.visible_p50_s)}, max {_s(publish.visible_max_s)}; "
            f"failures {publish.failures} (not found within {publish.timeout_s:g} s, or index add failed)"
        ),
        (
            f"publishing p99 / baseline p99: {'-' if publish.p99_ratio is None else f'{publish.p99_ratio:.2f}'}; "
            f"max single request while publishing: {_ms(publish.publishing_max_ms)} ms; "
            f"index add (a subprocess, Python start included) p50 "
            f"{_s(statistics.median(adds) if adds else None)}, max {_s(max(adds, default=None))}"
        ),
    ]


def scenario_terminal(result: ScenarioResult) -> str:
    """Return a scenario's phases, publishing numbers and memory as aligned text."""
    clients = f"{result.clients} client{'s' if result.clients != 1 else ''}"
    lines = [f"scenario {result.scenario}: {result.workers} workers, {clients}", ""]
    lines += aligned(phase_table(result.phases))
    if result.publish is not None:
        lines += ["", *publish_lines(result.publish), *aligned(publication_table(result.publish))]
    lines += ["", "server memory at the end (MB, smaps_rollup):"]
    lines += aligned(memory_table([(result.scenario, result.memory)]))
    lines += [f"first error ({p.name}): {p.first_error}" for p in result.phases if p.first_error]
    lines.append(f"server exit: {'hung' if result.exit_code is None else result.exit_code}")
    return "\n" + "\n".join(lines)


SCENARIO_NOTES = {
    "publish": (
        "Served from a copy of the index (the original is not modified). Baseline: the clients search "
        "(head and eval queries alternating) for the duration; publishing: the same while an article "
        "(a corpus article with a fresh id and a random marker word in its title) is added every "
        "few seconds with `searchsvc index add`, and a separate connection polls a search for the "
        "marker until the article is found. Polls are not counted in the phases' latencies."
    ),
    "mixed": (
        "Half head queries (`head_queries.jsonl`), half rare known-item queries (`queries.jsonl`), "
        "alternating in one list; the clients cycle through it after the warm-up."
    ),
    "sequential-cold": (
        "A freshly started server (new processes; the OS page cache is not dropped), then head "
        "and eval queries alternating, one at a time, no warm-up: the first request is counted."
    ),
}


def scenario_markdown(result: ScenarioResult, meta: dict) -> str:
    """Return one Markdown section describing a scenario run."""
    lines = [
        *runinfo.section_head(f"HTTP load test, scenario {result.scenario}", meta),
        (
            f"- Index: `{meta['index_dir']}` ({meta['documents'] or '?'} documents); "
            f"{result.workers} gunicorn workers, {result.clients} clients; per_page={PER_PAGE}, facets on"
        ),
        (
            f"- Machine: {runinfo.machine_text(meta['machine'])}; load average at start "
            f"{runinfo.load_text(meta['load_at_start'])}, at end {runinfo.load_text(meta['load_at_end'])}"
        ),
        f"- {SCENARIO_NOTES[result.scenario]} Latency is client side.",
        "",
        *markdown_table(phase_table(result.phases)),
    ]
    if result.publish is not None:
        lines += ["", *(f"- {line}" for line in publish_lines(result.publish)), ""]
        lines += markdown_table(publication_table(result.publish))
    lines += ["", MEMORY_NOTE, "", *markdown_table(memory_table([(result.scenario, result.memory)]))]
    lines += [f"- First error ({p.name}): `{p.first_error}`" for p in result.phases if p.first_error]
    return "\n".join(lines) + "\n"


def _s(value: float | None) -> str:
    """Format seconds."""
    return "-" if value is None else f"{value:.3f} s"


def _ms(value: float | None) -> str:
    """Format milliseconds."""
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
