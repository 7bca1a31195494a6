"""The same API over both backends: the demo corpus in the embedded index and in an OpenSearch cluster.

Every request here is answered by both; totals, facets, accent readings, corrections
and aliases must be equal, and so must the hits wherever their order is defined
(one page holding every match, or a date sort). Needs a node (``opensearch_url``);
without one these tests skip with the fixture's reason.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from searchsvc.config import Settings
from searchsvc.demo import demo_sources

pytestmark = pytest.mark.opensearch

# Requests whose answers must agree: plain and marked words, NFD and old tone placement,
# Đ, phrases, OR, minus, prefixes, fields, aliases, keystrokes, typos, filters and sorts.
REQUESTS: list[dict[str, str]] = [
    {"q": "ha noi"},
    {"q": "Hà Nội"},
    {"q": "bao"},
    {"q": "bão"},
    {"q": "báo"},
    {"q": "BÃO"},
    {"q": "ba\u0303o"},  # NFD
    {"q": "hoà bình"},
    {"q": "hòa bình"},
    {"q": "Đà Nẵng"},
    {"q": "da nang"},
    {"q": "ÐÀ NẴNG"},  # Icelandic eth
    {"q": '"thông tin"'},
    {"q": '"ha noi" bao'},
    {"q": "bão OR lũ"},
    {"q": "bao -lut"},
    {"q": "thủ*"},
    {"q": "title:bão"},
    {"q": "UBND"},
    {"q": "tphcm"},
    {"q": "baox"},  # Telex for bão
    {"q": "bao lut mien trungg"},
    {"q": "xyzzy qwerty"},
    {"q": "ha noi", "sort": "newest"},
    {"q": "ha noi", "sort": "oldest"},
    {"q": "mien trung", "sort": "newest"},
    {"q": "bao", "category": "Thời sự"},
    {"q": "bao", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    {"q": "", "sort": "newest"},
    {"q": "nứơc"},  # a misplaced mark: read at the next looser level
    {"q": "ha noi", "per_page": "3", "page": "2"},
    {"q": "bão", "accents": "ignore"},
]
# What must be equal whatever the engine; the hits are compared below where their order is defined.
COMPARED = (
    "total",
    "facets",
    "partial",
    "reading",
    "correction",
    "suggestion",
    "aliases",
    "alias_offers",
    "accents",
    "folded_total",
    "loosened",
    "truncated",
    "sort",
    "page",
    "per_page",
    "topic_narrowed",
    "relevance_total",
    "total_pages",
    "next",
)


@pytest.fixture(scope="module")
def cluster_settings(opensearch_url: str, demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """Index the demo corpus into its own alias on the test cluster and return settings serving it."""
    from searchsvc.opensearch.indexing import reindex

    alias = f"test_{uuid.uuid4().hex[:10]}"
    settings = replace(
        demo_settings,
        backend=replace(demo_settings.backend, kind="opensearch", url=opensearch_url, index=alias),
    )
    reindex(settings, [str(p) for p in demo_sources()])
    yield settings
    _drop(opensearch_url, alias)


def _drop(url: str, alias: str) -> None:
    """Delete every index of an alias's generations (``alias-*``)."""
    from opensearchpy import OpenSearch

    client = OpenSearch(url)
    client.indices.delete(index=f"{alias}*", ignore_unavailable=True)
    client.close()


@pytest.fixture(scope="module")
def cluster_app(cluster_settings: Settings):
    """Return the Flask app serving the demo corpus from the cluster."""
    from searchsvc.web import STORE_KEY, create_app

    served = create_app(cluster_settings)
    yield served
    served.extensions[STORE_KEY].close()


@pytest.fixture(scope="module")
def both(app, cluster_app):
    """Return test clients of the embedded and the OpenSearch app, in that order."""
    return app.test_client(), cluster_app.test_client()


def _answers(both: Any, path: str, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the JSON bodies both backends answer to one request (each must be 200)."""
    embedded, cluster = (c.get(path, query_string=params) for c in both)
    assert (embedded.status_code, cluster.status_code) == (200, 200), cluster.get_data(as_text=True)
    return embedded.get_json(), cluster.get_json()


@pytest.mark.parametrize("params", REQUESTS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_both_backends_answer_alike(both, params: dict[str, str]) -> None:
    embedded, cluster = _answers(both, "/api/search", params)
    assert {k: cluster[k] for k in COMPARED} == {k: embedded[k] for k in COMPARED}
    if params.get("sort") in ("newest", "oldest"):
        assert [h["id"] for h in cluster["hits"]] == [h["id"] for h in embedded["hits"]]
    elif embedded["total"] <= len(embedded["hits"]):
        # Every match on one page: the same articles, each marked alike.
        assert sorted(h["id"] for h in cluster["hits"]) == sorted(h["id"] for h in embedded["hits"])
        marked = {h["id"]: h["highlights"] for h in embedded["hits"]}
        assert {h["id"]: h["highlights"] for h in cluster["hits"]} == marked


def test_a_marked_word_matches_only_its_marks_on_the_cluster(both) -> None:
    _, marked = _answers(both, "/api/search", {"q": "bão", "per_page": "100"})
    _, plain = _answers(both, "/api/search", {"q": "bao", "per_page": "100"})
    assert marked["total"] < plain["total"]
    assert {h["id"] for h in marked["hits"]} < {h["id"] for h in plain["hits"]}
    assert all("<mark>" in h["highlights"]["title"] + h["highlights"]["snippet"] for h in marked["hits"])


def test_the_best_known_item_comes_first_on_both(both) -> None:
    embedded, cluster = _answers(both, "/api/search", {"q": "Hà Nội bão số 3"})
    assert cluster["hits"][0]["id"] == embedded["hits"][0]["id"]


def test_article_page_related_suggest_and_stats_work_on_the_cluster(both) -> None:
    embedded_client, cluster_client = both
    first = embedded_client.get("/api/search", query_string={"q": "bão"}).get_json()["hits"][0]["id"]
    assert (
        cluster_client.get(f"/api/articles/{first}").get_json()
        == embedded_client.get(f"/api/articles/{first}").get_json()
    )
    related = cluster_client.get(f"/api/articles/{first}/related").get_json()
    assert related["id"] == first and first not in [r["id"] for r in related["related"]]
    assert (
        cluster_client.get("/api/suggest", query_string={"q": "ha n"}).get_json()
        == embedded_client.get("/api/suggest", query_string={"q": "ha n"}).get_json()
    )
    page = cluster_client.get(f"/articles/{first}", query_string={"q": "bao"})
    assert page.status_code == 200 and "<mark>" in page.get_data(as_text=True)
    assert cluster_client.get("/", query_string={"q": "bão"}).status_code == 200
    assert cluster_client.get("/feed.atom", query_string={"q": "bão"}).status_code == 200


def test_unknown_article_is_404_on_the_cluster(both) -> None:
    answer = both[1].get("/api/articles/no-such-article")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "not_found")


def test_healthz_reports_the_cluster(both, cluster_settings: Settings) -> None:
    body = both[1].get("/healthz").get_json()
    assert (body["status"], body["backend"], body["cluster"] in ("green", "yellow")) == (
        "ok",
        "opensearch",
        True,
    )


def test_an_added_article_is_searchable_when_the_command_returns(
    cluster_settings: Settings, cluster_app, tmp_path: Path
):
    from searchsvc.opensearch.indexing import add_articles, delete_articles

    source = tmp_path / "new.jsonl"
    source.write_text(
        '{"id": "moi-1", "title": "Khánh thành cầu Rạch Miễu hai", "body": "Cầu mới nối đôi bờ sông Tiền.",'
        ' "published": "2026-12-07T08:00:00+07:00", "category": "Thời sự"}\n',
        encoding="utf-8",
    )
    client = cluster_app.test_client()
    add_articles(cluster_settings, [str(source)])
    found = client.get("/api/search", query_string={"q": "rach mieu"}).get_json()
    assert [h["id"] for h in found["hits"]] == ["moi-1"]
    marked = client.get("/api/search", query_string={"q": "Miễu"}).get_json()
    assert marked["total"] == 1 and marked["loosened"] == []
    assert delete_articles(cluster_settings, ["moi-1"]) == (["moi-1"], [])
    after = client.get("/api/search", query_string={"q": "rach mieu"}).get_json()
    assert "moi-1" not in [h["id"] for h in after["hits"]]


def test_word_counts_from_term_statistics_match_counted_ones(cluster_settings: Settings) -> None:
    """The corrector's batched lookup gives the counts a term query per word gives (`mp3` splits: 0)."""
    from searchsvc.engine import open_backend
    from searchsvc.opensearch.indexing import reindex

    # Term statistics count replaced articles until a merge drops them (as Whoosh does), and the
    # shared alias has had `index add`: a fresh generation has none.
    alias = f"test_{uuid.uuid4().hex[:10]}"
    fresh = replace(cluster_settings, backend=replace(cluster_settings.backend, index=alias))
    reindex(fresh, [str(p) for p in demo_sources()])
    backend = open_backend(fresh)
    try:
        words = ["bao", "ha", "noi", "thong", "tin", "zzqx", "mp3"]
        batched = backend._term_statistics(words)
        for word in words:
            assert batched[word] == backend._filtered_frequencies(word), word
        assert batched["bao"]["body"] > 0
        assert batched["zzqx"]["body"] == 0
    finally:
        backend.close()
        _drop(cluster_settings.backend.url, alias)


def test_a_typo_costs_a_few_requests_not_one_per_candidate(cluster_settings: Settings) -> None:
    """Correcting `thoong tinn` asks the cluster tens of times at most, where each of ~500 edits once cost one."""
    from searchsvc.engine import open_backend
    from searchsvc.messages import SearchRequest
    from searchsvc.search import search

    backend = open_backend(cluster_settings)
    calls: list[str] = []
    perform = backend.client.transport.perform_request

    def counted(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(url)
        return perform(method, url, *args, **kwargs)

    backend.client.transport.perform_request = counted
    try:
        response = search(backend, SearchRequest(q="thoong tinn"), cluster_settings.search)
    finally:
        backend.close()
    assert response.total > 0  # found only through the corrected words
    assert len(calls) < 60, len(calls)
