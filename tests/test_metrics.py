"""Prometheus /metrics (read with the Prometheus text parser), in one process and with several workers,
and the JSON access log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex
from searchsvc.querylog import report
from searchsvc.web import create_app
from searchsvc.web.metrics import reindex_figures
from tests.test_server import REPO, STOP_TIMEOUT, free_port, get, wait_healthy

parser = pytest.importorskip("prometheus_client.parser", reason="pip install prometheus-client")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of an exposition as (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in parser.text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float | None:
    """Return one sample's value, or None when it is absent."""
    return found.get((name, tuple(sorted(labels.items()))))


def test_metrics_count_requests_by_endpoint_and_status(demo_settings, store):
    client = create_app(demo_settings).test_client()
    for _ in range(3):
        assert client.get("/api/search?q=ha+noi").status_code == 200
    assert client.get("/api/search?page=0").status_code == 400
    assert client.get("/no/such/page").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    found = samples(response.get_data(as_text=True))
    search = {"endpoint": "api.search_articles", "method": "GET"}
    assert value(found, "searchsvc_http_requests_total", **search, status="200") == 3
    assert value(found, "searchsvc_http_requests_total", **search, status="400") == 1
    assert (
        value(found, "searchsvc_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    )
    latency = {"endpoint": "api.search_articles", "status": "200"}
    assert value(found, "searchsvc_http_request_duration_seconds_count", **latency) == 3
    assert value(found, "searchsvc_http_request_duration_seconds_bucket", **latency, le="+Inf") == 3
    assert value(found, "searchsvc_index_ready") == 1
    assert value(found, "searchsvc_index_documents") == store.doc_count
    generation = next(k[1][0][1] for k in found if k[0] == "searchsvc_index_generation_info")
    assert generation.startswith("gen-")
    assert value(found, "searchsvc_last_reindex_timestamp_seconds") > 1.7e9
    assert value(found, "searchsvc_last_reindex_duration_seconds") >= 0


def test_clients_cannot_multiply_label_values(demo_settings, store):
    client = create_app(demo_settings).test_client()
    for i in range(50):
        client.open(f"/api/search?q=ha&n={i}", method=f"FOO{i}")
        client.get(f"/made/up/path/{i}")
    client.get("/api/search?q=ha")
    found = samples(client.get("/metrics").get_data(as_text=True))
    labels = {dict(key[1]).get("method") for key in found if key[0] == "searchsvc_http_requests_total"}
    assert labels == {"GET", "other"}
    endpoints = {dict(key[1]).get("endpoint") for key in found if key[0] == "searchsvc_http_requests_total"}
    assert endpoints == {"api.search_articles", "unmatched"}
    assert (
        value(found, "searchsvc_http_requests_total", endpoint="unmatched", method="GET", status="404") == 50
    )
    other = sum(
        v for k, v in found.items() if k[0] == "searchsvc_http_requests_total" and ("method", "other") in k[1]
    )
    assert other == 50


@pytest.mark.parametrize(
    ("allow", "peer", "forwarded", "status"),
    [
        ("127.0.0.1, ::1", "127.0.0.1", None, 200),
        ("127.0.0.1, ::1", "::1", None, 200),
        ("127.0.0.1, ::1", "192.0.2.5", None, 403),
        ("192.0.2.0/24", "192.0.2.5", None, 200),
        ("", "127.0.0.1", None, 403),
        # Behind a trusted proxy on loopback, the forwarded client is the one checked.
        ("127.0.0.1, ::1", "127.0.0.1", "203.0.113.9", 403),
        ("203.0.113.0/24", "127.0.0.1", "203.0.113.9", 200),
    ],
)
def test_metrics_are_readable_only_from_allowed_addresses(
    demo_settings, store, allow, peer, forwarded, status
):
    from dataclasses import replace

    server = replace(demo_settings.server, metrics_allow=allow, trusted_proxies="127.0.0.1")
    client = create_app(replace(demo_settings, server=server)).test_client()
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == status
    if status == 403:
        assert response.get_json() == {
            "error": {
                "code": "forbidden",
                "message": "/metrics is readable only from the addresses of server.metrics_allow",
            }
        }


def test_metrics_without_an_index_say_not_ready(tmp_path: Path):
    from searchsvc.config import load_settings

    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(tmp_path)}}))
    found = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert value(found, "searchsvc_index_ready") == 0
    assert value(found, "searchsvc_index_documents") is None


@pytest.mark.parametrize(
    ("generation", "created", "expected"),
    [
        ("gen-20261130T065443091187Z", "2026-11-30T07:03:29+00:00", (1796022209.0, 525.908813)),
        ("odd-name", "2026-11-30T07:03:29+00:00", (1796022209.0, None)),
        ("gen-20261130T065443091187Z", None, (None, None)),
        ("gen-20261130T065443091187Z", "yesterday", (None, None)),
    ],
)
def test_reindex_figures(generation, created, expected):
    committed, took = reindex_figures(generation, created)
    assert committed == expected[0]
    assert took == (pytest.approx(expected[1]) if expected[1] is not None else None)


def start(index_dir: Path, port: int, log_path: Path, tmp: Path) -> subprocess.Popen:
    """Start the production server (2 workers, JSON access log, query log written only at exit).

    Its temporary files go to ``tmp``.
    """
    server = {"port": port, "workers": 2, "threads": 2, "log_format": "json"}
    querylog = {"enabled": True, "flush_seconds": 3600.0, "min_count": 1}
    code = (
        "from searchsvc.config import load_settings\n"
        "from searchsvc.web.server import run_production\n"
        f"overrides = {{'server': {server!r}, 'querylog': {querylog!r}}}\n"
        "settings = load_settings(environ={}, overrides=overrides)\n"
        f"run_production(settings, index_dir={str(index_dir)!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {"TMPDIR": str(tmp)}
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env
        )


def scrape(base: str) -> dict:
    """Scrape /metrics on a new connection (any worker may answer)."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        return samples(response.read().decode("utf-8"))


def test_several_workers_report_the_same_totals_and_clean_up(tmp_path: Path):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = free_port()
    log_path = tmp_path / "server.log"
    process = start(index_dir, port, log_path, tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        folder = next(tmp.glob("searchsvc-metrics-*"))
        sent = 0
        # Batches at once until both workers have answered searches (each writes its own file).
        while len(list(folder.glob("counter_*.db"))) < 2 and sent < 400:
            with ThreadPoolExecutor(10) as pool:
                urls = [f"{base}/api/search?q=ha+noi&page={1 + i % 3}" for i in range(20)]
                assert list(pool.map(lambda url: get(url)[0], urls)) == [200] * 20
            sent += 20
        assert len(list(folder.glob("counter_*.db"))) == 2
        labels = {"endpoint": "api.search_articles", "method": "GET", "status": "200"}
        for _ in range(6):
            found = scrape(base)
            # Whichever worker answers, the totals are every worker's.
            assert value(found, "searchsvc_http_requests_total", **labels) == sent
            assert value(found, "searchsvc_index_documents") == 49  # the demo's articles and page
        assert len(list(tmp.glob("searchsvc-metrics-*"))) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    assert list(tmp.glob("searchsvc-metrics-*")) == []
    # Each worker wrote its query-log counters when it stopped (the interval never came).
    found = report(index_dir / "querylog.sqlite3", days=1, min_count=1)
    assert [(r.query, r.searches) for r in found.top] == [
        ("ha noi", 7 * sent // 20)
    ]  # page 1 is 7 of each 20
    access = [
        json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.startswith("{")
    ]
    searches = [r for r in access if r["path"] == "/api/search"]
    assert len(searches) == sent
    assert {r["query"] for r in searches} == {"q=ha+noi&page=1", "q=ha+noi&page=2", "q=ha+noi&page=3"}
    first = searches[0]
    assert set(first) == {
        "time",
        "remote",
        "method",
        "path",
        "query",
        "protocol",
        "status",
        "bytes",
        "duration_ms",
        "referrer",
        "user_agent",
    }
    assert (first["method"], first["status"], first["protocol"]) == ("GET", 200, "HTTP/1.1")
    assert first["bytes"] > 0 and first["duration_ms"] >= 0
    assert first["referrer"] is None and first["user_agent"].startswith("Python-urllib")
