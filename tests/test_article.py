"""The public form of a stored article: one ``article_view`` for the API, the pages and related articles."""

from __future__ import annotations

import numpy as np

from searchsvc.article import article_view


def test_article_view_lists_every_public_field_in_order():
    stored = {
        "id": "a1",
        "title": "Hà Nội",
        "body": "Mưa lớn.",
        "url": "https://example.vn/a1",
        "summary": "Tóm tắt",
        "author": "Minh",
        "published": "2024-09-07T08:30:00+07:00",
        "category": "Thời sự",
        "source": "Tuổi Trẻ",
        "tags": ("bão",),
        "title_x": "not public",
    }
    assert article_view(stored) == {
        "id": "a1",
        "url": "https://example.vn/a1",
        "title": "Hà Nội",
        "summary": "Tóm tắt",
        "body": "Mưa lớn.",
        "author": "Minh",
        "published": "2024-09-07T08:30:00+07:00",
        "category": "Thời sự",
        "source": "Tuổi Trẻ",
        "tags": ["bão"],
    }
    order = ["id", "url", "title", "summary", "body", "author", "published", "category", "source", "tags"]
    assert list(article_view(stored)) == order


def test_article_view_of_a_bare_article_fills_the_defaults():
    assert article_view({"id": "a2"}) == {
        "id": "a2",
        "url": None,
        "title": "",
        "summary": None,
        "body": "",
        "author": None,
        "published": None,
        "category": None,
        "source": None,
        "tags": [],
    }


def test_the_api_serves_article_view_of_the_stored_fields(store, client):
    for docnum in np.nonzero(store.columns.live)[0].tolist()[:10]:
        view = article_view(store.stored(docnum))
        assert client.get(f"/api/articles/{view['id']}").get_json() == view
