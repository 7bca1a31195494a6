"""Mark matched words in the stored (accented) text: pure functions, HTML-escaped output.

Matching is on folded syllables, so ``da nang`` marks ``Đà Nẵng`` and an NFD or
Telex query marks the same words as its accented spelling. Everything but the
``<mark>`` tags is escaped.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from searchsvc.text import fold_in_place, forms, spans

ELLIPSIS = "…"


@dataclass(frozen=True)
class Targets:
    """The folded words and prefixes to mark."""

    words: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def matches(self, folded: str) -> bool:
        """Tell whether a folded syllable should be marked."""
        return folded in self.words or any(folded.startswith(p) for p in self.prefixes)


@functools.lru_cache(maxsize=256)
def _word_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    """Compile a search for whole folded letter-words; None when a word is not all letters."""
    if not words or not all(w.isalpha() and w.isascii() for w in words):
        return None
    alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alternation})(?![^\W\d_])")


def _found(text: str, targets: Targets) -> list[tuple[int, int, str]]:
    """Return (start, end, folded word) of every matched syllable of ``text``.

    Fast path: search the folded text, whose offsets equal the original's when
    folding kept every character one character (NFC Vietnamese does).
    """
    pattern = None if targets.prefixes else _word_pattern(targets.words)
    if pattern is not None:
        folded = fold_in_place(text)
        if len(folded) == len(text):
            return [(m.start(), m.end(), m.group()) for m in pattern.finditer(folded)]
    return [(s, e, forms(raw)[1]) for s, e, raw in spans(text) if targets.matches(forms(raw)[1])]


def _matched_spans(text: str, targets: Targets) -> list[tuple[int, int]]:
    """Return the character spans of ``text`` whose syllables match."""
    return [(start, end) for start, end, _ in _found(text, targets)]


def contains(text: str, targets: Targets) -> bool:
    """Tell whether ``text`` has a syllable to mark."""
    return bool(text) and bool(_found(text, targets))


def mark(text: str, targets: Targets, start: int = 0, end: int | None = None) -> str:
    """Return ``text[start:end]`` escaped, with ``<mark>`` around matched syllables."""
    end = len(text) if end is None else end
    return _render(
        text, [s for s in _matched_spans(text, targets) if s[0] >= start and s[1] <= end], start, end
    )


def _render(text: str, marked: list[tuple[int, int]], start: int, end: int) -> str:
    """Escape ``text[start:end]`` and wrap the ``marked`` spans (adjacent ones merged)."""
    out: list[str] = []
    pos = start
    i = 0
    while i < len(marked):
        first, last = marked[i]
        # Merge marks separated only by spaces so a phrase reads as one highlight.
        while i + 1 < len(marked) and text[last : marked[i + 1][0]].isspace():
            i += 1
            last = marked[i][1]
        out.append(html.escape(text[pos:first]))
        out.append("<mark>" + html.escape(text[first:last]) + "</mark>")
        pos = last
        i += 1
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, targets: Targets, width: int = 240) -> str:
    """Return the passage of about ``width`` characters with the most distinct matches, marked."""
    if not text:
        return ""
    found = _found(text, targets)
    if not found:
        end = _word_end(text, min(len(text), width))
        return _render(text, [], 0, end) + (ELLIPSIS if end < len(text) else "")
    best_start, best_score = found[0][0], -1
    for i, (s, _, _) in enumerate(found):
        window = {w for s2, e2, w in found[i:] if e2 <= s + width}
        score = len(window) * 100 + sum(1 for s2, e2, _ in found[i:] if e2 <= s + width)
        if score > best_score:
            best_start, best_score = s, score
    start = _passage_start(text, best_start, width)
    end = _word_end(text, min(len(text), start + width))
    marked = [(s, e) for s, e, _ in found if s >= start and e <= end]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    return prefix + _render(text, marked, start, end) + suffix


def _passage_start(text: str, first_match: int, width: int) -> int:
    """Start a passage a little before its first match, at a sentence or word boundary."""
    lead = max(0, first_match - width // 4)
    sentence = max(text.rfind(". ", lead, first_match), text.rfind("\n", lead, first_match))
    if sentence >= 0:
        return sentence + 1 + (text[sentence + 1 : sentence + 2] == " ")
    if lead == 0:
        return 0
    space = text.find(" ", lead, first_match)
    return space + 1 if space >= 0 else lead


def _word_end(text: str, end: int) -> int:
    """Move ``end`` back to the last word boundary so no word is cut."""
    if end >= len(text) or not text[end].isalnum():
        return end
    space = text.rfind(" ", 0, end)
    return space if space > 0 else end
