"""Mark matched words in the stored (accented) text: pure functions, HTML-escaped output.

Matching is on folded syllables, so ``da nang`` marks ``Đà Nẵng`` and an NFD or
Telex query marks the same words as its accented spelling. Everything but the
``<mark>`` tags is escaped.

Words that the query puts next to each other are marked where they stand
together in the text:

- a phrase (``"ha noi"``, or a word the tokenizer splits such as ``COVID-19``
  or ``TP.HCM``) is marked only where all of it stands together;
- neighbouring query words (``ha noi``) are marked as a run wherever two or more
  of them stand together in query order (``Hà Nội``). Such a word is marked
  alone (``nội`` in ``nội thành``) only when the text never has it together with
  a query neighbour; ``Targets.settled`` extends that to a whole article, so a title
  without ``Hà Nội`` marks no stray ``Nội`` when the body has ``Hà Nội``.

Two syllables stand together when only spaces (no line break) or one of
``- . /`` separate them. Everything is linear in the length of the text.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from searchsvc.text import fold_in_place, forms, spans

ELLIPSIS = "…"
# What may separate two syllables that stand together: spaces, or one joiner (COVID-19, TP.HCM, 24/7).
_TOGETHER_GAP = re.compile(r"[^\S\n]+|[-./]")
# A found syllable: (start, end, folded word).
Found = tuple[int, int, str]
# A syllable to mark: (start, end, folded word, stands together, joined to the next mark).
Mark = tuple[int, int, str, bool, bool]


@dataclass(frozen=True)
class Targets:
    """What to mark: folded words, prefixes, phrases and pairs of neighbouring query words."""

    words: frozenset[str]
    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    pairs: frozenset[tuple[str, str]] = frozenset()
    # Words typed with marks: folded word -> the exact forms that may be marked (`bao` -> `bão`).
    exact: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @functools.cached_property
    def syllables(self) -> frozenset[str]:
        """Return every folded word a mark can start from (words, phrase and pair syllables)."""
        found = set(self.words)
        for phrase in self.phrases:
            found.update(phrase)
        for pair in self.pairs:
            found.update(pair)
        return frozenset(found)

    def matches(self, folded: str) -> bool:
        """Tell whether a folded syllable may be marked (alone or in a run)."""
        return folded in self.syllables or self.prefixed(folded)

    def prefixed(self, folded: str) -> bool:
        """Tell whether a folded syllable starts with one of the prefixes."""
        return any(folded.startswith(p) for p in self.prefixes)

    def settled(self, *texts: str) -> Targets:
        """Return these targets without the lone words that stand together with a query neighbour in ``texts``.

        Used per article (title, lead, body): where the article has ``Hà Nội``, a
        ``nội`` elsewhere in it is a stray syllable, in its title too.
        """
        if not self.pairs:
            return self
        pair_words = {word for pair in self.pairs for word in pair}
        paired: set[str] = set()
        for text in texts:
            if paired >= pair_words:
                break  # the title or lead settled everything: the body need not be read
            if text:
                paired |= _links(text, _found(text, self), self)[1]
        return dataclasses.replace(self, words=self.words - paired) if paired & self.words else self

    @functools.cached_property
    def best_score(self) -> tuple[int, int] | None:
        """Return the best a passage can score (distinct words, distinct words together); None with prefixes."""
        if self.prefixes:
            return None
        together = {word for pair in self.pairs for word in pair}
        for phrase in self.phrases:
            together.update(phrase)
        return len(self.syllables), len(together)

    @property
    def runs(self) -> bool:
        """Tell whether some words are marked only or preferably where they stand together."""
        return bool(self.phrases or self.pairs)


# A letter, as the syllable splitter in ``searchsvc.text`` counts one.
_LETTER = r"[^\W\d_]"
_IS_LETTER = re.compile(_LETTER)


@functools.cache
def _folding() -> tuple[dict[str, str], re.Pattern[str]]:
    """Return, per ASCII letter, a regex class of the characters that fold to it, and a search for dropped ones.

    Built once from ``fold_in_place`` over the Basic Multilingual Plane, so the
    raw text can be searched without folding it first (folding a 5 KB body cost
    about 0.3 ms, three times the search).
    """
    folds_to: dict[str, list[str]] = {}
    dropped: list[str] = []
    for code in range(0x10000):
        ch = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        folded = fold_in_place(ch)
        if folded == "":
            dropped.append(ch)
        elif folded.isascii() and folded.isalpha() and len(folded) == 1:
            folds_to.setdefault(folded, []).append(ch)
    classes = {letter: "[" + re.escape("".join(chars)) + "]" for letter, chars in folds_to.items()}
    return classes, re.compile("[" + re.escape("".join(dropped)) + "]")


# Patterns per query (about 10 KB each), kept for the head of the query log: a few hundred topics recur all day.
PATTERN_CACHE = 1024


@functools.lru_cache(maxsize=PATTERN_CACHE)
def _target_pattern(targets: Targets) -> re.Pattern[str] | None:
    """Compile a search for whole folded letter-words and letter prefixes; None when one has a digit."""
    terms = (*targets.syllables, *targets.prefixes)
    if not terms or not all(t.isalpha() and t.isascii() for t in terms):
        return None
    words = sorted(map(re.escape, targets.syllables), key=len, reverse=True)
    prefixes = [re.escape(p) + _LETTER + "*" for p in sorted(targets.prefixes, key=len, reverse=True)]
    alternation = "|".join(words + prefixes)
    return re.compile(rf"(?<!{_LETTER})(?:{alternation})(?!{_LETTER})")


@functools.lru_cache(maxsize=PATTERN_CACHE)
def _raw_pattern(targets: Targets) -> re.Pattern[str] | None:
    """Compile a search for the whole words in the unfolded text (``noi`` as ``n[oòóô…]i``); None with prefixes.

    The start of a word is checked per match: a look-behind tried at every
    position made the search three times slower.
    """
    if targets.prefixes or _target_pattern(targets) is None:
        return None
    classes = _folding()[0]
    words = sorted(targets.syllables, key=len, reverse=True)
    alternation = "|".join("".join(classes[letter] for letter in word) for word in words)
    return re.compile(rf"(?:{alternation})(?!{_LETTER})")


def _iter_found(text: str, targets: Targets) -> Iterator[Found]:
    """Yield (start, end, folded word) of every syllable of ``text`` that may be marked, in order, in one pass.

    Fast paths, whose offsets equal the original's when folding keeps every
    character one character (NFC Vietnamese does; combining marks and
    zero-width characters do not): words are searched in the text itself with
    classes of the letters that fold alike; prefixes with one regular
    expression over the folded text, and only when it is ASCII, so a letter
    that folds to several (CJK via unidecode) is still compared folded.
    """
    raw = _raw_pattern(targets)
    if raw is not None and not _folding()[1].search(text):
        return (
            (m.start(), m.end(), fold_in_place(m.group()))
            for m in raw.finditer(text)
            if not m.start() or not _IS_LETTER.match(text, m.start() - 1)
        )
    pattern = _target_pattern(targets)
    if pattern is not None:
        folded = fold_in_place(text)
        if len(folded) == len(text) and (not targets.prefixes or folded.isascii()):
            return ((m.start(), m.end(), m.group()) for m in pattern.finditer(folded))
    return ((s, e, forms(raw)[1]) for s, e, raw in spans(text) if targets.matches(forms(raw)[1]))


def _found(text: str, targets: Targets) -> list[Found]:
    """Return (start, end, folded word) of every syllable of ``text`` that may be marked.

    A word typed with marks is marked only in its own marks (``bão``, not ``báo``).
    """
    found = _found_once(text, Targets(targets.syllables, targets.prefixes))
    if not targets.exact:
        return list(found)
    allowed = dict(targets.exact)
    return [f for f in found if f[2] not in allowed or forms(text[f[0] : f[1]])[0] in allowed[f[2]]]


@functools.lru_cache(maxsize=16)
def _found_once(text: str, candidates: Targets) -> tuple[Found, ...]:
    """Find the candidates in ``text`` once for a hit's title, lead and body (settled, marked, snippet)."""
    return tuple(_iter_found(text, candidates))


def _links(text: str, found: list[Found], targets: Targets) -> tuple[list[bool], set[str]]:
    """Return which found syllables stand together with the next as the query has them, and the paired words.

    ``links[i]`` joins ``found[i]`` and ``found[i + 1]``: a pair of neighbouring
    query words, or two syllables of one whole phrase occurrence. The set holds
    the words that stand together with a query neighbour (pairs only).
    """
    together = [
        _TOGETHER_GAP.fullmatch(text, found[i][1], found[i + 1][0]) is not None for i in range(len(found) - 1)
    ]
    links = [False] * len(together)
    paired: set[str] = set()
    if targets.pairs:
        for i, joined in enumerate(together):
            if joined and (found[i][2], found[i + 1][2]) in targets.pairs:
                links[i] = True
                paired.update((found[i][2], found[i + 1][2]))
    if targets.phrases:
        starts: dict[str, list[tuple[str, ...]]] = {}
        for phrase in targets.phrases:
            starts.setdefault(phrase[0], []).append(phrase)
        for i, (_, _, word) in enumerate(found):
            for phrase in starts.get(word, ()):
                # Phrases are at most max_terms long, so this stays linear in the text.
                last = i + len(phrase) - 1
                if last < len(found) and all(
                    together[i + k] and found[i + k + 1][2] == phrase[k + 1] for k in range(len(phrase) - 1)
                ):
                    links[i:last] = [True] * (last - i)
    return links, paired


def _marks(text: str, targets: Targets) -> list[Mark]:
    """Return the syllables of ``text`` to mark: runs where query neighbours stand together, and lone words."""
    found = _found(text, targets)
    if not targets.runs:
        return [(s, e, w, False, False) for s, e, w in found]
    links, paired = _links(text, found, targets)
    lone = targets.words - paired
    marks: list[Mark] = []
    for i, (start, end, word) in enumerate(found):
        joined = i < len(links) and links[i]
        together = joined or (i > 0 and links[i - 1])
        if together or word in lone or (targets.prefixes and targets.prefixed(word)):
            marks.append((start, end, word, together, joined))
    return marks


def contains(text: str, targets: Targets) -> bool:
    """Tell whether ``text`` has a syllable to mark."""
    if not text:
        return False
    if not targets.runs:
        return next(_iter_found(text, targets), None) is not None
    return bool(_marks(text, targets))


def mark(text: str, targets: Targets, start: int = 0, end: int | None = None) -> str:
    """Return ``text[start:end]`` escaped, with ``<mark>`` around matched syllables."""
    end = len(text) if end is None else end
    return _render(text, [m for m in _marks(text, targets) if m[0] >= start and m[1] <= end], start, end)


def _render(text: str, marked: list[Mark], start: int, end: int) -> str:
    """Escape ``text[start:end]`` and wrap the ``marked`` syllables (neighbours merged into one mark)."""
    out: list[str] = []
    pos = start
    i = 0
    while i < len(marked):
        first, last = marked[i][0], marked[i][1]
        # Merge marks separated only by spaces, or joined in one run (COVID-19), so a phrase reads as one.
        while i + 1 < len(marked) and (marked[i][4] or text[last : marked[i + 1][0]].isspace()):
            i += 1
            last = marked[i][1]
        out.append(html.escape(text[pos:first]))
        out.append("<mark>" + html.escape(text[first:last]) + "</mark>")
        pos = last
        i += 1
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, targets: Targets, width: int = 240) -> str:
    """Return the passage of about ``width`` characters with the most query words (together), marked."""
    return best_snippet((text,), targets, width)


def best_snippet(texts: Sequence[str], targets: Targets, width: int = 240) -> str:
    """Return the best passage of ``texts`` (a lead, a body), marked; the first wins a tie.

    The passage with the most distinct query words, then the most standing
    together, is chosen across the texts (the number of marks only decides
    within a text), so a lead holding one of three words loses to the body
    sentence with all of them, and a lead as good as the body wins. Without a
    mark anywhere, it is the start of the first non-empty text.
    """
    best: tuple[tuple[int, int, int], str, list[Mark], int] | None = None
    for text in texts:
        marks = _marks(text, targets) if text else []
        if marks:
            start, score = _best_window(marks, width)
            if best is None or score[:2] > best[0][:2]:
                best = (score, text, marks, start)
                if score[:2] == targets.best_score:
                    break  # nothing later can do better (the lead usually): skip reading the body
    if best is None:
        text = next((t for t in texts if t), "")
        end = _word_end(text, min(len(text), width))
        return _render(text, [], 0, end) + (ELLIPSIS if end < len(text) else "")
    _, text, marks, best_start = best
    start = _passage_start(text, best_start, width)
    end = _word_end(text, min(len(text), start + width))
    inside = [m for m in marks if m[0] >= start and m[1] <= end]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    return prefix + _render(text, inside, start, end) + suffix


def _best_window(marks: list[Mark], width: int) -> tuple[int, tuple[int, int, int]]:
    """Return where the ``width``-character window with the most query words, together, starts, and its score.

    A window starts at a mark and holds the marks ending within ``width`` of it.
    It scores, in order: distinct words, distinct words standing together with
    a query neighbour, marks; the first best wins. Two pointers slide over the
    marks, so this is linear in their number (rescanning the rest per mark took
    95 s on a 1 MB body).
    """
    counts: Counter[str] = Counter()
    together: Counter[str] = Counter()
    best_start, best_score = marks[0][0], (-1, -1, -1)
    end = 0  # the window is marks[i:end]
    for i, (start, _, word, paired, _) in enumerate(marks):
        end = max(end, i)
        while end < len(marks) and marks[end][1] <= start + width:
            counts[marks[end][2]] += 1
            if marks[end][3]:
                together[marks[end][2]] += 1
            end += 1
        score = (len(counts), len(together), end - i)
        if score > best_score:
            best_start, best_score = start, score
        if end > i:
            _drop(counts, word)
            if paired:
                _drop(together, word)
    return best_start, best_score


def _drop(counts: Counter[str], word: str) -> None:
    """Count one ``word`` less, forgetting it at zero."""
    counts[word] -= 1
    if not counts[word]:
        del counts[word]


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
