"""The hostile run of issue 10: schema-driven and hand-made hostile requests against `searchsvc serve`.

python -m bench.hostile --index-dir DIR [--requests 10000] [--clients 8] [--max-seconds 1200]
                        [--slow-clients 50] [--pinning 16] [--connection-flood 400]
                        [--label-flood 500] [--big-line-mb 12] [--seed 10] [--out bench/out/hostile]

Starts `searchsvc serve` (2 workers, the repository's default config) on a free
loopback port over an existing index, then:

1. holds `--slow-clients` connections that send a header byte every 2 s and asks
   `/healthz` and a search meanwhile; then `--pinning` connections that announce a
   body they never send (`Expect: 100-continue`, chunked without a chunk, a 13-digit
   `Content-Length`), asking the same; then opens `--connection-flood` silent
   connections from 127.0.0.1 and asks from 127.0.0.2 (another client) meanwhile;
   then sends `--label-flood` requests with made-up methods and paths and compares
   `/metrics` before and after (its method labels must stay the known ones);
2. sends two request lines of `--big-line-mb` MB and one of 32 MB at once, asking
   `/healthz` meanwhile;
3. sends at least `--requests` requests generated from `/api/openapi.json` (every
   path, method and parameter with valid, boundary and hostile values, repeated and
   unknown parameters, odd methods and request lines) plus the hand-made inputs of
   issue 10, from `--clients` concurrent connections.

It reports the count by status, every 5xx (with the request and the server's
traceback), the slowest requests, how many took over 2 s, responses outside the
documented contract, and whether a worker restarted (worker pids before and after,
and the server log). Loopback only; every socket has a timeout and the run stops by
itself after `--max-seconds`. Exit code 0 when there was no 5xx, no request over 2 s
and no worker restart, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from bench.load import free_port
from bench.procmem import server_processes
from bench.runinfo import git_commit

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WORKERS = 2
SLOW_S = 2.0  # the bar: no request over 2 s
ANSWER_S = 1.0  # the bar for /healthz and a search beside slow clients
START_TIMEOUT_S = 180.0  # a full-corpus index takes a while to open
STOP_TIMEOUT_S = 40.0
SOCKET_TIMEOUT_S = 30.0
MAX_RESPONSE_BYTES = 8 << 20
SHOWN = 200  # characters of a request shown in the report
SLOWEST = 15
WARMUP_REQUESTS = 24
# The hand-made query of issue 10 #1 (5.6 s before highlighting was linear).
PREFIX_QUERY = "thien tai t* c* n* h* d* m* l* k* v* g* b* s* q* p* x* r* a* o* e* y* u* i*"
LOG_PROBLEMS = re.compile(
    r"WORKER TIMEOUT|Worker \(pid:\d+\) (?:exited|was sent)|terminated due to signal|"
    r"Traceback|Error handling request|Exception on |SIGBUS|MemoryError"
)


class HostileError(Exception):
    """The run cannot start (no index, the server does not come up)."""


@dataclass(frozen=True)
class Raw:
    """A query value put into the request line as is, not percent-encoded."""

    data: bytes


Value = str | bytes | Raw


@dataclass(frozen=True)
class Probe:
    """One request to send: method, target and headers, or whole raw bytes."""

    kind: str
    method: str = "GET"
    target: bytes = b"/"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    raw: bytes | None = None  # the whole request; b"{host}" is replaced by host:port
    # Raw requests may be incomplete on purpose: we then close our side, so the server
    # sees the end instead of waiting `server.header_timeout` for the rest.

    def request_bytes(self, port: int) -> bytes:
        """Return the bytes to send."""
        host = f"{HOST}:{port}".encode()
        if self.raw is not None:
            return self.raw.replace(b"{host}", host)
        lines = [
            self.method.encode("latin-1", "replace") + b" " + self.target + b" HTTP/1.1",
            b"Host: " + host,
        ]
        lines += [name + b": " + value for name, value in self.headers]
        if not any(name.lower() == b"connection" for name, _ in self.headers):
            lines.append(b"Connection: close")
        if self.body and not any(name.lower() == b"content-length" for name, _ in self.headers):
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body

    def shown(self) -> str:
        """Return the request line (or the raw request's start) for the report, cut and escaped."""
        text = (
            self.raw
            if self.raw is not None
            else self.method.encode("latin-1", "replace") + b" " + self.target
        )
        shown = text.decode("latin-1").encode("unicode_escape").decode("ascii")
        return shown if len(shown) <= SHOWN else f"{shown[:SHOWN]}… ({len(text):,} bytes)"

    def path(self) -> str:
        """Return the path part of the target (before ``?``)."""
        return self.target.split(b"?", 1)[0].decode("latin-1")


@dataclass
class Outcome:
    """What one request got."""

    kind: str
    request: str
    status: int  # 0: no HTTP answer (closed, reset or timed out)
    ms: float
    error: str = ""
    violation: str = ""


@dataclass
class Report:
    """The whole result, written as JSON and Markdown."""

    meta: dict
    requests: int
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    server_errors: list[dict]
    over_2s: int
    over_2s_requests: list[dict]
    slowest: list[dict]
    latency_ms: dict[str, float]
    no_answer: dict[str, int]
    no_answer_examples: list[dict]
    contract_violations: int
    contract_examples: list[dict]
    slow_clients: dict
    pinning: dict
    connection_flood: dict
    label_flood: dict
    big_lines: dict
    warmup_ms: list[float]
    workers: dict
    log_problems: list[str]
    tracebacks: list[str]
    passed: bool
    verdict: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- values


def pct(value: Value) -> bytes:
    """Encode a query value or name for a request line."""
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, bytes):
        return "".join(f"%{b:02X}" for b in value).encode("ascii")
    return quote(value.encode("utf-8", "surrogatepass"), safe="").encode("ascii")


def query_string(pairs: Iterable[tuple[Value, Value]]) -> bytes:
    """Join name=value pairs into a query string."""
    return b"&".join(pct(name) + b"=" + pct(value) for name, value in pairs)


VIETNAMESE = [
    "ha noi",
    "Hà Nội",
    '"Hà Nội" bão',
    "thong tin doi ngoai",
    "thur tuwowngs",
    "vie65t nam",
    "bán nhà",
    "hoà bình",
    "Thủ tướng Chính phủ",
    "thu tuong chinh phu ha noi",
    "covid 19",
    "TP.HCM",
    "Đà Nẵng",
    "da nang",
    "giay thuy",
    "u23",
    "2.000",
    "bão số 3",
    PREFIX_QUERY,
]
UNICODE_EDGES = [
    unicodedata.normalize("NFD", "Hà Nội đón bão"),
    unicodedata.normalize("NFD", "Thủ tướng"),
    "hoà khoẻ thuý",  # old tone placement
    "\u00d0à N\u1eb5ng",  # Ð (U+00D0)
    "\u0300" * 300,  # combining marks only
    "a" + "\u0301" * 400,  # one letter, stacked marks
    "\u202eion aH",  # right-to-left override
    "h\u200ba n\u200doi",  # zero-width space and joiner
    "\ufeffha noi",  # byte order mark
    "h\u00ada noi",  # soft hyphen
    "\ufffe\uffff",  # non-characters
    "\U0010ffff\U000e0001",
    "😀 🇻🇳 👨‍👩‍👧",
    "𝕳𝖆 𝕹𝖔𝖎",
    "ｈａ ｎｏｉ",  # full width
    "ß æ ø ł ı",
    "東京 北京",
    "مرحبا",
    "สวัสดี",
    "\x00",
    "a\x00b",
    "\r\nX-Injected: 1",
    "\t\x0b\x0c\x1b[31m\x7f",
    "a\ud800b",  # a lone surrogate, percent-encoded as ED A0 80
    "\udfff",
]
INVALID_UTF8 = [
    b"\xff\xfe",
    b"\xc0\xaf",  # overlong "/"
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf5\x80\x80\x80",
    b"\xe1\xba",  # cut in the middle of a character
    b"\x80",
    b"ha \xff noi",
]
RAW_IN_LINE = [
    Raw("Hà Nội".encode()),  # UTF-8 bytes straight in the request line
    Raw(b"\xff\xfe"),
    Raw(b"%"),
    Raw(b"%zz"),
    Raw(b"%u00e0"),
    Raw(b"%25ff"),
    Raw(b"a b"),  # a space ends the target
    Raw(b"a\tb"),
    Raw(b"a#frag"),
    Raw(b"a=b=c"),
    Raw(b"a;b"),
    Raw(b"+++"),
]
INJECTION = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "' OR 1=1 --",
    "title:ha",
    "*",
    "?",
    "a* b* c* d* e* f* g* h* i* k* l* m* n* o* p* q* r* s* t* u* v* x* y*",
    '"unclosed phrase',
    '"' * 50,
    "((((((((((",
    "AND OR NOT",
    "ha~2 noi^3",
    "[a TO z]",
    "-ha -noi",
    "%s%n%x{0}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
]
LONG = ["a" * 500, "a" * 501, "ha noi " * 300, "x" * 8000, "a" * 9000, "a" * 20000, "đ" * 1400]


@dataclass
class Pools:
    """Values to try, by kind: valid ones from the index itself, boundary and hostile ones."""

    categories: list[str]
    sources: list[str]
    authors: list[str]
    tags: list[str]
    ids: list[str]

    def strings(self, name: str, max_length: int | None) -> list[tuple[str, Value]]:
        """Return (label, value) pairs for a string parameter."""
        valid = {
            "category": self.categories,
            "source": self.sources,
            "author": self.authors,
            "tag": self.tags,
        }
        values: list[tuple[str, Value]] = [("valid", v) for v in valid.get(name) or VIETNAMESE]
        values += [("boundary", ""), ("boundary", " "), ("boundary", "a")]
        if max_length:
            values += [("boundary", "a" * max_length), ("boundary", "a" * (max_length + 1))]
        values += [("hostile", v) for v in UNICODE_EDGES + INVALID_UTF8 + RAW_IN_LINE + INJECTION + LONG]
        return values

    def article_ids(self) -> list[tuple[str, Value]]:
        """Return (label, value) pairs for the article id in a path."""
        values: list[tuple[str, Value]] = [("valid", i) for i in self.ids[:8]]
        values += [("boundary", "nope"), ("boundary", "a" * 500), ("boundary", "a" * 9000)]
        values += [("hostile", v) for v in ["..", ".", "../../etc/passwd", "a/b", "a%2fb", "%00"]]
        values += [("hostile", Raw(b"..%2f..%2fetc%2fpasswd")), ("hostile", Raw(b"%2e%2e"))]
        values += [("hostile", v) for v in UNICODE_EDGES + INVALID_UTF8]
        return values


def integers(schema: dict) -> list[tuple[str, Value]]:
    """Return (label, value) pairs for an integer parameter with minimum, maximum and default."""
    low, high = schema.get("minimum", 1), schema.get("maximum", 100)
    values: list[tuple[str, Value]] = [
        ("valid", str(v)) for v in {low, high, (low + high) // 2, schema.get("default", low)}
    ]
    values += [("boundary", str(v)) for v in (low - 1, high + 1, 0, -1)] + [("boundary", "")]
    hostile = ["٣", "１", "1_0", "+2", " 2", "2 ", "0x10", "1e2", "1.0", "NaN", "inf", "-0", "00001"]
    hostile += ["9" * 20, str(2**63), str(2**64), "9" * 4000, "1\x00", "١٠", "2,3", "true"]
    return values + [("hostile", v) for v in hostile] + [("hostile", b"\xff1")]


DATES_VALID = ["2024-09-07", "2020-02-29", "2016-01-01", "2026-12-31"]
DATES_BOUNDARY = ["0001-01-01", "9999-12-31", "1970-01-01", ""]
DATES_HOSTILE = [
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "2024-1-1",
    "24-01-01",
    "2024/01/01",
    "2024-01-01T00:00:00Z",
    "٢٠٢٤-٠١-٠١",
    "2024-01-01\x00",
    "+2024-01-01",
    "99999-01-01",
    "yesterday",
    "-1",
    " 2024-01-01",
]


def dates() -> list[tuple[str, Value]]:
    """Return (label, value) pairs for a date parameter."""
    valid: list[tuple[str, Value]] = [("valid", v) for v in DATES_VALID]
    return valid + [("boundary", v) for v in DATES_BOUNDARY] + [("hostile", v) for v in DATES_HOSTILE]


def enums(schema: dict) -> list[tuple[str, Value]]:
    """Return (label, value) pairs for an enumerated parameter."""
    values: list[tuple[str, Value]] = [("valid", v) for v in schema["enum"]]
    values += [
        ("boundary", ""),
        ("boundary", schema["enum"][0].upper()),
        ("boundary", schema["enum"][0] + " "),
    ]
    return values + [("hostile", v) for v in ["random", "newest,oldest", "relevance\x00", "ｎｅｗｅｓｔ"]]


def values_for(param: dict, pools: Pools) -> list[tuple[str, Value]]:
    """Return (label, value) pairs for one OpenAPI parameter."""
    schema = param.get("schema", {})
    kind = schema.get("type")
    if kind == "array":
        return pools.strings(param["name"], None)
    if kind == "integer":
        return integers(schema)
    if "enum" in schema:
        return enums(schema)
    if schema.get("format") == "date":
        return dates()
    if param.get("in") == "path":
        return pools.article_ids()
    return pools.strings(param["name"], schema.get("maxLength"))


# ---------------------------------------------------------------- requests


ODD_METHODS = [
    "HEAD",
    "OPTIONS",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "get",
    "X" * 200,
]


def fill_path(template: str, value: Value | None = None) -> bytes:
    """Return an OpenAPI path with its path parameter (if any) filled and encoded."""
    if "{" not in template:
        return template.encode("ascii")
    head, _, rest = template.partition("{")
    tail = rest.partition("}")[2]
    return head.encode("ascii") + pct(value if value is not None else "x") + tail.encode("ascii")


def schema_probes(document: dict, pools: Pools) -> list[Probe]:
    """Return every path × method × parameter × value of the OpenAPI document, once each."""
    probes: list[Probe] = []
    default_id = pools.ids[0] if pools.ids else "x"
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            query = [p for p in params if p.get("in") == "query"]
            base = fill_path(template, default_id)
            for param in params:
                for label, value in values_for(param, pools):
                    if param.get("in") == "path":
                        target = fill_path(template, value)
                    else:
                        target = base + b"?" + query_string([(param["name"], value)])
                    probes.append(Probe(f"schema {label}", method.upper(), target))
            for param in query:
                valid = [v for label, v in values_for(param, pools) if label == "valid"] or ["1"]
                twice = [(param["name"], valid[0]), (param["name"], valid[-1])]
                probes.append(Probe("schema repeated", method.upper(), base + b"?" + query_string(twice)))
                many = [(param["name"], valid[i % len(valid)]) for i in range(60)]
                probes.append(Probe("schema repeated", method.upper(), base + b"?" + query_string(many)))
                probes.append(Probe("schema bare name", method.upper(), base + b"?" + pct(param["name"])))
            unknown = [("foo", "bar"), ("q[]", "x"), ("__proto__", "1"), ("", "x"), ("Q", "ha")]
            probes.append(
                Probe("schema unknown parameter", method.upper(), base + b"?" + query_string(unknown))
            )
            probes.append(Probe("schema separators", method.upper(), base + b"?&&q=ha&&;page=1;&"))
            if method == "get":
                for odd in ODD_METHODS:
                    probes.append(
                        Probe("method", odd, base, body=b'{"q": "ha noi"}' if odd in ("POST", "PUT") else b"")
                    )
    return probes


def page_probes(pools: Pools) -> list[Probe]:
    """Return requests for the HTML pages and static files (not in the OpenAPI document)."""
    probes = [Probe("page", "GET", b"/"), Probe("page", "GET", b"/?q=")]
    for label, value in pools.strings("q", 500):
        probes.append(Probe(f"page {label}", "GET", b"/?" + query_string([("q", value)])))
    for name in ("page", "per_page"):
        for label, value in integers({"minimum": 1, "maximum": 100}):
            probes.append(
                Probe(f"page {label}", "GET", b"/?" + query_string([("q", "ha noi"), (name, value)]))
            )
    for label, value in pools.article_ids():
        probes.append(Probe(f"page {label}", "GET", b"/articles/" + pct(value)))
    for path in (
        b"/static/style.css",
        b"/static/search.js",
        b"/static/../../etc/passwd",
        b"/static/..%2f..%2fetc%2fpasswd",
        b"/static/%2e%2e/%2e%2e/etc/passwd",
        b"/favicon.ico",
        b"/robots.txt",
        b"/nope",
        b"//api//search?q=ha",
        b"/API/SEARCH",
        b"/api/%73earch?q=ha",
        b"/api/search/?q=ha",
        b"/api/search;x=1?q=ha",
        b"/api/search/../search?q=ha",
        b"/api",
        b"/api/",
        b"/healthz/",
        b"/" + b"a/" * 2000,
    ):
        probes.append(Probe("path", "GET", path))
    return probes


def hand_made_probes(pools: Pools) -> list[Probe]:
    """Return the hand-made inputs of issue 10 and other malformed requests."""
    prefix = query_string([("q", PREFIX_QUERY)])
    probes = [
        Probe("issue-10 prefixes", "GET", b"/api/search?" + prefix),
        Probe("issue-10 prefixes", "GET", b"/?" + prefix),
        Probe("issue-10 prefixes", "GET", b"/api/search?" + prefix + b"&per_page=100"),
        Probe("issue-10 prefixes", "GET", b"/api/search?" + prefix + b"&sort=newest&page=1000"),
        Probe("issue-10 prefixes", "GET", b"/api/suggest?" + prefix),
        Probe(
            "issue-10 long article",
            "GET",
            b"/api/search?" + query_string([("q", "thu tuong chinh phu ha noi")]),
        ),
        Probe("issue-10 long article", "GET", b"/?" + query_string([("q", "thu tuong chinh phu ha noi")])),
        Probe("issue-10 strict", "GET", b"/api/search?page=%D9%A3"),
        Probe("issue-10 strict", "GET", b"/api/search?page=1_0"),
        Probe("issue-10 strict", "GET", b"/api/search?date_to="),
        Probe("issue-10 strict", "GET", b"/api/suggest?q=ha&limit="),
        Probe("issue-10 strict", "GET", b"/api/search?q=%ff%fe"),
        Probe("issue-10 strict", "GET", b"/api/search?date_from=2024-02-01&date_to=2024-01-01"),
        Probe("issue-10 strict", "OPTIONS", b"/api/search"),
        Probe("issue-10 autocomplete", "GET", b"/api/suggest?q=giay+thuy"),
        Probe("issue-10 limits", "GET", b"/api/search?q=" + b"a" * 9000),
        Probe("issue-10 limits", "GET", b"/api/search?q=" + b"a" * 20000),
        Probe("issue-10 limits", "GET", b"/healthz", headers=((b"X-A", b"b" * 9000),)),
        Probe("issue-10 limits", "GET", b"/healthz", headers=tuple((b"X-%d" % i, b"1") for i in range(120))),
    ]
    for wide in (100, 1000):
        many = [("category", c) for c in (pools.categories or ["x"]) * wide][:wide]
        probes.append(
            Probe("issue-10 many filters", "GET", b"/api/search?" + query_string([("q", "ha"), *many]))
        )
    raw = [
        b"FOO\r\n\r\n",
        b"GET /healthz HTTP/1.1\nHost: x\n\n",
        b"GET /healthz HTTP/1.0\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: {host}\r\n\r\n",
        b"GET /healthz\r\n\r\n",
        b"GET  /healthz  HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"GET http://{host}/api/search?q=ha HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"GET api/search HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nHost: other\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-A: \xff\xfe\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-A: a\r\n folded\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nBad Header: x\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\n: empty\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
        b"POST /api/search HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000000000000\r\nConnection: close\r\n\r\n",
        (
            b"POST /api/search HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n"
        ),
        (
            b"POST /api/search HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"zz\r\nhello\r\n0\r\n\r\n"
        ),
        (
            b"POST /api/search HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"
            b"0\r\n\r\n"
        ),
        (
            b"POST /api/search HTTP/1.1\r\nHost: {host}\r\nExpect: 100-continue\r\nContent-Length: 4\r\n"
            b"Connection: close\r\n\r\nabcd"
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: {host}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings, close\r\n"
            b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        ),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32),  # a TLS ClientHello
        b"\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        (
            b"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\nGET /api/search?q=ha HTTP/1.1\r\nHost: {host}\r\n"
            b"Connection: close\r\n\r\n"
        ),  # pipelined
        b"GET /\x00 HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"GET /api/search?q=\x00\x01\x02 HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"G\xc3\x89T /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n",
        b"",
    ]
    probes += [Probe("raw", raw=r) for r in raw]
    headers = [
        ((b"Accept", b"text/html"),),
        ((b"Accept", b"application/json;q=0, */*;q=0"),),
        ((b"Accept-Encoding", b"gzip, br, zstd"),),
        ((b"Range", b"bytes=0-10,20-30"),),
        ((b"If-None-Match", b"*"),),
        ((b"X-Forwarded-For", b"1.2.3.4, ::1"), (b"X-Forwarded-Proto", b"javascript")),
        ((b"Cookie", b"a=" + b"b" * 8000),),
        ((b"Referer", "http://x/?q=Hà".encode()),),
        ((b"Accept-Language", b"vi-VN,vi;q=0.9," * 200),),
    ]
    for extra in headers:
        for path in (
            b"/?q=ha+noi",
            b"/api/search?q=ha+noi",
            b"/articles/" + pct(pools.ids[0] if pools.ids else "x"),
        ):
            probes.append(Probe("headers", "GET", path, headers=extra))
    return probes


def random_probe(document: dict, pools: Pools, rng: random.Random) -> Probe:
    """Return a random combination: an operation, a subset of its parameters, values of every kind."""
    templates = list(document["paths"])
    weights = [8 if "search" in t else 3 if "suggest" in t or "articles" in t else 1 for t in templates]
    template = rng.choices(templates, weights)[0]
    operation = document["paths"][template].get("get") or next(iter(document["paths"][template].values()))
    params = operation.get("parameters", [])
    pairs: list[tuple[Value, Value]] = []
    path_value: Value | None = None
    labels = []
    for param in params:
        if param.get("in") != "path" and rng.random() > 0.45:
            continue
        choices = values_for(param, pools)
        wanted = rng.choices(["valid", "boundary", "hostile"], [70, 15, 15])[0]
        label, value = rng.choice([c for c in choices if c[0] == wanted] or choices)
        labels.append(label)
        if param.get("in") == "path":
            path_value = value
            continue
        pairs.append((param["name"], value))
        if rng.random() < 0.05:
            pairs.append((param["name"], rng.choice(choices)[1]))
    rng.shuffle(pairs)
    method = rng.choices(["GET", "HEAD", "OPTIONS", rng.choice(ODD_METHODS)], [86, 6, 3, 5])[0]
    target = fill_path(template, path_value) + (b"?" + query_string(pairs) if pairs else b"")
    if template == "/api/search" and rng.random() < 0.1:
        target = b"/" + target[len(b"/api/search") :]  # the HTML page takes the same parameters
    worst = "hostile" if "hostile" in labels else "boundary" if "boundary" in labels else "valid"
    return Probe(f"random {worst}", method, target)


def all_probes(document: dict, pools: Pools, count: int, seed: int) -> list[Probe]:
    """Return ``count`` probes in a random order: the hand-made ones, the systematic ones, random ones.

    Every systematic probe (each path, method, parameter and value) is sent when
    ``count`` allows it (about 1,100 do); fewer take a sample of them.
    """
    rng = random.Random(seed)
    hand = hand_made_probes(pools)
    systematic = schema_probes(document, pools) + page_probes(pools)
    room = max(count - len(hand), 0)
    probes = hand + (systematic if len(systematic) <= room else rng.sample(systematic, room))
    while len(probes) < count:
        probes.append(random_probe(document, pools, rng))
    rng.shuffle(probes)
    return probes


# ---------------------------------------------------------------- sending


def exchange(
    port: int,
    data: bytes,
    timeout: float = SOCKET_TIMEOUT_S,
    half_close: bool = False,
    source: str | None = None,
) -> tuple[int, bytes, str]:
    """Send ``data`` on a new connection (from the loopback address ``source``) and read the answer.

    Returns (status, body, error); status 0 when no HTTP answer came.
    """
    received = bytearray()
    error = ""
    bind = (source, 0) if source else None
    try:
        with socket.create_connection((HOST, port), timeout=timeout, source_address=bind) as sock:
            try:
                sock.sendall(data)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                error = f"while sending: {type(exc).__name__}"
            try:
                while len(received) < MAX_RESPONSE_BYTES:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except OSError as exc:
                error = error or f"while reading: {type(exc).__name__}"
    except OSError as exc:
        error = f"connect: {type(exc).__name__}"
    return parse_response(bytes(received), error)


def parse_response(received: bytes, error: str) -> tuple[int, bytes, str]:
    """Return (status, body, error) of the first response in ``received``."""
    head, _, body = received.partition(b"\r\n\r\n")
    while re.match(rb"HTTP/1\.[01] 1\d\d", head) and body:  # 100 Continue: the answer follows
        head, _, body = body.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not match:
        return 0, b"", error or ("no answer" if not received else f"not HTTP: {received[:40]!r}")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        body = dechunk(body)
    if b"content-encoding: gzip" in headers:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            error = error or f"bad gzip body: {exc}"
    return int(match.group(1)), body, error


def dechunk(body: bytes) -> bytes:
    """Decode a chunked body (as much as arrived)."""
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


class Contract:
    """The documented statuses per path and method, and the JSON error shape of the API."""

    def __init__(self, document: dict) -> None:
        self.paths = document["paths"]

    def template_of(self, path: str) -> str | None:
        """Return the OpenAPI path a request path falls under, if any."""
        if path in self.paths:
            return path
        if path.startswith("/api/articles/") and path.count("/") == 3 and path != "/api/articles/":
            return "/api/articles/{article_id}"
        return None

    def check(self, probe: Probe, status: int, body: bytes) -> str:
        """Return what is outside the contract in this answer ("" when nothing)."""
        if probe.raw is not None or status == 0:
            return ""
        template = self.template_of(probe.path())
        if template is None:
            return ""
        operations = self.paths[template]
        method = probe.method.lower()
        operation = operations.get("get" if method == "head" else method) or operations.get("get", {})
        if str(status) not in operation.get("responses", {}):
            return f"status {status} is not documented for {probe.method} {template}"
        if status == 200 and probe.method == "GET":
            try:
                json.loads(body)
            except ValueError:
                return f"status 200 with a body that is not JSON: {body[:80]!r}"
        if status >= 400 and probe.method != "HEAD":
            try:
                error = json.loads(body)["error"]
                if not (isinstance(error["code"], str) and isinstance(error["message"], str)):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                return f"status {status} without the JSON error shape: {body[:80]!r}"
        return ""


def timed(port: int, probe: Probe, contract: Contract) -> Outcome:
    """Send one probe and time it."""
    data = probe.request_bytes(port)
    started = time.perf_counter()
    status, body, error = exchange(port, data, half_close=probe.raw is not None)
    ms = (time.perf_counter() - started) * 1000
    return Outcome(
        probe.kind, probe.shown(), status, round(ms, 2), error, contract.check(probe, status, body)
    )


def send_all(
    port: int, probes: list[Probe], clients: int, deadline: float, contract: Contract
) -> list[Outcome]:
    """Send the probes from ``clients`` threads until done or the deadline."""
    outcomes: list[Outcome | None] = [None] * len(probes)
    cursor = iter(range(len(probes)))
    lock = threading.Lock()

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            outcomes[index] = timed(port, probes[index], contract)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [o for o in outcomes if o is not None]


def ask(port: int, target: bytes, source: str | None = None) -> tuple[int, float]:
    """GET ``target`` (from the loopback address ``source``) and return (status, ms)."""
    started = time.perf_counter()
    request = Probe("ask", "GET", target).request_bytes(port)
    status, _, _ = exchange(port, request, timeout=10.0, source=source)
    return status, round((time.perf_counter() - started) * 1000, 2)


# Requests whose announced body never comes: a worker thread used to wait 5 s for each (issue 21).
PINNING_REQUESTS = (
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-A: 0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n",
)
# Another client address for the flood phase: all of 127.0.0.0/8 is this machine on Linux.
OTHER_CLIENT = "127.0.0.2"
KNOWN_METHODS = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "TRACE", "other"}
_METHOD_LABEL = re.compile(rb'method="([^"]*)"')


def healthz_and_search(port: int, rounds: int, source: str | None = None) -> list[dict]:
    """Ask /healthz and a search ``rounds`` times; return each answer's target, status and ms."""
    answers = []
    for _ in range(rounds):
        for target in (b"/healthz", b"/api/search?q=ha+noi&per_page=1"):
            status, ms = ask(port, target, source)
            answers.append({"target": target.decode(), "status": status, "ms": ms})
    return answers


def answered_well(answers: list[dict]) -> dict:
    """Summarize answers: slowest, all 200, all within the 1 s bar."""
    worst = max((a["ms"] for a in answers), default=0.0)
    return {
        "answers": answers,
        "max_ms": worst,
        "all_200": all(a["status"] == 200 for a in answers),
        "within_1s": worst <= ANSWER_S * 1000,
    }


def pinning_phase(port: int, count: int) -> dict:
    """Hold ``count`` connections whose announced body never comes; ask /healthz and a search meanwhile."""
    connections: list[socket.socket] = []
    try:
        for i in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(PINNING_REQUESTS[i % len(PINNING_REQUESTS)])
            connections.append(sock)
        answers = healthz_and_search(port, 3)
    finally:
        for sock in connections:
            sock.close()
    return {"connections": count, **answered_well(answers)}


def still_open(sock: socket.socket) -> bool:
    """Tell whether the server still holds a connection we sent nothing on."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""  # data would be odd, but the connection is open
    except BlockingIOError:
        return True
    except OSError:
        return False


def connection_flood_phase(port: int, count: int) -> dict:
    """Open ``count`` silent connections from one address; another address and the same one ask meanwhile."""
    connections: list[socket.socket] = []
    try:
        for _ in range(count):
            try:
                connections.append(socket.create_connection((HOST, port), timeout=5))
            except OSError:
                break  # the listen queue is full: the flood has done what it can
        time.sleep(0.5)  # the workers accept (and close the excess)
        held = sum(still_open(sock) for sock in connections)
        try:
            other = healthz_and_search(port, 3, OTHER_CLIENT)
        except OSError:  # no such loopback address here (not Linux): ask from the flooding one
            other = []
        same_status, same_ms = ask(port, b"/healthz")
    finally:
        for sock in connections:
            sock.close()
    return {
        "connections": len(connections),
        "held_by_server": held,
        "other_client": OTHER_CLIENT if other else None,
        **answered_well(other),
        "same_client": {"status": same_status, "ms": same_ms},
    }


def metrics_text(port: int) -> bytes:
    """Scrape /metrics (allowed from loopback)."""
    return exchange(port, Probe("ask", "GET", b"/metrics").request_bytes(port), timeout=30)[1]


def label_flood_phase(port: int, count: int) -> dict:
    """Send ``count`` requests with made-up methods and paths; see whether /metrics grows with them."""
    before = metrics_text(port)
    statuses: Counter = Counter()
    for i in range(count):
        method = "FLOOD" + "".join(chr(65 + int(d)) for d in f"{i:05d}")  # letters only: a valid token
        raw = f"{method} /made/up/{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        statuses[str(exchange(port, raw, timeout=10)[0])] += 1
    after = metrics_text(port)
    labels = {m.decode("latin-1") for m in _METHOD_LABEL.findall(after)}
    return {
        "requests": count,
        "statuses": dict(sorted(statuses.items())),
        "metrics_bytes_before": len(before),
        "metrics_bytes_after": len(after),
        "method_labels": sorted(labels),
        "bounded": labels <= KNOWN_METHODS and b"FLOOD" not in after and b"/made/up" not in after,
    }


def slow_clients_phase(port: int, count: int) -> dict:
    """Hold ``count`` connections sending a header byte every 2 s; ask /healthz and a search meanwhile."""
    connections: list[socket.socket] = []
    answers: list[dict] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            connections.append(sock)
            time.sleep(0.02)
        for _ in range(3):
            time.sleep(SLOW_S)
            for sock in connections:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass  # the server may close a client that is too slow
            for target in (b"/healthz", b"/api/search?q=ha+noi&per_page=1"):
                status, ms = ask(port, target)
                answers.append({"target": target.decode(), "status": status, "ms": ms})
    finally:
        for sock in connections:
            sock.close()
    worst = max((a["ms"] for a in answers), default=0.0)
    return {
        "connections": count,
        "answers": answers,
        "max_ms": worst,
        "all_200": all(a["status"] == 200 for a in answers),
        "within_1s": worst <= ANSWER_S * 1000,
    }


def big_line(port: int, megabytes: int) -> dict:
    """Send one request line of ``megabytes`` MB and return what came back."""
    chunk = b"a" * (1 << 20)
    started = time.perf_counter()
    received = bytearray()
    error = ""
    try:
        with socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT_S) as sock:
            try:
                sock.sendall(b"GET /api/search?q=")
                for _ in range(megabytes):
                    sock.sendall(chunk)
                sock.sendall(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            except OSError as exc:
                error = f"server closed while we were sending ({type(exc).__name__})"
            try:
                while chunk_in := sock.recv(65536):
                    received += chunk_in
            except OSError as exc:
                error = error or f"while reading: {type(exc).__name__}"
    except OSError as exc:
        error = f"connect: {type(exc).__name__}"
    status, _, error = parse_response(bytes(received), error)
    return {
        "mb": megabytes,
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 2),
        "error": error,
    }


def big_lines_phase(port: int, megabytes: int) -> dict:
    """Send two request lines of ``megabytes`` MB and one of 32 MB at once; ask /healthz meanwhile."""
    sizes = [megabytes, megabytes, max(megabytes, 32)]
    results: list[dict] = [{} for _ in sizes]

    def run(i: int) -> None:
        results[i] = big_line(port, sizes[i])

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(sizes))]
    for thread in threads:
        thread.start()
    health: list[dict] = []
    while any(t.is_alive() for t in threads) or not health:
        status, ms = ask(port, b"/healthz")
        health.append({"status": status, "ms": ms})
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    return {
        "lines": results,
        "healthz": health,
        "healthz_max_ms": max(h["ms"] for h in health),
        "healthz_all_200": all(h["status"] == 200 for h in health),
    }


# ---------------------------------------------------------------- the server


def server_environment() -> dict[str, str]:
    """Return this environment without SEARCHSVC_* settings, so the server runs the default config."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SEARCHSVC_")}


def start_server(index_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    """Start `searchsvc serve` with 2 workers on loopback, its log to a file."""
    command = [sys.executable, "-m", "searchsvc.cli", "serve", "--index-dir", str(index_dir)]
    command += ["--host", HOST, "--port", str(port), "--workers", str(WORKERS)]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=server_environment()
        )


def wait_ready(server: subprocess.Popen, port: int, log_path: Path) -> dict:
    """Wait until /healthz answers 200 and both workers are up; return the health body."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise HostileError(f"the server exited with {server.returncode}:\n{tail(log_path)}")
        status, body, _ = exchange(port, Probe("ask", "GET", b"/healthz").request_bytes(port), timeout=30)
        if status == 200 and len(server_processes(server.pid)) >= WORKERS:
            return json.loads(body)
        if status == 503:
            raise HostileError(f"the server has no index to serve: {body[:300]!r}")
        time.sleep(0.3)
    raise HostileError(f"the server did not answer within {START_TIMEOUT_S:.0f} s:\n{tail(log_path)}")


def stop(server: subprocess.Popen) -> int | None:
    """Stop the server gracefully (SIGTERM); kill it if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


def tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of a log."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def log_findings(text: str) -> tuple[list[str], list[str]]:
    """Return the log lines that show a problem, and each traceback with the line before it."""
    lines = text.splitlines()
    problems = [
        line[:400] for line in lines if LOG_PROBLEMS.search(line) and not line.startswith("Traceback")
    ]
    tracebacks: list[str] = []
    for i, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        block = lines[max(i - 1, 0) : i + 1]
        for follow in lines[i + 1 : i + 200]:
            block.append(follow)
            if not follow.startswith(" "):  # the exception line ends the traceback
                break
        tracebacks.append("\n".join(b[:400] for b in block))
    return problems, tracebacks


def index_values(port: int) -> Pools:
    """Read categories, sources, authors, tags and ids from the served index itself."""
    status, body, _ = exchange(
        port, Probe("ask", "GET", b"/api/search?q=&per_page=50").request_bytes(port), 60
    )
    data = json.loads(body) if status == 200 else {"facets": {}, "hits": []}
    facets = data.get("facets", {})
    hits = data.get("hits", [])
    return Pools(
        categories=[f["value"] for f in facets.get("category", [])][:12],
        sources=[f["value"] for f in facets.get("source", [])][:12],
        authors=sorted({h["author"] for h in hits if h.get("author")})[:8],
        tags=sorted({t for h in hits for t in h.get("tags") or []})[:8],
        ids=[h["id"] for h in hits][:12],
    )


# ---------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> Report:
    """Start the server, run every phase, stop it, and return the report."""
    index_dir = Path(args.index_dir)
    if not (index_dir / "CURRENT").is_file():
        raise HostileError(
            f"no index in {index_dir}: build one with `searchsvc reindex --index-dir {index_dir} …`"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_path = args.out.with_name(args.out.name + "-server.log")
    port = free_port()
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    server = start_server(index_dir, port, log_path)
    try:
        health = wait_ready(server, port, log_path)
        document = json.loads(
            exchange(port, Probe("ask", "GET", b"/api/openapi.json").request_bytes(port))[1]
        )
        pools = index_values(port)
        contract = Contract(document)
        warmup = [
            timed(port, Probe("warm-up", "GET", b"/api/search?" + query_string([("q", q)])), contract).ms
            for q in (VIETNAMESE * 2)[:WARMUP_REQUESTS]
        ]
        workers_before = sorted(server_processes(server.pid))
        deadline = time.monotonic() + args.max_seconds
        slow = slow_clients_phase(port, args.slow_clients) if args.slow_clients else {}
        pinning = pinning_phase(port, args.pinning) if args.pinning else {}
        flood = connection_flood_phase(port, args.connection_flood) if args.connection_flood else {}
        labels = label_flood_phase(port, args.label_flood) if args.label_flood else {}
        big = big_lines_phase(port, args.big_line_mb) if args.big_line_mb else {}
        probes = all_probes(document, pools, args.requests, args.seed)
        phase_started = time.perf_counter()
        outcomes = send_all(port, probes, args.clients, deadline, contract)
        phase_seconds = time.perf_counter() - phase_started
        final_status, final_ms = ask(port, b"/healthz")
        workers_after = sorted(server_processes(server.pid))
        log_before_stop = log_path.read_text(encoding="utf-8", errors="replace")
    finally:
        exit_code = stop(server)
    problems, tracebacks = log_findings(log_before_stop)
    meta = {
        "command": "python -m bench.hostile " + " ".join(sys.argv[1:]) if args.argv is None else args.argv,
        "started": started_at.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started_at).total_seconds(), 1),
        "main_phase_seconds": round(phase_seconds, 1),
        "requests_generated": len(probes),
        "clients": args.clients,
        "seed": args.seed,
        "index_dir": str(index_dir),
        "generation": health.get("generation"),
        "documents": health.get("documents"),
        "workers": WORKERS,
        "commit": git_commit(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "server_log": str(log_path),
        "server_exit_code": exit_code,
        "final_healthz": {"status": final_status, "ms": final_ms},
    }
    attacks = {"pinning": pinning, "connection_flood": flood, "label_flood": labels}
    return summarize(
        meta, outcomes, slow, big, warmup, workers_before, workers_after, problems, tracebacks, attacks
    )


def summarize(
    meta: dict,
    outcomes: list[Outcome],
    slow: dict,
    big: dict,
    warmup: list[float],
    workers_before: list[int],
    workers_after: list[int],
    problems: list[str],
    tracebacks: list[str],
    attacks: dict | None = None,
) -> Report:
    """Turn the outcomes and phases into the report."""
    attacks = attacks or {}
    pinning, flood, labels = (attacks.get(k) or {} for k in ("pinning", "connection_flood", "label_flood"))
    by_status = Counter(str(o.status) for o in outcomes)
    for line in big.get("lines", []):
        by_status[str(line["status"])] += 1
    by_kind: dict[str, Counter] = {}
    for o in outcomes:
        by_kind.setdefault(o.kind, Counter())[str(o.status)] += 1
    five = [asdict(o) for o in outcomes if o.status >= 500]
    five += [
        dict(line, request=f"GET /api/search?q=a… ({line['mb']} MB)")
        for line in big.get("lines", [])
        if line["status"] >= 500
    ]
    # A 408 is the server giving up on a client that did not finish its request: not a slow answer.
    over = sorted((o for o in outcomes if o.ms > SLOW_S * 1000 and o.status != 408), key=lambda o: -o.ms)
    times = sorted(o.ms for o in outcomes)
    no_answer = [o for o in outcomes if o.status == 0]
    violations = [o for o in outcomes if o.violation]
    restarted = workers_before != workers_after or any(
        "WORKER TIMEOUT" in p or "exited" in p for p in problems
    )
    verdict = []
    if five:
        verdict.append(f"{len(five)} responses 5xx")
    if over:
        verdict.append(f"{len(over)} requests over {SLOW_S:.0f} s")
    if restarted:
        verdict.append("a worker restarted")
    if slow and not (slow["within_1s"] and slow["all_200"]):
        verdict.append(f"beside slow clients /healthz or a search took {slow['max_ms']:.0f} ms or failed")
    if pinning and not (pinning["within_1s"] and pinning["all_200"]):
        verdict.append(
            f"beside bodies that never come /healthz or a search took {pinning['max_ms']:.0f} ms or failed"
        )
    if flood and flood["other_client"] and not (flood["within_1s"] and flood["all_200"]):
        verdict.append(f"beside a connection flood another client waited {flood['max_ms']:.0f} ms or failed")
    if labels and not labels["bounded"]:
        verdict.append("made-up methods or paths became /metrics label values")
    if meta["final_healthz"]["status"] != 200:
        verdict.append("the server did not answer /healthz at the end")
    return Report(
        meta=meta,
        requests=len(outcomes) + len(big.get("lines", [])),
        by_status=dict(sorted(by_status.items())),
        by_kind={kind: dict(sorted(c.items())) for kind, c in sorted(by_kind.items())},
        server_errors=five,
        over_2s=len(over),
        over_2s_requests=[asdict(o) for o in over[:50]],
        slowest=[asdict(o) for o in sorted(outcomes, key=lambda o: -o.ms)[:SLOWEST]],
        latency_ms=percentiles(times),
        no_answer=dict(Counter(o.kind for o in no_answer)),
        no_answer_examples=[asdict(o) for o in no_answer[:20]],
        contract_violations=len(violations),
        contract_examples=[asdict(o) for o in violations[:20]],
        slow_clients=slow,
        pinning=pinning,
        connection_flood=flood,
        label_flood=labels,
        big_lines=big,
        warmup_ms=warmup,
        workers={"before": workers_before, "after": workers_after, "restarted": restarted},
        log_problems=problems[:50],
        tracebacks=tracebacks[:10],
        passed=not verdict,
        verdict=verdict,
    )


def percentiles(times: list[float]) -> dict[str, float]:
    """Return p50, p95, p99 and max of sorted times."""
    if not times:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    cut = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [times[0]] * 99
    return {"p50": round(cut[49], 2), "p95": round(cut[94], 2), "p99": round(cut[98], 2), "max": times[-1]}


# ---------------------------------------------------------------- output


def markdown(report: Report) -> str:
    """Render the report as Markdown."""
    meta = report.meta
    lat = report.latency_ms
    lines = [
        f"# Hostile run, {meta['started']}",
        "",
        (
            f"`{meta['command']}` at commit {meta['commit']}: index `{meta['index_dir']}` "
            f"({meta['documents']:,} documents, {meta['generation']}), `searchsvc serve` with {meta['workers']} "
            f"workers, {meta['clients']} clients, {meta['seconds']} s in all "
            f"(load average {meta['load_average_before'][0]} before, {meta['load_average_after'][0]} after)."
        ),
        "",
        verdict_line(report),
        "",
        "| requests | 5xx | over 2 s | no HTTP answer | outside the contract | p50 ms | p95 ms | p99 ms | max ms | worker restarted |",
        "|---|---|---|---|---|---|---|---|---|---|",
        (
            f"| {report.requests:,} | {len(report.server_errors)} | {report.over_2s} | {sum(report.no_answer.values())} | "
            f"{report.contract_violations} | {lat['p50']} | {lat['p95']} | {lat['p99']} | {lat['max']} | "
            f"{'yes' if report.workers['restarted'] else 'no'} |"
        ),
        "",
        "## By status",
        "",
        "| status | count |",
        "|---|---|",
        *(f"| {status} | {count:,} |" for status, count in report.by_status.items()),
        "",
        "## By kind",
        "",
        "| kind | statuses |",
        "|---|---|",
        *(
            f"| {kind} | {', '.join(f'{s}: {c}' for s, c in counts.items())} |"
            for kind, counts in report.by_kind.items()
        ),
        "",
        f"## Slowest {len(report.slowest)} requests",
        "",
        "| ms | status | kind | request |",
        "|---|---|---|---|",
        *(
            f"| {o['ms']:.0f} | {o['status']} | {o['kind']} | `{cell(o['request'])}` |"
            for o in report.slowest
        ),
        "",
    ]
    if report.slow_clients:
        slow = report.slow_clients
        lines += [
            "## Slow clients",
            "",
            (
                f"{slow['connections']} connections sending a header byte every 2 s; meanwhile /healthz and a search "
                f"answered {sum(a['status'] == 200 for a in slow['answers'])} of {len(slow['answers'])} times with 200, "
                f"slowest {slow['max_ms']:.0f} ms (target under 1 s)."
            ),
            "",
        ]
    if report.pinning:
        pin = report.pinning
        lines += [
            "## Bodies that never come",
            "",
            (
                f"{pin['connections']} connections announcing a body they never send (`Expect: 100-continue`, "
                f"chunked with no chunk, a 13-digit `Content-Length`); meanwhile /healthz and a search answered "
                f"{sum(a['status'] == 200 for a in pin['answers'])} of {len(pin['answers'])} times with 200, "
                f"slowest {pin['max_ms']:.0f} ms (target under 1 s)."
            ),
            "",
        ]
    if report.connection_flood:
        flood = report.connection_flood
        other = (
            f"{flood['other_client']} answered {sum(a['status'] == 200 for a in flood['answers'])} of "
            f"{len(flood['answers'])} times with 200, slowest {flood['max_ms']:.0f} ms"
            if flood["other_client"]
            else "no second loopback address to ask from"
        )
        lines += [
            "## Connection flood",
            "",
            (
                f"{flood['connections']} silent connections from {HOST}, {flood['held_by_server']} held by the "
                f"server (the rest closed at once); meanwhile {other}; {HOST} itself got "
                f"{flood['same_client']['status'] or 'no answer'}."
            ),
            "",
        ]
    if report.label_flood:
        flood = report.label_flood
        lines += [
            "## Label flood",
            "",
            (
                f"{flood['requests']} requests with made-up methods and paths "
                f"({', '.join(f'{s}: {c}' for s, c in flood['statuses'].items())}); /metrics went from "
                f"{flood['metrics_bytes_before']:,} to {flood['metrics_bytes_after']:,} bytes; method labels "
                f"{', '.join(flood['method_labels'])}; bounded: {flood['bounded']}."
            ),
            "",
        ]
    if report.big_lines:
        big = report.big_lines
        shown = ", ".join(
            f"{line['mb']} MB: {line['status'] or line['error']} in {line['ms']:.0f} ms"
            for line in big["lines"]
        )
        lines += [
            "## Huge request lines",
            "",
            (
                f"Sent at once: {shown}. /healthz meanwhile: {len(big['healthz'])} answers, slowest "
                f"{big['healthz_max_ms']:.0f} ms, all 200: {big['healthz_all_200']}."
            ),
            "",
        ]
    lines += [
        "## Workers",
        "",
        (
            f"Worker pids before {report.workers['before']}, after {report.workers['after']}; "
            f"restarted: {'yes' if report.workers['restarted'] else 'no'}. "
            f"First {len(report.warmup_ms)} searches (warm-up, not counted): slowest {max(report.warmup_ms, default=0):.0f} ms."
        ),
        "",
    ]
    for title, items in (
        ("Responses 5xx", report.server_errors),
        (f"Requests over {SLOW_S:.0f} s", report.over_2s_requests),
        ("No HTTP answer (examples)", report.no_answer_examples),
        ("Outside the documented contract (examples)", report.contract_examples),
    ):
        if items:
            lines += [f"## {title}", ""]
            lines += [
                f"- {o.get('status')} in {o.get('ms', 0):.0f} ms: `{cell(o.get('request', ''))}` "
                f"{o.get('error') or ''} {o.get('violation') or ''}".rstrip()
                for o in items
            ]
            lines.append("")
    if report.log_problems or report.tracebacks:
        lines += ["## Server log", "", "```", *report.log_problems, *report.tracebacks, "```", ""]
    return "\n".join(lines)


def verdict_line(report: Report) -> str:
    """Return the one-line verdict in bold."""
    if report.passed:
        return f"**PASSED**: 0 responses 5xx, no request over {SLOW_S:.0f} s, no worker restart."
    return "**FAILED**: " + "; ".join(report.verdict) + "."


def cell(text: str) -> str:
    """Make text safe inside a Markdown table cell and code span."""
    return text.replace("|", "\\|").replace("`", "'")


def terminal(report: Report) -> str:
    """Return a short summary for the terminal."""
    lat = report.latency_ms
    lines = [
        f"{report.requests:,} requests: " + ", ".join(f"{s}: {c:,}" for s, c in report.by_status.items()),
        (
            f"5xx: {len(report.server_errors)}, over 2 s: {report.over_2s}, no HTTP answer: "
            f"{sum(report.no_answer.values())}, outside the contract: {report.contract_violations}, "
            f"worker restarted: {'yes' if report.workers['restarted'] else 'no'}"
        ),
        f"latency ms p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} max {lat['max']}",
    ]
    if report.slow_clients:
        lines.append(
            f"beside {report.slow_clients['connections']} slow clients: slowest answer "
            f"{report.slow_clients['max_ms']:.0f} ms"
        )
    if report.pinning:
        lines.append(
            f"beside {report.pinning['connections']} bodies that never come: slowest answer "
            f"{report.pinning['max_ms']:.0f} ms"
        )
    if report.connection_flood:
        flood = report.connection_flood
        lines.append(
            f"connection flood: {flood['connections']} opened, {flood['held_by_server']} held; "
            f"another client's slowest answer {flood['max_ms']:.0f} ms"
        )
    if report.label_flood:
        flood = report.label_flood
        lines.append(
            f"label flood: /metrics {flood['metrics_bytes_before']:,} -> {flood['metrics_bytes_after']:,} bytes, "
            f"bounded: {flood['bounded']}"
        )
    lines += [f"slowest: {o['ms']:.0f} ms {o['status']} {o['request'][:100]}" for o in report.slowest[:5]]
    lines.append("PASSED" if report.passed else "FAILED: " + "; ".join(report.verdict))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", required=True, help="an existing index (built with `searchsvc reindex`)")
    ap.add_argument("--requests", type=int, default=10_000, help="at least this many generated requests")
    ap.add_argument("--clients", type=int, default=8, help="concurrent connections (1-64)")
    ap.add_argument("--max-seconds", type=float, default=1200.0, help="stop sending after this long")
    ap.add_argument("--slow-clients", type=int, default=50, help="slow connections held in phase 1 (0: skip)")
    ap.add_argument(
        "--pinning", type=int, default=16, help="connections whose announced body never comes (0: skip)"
    )
    ap.add_argument(
        "--connection-flood", type=int, default=400, help="silent connections from one address (0: skip)"
    )
    ap.add_argument(
        "--label-flood", type=int, default=500, help="requests with made-up methods and paths (0: skip)"
    )
    ap.add_argument("--big-line-mb", type=int, default=12, help="MB of the two huge request lines (0: skip)")
    ap.add_argument("--seed", type=int, default=10, help="random seed of the generated requests")
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "bench" / "out" / "hostile",
        help="writes OUT.json, OUT.md, OUT-server.log",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 64:
        ap.error("--clients must be between 1 and 64")
    for name, most in (("pinning", 256), ("connection_flood", 2000), ("label_flood", 20_000)):
        if not 0 <= getattr(args, name) <= most:
            ap.error(f"--{name.replace('_', '-')} must be between 0 and {most}")
    args.argv = None if argv is None else "python -m bench.hostile " + " ".join(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the hostile pass, write the JSON and Markdown reports, and print a summary."""
    args = parse_args(argv)
    try:
        report = run(args)
    except HostileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json_path, md_path = (args.out.with_name(args.out.name + suffix) for suffix in (".json", ".md"))
    json_path.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=1), encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    print(terminal(report))
    print(f"reports: {json_path}, {md_path}; server log: {report.meta['server_log']}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
