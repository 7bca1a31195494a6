"""The built-in demo corpus: 48 original articles and one saved article page.

`searchsvc demo` indexes these files on a fresh machine, and tests use them as a
small, realistic fixture. The texts were written for searchsvc; what each article
is there to exercise is listed in README.md next to this file.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR: Path = Path(__file__).resolve().parent
ARTICLES_PATH: Path = DEMO_DIR / "articles.jsonl"
PAGES_DIR: Path = DEMO_DIR / "pages"


def demo_sources() -> list[Path]:
    """Return the demo files to ingest: the JSONL file, then the pages in name order."""
    # Sorted so every machine indexes the same files in the same order.
    return [ARTICLES_PATH, *sorted(PAGES_DIR.glob("*.txt"))]
