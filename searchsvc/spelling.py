"""'Did you mean': typo correction and accent restoration from the corpus's own words."""

from __future__ import annotations

import html

from searchsvc.messages import Suggestion
from searchsvc.query import ParsedQuery
from searchsvc.store import Store

# Below this many results a reader may have mistyped: offer a corrected query.
FEW_RESULTS = 5


def _known(store: Store, folded: str) -> bool:
    """Tell whether any document uses a folded word."""
    return store.doc_frequency("body", folded) + store.doc_frequency("title", folded) > 0


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
    for s in syllables:
        fixed = None if _known(store, s.folded) else lexicon.correct(s.folded)
        folded.append(fixed or s.folded)
        corrected.append(fixed is not None)
    if parsed.accented:
        words = [
            lexicon.best_form(f) or f if fix else s.exact
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
