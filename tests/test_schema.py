"""Schema: the fast SyllableText indexing path equals Whoosh's analyzer path; documents from articles."""

from __future__ import annotations

import pickle
import unicodedata
from datetime import UTC, datetime

import pytest
from whoosh import fields

from searchsvc.article import Article
from searchsvc.dates import VIETNAM_TZ
from searchsvc.schema import (
    SCHEMA_VERSION,
    SyllableText,
    build_schema,
    check_field_formats,
    facet_key,
    to_document,
)

TEXTS = [
    "Hà Nội, 2.000 người",
    "Thủ tướng Hoà Bình đến Đà Nẵng ngày 12/7; thủ tướng Hòa Bình về Hà Nội",
    unicodedata.normalize("NFD", "Thực phẩm chứa hoá chất bảo quản ảnh hưởng thế nào đến sức khoẻ"),
    "COVID-19 tại TP.HCM; U23 thắng 3-3 trên sân 5G, 5G, 5G",
    "HÀ NỘI - THÀNH PHỐ VÌ HÒA BÌNH; hà nội, Hà Nội",
    "800.000\u00a0tấn gạo; Bộ TT&TT; 北京 Straße",
    "!!!",
]
FAST_FIELDS = ["title", "title_x", "summary", "summary_x", "body", "body_x", "author", "author_x"]


def generic_index(field: SyllableText, value: str) -> list[tuple[bytes, int, float, bytes]]:
    """Index ``value`` through Whoosh's generic analyzer path of the field's format."""
    return sorted(fields.TEXT.index(field, value))


@pytest.mark.parametrize("name", FAST_FIELDS)
@pytest.mark.parametrize("text", TEXTS)
def test_fast_index_path_equals_whoosh(name, text):
    field = build_schema()[name]
    assert sorted(field.index(text)) == generic_index(field, text)


@pytest.mark.parametrize("text", TEXTS)
def test_fast_path_equals_word_values(text):
    field = build_schema()["body"]
    expected = sorted(
        (w.encode("utf-8"), freq, weight, value)
        for w, freq, weight, value in field.format.word_values(text, field.analyzer, mode="index")
    )
    assert sorted(field.index(text)) == expected


def test_fast_path_positions_decode():
    field = build_schema()["title"]
    found = {
        term.decode(): field.format.decode_positions(value) for term, _, _, value in field.index(TEXTS[1])
    }
    assert (found["thu"], found["hoa"], found["ha"]) == ([0, 10], [2, 12], [15])


def test_field_formats():
    schema = build_schema()
    check_field_formats(schema)
    assert [n for n in schema.names() if isinstance(schema[n], SyllableText)] == sorted(FAST_FIELDS)


def test_schema_pickles():
    schema = build_schema()
    again = pickle.loads(pickle.dumps(schema))
    assert again.names() == schema.names()
    assert [t.text for t in again["title"].analyzer("Hoà Bình")] == ["hoa", "binh"]


def test_schema_version_is_an_int():
    assert isinstance(SCHEMA_VERSION, int)


@pytest.mark.parametrize(
    ("value", "key"),
    [("Thể thao", "the thao"), ("THỂ  THAO ", "the thao"), ("Người Lao Động", "nguoi lao dong"), ("", "")],
)
def test_facet_key(value, key):
    assert facet_key(value) == key


def test_to_document():
    article = Article(
        id="a-1",
        title="Hoà bình cho Đà\u00a0Nẵng",
        body="Bộ TT&amp;TT họp.",
        url="https://a.example/1",
        summary=unicodedata.normalize("NFD", "Tóm tắt"),
        author="NGỌC ÁNH",
        published=datetime(2024, 1, 31, 20, 0, tzinfo=UTC),
        category="Thời sự",
        source="Tuổi Trẻ",
        tags=("Hà Nội", "bão, lũ", " "),
    )
    assert to_document(article) == {
        "id": "a-1",
        "url": "https://a.example/1",
        "title": "Hoà bình cho Đà Nẵng",
        "title_x": "Hoà bình cho Đà Nẵng",
        "summary": "Tóm tắt",
        "summary_x": "Tóm tắt",
        "body": "Bộ TT&TT họp.",
        "body_x": "Bộ TT&TT họp.",
        "author": "NGỌC ÁNH",
        "author_x": "NGỌC ÁNH",
        "author_key": "ngoc anh",
        "category": "Thời sự",
        "category_key": "thoi su",
        "source": "Tuổi Trẻ",
        "source_key": "tuoi tre",
        "tags": ["Hà Nội", "bão, lũ"],
        "tag_key": "ha noi,bao  lu",
        "published": "2024-01-31T20:00:00+00:00",
        "published_ts": 1706731200,
        # 20:00 UTC is already the next day in Vietnam.
        "day": 20240201,
        "month": "2024-02",
    }


def test_to_document_without_optional_fields():
    article = Article(
        id="b",
        title="T",
        body="B",
        url=None,
        summary=None,
        author=None,
        published=None,
        category="",
        source="",
        tags=(),
    )
    assert to_document(article) == {"id": "b", "title": "T", "title_x": "T", "body": "B", "body_x": "B"}


def test_naive_date_is_vietnam_time():
    article = Article("c", "T", "B", None, None, None, datetime(2024, 1, 1, 0, 30), "", "", ())
    doc = to_document(article)
    assert (doc["published"], doc["day"]) == (
        datetime(2024, 1, 1, 0, 30, tzinfo=VIETNAM_TZ).isoformat(),
        20240101,
    )
