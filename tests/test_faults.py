"""The fault suite of issue 10: each defect the hostile pass found, reproduced and held off.

Kept fast: small indexes built here, no timed assertions. The slow-client case
against a real ``searchsvc serve`` lives in ``test_server.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchsvc.config import load_settings
from searchsvc.highlight import Targets, snippet
from searchsvc.indexer import reindex
from searchsvc.lexicon import Completion
from searchsvc.messages import FacetValue, Highlights, Hit, SearchRequest, SearchResponse
from searchsvc.web import create_app

SURROGATE_RECORDS = [
    {
        "id": "surr",
        "title": "Tin a\ud800b Hà Nội",
        "body": "Giày thủy \udfff tinh ở Hà Nội.",
        "tags": ["x\ud800"],
        "author": "Lan\ud800",
    },
    {"id": "tot", "title": "Hà Nội đón khách", "body": "Khách đến Hà Nội đông."},
]


@pytest.fixture(scope="module")
def surrogate_client(tmp_path_factory: pytest.TempPathFactory):
    """Serve an index that holds lone surrogates, as one built before ingest replaced them."""
    directory = tmp_path_factory.mktemp("surrogates")
    source = directory / "articles.jsonl"
    # ensure_ascii keeps each lone surrogate as a "\ud800" escape, as a CMS export would.
    source.write_text("".join(json.dumps(r) + "\n" for r in SURROGATE_RECORDS), encoding="ascii")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("searchsvc.ingest._encodable", lambda article: (article, []))
        try:
            reindex([source], directory / "index")
        except UnicodeEncodeError:
            pytest.skip("this index format refuses lone surrogates, so no page can meet one in an index")
    settings = load_settings(environ={}, overrides={"index": {"dir": str(directory / "index")}})
    return create_app(settings).test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=",
        "/?q=ha+noi",
        "/api/search?q=",
        "/api/search?q=tin+a",
        "/api/suggest?q=t",
        "/articles/surr",
    ],
)
def test_lone_surrogates_in_an_index_never_give_500(surrogate_client, path):
    response = surrogate_client.get(path)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")  # strict: the body is valid UTF-8
    assert "\ufffd" in text or path.startswith("/api/suggest")


def test_api_article_with_a_lone_surrogate_is_valid_json(surrogate_client):
    body = surrogate_client.get("/api/articles/surr").get_json()
    assert (body["title"], body["tags"]) == ("Tin a\ufffdb Hà Nội", ["x\ufffd"])


def test_suggest_with_a_lone_surrogate_is_valid_json(surrogate_client):
    body = surrogate_client.get("/api/suggest?q=tin").get_json()
    assert body["suggestions"][0]["text"] == "Tin a\ufffdb Hà Nội"


class SurrogateStore:
    """A store whose stored text holds lone surrogates, whatever the index format can hold."""

    generation = "gen-test"
    doc_count = 1

    def get_article(self, article_id: str) -> dict:
        """Return an article with a lone surrogate in every text field."""
        return {
            "id": article_id,
            "url": "https://example.vn/a\ud800",
            "title": "Tin a\ud800b",
            "summary": "Tóm\udfff tắt",
            "body": "Thân\ud800 bài",
            "author": "Lan\ud800",
            "published": None,
            "category": "Thời\ud800 sự",
            "source": "Báo\udc00",
            "tags": ["x\ud800"],
        }

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        """Return one completion with a lone surrogate."""
        return [Completion("Tin a\ud800b", "<mark>Tin</mark> a\ud800b", 1)]

    def health(self) -> dict:
        """Report ok."""
        return {"status": "ok", "generation": self.generation, "documents": 1}


def surrogate_response(request: SearchRequest) -> SearchResponse:
    """Return a search response whose every text holds a lone surrogate."""
    hit = Hit(
        id="a\ud800",
        title="Tin a\ud800b",
        url=None,
        published=None,
        category="Thời\ud800 sự",
        source="Báo\udc00",
        author="Lan\ud800",
        score=1.0,
        highlights=Highlights("<mark>Tin</mark> a\ud800b", "Thân\ud800 bài"),
        tags=("x\ud800",),
    )
    facets = {"category": (FacetValue("Thời\ud800 sự", 1),), "source": (FacetValue("Báo\udc00", 1),)}
    return SearchResponse(request.q, 1, request.page, request.per_page, 1.0, (hit,), facets)


@pytest.fixture()
def surrogate_web(demo_settings, monkeypatch):
    """Return a client whose store and search answer with lone surrogates."""
    monkeypatch.setattr("searchsvc.web.StoreHolder.get", lambda self: SurrogateStore())
    monkeypatch.setattr(
        "searchsvc.search.search", lambda store, request, settings=None: surrogate_response(request)
    )
    return create_app(demo_settings).test_client()


@pytest.mark.parametrize(
    "path", ["/", "/?q=tin", "/api/search?q=tin", "/api/suggest?q=tin", "/articles/a", "/api/articles/a"]
)
def test_every_page_replaces_lone_surrogates_on_output(surrogate_web, path):
    response = surrogate_web.get(path)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")  # strict: the body is valid UTF-8
    assert "\ufffd" in text


def test_snippet_of_a_one_megabyte_body_completes():
    # Quadratic before: 95 s for this body and query; the worker was killed at 30 s.
    body = ("Thủ tướng Chính phủ làm việc tại Hà Nội. " * 25_000)[:1_000_000]
    targets = Targets(frozenset({"thu", "tuong", "chinh", "phu", "ha", "noi"}))
    assert snippet(body, targets).startswith(
        "<mark>Thủ tướng Chính phủ</mark> làm việc tại <mark>Hà Nội</mark>"
    )


def test_readme_names_this_suite():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "tests/test_faults.py" in readme


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/search?page=%D9%A3", 400, "invalid_parameter"),  # int() read it as 3
        ("/api/search?page=1_0", 400, "invalid_parameter"),  # int() read it as 10
        ("/api/suggest?q=ha&limit=%D9%A3", 400, "invalid_parameter"),
        ("/api/search?q=%ff%fe", 400, "bad_request"),  # was searched as '%FF%FE'
    ],
)
def test_parameters_are_as_strict_as_documented(client, url, status, code):
    response = client.get(url)
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)


def test_options_is_204_not_an_empty_page(client):
    response = client.options("/api/search")
    assert (response.status_code, response.data, "GET" in response.headers["Allow"]) == (204, b"", True)


def test_autocomplete_marks_the_typed_letters_after_punctuation(client):
    body = client.get("/api/suggest?q=sau+bao+ha").get_json()
    assert body["suggestions"][0]["html"].startswith("<mark>Sau bão, Hà</mark> Nội")
