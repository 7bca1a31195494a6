"""Adapter for our own engine, searchsvc, through its indexer/store/search API."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bench.engines.base import EngineResult

if TYPE_CHECKING:
    from searchsvc.messages import FacetValue
    from searchsvc.store import Store

SOURCE_DIR = "source"
INDEX_DIR = "index"


def import_error() -> str | None:
    """Return why searchsvc cannot be benchmarked, or None when it can."""
    try:
        from searchsvc.indexer import reindex  # noqa: F401
        from searchsvc.search import SearchRequest, search  # noqa: F401
        from searchsvc.store import open_store  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


class SearchsvcEngine:
    """searchsvc: reindex from a JSONL file, then search(store, SearchRequest)."""

    name = "searchsvc"

    def __init__(self, procs: int = 1) -> None:
        self._procs = procs
        self._highlight_off: dict = {}
        self._store: Store | None = None
        self._source: Path | None = None

    def prepare(self, articles: Iterable[dict], workdir: Path) -> None:
        """Write the articles to the JSONL file reindex reads (not timed)."""
        source = workdir / SOURCE_DIR / "articles.jsonl"
        source.parent.mkdir(parents=True, exist_ok=True)
        with source.open("w", encoding="utf-8") as out:
            for art in articles:
                out.write(json.dumps(art, ensure_ascii=False) + "\n")
        self._source = source

    def build(self, articles: Iterable[dict], workdir: Path) -> None:
        """Reindex from the prepared JSONL file and open the store."""
        from searchsvc.indexer import reindex
        from searchsvc.store import open_store

        index_dir = workdir / INDEX_DIR
        assert self._source is not None, "build before prepare"
        reindex([str(self._source)], index_dir, procs=self._procs)
        # The source copy is bench scaffolding, not part of the index size.
        shutil.rmtree(self._source.parent)
        self._store = open_store(index_dir)
        self._highlight_off = _no_highlight()

    def search(self, q: str, params: dict, k: int, facets: bool) -> EngineResult:
        """Run one SearchRequest and map its response."""
        from searchsvc.search import SearchRequest, search

        category = params.get("category")
        request = SearchRequest(
            q=q,
            page=1,
            per_page=k,
            categories=(category,) if category else (),
            date_from=_date(params.get("date_from")),
            date_to=_date(params.get("date_to")),
            facets=facets,
            **self._highlight_off,
        )
        assert self._store is not None, "search before build"
        response = search(self._store, request)
        ids = [hit.id for hit in response.hits]
        if not facets:
            return EngineResult(ids=ids, total=response.total)
        buckets: Sequence[FacetValue] = (response.facets or {}).get("category") or []
        counts = {b.value: b.count for b in buckets}
        return EngineResult(ids=ids, total=response.total, category_counts=counts)

    def close(self) -> None:
        """Close the store if it can be closed."""
        closer = getattr(self._store, "close", None)
        if callable(closer):
            closer()
        self._store = None


def _date(value: str | None) -> date | None:
    """Parse an ISO date parameter."""
    return date.fromisoformat(value) if value else None


def _no_highlight() -> dict:
    """Return the request option that turns highlighting off, if searchsvc has one."""
    from searchsvc.search import SearchRequest

    # The other engines return ids only; highlighting would be extra work only searchsvc does.
    names = {f.name for f in dataclasses.fields(SearchRequest)}
    return {"highlight": False} if "highlight" in names else {}
