"""How often did-you-mean restores a mistyped, unaccented title bigram to its accented original.

Usage: python -m bench.suggestions INDEX_DIR [--corpus PATH] [-n 300] [--seed 11]

Takes ``n`` adjacent syllable pairs from the titles of a seeded sample of corpus articles
(two letter-only syllables of 2+ letters, at least one with accent marks, no punctuation
between), types them without accents with one random edit (deletion, insertion,
substitution or swap) in one of the two words, searches, and counts how often the shown
correction (or, failing that, the suggestion) equals the original pair, accents included
(case ignored). Runs in process on the code importable as ``searchsvc`` (so the same script
measures another checkout with ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import string
import time
from pathlib import Path

from searchsvc.search import SearchRequest, search
from searchsvc.store import Store
from searchsvc.text import fold, has_marks, normalize

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles.jsonl.gz"
_PAIR = re.compile(r"(?<![\w.,;:!?'\"-])([^\W\d_]{2,}) ([^\W\d_]{2,})(?![\w])")


def typo(word: str, rng: random.Random) -> str:
    """Return ``word`` with one random edit (never the word itself)."""
    while True:
        i = rng.randrange(len(word))
        kind = rng.choice("disw")
        letter = rng.choice(string.ascii_lowercase)
        if kind == "d" and len(word) > 2:
            out = word[:i] + word[i + 1 :]
        elif kind == "i":
            out = word[:i] + letter + word[i:]
        elif kind == "s":
            out = word[:i] + letter + word[i + 1 :]
        elif kind == "w" and i + 1 < len(word):
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            continue
        if out != word:
            return out


def sample_pairs(corpus: Path, n: int, rng: random.Random) -> list[str]:
    """Return ``n`` accented title bigrams from a seeded sample of articles."""
    titles = []
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        for line in handle:
            titles.append(normalize(json.loads(line).get("title") or ""))
    pairs: list[str] = []
    for title in rng.sample(titles, min(len(titles), n * 3)):
        found = [" ".join(m.groups()) for m in _PAIR.finditer(title) if has_marks(m.group(0))]
        if found:
            pairs.append(rng.choice(found))
        if len(pairs) == n:
            break
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Print restored / offered / total for the sampled pairs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", type=int, default=10, help="misses to print")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    store = Store(args.index_dir)
    restored = offered = fixed = 0
    misses: list[str] = []
    started = time.perf_counter()
    pairs = sample_pairs(args.corpus, args.n, rng)
    for pair in pairs:
        words = fold(pair).split()
        k = rng.randrange(2)
        words[k] = typo(words[k], rng)
        query = " ".join(words)
        response = search(store, SearchRequest(q=query, facets=False, highlight=False))
        shown = getattr(response, "correction", None) or response.suggestion
        text = shown.text if shown else ""
        offered += bool(shown)
        fixed += fold(text) == fold(pair)
        if text.lower() == pair.lower():
            restored += 1
        elif len(misses) < args.show:
            misses.append(f"{query!r}: {text!r} (want {pair!r})")
    seconds = time.perf_counter() - started
    total = len(pairs)
    print("| pairs | correction offered | letters fixed | accents restored too | seconds |")
    print("|---|---|---|---|---|")
    print(
        f"| {total} | {offered} ({offered / total:.1%}) | {fixed} ({fixed / total:.1%}) "
        f"| {restored} ({restored / total:.1%}) | {seconds:.1f} |"
    )
    for miss in misses:
        print("miss:", miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
