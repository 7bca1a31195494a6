"""scripts/opensearch-local against real nodes: its output, analysis-common, and a raw failover."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from conftest import (
    LocalOpenSearch,
    kill_under_load,
    opensearch_client,
    opensearch_pid_alive,
    opensearch_tools_present,
    run_opensearch_local,
)

needs_tools = pytest.mark.skipif(
    not opensearch_tools_present(), reason="starting local nodes needs Java 17 and Maven"
)

URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)")
STATUS_LINE = re.compile(r"(node\d+) (\d+) (\d+)")


def get_json(url: str) -> dict:
    """GET url and return its JSON body."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_bad_heap_is_one_error_line(tmp_path: Path) -> None:
    result = run_opensearch_local("start", "--dir", str(tmp_path), "--heap", "lots")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: --heap must look like 512m or 1g, not 'lots'"]
    assert result.stdout == ""


def test_status_and_stop_of_an_empty_dir(tmp_path: Path) -> None:
    status = run_opensearch_local("status", "--dir", str(tmp_path))
    assert status.returncode == 1
    assert status.stdout == ""
    assert status.stderr.strip() == f"error: no node running in {tmp_path.resolve()}"
    stop = run_opensearch_local("stop", "--dir", str(tmp_path))
    assert stop.returncode == 0
    assert stop.stdout.strip() == f"no node running in {tmp_path.resolve()}"


@pytest.mark.opensearch
@needs_tools
def test_start_status_stop(tmp_path: Path, opensearch_url: str) -> None:
    cluster = LocalOpenSearch.start(tmp_path / "one")
    try:
        last = cluster.start_output.strip().splitlines()[-1]
        match = URL_LINE.fullmatch(last)
        assert match, f"last line of start is not the URL: {last!r}"
        root = get_json(last)
        assert root["version"]["number"].startswith("2.")

        status = run_opensearch_local("status", "--dir", str(cluster.dir))
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert len(lines) == 1
        row = STATUS_LINE.fullmatch(lines[0])
        assert row, f"status line is not NAME PID HTTP_PORT: {lines[0]!r}"
        assert row.group(1) == "node1" and row.group(3) == match.group(1)
        pid = int(row.group(2))
        assert opensearch_pid_alive(pid)

        # Another cluster (the session's) runs on this machine too: the two never merge.
        health = get_json(f"{last}/_cluster/health")
        assert health["number_of_nodes"] == 1
        assert health["cluster_name"] != get_json(f"{opensearch_url}/_cluster/health")["cluster_name"]

        again = run_opensearch_local("start", "--dir", str(cluster.dir))
        assert again.returncode == 1
        assert len(again.stderr.strip().splitlines()) == 1
        assert "already running" in again.stderr
    finally:
        cluster.stop()
    assert not opensearch_pid_alive(pid)
    after = run_opensearch_local("status", "--dir", str(cluster.dir))
    assert after.returncode == 1 and after.stdout == ""


@pytest.mark.opensearch
@needs_tools
def test_keep_data_restarts_on_the_same_port_with_the_data(tmp_path: Path) -> None:
    first = LocalOpenSearch.start(tmp_path / "kept")
    try:
        client = opensearch_client(first.url, timeout=30)
        try:
            client.index(index="kept", id="1", body={"title": "Hà Nội"}, refresh=True)
        finally:
            client.close()
    finally:
        first.stop()
    wrong = run_opensearch_local("start", "--keep-data", "--nodes", "2", "--dir", str(first.dir))
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "error: --keep-data restarts the 1 node(s) of the last start, not 2"
    first.restart()
    try:
        assert first.start_output.strip().splitlines()[-1] == first.url
        assert get_json(f"{first.url}/kept/_doc/1")["_source"] == {"title": "Hà Nội"}
    finally:
        first.stop()


@pytest.mark.opensearch
def test_analyze_has_asciifolding_and_mapping(opensearch_url: str) -> None:
    client = opensearch_client(opensearch_url, timeout=30)
    try:
        folded = client.indices.analyze(
            body={"tokenizer": "standard", "filter": ["lowercase", "asciifolding"], "text": "Đà Nẵng"}
        )
        # Tone placement (old style hoà, new style hòa) as a mapping char filter.
        mapped = client.indices.analyze(
            body={
                "tokenizer": "standard",
                "char_filter": [{"type": "mapping", "mappings": ["oà => òa"]}],
                "filter": ["lowercase"],
                "text": "Hoà Bình",
            }
        )
        synonyms = client.indices.analyze(
            body={
                "tokenizer": {"type": "pattern", "pattern": "\\s+"},
                "filter": [{"type": "synonym_graph", "synonyms": ["tphcm => sài gòn"]}],
                "text": "tphcm",
            }
        )
    finally:
        client.close()
    assert [t["token"] for t in folded["tokens"]] == ["da", "nang"]
    assert [t["token"] for t in mapped["tokens"]] == ["hòa", "bình"]
    assert [t["token"] for t in synonyms["tokens"]] == ["sài", "gòn"]


@pytest.mark.opensearch
def test_index_prefix_fixture_deletes_its_indices(opensearch_url: str, opensearch_index_prefix: str) -> None:
    from conftest import delete_test_indices

    client = opensearch_client(opensearch_url, timeout=30)
    try:
        client.indices.create(index=f"{opensearch_index_prefix}a")
        client.indices.create(index=f"{opensearch_index_prefix}b")
        delete_test_indices(opensearch_url, opensearch_index_prefix)
        left = client.indices.get(index=f"{opensearch_index_prefix}*", expand_wildcards="all")
    finally:
        client.close()
    assert left == {}


DOCS = 300
FAILOVER_INDEX = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 1,
        "analysis": {
            "analyzer": {"folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}}
        },
    },
    "mappings": {"properties": {"title": {"type": "text", "analyzer": "folded"}}},
}


@pytest.mark.opensearch
def test_searches_survive_sigkill_of_a_node(opensearch_cluster2: LocalOpenSearch) -> None:
    from opensearchpy import helpers

    cluster = opensearch_cluster2
    nodes = cluster.nodes()
    assert [n for n, _, _ in nodes] == ["node1", "node2"]
    assert len({port for _, _, port in nodes}) == 2
    urls = cluster.urls()
    index = "failover"
    admin = cluster.client(timeout=60)
    try:
        for url in urls:
            assert get_json(f"{url}/_cluster/health")["number_of_nodes"] == 2
        admin.indices.create(index=index, body=FAILOVER_INDEX)
        actions = (
            {"_index": index, "_id": str(i), "_source": {"title": f"Tin số {i} ở Đà Nẵng"}}
            for i in range(DOCS)
        )
        helpers.bulk(admin, actions, refresh=True)
        # `timeout` alone would be taken as the client's request timeout; request_timeout keeps it the server's.
        health = admin.cluster.health(index=index, wait_for_status="green", timeout="60s", request_timeout=90)
        assert health["status"] == "green"
    finally:
        admin.close()
    # The copy that must be promoted is the primary's: kill the node that holds it.
    victim = cluster.primary_node(index)
    manager = cluster.cluster_manager()

    def make_request():
        client = opensearch_client(*urls, timeout=2, max_retries=2, retry_on_timeout=True)

        def search() -> None:
            found = client.search(
                index=index, body={"query": {"match": {"title": "da nang"}}, "track_total_hits": True}
            )
            total = found["hits"]["total"]["value"]
            if total != DOCS:
                raise AssertionError(f"{total} hits, not {DOCS}")

        return search

    report = kill_under_load(cluster, victim, make_request, clients=8, before_s=2.0, after_s=15.0)
    print(f"\nfailover: {report.summary()} (cluster manager was {manager})")
    late = report.started_after(10.0)
    assert late, "no request started 10 s after the kill"
    assert report.errors(after=10.0) == []
    assert [n for n, _, _ in cluster.nodes()] == sorted({"node1", "node2"} - {victim})
