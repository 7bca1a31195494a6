"""Index generations: atomic switch, pruning, failures leaving the live index alone, locks, updates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchsvc.cli import main
from searchsvc.errors import IndexBusy, IndexNotReady, IngestError, SchemaMismatch
from searchsvc.generations import BUILD_PREFIX, CURRENT, GEN_PREFIX, MANIFEST, current_generation
from searchsvc.indexer import NothingToIndex, add_articles, delete_articles, reindex, write_lock
from searchsvc.messages import SearchRequest
from searchsvc.schema import SCHEMA_VERSION
from searchsvc.search import search
from searchsvc.store import open_store

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "tests" / "fixtures" / "core" / "articles.jsonl"
SAMPLE = REPO.parent / "shared" / "corpus" / "sample.jsonl"


def record(article_id: str, title: str, body: str = "Nội dung bài viết đủ dài để kiểm thử.", **extra) -> dict:
    """Return one source record; dated and categorized unless ``extra`` says otherwise."""
    base = {"category": "Thời sự", "source": "Báo Một", "published": "2024-03-01T08:00:00+07:00"}
    return {"id": article_id, "title": title, "body": body} | base | extra


def bare(article_id: str, title: str) -> dict:
    """Return a record with only the required fields (no category, source or date)."""
    return {"id": article_id, "title": title, "body": "Nội dung bài viết đủ dài để kiểm thử."}


def write_jsonl(path: Path, lines: list[dict | str]) -> Path:
    """Write records (dicts) and raw lines (str) as a JSONL file."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
        )
    return path


def generations(index_dir: Path) -> list[str]:
    """Return the generation directories of an index, oldest first."""
    return sorted(p.name for p in index_dir.glob(GEN_PREFIX + "*"))


def live(index_dir: Path) -> str:
    """Return the name CURRENT points to."""
    return (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def ids_for(index_dir: Path, q: str = "") -> list[str]:
    """Return the ids an index finds for ``q``, sorted."""
    store = open_store(index_dir)
    try:
        return sorted(h.id for h in search(store, SearchRequest(q=q, per_page=100)).hits)
    finally:
        store.close()


def test_reindex_builds_a_generation(tmp_path):
    report = reindex([CORE], tmp_path)
    assert (report.indexed, report.duplicates, report.rejects, generations(tmp_path)) == (
        6,
        0,
        [],
        [report.generation],
    )
    assert live(tmp_path) == report.generation
    manifest = json.loads((tmp_path / report.generation / MANIFEST).read_text(encoding="utf-8"))
    assert {k: manifest[k] for k in ("schema_version", "generation", "documents", "sources")} == {
        "schema_version": SCHEMA_VERSION,
        "generation": report.generation,
        "documents": 6,
        "sources": [str(CORE)],
    }
    assert current_generation(tmp_path).name == report.generation
    assert list(tmp_path.glob(BUILD_PREFIX + "*")) == []


def test_second_reindex_switches_and_prunes(tmp_path):
    small = write_jsonl(tmp_path / "small.jsonl", [record("x-1", "Hà Nội mưa to")])
    index_dir = tmp_path / "index"
    first = reindex([CORE], index_dir, keep_generations=2)
    second = reindex([small], index_dir, keep_generations=2)
    assert (live(index_dir), generations(index_dir)) == (
        second.generation,
        [first.generation, second.generation],
    )
    assert ids_for(index_dir) == ["x-1"]
    third = reindex([CORE], index_dir, keep_generations=2)
    assert (live(index_dir), generations(index_dir)) == (
        third.generation,
        [second.generation, third.generation],
    )
    fourth = reindex([small], index_dir, keep_generations=1)
    assert generations(index_dir) == [fourth.generation]


def test_missing_source_leaves_live_index_untouched(tmp_path):
    before = reindex([CORE], tmp_path)
    with pytest.raises(IngestError) as caught:
        reindex([CORE, tmp_path / "missing.jsonl"], tmp_path)
    assert (caught.value.reason, live(tmp_path), generations(tmp_path)) == (
        "no such file or directory",
        before.generation,
        [before.generation],
    )
    assert len(ids_for(tmp_path)) == 6


def test_only_bad_records_raise_nothing_to_index(tmp_path):
    index_dir = tmp_path / "index"
    before = reindex([CORE], index_dir)
    bad = write_jsonl(tmp_path / "bad.jsonl", ["{not json", '{"id": "a"}', "[1, 2]"])
    with pytest.raises(NothingToIndex):
        reindex([bad], index_dir)
    assert (live(index_dir), generations(index_dir), list(index_dir.glob(BUILD_PREFIX + "*"))) == (
        before.generation,
        [before.generation],
        [],
    )
    assert len(ids_for(index_dir)) == 6


def test_duplicate_ids_later_record_wins(tmp_path):
    source = write_jsonl(
        tmp_path / "dup.jsonl",
        [
            record("d-1", "Bản đầu tiên"),
            record("d-2", "Bài khác"),
            record("d-1", "Bản sửa lại"),
            record("d-1", "Bản cuối"),
        ],
    )
    report = reindex([source], tmp_path / "index")
    assert (report.indexed, report.duplicates, report.duplicate_ids) == (2, 2, ["d-1", "d-1"])
    store = open_store(tmp_path / "index")
    try:
        assert store.get_article("d-1")["title"] == "Bản cuối"
    finally:
        store.close()


def test_broken_sample_indexes_every_good_line(tmp_path):
    if not SAMPLE.is_file():
        pytest.skip(f"the shared corpus sample is not at {SAMPLE}")
    good = SAMPLE.read_text(encoding="utf-8").splitlines()
    bad = ["{broken json", '{"id": "no-title", "body": "x"}', "[]", '{"id": 5, "title": "t", "body": "b"}']
    lines: list[str] = []
    bad_lines: list[int] = []
    for i, line in enumerate(good):
        if i % 250 == 100:
            lines.append(bad[len(bad_lines) % len(bad)])
            bad_lines.append(len(lines))
        lines.append(line)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = reindex([broken], tmp_path / "index")
    assert (report.indexed, sorted(r.line for r in report.rejects)) == (1000, bad_lines)
    assert {r.path for r in report.rejects} == {str(broken)}


def test_schema_mismatch_tells_to_reindex(tmp_path):
    report = reindex([CORE], tmp_path)
    manifest_path = tmp_path / report.generation / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps(manifest | {"schema_version": SCHEMA_VERSION + 1}), encoding="utf-8")
    with pytest.raises(SchemaMismatch) as caught:
        open_store(tmp_path)
    assert "searchsvc reindex" in str(caught.value)
    with pytest.raises(SchemaMismatch):
        add_articles([CORE], tmp_path)


KILL_SCRIPT = (
    "import sys; from searchsvc.indexer import reindex; "
    "reindex([sys.argv[1]], sys.argv[2], procs=int(sys.argv[3]), limitmb=int(sys.argv[4]))"
)


@pytest.mark.parametrize(
    ("procs", "limitmb", "wait_for"),
    [
        (1, 1024, BUILD_PREFIX + "*"),  # one batch, killed while it is analysed
        (2, 4, BUILD_PREFIX + "*/readmodel/*.rm"),  # worker processes, killed after a segment is written
    ],
)
def test_sigkill_mid_reindex_keeps_previous_generation(tmp_path, procs, limitmb, wait_for):
    if not SAMPLE.is_file():
        pytest.skip(f"the shared corpus sample is not at {SAMPLE}")
    index_dir = tmp_path / "index"
    before = reindex([CORE], index_dir)
    big = tmp_path / "big.jsonl"
    with open(big, "w", encoding="utf-8") as out:
        for copy in range(4):
            for line in SAMPLE.read_text(encoding="utf-8").splitlines():
                data = json.loads(line)
                out.write(json.dumps(data | {"id": f"{data['id']}-{copy}"}, ensure_ascii=False) + "\n")
    command = [sys.executable, "-c", KILL_SCRIPT, str(big), str(index_dir), str(procs), str(limitmb)]
    process = subprocess.Popen(command, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not list(index_dir.glob(wait_for)):
            assert process.poll() is None, f"the reindex ended before {wait_for} appeared"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.1 if procs > 1 else 0.3)  # let the writer get going
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    stale = list(index_dir.glob(BUILD_PREFIX + "*"))
    assert (live(index_dir), generations(index_dir), len(stale)) == (
        before.generation,
        [before.generation],
        1,
    )
    store = open_store(index_dir)
    try:
        assert (store.doc_count, search(store, SearchRequest(q="hoa binh")).total) == (6, 1)
    finally:
        store.close()
    after = reindex([CORE], index_dir)
    assert (live(index_dir), list(index_dir.glob(BUILD_PREFIX + "*"))) == (after.generation, [])


def test_add_articles_waits_for_the_lock_then_fails(tmp_path):
    reindex([CORE], tmp_path / "index")
    source = write_jsonl(tmp_path / "new.jsonl", [record("n-1", "Bài mới")])
    with write_lock(tmp_path / "index", timeout=0):
        started = time.monotonic()
        with pytest.raises(IndexBusy):
            add_articles([source], tmp_path / "index", timeout=0.3)
        assert time.monotonic() - started >= 0.3
        with pytest.raises(IndexBusy):
            reindex([source], tmp_path / "index")
    add_articles([source], tmp_path / "index", timeout=0.3)
    assert "n-1" in ids_for(tmp_path / "index")


def test_cli_reports_a_busy_index(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    runner = CliRunner(env={"SEARCHSVC_INDEX_LOCK_TIMEOUT": "0.2", "SEARCHSVC_CONFIG": None})
    with write_lock(index_dir, timeout=0):
        added = runner.invoke(main, ["index", "add", str(CORE), "--index-dir", str(index_dir)])
        deleted = runner.invoke(main, ["index", "delete", "core-01", "--index-dir", str(index_dir)])
        rebuilt = runner.invoke(main, ["reindex", str(CORE), "--index-dir", str(index_dir), "--quiet"])
    for result in (added, deleted, rebuilt):
        assert (result.exit_code, result.stdout) == (75, "")
        assert result.stderr.startswith("error: another process is writing to")
        assert "Traceback" not in result.output


def test_index_add_upserts_and_delete_removes(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    update = write_jsonl(
        tmp_path / "update.jsonl",
        [
            record("core-02", "Sân bay mới đổi tên", category="Kinh doanh", source="Báo Hai"),
            record("core-07", "Tàu cao tốc chạy thử", category="Thời sự", source="Báo Bốn"),
        ],
    )
    report = add_articles([update], index_dir)
    assert report.indexed == 2
    store = open_store(index_dir)
    try:
        assert (store.doc_count, store.get_article("core-02")["title"]) == (7, "Sân bay mới đổi tên")
        assert search(store, SearchRequest(q='"chuyến bay đầu tiên"')).total == 0
        assert search(store, SearchRequest(q="tàu cao tốc")).total == 1
    finally:
        store.close()
    assert delete_articles(["core-07", "core-01", "nope"], index_dir) == (["core-07", "core-01"], ["nope"])
    assert ids_for(index_dir) == ["core-02", "core-03", "core-04", "core-05", "core-06"]
    manifest = json.loads((index_dir / live(index_dir) / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["documents"] == 5


def test_store_refresh_sees_new_generation_and_incremental_add(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    store = open_store(index_dir, refresh_interval=0)
    try:
        first = store.generation
        add_articles([write_jsonl(tmp_path / "a.jsonl", [record("a-1", "Tàu cao tốc chạy thử")])], index_dir)
        store.refresh()
        assert (store.generation, store.doc_count, search(store, SearchRequest(q="tau cao toc")).total) == (
            first,
            7,
            1,
        )
        newer = reindex([write_jsonl(tmp_path / "b.jsonl", [record("b-1", "Mưa lớn ở Huế")])], index_dir)
        store.refresh()
        assert (store.generation, store.doc_count, store.stats()["documents"]) == (newer.generation, 1, 1)
        assert [h.id for h in search(store, SearchRequest(q="mua lon")).hits] == ["b-1"]
    finally:
        store.close()


def test_index_of_undated_articles_opens(tmp_path):
    source = write_jsonl(tmp_path / "bare.jsonl", [bare("u-1", "Mưa lớn ở Huế"), bare("u-2", "Nắng nóng")])
    reindex([source], tmp_path / "index")
    assert ids_for(tmp_path / "index", "mua lon") == ["u-1"]


def test_index_add_without_category_or_date_keeps_search_working(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    add_articles([write_jsonl(tmp_path / "bare.jsonl", [bare("u-1", "Tàu cao tốc chạy thử")])], index_dir)
    assert ids_for(index_dir, "tau cao toc") == ["u-1"]
    assert len(ids_for(index_dir)) == 7


def test_store_refreshes_after_each_index_add(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    store = open_store(index_dir, refresh_interval=0)
    totals = []
    for n in range(3):
        add_articles(
            [write_jsonl(tmp_path / f"{n}.jsonl", [record(f"r-{n}", "Tàu cao tốc chạy thử")])], index_dir
        )
        store.refresh()
        totals.append((store.doc_count, search(store, SearchRequest(q="tau cao toc")).total))
    store.close()
    assert totals == [(7, 1), (8, 2), (9, 3)]


def test_configured_article_size_limit_reaches_reindex_and_index_add(tmp_path):
    source = tmp_path / "long.jsonl"
    body = "Mưa lớn ở Huế kéo dài nhiều ngày. " * 400
    source.write_text(json.dumps({"id": "dai", "title": "Huế mưa", "body": body}, ensure_ascii=False) + "\n")
    config = tmp_path / "small.toml"
    config.write_text("[index]\nmax_article_chars = 2000\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    runner = CliRunner()
    for command in (
        ["reindex", "--index-dir", str(index_dir)],
        ["index", "add", "--index-dir", str(index_dir)],
    ):
        result = runner.invoke(main, ["--config", str(config), *command, str(source)])
        assert result.exit_code == 0, result.output
        with open_store(index_dir) as store:
            assert len(store.get_article("dai")["body"]) <= 2000


def _one_article(tmp_path, article_id="moi"):
    source = tmp_path / f"{article_id}.jsonl"
    source.write_text(json.dumps({"id": article_id, "title": "Huế mưa lớn", "body": "Mưa lớn ở Huế."}) + "\n")
    return source


def _files(path):
    # Whoosh's writer leaves its (empty) lock file behind after the first write; it is no leftover.
    return sorted(
        p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() and p.name != "MAIN_WRITELOCK"
    )


def test_a_failed_index_add_leaves_no_files_in_the_live_generation(tmp_path, monkeypatch):
    import errno

    from searchsvc import bulkwriter, indexer

    index_dir = tmp_path / "index"
    reindex([_one_article(tmp_path, "dau")], index_dir)
    live = current_generation(index_dir).path
    before = _files(live)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # The bulk writer (the added articles) and the commit hook (a merge) both write read models.
    monkeypatch.setattr(indexer, "write_model", disk_full)
    monkeypatch.setattr(bulkwriter, "write_model", disk_full)
    with pytest.raises(OSError):
        add_articles([_one_article(tmp_path)], index_dir)
    assert _files(live) == before
    monkeypatch.undo()
    add_articles([_one_article(tmp_path)], index_dir)
    with open_store(index_dir) as store:
        assert store.get_article("moi")["title"] == "Huế mưa lớn"


def test_index_add_refuses_a_generation_with_a_truncated_segment(tmp_path):
    index_dir = tmp_path / "index"
    reindex([_one_article(tmp_path, "dau")], index_dir)
    live = current_generation(index_dir).path
    (segment,) = live.glob("*.seg")
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])
    with pytest.raises(IndexNotReady, match="nothing was added"):
        add_articles([_one_article(tmp_path)], index_dir)
    assert sorted(p.name for p in live.glob("*.seg")) == [segment.name]


# ---------------------------------------------------------------- the lexicon kept current by index add


def completions(store, prefix: str) -> list[str]:
    """Return the autocomplete texts of ``prefix``."""
    return [c.text for c in store.complete(prefix, 8)]


def test_index_add_makes_a_new_name_suggested_and_delete_takes_it_back(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    store = open_store(index_dir, refresh_interval=0)
    try:
        assert completions(store, "khong minh") == []
        news = record("n-1", "Ông Khổng Minh Quyết nhậm chức", summary="Ông Khổng Minh Quyết phát biểu.")
        add_articles([write_jsonl(tmp_path / "n.jsonl", [news])], index_dir)
        store.refresh()
        assert completions(store, "khong minh") == ["Khổng Minh", "Khổng Minh Quyết", "Khổng Minh Quyết nhậm"]
        response = search(store, SearchRequest(q="khong minh quyett"))
        assert response.correction is not None and response.correction.text == "Khổng Minh Quyết"
        # Re-adding the same article counts it once, not twice.
        add_articles([write_jsonl(tmp_path / "n.jsonl", [news])], index_dir)
        store.refresh()
        assert [c.count for c in store.complete("khong minh quyet nham", 8)] == [1]
        delete_articles(["n-1"], index_dir)
        store.refresh()
        assert completions(store, "khong minh") == []
    finally:
        store.close()
    # Two deltas are kept: the live TOC's and the one before.
    assert len(list(current_generation(index_dir).path.glob("lexicon-delta.*.pickle"))) == 2


KILL_ADD_SCRIPT = """
import sys, time
from searchsvc import indexer, lexicon
original = lexicon.record_additions
def save_then_hang(*args):
    original(*args)
    time.sleep(60)  # killed here: the additions are written, the TOC is not
indexer.record_additions = save_then_hang
indexer.add_articles([sys.argv[1]], indexer.Path(sys.argv[2]))
"""


def test_sigkill_mid_index_add_leaves_the_index_and_its_suggestions_as_they_were(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    news = write_jsonl(tmp_path / "n.jsonl", [record("n-1", "Ông Khổng Minh Quyết nhậm chức")])
    process = subprocess.Popen([sys.executable, "-c", KILL_ADD_SCRIPT, str(news), str(index_dir)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not list(current_generation(index_dir).path.glob("lexicon-delta.*.pickle")):
            assert process.poll() is None, "index add ended before writing its lexicon additions"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    store = open_store(index_dir, refresh_interval=0)
    try:
        # The additions of the commit that never happened are not read.
        assert (store.doc_count, completions(store, "khong minh")) == (6, [])
        add_articles([news], index_dir)
        store.refresh()
        assert (store.doc_count, completions(store, "khong minh")[:1]) == (7, ["Khổng Minh"])
    finally:
        store.close()
