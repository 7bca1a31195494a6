"""Propose alias lines from an abbreviation dictionary, keeping those the corpus confirms.

Usage: python bench/curate_aliases.py ABBREVIATIONS.txt INDEX_DIR > proposals.txt

The input is ``ABBR:expansion[,expansion…]`` per line (the format of soe-vinorm's
``abbreviations.txt``, MIT). A line is proposed only when it has one expansion
(ambiguous ones are left to a person), the abbreviation has three letters or
more, the expansion's initials spell it (`giáo dục dục đại học` for GDĐH is a
typo and fails), and the index has both the abbreviation and the expansion (as
a phrase) in at least ``MIN_DOCS`` articles. The result is read and edited by
hand before it goes into ``config/aliases.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from searchsvc.matching import phrase_docs as phrase_matches
from searchsvc.matching import slot_docs, word_slots
from searchsvc.store import Store
from searchsvc.text import fold, folded_terms

MIN_DOCS = 5
SKIPPED_WORDS = {"va"}  # `GD&ĐT`: Giáo dục và Đào tạo


def initials_match(abbreviation: str, expansion: str) -> bool:
    """Tell whether the expansion's syllable initials spell the abbreviation."""
    letters = "".join(ch for ch in fold(abbreviation) if ch.isalnum())
    words = [w for w in folded_terms(expansion) if w not in SKIPPED_WORDS]
    return "".join(w[0] for w in words) == letters


def phrase_docs(store: Store, words: list[str]) -> int:
    """Return how many articles hold ``words`` adjacent in title, summary or body."""
    total = np.zeros(store.columns.live.shape[0], dtype=bool)
    for field in ("title", "summary", "body"):
        slots = word_slots(field, words)
        together = np.logical_and.reduce(
            [np.ones_like(total), *(slot_docs(store, s, total.size) for s in slots)]
        )
        if together.any():
            total[phrase_matches(store, slots, together)] = True
    return int(total.sum())


def main() -> None:
    """Print the proposed alias lines with their article counts as comments."""
    source, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
    store = Store(index_dir)
    seen: set[str] = set()
    for raw in source.read_text(encoding="utf-8").splitlines():
        abbreviation, _, expansions = raw.partition(":")
        abbreviation = abbreviation.strip()
        if not abbreviation or abbreviation != abbreviation.upper() or abbreviation in seen:
            continue
        seen.add(abbreviation)
        choices = [e.strip() for e in expansions.split(",") if e.strip()]
        letters = sum(ch.isalpha() for ch in abbreviation)
        if len(choices) != 1 or letters < 3 or not initials_match(abbreviation, choices[0]):
            continue
        short = phrase_docs(store, folded_terms(abbreviation))
        long = phrase_docs(store, folded_terms(choices[0]))
        if short >= MIN_DOCS and long >= MIN_DOCS:
            print(f"{abbreviation} = {choices[0]}  # {short} / {long} articles")


if __name__ == "__main__":
    main()
