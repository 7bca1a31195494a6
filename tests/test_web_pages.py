"""The browser pages: rendering helpers, the search page, the article view, escaping, no inline code."""

from __future__ import annotations

import gzip
import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from searchsvc.config import SearchSettings
from searchsvc.messages import SEARCH_PARAMETERS
from searchsvc.web.errors import SECURITY_HEADERS
from searchsvc.web.pages import (
    Chip,
    Problem,
    date_bars,
    filter_chips,
    marked_html,
    month_range,
    parameter_problems,
    url_with,
    vietnam_time,
    without_problems,
)


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
    # The article link carries the query, so the article page keeps it and marks its words.
    assert 'href="/articles/demo-001?q=ha+noi+bao"' in html
    assert 'href="/articles/demo-003?q=ha+noi+bao"' in html
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
    assert re.search(r">Thời sự</span> <span class=\"count\">10</span>", html)
    assert re.search(r">VnExpress</span> <span class=\"count\">12</span>", html)
    # The bar's accessible name is its visible text with hidden words: "Năm 2024 có 7 bài viết".
    assert (
        '<span class="bar-label"><span class="visually-hidden">Năm </span>2024</span>'
        '<span class="bar" aria-hidden="true"><span class="bar-fill w20"></span></span>'
        '<span class="count"><span class="visually-hidden">có </span>7'
        '<span class="visually-hidden"> bài viết</span></span>'
    ) in html
    assert re.findall(r'class="bar-link[^>]*aria-label', html) == []
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


LIMITS = SearchSettings()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": ["bão"], "page": ["2"], "date_from": ["2024-01-01"]}, []),
        (
            {"page": ["0"]},
            [Problem(("page",), None, "Số trang phải là một số từ 1 đến 1000; đang hiển thị trang 1.")],
        ),
        (
            {"sort": ["popular"], "per_page": ["٣"]},
            [
                Problem(
                    ("per_page",),
                    None,
                    "Số bài mỗi trang phải là một số từ 1 đến 100; đang hiển thị 10 bài mỗi trang.",
                ),
                Problem(("sort",), "sort", "Cách sắp xếp không hợp lệ; đang dùng cách sắp xếp mặc định."),
            ],
        ),
        (
            {"date_from": ["2024-12-31"], "date_to": ["2024-01-01"]},
            [
                Problem(
                    ("date_from", "date_to"),
                    "dates",
                    "“Từ ngày” đang sau “Đến ngày”: hãy đổi lại. Kết quả dưới đây chưa lọc theo thời gian.",
                )
            ],
        ),
        (
            {"date_from": ["07/09/2024"], "date_to": ["2024-01-01"]},
            [
                Problem(
                    ("date_from",),
                    "dates",
                    "“Từ ngày” không phải một ngày hợp lệ (năm-tháng-ngày, ví dụ 2024-09-07); "
                    "chưa lọc theo ngày này.",
                )
            ],
        ),
        (
            {"q": ["hà nội", "bão"]},
            [Problem(("q",), "q", "Địa chỉ có nhiều câu tìm kiếm; chỉ câu đầu tiên được dùng.", ("hà nội",))],
        ),
    ],
)
def test_parameter_problems_name_the_field_in_vietnamese(params, expected):
    assert parameter_problems(params, LIMITS) == expected


def test_without_problems_leaves_out_only_the_invalid_parameters():
    args = MultiDict([("q", "a"), ("q", "b"), ("date_from", "x"), ("tag", "bão"), ("page", "0")])
    problems = parameter_problems(args.to_dict(flat=False), LIMITS)
    assert list(without_problems(args, problems).items(multi=True)) == [("tag", "bão"), ("q", "a")]


def test_invalid_page_gives_the_normal_page_with_a_vietnamese_message(client):
    html = page(client, "/?q=ha+noi&page=0", status=400)
    assert 'value="ha noi"' in html
    assert "Có tham số không hợp lệ trong địa chỉ trang:" in html
    assert "Số trang phải là một số từ 1 đến 1000; đang hiển thị trang 1." in html
    assert html.count('<li class="hit">') == 10
    assert "must be" not in html


def test_dates_in_the_wrong_order_are_shown_beside_the_date_fields(client):
    html = page(client, "/?q=b%C3%A3o&date_from=2024-12-31&date_to=2024-01-01", status=400)
    assert 'value="bão"' in html
    assert (
        'id="date_from" name="date_from" form="search-form" value="2024-12-31" aria-invalid="true" '
        'aria-describedby="dates-error">'
    ) in html
    assert 'value="2024-01-01" aria-invalid="true" aria-describedby="dates-error">' in html
    assert re.search(r'<p class="field-error" id="dates-error">“Từ ngày” đang sau “Đến ngày”', html)
    assert '<a href="#date_from">Sửa ngày</a>' in html
    assert '<li class="hit">' in html  # the search ran without the dates
    assert "(đang lọc)" not in html  # and does not claim a filter
    assert "is after" not in html


def test_invalid_sort_is_shown_beside_the_sort_field(client):
    html = page(client, "/?q=ha+noi&sort=popular", status=400)
    assert (
        '<select id="sort" name="sort" form="search-form" aria-invalid="true" aria-describedby="sort-error">'
        in html
    )
    assert '<p class="field-error" id="sort-error">Cách sắp xếp không hợp lệ' in html
    assert '<option value="relevance" selected>Liên quan nhất</option>' in html


def test_repeated_query_searches_the_first(client):
    html = page(client, "/?q=ha+noi&q=bao", status=400)
    assert 'value="ha noi"' in html
    assert '<p id="q-error" class="field-error">Địa chỉ có nhiều câu tìm kiếm' in html
    assert 'aria-describedby="q-hint q-error"' in html
    assert "Kết quả cho “ha noi”" in html


def test_filter_chips_remove_one_filter_each():
    args = MultiDict(
        [
            ("q", "bão"),
            ("tag", "bão"),
            ("tag", "Hà Nội"),
            ("category", "Thời sự"),
            ("date_from", "2024-01-01"),
        ]
    )
    assert filter_chips(args) == [
        Chip(
            "Chuyên mục", "Thời sự", "/?q=b%C3%A3o&tag=b%C3%A3o&tag=H%C3%A0+N%E1%BB%99i&date_from=2024-01-01"
        ),
        Chip(
            "Thẻ",
            "bão",
            "/?q=b%C3%A3o&category=Th%E1%BB%9Di+s%E1%BB%B1&date_from=2024-01-01&tag=H%C3%A0+N%E1%BB%99i",
        ),
        Chip(
            "Thẻ", "Hà Nội", "/?q=b%C3%A3o&category=Th%E1%BB%9Di+s%E1%BB%B1&date_from=2024-01-01&tag=b%C3%A3o"
        ),
        Chip(
            "Thời gian",
            "từ 01/01/2024",
            "/?q=b%C3%A3o&tag=b%C3%A3o&tag=H%C3%A0+N%E1%BB%99i&category=Th%E1%BB%9Di+s%E1%BB%B1",
        ),
    ]
    assert filter_chips(MultiDict([("q", "x"), ("date_to", "2024-02-29"), ("author", " ")])) == [
        Chip("Thời gian", "đến 29/02/2024", "/?q=x&author=+")
    ]


def test_tag_filter_from_an_article_is_a_removable_chip(client):
    article = page(client, "/articles/demo-001")
    assert '<a href="/?tag=b%C3%A3o">bão</a>' in article
    html = page(client, "/?tag=b%C3%A3o")
    assert (
        '<a class="chip" href="/"><span class="visually-hidden">Bỏ lọc </span>Thẻ: <strong>bão</strong>'
        '<span class="chip-remove" aria-hidden="true">×</span></a>'
    ) in html
    assert "Tìm thấy 1 bài viết" in html


def test_page_past_the_end_says_so_without_claiming_results(client):
    html = page(client, "/?q=ha+noi&page=7")
    assert "Trang 7 không có bài viết nào: 10 bài viết chỉ có 1 trang." in html
    assert '<a href="/?q=ha+noi">Xem trang 1</a>' in html
    for claim in ("Tìm thấy", "hiển thị", "Không tìm thấy bài viết nào", '<li class="hit">'):
        assert claim not in html
    last = page(client, "/?page=9")  # 48 demo articles: 5 pages
    assert ('<a href="/?page=5" rel="prev">Trang trước</a>' in last, "Xem trang 5 (trang cuối)" in last) == (
        True,
        True,
    )


@pytest.mark.parametrize("url", ["/", "/?sort=relevance", "/?sort=newest", "/?q=+"])
def test_blank_query_sort_says_newest(client, url):
    html = page(client, url)
    assert '<option value="" selected>Mới nhất</option>' in html
    assert '<option value="oldest">Cũ nhất</option>' in html
    assert "Liên quan nhất" not in html
    assert "Bài viết mới nhất" in html


def test_blank_query_oldest_first(client):
    html = page(client, "/?sort=oldest")
    assert '<option value="oldest" selected>Cũ nhất</option>' in html
    assert "Bài viết cũ nhất" in html


def test_article_page_keeps_the_query_and_marks_its_words(client):
    html = page(client, "/articles/demo-001?q=ha+noi")
    assert 'id="q" name="q" type="search" value="ha noi"' in html
    assert "<h1><mark>Hà Nội</mark> khẩn trương ứng phó bão số 3, nhiều tuyến phố ngập sâu</h1>" in html
    # "nội thành" is a stray syllable where the article has "Hà Nội": not marked.
    assert "tuyến phố ở nội thành <mark>Hà Nội</mark> ngập sâu" in html
    assert '<a href="/?q=ha+noi">← Quay lại kết quả tìm kiếm</a>' in html
    plain = page(client, "/articles/demo-001")
    assert "<mark>" not in plain


def test_telex_query_reaches_the_article_as_read(client):
    html = page(client, "/?q=haf+nooij")
    assert re.search(r'href="/articles/demo-\d+\?q=h%C3%A0\+n%E1%BB%99i"', html)


def gunzip(response) -> bytes:
    """Return the body of a response, decompressed when it is gzip."""
    data = response.get_data()
    return gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data


@pytest.mark.parametrize(
    "url", ["/?q=ha+noi", "/api/search?q=ha+noi", "/articles/demo-001", "/api/openapi.json"]
)
def test_responses_are_gzip_when_accepted(client, url):
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert (plain.headers.get("Content-Encoding"), packed.headers["Content-Encoding"]) == (None, "gzip")
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(plain.get_data())
    if url.startswith("/api/search"):
        assert json.loads(gunzip(packed))["hits"] == plain.get_json()["hits"]
    else:
        took = re.compile(rb"\(\d+ ms\)")  # the page says how long the search took
        assert took.sub(b"", gunzip(packed)) == took.sub(b"", plain.get_data())
    for name, value in SECURITY_HEADERS.items():
        assert packed.headers[name] == value


def test_gzip_keeps_the_json_error_shape_and_html_errors(client):
    json_error = client.get("/api/search?page=0", headers={"Accept-Encoding": "gzip"})
    assert json_error.status_code == 400
    assert json.loads(gunzip(json_error)) == {
        "error": {"code": "invalid_parameter", "message": "'page' must be between 1 and 1000, got 0"}
    }
    html_error = client.get("/nope", headers={"Accept-Encoding": "gzip"})
    assert (html_error.status_code, html_error.headers["Content-Encoding"]) == (404, "gzip")
    assert "Không tìm thấy trang" in gunzip(html_error).decode()
    for response in (json_error, html_error):
        assert {name: response.headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "br"])
def test_no_gzip_unless_accepted(client, accept):
    response = client.get("/?q=ha+noi", headers={"Accept-Encoding": accept})
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"


def test_static_files_have_versioned_urls_cached_for_a_year(client):
    html = page(client, "/")
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert [re.sub(r"v=[0-9a-f]{12}$", "v=V", u) for u in urls] == [
        "/static/favicon.svg?v=V",
        "/static/style.css?v=V",
        "/static/search.js?v=V",
    ]
    css = urls[1]
    versioned = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(versioned.get_data()).startswith(b"/* searchsvc search page.")
    for stale in ("/static/style.css", "/static/style.css?v=000000000000"):
        assert client.get(stale).headers["Cache-Control"] == "no-cache"
    etag = versioned.headers["ETag"]
    assert client.get(css, headers={"If-None-Match": etag}).status_code == 304
    for missing in ("/static/nope.css", "/static/../pages.py", "/static/%2e%2e/__init__.py"):
        assert client.get(missing).status_code == 404


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


@pytest.mark.parametrize(
    "url", ["/", "/?q=ha+noi", "/articles/demo-016?q=script", "/nope", "/?page=0", "/?date_from=x&tag=b"]
)
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
            st.sampled_from(SEARCH_PARAMETERS),
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


def test_a_corrected_query_links_its_articles_with_the_corrected_words(client):
    html = client.get("/?q=chinh+phuu").get_data(as_text=True)
    assert "Đang hiển thị kết quả cho" in html
    assert "q=ch%C3%ADnh+ph%E1%BB%A7" in html and "q=chinh+phuu" in html


def test_a_corrected_query_heads_the_page_and_its_notice_comes_first(client):
    html = client.get("/?q=chinh+phuu").get_data(as_text=True)
    heading = re.search(r'<h1 id="results-heading"[^>]*>\s*(.*?)\s*</h1>', html, re.DOTALL)
    assert heading is not None and heading.group(1) == "Kết quả cho “chính phủ”"
    notices = re.findall(r'<p class="notice ([a-z-]+)"', html)
    assert notices[0] == "correction"
    assert "accent-extra" in notices[1:]


def test_a_date_sort_says_it_lists_only_the_words_standing_together(client):
    html = client.get("/?q=mien+trung&sort=newest").get_data(as_text=True)
    notice = re.search(r'<p class="notice topic-narrowed">(.*?)</p>', html, re.DOTALL)
    assert notice is not None
    assert re.sub(r"<[^>]+>", "", notice.group(1)) == (
        "Khi xếp theo ngày, chỉ hiện bài có các từ đứng liền nhau (2 trong 5 bài). "
        "Xem cả 5 bài, xếp theo mức độ liên quan"
    )
    assert 'href="/?q=mien+trung"' in notice.group(1)
    assert "topic-narrowed" not in client.get("/?q=mien+trung").get_data(as_text=True)
    assert "topic-narrowed" not in client.get("/?q=ha+noi&sort=newest").get_data(as_text=True)


def test_the_api_tells_a_narrowed_date_sort_from_the_relevance_set(client):
    narrowed = client.get("/api/search?q=mien+trung&sort=oldest").get_json()
    assert (narrowed["total"], narrowed["topic_narrowed"], narrowed["relevance_total"]) == (2, True, 5)
    wider = client.get("/api/search?q=mien+trung").get_json()
    assert (wider["total"], wider["topic_narrowed"], wider["relevance_total"]) == (5, False, None)


def test_a_long_facet_list_keeps_the_rest_behind_xem_them(client, monkeypatch):
    from searchsvc.web import pages

    monkeypatch.setattr(pages, "FACET_SHOWN", 2)
    html = client.get("/?q=&category=Giáo+dục").get_data(as_text=True)
    facet = re.search(r'data-facet="category">(.*?)</fieldset>', html, re.DOTALL)
    assert facet is not None
    shown, _, more = facet.group(1).partition('<details class="facet-more">')
    shown_values = re.findall(r'name="category" value="([^"]+)"', shown)
    more_values = re.findall(r'name="category" value="([^"]+)"', more)
    # The first two and the ticked one at once, the rest one click away (no script needed).
    assert len(shown_values) == 3 and "Giáo dục" in shown_values
    assert more_values and not set(more_values) & set(shown_values)
    assert f"<summary>Xem thêm {len(more_values)} mục</summary>" in more


def test_readers_see_no_developer_text(client):
    html = page(client, "/?q=ha+noi")
    assert " ms)" not in html
    assert "API JSON" not in html
    assert '<link rel="service-desc" href="/api/openapi.json" type="application/openapi+json">' in html
    assert ">Theo dõi (Atom)</a>" in html
    nothing = page(client, "/?q=xyzzyqwv")
    assert 'id="feed-link"' not in nothing  # no feed to follow for a search that finds nothing


@pytest.mark.parametrize(
    ("url", "description"),
    [
        (
            "/",
            "Tìm tin tức tiếng Việt theo từ khoá, có dấu hay không dấu, lọc theo chuyên mục, nguồn và thời gian.",
        ),
        ("/?q=chinh+phuu", "Kết quả tìm kiếm “chinh phuu”: 4 bài viết (đã sửa thành “chính phủ”)."),
    ],
)
def test_pages_have_a_meta_description(client, url, description):
    found = re.search(r'<meta name="description" content="([^"]*)">', page(client, url))
    assert found is not None and found.group(1) == description


def test_an_article_is_described_by_its_summary(client):
    found = re.search(r'<meta name="description" content="([^"]*)">', page(client, "/articles/demo-001"))
    assert found is not None and 20 < len(found.group(1)) <= 160


def test_the_pager_says_it_shows_only_the_first_pages(demo_settings):
    from dataclasses import replace

    from searchsvc.web import create_app

    settings = replace(demo_settings, search=replace(demo_settings.search, max_page=3))
    client = create_app(settings).test_client()
    html = page(client, "/?q=&per_page=5")
    assert re.findall(r'aria-label="Trang (\d+)"', html) == ["2", "3"]
    capped = re.search(r'<p class="muted pages-capped" id="pages-capped">(.*?)</p>', html)
    assert capped is not None and capped.group(1) == (
        "Chỉ hiện 3 trang đầu trong 10 trang. Hãy thêm từ khoá hoặc bộ lọc để tìm các bài khác."
    )
    assert "pages-capped" not in page(client, "/?q=ha+noi")
