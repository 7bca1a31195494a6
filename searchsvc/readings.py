"""Choose how to read each query word: as typed, or as Telex/VNI keystrokes.

A reader with the input method switched off types ``vieejt nam`` for ``việt nam``.
A word is read as keystrokes only when its decoding is a Vietnamese syllable that
the corpus uses far more often than the word as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from searchsvc.inputmethod import decode_telex, decode_vni
from searchsvc.messages import ReadingMode
from searchsvc.query import Clause, ParsedQuery, Syllable, to_syllables

# How much more frequent the decoded word must be than the typed one.
DOMINANCE = 20
# A typed word found in more articles than this is a word of the corpus (`taxi`, `max`):
# it is read as keystrokes only when another word of the query surely is.
TYPED_RARE = 10
_VOWELS = frozenset("aeiouyw")

DocFreq = Callable[[str], int]


def decode_abbreviation(word: str) -> str | None:
    """Return a vowel-less abbreviation with Telex ``dd`` read as ``đ`` (`cddv` -> `cđv`), else None."""
    lowered = word.lower()
    if "dd" not in lowered or not lowered.isalpha() or not lowered.isascii() or _VOWELS & set(lowered):
        return None
    return lowered.replace("dd", "đ")


DECODERS: tuple[tuple[ReadingMode, Callable[[str], str | None]], ...] = (
    ("telex", decode_telex),
    ("telex", decode_abbreviation),
    ("vni", decode_vni),
)


def _decoded(
    word: str, literal: tuple[Syllable, ...], doc_freq: DocFreq, sure: bool
) -> tuple[Syllable, ReadingMode] | None:
    """Return the syllable a typed word spells and its input method, when that reading wins.

    Unless ``sure`` (another word is certainly keystrokes), a word the corpus uses
    more than ``TYPED_RARE`` times stays as typed.
    """
    if any(s.accented for s in literal):
        return None
    # A word that splits into several syllables as typed (`vie65t`) is no word of the corpus.
    typed = doc_freq(literal[0].folded) if len(literal) == 1 else 0
    if typed > TYPED_RARE and not sure:
        return None
    for mode, decode in DECODERS:
        spelled = decode(word)
        if not spelled:
            continue
        decoded = to_syllables(spelled)
        if len(decoded) == 1 and doc_freq(decoded[0].folded) > DOMINANCE * typed:
            return decoded[0], mode
    return None


def _read_clause(clause: Clause, doc_freq: DocFreq, modes: set[ReadingMode], sure: bool) -> Clause:
    """Return the clause with keystroke words replaced by what they spell."""
    if clause.alternatives:
        return replace(
            clause, alternatives=tuple(_read_clause(a, doc_freq, modes, sure) for a in clause.alternatives)
        )
    syllables: list[Syllable] = []
    changed = False
    for word in clause.words:
        literal = to_syllables(word)
        found = _decoded(word, literal, doc_freq, sure) if literal else None
        if found:
            modes.add(found[1])
            syllables.append(found[0])
            changed = True
        else:
            syllables.extend(literal)
    return replace(clause, syllables=tuple(syllables)) if changed else clause


def choose_reading(parsed: ParsedQuery, doc_freq: DocFreq) -> tuple[ParsedQuery, ReadingMode]:
    """Return the query as it should be searched and the reading used: literal, telex or vni.

    First only words the corpus (almost) never uses are decoded; if one was, the
    reader was typing keystrokes, so ambiguous words (`max` for `mã`) are decoded too.
    """
    return reading_candidates(parsed, doc_freq)[0]


def reading_candidates(parsed: ParsedQuery, doc_freq: DocFreq) -> list[tuple[ParsedQuery, ReadingMode]]:
    """Return the readings to try in turn until one finds articles; the words as typed come last.

    Decoded words carry marks and so match only those marks: when decoding the
    ambiguous words too (`taxi` read as `tãi`) finds nothing, the reading that
    decodes only the words the corpus never uses comes next.
    """
    if parsed.accented:
        # Accents typed: the input method was on.
        return [(parsed, "literal")]
    modes: set[ReadingMode] = set()
    careful = tuple(_read_clause(c, doc_freq, modes, sure=False) for c in parsed.clauses)
    if not modes:
        return [(parsed, "literal")]
    careful_mode = _mode(modes)
    bold = tuple(_read_clause(c, doc_freq, modes, sure=True) for c in parsed.clauses)
    found = [_reading(parsed, bold, _mode(modes))]
    if careful != bold:
        found.append(_reading(parsed, careful, careful_mode))
    return [*found, (parsed, "literal")]


def _mode(modes: set[ReadingMode]) -> ReadingMode:
    """Return the name of a reading that used ``modes``."""
    return "telex" if "telex" in modes else "vni"


def _reading(
    parsed: ParsedQuery, clauses: tuple[Clause, ...], mode: ReadingMode
) -> tuple[ParsedQuery, ReadingMode]:
    """Return ``parsed`` with decoded clauses, and the reading's mode."""
    text = " ".join(c.text() for c in clauses)
    return replace(parsed, text=text, clauses=clauses), mode
