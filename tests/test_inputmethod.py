"""Golden and property tests for Telex/VNI decoding and the syllable check."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchsvc.inputmethod import (
    decode_telex,
    decode_vni,
    has_vietnamese_diacritic,
    is_vietnamese_syllable,
    reading_candidates,
)

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sample.jsonl"

TELEX_GOLDEN = [
    ("vieejt", "việt"),
    ("vieetj", "việt"),
    ("ddaf", "đà"),
    ("nawngx", "nẵng"),
    ("nguwowif", "người"),
    ("nguoiwf", "người"),
    ("nguwoif", "người"),
    ("duwowngf", "dường"),
    ("duongw", "dương"),
    ("tieens", "tiến"),
    ("ddoois", "đối"),
    ("thur", "thủ"),
    ("tuwowngs", "tướng"),
    ("hoaf", "hòa"),
    ("khoer", "khỏe"),
    ("thuys", "thúy"),
    ("hoangf", "hoàng"),
    ("tuyeetj", "tuyệt"),
    ("nguyeenx", "nguyễn"),
    ("quoocs", "quốc"),
    ("quys", "quý"),
    ("gias", "giá"),
    ("giuwowngf", "giường"),
    ("dduwowngf", "đường"),
    ("uw", "ư"),
    ("w", "ư"),
    ("cos", "có"),
    ("bans", "bán"),
    ("thuowr", "thuở"),
    ("guiwr", "gửi"),
    ("hoawcj", "hoặc"),
    ("giuwxa", "giữa"),
    ("gif", "gì"),
    ("ngoaif", "ngoài"),
    ("khuyeen", "khuyên"),
    ("quyeets", "quyết"),
    ("quynhf", "quỳnh"),
    ("yeeu", "yêu"),
    ("chieensf", None),
    ("nghieeng", "nghiêng"),
    ("ddaij", "đại"),
    ("hocj", "học"),
    ("trwowngf", "trường"),
    ("khuyru", "khuỷu"),
    ("nuwowcs", "nước"),
    ("VIEEJT", "việt"),
    ("Ddaf", "đà"),
    ("hoaz", None),
]

TELEX_NONE = ["linux", "2000", "u23", "abc", "hello", "xyz", "an", "nam", "windows"]

VNI_GOLDEN = [
    ("vie65t", "việt"),
    ("vie6t5", "việt"),
    ("viet65", "việt"),
    ("d9a2", "đà"),
    ("na8ng4", "nẵng"),
    ("na84ng", "nẵng"),
    ("nguo7i2", "người"),
    ("ngu7o7i2", "người"),
    ("d9u7o7ng2", "đường"),
    ("tie6n1", "tiến"),
    ("d9o6i1", "đối"),
    ("thu3", "thủ"),
    ("tu7o7ng1", "tướng"),
    ("ho2a", "hòa"),
    ("hoa2", "hòa"),
    ("khoe3", "khỏe"),
    ("thuy1", "thúy"),
    ("hoang2", "hoàng"),
    ("tuye6t5", "tuyệt"),
    ("nguye6n4", "nguyễn"),
    ("quo6c1", "quốc"),
    ("quy1", "quý"),
    ("gia1", "giá"),
    ("giu7o7ng2", "giường"),
    ("u7", "ư"),
    ("co1", "có"),
    ("ban1", "bán"),
    ("thuo73", "thuở"),
    ("gu7i3", "gửi"),
    ("hoa8c5", "hoặc"),
    ("giu7a4", "giữa"),
    ("gi2", "gì"),
    ("ngoai2", "ngoài"),
    ("khuye6n", "khuyên"),
    ("quye6t1", "quyết"),
    ("quynh2", "quỳnh"),
    ("ye6u", "yêu"),
    ("nghie6ng", "nghiêng"),
    ("d9ai5", "đại"),
    ("hoc5", "học"),
    ("tru7o7ng2", "trường"),
    ("nu7o7c1", "nước"),
    ("Vie65t", "việt"),
    ("mo7i", "mơi"),
]

VNI_NONE = [
    "2000",
    "u23",
    "covid19",
    "5g",
    "u19",
    "g7",
    "mp3",
    "h5n1",
    "a7",
    "u8",
    "viet",
]

ENGLISH = [
    "linux",
    "torvalds",
    "string",
    "windows",
    "python",
    "kernel",
    "server",
    "google",
    "apple",
    "system",
    "music",
    "cloud",
    "open",
    "data",
    "code",
    "chat",
    "search",
    "index",
    "query",
    "network",
    "browser",
    "update",
    "install",
    "release",
    "version",
    "github",
    "docker",
    "java",
    "script",
    "email",
    "online",
    "video",
    "phone",
    "mobile",
    "market",
]


@pytest.mark.parametrize(("keys", "expected"), TELEX_GOLDEN)
def test_decode_telex(keys, expected):
    assert decode_telex(keys) == expected


@pytest.mark.parametrize("word", TELEX_NONE)
def test_decode_telex_returns_none(word):
    assert decode_telex(word) is None


@pytest.mark.parametrize(("keys", "expected"), VNI_GOLDEN)
def test_decode_vni(keys, expected):
    assert decode_vni(keys) == expected


@pytest.mark.parametrize("word", VNI_NONE)
def test_decode_vni_returns_none(word):
    assert decode_vni(word) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("việt", True),
        ("hòa", True),
        ("hoà", True),
        ("thuỷ", True),
        ("thủy", True),
        ("Đà", True),
        (unicodedata.normalize("NFD", "Nguyễn"), True),
        ("quốc", True),
        ("giếng", True),
        ("khuỷu", True),
        ("an", True),
        ("viet", False),
        ("việc", True),
        ("viềt", False),
        ("hòang", False),
        ("ghà", False),
        ("qủa", False),
        ("linux", False),
        ("đh", False),
    ],
)
def test_is_vietnamese_syllable(word, expected):
    assert is_vietnamese_syllable(word) == expected


def test_english_words_mostly_rejected():
    rejected = [w for w in ENGLISH if not is_vietnamese_syllable(w)]
    assert rejected == ENGLISH


def test_reading_candidates():
    assert reading_candidates("vieejt") == ["vieejt", "việt"]
    assert reading_candidates("an") == ["an"]
    assert reading_candidates("Nguyễn") == ["nguyễn"]
    assert reading_candidates("d9a2") == ["d9a2", "đà"]


def _sample_words():
    """Count lower-case letter runs with a Vietnamese diacritic in the sample corpus."""
    counts: dict[str, int] = {}
    with SAMPLE.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text = " ".join(record[f] or "" for f in ("title", "summary", "body"))
            for word in re.findall(r"[^\W\d_]+", text.lower()):
                if has_vietnamese_diacritic(word):
                    counts[word] = counts.get(word, 0) + 1
    return counts


def test_sample_corpus_syllables_accepted():
    if not SAMPLE.exists():
        pytest.skip(f"shared corpus sample not found at {SAMPLE}")
    counts = _sample_words()
    total = sum(counts.values())
    rejected = sum(n for w, n in counts.items() if not is_vietnamese_syllable(w))
    # The rejects are abbreviations (đh, vđv), glued words and typos (lọai).
    assert rejected / total <= 0.005


ONSETS = (
    "",
    *[
        "b",
        "c",
        "ch",
        "d",
        "đ",
        "g",
        "gh",
        "gi",
        "h",
        "k",
        "kh",
        "l",
        "m",
        "n",
        "ng",
        "ngh",
        "nh",
        "p",
        "ph",
        "qu",
        "r",
        "s",
        "t",
        "th",
        "tr",
        "v",
        "x",
    ],
)
NUCLEI = [
    "a",
    "ă",
    "â",
    "e",
    "ê",
    "i",
    "o",
    "ô",
    "ơ",
    "u",
    "ư",
    "y",
    "oa",
    "oă",
    "oe",
    "uâ",
    "uê",
    "uô",
    "uơ",
    "uy",
    "iê",
    "yê",
    "ươ",
    "uyê",
    "ai",
    "ao",
    "au",
    "ay",
    "âu",
    "ây",
    "eo",
    "êu",
    "ia",
    "iu",
    "oi",
    "ôi",
    "ơi",
    "ua",
    "ui",
    "ưa",
    "ưi",
    "ưu",
    "oai",
    "oay",
    "oeo",
    "uây",
    "uôi",
    "ươi",
    "ươu",
    "iêu",
    "yêu",
    "uya",
    "uyu",
]
CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")


@functools.cache
def valid_syllables() -> tuple[str, ...]:
    """Build every valid syllable, tone on the first vowel that passes the check."""
    found = set()
    for onset in ONSETS:
        for nucleus in NUCLEI:
            for coda in CODAS:
                base = onset + nucleus + coda
                for mark in TONE_MARKS:
                    for i in range(len(onset), len(onset) + len(nucleus)):
                        toned = unicodedata.normalize("NFC", base[: i + 1] + mark + base[i + 1 :])
                        if is_vietnamese_syllable(toned):
                            found.add(toned)
                            break
    return tuple(sorted(found))


TELEX_MARKS = {"\u0306": "w", "\u031b": "w"}
TELEX_TONES = {
    "\u0301": "s",
    "\u0300": "f",
    "\u0309": "r",
    "\u0303": "x",
    "\u0323": "j",
}
VNI_MARKS = {"\u0302": "6", "\u0306": "8", "\u031b": "7"}
VNI_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}


def encode(syllable: str, marks: dict, tones: dict, tone_last: bool) -> str:
    """Type a syllable as keystrokes, tone key after its vowel or at the end."""
    keys, tone = [], ""
    for ch in syllable:
        letter, *accents = unicodedata.normalize("NFD", ch)
        if letter == "đ":
            keys.append("dd" if marks is TELEX_MARKS else "d9")
            continue
        keys.append(letter)
        for accent in accents:
            if accent in tones:
                tone = tones[accent]
                if not tone_last:
                    keys.append("\0")
            elif accent == "\u0302" and marks is TELEX_MARKS:
                keys.append(letter)
            else:
                keys.append(marks[accent])
    typed = "".join(keys)
    return typed.replace("\0", tone) if not tone_last else typed + tone


def test_generated_syllables_cover_the_language():
    syllables = set(valid_syllables())
    assert {"việt", "người", "quốc", "giường", "khuỷu", "hòa", "ư", "yêu"} <= syllables
    assert len(syllables) > 10000


@given(st.sampled_from(valid_syllables()), st.booleans())
def test_telex_round_trip(syllable, tone_last):
    typed = encode(syllable, TELEX_MARKS, TELEX_TONES, tone_last)
    if typed == syllable:
        assert decode_telex(typed) is None
    else:
        assert decode_telex(typed) == syllable


@given(st.sampled_from(valid_syllables()), st.booleans())
def test_vni_round_trip(syllable, tone_last):
    typed = encode(syllable, VNI_MARKS, VNI_TONES, tone_last)
    if typed == syllable:
        assert decode_vni(typed) is None
    else:
        assert decode_vni(typed) == syllable
