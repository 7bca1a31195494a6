"""Feed the opt-in query log (``querylog.py``) from the search page, the search API and result clicks.

Each process opens its own ``QueryLog`` on first use (counters held before a fork
would otherwise be written twice).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from flask import current_app

from searchsvc.messages import SearchResponse
from searchsvc.querylog import QueryLog, log_path
from searchsvc.web import current_settings

QUERYLOG_KEY = "searchsvc.querylog"
_lock = threading.Lock()


def query_log() -> QueryLog | None:
    """Return this process's query log, or None when it is switched off."""
    settings = current_settings()
    if not settings.querylog.enabled:
        return None
    found: tuple[int, QueryLog] | None = current_app.extensions.get(QUERYLOG_KEY)
    if found is None or found[0] != os.getpid():
        with _lock:
            found = current_app.extensions.get(QUERYLOG_KEY)
            if found is None or found[0] != os.getpid():
                found = (
                    os.getpid(),
                    QueryLog(settings.querylog, log_path(settings.querylog, settings.index_dir)),
                )
                current_app.extensions[QUERYLOG_KEY] = found
    return found[1]


def note_search(response: SearchResponse) -> None:
    """Count a reader's search: only a first page, only a query with words (paging is not searching again)."""
    log = query_log()
    if log is not None and response.page == 1 and response.query.strip():
        log.record_search(response.query, response.total)


def note_click(q: str) -> None:
    """Count a result opened from the search page for query ``q``."""
    log = query_log()
    if log is not None and q.strip():
        log.record_click(q)


def flush_query_log() -> None:
    """Write this process's pending counters, waiting for other workers' writes (a worker about to exit)."""
    found: tuple[int, QueryLog] | None = current_app.extensions.get(QUERYLOG_KEY)
    if found is not None and found[0] == os.getpid():
        found[1].close()


def query_log_problem() -> str | None:
    """Say why this process's query log is losing or holding counts (``/healthz``), or None."""
    found: tuple[int, QueryLog] | None = current_app.extensions.get(QUERYLOG_KEY)
    if found is None or found[0] != os.getpid():
        return None
    return found[1].problem


class QueryLogCollector:
    """Report the answering worker's query log at scrape time: failing or not, counts dropped."""

    def describe(self) -> list[Any]:
        """Return nothing, so registering does not collect."""
        return []

    def collect(self) -> Iterator[Any]:
        """Yield the query-log gauges, nothing while the log is switched off."""
        from prometheus_client.core import GaugeMetricFamily

        if not current_settings().querylog.enabled:
            return
        found: tuple[int, QueryLog] | None = current_app.extensions.get(QUERYLOG_KEY)
        log = found[1] if found is not None and found[0] == os.getpid() else None
        yield GaugeMetricFamily(
            "searchsvc_querylog_problem",
            "1 when this worker's query log cannot be written or has dropped counts (see /healthz).",
            value=int(log is not None and log.problem is not None),
        )
        yield GaugeMetricFamily(
            "searchsvc_querylog_dropped_counts",
            "Query-log counts this worker could not hold and lost since it started.",
            value=log.dropped if log is not None else 0,
        )
