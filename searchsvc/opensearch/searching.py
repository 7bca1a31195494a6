"""The OpenSearch backend: attempts executed on a cluster, read through the index alias.

Query understanding stays above the boundary (``search.py``); this module runs
an attempt as query DSL (``querydsl.py``): one request for what it matches and
how many pass the filters, one more for facets and the page. Re-ranking by
proximity uses the same ``ranking.rerank`` as the embedded backend, measured on
the returned text, so both backends order the head of the results alike.

The alias is resolved to its concrete index at most every ``refresh_interval``
seconds: a reindex moves the alias, and the next refresh loads that
generation's lexicon. Every cluster fault becomes ``BackendUnavailable``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors

from searchsvc.accents import Plan
from searchsvc.article import article_view
from searchsvc.backend import Attempt, Matched, Results
from searchsvc.config import SearchSettings, Settings
from searchsvc.errors import BackendUnavailable, IndexNotReady, NotFound
from searchsvc.lexicon import Completion, Lexicon
from searchsvc.messages import FacetValue
from searchsvc.opensearch import querydsl as dsl
from searchsvc.opensearch.client import backend_errors, connect, live_index
from searchsvc.opensearch.indexing import load_lexicon
from searchsvc.opensearch.mapping import os_field, stored_fields
from searchsvc.query import ParsedQuery
from searchsvc.ranking import BODY_DEPTH, PROXIMITY_FIELDS, Candidate, is_topical, rerank, text_nearness
from searchsvc.related import RelatedArticle, RelatedResponse
from searchsvc.schema import EXACT_FIELDS, SCHEMA_VERSION, SEARCH_FIELDS
from searchsvc.text import forms, syllables
from searchsvc.topical import word_pairs

# Articles read for the written forms of a query's words, and bodies checked for a word pair.
CONTEXT_DOCS = 5
PAIR_CHECK_LIMIT = 2000
# Document frequencies kept per generation (each costs one request the first time).
FREQUENCY_CACHE = 20_000
# Every text field, folded and exact: one request answers a term's frequency in all of them.
_FREQUENCY_FIELDS = (*SEARCH_FIELDS, *EXACT_FIELDS.values())


@dataclass(frozen=True)
class ClusterState:
    """What the alias points at: the concrete index, its generation and lexicon."""

    index: str
    generation: str
    created: str | None
    lexicon: Lexicon
    shards: int


@dataclass(frozen=True)
class QueryMatch(Matched):
    """A match as the query DSL that found it, and the filters to count and page it with."""

    query: dsl.Query
    filters: dict[str, dsl.Query]
    topic_narrowed: bool
    relevance_total: int | None  # with topic_narrowed: how many the relevance sort lists


@contextmanager
def unavailable_on_fault() -> Iterator[None]:
    """Apply the client's error map, and report an index gone under us (pruned by a reindex) as not ready."""
    try:
        with backend_errors():
            yield
    except os_errors.NotFoundError as exc:
        raise IndexNotReady("the search index is gone from the cluster: run `searchsvc reindex`") from exc


class OpenSearchBackend:
    """Searches served by an OpenSearch cluster through one index alias."""

    kind = "opensearch"

    def __init__(self, client: OpenSearch, alias: str, refresh_interval: float = 1.0) -> None:
        self.client = client
        self.alias = alias
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self.problem: str | None = None  # why the newest state is not served, or the cluster not reached
        self.unreachable: str | None = None  # set while the cluster cannot be reached
        self._frequencies: OrderedDict[tuple[str, str], dict[str, int]] = OrderedDict()
        self._state = self._load()
        self._seen = self._changes()

    # ------------------------------------------------------------ state

    def _load(self) -> ClusterState:
        """Resolve the alias, check the mapping's schema version and load the generation's lexicon."""
        index = live_index(self.client, self.alias)
        with unavailable_on_fault():
            mapping = self.client.indices.get_mapping(index=index)[index]["mappings"]
        meta = mapping.get("_meta") or {}
        with unavailable_on_fault():
            lexicon = load_lexicon(self.client, index)
            settings = self.client.indices.get_settings(index=index)[index]["settings"]["index"]
        shards = int(settings.get("number_of_shards", 1))
        return ClusterState(index, str(meta.get("generation") or index), meta.get("created"), lexicon, shards)

    def refresh(self, force: bool = False) -> None:
        """Follow the alias to a new generation; keep serving the old one while the cluster is unwell."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_interval:
            return
        with self._lock:
            self._checked = now
            try:
                with unavailable_on_fault():
                    # Local: a cluster that lost its manager still answers from the state it has.
                    found = self.client.indices.get_alias(name=self.alias, local=True)
                    changes = self._changes()
                self.unreachable = None
                if changes != self._seen:
                    # `index add`/`delete` changed the generation: its word counts are stale.
                    self._seen = changes
                    self._frequencies.clear()
                if sorted(found)[-1] != self._state.index:
                    self._state = self._load()
                    self._seen = self._changes()
                    self._frequencies.clear()
                self.problem = None
            except BackendUnavailable as exc:
                # Until the next refresh succeeds, requests fail at once instead of waiting out a timeout each.
                self.unreachable = self.problem = str(exc)
            except IndexNotReady as exc:
                # The alias moved to an index this version cannot read: keep serving the one before.
                self.problem = f"{exc}; still serving {self._state.index}"

    def _changes(self) -> tuple[int, int]:
        """Return how many index and delete operations the live generation has seen."""
        with unavailable_on_fault():
            stats = self.client.indices.stats(index=self._state.index, metric="indexing")
        indexing = stats["_all"]["primaries"].get("indexing") or {}
        return int(indexing.get("index_total", 0)), int(indexing.get("delete_total", 0))

    @property
    def lexicon(self) -> Lexicon:
        """Return the live generation's lexicon."""
        return self._state.lexicon

    @property
    def generation(self) -> str:
        """Return the live generation's name."""
        return self._state.generation

    @property
    def created(self) -> str | None:
        """Return when the live generation was built."""
        return self._state.created

    @property
    def doc_count(self) -> int:
        """Return the number of searchable articles."""
        self._check()
        with unavailable_on_fault():
            return int(self.client.count(index=self._state.index)["count"])

    def state_key(self) -> Hashable | None:
        """Return None: a cluster changes under `index add` without a new state to key answers by."""
        return None

    # ------------------------------------------------------------ words

    def doc_frequency(self, field: str, term: str) -> int:
        """Return how many articles hold ``term`` in ``field`` (deleted ones included until merged, as Whoosh)."""
        self.prefetch_frequencies([term])
        with self._lock:
            found = self._frequencies.get((self._state.index, term)) or {}
        if field in found:
            return found[field]
        return self._count({"term": {os_field(field): term}})

    def prefetch_frequencies(self, terms: Iterable[str]) -> None:
        """Look many words up in one request, so the corrector's hundreds of candidates cost no request each."""
        index = self._state.index
        with self._lock:
            wanted = sorted({t for t in terms if t and (index, t) not in self._frequencies})
        if not wanted:
            return
        found = self._term_statistics(wanted) if self._state.shards == 1 else {}
        for term in wanted:
            if term not in found:
                found[term] = self._filtered_frequencies(term)
        with self._lock:
            for term, counts in found.items():
                self._frequencies[(index, term)] = counts
            while len(self._frequencies) > FREQUENCY_CACHE:
                self._frequencies.popitem(last=False)

    def _term_statistics(self, terms: list[str]) -> dict[str, dict[str, int]]:
        """Return the words' document frequencies per field from the one shard's term statistics."""
        fields = [os_field(name) for name in _FREQUENCY_FIELDS]
        body = {
            "doc": dict.fromkeys(fields, "\n".join(terms)),
            "fields": fields,
            "term_statistics": True,
            "field_statistics": False,
            "positions": False,
            "offsets": False,
        }
        self._check()
        with unavailable_on_fault():
            answer = self.client.termvectors(index=self._state.index, body=body)
        vectors = answer.get("term_vectors") or {}
        per_field = {
            name: (vectors.get(os_field(name)) or {}).get("terms") or {} for name in _FREQUENCY_FIELDS
        }
        # A word the field's analyzer changes (`mp3` is `mp` and `3`) is never one of its terms: it counts 0.
        return {
            term: {
                name: int((per_field[name].get(term) or {}).get("doc_freq", 0)) for name in _FREQUENCY_FIELDS
            }
            for term in terms
        }

    def _filtered_frequencies(self, term: str) -> dict[str, int]:
        """Return one word's live article count in every text field (one request)."""
        aggs = {name: {"filter": {"term": {os_field(name): term}}} for name in _FREQUENCY_FIELDS}
        answer = self._search({"size": 0, "track_total_hits": False, "aggs": aggs})
        return {name: int(answer["aggregations"][name]["doc_count"]) for name in _FREQUENCY_FIELDS}

    def _exact_prefixes(self, parsed: ParsedQuery) -> frozenset[str]:
        """Return the marked prefixes that some exact form starts with."""
        found = set()
        for prefix in dsl.marked_prefixes(parsed):
            query = dsl.any_of([{"prefix": {os_field(EXACT_FIELDS[f]): prefix}} for f in SEARCH_FIELDS])
            if self._count(query):
                found.add(prefix)
        return frozenset(found)

    # ------------------------------------------------------------ requests

    def _check(self) -> None:
        """Fail at once while the last refresh found the cluster unwell."""
        problem = self.unreachable
        if problem is not None:
            raise BackendUnavailable(problem)

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one search on the live generation."""
        self._check()
        with unavailable_on_fault():
            answer: dict[str, Any] = self.client.search(index=self._state.index, body=body)
        return answer

    def _count(self, query: dsl.Query) -> int:
        """Return how many articles match ``query``."""
        self._check()
        with unavailable_on_fault():
            return int(self.client.count(index=self._state.index, body={"query": query})["count"])

    # ------------------------------------------------------------ matching

    def match(self, attempt: Attempt) -> QueryMatch:
        """Match an attempt, narrow a date sort to the query's word pairs, and fall back to the best partial match."""
        parsed, settings, resolutions = attempt.parsed, attempt.settings, attempt.resolutions
        prefixes = self._exact_prefixes(parsed)
        spans = attempt.expansion.spans if attempt.expand else ()
        positive = dsl.positive_clauses(parsed, settings, resolutions, spans, prefixes)
        negative = dsl.negative_clauses(parsed, settings, resolutions, prefixes)
        weights = dsl.field_weights(settings)
        bonus = dsl.exact_bonus(parsed, weights, settings.exact_boost)
        query = dsl.matching(positive, negative, bonus)
        filters = dsl.scope_filters(attempt.scope)
        found, total = self._found_and_total(query, filters)
        narrowed = False
        wider = total
        if attempt.request.sort != "relevance" and found:
            query, narrowed, total = self._on_topic(query, parsed, resolutions, filters, total)
        partial = False
        if not total and len(positive) > 1:
            best = self._most_clauses(positive, negative)
            if best:
                query = dsl.at_least(positive, negative, best)
                partial = True
                _, total = self._found_and_total(query, filters)
        return QueryMatch(
            attempt=attempt,
            found=found,
            total=total,
            partial=partial,
            matched_terms=_looked_for(parsed, resolutions),
            query=query,
            filters=filters,
            topic_narrowed=narrowed,
            relevance_total=wider if narrowed else None,
        )

    def _found_and_total(self, query: dsl.Query, filters: Mapping[str, dsl.Query]) -> tuple[bool, int]:
        """Return whether anything matches ``query``, and how many of those pass the filters."""
        body: dict[str, Any] = {
            "size": 0,
            "track_total_hits": True,
            "query": query,
            "aggs": {"matched": {"filter": {"match_all": {}}}},
        }
        post = dsl.combined(filters)
        if post is not None:
            body["post_filter"] = post
        answer = self._search(body)
        return bool(answer["aggregations"]["matched"]["doc_count"]), int(answer["hits"]["total"]["value"])

    def _on_topic(
        self,
        query: dsl.Query,
        parsed: ParsedQuery,
        resolutions: Plan,
        filters: Mapping[str, dsl.Query],
        total: int,
    ) -> tuple[dsl.Query, bool, int]:
        """Return the query a date sort lists: the word pairs together, if any such match passes the filters."""
        pairs = word_pairs(parsed, self.lexicon)
        if not pairs:
            return query, False, total
        narrowed = dsl.all_of([query, dsl.unscored(dsl.pairs_together(pairs, resolutions))])
        _, kept = self._found_and_total(narrowed, filters)
        if not kept:
            return query, False, total
        return narrowed, kept < total, kept

    def _most_clauses(self, positive: list[dsl.Query], negative: list[dsl.Query]) -> int:
        """Return the most positive clauses (fewer than all) that some live article matches; 0 when none."""
        for count in range(len(positive) - 1, 0, -1):
            if self._count(dsl.at_least(positive, negative, count)):
                return count
        return 0

    # ------------------------------------------------------------ results

    def results(self, matched: Matched) -> Results:
        """Count the facets, rank, and read the requested page."""
        assert isinstance(matched, QueryMatch)
        attempt = matched.attempt
        request, settings, parsed = attempt.request, attempt.settings, attempt.parsed
        start = (request.page - 1) * request.per_page
        relevance = request.sort == "relevance" and bool(parsed.positive)
        depth = settings.rerank_depth if relevance and start < settings.rerank_depth else 0
        size = max(start + request.per_page, depth) if depth else request.per_page
        body: dict[str, Any] = {
            "query": matched.query,
            "track_total_hits": True,
            "from": 0 if depth else start,
            "size": size,
            "sort": dsl.relevance_sort() if relevance else dsl.date_sort(request.sort != "oldest"),
            "_source": list(_HIT_SOURCE),
        }
        post = dsl.combined(matched.filters)
        if post is not None:
            body["post_filter"] = post
        if request.facets:
            body["aggs"] = dsl.facet_aggregations(matched.filters)
        answer = self._search(body)
        hits = [(_stored(h), float(h.get("_score") or 0.0)) for h in answer["hits"]["hits"]]
        if depth:
            hits = _reranked(hits, parsed, settings, self.lexicon)[start : start + request.per_page]
        facets = _facets(answer.get("aggregations") or {}) if request.facets else {}
        folded_total = self._folded_total(attempt, matched)
        return Results(facets, tuple(hits), folded_total, matched.topic_narrowed, matched.relevance_total)

    def _folded_total(self, attempt: Attempt, matched: QueryMatch) -> int:
        """Return how many articles the query matches with accents ignored (the same filters)."""
        if not any(r.exact for r in attempt.resolutions.values()):
            return matched.total
        parsed, settings = attempt.parsed, attempt.settings
        positive = dsl.positive_clauses(parsed, settings, None)
        negative = dsl.negative_clauses(parsed, settings, None, frozenset())
        return self._found_and_total(dsl.matching(positive, negative), matched.filters)[1]

    # ------------------------------------------------------------ corrections

    def pair_documents(self, first: str, second: str) -> tuple[int, list[dict[str, Any]]]:
        """Return about how many articles have two folded words adjacent in the body, and a few of them."""
        span = dsl.phrase_span("body", [[("body", first)], [("body", second)]])
        body = {
            "query": span,
            "size": CONTEXT_DOCS,
            "track_total_hits": PAIR_CHECK_LIMIT,
            "sort": ["_doc"],
            "_source": ["stored"],
        }
        answer = self._search(body)
        return int(answer["hits"]["total"]["value"]), [_stored(h) for h in answer["hits"]["hits"]]

    def richest_documents(self, words: list[str]) -> list[dict[str, Any]]:
        """Return a few articles holding the most of ``words`` (two at least), in title, summary or body."""
        each = [
            {
                "constant_score": {
                    "filter": dsl.any_of([dsl.term(f, w) for f in dsl.TOPIC_FIELDS]),
                    "boost": 1.0,
                }
            }
            for w in dict.fromkeys(words)
        ]
        query = {"bool": {"should": each, "minimum_should_match": min(2, len(each))}}
        answer = self._search({"query": query, "size": CONTEXT_DOCS, "_source": ["stored"]})
        return [_stored(h) for h in answer["hits"]["hits"]]

    # ------------------------------------------------------------ articles

    def _source_of(self, article_id: str) -> dict[str, Any]:
        """Return the stored fields of an article, or raise ``NotFound``."""
        body = {"query": {"term": {os_field("id"): article_id}}, "size": 1, "_source": ["stored"]}
        hits = self._search(body)["hits"]["hits"]
        if not hits:
            raise NotFound(f"no article with id {article_id!r}")
        return _stored(hits[0])

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the public form of an article, or raise ``NotFound``."""
        return article_view(self._source_of(article_id))

    def related(
        self, article_id: str, limit: int, before: datetime | None, settings: SearchSettings
    ) -> RelatedResponse:
        """Return articles on the same story: the cluster's more-like-this over title, summary and body."""
        started = time.perf_counter()
        self._source_of(article_id)  # NotFound first, as on the embedded backend
        like: dict[str, Any] = {
            "more_like_this": {
                "fields": [os_field(f) for f in dsl.TOPIC_FIELDS],
                "like": [{"_index": self._state.index, "_id": article_id}],
                "min_term_freq": 1,
                "min_doc_freq": 2,
                "max_query_terms": 25,
                "minimum_should_match": "30%",
            }
        }
        query: dsl.Query = like
        if before is not None:
            stamp = int(before.timestamp())
            query = {
                "bool": {"must": [like], "filter": [{"range": {os_field("published_ts"): {"lt": stamp}}}]}
            }
        answer = self._search({"query": query, "size": limit, "_source": ["stored"]})
        items = tuple(
            RelatedArticle(
                id=fields["id"],
                title=fields.get("title", ""),
                url=fields.get("url"),
                published=fields.get("published"),
                category=fields.get("category"),
                source=fields.get("source"),
                score=round(score, 4),
            )
            for fields, score in ((_stored(h), float(h.get("_score") or 0.0)) for h in answer["hits"]["hits"])
        )
        return RelatedResponse(article_id, items, (), round((time.perf_counter() - started) * 1000, 2))

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return accent-insensitive completions from the generation's lexicon."""
        return self.lexicon.complete(prefix, limit)

    def stats(self) -> dict[str, Any]:
        """Return documents, generation, size and per-category/source counts and the date range."""
        state = self._state
        aggs = {
            "categories": {"terms": {"field": os_field("category"), "size": dsl.FACET_SIZE}},
            "sources": {"terms": {"field": os_field("source"), "size": dsl.FACET_SIZE}},
            "dated": {"filter": {"range": {os_field("day"): {"gt": 0}}}},
            "first": {"min": {"field": os_field("day")}},
            "last": {"max": {"field": os_field("day")}},
        }
        answer = self._search({"size": 0, "track_total_hits": True, "aggs": aggs})
        with unavailable_on_fault():
            size = self.client.indices.stats(index=state.index, metric="store")
        found = answer["aggregations"]
        days = (found["first"].get("value"), found["last"].get("value"))
        return {
            "generation": state.generation,
            "schema_version": SCHEMA_VERSION,
            "created": state.created,
            "documents": int(answer["hits"]["total"]["value"]),
            "segments": None,
            "size_bytes": int(size["_all"]["primaries"]["store"]["size_in_bytes"]),
            "dated_documents": int(found["dated"]["doc_count"]),
            "date_range": [_day_text(int(d)) for d in days] if days[0] else None,
            "categories": _bucket_counts(found["categories"]["buckets"]),
            "sources": _bucket_counts(found["sources"]["buckets"]),
            "backend": "opensearch",
            "index": state.index,
        }

    def health(self) -> dict[str, Any]:
        """Return ok, or degraded with the reason (the cluster's own status included)."""
        report: dict[str, Any] = {"status": "ok", "generation": self.generation, "backend": self.kind}
        if self.unreachable is not None:
            return report | {"status": "degraded", "serving": False, "problem": self.unreachable}
        try:
            with unavailable_on_fault():
                cluster = self.client.cluster.health(index=self._state.index, local=True)
            report["cluster"] = cluster.get("status")
            report["documents"] = self.doc_count
            if self.problem is not None:
                report.update(status="degraded", problem=self.problem)
            if cluster.get("status") == "red":
                report.update(status="degraded", serving=False)
                report["problem"] = f"the OpenSearch index {self._state.index} is red"
        except BackendUnavailable as exc:
            report.update(status="degraded", serving=False, problem=str(exc))
        return report

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


# What a hit returns: the stored fields, and the time that breaks re-ranking ties.
_HIT_SOURCE = ("stored", "published_ts")


def _stored(hit: Mapping[str, Any]) -> dict[str, Any]:
    """Return a hit's stored fields, with its publication time for re-ranking."""
    source = hit.get("_source") or {}
    fields = stored_fields(source)
    if "published_ts" in source:
        fields["published_ts"] = source["published_ts"]
    return fields


def _looked_for(parsed: ParsedQuery, resolutions: Plan) -> tuple[str, ...]:
    """Return the index words (folded, or exact for marked words) the positive clauses look for, in query order."""
    words: list[str] = []
    for clause in parsed.positive:
        for part in clause.alternatives or (clause,):
            for syllable in part.syllables:
                resolution = resolutions.get(syllable.exact)
                words.extend(resolution.terms if resolution and resolution.exact else (syllable.folded,))
    return tuple(dict.fromkeys(words))


def _reranked(
    hits: list[tuple[dict[str, Any], float]], parsed: ParsedQuery, settings: SearchSettings, lexicon: Lexicon
) -> list[tuple[dict[str, Any], float]]:
    """Re-rank the head of a relevance order by proximity (and freshness for a topic), as the embedded backend does."""
    head = hits[: settings.rerank_depth]
    sequence = [
        s.folded
        for c in parsed.positive
        if not c.alternatives and c.field in (None, "title")
        for s in c.syllables
    ]
    exact_words = [s.exact for s in parsed.all_syllables() if s.accented]
    candidates = []
    for rank, (source, score) in enumerate(head):
        near = {
            name: text_nearness(_folded_tokens(source.get(name) or ""), sequence) for name in PROXIMITY_FIELDS
        }
        candidates.append(
            Candidate(
                rank,
                score,
                {name: near[name][0] for name in PROXIMITY_FIELDS},
                source.get("body", "") if exact_words and rank < BODY_DEPTH else "",
                int(source.get("published_ts") or 0),
                near["title"][1],
            )
        )
    phrase = lexicon.entry(" ".join(sequence))  # a topic prefers recent coverage
    topical = is_topical(phrase[1] if phrase else 0, len(head), settings)
    order = rerank(candidates, exact_words, settings, time.time(), BODY_DEPTH, len(sequence) - 1, topical)
    return [(head[rank][0], score) for rank, score in order] + hits[settings.rerank_depth :]


def _folded_tokens(text: str) -> list[str]:
    """Return a field's folded syllables in order, as the index holds them."""
    return [forms(raw)[1] for raw in syllables(text)]


def _facets(aggregations: Mapping[str, Any]) -> dict[str, tuple[FacetValue, ...]]:
    """Return the category, source, year and month counts of a search's aggregations."""

    def buckets(name: str) -> list[tuple[str, int]]:
        return [(str(b["key"]), int(b["doc_count"])) for b in aggregations[name]["values"]["buckets"]]

    def by_count(pairs: list[tuple[str, int]]) -> tuple[FacetValue, ...]:
        return tuple(FacetValue(v, c) for v, c in sorted(pairs, key=lambda p: (-p[1], p[0])))

    months = sorted(buckets("month"))
    years: dict[str, int] = {}
    for month, count in months:
        years[month[:4]] = years.get(month[:4], 0) + count
    return {
        "category": by_count(buckets("category")),
        "source": by_count(buckets("source")),
        "year": tuple(FacetValue(y, c) for y, c in sorted(years.items())),
        "month": tuple(FacetValue(m, c) for m, c in months),
    }


def _bucket_counts(buckets: list[dict[str, Any]]) -> dict[str, int]:
    """Return a terms aggregation's counts, most frequent first."""
    pairs = [(str(b["key"]), int(b["doc_count"])) for b in buckets]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def _day_text(day: int) -> str:
    """Format a YYYYMMDD integer as YYYY-MM-DD."""
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def open_cluster(settings: Settings) -> OpenSearchBackend:
    """Connect to the configured cluster and serve its index alias (raises ``BackendUnavailable``)."""
    return OpenSearchBackend(connect(settings), settings.backend.index)
