"""Highlighting: marks on the accented original words, everything else escaped."""

from __future__ import annotations

import random
import re
import unicodedata
from html import escape as html_escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchsvc.highlight import Targets, _best_window, _found, best_snippet, contains, mark, snippet
from searchsvc.query import parse_query
from searchsvc.search import highlight_targets
from searchsvc.text import folded_terms, forms, spans

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


def brute_force_window(marks, width: int) -> int:
    """Return the window start by the quadratic definition the sliding window replaced."""
    best_start, best_score = marks[0][0], (-1, -1, -1)
    for i, (start, _, _, _, _) in enumerate(marks):
        inside = [(w, together) for s, e, w, together, _ in marks[i:] if e <= start + width]
        score = (len({w for w, _ in inside}), len({w for w, t in inside if t}), len(inside))
        if score > best_score:
            best_start, best_score = start, score
    return best_start


@given(
    gaps=st.lists(
        st.tuples(st.integers(0, 30), st.integers(1, 12), st.sampled_from("abcd"), st.booleans()), min_size=1
    ),
    width=st.integers(1, 80),
)
def test_sliding_window_equals_the_definition(gaps, width):
    marks, pos = [], 0
    for gap, length, word, together in gaps:
        marks.append((pos + gap, pos + gap + length, word, together, False))
        pos += gap + length
    assert _best_window(marks, width)[0] == brute_force_window(marks, width)


NFD_HA = unicodedata.normalize("NFD", "Hà")
TEXTS = st.lists(
    st.sampled_from(
        [
            *WORDS,
            "Đà",
            "Nẵng",
            "COVID-19",
            "2.000",
            "U23",
            "ß",
            "北京",
            ",",
            ". ",
            "  ",
            NFD_HA,
            "Hà\u200bNội",
            "x²",
        ]
    ),
    max_size=30,
).map(" ".join)


@settings(deadline=None)
@given(
    text=TEXTS,
    words=st.sets(st.sampled_from(["ha", "noi", "da", "covid", "2000", "u"])),
    prefixes=st.lists(st.sampled_from(["t", "ng", "d", "h", "bei", "2"]), max_size=3),
)
def test_fast_and_syllable_matching_agree(text, words, prefixes):
    targets = Targets(frozenset(words), tuple(prefixes))
    slow = [(s, e, forms(raw)[1]) for s, e, raw in spans(text) if targets.matches(forms(raw)[1])]
    assert [(s, e) for s, e, _ in _found(text, targets)] == [(s, e) for s, e, _ in slow]


def targets_for(query: str) -> Targets:
    """Return the highlight targets the search builds for ``query``."""
    return highlight_targets(parse_query(query))


def test_targets_of_phrases_pairs_and_lone_words():
    assert targets_for('"thu tuong" ha noi -bao bao COVID-19 da* x OR y') == Targets(
        words=frozenset({"ha", "noi", "bao", "x", "y"}),
        prefixes=("da",),
        phrases=(("thu", "tuong"), ("covid", "19")),
        pairs=frozenset({("ha", "noi")}),
    )


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # Where the query's words stand together, only that run is marked, not a stray syllable.
        ("ha noi", "Quận nội thành của Hà Nội đông dân", "Quận nội thành của <mark>Hà Nội</mark> đông dân"),
        ('"ha noi"', "Quận nội thành của Hà Nội đông dân", "Quận nội thành của <mark>Hà Nội</mark> đông dân"),
        ("HÀ NỘI", "Nội đô Hà Nội, hà nội", "Nội đô <mark>Hà Nội</mark>, <mark>hà nội</mark>"),
        # A text that never has them together marks the lone words (they are why it matched) ...
        ("ha noi", "Hà Tĩnh mở rộng nội thành", "<mark>Hà</mark> Tĩnh mở rộng <mark>nội</mark> thành"),
        # ... but a quoted phrase is marked only whole.
        ('"ha noi"', "Hà Tĩnh mở rộng nội thành", "Hà Tĩnh mở rộng nội thành"),
        ('"ha noi"', "Hà\n\nNội thành", "Hà\n\nNội thành"),
        # Words that are not query neighbours are marked wherever they are.
        (
            "ha noi bao",
            "Bão vào Hà Nội, nội thành ngập",
            "<mark>Bão</mark> vào <mark>Hà Nội</mark>, nội thành ngập",
        ),
        ("ha noi bao", "Hà Nội bão lớn", "<mark>Hà Nội bão</mark> lớn"),
        # Any two neighbours of the query in order form a run; "bão" stands in one, so not alone.
        (
            "mua bao ha noi",
            "Mưa to ở Hà Nội, bão đi qua, bão Hà",
            "<mark>Mưa</mark> to ở <mark>Hà Nội</mark>, bão đi qua, <mark>bão Hà</mark>",
        ),
        # Words the tokenizer splits are phrases: marked whole, joiner included.
        (
            "COVID-19",
            "Ca COVID-19 mới, covid mùa đông, 19 ca",
            "Ca <mark>COVID-19</mark> mới, covid mùa đông, 19 ca",
        ),
        ("tp.hcm", "TP.HCM và HCM, TP. Huế", "<mark>TP.HCM</mark> và HCM, TP. Huế"),
        ('"tu 12/7"', "Từ 12/7 đến 15/7", "<mark>Từ 12/7</mark> đến 15/7"),
        # Everything still escaped inside and around a run.
        ('"a b"', "<A> <b> & a b", "&lt;A&gt; &lt;b&gt; &amp; <mark>a b</mark>"),
    ],
)
def test_mark_runs_where_query_words_stand_together(query, text, expected):
    assert mark(text, targets_for(query)) == expected


def test_settled_targets_skip_stray_syllables_in_the_whole_article():
    targets = targets_for("ha noi").settled("Nội thành ngập sâu", "", "Mưa lớn ở Hà Nội từ đêm qua.")
    assert (mark("Nội thành ngập sâu", targets), contains("Nội thành ngập sâu", targets)) == (
        "Nội thành ngập sâu",
        False,
    )
    assert mark("Mưa lớn ở Hà Nội từ đêm qua.", targets) == "Mưa lớn ở <mark>Hà Nội</mark> từ đêm qua."
    unsettled = targets_for("ha noi").settled("Nội thành ngập sâu", "Hà Tĩnh mưa lớn")
    assert mark("Nội thành ngập sâu", unsettled) == "<mark>Nội</mark> thành ngập sâu"
    assert targets_for("bao").settled("Hà Nội") == targets_for("bao")


def test_snippet_shows_the_sentence_with_the_words_together():
    # Before: the first window won, with "Hà" and "nội" (two distinct words) and more matches.
    text = (
        "Quận Hà Đông và các quận nội thành, nội đô. " * 6
        + "Hà Nội mưa lớn suốt đêm qua. "
        + "Nội dung cuộc họp được giữ kín. " * 6
    )
    assert snippet(text, targets_for("ha noi"), width=60) == (
        "…<mark>Hà Nội</mark> mưa lớn suốt đêm qua. Nội dung cuộc họp được giữ kín.…"
    )


def test_snippet_prefers_most_words_then_words_together():
    text = "Nội thành có bão lớn. " * 6 + "Chiều qua bão số 3 đổ bộ, Hà Nội ngập sâu. " + "Bão tan dần. " * 6
    found = snippet(text, targets_for("ha noi bao"), width=60)
    assert ("<mark>Hà Nội</mark> ngập sâu. <mark>Bão</mark>" in found, "Nội thành" in found) == (True, False)
    # Same words in both windows: the one where they stand together wins.
    marks = [(0, 2, "a", False, False), (10, 12, "b", False, False), (40, 42, "a", True, True)]
    marks += [(43, 45, "b", True, False)]
    assert _best_window(marks, 20) == (40, (2, 2, 2))


@pytest.mark.parametrize(
    ("lead", "body", "expected"),
    [
        # The body sentence with all three words beats a lead with one.
        (
            "Các quận thống kê thiệt hại sau bão.",
            "Cơn bão đổ bộ đêm qua gây gió giật ở Hà Nội. Cây đổ nhiều.",
            "Cơn <mark>bão</mark> đổ bộ đêm qua gây gió giật ở <mark>Hà Nội</mark>. Cây…",
        ),
        # A lead with as many words, as many together, wins over more marks in the body.
        (
            "Bão vào Hà Nội.",
            "Bão vào Hà Nội, bão tan, Hà Nội khô ráo.",
            "<mark>Bão</mark> vào <mark>Hà Nội</mark>.",
        ),
        ("", "Bão vào Hà Nội.", "<mark>Bão</mark> vào <mark>Hà Nội</mark>."),
        ("Không có gì.", "Cũng không có gì.", "Không có gì."),
    ],
)
def test_best_snippet_of_lead_and_body(lead, body, expected):
    assert best_snippet((lead, body), targets_for("ha noi bao"), width=48) == expected


RUN_TEXTS = st.lists(
    st.sampled_from(["Hà", "Nội", "hà", "NỘI", "nội", "thành", ",", "-", "\n"]), max_size=25
).map(" ".join)


# No deadline: the first search builds the folding classes once (tens of ms on a busy machine).
@settings(deadline=None)
@given(text=RUN_TEXTS)
def test_a_phrase_is_only_ever_marked_whole(text):
    marked = mark(text, targets_for('"ha noi"'))
    assert marked.replace("<mark>", "").replace("</mark>", "") == html_escape(text)
    for run in re.findall(r"<mark>(.*?)</mark>", marked):
        terms = folded_terms(run)
        assert any(terms[i : i + 2] == ["ha", "noi"] for i in range(len(terms) - 1))


@settings(deadline=None)
@given(text=RUN_TEXTS)
def test_paired_words_are_marked_alone_only_without_a_run(text):
    marked = mark(text, targets_for("ha noi"))
    runs = [folded_terms(run) for run in re.findall(r"<mark>(.*?)</mark>", marked)]
    if any(terms[i : i + 2] == ["ha", "noi"] for terms in runs for i in range(len(terms) - 1)):
        assert all(len(terms) > 1 for terms in runs)


def test_runs_on_a_one_megabyte_body():
    body = long_body(1_000_000) + ". Thủ tướng Chính phủ họp tại Hà Nội."
    targets = targets_for('thu tuong "chinh phu" ha noi')
    found = snippet(body, targets, width=240)
    assert found.count("<mark>") >= 2
    marked = mark(body, targets)
    assert marked.replace("<mark>", "").replace("</mark>", "") == body
