"""Shared fixtures: settings, a demo index built once per session, the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchsvc.config import Settings, load_settings
from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def settings_for(index_dir: Path) -> Settings:
    """Return default settings pointing at ``index_dir``, ignoring the environment."""
    return load_settings(
        path=REPO / "config" / "searchsvc.toml", environ={}, overrides={"index": {"dir": str(index_dir)}}
    )


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the built-in demo corpus into an index once for the whole session."""
    index_dir = tmp_path_factory.mktemp("demo-index")
    reindex([str(p) for p in demo_sources()], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def demo_settings(demo_index_dir: Path) -> Settings:
    """Return settings for the session's demo index."""
    return settings_for(demo_index_dir)


@pytest.fixture()
def store(demo_index_dir: Path):
    """Open the demo index for searching."""
    from searchsvc.store import open_store

    opened = open_store(demo_index_dir)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """Return the shared corpus directory, or skip when this checkout has none beside it."""
    corpus = SHARED / "corpus"
    if not (corpus / "sample.jsonl").is_file():
        pytest.skip(
            f"the shared corpus is not at {corpus} (it sits beside the repository on the team's machines)"
        )
    return corpus


@pytest.fixture(scope="session")
def app(demo_settings: Settings):
    """Return the Flask app serving the demo index; close its store at the end."""
    from searchsvc.web import STORE_KEY, create_app

    served = create_app(demo_settings)
    yield served
    served.extensions[STORE_KEY].close()


@pytest.fixture()
def client(app):
    """Return a Flask test client of the demo app."""
    return app.test_client()


# --- OpenSearch: real nodes from scripts/opensearch-local (docs/opensearch-local.md) ------
# The imports sit here, not at the top, so that this section stays one appended block.
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

OPENSEARCH_SCRIPT = REPO / "scripts" / "opensearch-local"
OPENSEARCH_URL_ENV = "SEARCHSVC_TEST_OPENSEARCH_URL"
OPENSEARCH_SKIP = "OpenSearch tests need Java 17 and Maven (or SEARCHSVC_TEST_OPENSEARCH_URL)"
OPENSEARCH_CLUSTER_SKIP = "multi-node OpenSearch tests need Java 17 and Maven to start their own nodes"
# A cold machine resolves the jars from Maven Central first; after that a start takes seconds.
OPENSEARCH_START_TIMEOUT_S = 400.0


def opensearch_tools_present() -> bool:
    """Tell whether this machine can start local nodes (java and mvn on PATH)."""
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def run_opensearch_local(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run scripts/opensearch-local with args and return its result."""
    return subprocess.run(
        [sys.executable, str(OPENSEARCH_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def opensearch_pid_alive(pid: int) -> bool:
    """Tell whether pid is a live process (a zombie counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def opensearch_client(*urls: str, **kwargs: Any):
    """Return an opensearch-py client of the given node URLs (close it when done)."""
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=list(urls), **kwargs)


@dataclass
class LocalOpenSearch:
    """A cluster that scripts/opensearch-local started in its own directory."""

    dir: Path
    url: str
    start_output: str

    @classmethod
    def start(cls, directory: Path, nodes: int = 1) -> LocalOpenSearch:
        """Start nodes in directory; fail the test with the script's error line if it cannot."""
        result = run_opensearch_local(
            "start", "--nodes", str(nodes), "--dir", str(directory), timeout=OPENSEARCH_START_TIMEOUT_S
        )
        if result.returncode != 0:
            pytest.fail(f"scripts/opensearch-local start failed: {result.stderr.strip()}", pytrace=False)
        return cls(directory, result.stdout.strip().splitlines()[-1], result.stdout)

    def nodes(self) -> list[tuple[str, int, int]]:
        """Return (name, pid, http_port) of each running node."""
        result = run_opensearch_local("status", "--dir", str(self.dir))
        rows = (line.split() for line in result.stdout.splitlines())
        return [(name, int(pid), int(port)) for name, pid, port in rows]

    def urls(self) -> list[str]:
        """Return the HTTP URL of each running node."""
        return [f"http://127.0.0.1:{port}" for _, _, port in self.nodes()]

    def client(self, **kwargs: Any):
        """Return an opensearch-py client of every running node (close it when done)."""
        return opensearch_client(*self.urls(), **kwargs)

    def cluster_manager(self) -> str:
        """Return the name of the elected cluster manager."""
        client = self.client(timeout=10)
        try:
            return str(client.cat.cluster_manager(format="json")[0]["node"])
        finally:
            client.close()

    def primary_node(self, index: str) -> str:
        """Return the name of the node holding shard 0's primary of index."""
        client = self.client(timeout=10)
        try:
            shards = client.cat.shards(index=index, format="json")
        finally:
            client.close()
        return next(str(s["node"]) for s in shards if s["shard"] == "0" and s["prirep"] == "p")

    def kill(self, name: str) -> None:
        """SIGKILL one node and return once its process is gone."""
        pids = {node: pid for node, pid, _ in self.nodes()}
        if name not in pids:
            pytest.fail(f"no running node {name} in {self.dir} (running: {sorted(pids)})")
        os.kill(pids[name], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while opensearch_pid_alive(pids[name]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if opensearch_pid_alive(pids[name]):
            pytest.fail(f"{name} (pid {pids[name]}) still alive 30 s after SIGKILL")

    def restart(self) -> None:
        """Stop the cluster and start it again with its data on the same ports (--keep-data)."""
        self.stop()
        result = run_opensearch_local(
            "start", "--keep-data", "--dir", str(self.dir), timeout=OPENSEARCH_START_TIMEOUT_S
        )
        if result.returncode != 0:
            pytest.fail(
                f"scripts/opensearch-local start --keep-data failed: {result.stderr.strip()}", pytrace=False
            )
        self.start_output = result.stdout

    def stop(self) -> None:
        """Stop every node of the cluster; fail the test if the script cannot."""
        result = run_opensearch_local("stop", "--dir", str(self.dir))
        if result.returncode != 0:
            pytest.fail(f"scripts/opensearch-local stop failed: {result.stderr.strip()}", pytrace=False)


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of the session's OpenSearch: SEARCHSVC_TEST_OPENSEARCH_URL, or a local node."""
    given = os.environ.get(OPENSEARCH_URL_ENV)
    if given:
        yield given.rstrip("/")
        return
    if not opensearch_tools_present():
        pytest.skip(OPENSEARCH_SKIP)
    cluster = LocalOpenSearch.start(tmp_path_factory.mktemp("opensearch"))
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture()
def opensearch_cluster2(tmp_path: Path) -> Iterator[LocalOpenSearch]:
    """Yield a fresh two-node cluster of this test alone; stop it afterwards."""
    if not opensearch_tools_present():
        pytest.skip(OPENSEARCH_CLUSTER_SKIP)
    cluster = LocalOpenSearch.start(tmp_path / "opensearch", nodes=2)
    try:
        yield cluster
    finally:
        cluster.stop()


def delete_test_indices(url: str, prefix: str) -> None:
    """Delete every index whose name starts with prefix (one test's own indices)."""
    if not prefix or "*" in prefix:
        raise ValueError(f"refusing to delete indices by the prefix {prefix!r}")
    client = opensearch_client(url, timeout=30)
    try:
        client.indices.delete(index=f"{prefix}*", expand_wildcards="all", ignore_unavailable=True)
    finally:
        client.close()


@pytest.fixture()
def opensearch_index_prefix(opensearch_url: str) -> Iterator[str]:
    """Yield a unique index-name prefix for one test; delete the indices it made afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}-"
    yield prefix
    delete_test_indices(opensearch_url, prefix)


@dataclass
class LoadSample:
    """One request of a load run; times in seconds relative to the kill."""

    start: float
    end: float
    error: str | None


@dataclass
class LoadReport:
    """What the clients saw while one node was killed."""

    victim: str
    samples: list[LoadSample] = field(default_factory=list)

    def errors(self, after: float = float("-inf")) -> list[LoadSample]:
        """Return the failed requests that started at or after `after` seconds past the kill."""
        return [s for s in self.samples if s.error is not None and s.start >= after]

    def started_after(self, after: float) -> list[LoadSample]:
        """Return the requests that started at or after `after` seconds past the kill."""
        return [s for s in self.samples if s.start >= after]

    def recovery_s(self) -> float:
        """Return how long after the kill the last failed request ended (0 when none failed)."""
        return max((s.end for s in self.errors(after=0.0)), default=0.0)

    def summary(self) -> str:
        """Return one line of counts for the test's output."""
        kinds = sorted({s.error for s in self.errors() if s.error})
        return (
            f"killed {self.victim}: {len(self.samples)} requests, {len(self.started_after(0.0))} after the kill, "
            f"{len(self.errors())} errors, recovered {self.recovery_s():.2f} s after the kill; "
            f"errors: {kinds[:5] or 'none'}"
        )


def kill_under_load(
    cluster: LocalOpenSearch,
    victim: str,
    make_request: Callable[[], Callable[[], object]],
    *,
    clients: int = 8,
    before_s: float = 2.0,
    after_s: float = 15.0,
    max_requests_per_client: int = 50_000,
) -> LoadReport:
    """Run `clients` threads of requests, SIGKILL victim after before_s, go on for after_s.

    make_request is called once per thread and returns that thread's request function,
    which raises on any failure (a wrong answer included). Loops are bounded in time
    and in count.
    """
    lock = threading.Lock()
    done = threading.Event()
    timed: list[tuple[float, float, str | None]] = []

    def client_loop() -> None:
        request = make_request()
        for _ in range(max_requests_per_client):
            if done.is_set():
                break
            began = time.monotonic()
            error: str | None = None
            try:
                request()
            except Exception as exc:  # every failure is recorded, none raised
                error = f"{type(exc).__name__}: {str(exc)[:120]}"
            with lock:
                timed.append((began, time.monotonic(), error))
            if error is not None:
                time.sleep(0.05)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    killed_at = time.monotonic()
    try:
        time.sleep(before_s)
        killed_at = time.monotonic()
        cluster.kill(victim)
        time.sleep(after_s)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    with lock:
        samples = [LoadSample(b - killed_at, e - killed_at, err) for b, e, err in sorted(timed)]
    return LoadReport(victim, samples)
