"""Mark matched words in the stored (accented) text: pure functions, HTML-escaped output.

Matching is on folded syllables, so ``da nang`` marks ``Đà Nẵng`` and an NFD or
Telex query marks the same words as its accented spelling. Everything but the
``<mark>`` tags is escaped.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Iterator
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


# A letter, as the syllable splitter in ``searchsvc.text`` counts one.
_LETTER = r"[^\W\d_]"


@functools.lru_cache(maxsize=256)
def _target_pattern(targets: Targets) -> re.Pattern[str] | None:
    """Compile a search for whole folded letter-words and letter prefixes; None when one has a digit."""
    terms = (*targets.words, *targets.prefixes)
    if not terms or not all(t.isalpha() and t.isascii() for t in terms):
        return None
    words = sorted(map(re.escape, targets.words), key=len, reverse=True)
    prefixes = [re.escape(p) + _LETTER + "*" for p in sorted(targets.prefixes, key=len, reverse=True)]
    alternation = "|".join(words + prefixes)
    return re.compile(rf"(?<!{_LETTER})(?:{alternation})(?!{_LETTER})")


def _iter_found(text: str, targets: Targets) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, folded word) of every matched syllable of ``text``, in order, in one pass.

    Fast path: one regular expression over the folded text, whose offsets equal
    the original's when folding kept every character one character (NFC
    Vietnamese does). Prefixes take it only when the folded text is ASCII, so a
    letter that folds to several (CJK via unidecode) is still compared folded.
    """
    pattern = _target_pattern(targets)
    if pattern is not None:
        folded = fold_in_place(text)
        if len(folded) == len(text) and (not targets.prefixes or folded.isascii()):
            return ((m.start(), m.end(), m.group()) for m in pattern.finditer(folded))
    return ((s, e, forms(raw)[1]) for s, e, raw in spans(text) if targets.matches(forms(raw)[1]))


def _found(text: str, targets: Targets) -> list[tuple[int, int, str]]:
    """Return (start, end, folded word) of every matched syllable of ``text``."""
    return list(_iter_found(text, targets))


def _matched_spans(text: str, targets: Targets) -> list[tuple[int, int]]:
    """Return the character spans of ``text`` whose syllables match."""
    return [(start, end) for start, end, _ in _found(text, targets)]


def contains(text: str, targets: Targets) -> bool:
    """Tell whether ``text`` has a syllable to mark."""
    return bool(text) and next(_iter_found(text, targets), None) is not None


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
    best_start = _best_window(found, width)
    start = _passage_start(text, best_start, width)
    end = _word_end(text, min(len(text), start + width))
    marked = [(s, e) for s, e, _ in found if s >= start and e <= end]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    return prefix + _render(text, marked, start, end) + suffix


def _best_window(found: list[tuple[int, int, str]], width: int) -> int:
    """Return where the ``width``-character window with the most distinct matched words starts.

    A window starts at a match and holds the matches ending within ``width`` of
    it; it scores 100 per distinct word plus 1 per match, and the first best
    wins. Two pointers slide over the matches, so this is linear in their
    number (rescanning the rest per match took 95 s on a 1 MB body).
    """
    counts: Counter[str] = Counter()
    best_start, best_score = found[0][0], -1
    end = 0  # the window is found[i:end]
    for i, (start, _, word) in enumerate(found):
        end = max(end, i)
        while end < len(found) and found[end][1] <= start + width:
            counts[found[end][2]] += 1
            end += 1
        score = len(counts) * 100 + (end - i)
        if score > best_score:
            best_start, best_score = start, score
        if end > i:
            counts[word] -= 1
            if not counts[word]:
                del counts[word]
    return best_start


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
