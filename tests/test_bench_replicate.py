"""bench.replicate: a K-times archive from segment copies, dates moved back per copy."""

from __future__ import annotations

from pathlib import Path

from bench.replicate import _shift_day, _shift_month, replicate
from searchsvc.search import SearchRequest, search
from searchsvc.store import open_store


def test_replicated_archive_holds_k_copies_with_dates_spread(demo_index_dir: Path, tmp_path: Path) -> None:
    report = replicate(demo_index_dir, 3, tmp_path / "x3", procs=1)
    with open_store(demo_index_dir) as one, open_store(tmp_path / "x3") as three:
        assert report["documents"] == three.doc_count == 3 * one.doc_count
        single = search(one, SearchRequest(q="ha noi"))
        tripled = search(three, SearchRequest(q="ha noi"))
        assert tripled.total == 3 * single.total
        newest = max(int(f.value) for f in single.facets["year"])
        years = {int(f.value) for f in tripled.facets["year"]}
        assert {newest, newest - 1, newest - 2} <= years


def test_shifting_dates_back() -> None:
    assert _shift_day(20240229, 1) == 20230228
    assert _shift_day(0, 3) == 0
    assert _shift_month("2024-11", 2) == "2022-11"
    assert _shift_month(b"", 2) == b""
