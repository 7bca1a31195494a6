"""The production server: gunicorn in a subprocess, live reindex without restart, graceful SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict | str]:
    """Fetch ``url`` and return its status and JSON (or text) body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
    text = raw.decode("utf-8")
    return status, json.loads(text) if kind == "application/json" else text


def start_server(index_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    """Start ``run_production`` on ``port`` in a subprocess logging to ``log_path``."""
    code = (
        "from searchsvc.config import load_settings\n"
        "from searchsvc.web.server import run_production\n"
        f"settings = load_settings(environ={{}}, overrides={{'server': {{'port': {port}, 'workers': 2, 'threads': 2}}}})\n"
        f"run_production(settings, index_dir={str(index_dir)!r})\n"
    )
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(base: str, process: subprocess.Popen) -> dict:
    """Poll ``/healthz`` until it answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            status, body = get(base + "/healthz")
            if status == 200:
                return body
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become healthy")


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path, Path]]:
    """Run the production server on its own copy of the demo index."""
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    port = free_port()
    log_path = tmp_path / "server.log"
    process = start_server(index_dir, port, log_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        yield base, process, index_dir, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def test_serves_api_and_pages_then_stops_on_sigterm(server):
    base, process, _, log_path = server
    status, body = get(base + "/api/search?q=ha+noi+bao&per_page=2")
    assert status == 200
    assert [hit["id"] for hit in body["hits"]] == ["demo-001", "demo-003"]
    status, html = get(base + "/?q=da+nang")
    assert status == 200
    assert "<mark>Đà Nẵng</mark>" in html
    assert get(base + "/api/articles/nope") == (
        404,
        {"error": {"code": "not_found", "message": "no article with id 'nope'"}},
    )
    status, body = get(base + "/api/search?q=" + "a" * 20_000)
    assert (status, body["error"]["code"]) == (413, "request_too_large")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT) == 0
    log = log_path.read_text(encoding="utf-8")
    assert '"GET /api/search?q=ha+noi+bao&per_page=2 HTTP/1.1" 200' in log
    assert "ms" in log.split("/api/search?q=ha+noi+bao", 1)[1].splitlines()[0]


def test_reindex_is_served_without_restart_and_without_failed_requests(server):
    base, process, index_dir, _ = server
    failures: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            for path in ("/api/search?q=ha+noi", "/?q=bao", "/api/articles/demo-001", "/healthz"):
                try:
                    status, _ = get(base + path)
                except (urllib.error.URLError, ConnectionError) as exc:
                    failures.append((0, f"{path}: {exc}"))
                    continue
                if status != 200:
                    failures.append((status, path))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        # Two switches: the second prunes the first generation while workers may still hold it.
        for _ in range(2):
            time.sleep(0.5)
            report = reindex([str(p) for p in demo_sources()], index_dir)
            deadline = time.monotonic() + 10
            seen: list[str] = []
            while time.monotonic() < deadline:
                seen.append(get(base + "/healthz")[1]["generation"])
                if seen[-6:] == [report.generation] * 6:  # every worker answered with it
                    break
                time.sleep(0.2)
            assert seen[-6:] == [report.generation] * 6
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert failures == []
    assert process.poll() is None


def test_gunicorn_options_follow_server_settings():
    from searchsvc.config import load_settings
    from searchsvc.web.server import gunicorn_options, with_index_dir

    settings = load_settings(
        environ={},
        overrides={"server": {"host": "0.0.0.0", "port": 9000, "workers": 4, "threads": 8, "timeout": 60}},
    )
    options = gunicorn_options(settings)
    assert (options["bind"], options["workers"], options["threads"]) == ("0.0.0.0:9000", 4, 8)
    assert (options["worker_class"], options["timeout"], options["graceful_timeout"]) == ("gthread", 60, 30)
    assert (options["accesslog"], options["preload_app"]) == ("-", False)
    assert "%(M)s" in options["access_log_format"]
    # Requests up to max_request_bytes (16384) must reach the app, which answers 413 itself.
    assert options["limit_request_line"] == 0
    assert with_index_dir(settings, "/srv/index").index_dir == Path("/srv/index")
