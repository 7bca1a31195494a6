"""The OpenSearch index definition mirrors the Whoosh schema and is committed as generated."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from searchsvc.analysis import EXACT, FOLDED
from searchsvc.article import Article
from searchsvc.opensearch.mapping import (
    TEXT_FIELDS,
    creation_body,
    definition,
    definition_path,
    definition_text,
    index_text,
    os_field,
    to_os_document,
)
from searchsvc.schema import SCHEMA_VERSION, build_schema
from searchsvc.text import _TO_FIRST, _TO_SECOND


def test_committed_definition_equals_the_generated_one():
    path = definition_path()
    assert path.name == f"index-v{SCHEMA_VERSION}.json"
    assert path.read_text(encoding="utf-8") == definition_text()
    assert json.loads(path.read_text(encoding="utf-8")) == definition()


def test_every_whoosh_field_has_an_opensearch_field_of_the_same_name():
    names = set(build_schema().names())
    properties = definition()["mappings"]["properties"]
    # url and tags are stored only in Whoosh: here they live in "stored".
    assert {os_field(n) for n in names - {"url", "tags"}} <= set(properties)
    assert set(properties) - names == {"stored"}
    for name in TEXT_FIELDS:
        expected = "vi_exact" if name.endswith("_x") else "vi_folded"
        assert properties[name] == {"type": "text", "analyzer": expected}


def test_unknown_field_is_refused():
    with pytest.raises(KeyError):
        os_field("nope")


def test_tone_filters_hold_the_tables_of_normalize():
    char_filters = definition()["settings"]["analysis"]["char_filter"]
    rules = char_filters["vi_tone_move"]["mappings"]
    assert len(rules) == len(_TO_FIRST) + len(_TO_SECOND) == 120
    assert "oà\ufdd2 => òa" in rules and "òa\ufdd3 => oà" in rules


def test_creation_body_carries_meta_and_replicas():
    body = creation_body("gen-20261207T000000Z", "2026-12-07T00:00:00+00:00", replicas=1)
    assert body["mappings"]["_meta"] == {
        "schema_version": SCHEMA_VERSION,
        "generation": "gen-20261207T000000Z",
        "created": "2026-12-07T00:00:00+00:00",
    }
    assert body["settings"]["index"]["number_of_replicas"] == 1
    assert definition()["mappings"]["_meta"] == {"schema_version": SCHEMA_VERSION}


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("Hà Nội hoà bình", EXACT, "Hà Nội hoà bình"),
        ("Hà Nội hoà bình", FOLDED, "Hà Nội hoà bình"),
        ("COVID-19, 2.000 người", EXACT, "COVID-19, 2.000 người"),
        ("Путин ở Hà Nội", FOLDED, "\ufdd0putin\ufdd1 ở Hà Nội"),
        ("Путин ở Hà Nội", EXACT, "\ufdd0путин\ufdd1 ở Hà Nội"),
        ("İstanbul", FOLDED, "İstanbul"),
        ("İstanbul", EXACT, "\ufdd0i\u0307stanbul\ufdd1"),
        ("x\u0301 y", FOLDED, "x\u0301 y"),
        ("x\u0301 y", EXACT, "\ufdd0x\u0301\ufdd1 y"),
        ("中国 ½", FOLDED, "\ufdd0zhongguo\ufdd1 \ufdd012\ufdd1"),
        ("a\ufdd0b", EXACT, "a b"),
    ],
)
def test_index_text_protects_what_opensearch_analyses_otherwise(text, form, expected):
    assert index_text(text, form) == expected


def test_document_has_analysed_copies_keys_dates_and_stored_values():
    article = Article(
        id="a1",
        title="Hoà  Bình",
        body="Thân bài &amp; 2.000",
        url="https://x.example/a1",
        summary="Tóm tắt",
        author="Trần Văn A",
        published=datetime(2024, 3, 1, 20, 30, tzinfo=UTC),
        category="Thời sự",
        source="Tuổi Trẻ",
        tags=("Bão, lũ", "Miền Trung"),
    )
    doc = to_os_document(article)
    assert doc == {
        "id": "a1",
        "title": "Hoà  Bình",
        "title_x": "Hoà  Bình",
        "summary": "Tóm tắt",
        "summary_x": "Tóm tắt",
        "body": "Thân bài & 2.000",
        "body_x": "Thân bài & 2.000",
        "author": "Trần Văn A",
        "author_x": "Trần Văn A",
        "author_key": "tran van a",
        "category": "Thời sự",
        "category_key": "thoi su",
        "source": "Tuổi Trẻ",
        "source_key": "tuoi tre",
        "tag_key": ["bao  lu", "mien trung"],
        "published": "2024-03-01T20:30:00+00:00",
        "published_ts": 1709325000,
        "day": 20240302,
        "month": "2024-03",
        "stored": {
            "id": "a1",
            "url": "https://x.example/a1",
            "title": "Hoà  Bình",
            "summary": "Tóm tắt",
            "body": "Thân bài & 2.000",
            "author": "Trần Văn A",
            "category": "Thời sự",
            "source": "Tuổi Trẻ",
            "tags": ["Bão, lũ", "Miền Trung"],
            "published": "2024-03-01T20:30:00+00:00",
        },
    }
