"""The command line: reindex, index add/delete, stats, search; errors as one line and an exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchsvc.cli import main
from searchsvc.demo import ARTICLES_PATH
from searchsvc.errors import IndexNotReady

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "searchsvc.toml"
CORE = REPO / "tests" / "fixtures" / "core" / "articles.jsonl"


def cli(*args: str):
    """Run the CLI in-process with the repository's config."""
    return CliRunner().invoke(main, ["--config", str(CONFIG), *args])


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """Build the demo articles (no page) into an index through the CLI."""
    index_dir = tmp_path_factory.mktemp("cli-index")
    result = cli("reindex", str(ARTICLES_PATH), "--index-dir", str(index_dir), "--quiet")
    assert result.exit_code == 0, result.output
    return index_dir


def test_reindex_prints_a_summary_and_writes_rejects(tmp_path):
    source = tmp_path / "mixed.jsonl"
    source.write_text(CORE.read_text(encoding="utf-8") + '{"id": "bad"}\n{oops\n', encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    result = cli(
        "reindex", str(source), "--index-dir", str(tmp_path / "index"), "--rejects", str(rejects), "--quiet"
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("indexed 6 articles into gen-")
    assert result.stdout.rstrip().endswith("rejected 2, duplicates 0, warnings 0")
    assert f"rejected {source}:7:" in result.stderr
    assert f"rejected {source}:8:" in result.stderr
    written = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in written] == [7, 8]


def test_stats_json_agrees_with_the_source(demo_dir):
    records = [json.loads(line) for line in ARTICLES_PATH.read_text(encoding="utf-8").splitlines()]
    result = cli("stats", "--json", "--index-dir", str(demo_dir))
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["documents"] == len(records) == 48
    assert stats["categories"] == dict(Counter(r["category"] for r in records))
    assert stats["sources"] == dict(Counter(r["source"] for r in records))
    assert (stats["dated_documents"], stats["date_range"][0][:4], stats["date_range"][1][:4]) == (
        45,
        "2018",
        "2026",
    )


def test_stats_table(demo_dir):
    result = cli("stats", "--index-dir", str(demo_dir))
    assert result.exit_code == 0
    assert "documents    48 (45 dated)" in result.stdout
    assert "        10  Thời sự" in result.stdout


def test_search_table(demo_dir):
    result = cli("search", "thu", "tuong", "--index-dir", str(demo_dir), "--per-page", "3")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("4 results in ")
    assert lines[1] == "   1. Thủ tướng yêu cầu các bộ đẩy nhanh giải ngân vốn đầu tư công"
    assert "id demo-011" in lines[2]
    assert any(line.startswith("category: ") for line in lines)


def test_search_json(demo_dir):
    result = cli(
        "search",
        "hà nội",
        "--category",
        "Thời sự",
        "--from",
        "2020-01-01",
        "--sort",
        "oldest",
        "--index-dir",
        str(demo_dir),
        "--json",
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [h["id"] for h in data["hits"]] == ["demo-003", "demo-028", "demo-001"]
    assert (data["total"], data["sort"], data["reading"]) == (
        3,
        "oldest",
        {"mode": "literal", "text": "hà nội"},
    )
    assert data["hits"][0]["highlights"]["title"].startswith("Sau bão, <mark>Hà Nội</mark>")


def test_search_telex_reading_is_shown(demo_dir):
    result = cli("search", "thur", "tuwowngs", "--index-dir", str(demo_dir))
    assert ", read as telex: thủ tướng" in result.stdout.splitlines()[0]


def test_search_says_what_it_corrected_and_expanded(demo_dir):
    lines = cli("search", "chinh", "phuu", "--index-dir", str(demo_dir)).stdout.splitlines()
    assert lines[1] == "showing results for: chính phủ (search exactly with --as-typed)"
    lines = cli("search", "chinh", "phuu", "--as-typed", "--index-dir", str(demo_dir)).stdout.splitlines()
    assert lines[1] == "did you mean: chính phủ"
    lines = cli("search", "UBND", "--index-dir", str(demo_dir)).stdout.splitlines()
    assert lines[1] == "also searched: UBND = Ủy ban Nhân dân (turn off with --no-aliases)"
    assert cli("search", "UBND", "--no-aliases", "--index-dir", str(demo_dir)).stdout.startswith("0 results")


def test_index_add_and_delete(tmp_path):
    index_dir = tmp_path / "index"
    assert cli("reindex", str(CORE), "--index-dir", str(index_dir), "--quiet").exit_code == 0
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps(
            {
                "id": "core-09",
                "title": "Tàu cao tốc chạy thử",
                "body": "Tàu chạy thử thành công.",
                "category": "Thời sự",
                "source": "Báo Một",
                "published": "2024-05-01T08:00:00+07:00",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    added = cli("index", "add", str(extra), "--index-dir", str(index_dir))
    assert (added.exit_code, added.stdout.startswith("added/updated 1 articles into gen-")) == (0, True)
    found = json.loads(cli("search", "tàu cao tốc", "--index-dir", str(index_dir), "--json").stdout)
    assert [h["id"] for h in found["hits"]] == ["core-09"]
    deleted = cli("index", "delete", "core-09", "core-01", "--index-dir", str(index_dir))
    assert (deleted.exit_code, deleted.stdout) == (0, "deleted 2 article(s)\n")
    missing = cli("index", "delete", "core-09", "--index-dir", str(index_dir))
    assert (missing.exit_code, missing.stdout, missing.stderr) == (
        1,
        "deleted 0 article(s)\n",
        "not found: core-09\n",
    )
    stats = json.loads(cli("stats", "--json", "--index-dir", str(index_dir)).stdout)
    assert stats["documents"] == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["reindex", "missing.jsonl", "--index-dir", "{tmp}/i"],
            "error: missing.jsonl: no such file or directory",
        ),
        (["search", "hà nội", "--index-dir", "{tmp}/none"], "error: no index in {tmp}/none"),
        (["stats", "--index-dir", "{tmp}/none"], "error: no index in {tmp}/none"),
        (
            ["search", "x", "--from", "2024-13-01", "--index-dir", "{tmp}/none"],
            "error: 'date_from' must be a date",
        ),
        (["search", "x", "--sort", "popular", "--index-dir", "{tmp}/none"], "error: 'sort' must be one of"),
        (["search", "x", "--page", "0", "--index-dir", "{tmp}/none"], "error: 'page' must be between"),
        (
            ["index", "add", "{tmp}/nope.jsonl", "--index-dir", "{tmp}/none"],
            "error: {tmp}/nope.jsonl: no such file",
        ),
        (["index", "delete", "a", "--index-dir", "{tmp}/none"], "error: no index in {tmp}/none"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, message):
    result = cli(*[a.format(tmp=tmp_path) for a in args])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(message.format(tmp=tmp_path))
    assert (len(result.stderr.splitlines()), "Traceback" in result.output) == (1, False)


def test_nothing_to_index_is_an_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    result = cli("reindex", str(bad), "--index-dir", str(tmp_path / "i"), "--quiet")
    assert result.exit_code == 1
    assert "no valid article found" in result.stderr
    assert "Traceback" not in result.output


def test_bad_config_file_is_an_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[index]\ncolour = 3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "stats"])
    assert (result.exit_code, result.stderr) == (1, "error: unknown setting index.colour\n")


def test_real_process_exit_code_and_message(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "searchsvc.cli",
            "--config",
            str(CONFIG),
            "search",
            "x",
            "--index-dir",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert (completed.returncode, completed.stdout) == (1, "")
    assert completed.stderr == f"error: no index in {tmp_path}: run `searchsvc reindex SOURCE...` first\n"


def test_query_bytes_that_are_not_utf8_are_an_error(demo_dir):
    # Python reads the byte 0xff of argv as the lone surrogate U+DCFF; the API answers 400 for it.
    result = cli("search", "h\udcffa", "--index-dir", str(demo_dir))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "error: 'q' is not valid UTF-8\n")
    other = cli("search", "x", "--category", "\udcff", "--index-dir", str(demo_dir))
    assert other.stderr == "error: 'category' is not valid UTF-8\n"


def test_os_errors_name_the_file(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("", encoding="utf-8")
    result = cli("stats", "--index-dir", str(not_a_dir))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: not a directory: {not_a_dir / 'CURRENT'}\n"


def test_an_unexpected_error_is_one_line_and_traceback_shows_it(demo_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr("searchsvc.store.open_store", broken)
    result = cli("stats", "--index-dir", str(demo_dir))
    assert (type(result.exception), result.exit_code, result.stdout) == (SystemExit, 1, "")
    assert result.stderr == (
        "error: unexpected RuntimeError: something broke "
        "(a searchsvc bug; `searchsvc --traceback ...` shows where)\n"
    )
    shown = CliRunner().invoke(
        main, ["--config", str(CONFIG), "--traceback", "stats", "--index-dir", str(demo_dir)]
    )
    assert (type(shown.exception), str(shown.exception)) == (RuntimeError, "something\nbroke")


def test_an_eof_error_is_not_a_bare_aborted(demo_dir, monkeypatch):
    # click turns an EOFError into "Aborted!"; `index add` on a truncated TOC printed only that.
    def truncated(*args, **kwargs):
        raise EOFError("Ran out of input")

    monkeypatch.setattr("searchsvc.store.open_store", truncated)
    result = cli("search", "x", "--index-dir", str(demo_dir))
    assert (result.exit_code, "Aborted!" in result.output) == (1, False)
    assert result.stderr.startswith("error: unexpected EOFError: Ran out of input")


def test_warnings_are_one_line_each_and_only_while_a_command_runs(demo_dir, monkeypatch):
    import logging

    def opened(index_dir, *args, **kwargs):
        logging.getLogger("searchsvc.store").warning("read model %s\nis damaged", "x.rm")
        raise IndexNotReady("no index")

    monkeypatch.setattr("searchsvc.store.open_store", opened)
    result = cli("stats", "--index-dir", str(demo_dir))
    assert result.stderr == "warning: read model x.rm is damaged\nerror: no index\n"
    assert [h for h in logging.getLogger("searchsvc").handlers if type(h).__name__ == "_StderrLines"] == []


def test_output_to_a_closed_pipe_exits_quietly(demo_dir):
    # `searchsvc stats | head -1`: the reader leaves; no BrokenPipeError traceback.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "searchsvc.cli",
            "--config",
            str(CONFIG),
            "stats",
            "--index-dir",
            str(demo_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    process.stdout.close()
    errors = process.stderr.read()
    assert (process.wait(timeout=60), errors) == (1, b"")
