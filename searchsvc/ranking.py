"""Re-rank the best BM25F matches: phrase proximity, exact accents in the body, freshness.

Pure functions over stored text; the scores they adjust come from Whoosh.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from searchsvc.config import SearchSettings
from searchsvc.text import folded_terms, normalize

PROXIMITY_FIELDS = ("title", "summary")
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Candidate:
    """A scored match with the stored fields re-ranking looks at."""

    docnum: int
    score: float
    fields: Mapping[str, object]
    published_ts: int = 0


def adjacency(sequence: Sequence[str], tokens: Sequence[str]) -> float:
    """Return the share of adjacent query word pairs that stand adjacent, in order, in ``tokens``.

    A one-word query scores 1.0 when the word occurs at all.
    """
    if not sequence or not tokens:
        return 0.0
    if len(sequence) == 1:
        return 1.0 if sequence[0] in tokens else 0.0
    bigrams = set(itertools.pairwise(tokens))
    wanted = list(itertools.pairwise(sequence))
    return sum(1 for pair in wanted if pair in bigrams) / len(wanted)


def proximity(sequence: Sequence[str], fields: Mapping[str, object], weights: Mapping[str, float]) -> float:
    """Return a 0..1 proximity score: query words together in the title count most."""
    top = max(weights.values())
    best = 0.0
    for name in PROXIMITY_FIELDS:
        text = fields.get(name)
        if not isinstance(text, str) or not text:
            continue
        best = max(best, adjacency(sequence, folded_terms(text)) * weights[name] / top)
    return best


def exact_body_share(exact_words: Sequence[str], body: str) -> float:
    """Return the share of accented query words present with the same accents in ``body``."""
    if not exact_words or not body:
        return 0.0
    lowered = normalize(body).lower()
    found = sum(1 for w in exact_words if re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", lowered))
    return found / len(exact_words)


def freshness(published_ts: int, now_ts: float, half_life_days: float) -> float:
    """Return 1 for an article published now, halving every ``half_life_days``; 0 if undated."""
    if published_ts <= 0 or half_life_days <= 0:
        return 0.0
    age_days = max(0.0, (now_ts - published_ts) / SECONDS_PER_DAY)
    return math.pow(0.5, age_days / half_life_days)


def rerank(
    candidates: Sequence[Candidate],
    sequence: Sequence[str],
    exact_words: Sequence[str],
    settings: SearchSettings,
    now_ts: float,
    body_depth: int = 20,
) -> list[tuple[int, float]]:
    """Return (docnum, adjusted score) pairs, best first; ties go to the newer article."""
    weights = {"title": settings.title_weight, "summary": settings.summary_weight}
    adjusted: list[tuple[float, int, int]] = []
    for rank, cand in enumerate(candidates):
        factor = 1.0 + settings.proximity_boost * proximity(sequence, cand.fields, weights)
        if exact_words and rank < body_depth:
            body = cand.fields.get("body")
            if isinstance(body, str):
                factor += settings.exact_boost * 0.5 * exact_body_share(exact_words, body)
        if settings.freshness_boost > 0:
            factor += settings.freshness_boost * freshness(
                cand.published_ts, now_ts, settings.freshness_half_life_days
            )
        adjusted.append((cand.score * factor, cand.published_ts, cand.docnum))
    adjusted.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [(docnum, score) for score, _, docnum in adjusted]
