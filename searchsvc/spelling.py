"""'Did you mean': typo correction and accent restoration from the corpus's own words."""

from __future__ import annotations

import html
import itertools
from collections import Counter
from collections.abc import Iterable
from typing import Any, Protocol

from searchsvc.lexicon import Lexicon
from searchsvc.messages import Suggestion
from searchsvc.query import ParsedQuery
from searchsvc.schema import PROSE_FIELDS
from searchsvc.text import fold, forms, has_marks, normalize, spans

# Below this many results a reader may have mistyped: offer a corrected query.
FEW_RESULTS = 5
# How much of each article read for the written forms of a query's words.
CONTEXT_CHARS = 6_000
# Syllables either side within which another query word makes an occurrence count as in context.
NEAR = 4


class Corpus(Protocol):
    """What corrections read from an index: word counts, word pairs and a few articles (a backend)."""

    @property
    def lexicon(self) -> Lexicon:
        """Return the lexicon."""
        ...

    def doc_frequency(self, field: str, term: str) -> int:
        """Return how many articles hold ``term`` in ``field``."""
        ...

    def prefetch_frequencies(self, terms: Iterable[str]) -> None:
        """Look many words' frequencies up at once, ahead of their ``doc_frequency`` calls."""
        ...

    def pair_documents(self, first: str, second: str) -> tuple[int, list[dict[str, Any]]]:
        """Return about how many articles have two folded words adjacent in the body, and a few of them."""
        ...

    def richest_documents(self, words: list[str]) -> list[dict[str, Any]]:
        """Return a few articles holding the most of ``words`` (two at least)."""
        ...


def document_frequency(store: Corpus, folded: str) -> int:
    """Return how many documents use a folded word in title or body."""
    return store.doc_frequency("body", folded) + store.doc_frequency("title", folded)


def pair_frequency(store: Corpus, first: str, second: str) -> int:
    """Return about how many articles have two folded words side by side (titles, then bodies)."""
    known = store.lexicon.pair_count(first, second)
    if known:
        return known
    return store.pair_documents(first, second)[0]


class _Context:
    """Written forms of the query's words in the corpus's own text: as adjacent pairs, then in the same articles.

    The lexicon counts titles and summaries; a pair it lacks is looked up in
    bodies (`mien trung` -> `miền Trung`), and a word in no pair takes its
    commonest form beside its query neighbours in the articles holding the most
    query words (`bao` beside `lut` -> `bão`, not the commoner `báo`).
    """

    def __init__(self, store: Corpus, folded: list[str]) -> None:
        self.store = store
        self.folded = folded
        self._forms: dict[str, Counter[str]] | None = None

    def pair_form(self, first: str, second: str) -> tuple[str, int] | None:
        """Return the commonest written form of an adjacent pair and about how many articles have it."""
        known = self.store.lexicon.pairs.get(first + " " + second)
        if known:
            return known
        count, docs = self.store.pair_documents(first, second)
        if not count:
            return None
        written: Counter[str] = Counter()
        for fields in docs:
            runs = _written_runs(fields)
            for (w1, f1), (w2, f2) in itertools.pairwise(runs):
                if f1 == first and f2 == second:
                    written[w1.lower() + " " + w2] += 1
        if not written:
            return None
        return written.most_common(1)[0][0], count

    def word_form(self, folded: str) -> str | None:
        """Return the word's commonest form in the articles holding the most query words, else the lexicon's."""
        if self._forms is None:
            self._forms = self._count_forms()
        found = self._forms.get(folded)
        if found:
            return found.most_common(1)[0][0]
        return self.store.lexicon.best_form(folded)

    def _count_forms(self) -> dict[str, Counter[str]]:
        """Count the written forms of the query words (beside a query neighbour, else anywhere) in a few articles."""
        wanted = set(self.folded)
        neighbours: dict[str, set[str]] = {word: set() for word in wanted}
        for first, second in itertools.pairwise(self.folded):
            neighbours[first].add(second)
            neighbours[second].add(first)
        near: dict[str, Counter[str]] = {}
        anywhere: dict[str, Counter[str]] = {}
        for fields in self.store.richest_documents(list(wanted)):
            runs = _written_runs(fields)
            folded_run = [f for _, f in runs]
            for k, (written, folded) in enumerate(runs):
                if folded not in wanted:
                    continue
                anywhere.setdefault(folded, Counter())[written.lower()] += 1
                window = folded_run[max(0, k - NEAR) : k + NEAR + 1]
                # `bão` beside `lụt` (its neighbour in the query) tells more than `báo` in `thông báo`.
                if not neighbours[folded].isdisjoint(window):
                    near.setdefault(folded, Counter())[written.lower()] += 1
        return {word: near.get(word) or counts for word, counts in anywhere.items()}


def _written_runs(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the (written, folded) syllables of an article's title, summary and body, in order."""
    text = "\n".join(fields.get(name) or "" for name in PROSE_FIELDS)
    return [(normalize(raw), forms(raw)[1]) for _, _, raw in spans(text[:CONTEXT_CHARS])]


def _keep_accents(typed: str, corrected: str) -> str | None:
    """Return the typed accented word with the correction's deletion or swap applied (`dụcc` -> `dục`)."""
    for i in range(len(typed)):
        for candidate in (
            typed[:i] + typed[i + 1 :],
            typed[:i] + typed[i + 1 : i + 2] + typed[i : i + 1] + typed[i + 2 :],
        ):
            if fold(candidate) == corrected and has_marks(candidate):
                return candidate
    return None


def suggest_query(parsed: ParsedQuery, store: Corpus, total: int) -> Suggestion | None:
    """Return a corrected query (typos fixed, accents restored) or None when nothing changes."""
    syllables = [
        s for c in parsed.positive if not c.alternatives and c.field in (None, "title") for s in c.syllables
    ]
    if not syllables:
        return None
    lexicon = store.lexicon
    folded: list[str] = []
    corrected: list[bool] = []
    for i, s in enumerate(syllables):
        before = folded[i - 1] if i else ""
        after = syllables[i + 1].folded if i + 1 < len(syllables) else ""
        fixed = lexicon.correct(
            s.folded,
            before,
            after,
            lambda word: document_frequency(store, word),
            lambda first, second: pair_frequency(store, first, second),
            store.prefetch_frequencies,
        )
        folded.append(fixed or s.folded)
        corrected.append(fixed is not None)
    if not any(corrected) and total:
        # Restoring accents alone is no correction: the folded words already matched.
        return None
    if parsed.accented:
        words = [
            _keep_accents(s.exact, f) or lexicon.best_form(f) or f if fix else s.exact
            for s, f, fix in zip(syllables, folded, corrected, strict=True)
        ]
    else:
        context = _Context(store, folded)
        words = lexicon.restore_accents(folded, context.pair_form, context.word_form)
    if [w.lower() for w in words] == [s.exact for s in syllables]:
        return None
    typed = [s.exact for s in syllables]
    parts = [
        f"<em>{html.escape(w)}</em>" if w.lower() != t else html.escape(w)
        for w, t in zip(words, typed, strict=True)
    ]
    return Suggestion(" ".join(words), " ".join(parts))
