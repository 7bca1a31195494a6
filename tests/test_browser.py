"""A real browser (Debian's chromium through Playwright) on the search page of the demo index."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from searchsvc.web import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not CHROMIUM.is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def base_url(demo_settings) -> Iterator[str]:
    """Serve the demo app with Werkzeug's threaded server on a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(demo_settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Launch headless chromium."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page_errors() -> list[str]:
    """Collect console errors (a CSP violation shows up here) and uncaught exceptions."""
    return []


def open_page(browser, page_errors: list[str], width: int = 1280, height: int = 900):
    """Open a new page of ``width`` x ``height`` that records errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda msg: page_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    return page


def wait_until(condition, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Poll ``condition`` (string predicates would need 'unsafe-eval', which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def query(page) -> dict[str, list[str]]:
    """Return the parsed query string of the page's URL."""
    return parse_qs(urlsplit(page.url).query)


def hit_categories(page) -> list[str]:
    """Return the category of every visible result."""
    return page.locator(".hit .hit-category").all_inner_texts()


def test_search_without_accents_then_filter_by_category(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors)
    page.goto(base_url + "/")
    box = page.locator("#q")
    box.click()
    box.press_sequentially("ha noi", delay=30)
    # The autocomplete popup opens as an ARIA combobox, with the accented completion.
    page.locator("#q-suggestions [role=option]").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert page.locator("#q-suggestions [role=option]").first.inner_text() == "Hà Nội"
    box.press_sequentially(" bao", delay=30)
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press("Enter")
    page.wait_for_url("**/?q=ha+noi+bao")
    marks = page.locator(".hit-title mark").all_inner_texts()
    assert "Hà Nội" in marks
    assert "bão" in marks
    results_before = page.locator(".hit").count()
    count_before = page.locator("#result-count").inner_text()
    sources_before = page.locator("[data-facet=source]").inner_text()

    page.get_by_label("Kinh doanh").check()
    page.wait_for_url("**category=Kinh+doanh**")
    wait_until(lambda: page.locator(".hit").count() < results_before)
    assert query(page)["category"] == ["Kinh doanh"]
    assert set(hit_categories(page)) == {"Kinh doanh"}
    assert page.locator("#result-count").inner_text() != count_before
    assert page.locator("[data-facet=source]").inner_text() != sources_before
    assert page.get_by_label("Kinh doanh").is_checked()
    page.screenshot(path=str(ARTIFACTS / "search-desktop.png"), full_page=True)

    page.go_back()
    wait_until(lambda: page.locator(".hit").count() == results_before)
    assert "category" not in query(page)
    assert not page.get_by_label("Kinh doanh").is_checked()
    assert page_errors == []


def test_keyboard_autocomplete_chooses_accented_completion(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/")
    box = page.locator("#q")
    box.click()
    box.press_sequentially("da n", delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for()
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url("**/?q=**")
    assert box.input_value() == "Đà Nẵng"
    assert "Đà Nẵng" in page.locator(".hit-title mark").all_inner_texts()
    assert page_errors == []


def test_year_bar_sets_date_range_and_article_view(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/?q=ha+noi")
    page.get_by_role("link", name="Năm 2024 có 4 bài viết", exact=True).click()
    page.wait_for_url("**date_to=2024-12-31**")
    assert query(page)["date_from"] == ["2024-01-01"]
    assert page.locator("#date_from").input_value() == "2024-01-01"
    page.locator(".hit-title a").first.click()
    page.wait_for_url("**/articles/**")
    assert page.locator("h1").inner_text() != ""
    assert page_errors == []


def test_narrow_screen_has_no_horizontal_scroll(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors, width=375, height=812)
    page.goto(base_url + "/?q=ha+noi+bao")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator("#filters").get_attribute("open") is None  # collapsed on phones
    page.screenshot(path=str(ARTIFACTS / "search-375.png"), full_page=True)
    page.locator("#filters summary").click()
    page.screenshot(path=str(ARTIFACTS / "search-375-filters.png"), full_page=True)
    assert page_errors == []


def names_missing_their_text(page) -> list[str]:
    """Return the controls whose aria-label does not contain their visible text (axe label-content-name-mismatch)."""
    pairs = page.locator(
        "a[aria-label], button[aria-label], input[aria-label], select[aria-label]"
    ).evaluate_all("els => els.map(e => [e.getAttribute('aria-label'), e.innerText])")
    return [label for label, text in pairs if " ".join(text.split()).lower() not in label.lower()]


VISIBLE_TEXT = """e => Array.from(e.querySelectorAll('.bar-label, .count'))
    .map(part => Array.from(part.childNodes).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.data).join(''))"""


def test_date_bars_are_named_by_their_visible_text(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/?q=ha+noi")
    bars = page.locator(".bar-link")
    assert bars.count() > 5
    for i in range(bars.count()):
        bar = bars.nth(i)
        label, count = bar.evaluate(VISIBLE_TEXT)
        name = re.match(r'- link "([^"]*)"', bar.aria_snapshot()).group(1)
        kind = "Năm" if len(label) == 4 else "Tháng"
        # No aria-label: the name is the visible text with hidden words around it.
        assert (bar.get_attribute("aria-label"), name) == (None, f"{kind} {label} có {count} bài viết")
    assert names_missing_their_text(page) == []
    assert page_errors == []


def test_phone_ticking_a_facet_offers_the_results(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors, width=375, height=812)
    page.goto(base_url + "/?q=ha+noi")
    filters = page.locator("#filters")
    show = page.locator("[data-show-results]")
    assert (filters.get_attribute("open"), show.text_content()) == (None, "Xem 10 kết quả")
    page.locator("#filters summary").click()
    assert show.is_visible()
    page.get_by_label("Kinh doanh").check()
    page.wait_for_url("**category=Kinh+doanh**")
    # The panel stays open for more ticks; the button now offers the filtered results.
    wait_until(lambda: show.inner_text() == "Xem 2 kết quả")
    assert filters.get_attribute("open") is not None
    assert show.is_visible()
    box = show.bounding_box()
    assert box["y"] + box["height"] <= 812  # kept in view at the bottom of the screen
    assert page.locator("#live-status").inner_text().startswith("Tìm thấy 2 bài viết")
    page.screenshot(path=str(ARTIFACTS / "phone-facet-ticked.png"))
    show.click()
    wait_until(lambda: filters.get_attribute("open") is None)
    assert page.evaluate("document.activeElement.id") == "results-heading"
    assert set(hit_categories(page)) == {"Kinh doanh"}
    assert page.get_by_role("link", name="Bỏ lọc Chuyên mục: Kinh doanh").is_visible()
    page.screenshot(path=str(ARTIFACTS / "phone-facet-results.png"))
    assert page_errors == []


def test_dates_in_the_wrong_order_keep_the_page_with_a_message(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors)
    page.goto(base_url + "/?q=ha+noi")
    page.locator("#date_from").fill("2024-12-31")
    page.locator("#date_to").fill("2024-01-01")
    page.get_by_role("button", name="Áp dụng bộ lọc").click()
    page.wait_for_url("**date_to=2024-01-01**")
    message = page.locator("#dates-error")
    message.wait_for()
    assert message.inner_text().startswith("“Từ ngày” đang sau “Đến ngày”")
    assert page.locator("#date_from").get_attribute("aria-invalid") == "true"
    assert page.locator("#date_from").get_attribute("aria-describedby") == "dates-error"
    assert page.locator("#date_from").input_value() == "2024-12-31"  # kept as typed, to correct
    assert page.locator("#q").input_value() == "ha noi"
    assert page.get_by_role("alert").inner_text().startswith("Có tham số không hợp lệ")
    assert page.locator(".hit").count() == 10  # the search ran without the dates
    assert "must" not in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "error-dates-desktop.png"), full_page=True)

    phone = open_page(browser, page_errors, width=375, height=812)
    phone.goto(base_url + "/?q=ha+noi&date_from=2024-12-31&date_to=2024-01-01")
    # On a phone the panel with the field to correct stays open.
    assert phone.locator("#filters").get_attribute("open") is not None
    assert phone.locator("#dates-error").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(ARTIFACTS / "error-dates-375.png"), full_page=True)
    # The page is the normal one, but its status is 400 (the request was invalid); chromium logs that.
    assert [e for e in page_errors if "status of 400 (BAD REQUEST)" not in e] == []


def test_article_keeps_the_query_and_its_tag_link_is_a_removable_chip(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors)
    response = page.goto(base_url + "/?q=ha+noi")
    assert response.all_headers().get("content-encoding") == "gzip"
    page.locator(".hit-title a").first.click()
    page.wait_for_url("**/articles/demo-001?q=ha+noi")
    assert page.locator("#q").input_value() == "ha noi"
    assert page.locator("h1 mark").all_inner_texts() == ["Hà Nội"]
    # "nội thành" in the summary is not a stray match: only "Hà Nội" is marked.
    assert set(page.locator("article mark").all_inner_texts()) == {"Hà Nội"}
    page.screenshot(path=str(ARTIFACTS / "article-marked.png"))
    page.get_by_role("link", name="bão", exact=True).click()
    page.wait_for_url("**/?tag=**")
    chip = page.get_by_role("link", name="Bỏ lọc Thẻ: bão")
    assert chip.is_visible()
    assert [h.split("\n")[0] for h in page.locator(".hit-title").all_inner_texts()] != []
    page.screenshot(path=str(ARTIFACTS / "tag-chip.png"))
    chip.click()
    page.wait_for_url(base_url + "/")
    wait_until(lambda: page.locator(".chip").count() == 0)
    assert page_errors == []


def test_blank_query_sort_and_a_page_past_the_end(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/")
    assert page.locator("#sort option:checked").inner_text() == "Mới nhất"
    assert page.locator("#results-heading").inner_text() == "Bài viết mới nhất"
    page.goto(base_url + "/?q=ha+noi&page=7")
    assert (
        page.locator("#result-count")
        .inner_text()
        .startswith("Trang 7 không có bài viết nào: 10 bài viết chỉ có 1 trang.")
    )
    assert page.locator(".hit").count() == 0
    page.get_by_role("link", name="Xem trang 1").click()
    page.wait_for_url(base_url + "/?q=ha+noi")
    wait_until(lambda: page.locator(".hit").count() == 10)
    stylesheet = page.locator("link[rel=stylesheet]").get_attribute("href")
    assert re.fullmatch(r"/static/style\.css\?v=[0-9a-f]{12}", stylesheet)
    assert page_errors == []


def test_article_page_lists_related_articles_and_the_search_links_its_feed(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/?q=bao")
    feed = page.get_by_role("link", name="Theo dõi (Atom)")
    assert feed.is_visible()
    assert feed.get_attribute("href") == "/feed.atom?q=bao"
    assert page.locator('head link[rel=alternate][type="application/atom+xml"]').get_attribute("href") == (
        "/feed.atom?q=bao"
    )
    page.get_by_label("Thời sự").check()  # the results swap in place: both links follow
    page.wait_for_url("**category=**")
    head_link = 'head link[rel=alternate][type="application/atom+xml"]'
    wait_until(lambda: "category=" in (page.locator(head_link).get_attribute("href") or ""))
    assert page.locator(head_link).count() == 1
    assert feed.get_attribute("href") == "/feed.atom?q=bao&category=Th%E1%BB%9Di+s%E1%BB%B1"
    page.goto(base_url + "/articles/demo-001")
    related = page.get_by_role("region", name="Bài liên quan")
    assert related.is_visible()
    links = related.get_by_role("link")
    assert 1 <= links.count() <= 5
    titles = links.all_inner_texts()
    assert "Sau bão, Hà Nội dọn dẹp hàng trăm cây xanh gãy đổ" in titles
    assert "Hà Nội khẩn trương ứng phó bão số 3, nhiều tuyến phố ngập sâu" not in titles
    page.screenshot(path=str(ARTIFACTS / "related.png"), full_page=True)
    related.get_by_role("link", name="Sau bão, Hà Nội dọn dẹp hàng trăm cây xanh gãy đổ").click()
    page.wait_for_url("**/articles/demo-003")
    assert page.locator("h1").inner_text() == "Sau bão, Hà Nội dọn dẹp hàng trăm cây xanh gãy đổ"


def test_an_abbreviation_finds_the_long_form_and_can_be_turned_off(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/")
    box = page.locator("#q")
    box.click()
    box.press_sequentially("UBND", delay=30)
    box.press("Enter")  # no completion of `UBND` in the demo, so Enter submits (Escape would clear the box)
    page.wait_for_url("**/?q=UBND")
    # No demo article writes `UBND`; those that write `Uỷ ban nhân dân` are found and marked.
    assert page.locator(".hit").count() > 0
    marks = page.locator(".hit mark").all_inner_texts()
    assert "Uỷ ban nhân dân" in marks
    assert "UBND" not in page.locator(".hit").first.inner_text()
    notice = page.locator(".notice.aliases")
    assert notice.inner_text().startswith("Đã tìm cả “UBND” = “Ủy ban Nhân dân”.")
    notice.get_by_role("link", name="Chỉ tìm đúng từ đã gõ").click()
    page.wait_for_url("**aliases=0**")
    assert query(page) == {"q": ["UBND"], "aliases": ["0"]}
    assert page.locator(".hit").count() == 0
    assert page.locator(".notice.aliases").count() == 0
    assert page_errors == []


def test_a_typo_shows_the_corrected_results_with_a_way_back(browser, base_url, page_errors):
    page = open_page(browser, page_errors)
    page.goto(base_url + "/?q=chinh+phuu")
    banner = page.locator(".notice.correction")
    assert banner.inner_text() == "Đang hiển thị kết quả cho chính phủ. Tìm chính xác chinh phuu"
    assert page.locator("#q").input_value() == "chinh phuu"
    assert page.locator(".hit").count() > 0
    assert "chính phủ" in " ".join(page.locator(".hit mark").all_inner_texts()).lower()
    banner.get_by_role("link", name="chinh phuu").click()
    page.wait_for_url("**as_typed=1**")
    assert query(page) == {"q": ["chinh phuu"], "as_typed": ["1"]}
    assert page.locator(".notice.correction").count() == 0
    assert page.locator(".notice.suggestion").inner_text() == "Có phải bạn muốn tìm chính phủ?"


def test_accent_aware_count_and_one_click_to_ignore_accents(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors)
    page.goto(base_url + "/")
    box = page.locator("#q")
    box.fill("bão")
    box.press("Enter")
    page.wait_for_url("**/?q=b%C3%A3o")
    # Typed with marks: only bão counts (not báo, bảo, bao); the rest is one click away.
    assert page.locator("#result-count").inner_text().startswith("Tìm thấy 2 bài viết")
    assert page.locator(".hit").count() == 2
    assert set(page.locator(".hit-title mark").all_inner_texts()) == {"bão"}
    link = page.get_by_role("link", name="Thêm 19 kết quả nếu bỏ qua dấu")
    assert link.is_visible()
    page.screenshot(path=str(ARTIFACTS / "accent-aware.png"), full_page=True)
    link.click()
    page.wait_for_url("**accents=ignore**")
    wait_until(lambda: page.locator(".hit").count() == 10)
    assert query(page)["q"] == ["bão"]
    assert page.locator("#result-count").inner_text().startswith("Tìm thấy 21 bài viết")
    assert page.get_by_role("link", name="Thêm 19 kết quả nếu bỏ qua dấu").count() == 0
    page.get_by_role("link", name="Chỉ tìm đúng dấu đã gõ").click()
    page.wait_for_url(base_url + "/?q=b%C3%A3o")
    wait_until(lambda: page.locator(".hit").count() == 2)
    assert page_errors == []


PHONE = {"width": 390, "height": 844}


def test_phone_a_correction_heads_the_page_above_the_accent_notice(browser, base_url, page_errors):
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/?q=chinh+phuu")
    assert page.locator("#results-heading").inner_text() == "Kết quả cho “chính phủ”"
    correction = page.locator(".notice.correction").bounding_box()
    accents = page.locator(".notice.accent-extra").bounding_box()
    assert correction is not None and accents is not None
    assert correction["y"] + correction["height"] <= accents["y"]
    assert page_errors == []


def test_phone_choosing_newest_explains_the_smaller_count(browser, base_url, page_errors):
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/?q=mien+trung")
    assert page.locator("#result-count").inner_text().startswith("Tìm thấy 5 bài viết")
    page.locator("#sort").select_option("newest")
    page.wait_for_url("**sort=newest**")
    notice = page.locator(".notice.topic-narrowed")
    assert notice.inner_text().startswith(
        "Khi xếp theo ngày, chỉ hiện bài có các từ đứng liền nhau (2 trong 5 bài)."
    )
    page.get_by_role("link", name="Xem cả 5 bài, xếp theo mức độ liên quan").click()
    page.wait_for_url(base_url + "/?q=mien+trung")
    assert page.locator("#result-count").inner_text().startswith("Tìm thấy 5 bài viết")
    assert page_errors == []


TAP = 44  # px: the smallest tap target on a phone


def box_of(locator) -> dict[str, float]:
    """Return an element's box, asserting it is rendered."""
    box = locator.bounding_box()
    assert box is not None
    return box


def assert_tappable(locator, width: bool = True) -> None:
    """Assert every element matched is at least 44 px high (and wide, unless ``width`` is False)."""
    assert locator.count() > 0
    for element in locator.all():
        box = box_of(element)
        assert box["height"] >= TAP - 0.5, (element.inner_text(), box)
        if width:
            assert box["width"] >= TAP - 0.5, (element.inner_text(), box)


def test_phone_tap_targets_are_at_least_44_px(browser, base_url, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/?q=&per_page=5")
    assert_tappable(page.locator(".filters-summary"), width=False)
    page.locator(".filters-summary").click()  # closed on phones until asked for
    assert_tappable(page.locator(".facet[data-facet] label"), width=False)
    for label in page.locator(".facet[data-facet] label").all():
        outer, inner = box_of(label), box_of(label.locator("input"))
        # The box sits inside its label, so a tap anywhere on the 44 px row ticks it.
        assert outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
        assert outer["width"] >= TAP
    assert_tappable(page.locator(".pagination a, .pagination span.disabled"))
    assert_tappable(page.locator("#sort"))
    assert_tappable(page.locator("#feed-link"))
    page.screenshot(path=str(ARTIFACTS / "phone-tap-targets.png"), full_page=True)
    box = page.locator("#q")
    box.click()
    box.press_sequentially("ha", delay=30)
    page.locator("#q-suggestions [role=option]").first.wait_for()
    assert_tappable(page.locator("#q-suggestions [role=option]"))
    assert page_errors == []


def test_phone_placeholder_fits_the_search_box(browser, base_url, page_errors):
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/")
    room, text = page.locator("#q").evaluate(
        """input => {
            const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            return [input.clientWidth - padding, context.measureText(input.placeholder).width];
        }"""
    )
    assert text <= room


def test_phone_long_facet_lists_show_the_top_rows_and_more_without_script(
    browser, base_url, page_errors, monkeypatch
):
    from searchsvc.web import pages

    monkeypatch.setattr(pages, "FACET_SHOWN", 3)
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/?q=")
    page.locator(".filters-summary").click()
    categories = page.locator("[data-facet=category]")
    more = categories.locator("details.facet-more")
    hidden = more.locator("input")
    assert categories.locator("input:visible").count() == 3
    assert hidden.count() > 0 and not hidden.first.is_visible()
    summary = more.locator("summary")
    assert summary.inner_text() == f"Xem thêm {hidden.count()} mục"
    assert_tappable(summary, width=False)
    summary.click()
    assert hidden.first.is_visible()
    value = hidden.first.get_attribute("value")
    hidden.first.check()
    page.get_by_role("button", name="Áp dụng bộ lọc").click()
    page.wait_for_url("**category=**")
    if not page.locator("#filters").get_attribute("open"):
        page.locator(".filters-summary").click()
    # A ticked row is never hidden behind "Xem thêm".
    assert page.locator(f"[data-facet=category] > ul input[value='{value}']").is_checked()
    assert page_errors == []


def test_phone_result_count_has_no_timing_and_the_feed_link_stays_on_one_line(browser, base_url, page_errors):
    page = open_page(browser, page_errors, **PHONE)
    page.goto(base_url + "/?q=ha+noi")
    count = page.locator("#result-count").inner_text()
    assert "ms" not in count and count.startswith("Tìm thấy 10 bài viết")
    feed = page.get_by_role("link", name="Theo dõi (Atom)")
    assert feed.evaluate("link => link.getClientRects().length") == 1  # not wrapped onto two lines
    assert (
        page.locator("footer").inner_text()
        == "Tìm kiếm không phân biệt dấu: gõ ha noi vẫn tìm thấy “Hà Nội”."
    )
    page.goto(base_url + "/?q=xyzzyqwv")
    assert page.locator("#feed-link").count() == 0
    assert page_errors == []
