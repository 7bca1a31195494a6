"""Build, switch and update the article index in an OpenSearch cluster.

A reindex mirrors ``searchsvc.indexer.reindex``: the same readers, rejects,
warnings and progress. It loads a new index ``<alias>-<UTC stamp>`` (no refresh,
no replicas while loading), checks its document count, then moves the alias in
one ``_aliases`` call, so readers see the old generation or the new one, never a
half-built one; a killed or failed build leaves the alias where it was, and the
next reindex deletes what it left. The lexicon (suggestions, completions, word
pairs) is built in the same pass and stored in the cluster, in ``<alias>-meta``,
so every serving machine loads the same one (``load_lexicon``); index add and
delete record their changes to it there too.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors
from opensearchpy.helpers import parallel_bulk, streaming_bulk

from searchsvc.article import Article
from searchsvc.config import Settings
from searchsvc.errors import BuildFailed, IndexNotReady
from searchsvc.indexer import NothingToIndex, ReindexReport, read_articles
from searchsvc.ingest import DEFAULT_LIMITS, IngestLimits, IngestReport, Reject, expand_sources, iter_sources
from searchsvc.lexicon import (
    DELTA_PREFIX,
    DELTA_SUFFIX,
    LayeredLexicon,
    Lexicon,
    LexiconBuilder,
    record_additions,
)
from searchsvc.opensearch.client import backend_errors, check_health, connect, live_index, missing
from searchsvc.opensearch.mapping import creation_body, to_os_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Bulk requests carry whole articles (three copies of the text): larger chunks, a longer timeout.
CHUNK_DOCS = 500
CHUNK_BYTES = 20_000_000
BULK_TIMEOUT = 120.0
# How long a reindex with replicas waits for them to be placed before it gives up.
REPLICA_WAIT = "90s"
LEXICON_CHUNK_BYTES = 4_000_000
LEXICON_FORMAT = 1
META_SUFFIX = "-meta"


def generation_pattern(alias: str) -> re.Pattern[str]:
    """Return the pattern of the generation names of ``alias`` (``<alias>-20261207t204224123456z``)."""
    return re.compile(re.escape(alias) + r"-\d{8}t\d{12}z")


def new_generation(alias: str) -> str:
    """Return the name of a new generation of ``alias``: a UTC stamp, like the embedded generations."""
    return f"{alias}-{datetime.now(UTC).strftime('%Y%m%dt%H%M%S%fz')}"


def alias_of(concrete_index: str) -> str:
    """Return the alias a generation belongs to (alias names hold no '-')."""
    return concrete_index.rsplit("-", 1)[0]


class _Load:
    """One bulk load's bookkeeping: what was read, what the cluster took, what it refused."""

    def __init__(self, index: str, versioned: bool = False) -> None:
        self.index = index
        self.versioned = versioned
        self.read = 0
        self.written = 0
        self.stored: set[str] = set()
        self.rejects: list[Reject] = []

    def actions(self, articles: Iterable[Article]) -> Iterator[dict[str, Any]]:
        """Yield one bulk action per article.

        Versioned (a new generation loaded by concurrent requests), each action's
        version is its place in the sources, so the later record of a duplicate id
        wins whichever request the cluster runs first; the earlier one is refused
        as a version conflict.
        """
        for article in articles:
            self.read += 1
            action: dict[str, Any] = {
                "_index": self.index,
                "_id": article.id,
                "_source": to_os_document(article),
            }
            if self.versioned:
                action |= {"version": self.read, "version_type": "external"}
            yield action

    def take(self, results: Iterable[tuple[bool, dict[str, Any]]]) -> None:
        """Record each bulk item's outcome; a refused article becomes a reject naming why."""
        for ok, item in results:
            (op, info), *_ = item.items()
            article_id = str(info.get("_id", ""))
            if ok:
                self.written += 1
                self.stored.add(article_id)
                continue
            if self.versioned and info.get("status") == 409:
                continue  # an earlier record of an id whose later record the cluster holds
            error = info.get("error") or {}
            reason = error.get("reason", error) if isinstance(error, dict) else error
            kind = error.get("type", "error") if isinstance(error, dict) else "error"
            self.rejects.append(
                Reject(
                    self.index,
                    None,
                    f"article {article_id!r} refused by the search cluster: {kind}: {reason}",
                )
            )

    @property
    def expected(self) -> int:
        """Return how many documents the index must hold: the distinct ids written at least once."""
        return len(self.stored)


def _parallel_bulk(client: OpenSearch, actions: Iterable[dict[str, Any]]) -> Iterator[tuple[bool, Any]]:
    """Send ``actions`` in chunks over two concurrent requests (two write threads on the one shard)."""
    yield from parallel_bulk(
        client,
        actions,
        thread_count=2,
        queue_size=2,
        chunk_size=CHUNK_DOCS,
        max_chunk_bytes=CHUNK_BYTES,
        raise_on_error=False,
        raise_on_exception=True,
        request_timeout=BULK_TIMEOUT,
    )


def _bulk(client: OpenSearch, actions: Iterable[dict[str, Any]], **params: Any) -> Iterator[tuple[bool, Any]]:
    """Send ``actions`` in chunks and yield each item's outcome; a failed request raises."""
    yield from streaming_bulk(
        client,
        actions,
        chunk_size=CHUNK_DOCS,
        max_chunk_bytes=CHUNK_BYTES,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=2,  # 429: the cluster's write queue is full for a moment
        initial_backoff=1,
        request_timeout=BULK_TIMEOUT,
        **params,
    )


def reindex(
    settings: Settings,
    sources: Sequence[str | Path],
    progress: Progress | None = None,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> ReindexReport:
    """Load ``sources`` into a new generation and move the alias to it once its count is verified."""
    started = time.perf_counter()
    expand_sources(sources)  # fail on a missing source before touching the cluster
    alias = settings.backend.index
    client = connect(settings)
    report = ReindexReport()
    with backend_errors():
        check_health(client)
        _check_alias_is_free(client, alias)
        remove_unfinished(client, alias)
        name = new_generation(alias)
        body = creation_body(name, datetime.now(UTC).isoformat(timespec="seconds"), replicas=0)
        body["settings"]["index"]["refresh_interval"] = "-1"
        body["mappings"]["_meta"]["complete"] = False
        client.indices.create(index=name, body=body, params={"wait_for_active_shards": "1"})
        try:
            load = _load_generation(client, name, sources, report, progress, limits)
            _finish_generation(client, name, settings.backend.replicas, load.expected)
            _switch_alias(client, alias, name)
        except BaseException:
            # A failed build never stays behind; a killed one is removed by the next reindex.
            _delete_quietly(client, name)
            raise
        prune_generations(client, alias, settings.index.keep_generations)
        report.size_bytes = index_size(client, name)
    report.generation = name
    report.seconds = time.perf_counter() - started
    return report


def _check_alias_is_free(client: OpenSearch, alias: str) -> None:
    """Refuse to build when ``alias`` names an index, not an alias: the switch could never happen."""
    if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
        raise IndexNotReady(
            f"the search cluster has an index named {alias!r}, so it cannot be the alias of the "
            "generations: delete it or choose another backend.index"
        )


def _load_generation(
    client: OpenSearch,
    name: str,
    sources: Sequence[str | Path],
    report: ReindexReport,
    progress: Progress | None,
    limits: IngestLimits,
) -> _Load:
    """Stream the articles of ``sources`` into index ``name`` and store the lexicon built on the way."""
    ingest = IngestReport()
    lexicon = LexiconBuilder()
    load = _Load(name, versioned=True)
    seen: set[str] = set()

    def articles() -> Iterator[Article]:
        for article in ingest.collect(iter_sources(sources, limits)):
            lexicon.add(article.title, article.summary)
            if article.id in seen:
                report.duplicates += 1
                report.duplicate_ids.append(article.id)
            seen.add(article.id)
            yield article
            if progress is not None and load.read % 1000 == 0:
                progress(load.written, load.read)

    load.take(_parallel_bulk(client, load.actions(articles())))
    report.rejects = ingest.rejects + load.rejects
    report.warnings = ingest.warnings
    report.indexed = load.expected
    if not load.expected:
        raise NothingToIndex(", ".join(map(str, sources)), "no valid article found")
    store_lexicon(client, name, lexicon.build())
    if progress is not None:
        progress(load.written, load.read)
    return load


def _finish_generation(client: OpenSearch, name: str, replicas: int, expected: int) -> None:
    """Restore refresh and replicas, refresh, and check the index holds ``expected`` documents."""
    client.indices.put_settings(
        index=name, body={"index": {"refresh_interval": "1s", "number_of_replicas": replicas}}
    )
    client.indices.refresh(index=name, request_timeout=BULK_TIMEOUT)
    counted = int(client.count(index=name)["count"])
    if counted != expected:
        raise BuildFailed(
            f"the new index {name} holds {counted} documents, {expected} were written; "
            "the live index is unchanged"
        )
    meta = client.indices.get_mapping(index=name)[name]["mappings"].get("_meta", {})
    client.indices.put_mapping(index=name, body={"_meta": dict(meta, complete=True, documents=counted)})
    if replicas:
        # Readers move to the new index only once its copies exist (yellow would lose them with one node).
        health = client.cluster.health(
            index=name,
            wait_for_status="green",
            params={"timeout": REPLICA_WAIT},
            request_timeout=BULK_TIMEOUT,
            ignore=408,  # the wait timed out: the answer says so, with the status reached
        )
        if health.get("timed_out") or health.get("status") != "green":
            raise BuildFailed(
                f"the {replicas} replica(s) of {name} could not be placed (status {health.get('status')}): "
                "the cluster needs more nodes than backend.replicas; the live index is unchanged"
            )


def _switch_alias(client: OpenSearch, alias: str, name: str) -> None:
    """Point ``alias`` at ``name`` alone, in one atomic ``_aliases`` call."""
    actions: list[dict[str, Any]] = [
        {"remove": {"index": old, "alias": alias}} for old in _aliased(client, alias)
    ]
    actions.append({"add": {"index": name, "alias": alias}})
    client.indices.update_aliases(body={"actions": actions})


def _generations(client: OpenSearch, alias: str) -> dict[str, dict[str, Any]]:
    """Return the generations of ``alias`` in the cluster with their ``_meta``, oldest first."""
    pattern = generation_pattern(alias)
    try:
        found = client.indices.get_mapping(index=f"{alias}-*", params={"expand_wildcards": "all"})
    except os_errors.NotFoundError:
        return {}
    return {
        name: body.get("mappings", {}).get("_meta") or {}
        for name, body in sorted(found.items())
        if pattern.fullmatch(name)
    }


def _aliased(client: OpenSearch, alias: str) -> set[str]:
    """Return the indexes ``alias`` points at now."""
    found = client.indices.get_alias(name=alias, ignore=404)
    return set() if missing(found) else set(found)


def remove_unfinished(client: OpenSearch, alias: str) -> list[str]:
    """Delete generations a killed reindex left unfinished (never the live one); return their names.

    One reindex at a time per alias: a second one would delete the first's build.
    """
    live = _aliased(client, alias)
    removed = [
        name
        for name, meta in _generations(client, alias).items()
        if not meta.get("complete") and name not in live
    ]
    for name in removed:
        _delete_quietly(client, name)
    return removed


def prune_generations(client: OpenSearch, alias: str, keep: int) -> list[str]:
    """Delete old generations and their lexicons, keeping the newest ``keep`` (the live one always)."""
    live = _aliased(client, alias)
    olds = [name for name in _generations(client, alias) if name not in live]
    doomed = olds[: max(0, len(olds) - max(keep, 1) + 1)]
    for name in doomed:
        _delete_quietly(client, name)
    return doomed


def _delete_quietly(client: OpenSearch, name: str) -> None:
    """Delete an index and its lexicon; a cluster that cannot be reached leaves them to the next reindex."""
    try:
        client.indices.delete(index=name, ignore_unavailable=True)
        meta = alias_of(name) + META_SUFFIX
        client.delete_by_query(
            index=meta,
            body={"query": {"term": {"generation": name}}},
            params={"ignore_unavailable": "true", "refresh": "true", "conflicts": "proceed"},
        )
    except os_errors.TransportError as exc:
        log.warning(
            "could not delete %s from the search cluster (%s); the next reindex will", name, exc.error
        )


def index_size(client: OpenSearch, name: str) -> int:
    """Return the bytes the index's primary shards use."""
    stats = client.indices.stats(index=name, metric="store")
    return int(stats["indices"][name]["primaries"]["store"]["size_in_bytes"])


# ---------------------------------------------------------------- the lexicon, stored in the cluster


def _meta_index_body() -> dict[str, Any]:
    """Return the definition of ``<alias>-meta``: lexicon chunks by generation, nothing searched."""
    return {
        "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-all"}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "generation": {"type": "keyword"},
                "kind": {"type": "keyword"},
                "part": {"type": "integer"},
                "parts": {"type": "integer"},
                "sha256": {"type": "keyword", "index": False},
                "bytes": {"type": "long", "index": False},
                "format": {"type": "integer", "index": False},
                "data": {"type": "binary"},
            },
        },
    }


def lexicon_bytes(lexicon: Lexicon) -> bytes:
    """Return the lexicon as gzipped JSON: plain data, so loading it runs no code (unlike a pickle)."""
    data = {
        "words": lexicon.words,
        "pairs": lexicon.pairs,
        "keys": lexicon.keys,
        "entries": lexicon.entries,
        "short": lexicon.short,
    }
    return gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), mtime=0)


def lexicon_from_bytes(raw: bytes) -> Lexicon:
    """Return the lexicon of ``lexicon_bytes``."""
    data = json.loads(gzip.decompress(raw))
    return Lexicon(
        words={k: (v[0], v[1]) for k, v in data["words"].items()},
        pairs={k: (v[0], v[1]) for k, v in data["pairs"].items()},
        keys=data["keys"],
        entries=[(e[0], e[1]) for e in data["entries"]],
        short=data["short"],
    )


def store_lexicon(client: OpenSearch, generation: str, lexicon: Lexicon) -> str:
    """Write a generation's lexicon to ``<alias>-meta`` in chunks with its checksum; return the checksum."""
    meta = alias_of(generation) + META_SUFFIX
    if not client.indices.exists(index=meta):
        try:
            client.indices.create(index=meta, body=_meta_index_body())
        except os_errors.RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    raw = lexicon_bytes(lexicon)
    digest = hashlib.sha256(raw).hexdigest()
    chunks = [raw[i : i + LEXICON_CHUNK_BYTES] for i in range(0, len(raw), LEXICON_CHUNK_BYTES)] or [b""]
    for part, chunk in enumerate(chunks):
        doc = {
            "generation": generation,
            "kind": "lexicon-part",
            "part": part,
            "data": base64.b64encode(chunk).decode(),
        }
        client.index(index=meta, id=f"{generation}:lexicon:{part}", body=doc, request_timeout=BULK_TIMEOUT)
    header = {
        "generation": generation,
        "kind": "lexicon",
        "parts": len(chunks),
        "sha256": digest,
        "bytes": len(raw),
        "format": LEXICON_FORMAT,
    }
    # The header goes last: a lexicon with a header is complete.
    client.index(index=meta, id=f"{generation}:lexicon", body=header, refresh="true")
    return digest


def default_cache_dir() -> Path:
    """Return where lexicons fetched from the cluster are kept (rebuildable: a fetch writes it anew)."""
    return Path(tempfile.gettempdir()) / "searchsvc-lexicons"


def load_lexicon(client: OpenSearch, concrete_index: str, cache_dir: Path | None = None) -> Lexicon:
    """Return the lexicon of a generation with the additions of later index add/delete runs.

    The generation's lexicon comes from the local cache when its checksum matches,
    else from the cluster (and is cached).
    """
    meta = alias_of(concrete_index) + META_SUFFIX
    with backend_errors():
        found = client.get(index=meta, id=f"{concrete_index}:lexicon", ignore=404)
        if missing(found):
            raise IndexNotReady(
                f"the search index {concrete_index} has no lexicon in {meta}: run `searchsvc reindex`"
            )
        header = found["_source"]
        cache = (cache_dir or default_cache_dir()) / f"{concrete_index}.lexicon.json.gz"
        raw = cache.read_bytes() if cache.is_file() else b""
        if hashlib.sha256(raw).hexdigest() != header["sha256"]:
            raw = _fetch_lexicon(client, meta, concrete_index, int(header["parts"]))
            if hashlib.sha256(raw).hexdigest() != header["sha256"]:
                raise IndexNotReady(
                    f"the lexicon of {concrete_index} in the search cluster is damaged (checksum): "
                    "run `searchsvc reindex`"
                )
            _write_cache(cache, raw)
        return _with_additions(client, concrete_index, lexicon_from_bytes(raw))


def _fetch_lexicon(client: OpenSearch, meta: str, generation: str, parts: int) -> bytes:
    """Read a lexicon's chunks from the cluster, in order."""
    chunks = []
    for part in range(parts):
        doc = client.get(
            index=meta, id=f"{generation}:lexicon:{part}", request_timeout=BULK_TIMEOUT, ignore=404
        )
        if missing(doc):
            raise IndexNotReady(f"the lexicon of {generation} lacks part {part}: run `searchsvc reindex`")
        chunks.append(base64.b64decode(doc["_source"]["data"]))
    return b"".join(chunks)


def _write_cache(path: Path, raw: bytes) -> None:
    """Write a fetched lexicon to the cache atomically; an unwritable cache is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{time.monotonic_ns()}")
        tmp.write_bytes(raw)
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not cache the lexicon in %s: %s", path.parent, exc.strerror or exc)


# ---------------------------------------------------------------- index add / delete


def add_articles(
    settings: Settings, sources: Sequence[str | Path], limits: IngestLimits = DEFAULT_LIMITS
) -> ReindexReport:
    """Insert or replace the articles of ``sources`` in the live index; searchable when this returns."""
    started = time.perf_counter()
    expand_sources(sources)
    report = ReindexReport()
    articles = read_articles(sources, report, limits)
    if not articles:
        raise NothingToIndex(", ".join(map(str, sources)), "no valid article found")
    client = connect(settings)
    with backend_errors():
        live = live_index(client, settings.backend.index)
        replaced = _stored_texts(client, live, [a.id for a in articles])
        load = _Load(live)
        # wait_for: the command returns once a refresh has made the articles searchable.
        load.take(_bulk(client, load.actions(articles), refresh="wait_for"))
        changes = LexiconBuilder()
        for article_id, (title, summary) in replaced.items():
            if article_id in load.stored:
                changes.add(title, summary, weight=-1)
        for article in articles:
            if article.id in load.stored:
                changes.add(article.title, article.summary)
        record_lexicon_changes(client, live, changes)
    report.rejects += load.rejects
    report.indexed = load.expected
    report.generation = live
    report.seconds = time.perf_counter() - started
    return report


def delete_articles(settings: Settings, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Delete articles by id from the live index; return (deleted, missing)."""
    client = connect(settings)
    deleted: list[str] = []
    not_found: list[str] = []
    with backend_errors():
        live = live_index(client, settings.backend.index)
        texts = _stored_texts(client, live, list(ids))
        actions = ({"_op_type": "delete", "_index": live, "_id": i} for i in dict.fromkeys(ids))
        outcome: dict[str, bool] = {}
        for ok, item in _bulk(client, actions, refresh="wait_for"):
            info = item["delete"]
            if not ok and info.get("status") != 404:
                error = info.get("error") or {}
                raise BuildFailed(f"the search cluster could not delete {info.get('_id')!r}: {error}")
            outcome[str(info["_id"])] = ok
        changes = LexiconBuilder()
        for article_id, (title, summary) in texts.items():
            if outcome.get(article_id):
                changes.add(title, summary, weight=-1)
        record_lexicon_changes(client, live, changes)
    for article_id in ids:
        (deleted if outcome.get(article_id) else not_found).append(article_id)
    return deleted, not_found


def _stored_texts(client: OpenSearch, index: str, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Return the stored (title, summary) of the ids the index holds, whose words leave the lexicon."""
    if not ids:
        return {}
    found = client.mget(
        index=index,
        body={"ids": list(dict.fromkeys(ids))},
        params={"_source_includes": "stored.title,stored.summary"},
        request_timeout=BULK_TIMEOUT,
    )
    texts: dict[str, tuple[str, str | None]] = {}
    for doc in found["docs"]:
        if doc.get("found"):
            stored = doc["_source"].get("stored", {})
            texts[str(doc["_id"])] = (stored.get("title") or "", stored.get("summary"))
    return texts


# ---------------------------------------------------------------- lexicon additions of index add/delete

# Like the embedded ``lexicon-delta`` files: the counts of every article added (and, negated,
# deleted) since the generation was built, and the tables they change, one document per generation.


def record_lexicon_changes(client: OpenSearch, generation: str, changes: LexiconBuilder) -> None:
    """Add the counts of one `index add`/`index delete` to the generation's additions in the cluster.

    The tables are computed by ``lexicon.record_additions`` itself (in a scratch
    directory), so both backends suggest the same words after the same changes. Two
    concurrent writers are serialised by the document's sequence number.
    """
    meta = alias_of(generation) + META_SUFFIX
    doc_id = f"{generation}:additions"
    for _ in range(5):
        found = client.get(index=meta, id=doc_id, ignore=404)
        previous = None if missing(found) else _decode_additions(found["_source"])
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            if previous is not None:
                with open(folder / f"{DELTA_PREFIX}0{DELTA_SUFFIX}", "wb") as handle:
                    pickle.dump(previous, handle, protocol=pickle.HIGHEST_PROTOCOL)
            record_additions(changes, folder, 1)
            # Our own file, written a moment ago in our own scratch directory.
            with open(folder / f"{DELTA_PREFIX}1{DELTA_SUFFIX}", "rb") as handle:
                updated: dict[str, Any] = pickle.load(handle)
        raw = _additions_bytes(updated)
        body = {
            "generation": generation,
            "kind": "additions",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bytes": len(raw),
            "format": LEXICON_FORMAT,
            "data": base64.b64encode(raw).decode(),
        }
        guard = (
            {"op_type": "create"}
            if previous is None
            else {"if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]}
        )
        try:
            client.index(index=meta, id=doc_id, body=body, refresh="true", params=guard)
            return
        except os_errors.ConflictError:
            continue  # another `index add` wrote first: add ours to theirs
    raise BuildFailed(f"the lexicon additions of {generation} kept changing under this write; run it again")


def _counts_json(counts: LexiconBuilder) -> dict[str, list[list[Any]]]:
    """Return a builder's counters as JSON lists ``[folded, written, count]``."""
    return {
        name: [[key, written, n] for (key, written), n in getattr(counts, name).items()]
        for name in ("exact", "phrases", "titles")
    }


def _counts_from_json(data: dict[str, list[list[Any]]]) -> LexiconBuilder:
    """Return the builder of ``_counts_json``."""
    counts = LexiconBuilder()
    for name in ("exact", "phrases", "titles"):
        counter = getattr(counts, name)
        for key, written, n in data[name]:
            counter[(key, written)] = n
    return counts


def _additions_bytes(found: dict[str, Any]) -> bytes:
    """Return additions (``record_additions``'s contents) as gzipped JSON."""
    data = {
        "counts": _counts_json(found["counts"]),
        "words": found["words"],
        "pairs": found["pairs"],
        "table": found["table"],
    }
    return gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), mtime=0)


def _decode_additions(source: dict[str, Any]) -> dict[str, Any]:
    """Return the additions of a stored document, checking its checksum."""
    raw = base64.b64decode(source["data"])
    if hashlib.sha256(raw).hexdigest() != source["sha256"]:
        raise IndexNotReady(
            f"the lexicon additions of {source['generation']} are damaged (checksum): run `searchsvc reindex`"
        )
    data = json.loads(gzip.decompress(raw))
    return {
        "counts": _counts_from_json(data["counts"]),
        **{name: {k: (v[0], v[1]) for k, v in data[name].items()} for name in ("words", "pairs", "table")},
    }


def _with_additions(client: OpenSearch, generation: str, base: Lexicon) -> Lexicon:
    """Return ``base`` with the generation's additions layered on it (``base`` itself when none)."""
    meta = alias_of(generation) + META_SUFFIX
    found = client.get(index=meta, id=f"{generation}:additions", ignore=404)
    if missing(found):
        return base
    additions = _decode_additions(found["_source"])
    table = additions["table"]
    keys = sorted(table)
    extra = Lexicon(additions["words"], additions["pairs"], keys, [table[k] for k in keys], {})
    return LayeredLexicon(base, extra)


def lexicon_version(client: OpenSearch, concrete_index: str) -> str:
    """Return a token that changes whenever the generation's lexicon does (its checksum, the additions' number).

    A server compares it with the token of the lexicon it holds to know when to load again.
    """
    meta = alias_of(concrete_index) + META_SUFFIX
    with backend_errors():
        header = client.get(
            index=meta, id=f"{concrete_index}:lexicon", ignore=404, params={"_source": "sha256"}
        )
        additions = client.get(
            index=meta, id=f"{concrete_index}:additions", ignore=404, params={"_source": "false"}
        )
    base = "" if missing(header) else str(header["_source"]["sha256"])
    return f"{base}:{'0' if missing(additions) else additions['_seq_no']}"


# ---------------------------------------------------------------- stats


def stats(settings: Settings) -> dict[str, Any]:
    """Return what ``Store.stats`` returns, read from the live index with one count and one aggregation."""
    client = connect(settings)
    with backend_errors():
        live = live_index(client, settings.backend.index)
        meta = client.indices.get_mapping(index=live)[live]["mappings"].get("_meta", {})
        body = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "dated": {"filter": {"range": {"day": {"gt": 0}}}, "aggs": _date_range_aggs()},
                "categories": {"terms": {"field": "category", "size": 10_000}},
                "sources": {"terms": {"field": "source", "size": 10_000}},
            },
        }
        found = client.search(index=live, body=body)
        segments = client.indices.segments(index=live)
        size = index_size(client, live)
    aggs = found["aggregations"]
    dated = aggs["dated"]
    return {
        "generation": live,
        "schema_version": meta.get("schema_version"),
        "created": meta.get("created"),
        "documents": int(found["hits"]["total"]["value"]),
        "segments": _segment_count(segments, live),
        "size_bytes": size,
        "dated_documents": int(dated["doc_count"]),
        "date_range": _day_range(dated) if dated["doc_count"] else None,
        "categories": _bucket_counts(aggs["categories"]),
        "sources": _bucket_counts(aggs["sources"]),
    }


def _date_range_aggs() -> dict[str, Any]:
    """Return the aggregations of the first and last publication day."""
    return {"first": {"min": {"field": "day"}}, "last": {"max": {"field": "day"}}}


def _day_range(dated: dict[str, Any]) -> list[str]:
    """Return the first and last day as ``YYYY-MM-DD``."""
    return [_day_text(int(dated["first"]["value"])), _day_text(int(dated["last"]["value"]))]


def _day_text(day: int) -> str:
    """Return a ``YYYYMMDD`` number as ``YYYY-MM-DD``."""
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _bucket_counts(agg: dict[str, Any]) -> dict[str, int]:
    """Return a terms aggregation's counts, most frequent first, then by value (as ``Store.stats``)."""
    pairs = [(str(b["key"]), int(b["doc_count"])) for b in agg["buckets"]]
    return dict(sorted(pairs, key=lambda p: (-p[1], p[0])))


def _segment_count(segments: dict[str, Any], name: str) -> int:
    """Return how many segments the index's primary shards hold."""
    shards = segments["indices"][name]["shards"]
    return sum(
        len(copy["segments"]) for copies in shards.values() for copy in copies if copy["routing"]["primary"]
    )
