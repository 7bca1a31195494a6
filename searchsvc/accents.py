"""Accent-aware matching: which index words a query syllable stands for.

A syllable typed without marks stands for every accent form (the folded field).
A syllable typed with marks stands for its own exact form (the ``<field>_x``
twins of the searched fields), whatever its case, Unicode form or tone
placement: ``bão`` finds ``BÃO`` and NFD ``bão``, never ``báo``. When no article
has that exact form (a misplaced or partial mark: ``nứơc``, ``tiêng``), the
syllable is read at the next looser level: the same letters with any tone
(every exact form whose tone-stripped spelling is the same), then no marks at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from searchsvc.query import ParsedQuery, Syllable
from searchsvc.schema import EXACT_FIELDS, SEARCH_FIELDS
from searchsvc.text import tone_forms

EXACT = "exact"
TONELESS = "toneless"
FOLDED = "folded"


@dataclass(frozen=True)
class Resolution:
    """How one query syllable is matched: its level and the index words it stands for."""

    word: str  # the syllable as typed
    level: str  # EXACT | TONELESS | FOLDED
    terms: tuple[str, ...]  # exact-form words (EXACT, TONELESS) or the folded word (FOLDED)

    @property
    def exact(self) -> bool:
        """Tell whether the terms are exact forms (looked up in the ``_x`` fields)."""
        return self.level != FOLDED


class Frequencies(Protocol):
    """Where a word's document frequency can be asked (a backend or a store)."""

    def doc_frequency(self, field: str, term: str) -> int:
        """Return how many articles hold ``term`` in ``field``."""
        ...


# Syllable (exact form) -> its resolution; only marked syllables are listed.
Plan = dict[str, Resolution]


def _indexed(store: Frequencies, term: str) -> bool:
    """Tell whether any searched field holds ``term`` as an exact form."""
    return any(store.doc_frequency(EXACT_FIELDS[name], term) for name in SEARCH_FIELDS)


def resolve(store: Frequencies, syllable: Syllable) -> Resolution:
    """Return how a marked syllable is matched: exactly, at any tone, or with accents ignored."""
    if _indexed(store, syllable.exact):
        return Resolution(syllable.raw, EXACT, (syllable.exact,))
    toned = tuple(form for form in tone_forms(syllable.exact) if _indexed(store, form))
    if toned:
        return Resolution(syllable.raw, TONELESS, toned)
    return Resolution(syllable.raw, FOLDED, (syllable.folded,))


def plan(store: Frequencies, parsed: ParsedQuery) -> Plan:
    """Return the resolution of every marked syllable of the query (negated clauses included)."""
    found: Plan = {}
    for clause in parsed.clauses:
        for part in clause.alternatives or (clause,):
            for syllable in part.syllables:
                if syllable.accented and syllable.exact not in found and not part.prefix:
                    found[syllable.exact] = resolve(store, syllable)
    return found


def loosened(resolutions: Plan) -> tuple[Resolution, ...]:
    """Return the marked syllables read at a looser level than typed."""
    return tuple(r for r in resolutions.values() if r.level != EXACT)
