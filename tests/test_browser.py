"""A real browser (Debian's chromium through Playwright) on the search page of the demo index."""

from __future__ import annotations

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
    page.get_by_role("link", name="Năm 2024: ").click()
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
