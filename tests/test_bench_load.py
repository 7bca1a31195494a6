"""The load and scaling harnesses run end to end on tiny data and every run yields numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import load, scaling
from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "corpus" / "sample.jsonl"
QUERIES = ["Hà Nội", "bão số 3", "da nang", "Thủ tướng", "hoà bình", "hòa bình", "giá xăng", "U23 Việt Nam"]
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
    assert "## HTTP load test" in (tmp_path / "load.md").read_text(encoding="utf-8")


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


def test_replica_gets_a_fresh_id_and_keeps_the_title() -> None:
    line = json.dumps({"id": "dt-1", "title": "Đà Nẵng đón bão số 3"}, ensure_ascii=False)
    assert json.loads(scaling.replica(line, 2)) == {"id": "dt-1~r2", "title": "Đà Nẵng đón bão số 3"}


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
    assert "## Scaling with corpus size" in (tmp_path / "scaling.md").read_text(encoding="utf-8")


def test_write_slice_replicates_with_fresh_ids(tmp_path: Path) -> None:
    source = tmp_path / "src.jsonl"
    rows = [{"id": f"a{i}", "title": f"Hà Nội {i}"} for i in range(3)]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert scaling.write_slice(source, scaling.Size("2x", copies=2), target) == 6
    ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert ids == ["a0", "a1", "a2", "a0~r2", "a1~r2", "a2~r2"]
