"""Feed the opt-in query log (``querylog.py``) from the search page, the search API and result clicks.

Each process opens its own ``QueryLog`` on first use (counters held before a fork
would otherwise be written twice).
"""

from __future__ import annotations

import os
import threading

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
