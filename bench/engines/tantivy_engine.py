"""Tantivy (Python binding) with a lower-casing, ASCII-folding analyzer."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import tantivy

from bench.engines.base import (
    FIELD_WEIGHTS,
    SEARCH_FIELDS,
    EngineResult,
    day_bounds,
    local_day,
    split_query,
)

ANALYZER = "vi_fold"
# Large enough for every category in the corpus (55) so the terms aggregation is exact.
_FACET_SIZE = 1000


def folding_analyzer() -> tantivy.TextAnalyzer:
    """Return simple tokenizer + remove_long + lowercase + ascii_fold (no stemming)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_schema() -> tantivy.Schema:
    """Return the bench schema: folded text fields plus raw category and a day column."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("category", tokenizer_name="raw", fast=True)
    builder.add_integer_field("day", indexed=True, fast=True)
    for name in SEARCH_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER)
    return builder.build()


class TantivyEngine:
    """Tantivy BM25 with field boosts, conjunction by default, terms aggregation facets."""

    name = "tantivy"

    def __init__(self, procs: int = 1, heap_mb: int = 256) -> None:
        self._procs = procs
        self._heap = heap_mb * 1024 * 1024
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None
        self._schema: tantivy.Schema | None = None

    def build(self, articles: Iterable[dict], workdir: Path) -> None:
        """Add every article through one writer, commit, and open a searcher."""
        workdir.mkdir(parents=True, exist_ok=True)
        self._schema = build_schema()
        index = tantivy.Index(self._schema, path=str(workdir), reuse=False)
        index.register_tokenizer(ANALYZER, folding_analyzer())
        writer = index.writer(heap_size=self._heap, num_threads=self._procs)
        for art in articles:
            writer.add_document(_document(art))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._index = index
        self._searcher = index.searcher()

    def search(self, q: str, params: dict, k: int, facets: bool) -> EngineResult:
        """Run one query; aggregate category terms over all matches when facets is set."""
        text = " ".join('"{}"'.format(" ".join(w).replace('"', "")) for w in split_query(q))
        if not text:
            return EngineResult(ids=[], total=0, category_counts={} if facets else None)
        assert self._index is not None and self._searcher is not None, "search before build"
        parsed = self._index.parse_query(
            text, list(SEARCH_FIELDS), field_boosts=FIELD_WEIGHTS, conjunction_by_default=True
        )
        full = self._filtered(parsed, params)
        result = self._searcher.search(full, limit=k, count=facets)
        ids = [self._searcher.doc(addr)["id"][0] for _score, addr in result.hits]
        if not facets:
            return EngineResult(ids=ids, total=-1)
        agg = self._searcher.aggregate(full, {"cat": {"terms": {"field": "category", "size": _FACET_SIZE}}})
        counts = {b["key"]: b["doc_count"] for b in agg["cat"]["buckets"]}
        # The stub leaves out SearchResult.count (set when count=True, as here).
        return EngineResult(ids=ids, total=result.count, category_counts=counts)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Drop the searcher and index handles (Tantivy frees them on release)."""
        self._searcher = self._index = None

    def _filtered(self, parsed: tantivy.Query, params: dict) -> tantivy.Query:
        """Combine the text query with category/date filters as MUST clauses."""
        assert self._schema is not None, "search before build"
        clauses = [(tantivy.Occur.Must, parsed)]
        if params.get("category"):
            term = tantivy.Query.term_query(self._schema, "category", params["category"])
            clauses.append((tantivy.Occur.Must, term))
        lo, hi = day_bounds(params)
        if lo is not None or hi is not None:
            days = tantivy.Query.range_query(self._schema, "day", tantivy.FieldType.Integer, lo, hi)
            clauses.append((tantivy.Occur.Must, days))
        if len(clauses) == 1:
            return parsed
        return tantivy.Query.boolean_query(clauses)


def _document(art: dict) -> tantivy.Document:
    """Map a corpus record to a Tantivy document."""
    doc = tantivy.Document(
        id=art["id"],
        category=art["category"],
        title=art["title"],
        summary=art.get("summary") or "",
        body=art["body"],
    )
    day = local_day(art.get("published"))
    if day is not None:
        doc.add_integer("day", day)
    return doc
