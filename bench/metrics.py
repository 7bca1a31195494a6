"""Relevance, count exactness and latency summaries, defined as in shared/eval/score.py."""

from __future__ import annotations

import statistics
from collections import defaultdict

from bench.engines.base import EngineResult

ALL_KINDS = "all"


def first_rank(ids: list[str], relevant: list[str], k: int) -> int | None:
    """Return the 1-based rank of the first relevant id in the top k, or None."""
    return next((i + 1 for i, x in enumerate(ids[:k]) if x in relevant), None)


def relevance(rows: list[tuple[dict, EngineResult]], k: int = 10) -> dict[str, dict]:
    """Return MRR@k, S@1 and S@k per query kind, plus an `all` row."""
    ranks: dict[str, list[int | None]] = defaultdict(list)
    for query, result in rows:
        rank = first_rank(result.ids, query["relevant"], k)
        ranks[query["kind"]].append(rank)
        ranks[ALL_KINDS].append(rank)
    return {kind: _relevance_row(ranks[kind]) for kind in sorted(ranks, key=_kind_order)}


def _relevance_row(ranks: list[int | None]) -> dict:
    """Summarize the ranks of one kind."""
    n = len(ranks)
    return {
        "n": n,
        "mrr": round(sum(1.0 / r for r in ranks if r) / n, 4),
        "s1": round(sum(r == 1 for r in ranks) / n, 4),
        "sk": round(sum(r is not None for r in ranks) / n, 4),
    }


def _kind_order(kind: str) -> tuple[bool, str]:
    """Sort kinds by name with the `all` row last."""
    return (kind == ALL_KINDS, kind)


def facet_map_equal(expected: dict[str, int], got: dict[str, int] | None) -> bool:
    """Compare category counts ignoring zero buckets, as score.py does."""
    want = {k: v for k, v in expected.items() if v}
    have = {k: v for k, v in (got or {}).items() if v}
    return want == have


def count_exactness(rows: list[tuple[dict, EngineResult]]) -> dict[str, dict]:
    """Return the exact-total rate (and exact category facet rate) per count kind."""
    totals: dict[str, list[bool]] = defaultdict(list)
    facets: dict[str, list[bool]] = defaultdict(list)
    for check, result in rows:
        totals[check["kind"]].append(result.total == check["expect_total"])
        if "expect_facets" in check:
            wanted = check["expect_facets"]["category"]
            facets[check["kind"]].append(facet_map_equal(wanted, result.category_counts))
    out = {}
    for kind in sorted(totals):
        row = {"n": len(totals[kind]), "exact_total": _rate(totals[kind])}
        if facets[kind]:
            row["exact_category_facets"] = _rate(facets[kind])
        out[kind] = row
    return out


def _rate(flags: list[bool]) -> float:
    """Return the share of true flags."""
    return round(sum(flags) / len(flags), 4)


def latency_summary(ms: list[float]) -> dict:
    """Return n, p50, p95 and p99 of latencies in milliseconds (score.py's method)."""
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None}
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), 3),
        "p95": round(q[94], 3),
        "p99": round(q[98], 3),
    }
