"""The corpus's own vocabulary: accent restoration, spelling candidates, autocomplete.

Built once per index generation from titles and summaries (the words readers
type), saved beside the index, and loaded by every serving process. Pure
Python on top of ``searchsvc.text``; no Whoosh.
"""

from __future__ import annotations

import bisect
import heapq
import html
import os
import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchsvc.text import fold, forms, normalize, spans, syllables

LEXICON_FILE = "lexicon.pickle"
MAX_NGRAM = 4
MIN_NGRAM_COUNT = 2
SHORT_PREFIX = 3
TOP_PER_SHORT_PREFIX = 12
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# A word the corpus uses this rarely, and never in a title or summary, may still be a typo,
# when a far commoner word (RARE_RATIO times) one edit away forms a known pair with its neighbour.
RARE_WORD = 3
RARE_RATIO = 100
# Autocomplete offers what a reader would pick: a phrase that does not stop inside a longer one
# ("Thủ tướng Phạm" when nearly every title goes on "Minh Chính"), nor on a word that needs a
# continuation, plus whole titles. A phrase is a fragment when one longer phrase has at least
# this share of its count.
FRAGMENT_SHARE = 0.6
# A word this often followed by one same word ends no phrase: "Minh" in "Phạm Minh Chính".
CONTINUATION_SHARE = 0.8
NAME_EXTRA_WORDS = 2
# Longer phrases of a candidate looked at to decide (they sort together, after it).
FRAGMENT_LOOKAHEAD = 64
# Whole titles offered beside the phrases, at most.
TITLE_SLOTS = 2
# Vietnamese function words a phrase never ends on (lower case, with marks: "lá" is no "là").
FUNCTION_WORDS = frozenset(
    "và của cho với là được bị các những một trong tại ở khi đã sẽ đang không về từ đến tới theo để vì "
    "do này đó thì mà nhưng hay hoặc lại ra vào lên xuống cũng rất nên sau trước trên dưới giữa như "
    "nếu còn chỉ mới vẫn từng nhiều ít có gì ai sao".split()
)
# Words joined by nothing but spaces stay in one phrase; punctuation breaks it.
_PHRASE_BREAK = re.compile(r"\S")


@dataclass(frozen=True)
class Completion:
    """One autocomplete proposal: accented display text and HTML with the typed prefix marked."""

    text: str
    html: str
    count: int


@dataclass
class Lexicon:
    """Word and phrase statistics of one index generation."""

    # folded word -> (most frequent exact form, occurrences)
    words: dict[str, tuple[str, int]] = field(default_factory=dict)
    # "folded1 folded2" -> (most frequent written form, count), e.g. "ha noi" -> ("Hà Nội", 812)
    pairs: dict[str, tuple[str, int]] = field(default_factory=dict)
    # autocomplete entries sorted by folded key: (key, display, count)
    keys: list[str] = field(default_factory=list)
    entries: list[tuple[str, int]] = field(default_factory=list)
    short: dict[str, list[int]] = field(default_factory=dict)

    def best_form(self, folded: str) -> str | None:
        """Return the most frequent accented form of a folded word."""
        found = self.words.get(folded)
        return found[0] if found else None

    def count(self, folded: str) -> int:
        """Return how often a folded word occurs in titles and summaries."""
        found = self.words.get(folded)
        return found[1] if found else 0

    def restore_accents(
        self,
        folded_words: list[str],
        pair_form: Callable[[str, str], tuple[str, int] | None] | None = None,
        word_form: Callable[[str], str | None] | None = None,
    ) -> list[str]:
        """Return the likeliest written form of each folded word, using word pairs for context.

        Each word takes its form from the commoner of the two pairs it belongs to
        (`bao lut mien trung` -> `bão lụt` and `miền Trung`, not the commoner lone
        words `báo` and `miễn`); a word in no known pair takes its commonest form.
        ``pair_form`` and ``word_form`` look further than the lexicon (the caller's corpus).
        """
        pair_form = pair_form or (lambda first, second: self.pairs.get(first + " " + second))
        word_form = word_form or self.best_form
        chosen: list[tuple[int, str] | None] = [None] * len(folded_words)
        for i in range(len(folded_words) - 1):
            pair = pair_form(folded_words[i], folded_words[i + 1])
            if not pair:
                continue
            form, count = pair
            halves = form.split(" ")
            if len(halves) != 2:
                continue
            if halves[0][:1].isupper() and not halves[1][:1].isupper():
                # `Bão lụt` opens a sentence; `Hà Nội` and `miền Trung` keep their capitals.
                halves[0] = halves[0].lower()
            for j, half in ((i, halves[0]), (i + 1, halves[1])):
                held = chosen[j]
                if held is None or count > held[0]:
                    chosen[j] = (count, half)
        return [
            held[1] if held else word_form(word) or word
            for held, word in zip(chosen, folded_words, strict=True)
        ]

    def correct(
        self,
        folded: str,
        before: str = "",
        after: str = "",
        count: Callable[[str], int] | None = None,
        together: Callable[[str, str], int] | None = None,
        prefetch: Callable[[Iterable[str]], None] | None = None,
    ) -> str | None:
        """Return the known word one edit away from an unknown folded word.

        A candidate that forms a known word pair with its neighbours wins over a
        merely frequent one (`giao ducc` -> `duc`, not the commoner `duoc`).
        ``count`` gives a word's frequency and ``together`` a pair's (default: counts
        in titles and summaries); ``prefetch`` is told every candidate first, so a
        remote index answers them in one request.
        """
        count = count or self.count
        together = together or self.pair_count
        if not folded or len(folded) > 20:
            return None
        own = count(folded)
        # A word of a title or summary is a word; one the bodies use a few times may be a typo.
        if own > RARE_WORD or (own and self.count(folded)):
            return None
        best: tuple[int, int, str] | None = None
        candidates = set(_edits(folded))
        if prefetch is not None:
            prefetch(candidates)
        for candidate in candidates:
            frequency = count(candidate)
            if not frequency or frequency < RARE_RATIO * own:
                continue
            context = (together(before, candidate) if before else 0) + (
                together(candidate, after) if after else 0
            )
            # A rare word of the corpus (`phuu`) is a typo only beside a word its correction pairs with.
            if own and not context:
                continue
            if best is None or (context, frequency, candidate) > best:
                best = (context, frequency, candidate)
        return best[2] if best else None

    def pair_count(self, first: str, second: str) -> int:
        """Return how often two folded words stand together in titles."""
        if not first or not second:
            return 0
        found = self.pairs.get(first + " " + second)
        return found[1] if found else 0

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return the most frequent whole phrases starting with ``prefix``, accents ignored, and titles."""
        key = prefix_key(prefix)
        if not key:
            return []
        found: dict[str, Completion] = {}
        for i in self._picked(key, limit):
            display, count = self.entries[i]
            display = self._finish_name(display, self.keys[i])
            found.setdefault(display.lower(), _marked_completion(display, count, key))
        return list(found.values())

    def _picked(self, key: str, limit: int) -> list[int]:
        """Return the entries completing ``key``: whole phrases by count, then titles."""
        if len(key) <= SHORT_PREFIX and self.short:
            picked = [i for i in self.short.get(key, []) if self._whole(i)][:limit]
        else:
            lo = bisect.bisect_left(self.keys, key)
            hi = bisect.bisect_left(self.keys, key + "\uffff", lo)
            order = self._by_count
            titles = heapq.nsmallest(limit, (i for i in range(lo, hi) if _is_title(self.keys[i])), key=order)
            room = limit - min(len(titles), TITLE_SLOTS)  # titles keep their slots and fill the rest
            # Fragments and titles are skipped here; a few times the room is enough to fill it.
            ranked = heapq.nsmallest(4 * limit, range(lo, hi), key=order)
            phrases = [i for i in ranked if not _is_title(self.keys[i]) and self._whole(i)][:room]
            picked = phrases + titles[: limit - len(phrases)]
        return picked

    def _by_count(self, index: int) -> tuple[int, str]:
        """Return the sort key of an entry: most frequent first, then by key."""
        return -self.entries[index][1], self.keys[index]

    def _whole(self, index: int) -> bool:
        """Tell whether entry ``index`` is a phrase a reader would pick (not a fragment of a longer one)."""
        words = self.entries[index][0].lower().split()
        if len(words) > 1 and words[-1] in FUNCTION_WORDS:
            return False
        return self._dominant_child(index, FRAGMENT_SHARE) is None

    def _whole_key(self, key: str) -> bool:
        """Tell whether ``key`` is no fragment here (True for a key this lexicon lacks)."""
        at = bisect.bisect_left(self.keys, key)
        return at >= len(self.keys) or self.keys[at] != key or self._whole(at)

    def _finish_name(self, display: str, key: str) -> str:
        """Return a longest-counted phrase carried on to the end of the name it stops in."""
        if key.count(" ") + 1 != MAX_NGRAM:
            return display  # a shorter phrase has counted longer ones; a title is whole
        last = key.rsplit(" ", 1)[-1]
        for _ in range(NAME_EXTRA_WORDS):
            after = self._continuation(last)
            if after is None:
                break
            last = after[0]
            display += " " + after[1]
        return display

    def _continuation(self, folded: str) -> tuple[str, str] | None:
        """Return the (folded, written) word that nearly always follows ``folded`` in titles, if one does."""
        at = bisect.bisect_left(self.keys, folded)
        if at >= len(self.keys) or self.keys[at] != folded:
            return None
        child = self._dominant_child(at, CONTINUATION_SHARE)
        if child is None:
            return None
        return self.keys[child].rsplit(" ", 1)[1], self.entries[child][0].rsplit(" ", 1)[1]

    def _dominant_child(self, index: int, share: float) -> int | None:
        """Return the entry one word longer than entry ``index`` holding ``share`` of its count, if any."""
        count = self.entries[index][1]
        longer = self.keys[index] + " "
        words = longer.count(" ")
        for j in range(index + 1, min(index + 1 + FRAGMENT_LOOKAHEAD, len(self.keys))):
            if not self.keys[j].startswith(longer):
                break
            # One sighting proves nothing (the additions of `index add` count every phrase once).
            if self.keys[j].count(" ") == words and self.entries[j][1] >= max(share * count, MIN_NGRAM_COUNT):
                return j
        return None

    def _completion(self, index: int, key: str) -> Completion:
        """Build the completion for entry ``index`` with the typed part marked."""
        display, count = self.entries[index]
        return _marked_completion(display, count, key)

    def entry(self, key: str) -> tuple[str, int] | None:
        """Return the autocomplete entry (display, count) whose key is exactly ``key``."""
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            return self.entries[at]
        return None


def _is_title(key: str) -> bool:
    """Tell whether an autocomplete key is a whole title (longer than any counted phrase)."""
    return key.count(" ") >= MAX_NGRAM


def _marked_completion(display: str, count: int, key: str) -> Completion:
    """Build a completion of ``display`` with the part spelling ``key`` marked."""
    start, cut = _display_span(display, len(key))
    marked = (
        f"{html.escape(display[:start])}<mark>{html.escape(display[start:cut])}</mark>"
        f"{html.escape(display[cut:])}"
    )
    return Completion(display, marked, count)


def prefix_key(text: str) -> str:
    """Return the folded, space-normalized key of typed text (a trailing space is kept)."""
    words = " ".join(forms(raw)[1] for _, _, raw in spans(normalize(text)))
    if words and text[-1:].isspace():
        words += " "
    return words


def _display_span(display: str, key_length: int) -> tuple[int, int]:
    """Return the characters of ``display`` that spell the first ``key_length`` characters of its key.

    The key (``prefix_key``) is the folded syllables joined by single spaces, so
    punctuation and runs of spaces in the display count for nothing, and the
    mark starts at the first letter: `'Giày thủy tinh'` for `giay thuy` marks
    `Giày thủy`, not the quote and one letter short.
    """
    found = list(spans(display))
    if not found:
        return 0, 0
    consumed = 0
    previous_end = found[0][0]
    for number, (start, end, _) in enumerate(found):
        if number:
            consumed += 1  # the space between two syllables of the key
            if consumed >= key_length:
                return found[0][0], previous_end
        for offset, ch in enumerate(display[start:end]):
            if consumed >= key_length:
                return found[0][0], start + offset
            consumed += sum(c.isalnum() for c in fold(ch)) if ch.isalnum() else 0
        previous_end = end
        if consumed >= key_length:
            return found[0][0], end
    return found[0][0], len(display)


def _edits(word: str) -> Iterable[str]:
    """Yield the strings one deletion, transposition, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
            for ch in ALPHABET:
                yield left + ch + right[1:]
        if len(right) > 1:
            yield left + right[1] + right[0] + right[2:]
        for ch in ALPHABET:
            yield left + ch + right


def _phrases(text: str, written: dict[str, str]) -> Iterable[list[tuple[str, str]]]:
    """Split ``text`` into runs of (written, folded) words not broken by punctuation."""
    run: list[tuple[str, str]] = []
    last_end = 0
    for start, end, raw in spans(text):
        if run and _PHRASE_BREAK.search(text, last_end, start):
            yield run
            run = []
        form = written.get(raw)
        if form is None:
            form = written[raw] = normalize(raw)
        run.append((form, forms(raw)[1]))
        last_end = end
    if run:
        yield run


class LexiconBuilder:
    """Accumulate word, pair and phrase counts from titles and summaries."""

    def __init__(self) -> None:
        # Flat counters keyed by (folded, written): far cheaper than a Counter per word.
        self.exact: Counter[tuple[str, str]] = Counter()
        self.phrases: Counter[tuple[str, str]] = Counter()
        self.titles: Counter[tuple[str, str]] = Counter()
        self.written: dict[str, str] = {}

    def add(self, title: str, summary: str | None, weight: int = 1) -> None:
        """Count the words of one article's title (phrases too) and summary (words only).

        A ``weight`` of -1 takes a deleted article's words out again (1 and -1 only).
        """
        title = normalize(title)
        self.titles[(prefix_key(title), title)] += weight
        for run in _phrases(title, self.written):
            folded_run = [f for _, f in run]
            written_run = [w for w, _ in run]
            for i in range(len(run)):
                for n in range(1, min(MAX_NGRAM, len(run) - i) + 1):
                    self.phrases[(" ".join(folded_run[i : i + n]), " ".join(written_run[i : i + n]))] += (
                        weight
                    )
        if summary:
            # Counter.update counts an iterable in C; summaries are long.
            if weight > 0:
                self.exact.update(map(_swapped_forms, syllables(summary)))
            else:
                self.exact.subtract(Counter(map(_swapped_forms, syllables(summary))))

    def merge(self, other: LexiconBuilder) -> None:
        """Add another builder's counts to this one (counts may go to zero or below)."""
        for name in ("exact", "phrases", "titles"):
            mine: Counter[tuple[str, str]] = getattr(self, name)
            mine.update(getattr(other, name))

    def build(self, threshold: int = MIN_NGRAM_COUNT) -> Lexicon:
        """Return the finished lexicon (phrases and pairs seen fewer than ``threshold`` times are left out)."""
        words, pairs, table = _tables(self.exact, self.phrases, self.titles, threshold)
        keys = sorted(table)
        entries = [table[k] for k in keys]
        # Additions (threshold 1) are small: their completions are found by bisection alone.
        short = _short_prefixes(keys, entries) if threshold > 1 else {}
        return Lexicon(words, pairs, keys, entries, short)


Table = dict[str, tuple[str, int]]


def _tables(
    exact: Counter[tuple[str, str]],
    phrases: Counter[tuple[str, str]],
    titles: Counter[tuple[str, str]],
    threshold: int,
) -> tuple[Table, Table, Table]:
    """Return the words, pairs and autocomplete table of the counts; each key's entry depends on its counts alone."""
    words_counts = Counter(exact)
    pairs_counts: Counter[tuple[str, str]] = Counter()
    for (key, written), n in phrases.items():
        if " " not in key:
            words_counts[(key, written.lower())] += n
        elif key.count(" ") == 1:
            pairs_counts[(key, written)] += n
    words = {k: v for k, v in _best_forms(words_counts, lower=True).items() if v[1]}
    # Negative counts exist only in additions (deleted articles): they are kept to subtract.
    pairs = {k: v for k, v in _best_forms(pairs_counts).items() if v[1] >= threshold or v[1] < 0}
    table = {k: v for k, v in _best_forms(phrases).items() if v[1] >= threshold or v[1] < 0}
    for key, value in _best_forms(titles).items():
        if value[1]:
            table.setdefault(key, value)
    return words, pairs, table


def _swapped_forms(raw: str) -> tuple[str, str]:
    """Return (folded, exact) of a raw syllable, the key order of the word counts."""
    exact, folded = forms(raw)
    return folded, exact


def _best_forms(counts: Counter[tuple[str, str]], lower: bool = False) -> dict[str, tuple[str, int]]:
    """Map each key to its most frequent accent form (then capitalization) and its total count."""
    by_accents: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for (key, written), n in counts.items():
        by_accents[(key, written.lower())] += n
        totals[key] += n
    best_lower: dict[str, tuple[int, str]] = {}
    for (key, lowered), n in by_accents.items():
        if key not in best_lower or (n, lowered) > best_lower[key]:
            best_lower[key] = (n, lowered)
    if lower:
        return {key: (lowered, totals[key]) for key, (_, lowered) in best_lower.items()}
    best: dict[str, tuple[int, str]] = {}
    for (key, written), n in counts.items():
        if written.lower() == best_lower[key][1] and (key not in best or (n, written) > best[key]):
            best[key] = (n, written)
    return {key: (written, totals[key]) for key, (_, written) in best.items()}


def _short_prefixes(keys: list[str], entries: list[tuple[str, int]]) -> dict[str, list[int]]:
    """Precompute the top entries for every prefix of up to SHORT_PREFIX characters."""
    buckets: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for i, key in enumerate(keys):
        count = entries[i][1]
        for n in range(1, min(SHORT_PREFIX, len(key)) + 1):
            bucket = buckets[key[:n]]
            item = (count, key, i)
            if len(bucket) < TOP_PER_SHORT_PREFIX:
                heapq.heappush(bucket, item)
            elif item > bucket[0]:
                heapq.heapreplace(bucket, item)
    return {p: [i for _, _, i in sorted(b, key=lambda t: (-t[0], t[1]))] for p, b in buckets.items()}


def save_lexicon(lexicon: Lexicon, directory: Path) -> None:
    """Write the lexicon beside an index generation."""
    with open(directory / LEXICON_FILE, "wb") as handle:
        pickle.dump(lexicon, handle, protocol=pickle.HIGHEST_PROTOCOL)


def load_lexicon(directory: Path) -> Lexicon:
    """Read a generation's lexicon; an index without one gets an empty lexicon."""
    try:
        with open(directory / LEXICON_FILE, "rb") as handle:
            lexicon: Lexicon = pickle.load(handle)
            return lexicon
    except FileNotFoundError:
        return Lexicon()


# ---------------------------------------------------------------- additions by `index add`

# ``lexicon-delta.<toc>.pickle``: the counts of every article added (and, negated, deleted)
# since the generation was built, as of Whoosh TOC generation <toc>. A reader serving TOC n
# uses the newest file numbered n or less, so a file written for a commit that never
# happened (a killed `index add`) is never read.
DELTA_PREFIX = "lexicon-delta."
DELTA_SUFFIX = ".pickle"


def _delta_files(directory: Path) -> list[tuple[int, Path]]:
    """Return the additions files of a generation with their TOC numbers, oldest first."""
    found: list[tuple[int, Path]] = []
    for path in Path(directory).glob(DELTA_PREFIX + "*" + DELTA_SUFFIX):
        number = path.name[len(DELTA_PREFIX) : -len(DELTA_SUFFIX)]
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def _read_additions(directory: Path, toc: int) -> dict[str, Any] | None:
    """Return the additions file in force at TOC ``toc``: its counts and its tables."""
    usable = [path for number, path in _delta_files(directory) if number <= toc]
    if not usable:
        return None
    with open(usable[-1], "rb") as handle:
        found: dict[str, Any] = pickle.load(handle)
    return found


def record_additions(changes: LexiconBuilder, directory: Path, toc: int) -> None:
    """Add the counts of one `index add`/`index delete` to those in force and write them for TOC ``toc``.

    Written atomically before that TOC is committed. The tables are updated for the
    keys this change touches only (each key's entry depends on its own counts), so an
    add costs about the same however many articles were added since the build.
    """
    found = _read_additions(directory, toc - 1)
    counts: LexiconBuilder = found["counts"] if found else LexiconBuilder()
    counts.merge(changes)
    words: Table = found["words"] if found else {}
    pairs: Table = found["pairs"] if found else {}
    table: Table = found["table"] if found else {}
    touched_words = {k for k, _ in changes.exact} | {k for k, _ in changes.phrases if " " not in k}
    touched_table = {k for k, _ in changes.phrases} | {k for k, _ in changes.titles}
    new_words, new_pairs, new_table = _tables(
        Counter({kw: n for kw, n in counts.exact.items() if kw[0] in touched_words}),
        Counter(
            {kw: n for kw, n in counts.phrases.items() if kw[0] in touched_table or kw[0] in touched_words}
        ),
        Counter({kw: n for kw, n in counts.titles.items() if kw[0] in touched_table}),
        threshold=1,  # every added article counts: a name published once is what readers look up next
    )
    for old, new, touched in (
        (words, new_words, touched_words),
        (pairs, new_pairs, {k for k in touched_table if k.count(" ") == 1}),
        (table, new_table, touched_table),
    ):
        for key in touched:
            if key in new:
                old[key] = new[key]
            else:
                old.pop(key, None)
    path = Path(directory) / f"{DELTA_PREFIX}{toc}{DELTA_SUFFIX}"
    tmp = path.with_name(path.name + ".tmp")
    counts.written = {}
    with open(tmp, "wb") as handle:
        contents = {"counts": counts, "words": words, "pairs": pairs, "table": table}
        pickle.dump(contents, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def prune_additions(directory: Path, toc: int) -> None:
    """Delete additions files older than the one serving TOC ``toc`` and its predecessor."""
    files = [path for number, path in _delta_files(directory) if number <= toc]
    for path in files[:-2]:
        path.unlink(missing_ok=True)


def discard_additions_after(directory: Path, toc: int) -> None:
    """Delete additions written for a TOC that was never committed (a failed `index add`)."""
    for number, path in _delta_files(directory):
        if number > toc:
            path.unlink(missing_ok=True)
    for tmp in Path(directory).glob(DELTA_PREFIX + "*" + DELTA_SUFFIX + ".tmp"):
        tmp.unlink(missing_ok=True)


class _Combined:
    """A ``key -> (form, count)`` table read as a base table plus additions (counts summed)."""

    def __init__(self, base: Any, extra: Any) -> None:
        self.base = base
        self.extra = extra

    def get(self, key: str, default: Any = None) -> Any:
        """Return (commonest form, summed count) of ``key``, or ``default`` when the sum is not positive."""
        old = self.base.get(key)
        new = self.extra.get(key)
        if new is None:
            return default if old is None else old
        if old is None:
            return new if new[1] > 0 else default
        count = old[1] + new[1]
        if count <= 0:
            return default
        return (old[0] if old[1] >= new[1] else new[0]), count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class LayeredLexicon(Lexicon):
    """A generation's lexicon with the additions of later `index add`/`index delete` runs."""

    def __init__(self, base: Lexicon, extra: Lexicon) -> None:
        super().__init__(
            words=_Combined(base.words, extra.words),  # type: ignore[arg-type]
            pairs=_Combined(base.pairs, extra.pairs),  # type: ignore[arg-type]
        )
        self.base = base
        self.extra = extra

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return completions of both layers, counts summed (entries of deleted articles drop out)."""
        key = prefix_key(prefix)
        if not key:
            return []
        candidates = {
            layer.keys[i] for layer in (self.base, self.extra) for i in layer._picked(key, 2 * limit)
        }
        # The additions count each phrase a few times at most: the base says what is a fragment.
        candidates = {c for c in candidates if self.base._whole_key(c)}
        merged: list[tuple[int, str, str]] = []
        for candidate in candidates:
            old, new = self.base.entry(candidate), self.extra.entry(candidate)
            count = (old[1] if old else 0) + (new[1] if new else 0)
            if count <= 0:
                continue
            display = new[0] if new and (old is None or new[1] > old[1]) else old[0] if old else ""
            merged.append((-count, candidate, display))
        merged.sort()
        return [
            _marked_completion(self.base._finish_name(display, candidate), -count, key)
            for count, candidate, display in merged[:limit]
        ]

    def entry(self, key: str) -> tuple[str, int] | None:
        """Return the entry of ``key`` with both layers' counts summed."""
        old, new = self.base.entry(key), self.extra.entry(key)
        if new is None:
            return old
        count = (old[1] if old else 0) + new[1]
        return None if count <= 0 else ((old[0] if old else new[0]), count)


def with_additions(base: Lexicon, directory: Path, toc: int) -> Lexicon:
    """Return ``base`` with the additions in force at TOC ``toc`` (``base`` itself when there are none)."""
    found = _read_additions(directory, toc)
    if found is None:
        return base
    table: Table = found["table"]
    keys = sorted(table)
    extra = Lexicon(found["words"], found["pairs"], keys, [table[k] for k in keys], {})
    return LayeredLexicon(base, extra)
