"""How recent the first results of topical searches are, through the JSON API of a running server.

For each distinct query of a query file (``../shared/eval/head_queries.jsonl``: the tags
editors use most), the first 10 hits by relevance are counted as recent (dated within
``--years`` of the corpus's newest article, not of today), older, or undated. Prints a table:

    python -m bench.recency --base-url http://127.0.0.1:8000 ../shared/eval/head_queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TOP = 10


def get(base_url: str, params: dict[str, str]) -> dict[str, Any]:
    """Return the JSON body of one ``/api/search`` call."""
    url = f"{base_url}/api/search?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:
        body: dict[str, Any] = json.load(response)
    return body


def newest_date(base_url: str) -> datetime:
    """Return the publication time of the corpus's newest article."""
    hits = get(base_url, {"q": "", "sort": "newest", "per_page": "1"})["hits"]
    return datetime.fromisoformat(hits[0]["published"])


def queries(path: Path) -> list[str]:
    """Return the distinct queries of a JSONL file, in file order."""
    seen: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seen.setdefault(json.loads(line)["q"], None)
    return list(seen)


def measure(base_url: str, path: Path, years: float) -> dict[str, float]:
    """Return the shares of recent, older and undated hits among the first 10 of every query."""
    since = newest_date(base_url) - timedelta(days=365.25 * years)
    recent = older = undated = 0
    for q in queries(path):
        for hit in get(base_url, {"q": q, "per_page": str(TOP)})["hits"]:
            if not hit["published"]:
                undated += 1
            elif datetime.fromisoformat(hit["published"]) >= since:
                recent += 1
            else:
                older += 1
    total = max(1, recent + older + undated)
    return {
        "queries": len(queries(path)),
        "hits": recent + older + undated,
        "recent": recent / total,
        "older": older / total,
        "undated": undated / total,
        "since": since.timestamp(),
    }


def main() -> None:
    """Print the table for one server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--years", type=float, default=2.0)
    args = parser.parse_args()
    found = measure(args.base_url.rstrip("/"), args.queries, args.years)
    since = datetime.fromtimestamp(found["since"]).date().isoformat()
    print(f"queries {found['queries']:.0f}, top-{TOP} hits {found['hits']:.0f}, recent = dated since {since}")
    print(f"{'recent':>8} {'older':>8} {'undated':>8}")
    print(f"{found['recent']:>8.1%} {found['older']:>8.1%} {found['undated']:>8.1%}")


if __name__ == "__main__":
    main()
