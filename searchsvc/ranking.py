"""BM25F's constants and field weights, and re-ranking of the best matches: proximity, accents, freshness.

Pure functions over stored text; the BM25F scores they adjust come from ``matching`` (numpy
over the read model's postings, not Whoosh), which takes its constants from here, as
related articles do.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from searchsvc.config import SearchSettings
from searchsvc.schema import PROSE_FIELDS, SEARCH_FIELDS
from searchsvc.text import tone_variants

# BM25's term-frequency saturation and length normalization.
K1 = 1.2
B = 0.75
# The fields where query words standing together count.
PROXIMITY_FIELDS = PROSE_FIELDS
SECONDS_PER_DAY = 86400.0
# Only the best few matches are checked for exact accents in the body: it needs the stored text.
BODY_DEPTH = 20
MAX_PAIR_EVIDENCE = 3
WHOLE_RUN = 0.9
WHOLE_RUN_EVIDENCE = 1.0
# A query the titles write this often as one phrase is a topic (``is_topical``).
TOPIC_PHRASE_COUNT = 3


def field_weights(settings: SearchSettings, names: Sequence[str] = SEARCH_FIELDS) -> dict[str, float]:
    """Return the BM25F weight of each of the fields ``names``."""
    weights = {
        "title": settings.title_weight,
        "summary": settings.summary_weight,
        "body": settings.body_weight,
        "author": settings.author_weight,
    }
    return {name: weights[name] for name in names}


def idf(doc_count: int, df: int) -> float:
    """Return BM25's inverse document frequency of a term found in ``df`` of ``doc_count`` documents."""
    return math.log(1.0 + (doc_count - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Candidate:
    """A scored match with what re-ranking looks at."""

    docnum: int
    score: float
    adjacency: Mapping[str, float]  # per field: share of query-word pairs standing together
    body: str = ""
    published_ts: int = 0
    title_coverage: float = 0.0  # share of the query words in the title


def proximity(adjacency: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Return a 0..1 proximity score: query words together in the title count most.

    A field's share is damped by the square root of its weight relative to the
    title's: a long run of query words in the body is strong evidence too.
    """
    top = max(weights.values())
    return max(
        (adjacency.get(name, 0.0) * math.sqrt(weight / top) for name, weight in weights.items()), default=0.0
    )


def _is_letter(ch: str) -> bool:
    """Return whether ``ch`` is a letter as the regex class ``[^\\W\\d_]`` means it."""
    return ch.isalnum() and not ch.isdecimal()


def has_word(text: str, word: str) -> bool:
    """Return whether ``word`` stands in ``text`` as a whole word (no letter on either side).

    ``str.find`` scans in C; only the places where the word occurs are checked in Python.
    """
    size = len(word)
    at = text.find(word)
    while at >= 0:
        end = at + size
        if (at == 0 or not _is_letter(text[at - 1])) and (end == len(text) or not _is_letter(text[end])):
            return True
        at = text.find(word, at + 1)
    return False


def exact_body_share(exact_words: Sequence[str], body: str) -> float:
    """Return the share of accented query words present with the same accents in ``body``.

    The stored body is NFC but keeps its tone style, so both styles are searched
    instead of normalizing the whole body (which costs more than the search).
    """
    if not exact_words or not body:
        return 0.0
    lowered = body.lower()
    found = sum(1 for w in exact_words if any(has_word(lowered, v) for v in _variants(w)))
    return found / len(exact_words)


@functools.lru_cache(maxsize=4096)
def _variants(word: str) -> tuple[str, ...]:
    """Return a word's spellings in both tone styles (cached: queries repeat words)."""
    return tone_variants(word)


def freshness(published_ts: int, now_ts: float, half_life_days: float) -> float:
    """Return 1 for an article published now, halving every ``half_life_days``; 0 if undated."""
    if published_ts <= 0 or half_life_days <= 0:
        return 0.0
    age_days = max(0.0, (now_ts - published_ts) / SECONDS_PER_DAY)
    return math.pow(0.5, age_days / half_life_days)


def is_topical(phrase_count: int, matches: int, settings: SearchSettings) -> bool:
    """Tell whether a query names a topic, not one remembered article.

    A topic is a phrase the corpus's titles use (seen ``TOPIC_PHRASE_COUNT`` times:
    ``giá vàng``, ``bóng đá``) with a full re-ranked head of matches; a reader
    searching it wants recent coverage first. The rare words of a remembered
    article form no such phrase, and its date says nothing.
    """
    return phrase_count >= TOPIC_PHRASE_COUNT and matches >= settings.rerank_depth


def rerank(
    candidates: Sequence[Candidate],
    exact_words: Sequence[str],
    settings: SearchSettings,
    now_ts: float,
    body_depth: int = BODY_DEPTH,
    pairs: int = 1,
    topical: bool = False,
) -> list[tuple[int, float]]:
    """Return (docnum, adjusted score) pairs, best first; ties go to the newer article.

    ``pairs`` is the number of adjacent word pairs in the query: each pair found
    together is evidence of its own, so longer runs weigh more (up to three pairs).
    Freshness counts for topical queries only (``is_topical``); an undated article
    gets none, so it ranks as an old one and never above a dated equal.
    """
    evidence = min(max(pairs, 1), MAX_PAIR_EVIDENCE)
    weights = field_weights(settings, PROXIMITY_FIELDS)
    fresh = settings.freshness_boost if topical else 0.0
    adjusted: list[tuple[float, int, int]] = []
    for rank, cand in enumerate(candidates):
        factor = 1.0 + settings.proximity_boost * evidence * proximity(cand.adjacency, weights)
        if pairs >= 2 and max(cand.adjacency.values(), default=0.0) >= WHOLE_RUN:
            # Every query word in one run, in order, somewhere: the text the reader remembers.
            factor += settings.proximity_boost * WHOLE_RUN_EVIDENCE
        factor += settings.title_coverage_boost * cand.title_coverage**2
        if exact_words and rank < body_depth and cand.body:
            factor += settings.exact_boost * 0.5 * exact_body_share(exact_words, cand.body)
        if fresh > 0:
            # A multiplier: recency weighs on the evidence, not beside it (a strong match stays strong).
            factor *= 1.0 + fresh * freshness(cand.published_ts, now_ts, settings.freshness_half_life_days)
        adjusted.append((cand.score * factor, cand.published_ts, cand.docnum))
    adjusted.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [(docnum, score) for score, _, docnum in adjusted]


def text_nearness(tokens: Sequence[str], sequence: Sequence[str]) -> tuple[float, float]:
    """Return (adjacency, coverage) of the query words ``sequence`` in a field's tokens.

    The measure of ``matching.nearness``, read from the text instead of the read
    model's positions: the share of neighbouring query-word pairs standing together
    (one word between counts half), and the share of the query words present.
    """
    if not sequence:
        return 0.0, 0.0
    at: dict[str, set[int]] = {}
    for position, token in enumerate(tokens):
        at.setdefault(token, set()).add(position)
    distinct = list(dict.fromkeys(sequence))
    coverage = sum(1 for word in distinct if word in at) / len(distinct)
    if len(sequence) == 1:
        return coverage, coverage
    adjacency = 0.0
    for left, right in zip(sequence, sequence[1:], strict=False):
        lefts, rights = at.get(left, set()), at.get(right, set())
        if any(p + 1 in rights for p in lefts):
            adjacency += 1.0
        elif any(p + 2 in rights for p in lefts):
            adjacency += 0.5
    return adjacency / (len(sequence) - 1), coverage
