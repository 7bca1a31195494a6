"""Match and score parsed queries over whole posting lists at once (numpy).

Whoosh stores the postings; walking them one document at a time through its
matcher tree costs about a second for a four-word query that matches 7,000
articles. The read model (``readmodel.py``) holds every term's posting list as
mapped arrays, so AND/OR/NOT is plain mask arithmetic and BM25F a vector
formula. Phrases and proximity are checked on the read model's positions, for
the candidate documents only.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from searchsvc.accents import Plan, Resolution
from searchsvc.config import SearchSettings
from searchsvc.indexview import IndexView
from searchsvc.query import Clause, ParsedQuery, Syllable
from searchsvc.ranking import K1, B, field_weights, idf
from searchsvc.schema import EXACT_FIELDS, LEAD_FIELDS, SEARCH_FIELDS, facet_key

# The exact forms that earn the accent bonus.
BONUS_FIELDS = {name: EXACT_FIELDS[name] for name in LEAD_FIELDS}
MAX_PREFIX_TERMS = 200
# Words all of a query's prefixes may expand to per field: `t* c* n* h* …` stays cheap.
PREFIX_BUDGET = 400
MIN_PREFIX_TERMS = 10


@dataclass(frozen=True)
class Term:
    """One term's postings in one field, and how much its BM25 counts."""

    field: str
    ids: np.ndarray
    tfs: np.ndarray
    factor: float  # field weight (times the accent boost for exact forms)
    keep: np.ndarray | None = None  # bool per posting: only these count (a phrase's documents);
    # the idf still counts every posting of ``ids``


@dataclass(frozen=True)
class ClauseMatch:
    """What one clause matches, and the terms that score it."""

    mask: np.ndarray
    terms: tuple[Term, ...] = ()
    alternatives: tuple[ClauseMatch, ...] = ()
    words: tuple[str, ...] = ()  # the index words (folded or exact) it looked for


@dataclass(frozen=True)
class Evaluation:
    """Per-document results of a query: what matches; scores are computed for the documents asked."""

    required: np.ndarray  # bool: matches every positive clause and no negative one (live docs only)
    clause_masks: tuple[np.ndarray, ...]  # one per positive clause, for partial matching
    excluded: np.ndarray | None  # bool: matches a negative clause
    clauses: tuple[ClauseMatch, ...] = ()
    bonus: tuple[Term, ...] = ()  # exact-accent terms of title and summary

    def matched_words(self) -> tuple[str, ...]:
        """Return the index words (folded or exact) the positive clauses looked for, in query order."""
        return tuple(dict.fromkeys(w for c in self.clauses for w in c.words))

    def scores_within(self, store: IndexView, select: np.ndarray) -> np.ndarray:
        """Return BM25F plus the exact-accent bonus for the documents of ``select`` (0 elsewhere).

        Only the postings of selected documents are scored: a date sort needs no score,
        and a relevance sort only those of the matches that pass the filters.
        """
        scores = np.zeros(select.shape[0], dtype=np.float64)
        for clause in self.clauses:
            scores += _clause_scores(store, clause, select)
        if self.bonus:
            scores += _terms_scores(store, self.bonus, select)
        return scores


def _bm25(store: IndexView, field: str, ids: np.ndarray, tfs: np.ndarray, df: int) -> np.ndarray:
    """Return the BM25 contribution of one term in one field for the documents ``ids``."""
    rarity = idf(store.doc_count or 1, df)
    scores: np.ndarray = rarity * tfs * (K1 + 1.0) / (tfs + store.length_norm(field, K1, B)[ids])
    return scores


def _terms_scores(store: IndexView, terms: tuple[Term, ...], select: np.ndarray) -> np.ndarray:
    """Sum the terms' BM25 per selected document, in term order (one pass)."""
    size = select.shape[0]
    found: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for term in terms:
        keep = select[term.ids] if term.keep is None else select[term.ids] & term.keep
        ids = term.ids[keep]
        if ids.size:
            found.append(ids)
            values.append(term.factor * _bm25(store, term.field, ids, term.tfs[keep], term.ids.shape[0]))
    if not found:
        return np.zeros(size, dtype=np.float64)
    sums: np.ndarray = np.bincount(np.concatenate(found), weights=np.concatenate(values), minlength=size)
    return sums


def _clause_scores(store: IndexView, clause: ClauseMatch, select: np.ndarray) -> np.ndarray:
    """Return one clause's scores for the selected documents (alternatives summed)."""
    if clause.alternatives:
        summed: np.ndarray = np.sum(
            [_clause_scores(store, alt, select) for alt in clause.alternatives], axis=0
        )
        return summed
    return _terms_scores(store, clause.terms, select)


def _words_in_fields(
    store: IndexView, words_by_field: dict[str, list[str]], weights: dict[str, float]
) -> ClauseMatch:
    """Match documents having any of the words listed per field (folded or exact, as the field holds)."""
    terms: list[Term] = []
    for field, words in words_by_field.items():
        for word in words:
            ids, tfs = store.postings(field, word)
            if ids.size:
                terms.append(Term(field, ids, tfs, weights[field]))
    mask = np.zeros(store.columns.live.shape[0], dtype=bool)
    for term in terms:
        mask[term.ids] = True
    looked_for = tuple(dict.fromkeys(w for ws in words_by_field.values() for w in ws))
    return ClauseMatch(mask, tuple(terms), words=looked_for)


def _term_in_fields(
    store: IndexView, fields: tuple[str, ...], term: str, weights: dict[str, float]
) -> ClauseMatch:
    """Match one folded term in any of ``fields``."""
    return _words_in_fields(store, {field: [term] for field in fields}, weights)


def _exact_in_fields(
    store: IndexView, fields: tuple[str, ...], folded: str, resolution: Resolution, weights: dict[str, float]
) -> ClauseMatch:
    """Match the exact forms of a marked word in any of ``fields``.

    The score stays the folded word's BM25 (counted only in the matching documents),
    so typing the marks narrows the results without reordering them.
    """
    exact = _words_in_fields(store, {EXACT_FIELDS[f]: list(resolution.terms) for f in fields}, weights)
    scoring = _term_in_fields(store, fields, folded, weights)
    terms = tuple(dataclasses.replace(t, keep=exact.mask[t.ids]) for t in scoring.terms)
    return ClauseMatch(exact.mask, terms, words=resolution.terms)


def _prefix_in_fields(
    store: IndexView,
    fields: tuple[str, ...],
    syllable: Syllable,
    weights: dict[str, float],
    limit: int,
    exact: bool,
) -> ClauseMatch:
    """Match the (at most ``limit`` per field) words starting with a prefix in any of ``fields``.

    A prefix typed with marks expands over the exact forms, unless none starts with it.
    """
    if exact and syllable.accented:
        expanded = {
            EXACT_FIELDS[f]: store.expand_prefix(EXACT_FIELDS[f], syllable.exact, limit) for f in fields
        }
        if any(expanded.values()):
            return _words_in_fields(store, expanded, weights)
    expanded = {field: store.expand_prefix(field, syllable.folded, limit) for field in fields}
    return _words_in_fields(store, expanded, weights)


def _slots(
    field: str, syllables: tuple[Syllable, ...], resolutions: Plan | None
) -> list[list[tuple[str, str]]]:
    """Return, per phrase syllable, the (field, word) pairs it may stand for in ``field``."""
    slots: list[list[tuple[str, str]]] = []
    for syllable in syllables:
        resolution = resolutions.get(syllable.exact) if resolutions else None
        if resolution is not None and resolution.exact:
            slots.append([(EXACT_FIELDS[field], term) for term in resolution.terms])
        else:
            slots.append([(field, syllable.folded)])
    return slots


def word_slots(field: str, words: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Return the phrase slots of ``words`` as ``field`` holds them: one word per slot."""
    return [[(field, word)] for word in words]


def slot_docs(store: IndexView, slot: list[tuple[str, str]], size: int) -> np.ndarray:
    """Return the documents holding any word of a phrase slot."""
    present = np.zeros(size, dtype=bool)
    for field, term in slot:
        present[store.postings(field, term)[0]] = True
    return present


def _slot_keys(store: IndexView, slot: list[tuple[str, str]], offset: int, docnums: np.ndarray) -> np.ndarray:
    """Return the sorted keys ``document index << 32 | phrase start`` where a slot's word stands ``offset`` in."""
    parts: list[np.ndarray] = []
    for field, term in slot:
        owner, where = store.term_positions(field, term, docnums)
        keep = where >= offset
        parts.append((owner[keep] << 32) | (where[keep] - offset))
    if len(parts) == 1:
        return parts[0]  # already sorted: by document, then position
    # Words of one slot never share a position, so sorting is enough.
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def phrase_docs(store: IndexView, slots: list[list[tuple[str, str]]], candidates: np.ndarray) -> np.ndarray:
    """Return the documents (among ``candidates``) with one word of each slot adjacent, in order.

    A field and its exact twin number the syllables alike, so one phrase may mix
    folded and exact words.
    """
    docnums = np.nonzero(candidates)[0].astype(np.int64)
    keys = sorted((_slot_keys(store, slot, offset, docnums) for offset, slot in enumerate(slots)), key=len)
    if not keys:
        return np.zeros(0, dtype=np.int64)
    starts = keys[0]
    for other in keys[1:]:
        # Keep the starts the other slot has too (both sorted: a binary search each).
        if not starts.size or not other.size:
            return np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(other, starts), other.size - 1)
        starts = starts[other[at] == starts]
    if not starts.size:
        return np.zeros(0, dtype=np.int64)
    owners: np.ndarray = starts >> 32
    found: np.ndarray = docnums[owners[np.r_[True, owners[1:] != owners[:-1]]]]
    return found


def _phrase_in_fields(
    store: IndexView,
    fields: tuple[str, ...],
    syllables: tuple[Syllable, ...],
    weights: dict[str, float],
    resolutions: Plan | None = None,
) -> ClauseMatch:
    """Match documents with the syllables adjacent, in order, in one of ``fields`` (marked ones exactly)."""
    size = store.columns.live.shape[0]
    mask = np.zeros(size, dtype=bool)
    terms: list[Term] = []
    words: list[str] = []
    for field in fields:
        slots = _slots(field, syllables, resolutions)
        together = np.logical_and.reduce([slot_docs(store, slot, size) for slot in slots])
        if not together.any():
            continue
        found = phrase_docs(store, slots, together)
        if not found.size:
            continue
        in_field = np.zeros(size, dtype=bool)
        in_field[found] = True
        mask |= in_field
        words.extend(term for slot in slots for _, term in slot)
        for word in dict.fromkeys(s.folded for s in syllables):
            ids, tfs = store.postings(field, word)
            terms.append(Term(field, ids, tfs, weights[field], in_field[ids]))
    return ClauseMatch(mask, tuple(terms), words=tuple(dict.fromkeys(words)))


def phrase_mask(
    store: IndexView, fields: tuple[str, ...], syllables: tuple[Syllable, ...], resolutions: Plan | None
) -> np.ndarray:
    """Return the documents with ``syllables`` adjacent, in order, in one of ``fields``."""
    weights = dict.fromkeys(fields, 1.0)
    return _phrase_in_fields(store, fields, syllables, weights, resolutions).mask


def clause_match(
    store: IndexView,
    clause: Clause,
    weights: dict[str, float],
    prefix_limit: int = MAX_PREFIX_TERMS,
    resolutions: Plan | None = None,
) -> ClauseMatch:
    """Match one clause: marked syllables as ``resolutions`` says, the others (or all, without it) folded."""
    if clause.alternatives:
        parts = tuple(
            clause_match(store, alt, weights, prefix_limit, resolutions) for alt in clause.alternatives
        )
        words = tuple(dict.fromkeys(w for p in parts for w in p.words))
        return ClauseMatch(np.logical_or.reduce([p.mask for p in parts]), alternatives=parts, words=words)
    fields = (clause.field,) if clause.field else SEARCH_FIELDS
    if clause.is_phrase:
        return _phrase_in_fields(store, fields, clause.syllables, weights, resolutions)
    syllable = clause.syllables[0]
    if clause.prefix:
        return _prefix_in_fields(store, fields, syllable, weights, prefix_limit, resolutions is not None)
    resolution = resolutions.get(syllable.exact) if resolutions else None
    if resolution is not None and resolution.exact:
        return _exact_in_fields(store, fields, syllable.folded, resolution, weights)
    return _term_in_fields(store, fields, syllable.folded, weights)


def _exact_bonus(
    store: IndexView, parsed: ParsedQuery, weights: dict[str, float], boost: float
) -> tuple[Term, ...]:
    """Return the terms that add score for syllables whose accents equal the query's, in title and summary."""
    if boost <= 0:
        return ()
    terms: list[Term] = []
    seen: set[str] = set()
    for syllable in parsed.all_syllables():
        if not syllable.accented or syllable.exact in seen:
            continue
        seen.add(syllable.exact)
        for name, exact_field in BONUS_FIELDS.items():
            ids, tfs = store.postings(exact_field, syllable.exact)
            if ids.size:
                terms.append(Term(exact_field, ids, tfs, weights[name] * boost))
    return tuple(terms)


def prefix_limit(parsed: ParsedQuery) -> int:
    """Return how many words each prefix of a query may expand to: the budget shared out."""
    prefixes = sum(1 for c in parsed.clauses for part in (c.alternatives or (c,)) if part.prefix)
    if prefixes <= 1:
        return MAX_PREFIX_TERMS
    return max(MIN_PREFIX_TERMS, min(MAX_PREFIX_TERMS, PREFIX_BUDGET // prefixes))


def evaluate(
    store: IndexView, parsed: ParsedQuery, settings: SearchSettings, resolutions: Plan | None = None
) -> Evaluation:
    """Match ``parsed`` over every document of the store (scores come later, for the documents asked).

    With ``resolutions`` (``accents.plan``) marked syllables match their exact forms;
    without, accents are ignored.
    """
    folded = field_weights(settings)
    weights = folded | {EXACT_FIELDS[name]: weight for name, weight in folded.items()}
    live = store.columns.live
    limit = prefix_limit(parsed)
    clauses = tuple(clause_match(store, clause, weights, limit, resolutions) for clause in parsed.positive)
    masks = [c.mask for c in clauses]
    required = np.logical_and.reduce(masks) & live if masks else live.copy()
    excluded = None
    negatives = [c for c in parsed.clauses if c.negated]
    if negatives:
        excluded = np.logical_or.reduce(
            [clause_match(store, c, weights, limit, resolutions).mask for c in negatives]
        )
        required &= ~excluded
    bonus = _exact_bonus(store, parsed, weights, settings.exact_boost)
    return Evaluation(required, tuple(masks), excluded, clauses, bonus)


def partial_matches(
    evaluation: Evaluation, live: np.ndarray, allowed: np.ndarray | None
) -> tuple[np.ndarray, int]:
    """Return the documents having the most positive clauses (at least one) and that number."""
    counts = np.asarray(np.sum(evaluation.clause_masks, axis=0, dtype=np.int32))
    ok = live if evaluation.excluded is None else live & ~evaluation.excluded
    if allowed is not None:
        ok = ok & allowed
    best = int(counts[ok].max()) if ok.any() else 0
    if best == 0:
        return np.zeros_like(live), 0
    return ok & (counts >= best), best


def key_mask(store: IndexView, field: str, values: tuple[str, ...]) -> np.ndarray:
    """Return the documents whose keyword ``field`` has one of ``values`` (accents ignored)."""
    mask = np.zeros(store.columns.live.shape[0], dtype=bool)
    for value in values:
        ids, _ = store.postings(field, facet_key(value))
        mask[ids] = True
    return mask


def top_documents(
    scores: np.ndarray, matches: np.ndarray, published_ts: np.ndarray, limit: int
) -> list[tuple[int, float]]:
    """Return up to ``limit`` (docnum, score) pairs, best first; ties go to the newer article."""
    docnums = np.nonzero(matches)[0]
    if not docnums.size or limit <= 0:
        return []
    values = scores[docnums]
    if docnums.size > limit:
        keep = np.argpartition(-values, limit - 1)[:limit]
        docnums, values = docnums[keep], values[keep]
    order = np.lexsort((docnums, -published_ts[docnums], -values))
    return [(int(docnums[i]), float(values[i])) for i in order]


@dataclass(frozen=True)
class Nearness:
    """How the query words stand in one field of each candidate document."""

    adjacency: np.ndarray  # share of adjacent query-word pairs found together (one word between: half)
    coverage: np.ndarray  # share of the query words present


def _present(owner: np.ndarray, count: int) -> np.ndarray:
    """Return which of ``count`` documents own at least one occurrence."""
    found = np.zeros(count, dtype=bool)
    found[owner] = True
    return found


def _followed(left: np.ndarray, right: np.ndarray, gap: int) -> np.ndarray:
    """Return the documents (key >> 32) where ``right`` has an occurrence ``gap`` after one of ``left``.

    Keys are ``document << 32 | position``, ``right`` sorted.
    """
    wanted = left + gap
    at = np.searchsorted(right, wanted)
    at[at == right.size] = 0
    return wanted[right[at] == wanted] >> 32 if right.size else wanted[:0]


def nearness(store: IndexView, field: str, sequence: list[str], docnums: list[int]) -> Nearness:
    """Measure, per document, how close together and how complete the query words are in ``field``.

    Positions come from the read model, and only the candidates' are read.
    """
    count = len(docnums)
    if not sequence or not docnums:
        return Nearness(np.zeros(count), np.zeros(count))
    unique, back = np.unique(np.asarray(docnums, dtype=np.int64), return_inverse=True)
    # Work on sorted documents; ``back`` renumbers the answers to the caller's order.
    keys: dict[str, np.ndarray] = {}
    coverage = np.zeros(unique.size)
    for word in dict.fromkeys(sequence):
        owner, where = store.term_positions(field, word, unique)
        keys[word] = (owner << 32) | where  # sorted: by document, then position
        coverage += _present(owner, unique.size)
    coverage /= len(keys)
    pairs = len(sequence) - 1
    if not pairs:
        return Nearness(coverage[back], coverage[back])
    adjacency = np.zeros(unique.size)
    for left, right in itertools.pairwise(sequence):
        adjacent = _present(_followed(keys[left], keys[right], 1), unique.size)
        one_between = _present(_followed(keys[left], keys[right], 2), unique.size)
        adjacency += np.where(adjacent, 1.0, np.where(one_between, 0.5, 0.0))
    return Nearness((adjacency / pairs)[back], coverage[back])
