"""On a real node: reindex with an alias swap, failed and killed builds, index add/delete, stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from opensearchpy import OpenSearch

from searchsvc.cli import main
from searchsvc.config import Settings, load_settings
from searchsvc.demo import demo_sources
from searchsvc.errors import BuildFailed, IndexNotReady, SchemaMismatch
from searchsvc.indexer import current_generation
from searchsvc.lexicon import load_lexicon as load_embedded_lexicon
from searchsvc.opensearch import indexing
from searchsvc.opensearch.client import live_index
from searchsvc.opensearch.indexing import (
    add_articles,
    delete_articles,
    load_lexicon,
    reindex,
    stats,
)
from searchsvc.opensearch.mapping import creation_body
from searchsvc.schema import SCHEMA_VERSION

pytestmark = pytest.mark.opensearch

DEMO = [str(p) for p in demo_sources()]


@pytest.fixture()
def alias(opensearch_url: str) -> Iterator[str]:  # noqa: F811
    """Return a fresh alias name; delete every index of it afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    client = OpenSearch(opensearch_url, timeout=30)
    for index in client.indices.get(index=f"{name}-*", expand_wildcards="all"):
        client.indices.delete(index=index)


@pytest.fixture()
def os_settings(opensearch_url: str, alias: str) -> Settings:  # noqa: F811
    """Return settings for the opensearch backend on the test node and alias."""
    return load_settings(
        environ={},
        overrides={
            "backend": {"kind": "opensearch", "url": opensearch_url, "index": alias, "timeout": 10.0},
            "index": {"keep_generations": 2},
        },
    )


@pytest.fixture()
def client(opensearch_url: str) -> OpenSearch:  # noqa: F811
    """Return a plain client of the test node."""
    return OpenSearch(opensearch_url, timeout=30)


def generations(client: OpenSearch, alias: str) -> list[str]:
    """Return the generation indexes of ``alias``, oldest first."""
    pattern = indexing.generation_pattern(alias)
    return sorted(i for i in client.indices.get(index=f"{alias}-*") if pattern.fullmatch(i))


def aliased(client: OpenSearch, alias: str) -> list[str]:
    """Return the indexes the alias points at."""
    return sorted(client.indices.get_alias(name=alias))


def write_jsonl(path: Path, records: list[dict[str, object]]) -> str:
    """Write records as a JSONL source and return its path."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_reindex_demo_moves_the_alias_and_prunes_old_generations(client, alias, os_settings, tmp_path):
    embedded_dir = tmp_path / "embedded"
    embedded = indexing.read_articles(DEMO, indexing.ReindexReport())
    from searchsvc.indexer import reindex as embedded_reindex

    embedded_report = embedded_reindex(DEMO, embedded_dir)
    first = reindex(os_settings, DEMO)
    assert (first.indexed, first.rejects, first.duplicates) == (len(embedded), [], 0)
    assert first.indexed == embedded_report.indexed
    assert aliased(client, alias) == [first.generation]
    assert client.count(index=alias)["count"] == first.indexed
    assert first.size_bytes > 0
    second = reindex(os_settings, DEMO)
    third = reindex(os_settings, DEMO)
    # keep_generations = 2: the live one and the one before.
    assert generations(client, alias) == [second.generation, third.generation]
    assert aliased(client, alias) == [third.generation]
    assert live_index(client, alias) == third.generation
    # The lexicon in the cluster is the embedded one; the first generation's went with it.
    lexicon = load_lexicon(client, third.generation, cache_dir=tmp_path / "cache")
    assert lexicon == load_embedded_lexicon(current_generation(embedded_dir).path)
    assert (
        client.count(index=f"{alias}-meta", body={"query": {"term": {"generation": first.generation}}})[
            "count"
        ]
        == 0
    )


def test_lexicon_cache_is_used_and_a_damaged_one_fetched_again(client, alias, os_settings, tmp_path):
    report = reindex(os_settings, DEMO)
    cache = tmp_path / "cache"
    fetched = load_lexicon(client, report.generation, cache_dir=cache)
    (cached,) = cache.iterdir()
    cached.write_bytes(b"damaged")
    assert load_lexicon(client, report.generation, cache_dir=cache) == fetched
    assert cached.read_bytes() != b"damaged"


def test_stats_equal_the_embedded_ones(alias, os_settings, tmp_path):
    from searchsvc.indexer import reindex as embedded_reindex
    from searchsvc.store import open_store

    embedded_reindex(DEMO, tmp_path / "embedded")
    with open_store(tmp_path / "embedded") as store:
        expected = store.stats()
    report = reindex(os_settings, DEMO)
    found = stats(os_settings)
    same = ("schema_version", "documents", "dated_documents", "date_range", "categories", "sources")
    assert {k: found[k] for k in same} == {k: expected[k] for k in same}
    assert found["generation"] == report.generation
    assert found["size_bytes"] > 0 and found["segments"] >= 1


def test_a_failed_reindex_leaves_the_alias(client, alias, os_settings, monkeypatch):
    live = reindex(os_settings, DEMO).generation
    calls = {"n": 0}
    real = indexing.to_os_document

    def poisoned(article):
        calls["n"] += 1
        if calls["n"] > 20:
            raise OSError("disk gone")
        return real(article)

    monkeypatch.setattr(indexing, "to_os_document", poisoned)
    with pytest.raises(OSError, match="disk gone"):
        reindex(os_settings, DEMO)
    assert aliased(client, alias) == [live]
    assert generations(client, alias) == [live]  # the half-built one was deleted


def test_a_killed_reindex_leaves_the_alias_and_the_next_one_cleans_up(client, alias, os_settings):
    live = reindex(os_settings, DEMO).generation
    # The child loads a whole generation, then dies by SIGKILL before it could finish and switch.
    script = (
        "import os, signal, sys\n"
        "from searchsvc.config import load_settings\n"
        "from searchsvc.opensearch import indexing\n"
        "indexing._finish_generation = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "settings = load_settings(environ={}, overrides=json.loads(sys.argv[1]))\n"
        "indexing.reindex(settings, sys.argv[2:])\n"
    )
    overrides = {"backend": {"kind": "opensearch", "url": os_settings.backend.url, "index": alias}}
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + script, json.dumps(overrides), *DEMO],
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        timeout=300,
        check=False,
    )
    assert done.returncode == -9
    assert aliased(client, alias) == [live]
    left = [g for g in generations(client, alias) if g != live]
    assert len(left) == 1
    assert client.count(index=alias)["count"] == client.count(index=live)["count"]
    newest = reindex(os_settings, DEMO).generation
    assert left[0] not in generations(client, alias)
    assert aliased(client, alias) == [newest]


def test_nothing_valid_to_index_leaves_the_alias(client, alias, os_settings, tmp_path):
    from searchsvc.indexer import NothingToIndex

    live = reindex(os_settings, DEMO).generation
    source = write_jsonl(tmp_path / "bad.jsonl", [{"id": "", "title": "", "body": ""}])
    with pytest.raises(NothingToIndex):
        reindex(os_settings, [source])
    assert generations(client, alias) == aliased(client, alias) == [live]


def test_progress_reports_written_and_read(alias, os_settings):
    calls: list[tuple[int, int]] = []
    report = reindex(os_settings, DEMO, progress=lambda written, read: calls.append((written, read)))
    assert calls[-1] == (report.indexed, report.indexed)


def test_an_index_named_like_the_alias_is_refused(client, alias, os_settings):
    # An index (not an alias) under the alias name; the fixture only deletes "<alias>-*".
    client.indices.create(index=alias)
    try:
        with pytest.raises(IndexNotReady, match="has an index named"):
            reindex(os_settings, DEMO)
    finally:
        client.indices.delete(index=alias)
    assert generations(client, alias) == []


def test_replicas_that_cannot_be_placed_fail_the_build(client, alias, os_settings, monkeypatch):
    live = reindex(os_settings, DEMO).generation
    nodes = len(client.nodes.info()["nodes"])
    monkeypatch.setattr(indexing, "REPLICA_WAIT", "1s")
    wanting = replace(os_settings, backend=replace(os_settings.backend, replicas=nodes))
    with pytest.raises(BuildFailed, match="could not be placed"):
        reindex(wanting, DEMO)
    assert generations(client, alias) == aliased(client, alias) == [live]


def test_a_record_the_cluster_refuses_is_a_reject(client, alias, os_settings, tmp_path):
    source = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "ok-1", "title": "Hà Nội", "body": "Thân bài"},
            # One 40,000-letter syllable: a term Lucene refuses (immense term).
            {"id": "huge", "title": "Quá dài", "body": "a" * 40_000},
            {"id": "ok-2", "title": "Đà Nẵng", "body": "Thân bài"},
        ],
    )
    report = reindex(os_settings, [source])
    assert report.indexed == 2
    assert len(report.rejects) == 1
    assert "'huge' refused by the search cluster" in report.rejects[0].reason
    assert client.count(index=alias)["count"] == 2


def test_duplicates_keep_the_later_record(client, alias, os_settings, tmp_path):
    source = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {"id": "x", "title": "Bản đầu", "body": "một"},
            {"id": "x", "title": "Bản sau", "body": "hai"},
        ],
    )
    report = reindex(os_settings, [source])
    assert (report.indexed, report.duplicates, report.duplicate_ids) == (1, 1, ["x"])
    assert client.get(index=alias, id="x")["_source"]["stored"]["title"] == "Bản sau"


def test_the_later_duplicate_wins_across_concurrent_requests(
    client, alias, os_settings, tmp_path, monkeypatch
):
    # One article per bulk request: two requests in flight may carry two records of one id.
    monkeypatch.setattr(indexing, "CHUNK_DOCS", 1)
    records = [{"id": f"id-{i % 5}", "title": f"Bản {i}", "body": "nội dung"} for i in range(40)]
    report = reindex(os_settings, [write_jsonl(tmp_path / "d.jsonl", records)])
    assert (report.indexed, report.duplicates, report.rejects) == (5, 35, [])
    titles = {i: client.get(index=alias, id=f"id-{i}")["_source"]["stored"]["title"] for i in range(5)}
    assert titles == {i: f"Bản {35 + i}" for i in range(5)}


def test_index_add_is_searchable_when_it_returns_then_delete(client, alias, os_settings, tmp_path):
    reindex(os_settings, DEMO)
    before = client.count(index=alias)["count"]
    source = write_jsonl(
        tmp_path / "new.jsonl",
        [{"id": "new-1", "title": "Quỹ học bổng Xyzôn trao thưởng", "body": "Xyzôn hoà bình và thuý"}],
    )
    report = add_articles(os_settings, [source])
    assert (report.indexed, report.rejects, report.generation) == (1, [], live_index(client, alias))
    # No refresh here: the command itself waited until the article is searchable.
    found = client.search(index=alias, body={"query": {"term": {"title_x": "xyzôn"}}})
    assert [h["_id"] for h in found["hits"]["hits"]] == ["new-1"]
    found = client.search(index=alias, body={"query": {"match_phrase": {"body_x": "xyzôn hòa"}}})
    assert [h["_id"] for h in found["hits"]["hits"]] == ["new-1"]
    # Adding it again replaces it.
    add_articles(os_settings, [source])
    assert client.count(index=alias)["count"] == before + 1
    deleted, missing = delete_articles(os_settings, ["new-1", "never-was"])
    assert (deleted, missing) == (["new-1"], ["never-was"])
    assert (
        client.search(index=alias, body={"query": {"term": {"title": "xyzon"}}})["hits"]["total"]["value"]
        == 0
    )
    assert client.count(index=alias)["count"] == before


def test_index_add_and_delete_change_the_lexicon_as_on_the_embedded_backend(
    client, alias, os_settings, tmp_path
):
    from searchsvc.indexer import add_articles as embedded_add
    from searchsvc.indexer import delete_articles as embedded_delete
    from searchsvc.indexer import reindex as embedded_reindex
    from searchsvc.store import open_store

    embedded_dir = tmp_path / "embedded"
    embedded_reindex(DEMO, embedded_dir)
    generation = reindex(os_settings, DEMO).generation
    cache = tmp_path / "cache"
    version = indexing.lexicon_version(client, generation)
    source = write_jsonl(
        tmp_path / "new.jsonl",
        [
            {
                "id": "new-1",
                "title": "Ông Xyzôn Quách thăm Hà Nội",
                "summary": "Xyzôn Quách nói",
                "body": "b",
            },
            # Replaces a demo article: its old title's words count out.
            {"id": "demo-001", "title": "Xyzôn Quách ở Đà Nẵng", "body": "b"},
        ],
    )
    add_articles(os_settings, [source])
    embedded_add([source], embedded_dir)
    assert indexing.lexicon_version(client, generation) != version

    def same_suggestions() -> None:
        lexicon = load_lexicon(client, generation, cache_dir=cache)
        with open_store(embedded_dir) as store:
            expected = store.lexicon
            for prefix in ("xyz", "xyzôn q", "hà", "đà n", "bão"):
                assert lexicon.complete(prefix) == expected.complete(prefix), prefix
            for word in ("xyzon", "quach", "ha", "noi", "bao"):
                assert lexicon.best_form(word) == expected.best_form(word), word
                assert lexicon.count(word) == expected.count(word), word
            assert lexicon.pair_count("xyzon", "quach") == expected.pair_count("xyzon", "quach")

    same_suggestions()
    assert load_lexicon(client, generation, cache_dir=cache).best_form("xyzon") == "xyzôn"
    delete_articles(os_settings, ["new-1", "demo-001"])
    embedded_delete(["new-1", "demo-001"], embedded_dir)
    same_suggestions()
    assert load_lexicon(client, generation, cache_dir=cache).best_form("xyzon") is None


def test_another_schema_version_is_refused_with_the_reindex_message(client, alias, os_settings, tmp_path):
    name = indexing.new_generation(alias)
    body = creation_body(name, "old")
    body["mappings"]["_meta"]["schema_version"] = SCHEMA_VERSION - 1
    client.indices.create(index=name, body=body)
    client.indices.put_alias(index=name, name=alias)
    with pytest.raises(SchemaMismatch) as caught:
        live_index(client, alias)
    assert "run `searchsvc reindex" in str(caught.value)
    source = write_jsonl(tmp_path / "n.jsonl", [{"id": "n", "title": "t", "body": "b"}])
    with pytest.raises(SchemaMismatch):
        add_articles(os_settings, [source])
    # A reindex replaces it.
    report = reindex(os_settings, [source])
    assert aliased(client, alias) == [report.generation]


def test_cli_goes_to_opensearch(client, alias, os_settings):
    env = {
        "SEARCHSVC_BACKEND_KIND": "opensearch",
        "SEARCHSVC_BACKEND_URL": os_settings.backend.url,
        "SEARCHSVC_BACKEND_INDEX": alias,
    }
    runner = CliRunner()
    result = runner.invoke(main, ["reindex", "--quiet", *DEMO], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"indexed {client.count(index=alias)['count']} articles into {alias}-")
    result = runner.invoke(main, ["stats", "--json"], env=env)
    assert json.loads(result.output)["generation"] == aliased(client, alias)[0]
    result = runner.invoke(main, ["index", "delete", "demo-001", "nope"], env=env)
    assert (result.exit_code, result.stdout) == (1, "deleted 1 article(s)\n")
