"""Pure Vietnamese text functions: cleaning, normalization, folding, syllable spans.

Nothing here imports Whoosh, so the same rules serve indexing, querying and
highlighting, and can be tested on their own.

Canonical tone placement: in an *open* syllable whose vowel cluster is ``oa``,
``oe`` or ``uy`` the tone mark sits on the first vowel (``hòa``, ``khỏe``,
``thúy``, ``ủy``), the style most of the corpus uses; with a final consonant it
sits on the second vowel (``hoàng``, ``toán``, ``huỳnh``), as in both styles.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterator

from unidecode import unidecode

# Tone marks as combining characters; the other Vietnamese marks (circumflex,
# breve, horn) belong to the vowel and never move.
_TONES = "\u0300\u0301\u0309\u0303\u0323"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ODD_SPACES = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)

_SPACE_TABLE = {ord(c): " " for c in _ODD_SPACES} | {ord(c): None for c in _ZERO_WIDTH}
# U+00D0 (Icelandic eth) looks exactly like Đ and some keyboards and OCR emit it.
_ETH_TABLE = {0x00D0: "\u0110", 0x00F0: "\u0111"}
_CLEAN_TABLE = _SPACE_TABLE | _ETH_TABLE
# Scanning for the rare characters first is much cheaper than translating every text.
_NEEDS_TRANSLATE = re.compile("[" + "".join(chr(c) for c in _CLEAN_TABLE) + "]")
# Lone surrogates (a JSON "\ud800" escape, command-line bytes that are not UTF-8) cannot be
# encoded as UTF-8 at all; the 66 Unicode non-characters can, but must not be exchanged.
SURROGATES = re.compile("[\ud800-\udfff]")
UNEXCHANGEABLE = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
    + "]"
)
REPLACEMENT = "\ufffd"


def _with_tone(ch: str, tone: str) -> str:
    """Return ``ch`` carrying ``tone`` (a combining tone mark), composed."""
    return unicodedata.normalize("NFC", ch + tone)


def _build_tone_moves() -> tuple[dict[str, str], dict[str, str]]:
    """Build the pair rewrites for open and closed ``oa``/``oe``/``uy`` syllables."""
    to_first: dict[str, str] = {}
    to_second: dict[str, str] = {}
    for first, second in ("oa", "oe", "uy"):
        for a in (first, first.upper()):
            for b in (second, second.upper()):
                for tone in _TONES:
                    to_first[a + _with_tone(b, tone)] = _with_tone(a, tone) + b
                    to_second[_with_tone(a, tone) + b] = a + _with_tone(b, tone)
    return to_first, to_second


_TO_FIRST, _TO_SECOND = _build_tone_moves()
_LETTER = r"[^\W\d_]"
# `qu` is an onset, so in `quý` the `uy` is not a vowel cluster; likewise `gi`.
_OPEN_PAIR = re.compile(r"(?<![qQ])(" + "|".join(map(re.escape, _TO_FIRST)) + r")(?!" + _LETTER + ")")
_CLOSED_PAIR = re.compile(r"(?<![qQ])(" + "|".join(map(re.escape, _TO_SECOND)) + r")(?=[cmnptCMNPT])")
_PAIR_CHARS = frozenset(pair[0] for pair in (*_TO_FIRST, *_TO_SECOND))


def encodable(text: str, unwanted: re.Pattern[str] = SURROGATES) -> str:
    """Return ``text`` with lone surrogates (or whatever ``unwanted`` matches) replaced by U+FFFD."""
    return unwanted.sub(REPLACEMENT, text)


def clean(text: str) -> str:
    """Decode HTML entities, drop zero-width characters, turn odd spaces into spaces, compose to NFC."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = _compose(text)
    return text


def _compose(text: str) -> str:
    """Apply the clean-up table where needed and compose to NFC."""
    if _NEEDS_TRANSLATE.search(text):
        text = text.translate(_CLEAN_TABLE)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def normalize(text: str) -> str:
    """Return ``text`` in NFC with canonical tone placement and one ``Đ``; case is kept."""
    if text.isascii():
        return text
    text = _compose(text)
    if not _PAIR_CHARS.isdisjoint(text):
        moved = _CLOSED_PAIR.sub(lambda m: _TO_SECOND[m.group(1)], _OPEN_PAIR.sub(_first, text))
        if moved != text and not unicodedata.is_normalized("NFC", moved):
            # A stray combining mark after the moved tone (`OÀ` + U+0300) composes anew;
            # one more pass reaches the fixed point, so normalize stays idempotent.
            return normalize(unicodedata.normalize("NFC", moved))
        text = moved
    return text


def _first(match: re.Match[str]) -> str:
    """Return an open pair with its tone moved to the first vowel."""
    return _TO_FIRST[match.group(1)]


_TO_OLD_STYLE = {new: old for old, new in _TO_FIRST.items()}
_NEW_STYLE_PAIR = re.compile(
    r"(?<![qQ])(" + "|".join(map(re.escape, _TO_OLD_STYLE)) + r")(?!" + _LETTER + ")"
)


@functools.lru_cache(maxsize=4096)
def tone_variants(word: str) -> tuple[str, ...]:
    """Return ``word`` (canonical) and, if it differs, its spelling in the other tone style (`hòa`, `hoà`)."""
    other = _NEW_STYLE_PAIR.sub(lambda m: _TO_OLD_STYLE[m.group(1)], word)
    return (word, other) if other != word else (word,)


def _build_fold_table() -> dict[int, str | None]:
    """Map every precomposed Latin letter with marks to its bare lower-case letter."""
    table: dict[int, str | None] = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for code in range(0x00C0, 0x1EFF + 1):
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)[0]
        if ch != base and base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0x0300, 0x0370):
        table[code] = None
    table.update({0x0110: "d", 0x0111: "d", 0x00D0: "d", 0x00F0: "d"})
    table.update({ord(c): " " for c in _ODD_SPACES})
    table.update({ord(c): None for c in _ZERO_WIDTH})
    return table


_FOLD_TABLE = _build_fold_table()


@functools.lru_cache(maxsize=4096)
def _fold_other(ch: str) -> str:
    """Fold one character outside the table (another script, a symbol) with unidecode."""
    return unidecode(ch).lower()


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def fold(text: str) -> str:
    """Return ``text`` lower case without any accent (``đ`` -> ``d``); other scripts via unidecode."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)
    if not folded.isascii():
        folded = _NON_ASCII.sub(lambda m: _fold_other(m.group()), folded)
    return folded


def fold_in_place(text: str) -> str:
    """Fold Vietnamese letters and case one character for one; other characters stay (offsets hold)."""
    return text.translate(_FOLD_TABLE)


def has_marks(text: str) -> bool:
    """Tell whether ``text`` carries any accent, i.e. differs from its folded form beyond case."""
    return fold(text) != text.lower()


# A syllable is a run of letters (combining marks included, for NFD input) or a
# run of digits: `COVID-19` -> covid 19, `5G` -> 5 g, `U23` -> u 23, so typing
# either part finds the whole. Digit groups like 2.000 or 1,500,000 stay one
# token without their separators, so `2.000` and `2000` find each other.
_SPAN = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?!\d)|\d+|[^\W\d_]+(?:[\u0300-\u036f]+[^\W\d_]*)*")
_GROUP_SEPARATORS = str.maketrans("", "", ".,")


def spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, end, raw)`` for each syllable of ``text``; offsets index ``text`` itself."""
    for m in _SPAN.finditer(text):
        raw = m.group()
        if raw[0].isdigit() and ("." in raw or "," in raw):
            raw = raw.translate(_GROUP_SEPARATORS)
        yield m.start(), m.end(), raw


def syllables(text: str) -> list[str]:
    """Return the raw syllables of ``text`` in order (the same as ``spans``, faster)."""
    found = _SPAN.findall(text)
    if "." in text or "," in text:
        found = [raw.translate(_GROUP_SEPARATORS) if raw[0].isdigit() else raw for raw in found]
    return found


_FORMS_CACHE: dict[str, tuple[str, str]] = {}
_FORMS_CACHE_MAX = 500_000


def forms(raw: str) -> tuple[str, str]:
    """Return the (exact, folded) index terms of one raw syllable; cached, as syllables repeat."""
    cached = _FORMS_CACHE.get(raw)
    if cached is None:
        exact = normalize(raw).lower()
        folded = fold(exact)
        if not folded.isalnum():
            # unidecode may spell a CJK character as several words.
            folded = "".join(ch for ch in folded if ch.isalnum()) or exact
        cached = (exact, folded)
        if len(_FORMS_CACHE) >= _FORMS_CACHE_MAX:
            _FORMS_CACHE.clear()
        _FORMS_CACHE[raw] = cached
    return cached


def exact_terms(text: str) -> list[str]:
    """Return the accent-keeping lower-case terms of ``text`` in order."""
    return [forms(raw)[0] for raw in syllables(text)]


def folded_terms(text: str) -> list[str]:
    """Return the accent-free terms of ``text`` in order."""
    return [forms(raw)[1] for raw in syllables(text)]


_TONE_SET = frozenset(_TONES)
_VOWELS = frozenset("aăâeêioôơuưy")


@functools.lru_cache(maxsize=4096)
def strip_tones(word: str) -> str:
    """Return ``word`` without its tone marks; circumflex, breve, horn and ``đ`` stay (`nước` -> `nươc`).

    >>> strip_tones("Tiếng Việt")
    'Tiêng Viêt'
    """
    decomposed = unicodedata.normalize("NFD", word)
    if _TONE_SET.isdisjoint(decomposed):
        return unicodedata.normalize("NFC", decomposed)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_SET))


@functools.lru_cache(maxsize=4096)
def tone_forms(word: str) -> tuple[str, ...]:
    """Return every spelling of a lower-case ``word`` with one tone (or none) on one vowel, canonical, sorted.

    The candidates for reading a wrongly toned word at the toneless level:
    `nứơc` -> `nươc`, `nước`, `nườc`, ..., whichever of them the index holds.
    """
    bare = strip_tones(word)
    found = {normalize(bare)}
    for at, ch in enumerate(bare):
        if ch in _VOWELS:
            for tone in _TONES:
                found.add(normalize(bare[:at] + _with_tone(ch, tone) + bare[at + 1 :]))
    return tuple(sorted(found))
