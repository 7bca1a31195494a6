"""Measure related articles: how many of the top 5 share a tag or a rare title phrase, and how fast.

python -m bench.related --index-dir /tmp/ix-full [--sample 300] [--seed 13]

Two samples of the shared corpus: articles with a real tag (``summary-only`` is a
corpus marker, not a tag) and articles drawn from all. For each article the top 5
of ``searchsvc.related.related`` are compared with a baseline, the 5 newest other
articles of its category. A "rare title phrase" is an adjacent pair of folded
title syllables that at most ``RARE_TITLES`` titles of the corpus have, neither of
them among the ``COMMON_SYLLABLES`` most frequent title syllables.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from searchsvc.related import related
from searchsvc.store import Store, open_store
from searchsvc.text import fold, folded_terms

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "articles.jsonl.gz"
TOP = 5
RARE_TITLES = 20
COMMON_SYLLABLES = 150
MARKER_TAGS = {"summary-only"}


def read_corpus(path: Path) -> list[dict[str, Any]]:
    """Return every article of the corpus (id, title, tags, category)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def title_pairs(title: str) -> set[tuple[str, str]]:
    """Return the adjacent folded syllable pairs of a title."""
    return set(itertools.pairwise(folded_terms(title)))


class Judge:
    """Tell whether two articles share a tag or a rare title phrase."""

    def __init__(self, articles: Iterable[dict[str, Any]]) -> None:
        self.articles = {a["id"]: a for a in articles}
        syllables: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for article in self.articles.values():
            syllables.update(set(folded_terms(article.get("title") or "")))
            pairs.update(title_pairs(article.get("title") or ""))
        common = {s for s, _ in syllables.most_common(COMMON_SYLLABLES)}
        self.rare = {p for p, n in pairs.items() if n <= RARE_TITLES and not (set(p) & common)}

    def tags(self, article_id: str) -> set[str]:
        """Return an article's real tags, folded."""
        tags = self.articles.get(article_id, {}).get("tags") or []
        return {fold(t.lower()) for t in tags if t not in MARKER_TAGS}

    def phrases(self, article_id: str) -> set[tuple[str, str]]:
        """Return an article's rare title phrases."""
        return title_pairs(self.articles.get(article_id, {}).get("title") or "") & self.rare

    def shares(self, a: str, b: str) -> tuple[bool, bool]:
        """Return whether ``a`` and ``b`` share (a tag, a rare title phrase)."""
        return bool(self.tags(a) & self.tags(b)), bool(self.phrases(a) & self.phrases(b))


def newest_of_category(store: Store, docnum: int, limit: int) -> list[str]:
    """Return the ids of the newest other live articles of the article's category (the baseline)."""
    columns = store.columns
    same = columns.live & (columns.category.codes == columns.category.codes[docnum])
    same[docnum] = False
    found = np.nonzero(same)[0]
    order = np.argsort(-columns.published_ts[found], kind="stable")[:limit]
    return [store.stored(int(found[i]))["id"] for i in order]


def score(judge: Judge, article_id: str, others: list[str]) -> tuple[float, float, float]:
    """Return the shares of ``others`` sharing a tag, a rare title phrase, either (each of TOP)."""
    found = [judge.shares(article_id, o) for o in others]
    return (
        sum(t for t, _ in found) / TOP,
        sum(p for _, p in found) / TOP,
        sum(t or p for t, p in found) / TOP,
    )


def run(store: Store, judge: Judge, ids: list[str]) -> dict[str, Any]:
    """Score related articles and the baseline over ``ids``; time each related call."""
    related_scores, baseline_scores, millis, cpu = [], [], [], []
    for article_id in ids:
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = related(store, article_id, limit=TOP)
        millis.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        related_scores.append(score(judge, article_id, [a.id for a in answer.items]))
        docnum = store.document_number(article_id)
        assert docnum is not None
        baseline_scores.append(score(judge, article_id, newest_of_category(store, docnum, TOP)))
    millis.sort()
    cpu.sort()
    return {
        "articles": len(ids),
        "related": [statistics.mean(s[i] for s in related_scores) for i in range(3)],
        "baseline": [statistics.mean(s[i] for s in baseline_scores) for i in range(3)],
        "p50_ms": millis[len(millis) // 2],
        "p95_ms": millis[int(len(millis) * 0.95)],
        "cpu_p50_ms": cpu[len(cpu) // 2],
    }


def main() -> None:
    """Sample, measure and print the table."""
    ap = argparse.ArgumentParser(prog="python -m bench.related", description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--corpus", default=str(CORPUS))
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    articles = read_corpus(Path(args.corpus))
    judge = Judge(articles)
    rng = random.Random(args.seed)
    tagged = sorted(a["id"] for a in articles if set(a.get("tags") or []) - MARKER_TAGS)
    everything = sorted(a["id"] for a in articles)
    samples = {
        "tagged": rng.sample(tagged, min(args.sample, len(tagged))),
        "any": rng.sample(everything, args.sample),
    }
    with open_store(Path(args.index_dir)) as store:
        related(store, samples["any"][0])  # the first call maps pages: not part of the timing
        print(
            f"| sample | articles | top {TOP} | share a tag | share a rare title phrase | either "
            "| p50 ms | p95 ms | CPU p50 ms |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, ids in samples.items():
            result = run(store, judge, ids)
            for kind in ("related", "baseline"):
                tag, phrase, either = result[kind]
                timing = (
                    f"{result['p50_ms']:.1f} | {result['p95_ms']:.1f} | {result['cpu_p50_ms']:.1f}"
                    if kind == "related"
                    else "– | – | –"
                )
                label = "related" if kind == "related" else "newest of category"
                print(
                    f"| {name} | {result['articles']} | {label} | {tag:.1%} | {phrase:.1%} | {either:.1%} "
                    f"| {timing} |"
                )


if __name__ == "__main__":
    main()
