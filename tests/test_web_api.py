"""The JSON API: whole-body contracts, the error shape, limits, headers, and no 500 on any input."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from searchsvc.config import load_settings
from searchsvc.demo import ARTICLES_PATH, demo_sources
from searchsvc.indexer import reindex
from searchsvc.messages import SEARCH_PARAMETERS
from searchsvc.web import create_app
from searchsvc.web.errors import SECURITY_HEADERS

SEARCH_KEYS = {
    "accents",
    "folded_total",
    "loosened",
    "topic_narrowed",
    "relevance_total",
    "query",
    "total",
    "page",
    "per_page",
    "took_ms",
    "hits",
    "facets",
    "suggestion",
    "reading",
    "partial",
    "matched_terms",
    "sort",
    "truncated",
    "correction",
    "aliases",
    "alias_offers",
    "total_pages",
    "next",
}
HIT_KEYS = {"id", "title", "url", "published", "category", "source", "author", "score", "highlights", "tags"}
ALLOWED_STATUSES = {200, 400, 404, 405, 413}


def demo_record(article_id: str) -> dict:
    """Return one record of the demo corpus file."""
    for line in ARTICLES_PATH.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == article_id:
            return record
    raise KeyError(article_id)


def error_body(code: str, message: str) -> dict:
    """Return the JSON error shape."""
    return {"error": {"code": code, "message": message}}


def test_healthz_reports_generation_and_documents(client, store):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "generation": store.generation,
        "documents": 49,
        "segments": store.health()["segments"],
    }


def test_healthz_says_degraded_while_a_new_generation_cannot_be_served(tmp_path: Path):
    index_dir = tmp_path / "index"
    live = reindex([str(p) for p in demo_sources()], index_dir).generation
    client = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}})).test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    (index_dir / "CURRENT").write_text("gen-does-not-exist\n", encoding="utf-8")
    time.sleep(0.3)  # the store looks for a new generation at most every 0.25 s
    response = client.get("/healthz")
    body = response.get_json()
    # Still serving the generation that works, and saying why the new one is not served.
    assert (response.status_code, body["status"], body["generation"]) == (200, "degraded", live)
    assert "gen-does-not-exist" in body["problem"]
    assert str(tmp_path) not in body["problem"]
    assert client.get("/api/search?q=ha+noi").status_code == 200


def test_healthz_is_503_without_index_then_recovers_once_built(tmp_path: Path):
    index_dir = tmp_path / "index"
    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}}))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "index_not_ready"
    # The message tells the client what to do, never where the server keeps its files.
    assert str(tmp_path) not in response.get_json()["error"]["message"]
    assert set(response.get_json()["error"]) == {"code", "message"}
    assert client.get("/api/search?q=ha+noi").status_code == 503
    assert client.get("/").status_code == 503
    report = reindex([str(p) for p in demo_sources()], index_dir)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["generation"] == report.generation
    assert (response.get_json()["status"], response.get_json()["documents"]) == ("ok", 49)


def test_article_is_the_stored_record(client):
    response = client.get("/api/articles/demo-029")
    assert response.status_code == 200
    assert response.get_json() == demo_record("demo-029")


def test_article_keeps_script_text_as_data(client):
    body = client.get("/api/articles/demo-016").get_json()["body"]
    assert "<script>alert(1)</script>" in body


def test_unknown_article_is_404(client):
    response = client.get("/api/articles/demo-999")
    assert response.status_code == 404
    assert response.get_json() == error_body("not_found", "no article with id 'demo-999'")


@pytest.mark.parametrize(
    ("typed", "first_text", "first_html"),
    [
        ("ha no", "Hà Nội", "<mark>Hà Nộ</mark>i"),
        ("HA NO", "Hà Nội", "<mark>Hà Nộ</mark>i"),
        ("da n", "Đà Nẵng", "<mark>Đà N</mark>ẵng"),
        ("Đà n", "Đà Nẵng", "<mark>Đà N</mark>ẵng"),
        # Punctuation between words is not in the typed key: the mark must not fall one letter short.
        (
            "sau bao ha",
            "Sau bão, Hà Nội dọn dẹp hàng trăm cây xanh gãy đổ",
            "<mark>Sau bão, Hà</mark> Nội dọn dẹp hàng trăm cây xanh gãy đổ",
        ),
    ],
)
def test_suggest_completes_without_accents(client, typed, first_text, first_html):
    body = client.get("/api/suggest", query_string={"q": typed}).get_json()
    assert body["query"] == typed
    assert body["suggestions"][0] == {"text": first_text, "html": first_html}


def test_suggest_empty_query_has_no_suggestions(client):
    assert client.get("/api/suggest?q=").get_json() == {"query": "", "suggestions": []}
    assert client.get("/api/suggest").get_json() == {"query": "", "suggestions": []}


def test_suggest_limit(client):
    assert len(client.get("/api/suggest?q=h&limit=2").get_json()["suggestions"]) == 2
    assert client.get("/api/suggest?q=h&limit=0").status_code == 400


def test_search_contract_shape(client):
    body = client.get("/api/search?q=ha+noi+bao").get_json()
    assert set(body) == SEARCH_KEYS
    assert (body["query"], body["page"], body["per_page"], body["sort"]) == ("ha noi bao", 1, 10, "relevance")
    # Only demo-001 and demo-003 have "bão"; others match the folded "bao" (báo, bao gồm) lower.
    assert [hit["id"] for hit in body["hits"][:2]] == ["demo-001", "demo-003"]
    assert body["total"] == len(body["hits"])
    for hit in body["hits"]:
        assert set(hit) == HIT_KEYS
        assert set(hit["highlights"]) == {"title", "snippet"}
    assert body["hits"][0]["highlights"]["title"] == (
        "<mark>Hà Nội</mark> khẩn trương ứng phó <mark>bão</mark> số 3, nhiều tuyến phố ngập sâu"
    )
    assert set(body["facets"]) == {"category", "source", "year", "month"}
    assert sum(v["count"] for v in body["facets"]["category"]) == body["total"]
    assert set(body["reading"]) == {"mode", "text"}


def test_search_empty_query_lists_newest(client):
    body = client.get("/api/search?sort=newest&per_page=3").get_json()
    assert body["total"] == 49
    assert [hit["id"] for hit in body["hits"]] == ["demo-041", "demo-034", "demo-026"]


def test_search_filters_and_paging(client):
    body = client.get(
        "/api/search",
        query_string=[("category", "Thời sự"), ("category", "Văn hóa"), ("per_page", "5"), ("page", "2")],
    ).get_json()
    assert body["total"] == 14
    assert (body["page"], body["per_page"], len(body["hits"])) == (2, 5, 5)
    assert (body["total_pages"], body["next"]) == (
        3,
        "/api/search?category=Th%E1%BB%9Di+s%E1%BB%B1&category=V%C4%83n+h%C3%B3a&per_page=5&page=3",
    )
    last = client.get(body["next"]).get_json()
    assert (last["page"], len(last["hits"]), last["total_pages"], last["next"]) == (3, 4, 3, None)
    assert {hit["category"] for hit in body["hits"]} <= {"Thời sự", "Văn hóa"}


def test_search_date_range_is_inclusive_vietnam_days(client):
    body = client.get("/api/search?date_from=2024-09-07&date_to=2024-09-07").get_json()
    assert [hit["id"] for hit in body["hits"]] == ["demo-001"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "'page' must be between 1 and 1000, got 0"),
        ("page=abc", "'page' must be an integer, got 'abc'"),
        ("per_page=10000", "'per_page' must be between 1 and 100, got 10000"),
        ("sort=popular", "'sort' must be one of relevance, newest, oldest, got 'popular'"),
        ("date_from=2024-13-01", "'date_from' must be a date YYYY-MM-DD, got '2024-13-01'"),
        ("date_to=07/09/2024", "'date_to' must be a date YYYY-MM-DD, got '07/09/2024'"),
        ("date_from=2024-02-01&date_to=2024-01-01", "'date_from' is after 'date_to'"),
        ("q=a&q=b", "'q' may be given only once"),
        ("page=1&page=2", "'page' may be given only once"),
    ],
)
def test_invalid_parameters_are_400(client, query, message):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400
    assert response.get_json() == error_body("invalid_parameter", message)


def test_raw_non_utf8_query_string_is_400(client):
    response = client.get("/api/search", environ_overrides={"QUERY_STRING": "q=\x80\xff"})
    assert response.status_code == 400
    assert response.get_json() == error_body("bad_request", "the query string is not valid UTF-8")


def test_unknown_route_is_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == error_body("not_found", "no such page or endpoint: /api/nothing-here")


def test_wrong_method_is_json_405_with_allow(client):
    response = client.post("/api/search")
    assert response.status_code == 405
    assert response.get_json() == error_body(
        "method_not_allowed", "POST is not allowed on /api/search; use GET"
    )
    assert "GET" in response.headers["Allow"]


def test_long_url_is_413(client):
    response = client.get("/api/search?q=" + "a" * 20_000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"


def test_large_header_is_413(client):
    response = client.get("/api/search?q=a", headers={"X-Padding": "x" * 17_000})
    assert response.status_code == 413


def test_large_body_is_413_before_routing(client):
    response = client.post("/api/search", data=b"x" * 20_000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"


def test_unexpected_exception_is_json_500(client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("searchsvc.search.search", explode)
    response = client.get("/api/search?q=x")
    assert response.status_code == 500
    assert response.get_json() == error_body("internal_error", "internal server error")


def test_json_is_utf8_not_ascii_escaped(client):
    response = client.get("/api/articles/demo-001")
    assert "Hà Nội".encode() in response.data


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/search?q=ha",
        "/api/articles/nope",
        "/nope",
        "/static/style.css",
        "/healthz",
        "/articles/demo-001",
    ],
)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


PARAM_NAMES = st.sampled_from([*SEARCH_PARAMETERS, "x"])
NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Zs", "Mn", "Lo"]), max_size=20),
    st.sampled_from(
        ["0", "-1", "1e9", "99999999999999999999", "2024-02-30", "0000-00-00", "NaN", "%", "%zz"]
    ),
    st.integers(min_value=16_000, max_value=40_000).map(lambda n: "á" * n),
)


def encode_pairs(pairs: list[tuple[str, str]], raw: bytes) -> str:
    """Return a WSGI QUERY_STRING (latin-1 str of bytes) from pairs plus raw garbage bytes."""
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}" for k, v in pairs)
    return encoded + raw.decode("latin-1")


def wsgi_text(text: str) -> str:
    """Return ``text`` as WSGI carries it: its UTF-8 bytes (surrogates kept) as latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.one_of(
        st.sampled_from(["/api/search", "/api/suggest", "/api/articles/demo-001", "/healthz"]),
        st.text(max_size=20).map(lambda s: "/api/articles/" + wsgi_text(s)),
        st.binary(max_size=12).map(lambda b: "/api/" + b.decode("latin-1")),
    ),
    pairs=st.lists(st.tuples(PARAM_NAMES, NASTY_TEXT), max_size=6),
    raw=st.binary(max_size=30),
)
def test_no_input_gives_500_or_non_json(client, path, pairs, raw):
    query_string = encode_pairs(pairs, raw)
    response = client.get("/", environ_overrides={"PATH_INFO": path, "QUERY_STRING": query_string})
    assert response.status_code in ALLOWED_STATUSES
    body = response.get_json()
    if response.status_code != 200:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message"}


def tuned_client(index_dir: Path, **search: object):
    """Return a test client of an app whose ``[search]`` settings differ from the defaults."""
    settings = load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}, "search": search})
    return create_app(settings).test_client()


def plain_text(marked: str) -> str:
    """Return highlight HTML as the text a reader sees."""
    return html.unescape(re.sub(r"</?mark>", "", marked))


def test_configured_snippet_chars_reach_the_api(client, demo_index_dir):
    query = "/api/search?q=ha+noi+bao"
    default = [plain_text(h["highlights"]["snippet"]) for h in client.get(query).get_json()["hits"]]
    tuned = tuned_client(demo_index_dir, snippet_chars=60).get(query).get_json()
    snippets = [plain_text(h["highlights"]["snippet"]) for h in tuned["hits"]]
    assert max(map(len, default)) > 100
    # 60 characters of passage, plus an ellipsis at either end.
    assert max(map(len, snippets)) <= 62


def test_configured_field_weights_reach_the_api(client, demo_index_dir):
    query = "/api/search?q=ha+noi"
    default = [(h["id"], h["score"]) for h in client.get(query).get_json()["hits"]]
    tuned = tuned_client(demo_index_dir, title_weight=0.0, summary_weight=0.0, proximity_boost=0.0)
    changed = [(h["id"], h["score"]) for h in tuned.get(query).get_json()["hits"]]
    assert sorted(i for i, _ in changed) == sorted(i for i, _ in default)
    assert changed != default


def test_configured_settings_reach_the_search_page(demo_index_dir):
    page = tuned_client(demo_index_dir, snippet_chars=60).get("/?q=ha+noi+bao").get_data(as_text=True)
    snippets = re.findall(r'<p class="hit-snippet">(.*?)</p>', page, re.DOTALL)
    assert snippets != []
    assert max(len(plain_text(s.strip())) for s in snippets) <= 62


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=%D9%A3", "'page' must be an integer, got '٣'"),
        ("page=1_0", "'page' must be an integer, got '1_0'"),
        ("page=%2B2", "'page' must be an integer, got '+2'"),
        ("page=+2", "'page' must be an integer, got ' 2'"),
        ("per_page=%EF%BC%95", "'per_page' must be an integer, got '５'"),
        ("per_page=0x10", "'per_page' must be an integer, got '0x10'"),
        ("date_to=+", "'date_to' must be a date YYYY-MM-DD, got ' '"),
        ("date_from=2024-0%D9%A3-01", "'date_from' must be a date YYYY-MM-DD, got '2024-0٣-01'"),
        ("sort=+", "'sort' must be one of relevance, newest, oldest, got ' '"),
    ],
)
def test_numbers_are_ascii_digits_only(client, query, message):
    response = client.get(f"/api/search?{query}")
    assert (response.status_code, response.get_json()) == (400, error_body("invalid_parameter", message))


@pytest.mark.parametrize("query", ["limit=%D9%A3", "limit=1_0", "limit=+3", "limit=3.0"])
def test_suggest_limit_is_ascii_digits_only(client, query):
    response = client.get(f"/api/suggest?q=ha&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_empty_single_valued_parameters_mean_the_default(client):
    # An HTML form sends its empty fields: "date_to=" is "no end date", as documented.
    plain = client.get("/api/search?q=ha+noi").get_json()
    empty = client.get("/api/search?q=ha+noi&page=&per_page=&sort=&date_from=&date_to=").get_json()
    assert [h["id"] for h in empty["hits"]] == [h["id"] for h in plain["hits"]]
    assert (empty["page"], empty["per_page"], empty["sort"]) == (1, 10, "relevance")
    assert len(client.get("/api/suggest?q=h&limit=").get_json()["suggestions"]) == 8


@pytest.mark.parametrize(
    "path", ["/api/search?q=%ff%fe", "/api/search?q=ha&category=%C3", "/api/suggest?q=%ff", "/?q=%ff%fe"]
)
def test_invalid_utf8_after_percent_decoding_is_400(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == error_body("bad_request", "the query string is not valid UTF-8")


def test_invalid_utf8_in_the_path_is_400(client):
    # As gunicorn passes "/api/articles/%ff": the raw bytes, as latin-1 text.
    response = client.get("/", environ_overrides={"PATH_INFO": "/api/articles/\xff"})
    assert (response.status_code, response.get_json()) == (
        400,
        error_body("bad_request", "the path is not valid UTF-8"),
    )


@pytest.mark.parametrize("path", ["/api/search", "/api/suggest", "/healthz", "/api/articles/demo-001", "/"])
def test_options_answers_204_with_allow(client, path):
    response = client.options(path)
    assert (response.status_code, response.data) == (204, b"")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_new_worker_opens_the_index_before_its_first_request(demo_settings, tmp_path):
    from searchsvc.web import STORE_KEY, create_app, open_early

    app = create_app(demo_settings)
    open_early(app)
    holder = app.extensions[STORE_KEY]
    assert holder._store is not None and holder._store.doc_count > 0
    # Without an index yet, a worker still starts; its first request answers 503.
    empty = create_app(replace(demo_settings, index=replace(demo_settings.index, dir=str(tmp_path / "none"))))
    open_early(empty)
    assert empty.extensions[STORE_KEY]._store is None
    assert empty.test_client().get("/api/search?q=tin").status_code == 503


def test_pagination_of_an_empty_result_and_the_page_limit(client, demo_settings):
    empty = client.get("/api/search?q=zzzzqqqq&as_typed=1").get_json()
    assert (empty["total"], empty["total_pages"], empty["next"]) == (0, 0, None)
    deep = client.get("/api/search?per_page=1").get_json()
    assert (deep["total"], deep["total_pages"], deep["next"]) == (49, 49, "/api/search?per_page=1&page=2")
    limited = create_app(
        replace(demo_settings, search=replace(demo_settings.search, max_page=10))
    ).test_client()
    body = limited.get("/api/search?per_page=1&page=10").get_json()
    assert (body["total"], body["total_pages"], body["next"]) == (49, 10, None)


def test_search_answers_carry_cache_control_and_an_etag_that_gives_304(client):
    first = client.get("/api/search?q=ha+noi")
    assert first.headers["Cache-Control"] == "public, max-age=30"
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    again = client.get("/api/search?q=ha+noi", headers={"If-None-Match": tag})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", tag)
    assert again.headers["Cache-Control"] == "public, max-age=30"
    other = client.get("/api/search?q=ha+noi&page=2", headers={"If-None-Match": tag})
    assert other.status_code == 200
    assert other.headers["ETag"] != tag
    assert client.get("/api/search?q=ha+noi", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_the_etag_follows_the_results_not_the_index_files(tmp_path):
    from searchsvc.web import STORE_KEY

    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}}))
    client = app.test_client()
    tag = client.get("/api/search?q=ha").headers["ETag"]
    # The same articles again: a new generation, the same answer, the same tag.
    reindex([str(p) for p in demo_sources()], index_dir)
    app.extensions[STORE_KEY].get().refresh(force=True)
    assert client.get("/api/search?q=ha", headers={"If-None-Match": tag}).status_code == 304
    # Fewer articles: another answer, another tag.
    reindex([str(ARTICLES_PATH)], index_dir)
    app.extensions[STORE_KEY].get().refresh(force=True)
    answer = client.get("/api/search?q=ha", headers={"If-None-Match": tag})
    assert answer.status_code == 200
    assert answer.headers["ETag"] != tag
    app.extensions[STORE_KEY].close()


def test_cache_max_age_zero_means_revalidate(demo_settings):
    settings = replace(demo_settings, server=replace(demo_settings.server, cache_max_age=0))
    assert create_app(settings).test_client().get("/api/search?q=ha").headers["Cache-Control"] == "no-cache"


def cors_client(demo_settings, origins: str):
    """Return a test client of an app with ``server.cors_origins`` set."""
    return create_app(
        replace(demo_settings, server=replace(demo_settings.server, cors_origins=origins))
    ).test_client()


def test_cors_is_off_by_default(client):
    response = client.get("/api/search?q=ha", headers={"Origin": "https://partner.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/search", headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"}
    )
    assert not [h for h in preflight.headers.keys() if h.startswith("Access-Control-")]


def test_cors_lets_configured_origins_call_the_api(demo_settings):
    client = cors_client(demo_settings, "https://partner.example, https://other.example")
    response = client.get("/api/search?q=ha", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"
    assert "Origin" in response.headers["Vary"]
    refused = client.get("/api/search?q=ha", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Origin" in refused.headers["Vary"]
    preflight = client.options(
        "/api/suggest",
        headers={
            "Origin": "https://other.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-anything",
        },
    )
    assert preflight.status_code == 204
    assert {k: v for k, v in preflight.headers.items() if k.startswith("Access-Control-")} == {
        "Access-Control-Allow-Origin": "https://other.example",
        "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since, Cache-Control",
    }
    # The search page and /metrics never answer other origins.
    for path in ("/?q=ha", "/metrics"):
        assert (
            "Access-Control-Allow-Origin"
            not in client.get(path, headers={"Origin": "https://partner.example"}).headers
        )


def test_cors_any_origin_and_bad_origins(demo_settings):
    from searchsvc.errors import ConfigError

    client = cors_client(demo_settings, "*")
    response = client.get("/feed.atom?q=ha", headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for bad in ("partner.example", "https://partner.example/path", "ftp://x.example"):
        with pytest.raises(ConfigError, match="server.cors_origins"):
            load_settings(environ={}, overrides={"server": {"cors_origins": bad}})
