"""Prometheus metrics at ``/metrics``: requests by endpoint and status, their latency, the index served.

gunicorn runs several worker processes and a scrape reaches one of them, so the
request counters use prometheus-client's multiprocess mode: ``run_production``
gives each server a fresh directory (``PROMETHEUS_MULTIPROC_DIR``) before the
workers fork, every worker writes its counters there, and a scrape sums them
all. A dead worker's live-gauge files are marked dead and the directory is
removed when the server stops. The index figures are read from the answering
worker's store at scrape time (every worker serves the same generation).
The development server and tests use one process and a registry per app.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from searchsvc.config import address_list
from searchsvc.errors import IndexNotReady
from searchsvc.web import STORE_KEY, current_settings
from searchsvc.web.errors import json_error
from searchsvc.web.origin import in_networks
from searchsvc.web.tracking import QueryLogCollector

bp = Blueprint("metrics", __name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_KEY = "searchsvc.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a search answers in milliseconds, a cold article page or a big feed in tenths.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GENERATION_TIME = "gen-%Y%m%dT%H%M%S%fZ"
# Label values a client cannot multiply: the methods HTTP defines (anything else is "other"),
# the app's own endpoints ("unmatched" for any unknown path) and real status codes.
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "TRACE"})
OTHER = "other"


def method_label(method: str) -> str:
    """Return a request method as a label: one of the known methods, else ``other``.

    >>> method_label("GET"), method_label("get"), method_label("FOO1")
    ('GET', 'other', 'other')
    """
    return method if method in KNOWN_METHODS else OTHER


def status_label(status: int) -> str:
    """Return a status code as a label; anything outside 100-599 is ``other``."""
    return str(status) if 100 <= status <= 599 else OTHER


class RequestMetrics:
    """The request counters and latency histogram of one app (shared files in multiprocess mode)."""

    def __init__(self, multiprocess: bool) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = multiprocess
        # In multiprocess mode values live in the shared directory, not in a registry.
        self.registry = None if multiprocess else CollectorRegistry()
        self.requests = Counter(
            "searchsvc_http_requests",
            "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "searchsvc_http_request_duration_seconds",
            "Time to answer an HTTP request in the app, by endpoint and status.",
            ["endpoint", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        status_text = status_label(status)
        self.requests.labels(endpoint, method_label(method), status_text).inc()
        self.latency.labels(endpoint, status_text).observe(seconds)

    def exposition(self, index: Any) -> bytes:
        """Return the text exposition of every worker's request metrics and this worker's index figures."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        figures = CollectorRegistry()
        figures.register(index)
        figures.register(QueryLogCollector())
        return generate_latest(registry) + generate_latest(figures)


def reindex_figures(generation: str, created: str | None) -> tuple[float | None, float | None]:
    """Return when a generation was committed (epoch seconds) and how long its build took.

    The build started at the time in the generation's name and ended at the manifest's ``created``.
    """
    try:
        ended = datetime.fromisoformat(created or "")
    except ValueError:
        return None, None
    try:
        started = datetime.strptime(generation + "+0000", GENERATION_TIME + "%z")
    except ValueError:
        return ended.timestamp(), None
    return ended.timestamp(), max(0.0, (ended - started).total_seconds())


class IndexCollector:
    """Report the index the answering worker serves (read at scrape time)."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder

    def describe(self) -> list[Any]:
        """Return nothing, so registering does not collect (the store may not exist yet)."""
        return []

    def collect(self) -> Iterator[Any]:
        """Yield the index gauges; only ``searchsvc_index_ready 0`` while there is no index."""
        from prometheus_client.core import GaugeMetricFamily

        try:
            store = self.holder.get()
        except IndexNotReady:
            yield GaugeMetricFamily("searchsvc_index_ready", "1 when an index is being served.", value=0)
            return
        health = store.health()
        yield GaugeMetricFamily("searchsvc_index_ready", "1 when an index is being served.", value=1)
        yield GaugeMetricFamily(
            "searchsvc_index_degraded",
            "1 when a newer generation cannot be served.",
            value=int(health.get("status") != "ok"),
        )
        info = GaugeMetricFamily(
            "searchsvc_index_generation_info",
            "The index generation served (label), always 1.",
            labels=["generation"],
        )
        info.add_metric([store.generation], 1)
        yield info
        yield GaugeMetricFamily("searchsvc_index_documents", "Searchable documents.", value=store.doc_count)
        yield GaugeMetricFamily(
            "searchsvc_index_segments", "Segments of the live generation.", value=health.get("segments", 0)
        )
        committed, took = reindex_figures(store.generation, store.created)
        if committed is not None:
            yield GaugeMetricFamily(
                "searchsvc_last_reindex_timestamp_seconds",
                "When the served generation was built.",
                value=committed,
            )
        if took is not None:
            yield GaugeMetricFamily(
                "searchsvc_last_reindex_duration_seconds", "How long building it took.", value=took
            )


def _start_timer() -> None:
    """Note when the request reached the app."""
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    """Count the answered request under its route's endpoint (``unmatched`` for unknown paths).

    The endpoint is the name of a route of this app, never the path the client sent.
    """
    started = g.get("metrics_started")
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        metrics: RequestMetrics = current_app.extensions[METRICS_KEY]
        metrics.observe(endpoint, request.method, response.status_code, time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Count every request of ``app`` and serve ``/metrics``; call before other request hooks."""
    app.extensions[METRICS_KEY] = RequestMetrics(multiprocess=bool(os.environ.get(MULTIPROC_ENV)))
    app.before_request(_start_timer)
    app.after_request(_count)
    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    """Return the Prometheus text exposition to the addresses of ``server.metrics_allow``."""
    allowed = address_list("server.metrics_allow", current_settings().server.metrics_allow)
    if not in_networks(request.remote_addr or "", allowed):
        response = json_error(
            403, "forbidden", "/metrics is readable only from the addresses of server.metrics_allow"
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    found: RequestMetrics = current_app.extensions[METRICS_KEY]
    body = found.exposition(IndexCollector(current_app.extensions[STORE_KEY]))
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def prepare_multiprocess() -> Path:
    """Give this server a fresh, empty metrics directory; call in the arbiter, before workers fork."""
    folder = Path(tempfile.mkdtemp(prefix="searchsvc-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def worker_gone(pid: int) -> None:
    """Mark a dead worker's live gauges dead (its counters stay: totals never go back)."""
    from prometheus_client import multiprocess

    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


def remove_directory(folder: Path) -> None:
    """Remove a server's metrics directory when it stops."""
    shutil.rmtree(folder, ignore_errors=True)
