"""The Atom feed of a search, read back with a real feed parser."""

from __future__ import annotations

from dataclasses import replace

import pytest

from searchsvc.messages import Highlights, Hit, SearchResponse
from searchsvc.web import STORE_KEY, create_app
from searchsvc.web.feed import atom_feed, feed_params, feed_query

feedparser = pytest.importorskip("feedparser", reason="pip install feedparser (a test dependency)")


def parse(body: bytes):
    """Parse an Atom document, failing on anything the parser calls malformed."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_feed_of_a_search_is_valid_atom_newest_first(client):
    response = client.get("/feed.atom?q=ha+noi")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = parse(response.data)
    assert feed.feed.title == "Tìm kiếm: ha noi"
    assert feed.feed.links[0].href.endswith("/feed.atom?q=ha+noi")
    dated = [e.published for e in feed.entries if "published" in e]
    assert len(dated) >= 3
    assert dated == sorted(dated, reverse=True)
    first = feed.entries[0]
    # No server.public_url: the bound address of the settings, not the client's Host.
    assert first.link.startswith("http://127.0.0.1:8000/articles/demo-")
    assert first.id == first.link
    assert "<mark>" not in first.summary


def test_feed_takes_the_search_filters(client):
    feed = parse(client.get("/feed.atom?category=Th%E1%BB%83+thao&per_page=3&sort=oldest&page=9").data)
    assert len(feed.entries) == 3
    assert {e.tags[0].term for e in feed.entries} == {"Thể thao"}


def test_blank_search_feeds_the_newest_articles(client):
    feed = parse(client.get("/feed.atom").data)
    assert feed.feed.title == "Bài viết mới nhất"
    assert feed.entries[0].link == "http://127.0.0.1:8000/articles/demo-041"  # 2026-06-02, the newest


def test_bad_parameter_is_a_json_error(client):
    response = client.get("/feed.atom?per_page=0")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_control_characters_and_markup_in_titles_stay_well_formed():
    hit = Hit(
        id="x/1 ?",
        title="Bão <số 3> & \x01 \ud800 “lũ”",
        url="javascript:alert(1)",
        published=None,
        category="Thời sự",
        source=None,
        author="A & B",
        score=1.0,
        highlights=Highlights("", "Mưa &lt;to&gt; <mark>lũ</mark>"),
    )
    response = SearchResponse("bão", 1, 1, 20, 1.0, (hit,), {})
    feed = parse(atom_feed(response, "https://tin.example", "q=b%C3%A3o"))
    entry = feed.entries[0]
    assert entry.title == "Bão <số 3> &  \ufffd “lũ”"
    assert entry.link == "https://tin.example/articles/x%2F1%20%3F"
    assert [link.rel for link in entry.links] == ["alternate"]  # no javascript: link
    assert entry.summary == "Mưa &lt;to&gt; lũ"
    assert entry.author == "A & B"


def test_feed_params_and_query():
    params = feed_params({"q": ["x"], "sort": ["oldest"], "page": ["3"]})
    assert params == {"q": ["x"], "sort": ["newest"], "per_page": ["20"]}
    assert feed_query([("q", "hà nội"), ("page", "2"), ("category", ""), ("tag", "a")]) == (
        "q=h%C3%A0+n%E1%BB%99i&tag=a"
    )


def test_search_page_links_its_feed(client):
    page = client.get("/?q=ha+noi&page=2").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feed.atom?q=ha+noi"' in page
    assert ">Theo dõi (Atom)</a>" in page


@pytest.fixture()
def app_with(demo_settings):
    """Return a factory of apps on the demo index with some ``server`` settings changed."""
    made = []

    def make(**server):
        app = create_app(replace(demo_settings, server=replace(demo_settings.server, **server)))
        made.append(app)
        return app.test_client()

    yield make
    for app in made:
        app.extensions[STORE_KEY].close()


def feed_urls(response) -> list[str]:
    """Return every URL of a feed: its id and links, and its entries' ids and links."""
    feed = parse(response.data)
    urls = [feed.feed.id, *(link.href for link in feed.feed.links)]
    for entry in feed.entries:
        urls += [entry.id, *(link.href for link in entry.links if link.rel != "via")]
    return urls


FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


def test_feed_links_never_come_from_the_client_host(client):
    urls = feed_urls(client.get("/feed.atom?q=ha", headers=FORGED))
    assert urls[0] == "http://127.0.0.1:8000/feed.atom?q=ha"
    assert all(url.startswith("http://127.0.0.1:8000/") for url in urls)


def test_feed_links_start_with_the_public_url(app_with):
    client = app_with(public_url="https://tin.example/tim/")
    urls = feed_urls(client.get("/feed.atom?q=ha", headers=FORGED))
    assert urls[:3] == [
        "https://tin.example/tim/feed.atom?q=ha",
        "https://tin.example/tim/feed.atom?q=ha",
        "https://tin.example/tim/?q=ha",
    ]
    assert all(url.startswith("https://tin.example/tim/") for url in urls)


def test_proxy_headers_count_only_from_a_trusted_proxy(app_with):
    # The test client's peer is 127.0.0.1.
    trusted = app_with(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    headers = {"X-Forwarded-Host": "tin.example", "X-Forwarded-Proto": "https"}
    assert (
        feed_urls(trusted.get("/feed.atom?q=ha", headers=headers))[0] == "https://tin.example/feed.atom?q=ha"
    )
    untrusted = app_with(trusted_proxies="10.0.0.0/8")
    urls = feed_urls(untrusted.get("/feed.atom?q=ha", headers=headers))
    assert urls[0] == "http://127.0.0.1:8000/feed.atom?q=ha"
