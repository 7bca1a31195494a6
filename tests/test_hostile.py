"""The hostile run (bench/hostile.py): its request generator, and a short run against the demo index."""

from __future__ import annotations

import json
from pathlib import Path

from bench import hostile
from bench.hostile import Contract, Pools, Probe, Raw, all_probes, parse_response, pct, query_string
from searchsvc.config import Settings
from searchsvc.web.openapi import openapi_document

POOLS = Pools(categories=["Thời sự"], sources=["Báo Một"], authors=["Lan"], tags=["bão"], ids=["demo-001"])
REPORT_KEYS = {
    "meta",
    "requests",
    "by_status",
    "by_kind",
    "server_errors",
    "over_2s",
    "over_2s_requests",
    "slowest",
    "latency_ms",
    "no_answer",
    "no_answer_examples",
    "contract_violations",
    "contract_examples",
    "slow_clients",
    "pinning",
    "connection_flood",
    "label_flood",
    "big_lines",
    "warmup_ms",
    "workers",
    "log_problems",
    "tracebacks",
    "passed",
    "verdict",
}


def test_values_are_encoded_as_a_hostile_client_sends_them():
    assert pct("Hà Nội") == b"H%C3%A0%20N%E1%BB%99i"
    assert pct("a\ud800b") == b"a%ED%A0%80b"  # a lone surrogate, percent-encoded
    assert pct(b"\xff\xfe") == b"%FF%FE"  # bytes that are not UTF-8
    assert pct(Raw(b"a b")) == b"a b"  # straight into the request line
    assert query_string([("q", "ha"), ("q", "*")]) == b"q=ha&q=%2A"


def test_a_probe_is_one_request_with_connection_close():
    probe = Probe("x", "POST", b"/api/search?q=ha", headers=((b"X-A", b"1"),), body=b"{}")
    assert probe.request_bytes(8000) == (
        b"POST /api/search?q=ha HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-A: 1\r\nConnection: close\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )
    assert Probe("raw", raw=b"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").request_bytes(1) == (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"
    )
    assert Probe("x", "GET", b"/?q=" + b"a" * 500).shown().endswith("… (508 bytes)")


def test_responses_are_read_past_100_continue_and_chunks():
    continued = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 405 METHOD NOT ALLOWED\r\nContent-Length: 2\r\n\r\n{}"
    assert parse_response(continued, "") == (405, b"{}", "")
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    assert parse_response(chunked, "") == (200, b"{}", "")
    assert parse_response(b"", "while reading: ConnectionResetError") == (
        0,
        b"",
        "while reading: ConnectionResetError",
    )


def test_the_generator_covers_every_path_parameter_and_the_issue_inputs():
    document = openapi_document(Settings())
    probes = all_probes(document, POOLS, 3000, seed=1)
    assert len(probes) == 3000
    targets = b"\n".join(p.target for p in probes)
    for template, operations in document["paths"].items():
        assert template.split("{")[0].encode() in targets
        for parameter in (p for op in operations.values() for p in op.get("parameters", [])):
            if parameter["in"] == "query":
                assert f"{parameter['name']}=".encode() in targets
    kinds = {p.kind for p in probes}
    assert {"schema valid", "schema boundary", "schema hostile", "schema repeated", "method", "raw"} <= kinds
    assert any(
        hostile.PREFIX_QUERY.replace(" ", "%20").replace("*", "%2A").encode() in p.target for p in probes
    )
    assert len(all_probes(document, POOLS, 200, seed=1)) == 200  # fewer: a sample, the issue's inputs kept
    assert {p.kind for p in all_probes(document, POOLS, 200, seed=1)} >= {"issue-10 prefixes", "raw"}


def test_the_contract_check_finds_undocumented_statuses_and_error_shapes():
    contract = Contract(openapi_document(Settings()))
    search = Probe("x", "GET", b"/api/search?q=ha")
    assert contract.check(search, 200, b"{}") == ""
    assert contract.check(search, 418, b"{}") == "status 418 is not documented for GET /api/search"
    assert contract.check(search, 400, b"<html>").startswith("status 400 without the JSON error shape")
    assert (
        contract.check(
            Probe("x", "GET", b"/api/articles/a%2Fb"),
            404,
            b'{"error": {"code": "not_found", "message": "x"}}',
        )
        == ""
    )


def test_a_short_hostile_run_writes_its_reports(demo_index_dir: Path, tmp_path: Path):
    out = tmp_path / "hostile"
    code = hostile.main(
        ["--index-dir", str(demo_index_dir), "--requests", "300", "--clients", "4"]
        + ["--slow-clients", "5", "--big-line-mb", "1", "--out", str(out)]
        + ["--pinning", "8", "--connection-flood", "30", "--label-flood", "30"]
    )
    report = json.loads((tmp_path / "hostile.json").read_text(encoding="utf-8"))
    assert set(report) == REPORT_KEYS
    assert code == (0 if report["passed"] else 1)
    assert report["requests"] == sum(report["by_status"].values()) == 303  # and three huge request lines
    assert set(report["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert set(report["workers"]) == {"before", "after", "restarted"}
    assert {"connections", "answers", "max_ms", "all_200", "within_1s"} <= set(report["slow_clients"])
    assert [line["mb"] for line in report["big_lines"]["lines"]] == [1, 1, 32]
    assert (report["pinning"]["connections"], report["pinning"]["all_200"]) == (8, True)
    assert report["connection_flood"]["connections"] == 30
    assert report["connection_flood"]["all_200"] is True
    flood = report["label_flood"]
    assert (flood["requests"], flood["bounded"], flood["statuses"]) == (30, True, {"404": 30})
    assert set(flood["method_labels"]) <= {"GET", "other"}
    assert report["server_errors"] == []
    markdown = (tmp_path / "hostile.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Hostile run, ")
    assert "## By status" in markdown and "## Slowest" in markdown
    for section in ("## Bodies that never come", "## Connection flood", "## Label flood"):
        assert section in markdown
    assert (tmp_path / "hostile-server.log").read_text(encoding="utf-8").count("Booting worker") >= 2


def test_a_gzip_body_is_decoded_before_the_contract_check():
    import gzip

    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(b'{"a": 1}')
    assert parse_response(answer, "") == (200, b'{"a": 1}', "")
