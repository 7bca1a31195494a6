"""Highlighting: marks on the accented original words, everything else escaped."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchsvc.highlight import Targets, _best_window, _found, contains, mark, snippet
from searchsvc.text import forms, spans

WORDS = [
    "Thủ",
    "tướng",
    "Chính",
    "phủ",
    "họp",
    "tại",
    "Hà",
    "Nội",
    "về",
    "kinh",
    "tế",
    "xã",
    "hội",
    "người",
    "dân",
    "đời",
    "sống",
]


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


def long_body(chars: int, seed: int = 7) -> str:
    """Return a generated body of about ``chars`` characters that mentions the query words often."""
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(chars // 4)]
    return " ".join(words)[:chars]


def test_snippet_of_a_one_megabyte_body_is_the_best_passage():
    # Rescanning the match list per match took 95 s here; the sliding window is linear.
    body = long_body(1_000_000) + ". Thủ tướng Chính phủ họp tại Hà Nội."
    targets = Targets(frozenset({"thu", "tuong", "chinh", "phu", "ha", "noi"}))
    found = snippet(body, targets, width=240)
    assert found.startswith("…")
    assert found.count("<mark>") >= 2
    assert len(found.replace("<mark>", "").replace("</mark>", "")) <= 242


def test_mark_and_prefixes_on_a_one_megabyte_body():
    body = long_body(1_000_000)
    marked = mark(body, Targets(frozenset({"ha"}), ("th", "ch", "n")))
    assert marked.count("<mark>") > 10_000
    assert marked.replace("<mark>", "").replace("</mark>", "") == body


def brute_force_window(found: list[tuple[int, int, str]], width: int) -> int:
    """Return the window start by the quadratic definition the sliding window replaced."""
    best_start, best_score = found[0][0], -1
    for i, (start, _, _) in enumerate(found):
        inside = [w for s, e, w in found[i:] if e <= start + width]
        score = len(set(inside)) * 100 + len(inside)
        if score > best_score:
            best_start, best_score = start, score
    return best_start


@given(
    gaps=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 12), st.sampled_from("abcd")), min_size=1),
    width=st.integers(1, 80),
)
def test_sliding_window_equals_the_definition(gaps, width):
    found, pos = [], 0
    for gap, length, word in gaps:
        found.append((pos + gap, pos + gap + length, word))
        pos += gap + length
    assert _best_window(found, width) == brute_force_window(found, width)


TEXTS = st.lists(
    st.sampled_from([*WORDS, "Đà", "Nẵng", "COVID-19", "2.000", "U23", "ß", "北京", ",", ". ", "  "]),
    max_size=30,
).map(" ".join)


@given(
    text=TEXTS,
    words=st.sets(st.sampled_from(["ha", "noi", "da", "covid", "2000", "u"])),
    prefixes=st.lists(st.sampled_from(["t", "ng", "d", "h", "bei", "2"]), max_size=3),
)
def test_fast_and_syllable_matching_agree(text, words, prefixes):
    targets = Targets(frozenset(words), tuple(prefixes))
    slow = [(s, e, forms(raw)[1]) for s, e, raw in spans(text) if targets.matches(forms(raw)[1])]
    assert [(s, e) for s, e, _ in _found(text, targets)] == [(s, e) for s, e, _ in slow]
