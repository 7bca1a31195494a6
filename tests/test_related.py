"""Related articles: the core call over the demo index, its copies rule, and the API and page."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from searchsvc.dates import VIETNAM_TZ as VIETNAM
from searchsvc.demo import demo_sources
from searchsvc.errors import NotFound, QueryError
from searchsvc.indexer import reindex
from searchsvc.related import related, related_params
from searchsvc.store import open_store


def ids(answer) -> list[str]:
    """Return the ids of a related answer, in order."""
    return [a.id for a in answer.items]


def test_storm_article_finds_the_other_storm_and_flood_stories(store):
    answer = related(store, "demo-001")
    assert {"demo-003", "demo-036"} <= set(ids(answer)[:3])
    assert "khan truong" in answer.terms


def test_the_article_itself_is_never_related(store):
    for article_id in ("demo-001", "demo-013", "demo-024"):
        assert article_id not in ids(related(store, article_id, limit=20))


def test_limit_caps_the_answer(store):
    assert len(related(store, "demo-013", limit=2).items) == 2


def test_before_keeps_only_earlier_coverage(store):
    answer = related(store, "demo-001", limit=20, before=datetime(2021, 1, 1, tzinfo=VIETNAM))
    assert "demo-003" in ids(answer)  # 2020-10-15
    assert "demo-036" not in ids(answer)  # undated: not known to be earlier
    for item in answer.items:
        assert item.published is not None and item.published < "2021-01-01"


def test_unknown_article_is_not_found(store):
    with pytest.raises(NotFound):
        related(store, "no-such-article")


@pytest.fixture(scope="module")
def index_with_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the demo corpus plus a copy of demo-003 under another id and URL (a syndicated story)."""
    folder = tmp_path_factory.mktemp("related-copy")
    source = demo_sources()[0]
    lines = Path(source).read_text(encoding="utf-8").splitlines()
    original = next(json.loads(line) for line in lines if '"demo-003"' in line)
    copy = original | {"id": "copy-003", "url": "https://other.example/copy-003.htm", "source": "Báo khác"}
    corpus = folder / "articles.jsonl"
    corpus.write_text("\n".join([*lines, json.dumps(copy, ensure_ascii=False)]) + "\n", encoding="utf-8")
    index_dir = folder / "index"
    reindex([str(corpus)], index_dir)
    return index_dir


def test_copies_of_the_article_and_of_each_other_are_left_out(index_with_copy: Path):
    with open_store(index_with_copy) as store:
        assert "copy-003" not in ids(related(store, "demo-003", limit=20))
        found = ids(related(store, "demo-001", limit=20))
        assert len({"demo-003", "copy-003"} & set(found)) == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (5, None)),
        ({"limit": ["20"], "before": [""]}, (20, None)),
        ({"before": ["2024-09-07"]}, (5, datetime(2024, 9, 7, tzinfo=VIETNAM))),
    ],
)
def test_params(params, expected):
    assert related_params(params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"limit": ["0"]},
        {"limit": ["21"]},
        {"limit": ["x"]},
        {"limit": ["99999999999999999999"]},
        {"limit": ["0020"]},
        {"limit": ["+5"]},
        {"limit": ["1", "2"]},
        {"before": ["2024-13-01"]},
        {"before": ["yesterday"]},
    ],
)
def test_bad_params_are_query_errors(params):
    with pytest.raises(QueryError):
        related_params(params)


def test_api_answers_related_articles(client):
    response = client.get("/api/articles/demo-001/related?limit=3")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "demo-001"
    assert len(body["related"]) == 3
    assert set(body["related"][0]) == {"id", "title", "url", "published", "category", "source", "score"}


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/articles/no-such/related", 404, "not_found"),
        ("/api/articles/demo-001/related?limit=0", 400, "invalid_parameter"),
        ("/api/articles/demo-001/related?before=2024-02-30", 400, "invalid_parameter"),
    ],
)
def test_api_errors(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_article_page_lists_related_articles(client):
    page = client.get("/articles/demo-001").get_data(as_text=True)
    assert "Bài liên quan" in page
    assert 'href="/articles/demo-003"' in page


def test_cli_prints_the_api_answer(demo_index_dir):
    from click.testing import CliRunner

    from searchsvc.cli import main

    runner = CliRunner()
    as_json = runner.invoke(
        main, ["related", "demo-001", "--limit", "3", "--json", "--index-dir", str(demo_index_dir)]
    )
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert (body["id"], len(body["related"])) == ("demo-001", 3)
    table = runner.invoke(main, ["related", "demo-001", "--index-dir", str(demo_index_dir)])
    assert table.output.splitlines()[0].startswith("5 related to demo-001 (by ")
    assert any(
        "demo-003  Sau bão, Hà Nội dọn dẹp hàng trăm cây xanh gãy đổ" in line
        for line in table.output.splitlines()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["related", "nope"], "error: no article with id 'nope'"),
        (["related", "demo-001", "--limit", "0"], "error: 'limit' must be an integer from 1 to 20, got '0'"),
    ],
)
def test_cli_errors_are_one_line(demo_index_dir, args, message):
    from click.testing import CliRunner

    from searchsvc.cli import main

    result = CliRunner().invoke(main, [*args, "--index-dir", str(demo_index_dir)])
    assert result.exit_code == 1
    assert result.output.strip() == message
