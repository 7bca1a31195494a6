"""What readers search for: an opt-in count of normalised queries per day, in SQLite beside the index.

Privacy: no IP address, cookie, user agent or time of day is kept, only the
normalised query text, the day and counters (searches, searches with no or few
results, result clicks). A query that looks like a secret or a way to reach
someone (``looks_private``: a URL, an e-mail address however written, a phone
number, a password, token or one-time code, a street address) is never
recorded, and a query searched fewer than ``min_count`` times on a day is
deleted once that day is over.

A search must never wait for the log or fail because of it: each process counts
in memory and writes its counters in one short transaction at most every
``flush_seconds`` (WAL mode, a 50 ms busy timeout); a locked, full, read-only or
damaged database costs one warning, and the counters wait for the next flush
(at most ``MAX_PENDING`` queries are held). ``QueryLog.problem`` says when the
log is not being written or counts were dropped (``/healthz`` and ``/metrics``).
A process that stops has no next flush: ``close`` waits for the lock (up to
``CLOSE_WAIT_SECONDS``, retrying while another process holds it, as two workers
stopping together do), and a count that arrives after it is written at once.
The table is bounded: days older than ``keep_days`` and, past ``max_rows``, the
least searched rows are deleted.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from searchsvc.config import QueryLogSettings
from searchsvc.dates import VIETNAM_TZ
from searchsvc.errors import SearchsvcError
from searchsvc.text import fold, normalize

log = logging.getLogger(__name__)

FILE_NAME = "querylog.sqlite3"
MAX_QUERY_CHARS = 100
# Searches with fewer results than this are "few": the newsroom may want to write about them.
FEW_RESULTS = 5
# Counters a process holds between flushes at most; past it, new queries wait for the next flush.
MAX_PENDING = 5000
BUSY_TIMEOUT_MS = 50
# How long a stopping process waits for another one's write: its counters have no later flush.
CLOSE_WAIT_SECONDS = 10.0
CLOSE_RETRY_SECONDS = 0.05
# SQLite's primary result codes for "another connection holds the lock": worth waiting for.
_BUSY_CODES = {5, 6}
PRUNE_EVERY_SECONDS = 3600.0
# What a reader may paste into a search box that must never be stored, matched on the folded
# query (no marks, lower case, "đ" as "d"): privacy outweighs counting a few real searches.
_URL = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+\.(?:com|net|org|info|io|vn|edu|gov|me|ly|co)\b"
    r"|[?&][a-z_]\w*=|\b[a-z_]\w*=\S"
)
_MAIL_HOSTS = r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|icloud|proton(?:mail)?|aol|zoho)"
_AT = r"(?:[(\[{<]\s*(?:at|a cong|a moc)\s*[)\]}>]|\bat\b|\ba cong\b|\ba moc\b)"
_DOT = r"(?:\.|[(\[{<]\s*(?:dot|cham)\s*[)\]}>]|\bdot\b|\bcham\b)"
_EMAIL = re.compile(
    rf"@|[(\[{{<]\s*(?:at|a cong|a moc)\s*[)\]}}>]|{_AT}\s*{_MAIL_HOSTS}\b"
    rf"|\b{_MAIL_HOSTS}\s*{_DOT}?\s*(?:com|vn|net)\b|\b\w+\s*{_AT}\s*\w+\s*{_DOT}\s*(?:com|vn|net|org)\b"
)
_SECRET = re.compile(
    r"\b(?:token|password|passwd|pwd|passcode|mat khau|mat ma|mk|otp|ma xac (?:nhan|thuc|minh)"
    r"|ma (?:pin|bao mat)|cvv|cvc|api ?key|secret|private key|seed phrase)\b"
)
# A house number or alley with its number: "số 12 đường ...", "12 phố ...", "ngõ 5", "hẻm 34/2".
# "bão số 3 đường ..." is a storm, not a house.
_ADDRESS = re.compile(
    r"\b(?:so nha|nha so|ngo|ngach|hem|kiet|to dan pho)\s+\d"
    r"|(?<!bao so )(?<!bao )\b\d+[a-z]?(?:/\d+[a-z]?)*\s+(?:duong|pho(?! phuong)|ngo|ngach|hem|kiet)\b"
)
_DIGIT_RUN = re.compile(r"\+?\d[\d ().-]*\d")
# A Vietnamese phone number has 10 digits (9 after +84); a date, a year or a count has fewer.
PHONE_DIGITS = 9
_SPACES = re.compile(r"\s+")
SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    searches INTEGER NOT NULL DEFAULT 0,
    zero INTEGER NOT NULL DEFAULT 0,
    few INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, query)
) WITHOUT ROWID
"""
UPSERT = """
INSERT INTO queries (day, query, searches, zero, few, clicks) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (day, query) DO UPDATE SET
    searches = searches + excluded.searches, zero = zero + excluded.zero,
    few = few + excluded.few, clicks = clicks + excluded.clicks
"""


class QueryLogUnreadable(SearchsvcError):
    """There is no query log to report on, or it cannot be read."""


def normalize_query(text: str) -> str | None:
    """Return the form a query is counted under (NFC, lower case, single spaces), or None to skip it."""
    query = _SPACES.sub(" ", normalize(text or "")).strip().lower()
    if not query or looks_private(query):
        return None
    return query[:MAX_QUERY_CHARS]


def looks_private(text: str) -> bool:
    """Tell whether a query looks like a secret or contact details (a URL, e-mail, phone, password, address)."""
    folded = fold(_SPACES.sub(" ", normalize(text)).lower())
    if any(p.search(folded) for p in (_URL, _EMAIL, _SECRET, _ADDRESS)):
        return True
    return any(sum(c.isdigit() for c in m.group()) >= PHONE_DIGITS for m in _DIGIT_RUN.finditer(folded))


def today() -> str:
    """Return today's date in Vietnam, the day the newsroom counts in."""
    return datetime.now(UTC).astimezone(VIETNAM_TZ).date().isoformat()


def log_path(settings: QueryLogSettings, index_dir: Path) -> Path:
    """Return the database file: ``querylog.path``, else ``querylog.sqlite3`` in the index directory."""
    return Path(settings.path) if settings.path else Path(index_dir) / FILE_NAME


@contextmanager
def connect(path: Path, timeout_ms: int = BUSY_TIMEOUT_MS) -> Iterator[sqlite3.Connection]:
    """Open the log database (created if missing) in WAL mode, closing it afterwards."""
    with closing(sqlite3.connect(path, timeout=timeout_ms / 1000, isolation_level=None)) as db:
        db.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(SCHEMA)
        yield db


@dataclass
class Counts:
    """One query's counters of one day, not yet written."""

    searches: int = 0
    zero: int = 0
    few: int = 0
    clicks: int = 0


class QueryLog:
    """Count queries in memory and write them to SQLite now and then; never raises to the caller."""

    def __init__(self, settings: QueryLogSettings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Counts] = {}
        self._flushed = time.monotonic()
        self._pruned = 0.0
        self._warned = False
        # Held while counters are out of ``_pending``: a closing flush waits for a failing one to keep them.
        self._writing = threading.Lock()
        self._closed = False
        self._failure: str | None = None
        self._dropped = 0

    def record_search(self, text: str, total: int) -> None:
        """Count one search of ``text`` that found ``total`` articles."""
        self._count(text, searches=1, zero=int(total == 0), few=int(total < FEW_RESULTS))

    def record_click(self, text: str) -> None:
        """Count one click on a result of ``text`` (an article opened from its results page)."""
        self._count(text, clicks=1)

    def _count(self, text: str, **added: int) -> None:
        """Add counters to a query's pending total, then flush when it is time."""
        query = normalize_query(text)
        if query is None:
            return
        key = (today(), query)
        with self._lock:
            counts = self._pending.get(key)
            if counts is None:
                if len(self._pending) >= MAX_PENDING:
                    self._dropped += 1
                    return
                counts = self._pending[key] = Counts()
            for name, value in added.items():
                setattr(counts, name, getattr(counts, name) + value)
        if self._closed:
            self.close()  # a request still running when the process began to stop: no later flush
        elif time.monotonic() - self._flushed >= self.settings.flush_seconds:
            self.flush()

    def close(self, wait_seconds: float = CLOSE_WAIT_SECONDS) -> bool:
        """Write every pending counter before the process stops, waiting while another process writes."""
        self._closed = True
        deadline = time.monotonic() + wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            error = self._write(max(1, int(remaining * 1000)))
            if error is None:
                self._warned, self._failure = False, None
                return True
            if not _is_busy(error) or remaining <= CLOSE_RETRY_SECONDS:
                self._warn(error)
                return False
            time.sleep(CLOSE_RETRY_SECONDS)

    def flush(self) -> bool:
        """Write the pending counters in one transaction; on database trouble keep them and warn once."""
        error = self._write(BUSY_TIMEOUT_MS)
        if error is not None:
            self._warn(error)
            return False
        self._warned, self._failure = False, None
        return True

    @property
    def problem(self) -> str | None:
        """Say why counts are not being written or were lost, or None while all is well."""
        parts = []
        if self._failure is not None:
            parts.append(f"not written ({self._failure}); queries waiting: {len(self._pending)}")
        if self._dropped:
            parts.append(f"{self._dropped} counts dropped (more than {MAX_PENDING} queries waiting)")
        return "; ".join(parts) or None

    @property
    def dropped(self) -> int:
        """Return how many counts this process could not hold and lost."""
        return self._dropped

    def _write(self, timeout_ms: int) -> sqlite3.Error | OSError | None:
        """Write the pending counters in one transaction, keeping them on failure; return the failure."""
        with self._writing:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._flushed = time.monotonic()
            if not pending:
                return None
            rows = [(day, query, c.searches, c.zero, c.few, c.clicks) for (day, query), c in pending.items()]
            try:
                with connect(self.path, timeout_ms) as db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(UPSERT, rows)
                    if time.monotonic() - self._pruned >= PRUNE_EVERY_SECONDS:
                        prune(db, self.settings, today())
                        self._pruned = time.monotonic()
                    db.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                self._keep(pending)
                return exc
        return None

    def _warn(self, exc: sqlite3.Error | OSError) -> None:
        """Warn once per run of failures that the counters were not written; remember why."""
        self._failure = f"{type(exc).__name__}: {exc}"
        if not self._warned:
            log.warning(
                "query log %s not written (%s: %s); searches go on", self.path, type(exc).__name__, exc
            )
            self._warned = True

    def _keep(self, pending: dict[tuple[str, str], Counts]) -> None:
        """Put unwritten counters back for the next flush, as far as ``MAX_PENDING`` allows."""
        with self._lock:
            for key, counts in pending.items():
                held = self._pending.get(key)
                if held is None:
                    if len(self._pending) >= MAX_PENDING:
                        self._dropped += 1
                        continue
                    self._pending[key] = counts
                    continue
                for name in ("searches", "zero", "few", "clicks"):
                    setattr(held, name, getattr(held, name) + getattr(counts, name))


def _is_busy(exc: sqlite3.Error | OSError) -> bool:
    """Tell whether a failed write met another connection's lock (waiting helps) rather than damage."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _BUSY_CODES


def prune(db: sqlite3.Connection, settings: QueryLogSettings, day: str) -> None:
    """Delete old days, the rare queries of finished days and, past ``max_rows``, the least searched rows."""
    oldest = (date.fromisoformat(day) - timedelta(days=settings.keep_days)).isoformat()
    db.execute("DELETE FROM queries WHERE day < ?", (oldest,))
    db.execute("DELETE FROM queries WHERE day < ? AND searches < ?", (day, settings.min_count))
    (rows,) = db.execute("SELECT COUNT(*) FROM queries").fetchone()
    if rows > settings.max_rows:
        db.execute(
            "DELETE FROM queries WHERE (day, query) IN "
            "(SELECT day, query FROM queries ORDER BY searches, day LIMIT ?)",
            (rows - settings.max_rows,),
        )


@dataclass(frozen=True)
class QueryRow:
    """One query's totals over the report's days."""

    query: str
    searches: int
    zero: int
    few: int
    clicks: int

    @property
    def click_through(self) -> float:
        """Return clicks per search (a reader may open several results of one search)."""
        return self.clicks / self.searches if self.searches else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {
            "query": self.query,
            "searches": self.searches,
            "no_results": self.zero,
            "few_results": self.few,
            "clicks": self.clicks,
            "click_through": round(self.click_through, 4),
        }


@dataclass(frozen=True)
class QueryReport:
    """What readers looked for over the last ``days`` days."""

    days: int
    since: str
    searches: int
    clicks: int
    top: tuple[QueryRow, ...] = field(default=())
    no_results: tuple[QueryRow, ...] = field(default=())
    few_results: tuple[QueryRow, ...] = field(default=())

    @property
    def click_through(self) -> float:
        """Return clicks per search over every query reported."""
        return self.clicks / self.searches if self.searches else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (``searchsvc report queries --json``)."""
        return {
            "days": self.days,
            "since": self.since,
            "searches": self.searches,
            "clicks": self.clicks,
            "click_through": round(self.click_through, 4),
            "top": [r.to_dict() for r in self.top],
            "no_results": [r.to_dict() for r in self.no_results],
            "few_results": [r.to_dict() for r in self.few_results],
        }


def _read_totals(path: Path, since: str, min_count: int, mode: str) -> list[tuple[Any, ...]]:
    """Return each query's totals since ``since``, opening the file read-only with URI ``mode``."""
    with closing(sqlite3.connect(f"file:{path}?{mode}", uri=True, timeout=1.0)) as db:
        return db.execute(
            "SELECT query, SUM(searches), SUM(zero), SUM(few), SUM(clicks) FROM queries WHERE day >= ? "
            "GROUP BY query HAVING SUM(searches) >= ?",
            (since, min_count),
        ).fetchall()


def report(path: Path, days: int, min_count: int, limit: int = 20, day: str | None = None) -> QueryReport:
    """Read the log's last ``days`` days (today included): top, no-result and few-result queries.

    Queries searched fewer than ``min_count`` times in the period are left out,
    today's rare ones too. Raises ``QueryLogUnreadable`` when there is no readable log.
    """
    if not path.is_file():
        raise QueryLogUnreadable(f"no query log at {path} (set querylog.enabled = true and serve)")
    since = (date.fromisoformat(day or today()) - timedelta(days=days - 1)).isoformat()
    try:
        found = _read_totals(path, since, min_count, "mode=ro")
    except sqlite3.OperationalError:
        # A full disk cannot take the 32 KB shared-memory file a WAL reader needs: read the file alone.
        try:
            found = _read_totals(path, since, min_count, "mode=ro&immutable=1")
        except sqlite3.Error as exc:
            raise QueryLogUnreadable(f"the query log {path} cannot be read: {exc}") from exc
    except sqlite3.Error as exc:
        raise QueryLogUnreadable(f"the query log {path} cannot be read: {exc}") from exc
    rows = [QueryRow(*r) for r in found]
    return QueryReport(
        days=days,
        since=since,
        searches=sum(r.searches for r in rows),
        clicks=sum(r.clicks for r in rows),
        top=tuple(sorted(rows, key=lambda r: (-r.searches, r.query))[:limit]),
        no_results=tuple(sorted((r for r in rows if r.zero), key=lambda r: (-r.zero, r.query))[:limit]),
        few_results=tuple(
            sorted((r for r in rows if r.few > r.zero), key=lambda r: (-(r.few - r.zero), r.query))[:limit]
        ),
    )
