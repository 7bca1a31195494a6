"""A K-times CMS export for the write path: every article K times, with new ids and older dates.

``bench.replicate`` copies an index's segments to measure reading a big archive; this
writes the *source* of one, so ``searchsvc reindex`` can be measured building it
(issue 9: a 588,000-article archive, peak memory and time). Copy k of an article gets
the id ``<id>~k`` and its date moved back k years; the text is the same.

    python -m bench.archive --copies 10 --out /tmp/archive-10x.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from datetime import datetime
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles.jsonl.gz"


def older(published: str | None, years: int) -> str | None:
    """Return an ISO date ``years`` earlier (29 February becomes the 28th); other values unchanged."""
    if not published or not years:
        return published
    try:
        when = datetime.fromisoformat(published)
    except ValueError:
        return published
    day = 28 if (when.month, when.day) == (2, 29) else when.day
    return when.replace(year=when.year - years, day=day).isoformat()


def write_archive(source: Path, copies: int, out: Path) -> int:
    """Write ``copies`` copies of every line of ``source`` to ``out`` (gzip, fast level); return the lines."""
    written = 0
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=1) as sink:
        for copy in range(copies):
            with gzip.open(source, "rt", encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    if copy:
                        record["id"] = f"{record['id']}~{copy}"
                        record["published"] = older(record.get("published"), copy)
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                    written += 1
    return written


def main() -> None:
    """Write the archive and say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    count = write_archive(args.source, args.copies, args.out)
    print(
        f"{count:,} articles in {args.out} ({args.out.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
