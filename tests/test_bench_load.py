"""The load and scaling harnesses run end to end on tiny data and every run yields numbers."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

from bench import load, procmem, scaling
from searchsvc.demo import ARTICLES_PATH, demo_sources
from searchsvc.indexer import reindex

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "corpus" / "sample.jsonl"
QUERIES = ["Hà Nội", "bão số 3", "da nang", "Thủ tướng", "hoà bình", "hòa bình", "giá xăng", "U23 Việt Nam"]
HEAD_QUERIES = ["hà nội", "ha noi", "việt nam", "bóng đá"]
FILTERED = [
    {"q": "Hà Nội", "params": {"category": "Thời sự"}},
    {"q": "thu tuong", "params": {"date_from": "2020-01-01", "date_to": "2025-12-31"}},
]


def write_eval(shared: Path) -> None:
    """Write a small eval set (queries and filtered checks) where --shared will look."""
    (shared / "eval").mkdir(parents=True)
    lines = [json.dumps({"q": q, "kind": "accented", "relevant": []}, ensure_ascii=False) for q in QUERIES]
    (shared / "eval" / "queries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [json.dumps(c, ensure_ascii=False) for c in FILTERED]
    (shared / "eval" / "counts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [json.dumps({"q": q}, ensure_ascii=False) for q in HEAD_QUERIES]
    (shared / "eval" / "head_queries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_scenario(tmp_path: Path, index_dir: Path, *options: str) -> dict:
    """Run one load scenario on an index with the small eval set; return its raw JSON."""
    shared, raw = tmp_path / "shared", tmp_path / "scenario.json"
    write_eval(shared)
    common = ["--index-dir", str(index_dir), "--shared", str(shared), "--warmup", "10"]
    code = load.main([*common, *options, "--out", str(tmp_path / "load.md"), "--json", str(raw)])
    assert code == 0
    assert "## HTTP load test, scenario" in (tmp_path / "load.md").read_text(encoding="utf-8")
    return json.loads(raw.read_text(encoding="utf-8"))


def assert_server_memory(memory: list[dict], workers: int) -> None:
    """Check the memory split names the master and every worker, with positive sizes."""
    assert sorted(m["role"] for m in memory) == ["master"] + ["worker"] * workers
    for split in memory:
        assert split["rss_mb"] > 0
        assert split["pss_mb"] > 0
        assert split["anonymous_mb"] > 0
        assert split["private_mb"] == pytest.approx(
            split["private_clean_mb"] + split["private_dirty_mb"], abs=0.2
        )


def snapshot(directory: Path) -> dict[str, int]:
    """Return every file under a directory with its size."""
    return {str(p.relative_to(directory)): p.stat().st_size for p in directory.rglob("*") if p.is_file()}


def test_load_run_answers_every_request_of_the_demo_index(tmp_path: Path) -> None:
    index_dir, shared, raw = tmp_path / "index", tmp_path / "shared", tmp_path / "load.json"
    reindex([str(p) for p in demo_sources()], index_dir)
    write_eval(shared)
    code = load.main(
        [
            "--index-dir", str(index_dir),
            "--shared", str(shared),
            "--workers", "2",
            "--concurrency", "4",
            "--requests", "100",
            "--warmup", "10",
            "--filtered-share", "0.25",
            "--max-seconds", "120",
            "--out", str(tmp_path / "load.md"),
            "--json", str(raw),
        ]
    )  # fmt: skip
    assert code == 0
    (run,) = json.loads(raw.read_text(encoding="utf-8"))["runs"]
    assert (run["sent"], run["planned"], run["errors"], run["exit_code"]) == (100, 100, {}, 0)
    assert run["latency"]["n"] == 100
    assert run["took"]["n"] == 100
    assert set(run["kinds"]) == {"query", "filtered"}
    assert run["requests_per_s"] > 0
    assert run["mean_ms"] > 0
    assert run["server_cpu_ms"] > 0
    assert run["client_cpu_ms"] > 0
    assert run["rss"]["master_mb"] > 0
    assert run["rss"]["workers_sum_mb"] > 0
    assert run["rss"]["workers_seen"] == 2
    assert_server_memory(run["memory"], workers=2)
    assert "## HTTP load test" in (tmp_path / "load.md").read_text(encoding="utf-8")


def test_publish_scenario_measures_how_soon_each_added_article_is_found(
    tmp_path: Path, demo_index_dir: Path
) -> None:
    before = snapshot(demo_index_dir)
    options = ["--scenario", "publish", "--duration", "3", "--publish-every", "1.5"]
    raw = run_scenario(tmp_path, demo_index_dir, *options, "--publish-source", str(ARTICLES_PATH))
    result = raw["scenario"]
    assert (result["scenario"], result["workers"], result["clients"], result["exit_code"]) == (
        "publish",
        2,
        8,
        0,
    )
    assert [p["name"] for p in result["phases"]] == ["baseline", "publishing"]
    for phase in result["phases"]:
        assert phase["sent"] > 0
        assert phase["latency"]["n"] == phase["sent"]
        assert phase["errors"] == {}
        assert set(phase["kinds"]) == {"head", "tail"}
    publish = result["publish"]
    assert 1 <= publish["adds"] <= 2
    assert (publish["visible"], publish["failures"]) == (publish["adds"], 0)
    for added in publish["publications"]:
        assert added["error"] is None
        assert added["visible_s"] >= 0
        assert added["polls"] >= 1
        assert added["marker"] in added["id"]
    assert publish["visible_max_s"] == max(p["visible_s"] for p in publish["publications"])
    assert publish["visible_p50_s"] is not None
    assert publish["p99_ratio"] > 0
    assert publish["publishing_max_ms"] == result["phases"][1]["max_ms"]
    assert_server_memory(result["memory"], workers=2)
    assert raw["meta"]["git_commit"]
    assert len(raw["meta"]["load_at_start"]) == 3
    assert snapshot(demo_index_dir) == before  # the scenario added to a copy


def test_mixed_scenario_sends_head_and_rare_queries(tmp_path: Path, demo_index_dir: Path) -> None:
    raw = run_scenario(
        tmp_path, demo_index_dir, "--scenario", "mixed", "--duration", "1.5", "--concurrency", "4"
    )
    result = raw["scenario"]
    (phase,) = result["phases"]
    assert (result["scenario"], result["clients"], result["exit_code"], phase["errors"]) == (
        "mixed",
        4,
        0,
        {},
    )
    assert phase["sent"] == phase["latency"]["n"] > 0
    assert phase["kinds"]["head"] > 0
    assert phase["kinds"]["tail"] > 0
    assert phase["requests_per_s"] > 0
    assert result["publish"] is None
    assert_server_memory(result["memory"], workers=2)


def test_sequential_cold_scenario_counts_every_request_from_the_first(
    tmp_path: Path, demo_index_dir: Path
) -> None:
    raw = run_scenario(
        tmp_path, demo_index_dir, "--scenario", "sequential-cold", "--sequential-queries", "11"
    )
    result = raw["scenario"]
    (phase,) = result["phases"]
    assert (result["clients"], phase["sent"], phase["errors"], phase["kinds"]) == (
        1,
        11,
        {},
        {"head": 6, "tail": 5},
    )
    assert phase["latency"]["n"] == 11
    assert phase["first_ms"] > 0
    assert phase["max_ms"] >= phase["first_ms"]
    assert_server_memory(result["memory"], workers=2)


def test_a_scenario_runs_one_server() -> None:
    with pytest.raises(load.LoadError):
        load.single_value("2,3", "--workers")


def test_interleave_alternates_and_cycles_the_shorter_list() -> None:
    head = [load.Call("/h0", "head"), load.Call("/h1", "head")]
    tail = [load.Call(f"/t{i}", "tail") for i in range(3)]
    assert [c.path for c in load.interleave(head, tail)] == ["/h0", "/t0", "/h1", "/t1", "/h0", "/t2"]


def test_spread_picks_evenly_across_the_list() -> None:
    calls = [load.Call(f"/q{i}", "tail") for i in range(10)]
    assert [c.path for c in load.spread(calls, 3)] == ["/q0", "/q3", "/q6"]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'{"hits": [{"id": "a"}, {"id": "b~pub0-x"}]}', True),
        (b'{"hits": [{"id": "a"}]}', False),
        (b'{"error": {"code": "x", "message": "y"}}', False),
        (b"not json", False),
    ],
)
def test_has_hit_reads_the_ids_of_a_search_response(body: bytes, found: bool) -> None:
    assert load.has_hit(body, "b~pub0-x") == found


def test_memory_split_of_this_process() -> None:
    split = procmem.memory_split(os.getpid(), "test")
    assert split is not None
    assert (split.pid, split.role) == (os.getpid(), "test")
    assert split.rss_mb > 0
    assert 0 < split.pss_mb <= split.rss_mb + 0.1
    assert split.anonymous_mb > 0
    assert split.private_mb == pytest.approx(split.private_clean_mb + split.private_dirty_mb, abs=0.2)
    assert split.rss_mb == pytest.approx(
        split.private_mb + split.shared_clean_mb + split.shared_dirty_mb, abs=0.3
    )
    assert len(split.row()) == len(procmem.HEADER)


def test_memory_split_of_a_finished_process_is_none() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert procmem.memory_split(child.pid) is None


def test_mix_calls_puts_one_filtered_call_after_every_few_plain_ones() -> None:
    plain = [load.Call(f"/q{i}", "query") for i in range(6)]
    filtered = [load.Call("/f", "filtered")]
    kinds = [c.kind for c in load.mix_calls(plain + filtered, 0.25)]
    assert kinds == ["query"] * 3 + ["filtered"] + ["query"] * 3 + ["filtered"]


def test_search_call_encodes_vietnamese_queries_and_filters() -> None:
    call = load.search_call("Đà Nẵng", {"category": "Thời sự"}, "filtered")
    assert call.path == (
        "/api/search?q=%C4%90%C3%A0+N%E1%BA%B5ng&per_page=10&category=Th%E1%BB%9Di+s%E1%BB%B1"
    )


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.10", "8.8.8.8"])
def test_only_loopback_targets_are_allowed(host: str) -> None:
    with pytest.raises(load.LoadError):
        load.require_loopback(host)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10000", scaling.Size("10000", count=10000)),
        ("all", scaling.Size("all")),
        ("4x", scaling.Size("4x", copies=4)),
        (" ALL ", scaling.Size("all")),
    ],
)
def test_parse_size(text: str, size: scaling.Size) -> None:
    assert scaling.parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "x", "-3", "0x", "many"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(scaling.ScalingError):
        scaling.parse_size(text)


def test_replica_gets_a_fresh_id_an_earlier_date_and_keeps_the_title() -> None:
    record = {"id": "dt-1", "title": "Đà Nẵng đón bão số 3", "published": "2024-02-29T08:30:00+07:00"}
    assert json.loads(scaling.replica(json.dumps(record, ensure_ascii=False), 2)) == {
        "id": "dt-1~r2",
        "title": "Đà Nẵng đón bão số 3",
        "published": "2022-02-28T08:30:00+07:00",
    }


def test_replica_keeps_a_missing_date_missing() -> None:
    line = json.dumps({"id": "dt-1", "published": None})
    assert json.loads(scaling.replica(line, 3)) == {"id": "dt-1~r3", "published": None}


@pytest.mark.parametrize(
    ("stamp", "years", "shifted"),
    [
        ("2020-03-14T18:22:11+07:00", 1, "2019-03-14T18:22:11+07:00"),
        ("2024-09-07", 9, "2015-09-07"),
        ("2024-02-29", 4, "2020-02-29"),
        ("2024-02-29T00:00:00Z", 1, "2023-02-28T00:00:00Z"),
        ("hôm qua", 1, "hôm qua"),
    ],
)
def test_years_back(stamp: str, years: int, shifted: str) -> None:
    assert scaling.years_back(stamp, years) == shifted


@pytest.mark.corpus
def test_scaling_run_measures_each_size(tmp_path: Path) -> None:
    if not SAMPLE.exists():
        pytest.skip(f"the shared sample corpus is not at {SAMPLE} (scaling slices it)")
    shared = tmp_path / "shared"
    write_eval(shared)
    raw = tmp_path / "scaling.json"
    code = scaling.main(
        [
            "--sizes", "200,400",
            "--corpus", str(SAMPLE),
            "--queries", str(shared / "eval" / "queries.jsonl"),
            "--workdir", str(tmp_path / "work"),
            "--out", str(tmp_path / "scaling.md"),
            "--json", str(raw),
        ]
    )  # fmt: skip
    assert code == 0
    sizes = json.loads(raw.read_text(encoding="utf-8"))["sizes"]
    assert [(s["label"], s["docs"], s["queries"], s["errors"]) for s in sizes] == [
        ("200", 200, len(QUERIES), 0),
        ("400", 400, len(QUERIES), 0),
    ]
    for size in sizes:
        assert size["build_s"] > 0
        assert size["size_mb"] > 0
        assert size["latency"]["n"] == len(QUERIES)
        assert size["search_rss_mb"] > 0
        memory = size["search_memory"]
        assert (memory["role"], memory["rss_mb"] > 0, memory["anonymous_mb"] > 0) == ("search", True, True)
    assert "## Scaling with corpus size" in (tmp_path / "scaling.md").read_text(encoding="utf-8")


def test_write_slice_replicates_with_fresh_ids(tmp_path: Path) -> None:
    source = tmp_path / "src.jsonl"
    rows = [{"id": f"a{i}", "title": f"Hà Nội {i}"} for i in range(3)]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert scaling.write_slice(source, scaling.Size("2x", copies=2), target) == 6
    ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert ids == ["a0", "a1", "a2", "a0~r1", "a1~r1", "a2~r1"]


def test_write_archive_streams_gzip_copies_with_dates_years_back(tmp_path: Path) -> None:
    source = tmp_path / "src.jsonl"
    rows = [{"id": "a0", "published": "2021-05-01T07:00:00+07:00"}, {"id": "a1", "published": None}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    target = tmp_path / "out" / "archive.jsonl.gz"
    assert scaling.main(["--write-archive", str(target), "--copies", "3", "--corpus", str(source)]) == 0
    with gzip.open(target, "rt", encoding="utf-8") as lines:
        written = [(r["id"], r["published"]) for r in map(json.loads, lines)]
    assert written == [
        ("a0", "2021-05-01T07:00:00+07:00"),
        ("a1", None),
        ("a0~r1", "2020-05-01T07:00:00+07:00"),
        ("a1~r1", None),
        ("a0~r2", "2019-05-01T07:00:00+07:00"),
        ("a1~r2", None),
    ]


def test_write_archive_refuses_the_repository(tmp_path: Path) -> None:
    source = tmp_path / "src.jsonl"
    source.write_text('{"id": "a0"}\n', encoding="utf-8")
    target = scaling.REPO_ROOT / "bench" / "archive-test.jsonl.gz"
    assert scaling.main(["--write-archive", str(target), "--copies", "2", "--corpus", str(source)]) == 2
    assert not target.exists()


def test_growth_sizes_are_the_issue_8_curve() -> None:
    sizes = [scaling.parse_size(s) for s in scaling.GROWTH_SIZES.split(",")]
    assert [(s.count, s.copies) for s in sizes] == [(10000, 1), (None, 1), (None, 4), (None, 10)]
