"""'Did you mean': typo correction and accent restoration from the corpus's own words."""

from __future__ import annotations

import html

import numpy as np

from searchsvc.messages import Suggestion
from searchsvc.query import ParsedQuery
from searchsvc.store import Store
from searchsvc.text import fold, has_marks

# Below this many results a reader may have mistyped: offer a corrected query.
FEW_RESULTS = 5
# Bodies checked for a word pair when ranking corrections: enough to compare candidates.
PAIR_CHECK_LIMIT = 2000


def document_frequency(store: Store, folded: str) -> int:
    """Return how many documents use a folded word in title or body."""
    return store.doc_frequency("body", folded) + store.doc_frequency("title", folded)


def pair_frequency(store: Store, first: str, second: str) -> int:
    """Return about how many articles have two folded words side by side (titles, then bodies)."""
    known = store.lexicon.pair_count(first, second)
    if known:
        return known
    candidates = np.zeros(store.columns.live.shape[0], dtype=bool)
    first_ids, _ = store.postings("body", first)
    second_ids, _ = store.postings("body", second)
    both = np.intersect1d(first_ids, second_ids, assume_unique=True)[:PAIR_CHECK_LIMIT]
    candidates[both] = True
    return int(store.phrase_docs("body", [first, second], candidates).size)


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


def suggest_query(parsed: ParsedQuery, store: Store, total: int) -> Suggestion | None:
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
        )
        folded.append(fixed or s.folded)
        corrected.append(fixed is not None)
    if parsed.accented:
        words = [
            _keep_accents(s.exact, f) or lexicon.best_form(f) or f if fix else s.exact
            for s, f, fix in zip(syllables, folded, corrected, strict=True)
        ]
    else:
        words = lexicon.restore_accents(folded)
    if not any(corrected) and total:
        # Restoring accents alone is no correction: the folded words already matched.
        return None
    if [w.lower() for w in words] == [s.exact for s in syllables]:
        return None
    typed = [s.exact for s in syllables]
    parts = [
        f"<em>{html.escape(w)}</em>" if w.lower() != t else html.escape(w)
        for w, t in zip(words, typed, strict=True)
    ]
    return Suggestion(" ".join(words), " ".join(parts))
