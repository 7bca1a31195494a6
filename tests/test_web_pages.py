"""The browser pages: rendering helpers, the search page, the article view, escaping, no inline code."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from searchsvc.web import create_app
from searchsvc.web.pages import date_bars, marked_html, month_range, url_with, vietnam_time


@pytest.fixture(scope="module")
def app(demo_settings):
    """Return the app serving the demo index."""
    return create_app(demo_settings)


@pytest.fixture()
def client(app):
    """Return a test client of the demo app."""
    return app.test_client()


def page(client, url: str, status: int = 200) -> str:
    """Return the HTML of ``url``, checking its status."""
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def query_of(url: str) -> list[tuple[str, str]]:
    """Return the decoded query pairs of a URL."""
    return parse_qsl(urlsplit(url).query)


@pytest.mark.parametrize(
    ("core_html", "expected"),
    [
        ("<mark>Hà</mark> <mark>Nội</mark> ngập", "<mark>Hà</mark> <mark>Nội</mark> ngập"),
        ("Bộ TT&amp;TT", "Bộ TT&amp;TT"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<script>alert(1)</script> <mark>x</mark>", "&lt;script&gt;alert(1)&lt;/script&gt; <mark>x</mark>"),
        ("&lt;mark&gt;giả&lt;/mark&gt;", "&lt;mark&gt;giả&lt;/mark&gt;"),
        ('<mark onclick="x">a</mark>', "&lt;mark onclick=&#34;x&#34;&gt;a</mark>"),
        ("hà <em>nội</em>", "hà <em>nội</em>"),
        ("", ""),
        (None, ""),
    ],
)
def test_marked_html_keeps_only_mark_and_em(core_html, expected):
    assert str(marked_html(core_html)) == expected


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        ("2024-09-07T08:30:00+07:00", "07/09/2024 08:30"),
        ("2024-09-07T01:30:00+00:00", "07/09/2024 08:30"),
        ("2024-12-31T18:05:00Z", "01/01/2025 01:05"),
        ("2024-09-07T08:30:00", "07/09/2024 08:30"),
        (None, ""),
        ("không rõ", "không rõ"),
    ],
)
def test_vietnam_time(published, shown):
    assert vietnam_time(published) == shown


@pytest.mark.parametrize(
    ("month", "days"),
    [
        ("2024-02", ("2024-02-01", "2024-02-29")),
        ("2023-02", ("2023-02-01", "2023-02-28")),
        ("2024-12", ("2024-12-01", "2024-12-31")),
    ],
)
def test_month_range(month, days):
    assert month_range(month) == days


def test_url_with_replaces_keeps_repeats_and_resets_page():
    args = MultiDict(
        [("q", "hà nội"), ("category", "Thời sự"), ("category", "Văn hóa"), ("page", "3"), ("sort", "")]
    )
    assert query_of(url_with(args, sort="newest")) == [
        ("q", "hà nội"),
        ("category", "Thời sự"),
        ("category", "Văn hóa"),
        ("sort", "newest"),
    ]
    assert query_of(url_with(args, category=None)) == [("q", "hà nội")]
    assert url_with(MultiDict()) == "/"


def test_date_bars_link_to_year_and_month_ranges():
    values = [SimpleNamespace(value="2024-11", count=4), SimpleNamespace(value="2024-02", count=1)]
    bars = date_bars("month", values, MultiDict([("q", "bão")]))
    assert [(b.label, b.count, b.step) for b in bars] == [("02/2024", 1, 5), ("11/2024", 4, 20)]
    assert query_of(bars[0].url) == [("q", "bão"), ("date_from", "2024-02-01"), ("date_to", "2024-02-29")]
    years = date_bars("year", [SimpleNamespace(value="2024", count=7)], MultiDict())
    assert query_of(years[0].url) == [("date_from", "2024-01-01"), ("date_to", "2024-12-31")]


def test_search_page_has_vietnamese_interface(client):
    html = page(client, "/?q=ha+noi+bao")
    for label in ["Tìm kiếm", "Chuyên mục", "Nguồn", "Thời gian", "Từ ngày", "Đến ngày", "Sắp xếp"]:
        assert f">{label}<" in html
    for label in ["Liên quan nhất", "Mới nhất", "Cũ nhất"]:
        assert f">{label}</option>" in html
    assert '<html lang="vi">' in html


def test_search_page_highlights_accented_words(client):
    html = page(client, "/?q=ha+noi+bao")
    assert "<mark>Hà Nội</mark> khẩn trương ứng phó <mark>bão</mark>" in html
    assert 'href="/articles/demo-001"' in html
    assert 'href="/articles/demo-003"' in html
    assert "07/09/2024" in html  # demo-001, in Vietnam time


def test_search_page_keeps_state_in_form(client):
    html = page(client, "/?q=b%C3%A3o&category=Th%E1%BB%9Di+s%E1%BB%B1&sort=newest&date_from=2018-01-01")
    assert 'value="bão"' in html
    assert re.search(r'name="category" value="Thời sự" id="[^"]+" checked', html)
    assert '<option value="newest" selected>' in html
    assert 'id="date_from" name="date_from" form="search-form" value="2018-01-01"' in html


def test_selected_facet_value_without_results_stays_visible(client):
    html = page(client, "/?q=ha+noi+bao&category=Th%E1%BB%83+thao")
    assert re.search(r'name="category" value="Thể thao" id="[^"]+" checked', html)


def test_facets_have_counts_and_date_histograms(client):
    html = page(client, "/")
    assert re.search(r">Thời sự <span class=\"count\">10</span>", html)
    assert re.search(r">VnExpress <span class=\"count\">12</span>", html)
    assert 'aria-label="Năm 2024: 7 bài viết"' in html
    assert "date_from=2024-01-01&amp;date_to=2024-12-31" in html
    assert "Theo tháng" in html


def test_empty_query_lists_newest_with_pagination(client):
    html = page(client, "/")
    assert "Bài viết mới nhất" in html
    assert 'rel="next">Trang sau</a>' in html
    assert 'aria-disabled="true">Trang trước<' in html
    second = page(client, "/?page=2")
    assert 'href="/" rel="prev">Trang trước</a>' in second
    assert 'aria-current="page" class="current">2<' in second


def test_empty_state(client):
    html = page(client, "/?q=zzqxj+wvkyy")
    assert "Không tìm thấy bài viết nào cho “zzqxj wvkyy”" in html


def test_telex_reading_is_announced(client):
    html = page(client, "/?q=haf+nooij")
    assert "theo kiểu gõ Telex" in html
    assert "Hà Nội" in html


def test_invalid_parameter_page_is_400_html(client):
    html = page(client, "/?page=0", status=400)
    assert "Yêu cầu tìm kiếm không hợp lệ" in html
    assert "&#39;page&#39; must be between 1 and 1000, got 0" in html


def test_article_page_escapes_body_text(client):
    html = page(client, "/articles/demo-016")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_article_page_shows_meta_and_source_link(client):
    html = page(client, "/articles/demo-001")
    assert "<h1>Hà Nội khẩn trương ứng phó bão số 3, nhiều tuyến phố ngập sâu</h1>" in html
    assert "07/09/2024" in html
    assert 'rel="noopener noreferrer nofollow">Xem bài gốc trên Tuổi Trẻ</a>' in html


def test_unknown_article_page_is_404_html(client):
    html = page(client, "/articles/demo-999", status=404)
    assert "Không tìm thấy trang" in html


@pytest.mark.parametrize("url", ["/", "/?q=ha+noi", "/articles/demo-016", "/nope", "/?page=0"])
def test_pages_have_no_inline_script_or_style(client, url):
    html = client.get(url).get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html
    assert "<style" not in html
    assert re.findall(r"<[^>]*\son[a-z]+=", html) == []


NASTY_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["0", "-1", "2024-02-30", "9999-99-99", "%zz", "\x00", "<script>", "popular"]),
    st.integers(min_value=16_000, max_value=30_000).map(lambda n: "a" * n),
)


@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["q", "page", "per_page", "sort", "category", "source", "date_from", "date_to"]),
            NASTY_VALUES,
        ),
        max_size=5,
    )
)
def test_search_page_never_fails(client, pairs):
    response = client.get("/", query_string=pairs)
    assert response.status_code in {200, 400, 413}
    assert response.mimetype == "text/html"
    assert "<script>" not in response.get_data(as_text=True).replace("<script src=", "")
