"""The query parser: clauses, filters and degrading malformed syntax to words."""

from __future__ import annotations

import unicodedata

import pytest

from searchsvc.query import Clause, Syllable, parse_query


@pytest.mark.parametrize(
    ("q", "clauses", "filters"),
    [
        ("hà nội", ["hà", "nội"], {}),
        ("Hoà bình", ["Hòa", "bình"], {}),
        (unicodedata.normalize("NFD", "Hoà"), ["Hòa"], {}),
        ('"thông tin đối ngoại" -bão', ['"thông tin đối ngoại"', "-bão"], {}),
        ('-"hà nội" x', ['-"hà nội"', "x"], {}),
        ("bão OR lũ OR mưa", ["bão OR lũ OR mưa"], {}),
        ("a OR -b", ["a", "-b"], {}),
        ("OR a", ["a"], {}),
        ("a OR", ["a"], {}),
        ('title:"Thủ tướng" author:ngọc', ['title:"Thủ tướng"', "author:ngọc"], {}),
        ('category:the-thao source:"Dân trí" x', ["x"], {"category": ("the thao",), "source": ("Dân trí",)}),
        ("-category:the-thao y", ["y"], {}),
        ("covi*", ["covi*"], {}),
        ("COVID-19", ['"COVID 19"'], {}),
        ("http://a.example", ['"http a example"'], {}),
        ("((hà nội) bão", ["hà", "nội", "bão"], {}),
        ('"không đóng', ['"không đóng"'], {}),
        ("-", [], {}),
        ("OR", [], {}),
        ("a\x00b\x1fc", ["a", "b", "c"], {}),
        ("", [], {}),
    ],
)
def test_parse(q, clauses, filters):
    parsed = parse_query(q)
    assert ([c.text() for c in parsed.clauses], parsed.filters, parsed.truncated) == (clauses, filters, False)


def test_clause_structure():
    assert parse_query("-title:Hoà").clauses == (
        Clause((Syllable("Hòa", "hòa", "hoa"),), field="title", negated=True, words=("Hòa",)),
    )


def test_truncation_by_characters_and_terms():
    long = parse_query("hà nội " * 200, max_chars=500)
    assert (long.truncated, len(long.text) <= 500, long.text.endswith(("hà", "nội"))) == (True, True, True)
    many = parse_query(" ".join(["a"] * 40), max_terms=32)
    assert (many.truncated, len(many.clauses)) == (True, 32)


@pytest.mark.parametrize(
    ("q", "accented"), [("ha noi", False), ("hà nội", True), ("HA NOI", False), ("ĐA", True)]
)
def test_accented(q, accented):
    assert parse_query(q).accented == accented


@pytest.mark.parametrize(
    ("q", "phrases"),
    [
        ('bão "Hà Nội"', ['"Hà Nội"']),
        ('"Hà Nội" bão', ['"Hà Nội"']),
        ('x "thông tin đối ngoại" y', ['"thông tin đối ngoại"']),
    ],
)
def test_a_phrase_is_a_phrase_wherever_it_stands(q, phrases):
    parsed = parse_query(q, 500, 32)
    assert [c.text() for c in parsed.clauses if c.is_phrase] == phrases
