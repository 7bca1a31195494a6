"""Date sorts that stay on topic: words readers write as one stand together.

A relevance sort puts the articles where the query words stand together first;
a date sort has no such order, so every article holding the words anywhere would
compete on its date alone (``mien trung`` sorted newest first showed ``trung
tâm`` and ``miền Bắc``). Vietnamese writes a word as several syllables (``miền
Trung``, ``giá vàng``, ``thủ tướng``). For an article to be listed by date,
neighbouring plain query words must stand together, in order, in one of title,
summary and body (not the byline):

- the pairs the corpus writes together often (a known word pair of the lexicon);
- in a run of neighbouring words none of whose pairs the lexicon knows (``suy
  luan``, a name), every pair: a reader who sorts two words by date means them as one.

When no article meets that, the date sort lists every match (the plain AND rule).
"""

from __future__ import annotations

import itertools

import numpy as np

from searchsvc.accents import Plan
from searchsvc.indexview import IndexView
from searchsvc.lexicon import Lexicon
from searchsvc.matching import phrase_mask
from searchsvc.query import Clause, ParsedQuery, Syllable

# What an article is about: its text, not its byline (a reporter may be called Ngọc Trinh).
TOPIC_FIELDS = ("title", "summary", "body")
# A pair of words found together at least this often in titles and summaries is one word to readers.
MIN_PAIR_COUNT = 3


def _plain(clause: Clause) -> bool:
    """Tell whether a clause is one plain word (no phrase, prefix, field, OR or minus)."""
    return (
        not clause.negated
        and not clause.alternatives
        and not clause.prefix
        and clause.field is None
        and len(clause.syllables) == 1
    )


def _runs(parsed: ParsedQuery) -> list[list[Syllable]]:
    """Return the runs of neighbouring plain words (two or more) of a query."""
    runs: list[list[Syllable]] = [[]]
    for clause in parsed.clauses:
        if _plain(clause):
            runs[-1].append(clause.syllables[0])
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) > 1]


def word_pairs(parsed: ParsedQuery, lexicon: Lexicon) -> list[tuple[Syllable, Syllable]]:
    """Return the neighbouring query words that must stand together (one word to readers)."""
    pairs: list[tuple[Syllable, Syllable]] = []
    for run in _runs(parsed):
        every = list(itertools.pairwise(run))
        known = [(a, b) for a, b in every if lexicon.pair_count(a.folded, b.folded) >= MIN_PAIR_COUNT]
        pairs.extend(known or every)
    return pairs


def on_topic(store: IndexView, parsed: ParsedQuery, resolutions: Plan | None) -> np.ndarray | None:
    """Return the documents where every word pair of the query stands together; None without pairs."""
    pairs = word_pairs(parsed, store.lexicon)
    if not pairs:
        return None
    together: np.ndarray = np.logical_and.reduce(
        [phrase_mask(store, TOPIC_FIELDS, pair, resolutions) for pair in pairs]
    )
    return together
