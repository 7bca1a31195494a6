"""SQLite FTS5 with the unicode61 tokenizer folding diacritics."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from bench.engines.base import FIELD_WEIGHTS, EngineResult, day_bounds, local_day, split_query

_SCHEMA = """
CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, category TEXT NOT NULL, day INTEGER);
CREATE VIRTUAL TABLE fts USING fts5(
    title, summary, body, content='', tokenize='unicode61 remove_diacritics 2'
);
"""
_INDEXES = """
CREATE INDEX meta_category ON meta(category);
CREATE INDEX meta_day ON meta(day);
"""
_WEIGHTS = ", ".join(str(w) for w in FIELD_WEIGHTS.values())


class SqliteFts5Engine:
    """FTS5 contentless table ranked by bm25(fts, 3.0, 1.5, 1.0), filters in a side table."""

    name = "sqlite-fts5"

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def build(self, articles: Iterable[dict], workdir: Path) -> None:
        """Insert every article in one transaction, then optimize the FTS index."""
        workdir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(workdir / "fts.sqlite3")
        db.executescript(_SCHEMA)
        with db:
            for rowid, art in enumerate(articles, start=1):
                db.execute(
                    "INSERT INTO meta VALUES (?, ?, ?, ?)",
                    (rowid, art["id"], art["category"], local_day(art.get("published"))),
                )
                db.execute(
                    "INSERT INTO fts(rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                    (rowid, art["title"], art.get("summary") or "", art["body"]),
                )
            db.executescript(_INDEXES)
            db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        self._db = db

    def search(self, q: str, params: dict, k: int, facets: bool) -> EngineResult:
        """Rank with bm25; with facets, count all matches per category with GROUP BY."""
        match = fts5_query(q)
        if not match:
            return EngineResult(ids=[], total=0, category_counts={} if facets else None)
        where, args = _where(params)
        db = self._db
        assert db is not None, "search before build"
        top = db.execute(
            "SELECT meta.id FROM fts JOIN meta ON meta.rowid = fts.rowid"
            f" WHERE fts MATCH ?{where} ORDER BY bm25(fts, {_WEIGHTS}) LIMIT ?",
            (match, *args, k),
        ).fetchall()
        ids = [row[0] for row in top]
        if not facets:
            # Counting is a second pass over the matches; the no-facet run skips it.
            return EngineResult(ids=ids, total=-1)
        groups = db.execute(
            "SELECT meta.category, count(*) FROM fts JOIN meta ON meta.rowid = fts.rowid"
            f" WHERE fts MATCH ?{where} GROUP BY meta.category",
            (match, *args),
        ).fetchall()
        counts = dict(groups)
        return EngineResult(ids=ids, total=sum(counts.values()), category_counts=counts)

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
        self._db = None


def fts5_query(q: str) -> str:
    """Render words and quoted phrases as FTS5 strings, implicitly ANDed."""
    parts = []
    for words in split_query(q):
        text = " ".join(words).replace('"', '""')
        parts.append(f'"{text}"')
    return " ".join(parts)


def _where(params: dict) -> tuple[str, list]:
    """Return the extra WHERE clause and its arguments for category/date filters."""
    sql, args = "", []
    if params.get("category"):
        sql += " AND meta.category = ?"
        args.append(params["category"])
    lo, hi = day_bounds(params)
    if lo is not None:
        sql += " AND meta.day >= ?"
        args.append(lo)
    if hi is not None:
        sql += " AND meta.day <= ?"
        args.append(hi)
    return sql, args
