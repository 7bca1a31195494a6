"""Decode Vietnamese typed with the input method switched off (Telex, VNI).

A reader whose input method is off sends the raw keystrokes: Telex ``vieejt``
or VNI ``vie65t`` for ``việt``. This module turns one such word back into the
syllable it spells, and checks whether a string is a well-formed Vietnamese
syllable. Pure standard library, no Whoosh; results are cached.

Conventions: tones are numbered as VNI does (0 ngang, 1 sắc, 2 huyền, 3 hỏi,
4 ngã, 5 nặng). A "base" is a syllable without its tone mark but with its
vowel marks (``viêt``). Output is NFC lower case, with the tone on the main
vowel and, for open ``oa``/``oe``/``uy``, on the first vowel (``hòa``,
``khỏe``, ``thúy``: the project's canonical style).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_BASE_VOWELS = "aăâeêioôơuưy"
_MARKED_VOWELS = "ăâêôơư"

# (base vowel, tone) -> precomposed letter, and back; both cases in the reverse map.
_TONED: dict[tuple[str, int], str] = {
    (v, t): unicodedata.normalize("NFC", v + mark) for v in _BASE_VOWELS for t, mark in enumerate(_TONE_MARKS)
}
_UNTONE: dict[str, tuple[str, int]] = {}
for (_v, _t), _c in _TONED.items():
    _UNTONE[_c] = (_v, _t)
    _UNTONE[_c.upper()] = (_v, _t)
_UNTONE["Đ"] = ("đ", 0)
_UNTONE["đ"] = ("đ", 0)

_VIETNAMESE_LETTERS = frozenset(_UNTONE) | frozenset("bcdghklmnpqrstvx")
_DIACRITIC_LETTERS = frozenset(c for c in _UNTONE if c.lower() not in "aeiouy")

_ONSETS = frozenset(
    [
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
    ]
)
_CODAS = frozenset(["c", "ch", "m", "n", "ng", "nh", "p", "t"])
# k closes syllables only in minority-language place names (Đắk Lắk).
_STOP_CODAS = frozenset(["c", "ch", "k", "p", "t"])
_STOP_TONES = frozenset((1, 5))

_OPEN = ""
_ALL_CODAS = frozenset({_OPEN, *_CODAS})
_CLOSED = frozenset(["c", "m", "n", "ng", "p", "t"])
# Vowel nucleus (including medial glide and final glide) -> codas it takes.
_NUCLEI: dict[str, frozenset[str]] = {
    "a": _ALL_CODAS,
    "ă": _CLOSED | {"k"},
    "â": _CLOSED,
    "e": _CLOSED | {_OPEN},
    "ê": frozenset({_OPEN, "ch", "m", "n", "nh", "p", "t", "ng"}),
    "i": frozenset({_OPEN, "ch", "m", "n", "nh", "p", "t"}),
    "o": _CLOSED | {_OPEN},
    "ô": _CLOSED | {_OPEN},
    "ơ": frozenset({_OPEN, "m", "n", "p", "t"}),
    "u": _CLOSED | {_OPEN},
    "ư": frozenset({_OPEN, "c", "m", "n", "ng", "t"}),
    "y": frozenset({_OPEN}),
    "oa": _ALL_CODAS,
    "oă": frozenset({"c", "m", "n", "ng", "t"}),
    "oe": frozenset({_OPEN, "n", "t"}),
    # Loanword spelling: xoong, boong, moóc.
    "oo": frozenset({"c", "ng"}),
    "uâ": frozenset({"n", "ng", "t"}),
    "uê": frozenset({_OPEN, "ch", "n", "nh"}),
    "uô": _CLOSED,
    "uơ": frozenset({_OPEN}),
    "uy": frozenset({_OPEN, "ch", "n", "nh", "t", "p"}),
    "iê": _CLOSED,
    "yê": _CLOSED,
    "ươ": _CLOSED,
    # uyêch: variant spelling of khuếch (khuyếch trương).
    "uyê": frozenset({"n", "t", "ch"}),
}
for _glided in [
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
    "oao",
    "oeo",
    "uây",
    "uôi",
    "ươi",
    "ươu",
    "iêu",
    "yêu",
    "uya",
    "uyu",
]:
    _NUCLEI[_glided] = frozenset({_OPEN})
# Onsets written with h before front vowels only (ghi, nghe).
_FRONT_ONLY_ONSETS = frozenset({"gh", "ngh"})

_VOWEL_RUN = re.compile(r"([aăâeêioôơuưy]+)")
_NEW_STYLE_PAIRS = frozenset({"oa", "oe", "uy"})

_TELEX_TONE_KEYS = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5, "z": 0}
_TELEX_VOWEL_KEYS = frozenset("aeiouyw")
_TELEX_DOUBLES = {"aa": "â", "ee": "ê", "oo": "ô", "aw": "ă", "ow": "ơ", "uw": "ư"}
_HORN_OR_BREVE = {"u": "ư", "o": "ơ", "a": "ă"}
_ASCII_WORD = re.compile(r"[a-z]+")
_VNI_WORD = re.compile(r"[a-z][a-z0-9]*")
_CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
_VNI_TONE_KEYS = {"1": "s", "2": "f", "3": "r", "4": "x", "5": "j"}


def _split_rime(rime: str) -> tuple[str, str] | None:
    """Split a toneless rime into a known nucleus and coda, or None."""
    match = _VOWEL_RUN.match(rime)
    if match is None:
        return None
    nucleus, coda = match.group(1), rime[match.end() :]
    if coda not in _NUCLEI.get(nucleus, ()):
        return None
    return nucleus, coda


def _split_onset(base: str) -> tuple[str, str, str, str] | None:
    """Split a toneless syllable into onset, rime, nucleus and coda, or None."""
    # qu and gi swallow a vowel letter; the rest must still be a rime,
    # either on its own (quả, giá) or with the glide restored (quỳnh, giếng).
    for onset, glide in (("qu", "u"), ("gi", "i")):
        if base.startswith(onset) and len(base) > 2 and base[2] in _BASE_VOWELS:
            rime = base[2:]
            if rime[0] == glide:
                return None
            if _split_rime(rime) is None and _split_rime(glide + rime) is None:
                return None
            vowels = _VOWEL_RUN.match(rime)
            assert vowels is not None  # rime starts with a vowel letter (checked above)
            nucleus = vowels.group(1)
            return onset, rime, nucleus, rime[len(nucleus) :]
    match = _VOWEL_RUN.search(base)
    if match is None:
        return None
    onset, rime = base[: match.start()], base[match.start() :]
    if onset and onset not in _ONSETS:
        return None
    if onset in _FRONT_ONLY_ONSETS and rime[0] not in "eêi":
        return None
    parts = _split_rime(rime)
    if parts is None:
        return None
    return onset, rime, parts[0], parts[1]


def _tone_positions(nucleus: str, coda: str) -> tuple[int, ...]:
    """Return the nucleus indexes that may carry the tone, canonical first."""
    if len(nucleus) == 1:
        return (0,)
    marked = [i for i, ch in enumerate(nucleus) if ch in _MARKED_VOWELS]
    if marked:
        return (marked[-1],)
    if coda:
        return (len(nucleus) - 1,)
    if len(nucleus) == 3:
        return (1,)
    if nucleus in _NEW_STYLE_PAIRS:
        return (0, 1)
    return (0,)


def _untone(word: str) -> tuple[str, int, int] | None:
    """Return (base, tone, index of toned letter or -1), or None if not Vietnamese."""
    letters: list[str] = []
    tone, where = 0, -1
    for i, ch in enumerate(word):
        if ch not in _VIETNAMESE_LETTERS:
            return None
        base, t = _UNTONE.get(ch, (ch.lower(), 0))
        if t:
            if tone:
                return None
            tone, where = t, i
        letters.append(base)
    return "".join(letters), tone, where


@lru_cache(maxsize=65536)
def is_vietnamese_syllable(word: str) -> bool:
    """Return whether word is one well-formed Vietnamese syllable.

    Structural check on the accented form: onset from the Vietnamese set
    (``ngh``, ``gi``, ``qu`` ...), a known vowel nucleus, a coda from
    ``c ch m n ng nh p t`` or none, a stop coda (``c ch p t``) only with sắc
    or nặng, and the tone on the right vowel (old ``hòa`` or new ``hoà``
    style). Case and NFD input are accepted. A stop-coda syllable without a
    tone (``viet``) is not a syllable; English ``linux``, ``string`` fail,
    but short words such as ``an``, ``tin``, ``the`` are also Vietnamese.
    """
    parts = _untone(unicodedata.normalize("NFC", word).lower())
    if parts is None:
        return False
    base, tone, where = parts
    split = _toneable(base, tone)
    if split is None:
        return False
    onset, nucleus, coda = split
    if not tone:
        return True
    offset = len(onset)
    return any(where == offset + i for i in _tone_positions(nucleus, coda))


def _toneable(base: str, tone: int) -> tuple[str, str, str] | None:
    """Return (onset, nucleus, coda) of a toneless syllable that can carry ``tone``, else None."""
    split = _split_onset(base)
    if split is None:
        return None
    onset, _rime, nucleus, coda = split
    if coda in _STOP_CODAS and tone not in _STOP_TONES:
        return None
    return onset, nucleus, coda


@lru_cache(maxsize=65536)
def _compose(base: str, tone: int) -> str | None:
    """Put the tone on a toneless syllable; None if it is not a valid syllable."""
    split = _toneable(base, tone)
    if split is None:
        return None
    onset, nucleus, coda = split
    at = len(onset) + _tone_positions(nucleus, coda)[0]
    return base[:at] + _TONED[(base[at], tone)] + base[at + 1 :]


def _apply_late_horn(vowels: str) -> list[str]:
    """List the ways a late ``w`` can mark a vowel group, most likely first."""
    if "uo" in vowels:
        return [vowels.replace("uo", "ươ", 1)]
    return [
        vowels[:i] + _HORN_OR_BREVE[ch] + vowels[i + 1 :]
        for i, ch in reversed(list(enumerate(vowels)))
        if ch in _HORN_OR_BREVE
    ]


def _telex_vowels(keys: str) -> tuple[str, bool, bool] | None:
    """Read Telex vowel keys: (vowels, marked, late w pending), or None."""
    out: list[str] = []
    marked = late_w = False
    i = 0
    while i < len(keys):
        pair = keys[i : i + 2]
        if pair in _TELEX_DOUBLES:
            out.append(_TELEX_DOUBLES[pair])
            marked = True
            i += 2
            continue
        ch = keys[i]
        if ch == "w":
            # A bare w is ư (w, tw, wa); after an unmarkable vowel (uoiw) it
            # marks the whole group, as Telex input methods do.
            if not out or out[-1] in _MARKED_VOWELS:
                out.append("ư")
            elif late_w:
                return None
            else:
                late_w = True
            marked = True
        else:
            out.append(ch)
        i += 1
    return "".join(out), marked, late_w


def _fix_uo(vowels: str, closed: bool) -> str:
    """Spell the ươ diphthong however the horn keys reached it (uwo, uow)."""
    if "ưo" in vowels:
        return vowels.replace("ưo", "ươ")
    # uơ is a real open rime (thuở); followed by anything it is ươ.
    at = vowels.find("uơ")
    if at >= 0 and (closed or at + 2 < len(vowels)):
        return vowels.replace("uơ", "ươ")
    return vowels


@lru_cache(maxsize=65536)
def _decode_telex_lower(word: str) -> str | None:
    """Decode a lower-case ASCII Telex word; see decode_telex."""
    first = next((i for i, ch in enumerate(word) if ch in _TELEX_VOWEL_KEYS), -1)
    if first < 0:
        return None
    onset, tail = word[:first], word[first:]
    tone_keys = [ch for ch in tail if ch in _TELEX_TONE_KEYS]
    if len(tone_keys) > 1:
        return None
    tone = _TELEX_TONE_KEYS[tone_keys[0]] if tone_keys else 0
    # z only clears a tone: alone it spells nothing new.
    marked = bool(tone)
    tail = "".join(ch for ch in tail if ch not in _TELEX_TONE_KEYS)
    if onset.startswith("dd"):
        onset, marked = "đ" + onset[2:], True
    match = re.fullmatch(r"([aeiouyw]+)([bcdghklmnpqtv]*)(w?)", tail)
    if match is None:
        return None
    vowel_keys, coda, trailing_w = match.groups()
    read = _telex_vowels(vowel_keys)
    if read is None:
        return None
    vowels, vowels_marked, late_w = read
    marked = marked or vowels_marked or bool(trailing_w)
    if not marked:
        return None
    if late_w and trailing_w:
        return None
    options = _apply_late_horn(vowels) if late_w or trailing_w else [vowels]
    for option in options:
        # After q the u is part of the onset, so quơi must stay unfixed.
        for vowels in dict.fromkeys((_fix_uo(option, bool(coda)), option)):
            result = _compose(onset + vowels + coda, tone)
            if result is not None:
                return result
    return None


def decode_telex(word: str) -> str | None:
    """Return the syllable a Telex keystroke word spells, or None.

    ``vieejt`` -> ``việt``, ``ddaf`` -> ``đà``, ``nguwowif``/``nguoiwf`` ->
    ``người``, ``hoaf`` -> ``hòa``, ``quys`` -> ``quý``, ``w`` -> ``ư``. Tone
    keys ``s f r x j`` may sit anywhere after the first vowel; ``z`` clears
    the tone. None when the word has no Telex mark (``an``, ``ban``), is not
    plain ASCII letters, uses more than one tone key, or does not spell a
    valid syllable (``linux``, ``hello``). Ambiguous by nature: ``cos`` ->
    ``có`` and ``bans`` -> ``bán`` are also English words, so callers must
    weigh the literal reading against this one (e.g. by corpus frequency).
    Doubled keys that undo a mark (``aaa``) are not supported.
    """
    lowered = word.lower()
    if not _ASCII_WORD.fullmatch(lowered):
        return None
    return _decode_telex_lower(lowered)


def _vni_to_telex(word: str) -> tuple[str, list[str]] | None:
    """Rewrite a VNI word as Telex keys plus the marks each digit must produce."""
    keys: list[str] = []
    required: list[str] = []
    seen_vowel = False
    for ch in word:
        if ch.isalpha():
            seen_vowel = seen_vowel or ch in "aeiouy"
            keys.append(ch)
            continue
        prev = keys[-1] if keys else ""
        if ch in _VNI_TONE_KEYS and seen_vowel:
            keys.append(_VNI_TONE_KEYS[ch])
        elif ch == "9" and prev == "d":
            keys.append("d")
            required.append("đ")
        elif ch == "6" and seen_vowel:
            # The circumflex key may follow the coda (viet6): mark the last a/e/o.
            at = max(i for i, k in enumerate(keys) if k in "aeo" or i == 0)
            if keys[at] not in "aeo":
                return None
            keys.insert(at + 1, keys[at])
            required.append(_CIRCUMFLEX[keys[at]])
        elif ch in "78" and seen_vowel:
            wanted = "ou" if ch == "7" else "a"
            if prev in "aeiouy" and prev not in wanted:
                return None
            keys.append("w")
            required.append("ơư" if ch == "7" else "ă")
        else:
            return None
    return "".join(keys), required


@lru_cache(maxsize=65536)
def _decode_vni_lower(word: str) -> str | None:
    """Decode a lower-case VNI word; see decode_vni."""
    letters = "".join(ch for ch in word if ch.isalpha())
    # Letters VNI never produces, or Telex marks, mean this is not VNI.
    if set(letters) & set("fjwz") or "dd" in letters:
        return None
    if any(pair in letters for pair in ("aa", "ee", "oo")):
        return None
    first = next((i for i, ch in enumerate(letters) if ch in "aeiouy"), len(letters))
    if set(letters[first:]) & set("sxr"):
        return None
    rewritten = _vni_to_telex(word)
    if rewritten is None:
        return None
    keys, required = rewritten
    result = _decode_telex_lower(keys)
    if result is None:
        return None
    # Each mark digit must show up as its own mark (7 is ơ or ư, never ă).
    untoned = _untone(result)
    assert untoned is not None  # a decoded Telex word is Vietnamese letters with one tone at most
    base = untoned[0]
    if not all(any(mark in base for mark in marks) for marks in required):
        return None
    return result


def decode_vni(word: str) -> str | None:
    """Return the syllable a VNI keystroke word spells, or None.

    Digits: 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng, 6 circumflex (â ê ô),
    7 horn (ơ ư), 8 breve (ă), 9 đ after d. ``vie65t`` -> ``việt``,
    ``d9a2`` -> ``đà``, ``na8ng4`` -> ``nẵng``, ``nguo7i2`` -> ``người``.
    None when the word has no digit, starts with a digit, has more than one
    tone digit, puts a digit where VNI cannot, or does not spell a valid
    syllable: ``2000``, ``u23``, ``covid19``, ``5g`` are all None.
    """
    lowered = word.lower()
    if not _VNI_WORD.fullmatch(lowered) or lowered.isalpha():
        return None
    return _decode_vni_lower(lowered)


def reading_candidates(word: str) -> list[str]:
    """List the distinct readings of a typed word: literal first, then Telex, then VNI.

    The literal reading is the NFC lower-case word itself; the caller picks
    among the readings (for example by corpus frequency).
    """
    readings = [unicodedata.normalize("NFC", word).lower()]
    for decoded in (decode_telex(word), decode_vni(word)):
        if decoded is not None and decoded not in readings:
            readings.append(decoded)
    return readings


def has_vietnamese_diacritic(word: str) -> bool:
    """Return whether word contains a Vietnamese accented letter or đ."""
    return any(ch in _DIACRITIC_LETTERS for ch in unicodedata.normalize("NFC", word))
