"""The opt-in query log: what it keeps, how it fails quietly, the report, and the web hooks."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from searchsvc import querylog
from searchsvc.cli import main
from searchsvc.config import QueryLogSettings
from searchsvc.querylog import QueryLog, QueryLogUnreadable, connect, normalize_query, prune, report
from searchsvc.web import create_app

# Every search is written at once: no waiting for the flush interval in tests.
EAGER = QueryLogSettings(enabled=True, flush_seconds=0.0, min_count=2)


def rows(path: Path) -> list[tuple]:
    """Return every row of the log, sorted."""
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT day, query, searches, zero, few, clicks FROM queries").fetchall())


@pytest.mark.parametrize(
    ("typed", "counted"),
    [
        ("  Hà   Nội ", "hà nội"),
        ("HA NOI", "ha noi"),
        ("Hoà\u0300", normalize_query("hoà\u0300")),  # NFD marks composed like any query
        ("", None),
        ("   ", None),
        ("ai đó@example.com", None),
        ("0912 345 678", None),
        ("mật khẩu hunter2", None),
        ("bão số 3", "bão số 3"),
        ("x" * 300, "x" * 100),
    ],
)
def test_queries_are_normalised_and_personal_data_dropped(typed, counted):
    assert normalize_query(typed) == counted


def test_searches_are_counted_per_day_and_query(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(querylog, "today", lambda: "2026-11-30")
    log = QueryLog(EAGER, tmp_path / "q.sqlite3")
    log.record_search("Hà Nội", 12)
    log.record_search("hà  nội", 3)
    log.record_search("xyzzy", 0)
    log.record_click("HÀ NỘI")
    assert rows(tmp_path / "q.sqlite3") == [
        ("2026-11-30", "hà nội", 2, 0, 1, 1),
        ("2026-11-30", "xyzzy", 1, 1, 1, 0),
    ]


def test_counters_wait_for_the_flush_interval(tmp_path: Path):
    log = QueryLog(replace(EAGER, flush_seconds=3600.0), tmp_path / "q.sqlite3")
    log.record_search("bão", 4)
    assert not (tmp_path / "q.sqlite3").exists()
    assert log.flush()
    assert [r[1:] for r in rows(tmp_path / "q.sqlite3")] == [("bão", 1, 0, 1, 0)]


def test_an_unwritable_place_never_breaks_the_search(tmp_path: Path, caplog):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    log = QueryLog(EAGER, tmp_path / "a-file" / "q.sqlite3")  # a directory that cannot exist
    log.record_search("bão", 1)  # no exception
    log.record_search("lũ", 1)
    assert not log.flush()
    warnings = [r for r in caplog.records if "query log" in r.getMessage()]
    assert len(warnings) == 1  # warned once, not per search


def test_a_locked_database_delays_the_counts_only(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    log = QueryLog(EAGER, path)
    log.record_search("bão", 1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    log.record_search("lũ", 1)  # returns after the 50 ms busy timeout, its count kept
    other.execute("COMMIT")
    other.close()
    log.record_search("lũ", 1)
    assert [r[1:3] for r in rows(path)] == [("bão", 1), ("lũ", 2)]


def test_a_damaged_file_is_a_warning_not_an_error(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    path.write_bytes(b"not a database" * 100)
    log = QueryLog(EAGER, path)
    log.record_search("bão", 1)  # no exception
    assert not log.flush()
    assert path.read_bytes().startswith(b"not a database")


def _write_many(path: str, worker: int) -> None:
    """Record 200 searches from one process (a gunicorn worker's share)."""
    log = QueryLog(EAGER, Path(path))
    for i in range(200):
        log.record_search(f"tin {i % 5}", worker)  # each search its own transaction
    for _ in range(100):  # a busy moment only delays the counts: retry as a worker's exit does
        if log.flush():
            break


def test_several_processes_write_safely(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    with connect(path):
        pass  # created (WAL) before the writers start, as a server's first flush does
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(path), w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    assert {r[1]: r[2] for r in rows(path)} == {f"tin {i}": 160 for i in range(5)}


def _hold_the_write_lock(path: Path, taken: threading.Event, release: threading.Event) -> None:
    """Hold the log's write lock from another connection until told to let go (another worker's flush)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    taken.set()
    release.wait(30)
    other.execute("COMMIT")
    other.close()


def test_closing_waits_for_another_writer_instead_of_losing_the_counts(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    with connect(path):
        pass
    log = QueryLog(replace(EAGER, flush_seconds=3600.0), path)
    for _ in range(3):
        log.record_search("bão", 10)
    taken, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_the_write_lock, args=(path, taken, release))
    holder.start()
    assert taken.wait(30)
    assert not log.flush()  # a search's flush gives up after 50 ms: the counts wait in memory
    closed: list[bool] = []
    closing = threading.Thread(target=lambda: closed.append(log.close()))
    closing.start()
    closing.join(0.5)  # the lock is held far longer than the 50 ms a search would wait
    release.set()
    holder.join(30)
    closing.join(30)
    assert closed == [True]
    assert [r[1:3] for r in rows(path)] == [("bão", 3)]


def test_a_count_after_closing_is_written_at_once(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    log = QueryLog(replace(EAGER, flush_seconds=3600.0), path)
    log.record_search("bão", 10)
    assert log.close()
    log.record_search("lũ", 10)  # a request still running while its worker stops
    assert [r[1:3] for r in rows(path)] == [("bão", 1), ("lũ", 1)]


def test_closing_a_damaged_log_gives_up_at_once(tmp_path: Path, caplog):
    path = tmp_path / "q.sqlite3"
    path.write_bytes(b"not a database" * 100)
    log = QueryLog(EAGER, path)
    log.record_search("bão", 1)
    assert not log.close(wait_seconds=3600.0)  # damage is not a lock: waiting would not help
    assert len([r for r in caplog.records if "query log" in r.getMessage()]) == 1


def _close_when_released(path: str, worker: int, ready: Any, go: Any) -> None:
    """Count one worker's searches, then close its log when told (a worker stopping)."""
    log = QueryLog(replace(EAGER, flush_seconds=3600.0), Path(path))
    for _ in range(10 + worker):
        log.record_search("hà nội", 10)
    ready.wait(30)
    go.wait(30)
    if not log.close():
        raise SystemExit(3)


def test_two_workers_stopping_together_keep_every_count(tmp_path: Path):
    # Both close while a third connection holds the write lock on a log no one has created yet.
    path = tmp_path / "q.sqlite3"
    context = multiprocessing.get_context("fork")
    ready, go = context.Barrier(3), context.Event()
    workers = [context.Process(target=_close_when_released, args=(str(path), w, ready, go)) for w in range(2)]
    for p in workers:
        p.start()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ready.wait(30)
    go.set()
    for p in workers:
        p.join(0.5)  # both are waiting for the lock now, far past a search's 50 ms
    other.execute("COMMIT")
    other.close()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0]
    assert [r[1:3] for r in rows(path)] == [("hà nội", 21)]


def test_prune_keeps_the_table_bounded(tmp_path: Path):
    settings = QueryLogSettings(enabled=True, min_count=3, keep_days=7, max_rows=100)
    with connect(tmp_path / "q.sqlite3") as db:
        db.executemany(
            "INSERT INTO queries VALUES (?, ?, ?, 0, 0, 0)",
            [
                (
                    "2026-11-01",
                    "old",
                    50,
                ),
                ("2026-11-29", "rare yesterday", 2),
                ("2026-11-30", "rare today", 1),
            ]
            + [("2026-11-30", f"q{i}", 3 + i) for i in range(150)],
        )
        prune(db, settings, "2026-11-30")
        kept = {q for (q,) in db.execute("SELECT query FROM queries")}
    assert len(kept) == 100
    assert "old" not in kept and "rare yesterday" not in kept
    assert "q149" in kept and "q0" not in kept


@pytest.fixture()
def generated_log(tmp_path: Path) -> Path:
    """Write a week of counts: a popular query, one without results, one with few, rare ones."""
    path = tmp_path / "querylog.sqlite3"
    with connect(path) as db:
        db.executemany(
            "INSERT INTO queries VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("2026-11-24", "bão số 3", 40, 0, 0, 10),
                ("2026-11-30", "bão số 3", 60, 0, 0, 20),
                ("2026-11-29", "giá vàng", 30, 0, 0, 3),
                ("2026-11-30", "xe điện vinfast", 5, 5, 5, 0),
                ("2026-11-30", "đường sắt cao tốc", 4, 0, 4, 2),
                ("2026-11-30", "một lần", 1, 1, 1, 0),
                ("2026-10-01", "tháng trước", 99, 0, 0, 0),
            ],
        )
    return path


def test_report_of_a_generated_log(generated_log: Path):
    found = report(generated_log, days=7, min_count=3, day="2026-11-30")
    assert found.since == "2026-11-24"
    assert [(r.query, r.searches) for r in found.top] == [
        ("bão số 3", 100),
        ("giá vàng", 30),
        ("xe điện vinfast", 5),
        ("đường sắt cao tốc", 4),
    ]
    assert [r.query for r in found.no_results] == ["xe điện vinfast"]
    assert [r.query for r in found.few_results] == ["đường sắt cao tốc"]
    assert found.top[0].click_through == pytest.approx(0.3)
    assert (found.searches, found.clicks) == (139, 35)
    assert [r.query for r in report(generated_log, 1, 3, day="2026-11-30").top] == [
        "bão số 3",
        "xe điện vinfast",
        "đường sắt cao tốc",
    ]


def test_report_without_a_log_is_a_clear_error(tmp_path: Path):
    with pytest.raises(QueryLogUnreadable, match="no query log"):
        report(tmp_path / "none.sqlite3", 7, 3)


def test_cli_report_queries(generated_log: Path, monkeypatch):
    monkeypatch.setattr(querylog, "today", lambda: "2026-11-30")
    runner = CliRunner()
    result = runner.invoke(
        main, ["report", "queries", "--days", "7", "--index-dir", str(generated_log.parent)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "since 2026-11-24 (7 day(s)): 139 searches of queries seen at least 3 times, 35 result clicks "
        "(click-through 25%)"
    )
    assert "      100 searches    30% click-through  bão số 3" in lines
    assert "        5 no-result    0% click-through  xe điện vinfast" in lines
    as_json = runner.invoke(
        main, ["report", "queries", "--json", "--limit", "1", "--index-dir", str(generated_log.parent)]
    )
    body = json.loads(as_json.output)
    assert body["top"] == [
        {
            "query": "bão số 3",
            "searches": 100,
            "no_results": 0,
            "few_results": 0,
            "clicks": 30,
            "click_through": 0.3,
        }
    ]


def test_cli_report_without_a_log_is_one_line(tmp_path: Path):
    result = CliRunner().invoke(main, ["report", "queries", "--index-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("error: no query log at ")
    assert len(result.output.splitlines()) == 1


def test_page_and_api_searches_and_result_clicks_are_logged(demo_settings, tmp_path: Path):
    path = tmp_path / "web.sqlite3"
    settings = replace(demo_settings, querylog=replace(EAGER, path=str(path)))
    client = create_app(settings).test_client()
    client.get("/?q=ha+noi")
    client.get("/?q=ha+noi&page=2")  # paging is not a new search
    client.get("/api/search?q=Ha%20Noi")
    client.get("/api/search?q=")  # no words: not a search
    client.get("/feed.atom?q=ha+noi")  # feed readers poll: not a reader's search
    client.get("/articles/demo-001?q=ha+noi", headers={"Referer": "http://localhost/?q=ha+noi"})
    client.get("/articles/demo-001?q=ha+noi")  # no search page before it: not a click
    assert [r[1:] for r in rows(path)] == [("ha noi", 2, 0, 0, 1)]


def test_nothing_is_logged_unless_enabled(client, demo_settings):
    client.get("/?q=ha+noi")
    assert not (demo_settings.index_dir / "querylog.sqlite3").exists()


@pytest.mark.parametrize(
    "typed",
    [
        "https://nganhang.vn/dat-lai?token=9f3a2c",
        "nganhang.vn/reset",
        "www.example",
        "reset token=abc123",
        "?code=77",
        "mật khẩu hunter2",
        "MẬT KHẨU Hunter2",
        "mat khau 123456",
        "mã OTP 123456",
        "ma otp",
        "mã xác nhận 8812",
        "password abc",
        "api key sk-123",
        "nguyenvana (at) gmail com",
        "nguyenvana [at] yahoo [dot] com",
        "nguyen van a at gmail dot com",
        "nguyenvana a còng gmail chấm com",
        "lan.anh@báo.vn",
        "gmail.com",
        "0912 345 678",
        "0912.345.678",
        "+84 912 345 678",
        "(028) 3823 4567",
        "Nguyễn Văn An số 12 đường Lê Lợi",
        "Trần Thị Bích 34 phố Huế",
        "số nhà 7 Hàng Bạc",
        "ngõ 5 Láng Hạ",
        "Ngách 12/3 ngõ 41 Thái Hà",
        "hẻm 34/2 Nguyễn Trãi",
        "kiệt 8 Lê Lợi Huế",
        "12b Đường Trần Phú",
    ],
)
def test_secrets_and_contacts_are_never_recorded(typed):
    assert querylog.looks_private(typed) is True
    assert normalize_query(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "bão số 3",
        "bão số 3 đường phố ngập",
        "giá vàng 2024",
        "ngày 30/11/2024",
        "đường sắt cao tốc",
        "phố cổ Hà Nội",
        "Hà Nội 36 phố phường",
        "Đường 3/2",
        "gmail bị lỗi",
        "U23 Việt Nam",
        "covid-19 năm 2021",
        "pin xe điện",
        "quốc lộ 1A",
        "TP.HCM",
        "Thủ tướng Phạm Minh Chính",
    ],
)
def test_ordinary_news_searches_are_still_counted(typed):
    assert querylog.looks_private(typed) is False
    assert normalize_query(typed) is not None


def test_report_reads_a_log_on_a_full_disk(generated_log: Path, tmp_path: Path):
    # A file-size limit of one byte stands in for a full disk: no -shm file can be written.
    code = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from searchsvc.querylog import report\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))\n"
        "print(report(Path(sys.argv[1]), days=7, min_count=2, day='2026-11-30').searches)\n"
    )
    expected = report(generated_log, days=7, min_count=2, day="2026-11-30").searches
    for leftover in generated_log.parent.glob("*.sqlite3-*"):
        leftover.unlink()  # as the last writer's close leaves it: no -wal or -shm file
    done = subprocess.run([sys.executable, "-c", code, str(generated_log)], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert int(done.stdout) == expected > 0


def test_a_damaged_log_is_reported_in_healthz_and_metrics(demo_settings, tmp_path: Path):
    path = tmp_path / "web.sqlite3"
    path.write_bytes(b"not a database" * 100)
    settings = replace(demo_settings, querylog=replace(EAGER, path=str(path)))
    client = create_app(settings).test_client()
    healthy = client.get("/healthz").get_json()
    assert "querylog" not in healthy
    assert "searchsvc_querylog_problem 0.0" in client.get("/metrics").get_data(as_text=True)
    assert client.get("/api/search?q=ha+noi").status_code == 200  # searching goes on
    health = client.get("/healthz")
    body = health.get_json()
    assert (health.status_code, body["status"]) == (200, healthy["status"])
    assert body["querylog"] == "not written (DatabaseError: file is not a database); queries waiting: 1"
    assert "searchsvc_querylog_problem 1.0" in client.get("/metrics").get_data(as_text=True)


def test_counts_past_the_pending_limit_are_reported_as_dropped(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(querylog, "MAX_PENDING", 2)
    log = QueryLog(replace(EAGER, flush_seconds=3600.0), tmp_path / "q.sqlite3")
    assert log.problem is None
    for word in ("bão", "lũ", "mưa", "gió"):
        log.record_search(word, 3)
    assert (log.dropped, log.problem) == (2, "2 counts dropped (more than 2 queries waiting)")
    assert log.flush()
    assert log.problem == "2 counts dropped (more than 2 queries waiting)"  # lost counts stay reported


def test_metrics_say_nothing_of_a_log_switched_off(client):
    assert "searchsvc_querylog" not in client.get("/metrics").get_data(as_text=True)
