"""Highlighting: marks on the accented original words, everything else escaped."""

from __future__ import annotations

import unicodedata

import pytest

from searchsvc.highlight import Targets, contains, mark, snippet


@pytest.mark.parametrize(
    ("text", "targets", "expected"),
    [
        ("Đà Nẵng đón khách", Targets(frozenset({"da", "nang"})), "<mark>Đà Nẵng</mark> đón khách"),
        (
            "HOÀ BÌNH, hòa bình",
            Targets(frozenset({"hoa", "binh"})),
            "<mark>HOÀ BÌNH</mark>, <mark>hòa bình</mark>",
        ),
        (
            unicodedata.normalize("NFD", "Thủ tướng"),
            Targets(frozenset({"thu", "tuong"})),
            "<mark>" + unicodedata.normalize("NFD", "Thủ tướng") + "</mark>",
        ),
        (
            "<script>alert(1)</script>",
            Targets(frozenset({"script"})),
            "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;",
        ),
        ("A & B \"x\" 'y'", Targets(frozenset({"b"})), "A &amp; <mark>B</mark> &quot;x&quot; &#x27;y&#x27;"),
        (
            "COVID-19 tại TP.HCM",
            Targets(frozenset(), ("cov", "hc")),
            "<mark>COVID</mark>-19 tại TP.<mark>HCM</mark>",
        ),
        ("không có gì", Targets(frozenset({"xyz"})), "không có gì"),
    ],
)
def test_mark(text, targets, expected):
    assert mark(text, targets) == expected


def test_contains():
    assert (
        contains("Đội tuyển", Targets(frozenset({"doi"}))),
        contains("Đội", Targets(frozenset({"di"}))),
    ) == (
        True,
        False,
    )


def test_snippet_centres_on_the_matches_and_escapes():
    text = "Mở đầu dài dòng. " * 30 + "Giá <b>bán nhà</b> giảm." + " Kết thúc." * 30
    found = snippet(text, Targets(frozenset({"ban", "nha"})), width=80)
    assert "Giá &lt;b&gt;<mark>bán nhà</mark>&lt;/b&gt; giảm." in found
    assert (found.startswith("…"), found.endswith("…"), len(found) < 140) == (True, True, True)


def test_snippet_without_a_match_is_the_start():
    assert snippet("Một hai ba bốn năm sáu", Targets(frozenset({"xyz"})), width=9) == "Một hai…"
    assert snippet("", Targets(frozenset({"x"}))) == ""
