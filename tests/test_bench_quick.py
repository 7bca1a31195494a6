"""The benchmark harness runs end to end on a tiny slice and every engine yields numbers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.corpus import article_tokens, exact, fold, ground_tokens, matches, query_terms
from bench.engines.base import split_query
from bench.engines.sqlite_fts5 import fts5_query

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BASELINES = {
    "whoosh-default": "whoosh",
    "whoosh-accent": "whoosh",
    "sqlite-fts5": "sqlite3",
    "tantivy": "tantivy",
}


@pytest.mark.parametrize(
    ("token", "folded"),
    [
        ("Đà", "da"),
        ("đối", "doi"),
        ("hoà", "hoa"),
        ("hòa", "hoa"),
        ("NGƯỜI", "nguoi"),
        ("Ho\u0300a", "hoa"),
        ("VÐV", "vdv"),
    ],
)
def test_fold_matches_the_ground_truth(token: str, folded: str) -> None:
    assert fold(token) == folded


def test_ground_tokens_are_letter_runs() -> None:
    assert ground_tokens("Thủ tướng, TP.HCM năm 2024: Đà Nẵng") == [
        "thu",
        "tuong",
        "tp",
        "hcm",
        "nam",
        "da",
        "nang",
    ]


def test_phrase_matches_adjacent_words_within_one_field() -> None:
    fields = [article_tokens("Bão số 3 đổ bộ Đà Nẵng"), article_tokens("Hà Nội mưa to")]
    assert matches(fields, *query_terms('"da nang"')) is True
    assert matches(fields, *query_terms('"nang ha"')) is False
    assert matches(fields, *query_terms("nang ha")) is True


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("bao", True),  # typed without marks: every accent form
        ("bão", True),
        ("BÃO", True),
        ("báo", False),
        ('"đà nẵng"', True),
        ('"đà nang"', True),
        ('"da nẵng"', True),
        ('"đá nẵng"', False),
        ("hoà", True),  # old tone placement of hòa
        ("hoà bão", True),
    ],
)
def test_marked_query_words_match_their_own_marks(query: str, found: bool) -> None:
    fields = [article_tokens("Bão số 3 đổ bộ Đà Nẵng"), article_tokens("Hòa bình")]
    assert matches(fields, *query_terms(query)) is found


def test_exact_form_unifies_tone_placement_only() -> None:
    assert exact("HOÀ") == exact("hòa") == exact("ho\u0300a")
    assert exact("thuý") == exact("thúy")
    assert exact("quý") != exact("qúy")
    assert exact("bão") != exact("báo")


def test_split_query_keeps_quoted_phrases() -> None:
    assert split_query('giá vàng "Hà Nội" hôm nay') == [
        ("giá",),
        ("vàng",),
        ("Hà", "Nội"),
        ("hôm",),
        ("nay",),
    ]


def test_fts5_query_quotes_every_part() -> None:
    assert fts5_query('covid-19 "đà nẵng" a"b') == '"covid-19" "đà nẵng" "a""b"'


@pytest.mark.corpus
def test_quick_run_produces_numbers_for_every_available_engine(tmp_path: Path) -> None:
    if not (SHARED / "corpus" / "articles.jsonl.gz").exists():
        pytest.skip(f"shared corpus not found at {SHARED}/corpus (bench needs ../shared)")
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    code = main(
        [
            "--quick",
            "--limit", "300",
            "--max-targets", "8",
            "--shared", str(SHARED),
            "--workdir", str(tmp_path / "work"),
            "--out", str(out),
            "--json", str(raw),
        ]
    )  # fmt: skip
    assert code == 0
    run = json.loads(raw.read_text(encoding="utf-8"))
    assert out.read_text(encoding="utf-8").startswith("# Search engine benchmark")
    engines = {e["name"]: e for e in run["engines"]}
    assert set(engines) == {"searchsvc", *BASELINES}
    for name, module in BASELINES.items():
        if importlib.util.find_spec(module) is not None:
            assert engines[name]["status"] == "ok", engines[name].get("reason")
    queries, checks = run["meta"]["queries"], run["meta"]["count_checks"]
    for engine in engines.values():
        assert engine["status"] in ("ok", "not available"), engine.get("reason")
        if engine["status"] != "ok":
            continue
        assert engine["build_s"] > 0
        assert engine["size_mb"] > 0
        assert len(engine["latency_plain_ms"]) == queries
        assert len(engine["latency_facets_ms"]) == queries + checks
        assert engine["relevance"]["all"]["n"] == queries
        assert sum(row["n"] for kind, row in engine["relevance"].items() if kind != "all") == queries
        assert set(engine["counts"]) == {"count", "count_filtered", "phrase_count"}
