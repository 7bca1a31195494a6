"""Vietnamese text functions: golden cases for normalize, fold and syllables, and their properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchsvc.text import (
    UNEXCHANGEABLE,
    clean,
    encodable,
    exact_terms,
    fold,
    folded_terms,
    forms,
    has_marks,
    normalize,
    spans,
    syllables,
)

VOWELS = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
CONSONANTS = "bcdđghklmnpqrstvx"
VIETNAMESE_LETTERS = VOWELS + VOWELS.upper() + CONSONANTS + CONSONANTS.upper() + "fjwzFJWZ"
COMBINING = "".join(chr(c) for c in range(0x0300, 0x0324))
SPACES = " \u00a0\t\n"
PUNCTUATION = ".,;:!?-/()\"'@&*"
DIGITS = "0123456789"
OTHER_SCRIPTS = "ßæøłжЖ北京"

vietnamese_text = st.text(
    alphabet=st.sampled_from(VIETNAMESE_LETTERS + COMBINING + SPACES + PUNCTUATION + DIGITS + OTHER_SCRIPTS),
    max_size=60,
)
general_text = st.text(max_size=40)

# ---------------------------------------------------------------------------
# normalize


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("hoà", "hòa"),
        ("thuý", "thúy"),
        ("uỷ ban", "ủy ban"),
        ("khoẻ", "khỏe"),
        ("toà án", "tòa án"),
        ("hoá chất", "hóa chất"),
        ("thoả thuận", "thỏa thuận"),
        ("tuỳ", "tùy"),
        ("HOÀ", "HÒA"),
        ("Hoà Bình", "Hòa Bình"),
        ("THUỶ", "THỦY"),
        ("hòa", "hòa"),
        ("quý", "quý"),
        ("QUÝ", "QUÝ"),
        ("quả", "quả"),
        ("giả", "giả"),
        ("hoàng", "hoàng"),
        ("huỳnh", "huỳnh"),
        ("toán", "toán"),
        ("hòang", "hoàng"),
        ("khuya", "khuya"),
        ("ngoài", "ngoài"),
        ("\u00d0à Nẵng", "Đà Nẵng"),
        ("\u00f0ối ngoại", "đối ngoại"),
        ("Hà\u200b Nội", "Hà Nội"),
        ("đối\u00adngoại", "đốingoại"),
        ("800.000\u00a0tấn", "800.000 tấn"),
        ("Ha Noi", "Ha Noi"),
        ("", ""),
    ],
)
def test_normalize(given_text, expected):
    assert normalize(given_text) == expected


def test_normalize_composes_nfd():
    assert normalize(unicodedata.normalize("NFD", "Thủ tướng Hoà")) == "Thủ tướng Hòa"


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("Bộ TT&amp;TT", "Bộ TT&TT"),
        ("a&nbsp;b", "a b"),
        ("Hà\u200bNội", "HàNội"),
        (unicodedata.normalize("NFD", "Việt Nam"), "Việt Nam"),
        ("hoà", "hoà"),
    ],
)
def test_clean(given_text, expected):
    assert clean(given_text) == expected


# ---------------------------------------------------------------------------
# fold


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("Đà Nẵng", "da nang"),
        ("đối ngoại", "doi ngoai"),
        ("\u00d0à", "da"),
        ("HÀ NỘI", "ha noi"),
        ("hoà bình", "hoa binh"),
        ("hòa bình", "hoa binh"),
        ("Nguyễn Thị Ánh", "nguyen thi anh"),
        ("ưu đãi", "uu dai"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("Øresund", "oresund"),
        ("Łódź", "lodz"),
        ("COVID-19", "covid-19"),
        ("a\u00a0b", "a b"),
        ("a\u200bb", "ab"),
    ],
)
def test_fold(given_text, expected):
    assert fold(given_text) == expected


def test_fold_spells_cjk_in_latin():
    assert fold("北京").split() == ["bei", "jing"]


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [("Hà Nội", True), ("Ha Noi", False), ("ĐA", True), ("HA NOI", False), ("Straße", True), ("", False)],
)
def test_has_marks(given_text, expected):
    assert has_marks(given_text) == expected


# ---------------------------------------------------------------------------
# syllables and index terms


@pytest.mark.parametrize(
    ("given_text", "exact", "folded"),
    [
        ("COVID-19", ["covid", "19"], ["covid", "19"]),
        ("TP.HCM", ["tp", "hcm"], ["tp", "hcm"]),
        ("5G", ["5", "g"], ["5", "g"]),
        ("12/7", ["12", "7"], ["12", "7"]),
        ("2.000", ["2000"], ["2000"]),
        ("1,500,000 đồng", ["1500000", "đồng"], ["1500000", "dong"]),
        ("U23 Việt Nam", ["u", "23", "việt", "nam"], ["u", "23", "viet", "nam"]),
        ("Thủ tướng", ["thủ", "tướng"], ["thu", "tuong"]),
        ("Hoà bình", ["hòa", "bình"], ["hoa", "binh"]),
        ("ĐÀ NẴNG", ["đà", "nẵng"], ["da", "nang"]),
        ("e-mail", ["e", "mail"], ["e", "mail"]),
        (
            "hotro5g@nhamang.example",
            ["hotro", "5", "g", "nhamang", "example"],
            ["hotro", "5", "g", "nhamang", "example"],
        ),
        (
            "https://5g.nhamang.example/vung-phu-song",
            ["https", "5", "g", "nhamang", "example", "vung", "phu", "song"],
            ["https", "5", "g", "nhamang", "example", "vung", "phu", "song"],
        ),
        ("X-quang", ["x", "quang"], ["x", "quang"]),
        ("RON 95, E5", ["ron", "95", "e", "5"], ["ron", "95", "e", "5"]),
        ("3-3", ["3", "3"], ["3", "3"]),
        ("!!! ... ---", [], []),
    ],
)
def test_terms(given_text, exact, folded):
    assert (exact_terms(given_text), folded_terms(given_text)) == (exact, folded)


def test_forms_of_one_syllable():
    assert [forms(raw) for raw in ["Hoà", "THUỶ", "Đ", "北京", "2000"]] == [
        ("hòa", "hoa"),
        ("thủy", "thuy"),
        ("đ", "d"),
        ("北京", "beijing"),
        ("2000", "2000"),
    ]


@pytest.mark.parametrize(
    "given_text",
    [
        "Hà Nội, 2.000 người; COVID-19 tại TP.HCM",
        unicodedata.normalize("NFD", "Thủ tướng Hoà Bình đến Đà Nẵng ngày 12/7"),
        "U23 Việt Nam\u00a0thắng 3-3\u200b trên sân 5G",
        "hotro5g@nhamang.example https://5g.nhamang.example/vung-phu-song",
    ],
)
def test_spans_slice_the_original_text(given_text):
    found = list(spans(given_text))
    slices = [given_text[start:end].replace(".", "").replace(",", "") for start, end, _ in found]
    assert slices == [raw for _, _, raw in found]
    assert [raw for _, _, raw in found] == syllables(given_text)


def test_spans_of_nfd_text_cover_the_combining_marks():
    text = unicodedata.normalize("NFD", "Việt Nam")
    assert [(start, end) for start, end, _ in spans(text)] == [(0, 6), (7, 10)]


def test_spans_of_digit_groups():
    assert list(spans("giá 2.000 đồng")) == [(0, 3, "giá"), (4, 9, "2000"), (10, 14, "đồng")]


# ---------------------------------------------------------------------------
# properties


def _forms_of(text: str) -> list[tuple[str, str]]:
    """Return the index terms of every syllable of ``text``."""
    return [forms(raw) for raw in syllables(text)]


@settings(max_examples=400)
@given(vietnamese_text)
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


@settings(max_examples=100)
@given(general_text)
def test_normalize_is_idempotent_on_any_text(text):
    assert normalize(normalize(text)) == normalize(text)


@settings(max_examples=400)
@given(vietnamese_text)
def test_fold_ignores_normalize(text):
    assert fold(normalize(text)) == fold(text)


@settings(max_examples=100)
@given(general_text)
def test_fold_ignores_normalize_on_any_text(text):
    assert fold(normalize(text)) == fold(text)


@settings(max_examples=400)
@given(vietnamese_text)
def test_nfc_and_nfd_agree(text):
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert (normalize(nfd), fold(nfd), _forms_of(nfd)) == (normalize(nfc), fold(nfc), _forms_of(nfc))


@settings(max_examples=400)
@given(vietnamese_text)
def test_case_does_not_change_folded_terms(text):
    assert folded_terms(text.upper()) == folded_terms(text.lower())


@settings(max_examples=400)
@given(vietnamese_text)
def test_syllables_equal_spans(text):
    assert syllables(text) == [raw for _, _, raw in spans(text)]


@settings(max_examples=100)
@given(general_text)
def test_syllables_equal_spans_on_any_text(text):
    assert syllables(text) == [raw for _, _, raw in spans(text)]


# Old style puts the tone of an open oa/oe/uy syllable on the second vowel (hoà),
# new style on the first (hòa); closed syllables are written alike (hoàng).
TONES = "\u0300\u0301\u0309\u0303\u0323"
ONSETS = ["", "h", "th", "kh", "t", "l", "x", "ng", "s", "tr", "ch", "g", "đ", "n", "b", "nh", "Th", "H"]
FINALS = ["", "", "", "n", "ng", "nh", "c", "ch", "t", "p", "m"]


@st.composite
def tone_style_pair(draw) -> tuple[str, str]:
    """Draw one syllable with an oa/oe/uy cluster written in old and in new style."""
    onset = draw(st.sampled_from(ONSETS))
    first, second = draw(st.sampled_from(["oa", "oe", "uy"]))
    tone = draw(st.sampled_from(TONES))
    final = draw(st.sampled_from(FINALS))
    old = onset + first + second + tone + final
    new = onset + first + tone + second + final if not final else old
    if draw(st.booleans()):
        old, new = old.upper(), new.upper()
    nfc = unicodedata.normalize("NFC", old), unicodedata.normalize("NFC", new)
    return (
        nfc if draw(st.booleans()) else (unicodedata.normalize("NFD", old), unicodedata.normalize("NFD", new))
    )


@settings(max_examples=300)
@given(st.lists(tone_style_pair(), min_size=1, max_size=6), st.sampled_from([" ", ", ", "\u00a0", " - "]))
def test_old_and_new_tone_style_agree(pairs, separator):
    old = separator.join(o for o, _ in pairs)
    new = separator.join(n for _, n in pairs)
    assert (fold(old), exact_terms(old), normalize(old)) == (fold(new), exact_terms(new), normalize(new))


@pytest.mark.parametrize("text", ["OÀ\u0300", "Hoà\u0300", "oà\u0300\u0300", "khoẻ\u0301"])
def test_normalize_is_idempotent_with_stray_combining_marks(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hà Nội", "Hà Nội"),
        ("a\ud800b\udfff", "a\ufffdb\ufffd"),
        ("\ud83d\ude00", "\ufffd\ufffd"),  # a surrogate pair left unjoined is two lone surrogates
        ("x\ufffey\ufdd0", "x\ufffey\ufdd0"),  # non-characters encode: only surrogates go by default
    ],
)
def test_encodable_replaces_lone_surrogates(text, expected):
    assert encodable(text) == expected
    encodable(text).encode("utf-8")


def test_encodable_replaces_non_characters_when_asked():
    assert encodable("x\ufffey\ufdd0\U0010ffff\ud800", UNEXCHANGEABLE) == "x\ufffdy\ufffd\ufffd\ufffd"
    assert encodable("\ufdcf\ufdf0\ufffd", UNEXCHANGEABLE) == "\ufdcf\ufdf0\ufffd"


LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())


@given(st.text(st.one_of(st.characters(), LONE_SURROGATES)))
def test_encodable_text_always_encodes_and_keeps_its_length(text):
    assert len(encodable(text)) == len(text)
    encodable(text).encode("utf-8")
