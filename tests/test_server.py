"""The production server: gunicorn in a subprocess, live reindex without restart, graceful SIGTERM."""

from __future__ import annotations

import json
import re
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
from searchsvc.web.server import BoundedLogger, SearchWorker

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


def start_server(index_dir: Path, port: int, log_path: Path, **server: object) -> subprocess.Popen:
    """Start ``run_production`` on ``port`` in a subprocess logging to ``log_path``."""
    server = {"port": port, "workers": 2, "threads": 2, **server}
    code = (
        "from searchsvc.config import load_settings\n"
        "from searchsvc.web.server import run_production\n"
        f"settings = load_settings(environ={{}}, overrides={{'server': {server!r}}})\n"
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
    assert (options["worker_class"], options["timeout"], options["graceful_timeout"]) == (
        SearchWorker,
        60,
        30,
    )
    assert (options["accesslog"], options["preload_app"], options["logger_class"]) == (
        "-",
        False,
        BoundedLogger,
    )
    assert "%(M)s" in options["access_log_format"]
    # gunicorn reads 0 as "no limit": the limits are always on, at most gunicorn's 8190.
    limits = (
        options["limit_request_line"],
        options["limit_request_field_size"],
        options["limit_request_fields"],
    )
    assert limits == (8190, 8190, 100)
    assert with_index_dir(settings, "/srv/index").index_dir == Path("/srv/index")


def test_json_log_format_picks_the_json_logger_and_others_are_refused():
    from searchsvc.config import load_settings
    from searchsvc.errors import ConfigError
    from searchsvc.web.server import JSONAccessLogger, gunicorn_options

    settings = load_settings(environ={}, overrides={"server": {"log_format": "json"}})
    assert gunicorn_options(settings)["logger_class"] is JSONAccessLogger
    with pytest.raises(ConfigError, match="log_format"):
        gunicorn_options(load_settings(environ={}, overrides={"server": {"log_format": "xml"}}))


@pytest.mark.parametrize(("max_bytes", "line"), [(1024, 1024), (8190, 8190), (1 << 20, 8190)])
def test_request_line_limit_is_never_off(max_bytes, line):
    from searchsvc.config import load_settings
    from searchsvc.web.server import gunicorn_options

    options = gunicorn_options(
        load_settings(environ={}, overrides={"server": {"max_request_bytes": max_bytes}})
    )
    assert (options["limit_request_line"], options["limit_request_field_size"]) == (line, line)


CHUNKED_HEAD = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    ("buffered", "state"),
    [
        (b"GET / HTTP/1.1\r\nHost: x", None),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel", None),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 0),
        (b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413),
        # 13 digits and more: refused at once, not handed to a thread that waits for the body.
        (b"GET / HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nContent-Length: " + b"9" * 400 + b"\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", None),
        (CHUNKED_HEAD + b"5\r\nhello\r\n", None),
        (CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n\r\n", 0),
        (CHUNKED_HEAD + b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", 0),
        # A buffer ending like a last chunk is not one: the head ends in "0\r\n\r\n", no chunk came.
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-A: 0\r\n\r\n", None),
        (CHUNKED_HEAD + b"10\r\n0\r\n\r\n", None),
        (CHUNKED_HEAD + b"zz\r\n", 400),
        (CHUNKED_HEAD + b"5\r\nhello!!\r\n", 400),
        (CHUNKED_HEAD + b"400\r\n", None),
        (CHUNKED_HEAD + b"400\r\n" + b"a" * 1024 + b"\r\n0\r\n\r\n", 413),
        (CHUNKED_HEAD + b"1\r\na\r\n" * 200, 413),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", 0),
        (b"GET /" + b"a" * 2000, 413),
        # A pipelined request behind a whole one does not hide the end of the first.
        (CHUNKED_HEAD + b"0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
    ],
)
def test_request_state(buffered, state):
    from searchsvc.web.server import request_state

    assert request_state(buffered, 1024).status == state


@pytest.mark.parametrize(
    ("buffered", "awaits"),
    [
        (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nexpect:100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", False),
    ],
)
def test_the_loop_answers_100_continue_only_when_asked(buffered, awaits):
    from searchsvc.web.server import request_state

    assert request_state(buffered, 1024).awaits_continue is awaits


def test_the_expectation_answered_by_the_loop_is_taken_out_of_the_request():
    from searchsvc.web.server import without_expect

    buffered = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"
    assert without_expect(buffered) == b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    last = b"POST / HTTP/1.1\r\nContent-Length: 2\r\nEXPECT: 100-continue\r\n\r\n{}"
    assert without_expect(last) == b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"


def raw_exchange(port: int, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes, and return (status line, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/search?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "request_too_large"),
        (b"GET /api/search?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 413, "request_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 9000 + b"\r\n\r\n", 431, "request_too_large"),
        (
            b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
            431,
            "request_too_large",
        ),
        (b"FOO\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bad_request"),
    ],
)
def test_gunicorn_errors_have_the_json_shape(server, request_bytes, status, code):
    from searchsvc.web.errors import SECURITY_HEADERS

    base, _, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    status_line, headers, body = raw_exchange(port, request_bytes)
    assert int(status_line.split()[1]) == status
    assert headers["Content-Type"] == "application/json"
    assert {name: headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS
    error = json.loads(body)
    assert (set(error), set(error["error"]), error["error"]["code"]) == ({"error"}, {"code", "message"}, code)
    from searchsvc.config import Settings
    from searchsvc.web.openapi import openapi_document

    assert str(status) in openapi_document(Settings())["paths"]["/healthz"]["get"]["responses"]


def test_access_log_lines_are_bounded(server):
    base, process, _, log_path = server
    long_query = "x" * 8000
    status, _ = get(base + "/api/search?q=" + long_query)
    assert status == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT) == 0
    lines = [
        line for line in log_path.read_text(encoding="utf-8").splitlines() if "/api/search?q=xxx" in line
    ]
    assert len(lines) == 1
    assert len(lines[0]) < 600
    assert "more]" in lines[0]


SLOW_CLIENTS = 50
SLOW_MAX_SECONDS = 60.0
# Generous against the 1 s target; sync workers made /healthz wait 30 s behind two slow clients.
ANSWER_TIMEOUT = 5.0


def start_cli_server(index_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    """Start ``searchsvc serve`` with the repository's default configuration on ``port``."""
    code = "from searchsvc.cli import main; main()"
    command = [sys.executable, "-c", code, "serve", "--index-dir", str(index_dir), "--port", str(port)]
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def trickle(port: int, count: int, opened: threading.Event, stop: threading.Event) -> None:
    """Hold ``count`` connections that send one header byte every 2 s until ``stop`` (at most a minute)."""
    connections = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            connections.append(sock)
            time.sleep(0.02)  # one at a time, so every worker gets its share
        opened.set()
        deadline = time.monotonic() + SLOW_MAX_SECONDS
        while not stop.wait(2.0) and time.monotonic() < deadline:
            for sock in connections:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass  # the server may close a connection that is too slow: that is fine
    finally:
        opened.set()
        for sock in connections:
            sock.close()


def fetch(url: str) -> tuple[int, dict]:
    """Fetch JSON from ``url`` within ``ANSWER_TIMEOUT`` seconds."""
    with urllib.request.urlopen(url, timeout=ANSWER_TIMEOUT) as response:
        return response.status, json.loads(response.read())


def test_slow_clients_cannot_pin_the_workers(tmp_path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    port = free_port()
    process = start_cli_server(index_dir, port, tmp_path / "server.log")
    base = f"http://127.0.0.1:{port}"
    opened, stop = threading.Event(), threading.Event()
    slow = threading.Thread(target=trickle, args=(port, SLOW_CLIENTS, opened, stop))
    try:
        wait_healthy(base, process)
        slow.start()
        assert opened.wait(timeout=20)
        time.sleep(2.5)  # every slow client has sent a byte since it connected
        assert fetch(base + "/healthz")[0] == 200
        status, body = fetch(base + "/api/search?q=ha+noi&per_page=1")
        assert (status, body["hits"][0]["id"]) == (200, "demo-001")
        assert process.poll() is None
    finally:
        stop.set()
        if slow.is_alive():
            slow.join(timeout=10)
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def test_a_request_that_never_completes_gets_408_in_the_json_shape(tmp_path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    port = free_port()
    process = start_server(index_dir, port, tmp_path / "server.log", header_timeout=1.0)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        status_line, headers, body = raw_exchange(port, b"GET /api/search?q=ha HTTP/1.1\r\nHost: x\r\n")
        assert (status_line, headers["Content-Type"]) == ("HTTP/1.1 408 Request Timeout", "application/json")
        assert json.loads(body) == {
            "error": {"code": "request_timeout", "message": "the request was not complete within 1 s"}
        }
        # An idle connection is closed without a word.
        assert raw_exchange(port, b"")[0] == ""
    finally:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


# More connections than the server has threads (2 workers x 2 threads), alternating two framings
# a thread used to wait 5 s on for a body that never came.
PINNING_CONNECTIONS = 16
PINNING_REQUESTS = (
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-A: 0\r\n\r\n",
)
HUGE_LENGTH = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n"
# Below gunicorn's 5 s wait for a body: a pinned thread would make /healthz miss it.
PINNED_ANSWER_TIMEOUT = 4.0


def read_head(sock: socket.socket) -> bytes:
    """Read until the end of one response head (or the close) within the socket's timeout."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


def test_requests_whose_body_never_comes_pin_no_thread(server):
    base, process, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    sockets = []
    try:
        for i in range(PINNING_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(PINNING_REQUESTS[i % len(PINNING_REQUESTS)])
            sockets.append(sock)
        # Accepted after the sixteen (the listen queue is in order), so they fill the threads first.
        for _ in range(3):  # every worker gets its turn
            with urllib.request.urlopen(base + "/healthz", timeout=PINNED_ANSWER_TIMEOUT) as response:
                assert response.status == 200
        # The event loop answered each expectation, and waits for the body without a thread.
        answers = {read_head(sock).split(b"\r\n", 1)[0] for sock in sockets[::2]}
        assert answers == {b"HTTP/1.1 100 Continue"}
        status_line, headers, body = raw_exchange(port, HUGE_LENGTH)
        assert (status_line, headers["Content-Type"]) == (
            "HTTP/1.1 413 Content Too Large",
            "application/json",
        )
        assert json.loads(body)["error"]["code"] == "request_too_large"
        assert process.poll() is None
    finally:
        for sock in sockets:
            sock.close()


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code = "from searchsvc.cli import main; main()"
        command = [sys.executable, "-c", code, "serve", "--index-dir", str(index_dir), "--port", str(port)]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(server.host/server.port, --host/--port)\n"
    )


def test_an_address_not_on_this_machine_is_a_config_error():
    from searchsvc.config import load_settings
    from searchsvc.errors import ConfigError
    from searchsvc.web.server import check_address

    # A documentation address (RFC 5737): binding it fails locally, nothing is sent.
    settings = load_settings(environ={}, overrides={"server": {"host": "192.0.2.1", "port": 1}})
    with pytest.raises(ConfigError, match="cannot listen on 192.0.2.1:1: cannot assign requested address"):
        check_address(settings.server)


def test_connections_are_capped_per_client_address(tmp_path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    port = free_port()
    cap = 5
    process = start_server(
        index_dir, port, tmp_path / "server.log", workers=1, max_connections_per_client=cap
    )
    base = f"http://127.0.0.1:{port}"
    held: list[socket.socket] = []
    try:
        wait_healthy(base, process)
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(cap)]
        # Each sends a partial request, so the worker has surely accepted it before the next step.
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = extra.recv(65536)
            except ConnectionResetError:
                answer = b""
        assert answer == b""  # closed at once, unanswered
        # Another client address (all of 127.0.0.0/8 is this machine) is served meanwhile.
        with socket.create_connection(
            ("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0)
        ) as other:
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert read_head(other).startswith(b"HTTP/1.1 200 ")
        for sock in held:
            sock.close()
        held = []
        # The slots come back when the connections close.
        wait_healthy(base, process)
    finally:
        for sock in held:
            sock.close()
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def test_connection_limits_follow_the_settings():
    from searchsvc.config import load_settings
    from searchsvc.errors import ConfigError
    from searchsvc.web.server import gunicorn_options

    settings = load_settings(environ={}, overrides={"server": {"max_connections": 64}})
    assert gunicorn_options(settings)["worker_connections"] == 64
    for key in ("max_connections", "max_connections_per_client"):
        with pytest.raises(ConfigError, match=f"server.{key}: 0 is below the minimum"):
            load_settings(environ={}, overrides={"server": {key: 0}})


def test_searchsvc_warnings_reach_the_server_log_with_time_and_level(tmp_path):
    import logging

    from gunicorn.config import Config

    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = BoundedLogger(cfg)
    app_log = logging.getLogger("searchsvc")
    try:
        logging.getLogger("searchsvc.store").warning("read model %s does not match: rebuilding it", "x.rm")
        replaced = list(logger.error_log.handlers)
        logger.setup(cfg)  # set up again (a reload): still one line per record
        for handler in replaced:  # gunicorn drops its old handler without closing it
            handler.close()
        logging.getLogger("searchsvc.web").warning("index not ready: no CURRENT")
    finally:
        for handler in app_log.searchsvc_handlers:
            app_log.removeHandler(handler)
            handler.close()
        app_log.setLevel(logging.NOTSET)
        logger.error_log.handlers.clear()
    lines = (tmp_path / "error.log").read_text(encoding="utf-8").splitlines()
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[WARNING\] "
    assert len(lines) == 2
    assert re.fullmatch(stamp + "read model x.rm does not match: rebuilding it", lines[0])
    assert re.fullmatch(stamp + "index not ready: no CURRENT", lines[1])


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        (b"xchunked", "the only transfer coding accepted is chunked"),
        (b"gzip, chunked", "the only transfer coding accepted is chunked"),
    ],
)
def test_an_unknown_transfer_coding_is_a_client_error(server, encoding, message):
    base, _, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    request = b"POST /api/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + encoding + b"\r\n\r\n"
    status_line, headers, body = raw_exchange(port, request)
    assert (status_line, headers["Content-Type"]) == ("HTTP/1.1 400 Bad Request", "application/json")
    assert json.loads(body) == {"error": {"code": "bad_request", "message": message}}


def test_a_request_pipelined_behind_a_chunked_one_is_answered_at_once(tmp_path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    port = free_port()
    # A long header timeout: the old loop held both requests until it, then answered 408 twice.
    process = start_server(index_dir, port, tmp_path / "server.log", header_timeout=30.0)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        pipelined = (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            b"GET /api/search?q=ha+noi&per_page=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(pipelined)
            received = b""
            while chunk := sock.recv(65536):  # both answers well within the socket timeout
                received += chunk
        statuses = re.findall(rb"^HTTP/1\.1 (\d{3})", received, re.MULTILINE)
        assert statuses == [b"200", b"200"]
        assert b'"id":"demo-001"' in received
    finally:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
