"""Run the app: gunicorn in-process for production, Flask's server for development.

The front door holds against hostile clients without a proxy in front:

- ``SearchWorker`` is gunicorn's threaded worker, except that its event loop
  reads each request (head and body, whatever its framing: ``Content-Length``,
  chunked, ``Expect: 100-continue``) before a thread takes it, so a client that
  sends a byte every few seconds, or never sends the body it announced, costs
  a socket, never a thread; a request not complete within
  ``server.header_timeout`` seconds is closed.
- Request line and header limits are always on (gunicorn turns them off at 0).
- Errors gunicorn answers itself (bad request line, 414, 431 ...) use the JSON
  error shape and the security headers.
- Access-log lines are cut to a bounded length.
"""

from __future__ import annotations

import errno
import html
import io
import json
import logging
import re
import selectors
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import TConn, ThreadWorker

from searchsvc.config import ServerSettings, Settings, address_list
from searchsvc.errors import ConfigError
from searchsvc.web import create_app, metrics, open_early
from searchsvc.web.errors import HTTP_CODES, SECURITY_HEADERS
from searchsvc.web.origin import in_networks
from searchsvc.web.tracking import flush_query_log

# The package's logger: every module logs under it (``searchsvc.store``, Flask's ``searchsvc.web``).
APP_LOGGER = "searchsvc"
# Client address, request line, status, bytes, time in milliseconds, user agent.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
# gunicorn's largest request line and header field; 0 would mean "no limit", which we never pass.
GUNICORN_MAX_LINE = 8190
MAX_GRACEFUL_SECONDS = 30
# Longest value of one access-log field (the request line, the user agent ...), in characters.
LOG_FIELD_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_EXPECT_LINE = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*\r?\n", re.IGNORECASE | re.MULTILINE)
_FRAMING_HEADERS = (b"content-length", b"transfer-encoding", b"expect")
_HEX = re.compile(rb"[0-9a-fA-F]{1,8}")
# Longest chunk-size line (size and extensions) read before refusing it.
_MAX_CHUNK_LINE = 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_RECV_BYTES = 65536
REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}
ERROR_CODES = {**HTTP_CODES, 408: "request_timeout", 414: "request_too_large", 431: "request_too_large"}


def error_bytes(status: int, message: str) -> bytes:
    """Return a whole HTTP response with the JSON error shape, for errors answered outside Flask."""
    code = ERROR_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")
    headers = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body


def bounded(value: str, limit: int = LOG_FIELD_CHARS) -> str:
    """Return ``value`` with control characters escaped, cut to ``limit`` characters."""
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return value if len(value) <= limit else value[:limit] + f"...[{len(value) - limit} more]"


class BoundedLogger(Logger):
    """gunicorn's logger with every access-log field and warning cut to a bounded length.

    searchsvc's own log records (``searchsvc.*``: a read model rebuilt, an index not
    ready ...) go to the same error log with its time, process and level; without
    a handler Python printed them as bare messages.
    """

    def setup(self, cfg: Any) -> None:
        """Configure gunicorn's logs, then send searchsvc's records to the error log."""
        super().setup(cfg)
        app_log = logging.getLogger(APP_LOGGER)
        for handler in getattr(app_log, "searchsvc_handlers", []):
            app_log.removeHandler(handler)  # a reload sets up again: never two copies
        app_log.searchsvc_handlers = list(self.error_log.handlers)  # type: ignore[attr-defined]
        for handler in app_log.searchsvc_handlers:  # type: ignore[attr-defined]
            app_log.addHandler(handler)
        if app_log.level == logging.NOTSET:
            app_log.setLevel(logging.INFO)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        """Return the access-log fields, long text cut (a 12 MB request line was logged whole)."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: bounded(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """Log a warning (gunicorn quotes bad request lines in them) cut to a bounded length."""
        text = str(msg) % args if args else str(msg)
        super().warning(bounded(text, 4 * LOG_FIELD_CHARS), **kwargs)


class JSONAccessLogger(BoundedLogger):
    """The bounded logger writing each access-log line as one JSON object (``server.log_format = "json"``)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one request as one JSON object (time, client, request, status, bytes, duration, agent)."""
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        sent = atoms.get("B")
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "remote": atoms.get("h"),
            "method": atoms.get("m"),
            "path": atoms.get("U"),
            "query": atoms.get("q") or "",
            "protocol": atoms.get("H"),
            "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
            "bytes": sent if isinstance(sent, int) else None,
            "duration_ms": round(atoms.get("D", 0) / 1000, 3),
            # gunicorn writes "-" for a missing header; JSON can say so.
            "referrer": None if atoms.get("f") == "-" else atoms.get("f"),
            "user_agent": None if atoms.get("a") == "-" else atoms.get("a"),
        }
        self.access_log.info(json.dumps(record, ensure_ascii=False))


LOGGERS: dict[str, type[Logger]] = {"text": BoundedLogger, "json": JSONAccessLogger}


class _Capture:
    """Stand in for a client socket to capture the response gunicorn writes for an error."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        """Look non-blocking, so gunicorn writes at once."""
        return 0.0

    def sendall(self, data: bytes) -> None:
        """Keep what gunicorn would have sent."""
        self.data += data


class CountedConn(TConn):
    """A connection that gives its client's slot back when it closes, whichever path closes it."""

    def __init__(self, release: Any, *args: Any) -> None:
        super().__init__(*args)
        self.searchsvc_release = release

    def close(self, graceful: bool = False) -> None:
        """Close the socket and free the client's slot once."""
        release, self.searchsvc_release = self.searchsvc_release, None
        if release is not None:
            release()
        super().close(graceful)


class SearchWorker(ThreadWorker):
    """gunicorn's threaded worker that buffers each request in its event loop before a thread takes it.

    A gthread thread reads the request itself, blocking: fifty clients that each
    send a header byte every two seconds held every thread. Here the loop reads
    what is available whenever a socket is readable and hands the connection to
    the thread pool only when its head (and a body up to ``max_request_bytes``)
    is complete, so threads only ever run requests that are ready.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings: Settings | None = getattr(self.app, "settings", None)
        # Connections whose request is still arriving, oldest (first deadline) first.
        self.reading: deque[TConn] = deque()
        # Open connections by client address; threads may close connections too.
        self.per_client: Counter[str] = Counter()
        self.per_client_lock = threading.Lock()
        proxies = self.settings.server.trusted_proxies if self.settings else ""
        self.uncapped = address_list("server.trusted_proxies", proxies)

    @property
    def max_per_client(self) -> int:
        """Return the most connections this worker holds from one client address."""
        return self.settings.server.max_connections_per_client if self.settings else 100

    def accept(self, listener: Any) -> None:
        """Accept a connection, or close it at once when its client already holds its share."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        client = client_addr[0] if isinstance(client_addr, tuple) else ""
        if not self._take_slot(client):
            # No log line: a flood would only move into the log.
            client_sock.close()
            return
        self.nr_conns += 1
        client_sock.setblocking(True)
        conn = CountedConn(
            partial(self._release_slot, client), self.cfg, client_sock, client_addr, listener.getsockname()
        )
        self.enqueue_req(conn)

    def _take_slot(self, client: str) -> bool:
        """Count a connection of ``client``; False when it already holds ``max_connections_per_client``."""
        if not client or in_networks(client, self.uncapped):
            return True
        with self.per_client_lock:
            if self.per_client[client] >= self.max_per_client:
                return False
            self.per_client[client] += 1
        return True

    def _release_slot(self, client: str) -> None:
        """Give back a closed connection's slot."""
        if not client or in_networks(client, self.uncapped):
            return
        with self.per_client_lock:
            self.per_client[client] -= 1
            if self.per_client[client] <= 0:
                del self.per_client[client]

    @property
    def max_request_bytes(self) -> int:
        """Return the largest request (head and body) this worker buffers."""
        return self.settings.server.max_request_bytes if self.settings else 16384

    @property
    def header_timeout(self) -> float:
        """Return the seconds a client has to send a whole request."""
        return self.settings.server.header_timeout if self.settings else 10.0

    def _buffers(self) -> bool:
        """Tell whether requests are buffered: plain HTTP/1 only (TLS and h2c read their own way)."""
        return not self.cfg.is_ssl and getattr(self.cfg, "http2_cleartext", "off") == "off"

    def enqueue_req(self, conn: TConn) -> None:
        """Hand a connection with a complete request to a thread; read the rest of it first otherwise."""
        if not self._buffers() or getattr(conn, "searchsvc_head", None) is not None:
            super().enqueue_req(conn)
            return
        pending = b""
        if conn.parser is not None:  # a kept-alive connection may hold the start of its next request
            pending = conn.parser.unreader.buf.getvalue()
            conn.parser.unreader.buf = io.BytesIO()
        conn.searchsvc_buffer = pending
        conn.searchsvc_continued = False
        conn.searchsvc_deadline = time.monotonic() + self.header_timeout
        if pending and self._advance(conn):
            return
        conn.sock.setblocking(False)
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, _sock: Any) -> None:
        """Read what the client has sent; hand the request on once it is complete."""
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading(conn)
            self._close(conn)
            return
        conn.searchsvc_buffer += data
        self._advance(conn, reading=True)

    def _advance(self, conn: TConn, reading: bool = False) -> bool:
        """Dispatch or refuse the buffered request once it is decided; True when the loop let go of it."""
        state = request_state(conn.searchsvc_buffer, self.max_request_bytes)
        if state.status is None:
            if state.awaits_continue and not conn.searchsvc_continued:
                # The client waits for this before it sends the body; the thread must never wait for it.
                conn.searchsvc_continued = True
                try:
                    conn.sock.send(CONTINUE)
                except OSError:
                    pass  # the next read sees the closed socket
            return False
        if reading:
            # Out of the poller before a thread or a close can touch the socket.
            self._stop_reading(conn)
        self._dispatch(conn, state)
        return True

    def _dispatch(self, conn: TConn, state: Framing) -> None:
        """Hand a complete request to a thread (status 0), or refuse it with its status."""
        buffered: bytes = conn.searchsvc_buffer
        conn.searchsvc_buffer = b""
        if state.status == 0:
            # gunicorn would answer the expectation again, after the body: it was answered here.
            conn.searchsvc_head = without_expect(buffered)
            conn.data_ready = True
            super().enqueue_req(conn)
            return
        limit = self.max_request_bytes
        message = state.message or f"the request has more than {limit} bytes (server.max_request_bytes)"
        self._refuse(conn, state.status or 400, message)

    def _stop_reading(self, conn: TConn) -> None:
        """Take a connection out of the read loop."""
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self.reading.remove(conn)
        except ValueError:
            pass

    def _refuse(self, conn: TConn, status: int, message: str) -> None:
        """Answer an error in the JSON shape and close the connection."""
        try:
            conn.sock.send(error_bytes(status, message))
        except OSError:
            pass
        self.log.warning("refused a request from %s: %s %s", conn.client, status, message)
        self._close(conn)

    def _close(self, conn: TConn) -> None:
        """Close a connection this worker counted."""
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections whose request did not arrive in time (all idle ones once stopping)."""
        super().murder_pending()
        if not self.alive:
            for conn in [c for c in self.reading if not c.searchsvc_buffer]:
                self._stop_reading(conn)
                self._close(conn)
        now = time.monotonic()
        while self.reading and self.reading[0].searchsvc_deadline <= now:
            conn = self.reading[0]
            self._stop_reading(conn)
            if conn.searchsvc_buffer:
                self._refuse(conn, 408, f"the request was not complete within {self.header_timeout:g} s")
            else:
                self._close(conn)

    def handle(self, conn: TConn) -> Any:
        """Run one buffered request in a thread: the parser reads it from memory."""
        head = getattr(conn, "searchsvc_head", None)
        if head is not None:
            conn.searchsvc_head = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        return super().handle(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer gunicorn's own errors (bad request line, 414, 431 ...) in the JSON error shape."""
        capture = _Capture()
        super().handle_error(req, capture, addr, exc)
        status, message = parse_error(capture.data)
        try:
            client.sendall(error_bytes(status, message))
        except OSError:
            self.log.debug("Failed to send error message.")


class Framing(NamedTuple):
    """What the bytes buffered so far are: ``status`` None (read on), 0 (a whole request) or an error."""

    status: int | None
    message: str = ""
    # The head is whole, asks for ``100 Continue`` and its body has not all arrived.
    awaits_continue: bool = False


READ_ON = Framing(None)
WHOLE = Framing(0)
_TOO_LARGE = Framing(413)


def header_values(head: bytes) -> dict[bytes, list[bytes]]:
    """Return the values of the framing headers of a request head, by lower-case name."""
    found: dict[bytes, list[bytes]] = {}
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if colon and name in _FRAMING_HEADERS:
            found.setdefault(name, []).append(value.strip())
    return found


def chunked_end(buffered: bytes, start: int) -> int | str | None:
    """Return where a chunked body starting at ``start`` ends, an error message, or None while incomplete."""
    pos = start
    while True:
        line_end = buffered.find(b"\n", pos)
        if line_end < 0:
            return None if len(buffered) - pos <= _MAX_CHUNK_LINE else "a chunk-size line is too long"
        size_text = buffered[pos:line_end].rstrip(b"\r").split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            return "a chunk size is not a hexadecimal number"
        size = int(size_text, 16)
        pos = line_end + 1
        if size == 0:
            return trailers_end(buffered, pos)
        pos += size
        if len(buffered) < pos + 2:
            return None
        if buffered[pos : pos + 2] == b"\r\n":
            pos += 2
        elif buffered[pos : pos + 1] == b"\n":
            pos += 1
        else:
            return "a chunk is longer than its size"


def trailers_end(buffered: bytes, pos: int) -> int | None:
    """Return where the trailer section starting at ``pos`` ends (after its empty line), or None."""
    while True:
        line_end = buffered.find(b"\n", pos)
        if line_end < 0:
            return None
        line = buffered[pos:line_end].rstrip(b"\r")
        pos = line_end + 1
        if not line:
            return pos


def request_state(buffered: bytes, limit: int) -> Framing:
    """Tell whether ``buffered`` holds a whole request (head and body), a refusal, or needs more bytes.

    Every framing is read here, in the event loop, so no thread ever waits for a
    body: a ``Content-Length`` body, a chunked one up to its last chunk and
    trailers, and the body of an ``Expect: 100-continue`` request. Anything over
    ``limit`` bytes is 413 as soon as it is known; framing that is ambiguous
    (both headers, several lengths) or not chunked is 400.
    """
    end = _HEAD_END.search(buffered)
    if end is None:
        return _TOO_LARGE if len(buffered) > limit else READ_ON
    head = buffered[: end.end()]
    if len(head) > limit:
        return _TOO_LARGE
    headers = header_values(head)
    encodings = headers.get(b"transfer-encoding")
    lengths = headers.get(b"content-length")
    expects = any(v.lower() == b"100-continue" for v in headers.get(b"expect", []))
    if encodings is not None:
        if lengths is not None:
            return Framing(400, "a request may not have both Transfer-Encoding and Content-Length")
        codings = [c.strip().lower() for c in b",".join(encodings).split(b",")]
        if codings != [b"chunked"]:
            return Framing(400, "the only transfer coding accepted is chunked")
        body_end = chunked_end(buffered, end.end())
        if isinstance(body_end, str):
            return Framing(400, body_end)
        if body_end is None:
            return _TOO_LARGE if len(buffered) > limit else Framing(None, awaits_continue=expects)
        return _TOO_LARGE if body_end > limit else WHOLE
    if lengths is None:
        return WHOLE
    if len(lengths) != 1 or not lengths[0].isdigit():
        return Framing(400, "Content-Length must be one decimal number")
    # Compare digit counts first: a thousand-digit length needs no big-number parse.
    if len(lengths[0]) > len(str(limit)) or len(head) + int(lengths[0]) > limit:
        return _TOO_LARGE
    if len(buffered) >= len(head) + int(lengths[0]):
        return WHOLE
    return Framing(None, awaits_continue=expects)


def without_expect(buffered: bytes) -> bytes:
    """Return a request with its ``Expect: 100-continue`` line removed (the event loop answered it)."""
    end = _HEAD_END.search(buffered)
    if end is None:
        return buffered
    head = _EXPECT_LINE.sub(b"", buffered[: end.end()])
    return head + buffered[end.end() :]


def parse_error(response: bytes) -> tuple[int, str]:
    """Return the status and message of the HTML error response gunicorn wrote."""
    text = response.decode("latin-1")
    status_line = re.match(r"HTTP/1\.1 (\d{3}) ([^\r\n]*)", text)
    status = int(status_line.group(1)) if status_line else 500
    reason = status_line.group(2) if status_line else "Internal Server Error"
    detail = re.search(r"</h1>(.*?)</body>", text, re.DOTALL)
    message = html.unescape(detail.group(1)).strip() if detail else ""
    return status, bounded(message or reason, 300)


class SearchServer(BaseApplication):
    """A gunicorn application that builds one searchsvc app per worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's configuration."""
        for key, value in self.options.items():
            if key in self.cfg.settings:  # skip what an older gunicorn does not know
                self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app and open the index; gunicorn calls this in each worker, after the fork."""
        app = create_app(self.settings)
        open_early(app)
        return app


def with_index_dir(settings: Settings, index_dir: str | Path | None) -> Settings:
    """Return ``settings`` pointing at ``index_dir`` when one is given."""
    if index_dir is None:
        return settings
    return replace(settings, index=replace(settings.index, dir=str(index_dir)))


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Return the gunicorn configuration for ``settings.server``."""
    server = settings.server
    if server.log_format not in LOGGERS:
        raise ConfigError(f"server.log_format: {server.log_format!r} is not one of {', '.join(LOGGERS)}")
    # Never 0: gunicorn reads 0 as "no limit". Above these, gunicorn answers 414/431 itself.
    line_limit = min(GUNICORN_MAX_LINE, server.max_request_bytes)
    return {
        "bind": f"{server.host}:{server.port}",
        "workers": server.workers,
        "threads": server.threads,
        "worker_class": SearchWorker,
        "logger_class": LOGGERS[server.log_format],
        "timeout": server.timeout,
        "graceful_timeout": min(server.timeout, MAX_GRACEFUL_SECONDS),
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "limit_request_line": line_limit,
        "limit_request_field_size": line_limit,
        "limit_request_fields": 100,
        "worker_connections": server.max_connections,
        # The app believes X-Forwarded-* from server.trusted_proxies only (web/origin.py); gunicorn
        # would let any local client switch the scheme.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "proc_name": "searchsvc",
        # Workers open the index lazily after the fork; never load the app in the arbiter.
        "preload_app": False,
        # gunicorn >= 25.1 opens a control socket at one path per user; several servers would clash.
        "control_socket_disable": True,
    }


def check_address(server: ServerSettings) -> None:
    """Raise ``ConfigError`` when ``server.host:server.port`` cannot be listened on (a busy port ...).

    gunicorn would say it in five English lines over five seconds, after the CLI said it serves.
    """
    where = f"{server.host}:{server.port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            server.host, server.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            # As gunicorn binds: a port left in TIME_WAIT by a stopped server is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:  # socket.gaierror included: an unknown host name
        reason = exc.strerror or str(exc)
        reason = reason[:1].lower() + reason[1:]
        raise ConfigError(
            f"cannot listen on {where}: {reason} (server.host/server.port, --host/--port)"
        ) from exc


def run_production(settings: Settings, index_dir: str | Path | None = None) -> None:
    """Serve with gunicorn until SIGTERM/SIGINT (graceful stop), using ``settings.server``."""
    settings = with_index_dir(settings, index_dir)
    check_address(settings.server)
    options = gunicorn_options(settings)
    folder = metrics.prepare_multiprocess()
    options |= {
        "worker_exit": _worker_exit,
        "child_exit": lambda _server, worker: metrics.worker_gone(worker.pid),
        "on_exit": lambda _server: metrics.remove_directory(folder),
    }
    try:
        SearchServer(settings, options).run()
    finally:
        metrics.remove_directory(folder)


def _worker_exit(_server: Any, worker: Any) -> None:
    """Write a stopping worker's pending query-log counters."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        with app.app_context():
            flush_query_log()


def run_dev(settings: Settings, index_dir: str | Path | None = None, debug: bool = False) -> None:
    """Serve with Flask's development server (one process, threaded)."""
    settings = with_index_dir(settings, index_dir)
    app = create_app(settings)
    try:
        app.run(
            host=settings.server.host,
            port=settings.server.port,
            debug=debug,
            use_reloader=debug,
            threaded=True,
        )
    finally:
        with app.app_context():
            flush_query_log()
