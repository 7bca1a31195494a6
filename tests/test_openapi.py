"""The OpenAPI document: valid 3.1, covers every route, and real responses match its schemas."""

from __future__ import annotations

from typing import get_args

import pytest

from searchsvc.messages import (
    REPEATABLE_PARAMETERS,
    SEARCH_PARAMETERS,
    SINGLE_PARAMETERS,
    ReadingMode,
    Sort,
)
from searchsvc.web import create_app

openapi_spec_validator = pytest.importorskip(
    "openapi_spec_validator", reason="pip install openapi-spec-validator"
)
jsonschema = pytest.importorskip("jsonschema", reason="installed with openapi-spec-validator")


@pytest.fixture()
def document(client):
    """Return the served OpenAPI document."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def assert_matches(document: dict, schema_name: str, body: dict) -> None:
    """Validate ``body`` against a component schema of ``document``."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_document_is_valid_openapi_31(document):
    assert document["openapi"] == "3.1.0"
    openapi_spec_validator.validate(document)


def test_every_route_is_documented(app, document):
    routes = {
        rule.rule.replace("<path:article_id>", "{article_id}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "feed.", "metrics."))
    }
    assert routes == set(document["paths"])


def test_search_parameters_are_the_api_contract(document):
    params = document["paths"]["/api/search"]["get"]["parameters"]
    names = [p["name"] for p in params if p["in"] == "query"]
    assert names == list(SEARCH_PARAMETERS)
    assert set(SEARCH_PARAMETERS) == set(SINGLE_PARAMETERS) | set(REPEATABLE_PARAMETERS)


def test_limits_come_from_settings(document, demo_settings):
    params = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert params["per_page"]["schema"]["maximum"] == demo_settings.search.max_per_page
    assert params["page"]["schema"]["maximum"] == demo_settings.search.max_page


@pytest.mark.parametrize(
    ("url", "schema_name"),
    [
        ("/api/search?q=ha+noi+bao", "SearchResponse"),
        ("/api/search?q=", "SearchResponse"),
        ("/api/search?q=tin+tuc&category=Th%E1%BB%9Di+s%E1%BB%B1&sort=newest", "SearchResponse"),
        ("/api/articles/demo-001", "Article"),
        ("/api/articles/demo-029", "Article"),
        ("/api/suggest?q=ha+n", "Suggestions"),
        ("/healthz", "Health"),
        ("/api/search?page=0", "Error"),
        ("/api/articles/missing", "Error"),
        ("/api/articles/demo-001/related?limit=3", "RelatedResponse"),
        ("/api/articles/demo-001/related?before=2021-01-01", "RelatedResponse"),
        ("/api/articles/missing/related", "Error"),
    ],
)
def test_responses_match_their_schemas(client, document, url, schema_name):
    assert_matches(document, schema_name, client.get(url).get_json())


def operation_of(document: dict, path: str, method: str) -> dict:
    """Return the documented operation that serves ``path`` (article ids filled in)."""
    template = "/api/articles/{article_id}" if path.startswith("/api/articles/") else path
    if path.startswith("/api/articles/") and path.endswith("/related"):
        template += "/related"
    return document["paths"][template][method.lower()]


@pytest.mark.parametrize(
    ("method", "url", "options"),
    [
        ("GET", "/api/search?page=%D9%A3", {}),
        ("GET", "/api/search?date_from=2024-02-01&date_to=2024-01-01", {}),
        ("GET", "/api/search?q=%ff%fe", {}),
        ("GET", "/api/suggest?limit=1_0", {}),
        ("GET", "/api/articles/nope", {}),
        ("GET", "/api/openapi.json?x=%ff", {}),
        ("GET", "/healthz", {"headers": {"X-Padding": "x" * 17_000}}),
        ("POST", "/api/search", {}),
        ("DELETE", "/api/articles/demo-001", {}),
        ("OPTIONS", "/api/search", {}),
        ("OPTIONS", "/api/articles/demo-001", {}),
        ("OPTIONS", "/api/articles/%0D%0AX-Injected", {}),
        ("OPTIONS", "/healthz", {}),
        ("GET", "/api/articles/demo-001/related?limit=0", {}),
        ("GET", "/api/articles/nope/related", {}),
        ("OPTIONS", "/api/articles/demo-001/related", {}),
        ("GET", "/feed.atom?per_page=0", {}),
        ("OPTIONS", "/feed.atom", {}),
        ("OPTIONS", "/metrics", {}),
        ("POST", "/metrics", {}),
    ],
)
def test_every_status_the_api_answers_is_documented(client, document, method, url, options):
    response = client.open(url, method=method, **options)
    path = url.split("?", 1)[0]
    responses = operation_of(document, path, "OPTIONS" if method == "OPTIONS" else "GET")["responses"]
    assert str(response.status_code) in responses
    if response.status_code >= 400:
        assert_matches(document, "Error", response.get_json())


def test_no_index_503_and_unexpected_500_are_documented(tmp_path, document, client, monkeypatch):
    from searchsvc.config import load_settings

    empty = create_app(load_settings(environ={}, overrides={"index": {"dir": str(tmp_path)}})).test_client()
    for path in ("/api/search", "/api/suggest?q=a", "/api/articles/x", "/healthz"):
        response = empty.get(path)
        assert response.status_code == 503
        assert "503" in operation_of(document, path.split("?")[0], "GET")["responses"]

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("searchsvc.search.search", explode)
    assert client.get("/api/search?q=x").status_code == 500
    assert "500" in document["paths"]["/api/search"]["get"]["responses"]


def test_date_order_400_is_described(document):
    description = document["paths"]["/api/search"]["get"]["responses"]["400"]["description"]
    assert "`date_from` after `date_to`" in description


def test_single_valued_parameters_may_be_empty(document):
    params = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert {name for name, p in params.items() if p.get("allowEmptyValue")} == set(SINGLE_PARAMETERS)


def test_sort_and_reading_mode_are_enums_of_their_literal_types(document):
    params = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    response = document["components"]["schemas"]["SearchResponse"]["properties"]
    assert params["sort"]["schema"]["enum"] == ["relevance", "newest", "oldest"] == list(get_args(Sort))
    assert response["sort"]["enum"] == list(get_args(Sort))
    modes = response["reading"]["properties"]["mode"]["enum"]
    assert modes == ["literal", "telex", "vni"] == list(get_args(ReadingMode))


@pytest.mark.parametrize("path", ["/api/search", "/feed.atom"])
def test_the_date_order_rule_is_in_the_document(document, path):
    operation = document["paths"][path]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    for text in (
        operation["description"],
        params["date_from"]["description"],
        params["date_to"]["description"],
    ):
        assert "`date_from <= date_to`" in text


@pytest.mark.parametrize(
    "path", ["/api/search", "/api/suggest", "/healthz", "/api/articles/demo-001", "/feed.atom", "/metrics"]
)
def test_allow_is_sent_exactly_as_the_document_writes_it(client, document, path):
    template = "/api/articles/{article_id}" if path.startswith("/api/articles/") else path
    documented = document["paths"][template]["options"]["responses"]["204"]["headers"]["Allow"]["schema"]
    assert client.options(path).headers["Allow"] == documented["const"] == "GET, HEAD, OPTIONS"
    assert client.post(path).headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "query", ["sort=bogus", "page=0", "sort=newest&sort=oldest", "date_from=2024-02-01&date_to=2024-01-01"]
)
def test_the_feed_refuses_what_the_search_api_refuses(client, query):
    api = client.get("/api/search?" + query)
    feed = client.get("/feed.atom?" + query)
    assert (feed.status_code, feed.get_json()) == (api.status_code, api.get_json())
    assert api.status_code == 400


def test_the_api_docs_page_shows_every_operation_and_parameter(client, document):
    response = client.get("/api/docs")
    assert (response.status_code, response.mimetype) == (200, "text/html")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    page = response.get_data(as_text=True)
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    for path, item in document["paths"].items():
        for method in ("get", "options"):
            assert f"<code>{method.upper()} {path}</code>" in page
            assert f'id="{item[method]["operationId"]}"' in page
    for param in document["paths"]["/api/search"]["get"]["parameters"]:
        assert f"<code>{param['name']}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # The document's `code` spans are code on the page, and its text is escaped.
    assert "<code>date_from &lt;= date_to</code>" in page
