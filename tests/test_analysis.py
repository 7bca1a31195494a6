"""Whoosh analyzers: syllable tokens, both term forms, and offsets valid in the stored text."""

from __future__ import annotations

import unicodedata

import pytest

from searchsvc.analysis import EXACT, FOLDED, FormFilter, SyllableTokenizer, exact_analyzer, folded_analyzer

TEXTS = [
    "Hà Nội, 2.000 người",
    "Thủ tướng Hoà Bình đến Đà Nẵng ngày 12/7",
    unicodedata.normalize("NFD", "Sức khoẻ: hoá chất bảo quản"),
    "COVID-19 tại TP.HCM; U23 thắng 3-3 trên sân 5G",
    "800.000\u00a0tấn gạo, Bộ TT&TT",
    "",
]


def test_tokenizer_texts():
    assert [t.text for t in SyllableTokenizer()("Hà Nội, 2.000 người")] == ["Hà", "Nội", "2000", "người"]


@pytest.mark.parametrize(
    ("analyzer", "expected"),
    [
        (exact_analyzer(), ["thủ", "tướng", "hòa", "bình", "đến", "đà", "nẵng", "ngày", "12", "7"]),
        (folded_analyzer(), ["thu", "tuong", "hoa", "binh", "den", "da", "nang", "ngay", "12", "7"]),
    ],
)
def test_analyzer_forms(analyzer, expected):
    assert [t.text for t in analyzer("Thủ tướng Hoà Bình đến Đà Nẵng ngày 12/7")] == expected


def test_form_filter_by_name():
    tokens = SyllableTokenizer()(unicodedata.normalize("NFD", "ĐỐI NGOẠI Khoẻ"))
    assert [t.text for t in FormFilter(FOLDED)(tokens)] == ["doi", "ngoai", "khoe"]
    tokens = SyllableTokenizer()(unicodedata.normalize("NFD", "ĐỐI NGOẠI Khoẻ"))
    assert [t.text for t in FormFilter(EXACT)(tokens)] == ["đối", "ngoại", "khỏe"]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_slice_the_stored_text(text):
    tokens = [
        (t.pos, t.startchar, t.endchar, t.original)
        for t in SyllableTokenizer()(text, positions=True, chars=True, keeporiginal=True)
    ]
    assert [pos for pos, _, _, _ in tokens] == list(range(len(tokens)))
    # Digit groups drop their separators; everything else is the stored text itself.
    assert [text[s:e].replace(".", "") for _, s, e, _ in tokens] == [orig for _, _, _, orig in tokens]


def test_offsets_start_at_start_char():
    tokens = SyllableTokenizer()("Hà Nội", positions=True, chars=True, start_pos=5, start_char=100)
    assert [(t.pos, t.startchar, t.endchar) for t in tokens] == [(5, 100, 102), (6, 103, 106)]


def test_untokenized_value_is_one_token():
    tokens = SyllableTokenizer()("Thể thao", tokenize=False, positions=True, chars=True)
    assert [(t.text, t.pos, t.startchar, t.endchar) for t in tokens] == [("Thể thao", 0, 0, 8)]


def test_analyzers_are_equal_when_built_twice():
    assert (exact_analyzer() == exact_analyzer(), folded_analyzer() == folded_analyzer()) == (True, True)
