"""Whoosh (2.7 API) engines: the default analyzer and an accent-folding one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index, qparser, query, scoring, sorting
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StandardAnalyzer,
)
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.index import FileIndex
from whoosh.searching import Searcher
from whoosh.support.charset import accent_map

from bench.engines.base import FIELD_WEIGHTS, SEARCH_FIELDS, EngineResult, day_bounds, local_day


def default_analyzer() -> Analyzer:
    """Return Whoosh's default analyzer for TEXT fields."""
    return StandardAnalyzer()


def accent_analyzer() -> Analyzer:
    """Return the accent-ignoring analyzer Whoosh documents (CharsetFilter + accent_map)."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def build_schema(analyzer: Analyzer) -> Schema:
    """Return the bench schema: weighted text fields plus filter/facet columns."""
    text = {
        name: TEXT(analyzer=analyzer, field_boost=boost, phrase=True) for name, boost in FIELD_WEIGHTS.items()
    }
    return Schema(
        id=ID(stored=True),
        category=ID(sortable=True),
        day=NUMERIC(int, bits=32, sortable=True),
        **text,
    )


class WhooshEngine:
    """Whoosh with BM25F, an AND-grouped MultifieldParser and a category FieldFacet."""

    def __init__(
        self,
        name: str,
        analyzer: Callable[[], Analyzer],
        procs: int = 1,
        limitmb: int = 256,
    ) -> None:
        self.name = name
        self._analyzer = analyzer
        self._procs = procs
        self._limitmb = limitmb
        self._ix: FileIndex | None = None
        self._searcher: Searcher | None = None
        self._parser: qparser.QueryParser | None = None

    def build(self, articles: Iterable[dict], workdir: Path) -> None:
        """Index the articles with one writer, then open a searcher."""
        workdir.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(workdir), build_schema(self._analyzer()))
        multi = self._procs > 1
        writer = ix.writer(procs=self._procs, limitmb=self._limitmb, multisegment=multi)
        for art in articles:
            writer.add_document(**_document(art))
        writer.commit()
        self._ix = ix
        self._searcher = ix.searcher(weighting=scoring.BM25F())
        self._parser = qparser.MultifieldParser(list(SEARCH_FIELDS), ix.schema, group=qparser.AndGroup)

    def search(self, q: str, params: dict, k: int, facets: bool) -> EngineResult:
        """Run one query; count categories over every match when facets is set."""
        assert self._parser is not None and self._searcher is not None, "search before build"
        parsed = self._parser.parse(q)
        options: dict = {"limit": k, "filter": _filter(params)}
        if facets:
            options["groupedby"] = {"category": sorting.FieldFacet("category")}
            options["maptype"] = sorting.Count
        results = self._searcher.search(parsed, **options)
        ids = [hit["id"] for hit in results]
        if not facets:
            # Without facets Whoosh may skip non-competitive blocks; its total is an estimate.
            return EngineResult(ids=ids, total=results.estimated_length())
        counts = {str(key): n for key, n in results.groups("category").items()}
        return EngineResult(ids=ids, total=len(results), category_counts=counts)

    def close(self) -> None:
        """Close the searcher and the index."""
        if self._searcher is not None:
            self._searcher.close()
        if self._ix is not None:
            self._ix.close()
        self._searcher = self._ix = None


def _document(art: dict) -> dict:
    """Map a corpus record to Whoosh field values."""
    doc = {
        "id": art["id"],
        "category": art["category"],
        "title": art["title"],
        "summary": art.get("summary") or "",
        "body": art["body"],
    }
    day = local_day(art.get("published"))
    if day is not None:
        doc["day"] = day
    return doc


def _filter(params: dict) -> query.Query | None:
    """Build the category/date filter query, or None when there is none."""
    terms: list[query.Query] = []
    if params.get("category"):
        terms.append(query.Term("category", params["category"]))
    lo, hi = day_bounds(params)
    if lo is not None or hi is not None:
        terms.append(query.NumericRange("day", lo, hi))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else query.And(terms)
