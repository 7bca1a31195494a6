"""An unwell cluster: clear 503s within the timeout, the truth in /healthz, and recovery on its own.

A relay (``tcpproxy.Relay``) stands between searchsvc and the test node, so a test
can refuse or hang every connection and then restore them, without touching the
node other tests use.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from tcpproxy import Relay

from searchsvc.config import Settings
from searchsvc.demo import demo_sources

pytestmark = pytest.mark.opensearch

# Far above the configured 2 s timeout: a request still open then has hung.
HANG_BOUND_SECONDS = 30.0


@pytest.fixture(scope="module")
def indexed(opensearch_url: str, demo_settings: Settings):
    """Index the demo corpus into an alias of its own; return (settings, alias)."""
    from opensearchpy import OpenSearch

    from searchsvc.opensearch.indexing import reindex

    alias = f"fault_{uuid.uuid4().hex[:10]}"
    settings = replace(
        demo_settings,
        backend=replace(demo_settings.backend, kind="opensearch", url=opensearch_url, index=alias),
    )
    reindex(settings, [str(p) for p in demo_sources()])
    yield settings
    client = OpenSearch(opensearch_url)
    client.indices.delete(index=f"{alias}*", ignore_unavailable=True)
    client.close()


@pytest.fixture()
def relay(indexed: Settings):
    """Return a relay to the test node, and settings that reach the cluster through it."""
    port = urlsplit(indexed.backend.url).port
    assert port is not None
    opened = Relay(port)
    yield opened, replace(indexed, backend=replace(indexed.backend, url=opened.url, timeout=1.0))
    opened.stop()


def _get(client, path: str, **params: str):
    """Request ``path`` in a thread and return the response, failing if it does not come back in time."""
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(client.get(path, query_string=params)))
    worker.start()
    worker.join(HANG_BOUND_SECONDS)
    assert answer, f"{path} did not answer within {HANG_BOUND_SECONDS} s"
    return answer[0]


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_a_lost_cluster_gives_503_json_and_healthz_says_why_then_recovers(relay, mode: str) -> None:
    from searchsvc.web import STORE_KEY, create_app

    proxy, settings = relay
    app = create_app(settings)
    client = app.test_client()
    assert _get(client, "/api/search", q="bão").status_code == 200
    proxy.set(mode)
    lost = _get(client, "/api/search", q="ha noi")
    assert (lost.status_code, lost.get_json()["error"]["code"]) == (503, "backend_unavailable")
    health = _get(client, "/healthz")
    assert (health.status_code, health.get_json()["status"]) == (503, "degraded")
    assert "search cluster" in health.get_json()["problem"]
    page = _get(client, "/", q="ha noi")
    assert page.status_code == 503
    proxy.set("up")
    back = _get(client, "/api/search", q="ha noi")
    assert back.status_code == 200 and back.get_json()["total"] > 0
    assert _get(client, "/healthz").get_json()["status"] == "ok"
    app.extensions[STORE_KEY].close()


def test_a_cluster_down_at_start_is_503_until_it_is_back(relay) -> None:
    from searchsvc.web import STORE_KEY, create_app

    proxy, settings = relay
    proxy.set("refuse")
    app = create_app(settings)
    client = app.test_client()
    first = _get(client, "/api/search", q="bão")
    assert (first.status_code, first.get_json()["error"]["code"]) == (503, "backend_unavailable")
    assert _get(client, "/healthz").status_code == 503
    proxy.set("up")
    assert _get(client, "/api/search", q="bão").status_code == 200
    app.extensions[STORE_KEY].close()


def test_the_cli_prints_one_error_line_and_exits_1_without_a_cluster(relay) -> None:
    from searchsvc.cli import main

    proxy, settings = relay
    proxy.set("refuse")
    env = {
        "SEARCHSVC_BACKEND_KIND": "opensearch",
        "SEARCHSVC_BACKEND_URL": proxy.url,
        "SEARCHSVC_BACKEND_INDEX": settings.backend.index,
        "SEARCHSVC_BACKEND_TIMEOUT": "1",
    }
    result = CliRunner().invoke(main, ["search", "ha", "noi"], env=env)
    lines = result.output.strip().splitlines()
    assert (result.exit_code, len(lines), lines[0].startswith("error: ")) == (1, 1, True), result.output
    assert "search cluster" in lines[0]


def test_an_index_of_another_schema_version_is_refused_with_the_reindex_message(
    opensearch_url: str, demo_settings: Settings
) -> None:
    from opensearchpy import OpenSearch

    from searchsvc.errors import IndexNotReady
    from searchsvc.opensearch.searching import open_cluster

    alias = f"old_{uuid.uuid4().hex[:10]}"
    client = OpenSearch(opensearch_url)
    client.indices.create(
        index=f"{alias}-1", body={"mappings": {"_meta": {"schema_version": 2}}, "aliases": {alias: {}}}
    )
    settings = replace(
        demo_settings,
        backend=replace(demo_settings.backend, kind="opensearch", url=opensearch_url, index=alias),
    )
    try:
        with pytest.raises(IndexNotReady, match="run `searchsvc reindex"):
            open_cluster(settings)
    finally:
        client.indices.delete(index=f"{alias}-1")
        client.close()
