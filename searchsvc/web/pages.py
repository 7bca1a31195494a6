"""The browser pages: the search page ``/`` and the article view ``/articles/<id>``.

Each view builds one data dict from the core's response and hands it to a
template; the URL holds the whole search state, with the API's parameter names.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from searchsvc.config import SearchSettings
from searchsvc.dates import VIETNAM_TZ
from searchsvc.errors import QueryError
from searchsvc.highlight import mark
from searchsvc.messages import SORTS
from searchsvc.params import request_from_params
from searchsvc.search import SearchResponse, query_targets
from searchsvc.text import encodable
from searchsvc.web import TextResponse, current_settings, current_store, run_search
from searchsvc.web.feed import feed_query
from searchsvc.web.tracking import note_click, note_search

bp = Blueprint("pages", __name__)

SORT_LABELS = {"relevance": "Liên quan nhất", "newest": "Mới nhất", "oldest": "Cũ nhất"}
# Without a query the results are by date: "" (the default, no parameter) means newest first.
BLANK_QUERY_SORT_LABELS = {"": "Mới nhất", "oldest": "Cũ nhất"}
CHIP_LABELS = {"category": "Chuyên mục", "source": "Nguồn", "author": "Tác giả", "tag": "Thẻ"}
# Single-valued parameters the page checks one by one, with the core's own rules.
CHECKED_PARAMS = ("q", "page", "per_page", "sort", "date_from", "date_to", "accents")
GENERIC_PROBLEM = "Địa chỉ trang có tham số không hợp lệ."
READING_LABELS = {"telex": "Telex", "vni": "VNI"}
FILTER_PARAMS = ("category", "source", "author", "tag", "date_from", "date_to")
MARK_TAGS = re.compile(r"(</?mark>|</?em>)")
BAR_STEPS = 20
RECENT_MONTHS = 12
PAGE_WINDOW = 2
# Facet rows shown before "Xem thêm": the category list runs to about 40 with event tags.
FACET_SHOWN = 8
RELATED_ON_PAGE = 5


def marked_html(text: str | None) -> Markup:
    """Return core HTML with only ``<mark>``/``<em>`` kept as tags and everything else escaped.

    The core escapes its highlights already; re-escaping each text piece after
    unescaping it makes the page safe even if a highlighter ever forgets to.
    """
    pieces = MARK_TAGS.split(text or "")
    return Markup("").join(
        Markup(piece) if i % 2 else escape(html.unescape(piece)) for i, piece in enumerate(pieces)
    )


def vietnam_time(value: str | datetime | None) -> str:
    """Format a publication time as ``dd/mm/yyyy HH:MM`` in Vietnam time."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TZ)
    return moment.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M")


def iso_time(value: str | datetime | None) -> str:
    """Return a machine-readable time for ``<time datetime>``."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value or ""


def field_id(name: str, value: str) -> str:
    """Return a stable element id for a facet checkbox (kept across result swaps)."""
    return f"f-{name}-" + hashlib.blake2s(value.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()


def url_with(args: MultiDict[str, str], **changes: str | Sequence[str] | None) -> str:
    """Return the search page URL of ``args`` with ``changes`` (None removes); resets the page."""
    changes.setdefault("page", None)
    kept = [(k, v) for k, v in args.items(multi=True) if k not in changes and v != ""]
    for key, value in changes.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        kept.extend((key, v) for v in values)
    return "/?" + urlencode([(k, encodable(v)) for k, v in kept]) if kept else "/"


@dataclass(frozen=True)
class FacetRow:
    """One checkbox of the category or source facet."""

    value: str
    count: int | None
    checked: bool
    id: str


@dataclass(frozen=True)
class Bar:
    """One bar of the date histogram: a link restricting the dates to its year or month."""

    label: str
    value: str
    count: int
    step: int
    url: str
    active: bool


@dataclass(frozen=True)
class PageLink:
    """One link of the pagination."""

    number: int
    url: str
    current: bool


@dataclass(frozen=True)
class Chip:
    """One filter in use, shown above the results as a link that removes it."""

    label: str
    value: str
    url: str


@dataclass(frozen=True)
class Problem:
    """An invalid parameter: what the page did about it and what it tells the reader, in Vietnamese."""

    params: tuple[str, ...]  # the parameters left out of the search
    slot: str | None  # where the message also shows beside its field: "q", "sort", "dates"
    message: str
    kept: tuple[str, ...] = ()  # values still used (the first of a repeated ``q``)


def problem_message(name: str, limits: SearchSettings) -> str:
    """Return what the page tells the reader about an invalid ``name`` parameter."""
    return {
        "q": "Địa chỉ có nhiều câu tìm kiếm; chỉ câu đầu tiên được dùng.",
        "page": f"Số trang phải là một số từ 1 đến {limits.max_page}; đang hiển thị trang 1.",
        "per_page": (
            f"Số bài mỗi trang phải là một số từ 1 đến {limits.max_per_page}; "
            f"đang hiển thị {limits.per_page} bài mỗi trang."
        ),
        "sort": "Cách sắp xếp không hợp lệ; đang dùng cách sắp xếp mặc định.",
        "accents": "Tham số “accents” chỉ nhận match hoặc ignore; đang tìm đúng dấu đã gõ.",
        "date_from": "“Từ ngày” không phải một ngày hợp lệ (năm-tháng-ngày, ví dụ 2024-09-07); "
        "chưa lọc theo ngày này.",
        "date_to": "“Đến ngày” không phải một ngày hợp lệ (năm-tháng-ngày, ví dụ 2024-09-30); "
        "chưa lọc theo ngày này.",
    }[name]


def parameter_problems(params: Mapping[str, Sequence[str]], limits: SearchSettings) -> list[Problem]:
    """Check each single-valued parameter alone with the core's rules, then the date order.

    Checking one at a time tells which field is wrong without reading the
    core's (English) message, so the page can say it in Vietnamese beside that
    field and still search with everything else.
    """
    problems = []
    for name in CHECKED_PARAMS:
        values = list(params.get(name) or [])
        if not values:
            continue
        try:
            request_from_params({name: values}, limits)
        except QueryError:
            slot = {"q": "q", "sort": "sort", "date_from": "dates", "date_to": "dates"}.get(name)
            kept = (values[0],) if name == "q" else ()
            problems.append(Problem((name,), slot, problem_message(name, limits), kept))
    dates = {name: list(params.get(name) or []) for name in ("date_from", "date_to")}
    if all(dates.values()) and not any(set(p.params) & set(dates) for p in problems):
        try:
            request_from_params(dates, limits)
        except QueryError:
            message = "“Từ ngày” đang sau “Đến ngày”: hãy đổi lại. Kết quả dưới đây chưa lọc theo thời gian."
            problems.append(Problem(("date_from", "date_to"), "dates", message))
    return problems


def without_problems(args: MultiDict[str, str], problems: Sequence[Problem]) -> MultiDict[str, str]:
    """Return ``args`` with the invalid parameters left out (or cut to the values still used)."""
    replaced = {name: problem.kept for problem in problems for name in problem.params}
    kept = [(k, v) for k, v in args.items(multi=True) if k not in replaced]
    kept += [(name, value) for name, values in replaced.items() for value in values]
    return MultiDict(kept)


def display_date(value: str) -> str:
    """Return a ``YYYY-MM-DD`` date as ``dd/mm/yyyy``."""
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}"


def filter_chips(args: MultiDict[str, str]) -> list[Chip]:
    """Return a removable chip for every filter in use (a tag from an article's link included)."""
    chips = []
    for name, label in CHIP_LABELS.items():
        values = list(dict.fromkeys(v for v in args.getlist(name) if v.strip()))
        for value in values:
            chips.append(Chip(label, value, url_with(args, **{name: [v for v in values if v != value]})))
    date_from, date_to = args.get("date_from", ""), args.get("date_to", "")
    if date_from or date_to:
        span = " ".join(
            part
            for part in (
                f"từ {display_date(date_from)}" if date_from else "",
                f"đến {display_date(date_to)}" if date_to else "",
            )
            if part
        )
        chips.append(Chip("Thời gian", span, url_with(args, date_from=None, date_to=None)))
    return chips


def facet_rows(name: str, values: Iterable[Any], selected: Sequence[str]) -> list[FacetRow]:
    """Return the facet's checkboxes, keeping selected values even when they have no count."""
    rows = [
        FacetRow(v.value, v.count, v.value in selected, field_id(name, v.value)) for v in values if v.value
    ]
    present = {row.value for row in rows}
    rows += [FacetRow(value, None, True, field_id(name, value)) for value in selected if value not in present]
    return rows


def split_rows(rows: list[FacetRow]) -> tuple[list[FacetRow], list[FacetRow]]:
    """Return the rows shown at once (the ``FACET_SHOWN`` first and every ticked one) and those behind "Xem thêm"."""
    shown = FACET_SHOWN
    first = [row for i, row in enumerate(rows) if i < shown or row.checked]
    return first, [row for i, row in enumerate(rows) if i >= shown and not row.checked]


def month_range(month: str) -> tuple[str, str]:
    """Return the first and last day of a ``YYYY-MM`` month."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def date_bars(kind: str, values: Iterable[Any], args: MultiDict[str, str]) -> list[Bar]:
    """Return histogram bars for the ``year`` or ``month`` facet, oldest first."""
    buckets = sorted((v for v in values if v.value), key=lambda v: v.value)
    peak = max((v.count for v in buckets), default=0) or 1
    bars = []
    for bucket in buckets:
        try:
            start, end = (
                month_range(bucket.value)
                if kind == "month"
                else (f"{bucket.value}-01-01", f"{bucket.value}-12-31")
            )
        except ValueError:
            continue  # a malformed bucket must not break the page
        label = f"{bucket.value[5:7]}/{bucket.value[:4]}" if kind == "month" else bucket.value
        active = args.get("date_from") == start and args.get("date_to") == end
        step = max(1, round(bucket.count * BAR_STEPS / peak)) if bucket.count else 0
        bars.append(
            Bar(label, bucket.value, bucket.count, step, url_with(args, date_from=start, date_to=end), active)
        )
    return bars


def page_links(response: SearchResponse, args: MultiDict[str, str], max_page: int) -> list[PageLink]:
    """Return the numbered page links around the current page."""
    last = min(response.pages, max_page)
    numbers = {1, last, *range(response.page - PAGE_WINDOW, response.page + PAGE_WINDOW + 1)}
    return [
        PageLink(n, url_with(args, page=str(n) if n > 1 else None), n == response.page)
        for n in sorted(numbers)
        if 1 <= n <= last
    ]


def filters_active(args: MultiDict[str, str]) -> bool:
    """Tell whether any filter parameter is set."""
    return any(v.strip() for key in FILTER_PARAMS for v in args.getlist(key))


def search_context(response: SearchResponse, args: MultiDict[str, str], max_page: int) -> dict[str, Any]:
    """Return the template data of a results page."""
    facets: Mapping[str, Any] = response.facets
    months = date_bars("month", facets.get("month", ()), args)
    last = min(response.pages, max_page)
    previous = min(response.page - 1, last)
    return {
        "response": response,
        "categories": split_rows(
            facet_rows("category", facets.get("category", ()), args.getlist("category"))
        ),
        "sources": split_rows(facet_rows("source", facets.get("source", ()), args.getlist("source"))),
        "years": date_bars("year", facets.get("year", ()), args),
        "recent_months": months[-RECENT_MONTHS:],
        "older_months": months[:-RECENT_MONTHS],
        "pages": page_links(response, args, max_page),
        "previous_url": url_with(args, page=str(previous) if previous > 1 else None)
        if response.page > 1
        else None,
        "next_url": url_with(args, page=str(response.page + 1)) if response.page < last else None,
        "suggestion_url": url_with(args, q=response.suggestion.text) if response.suggestion else None,
        "as_typed_url": url_with(args, as_typed="1") if response.correction else None,
        "no_aliases_url": url_with(args, aliases="0") if response.aliases else None,
        "aliases_url": url_with(args, aliases="1") if response.alias_offers else None,
        "reading_label": READING_LABELS.get(response.reading.mode),
        # A marked word matches only its marks; the reader can widen to every accent form in one click.
        "accent_extra_url": url_with(args, accents="ignore") if response.accent_extra else None,
        "accent_match_url": url_with(args, accents=None) if response.accents == "ignore" else None,
        # A date sort keeps only the articles with the words together: the wider set is the relevance sort.
        "relevance_url": url_with(args, sort=None) if response.topic_narrowed else None,
        "first_number": (response.page - 1) * response.per_page + 1,
        "last_number": (response.page - 1) * response.per_page + len(response.hits),
        "past_end": response.total > 0 and not response.hits,
        "last_page": last,
        # Deep pages cost the server and help no reader: the page says why the pager stops.
        "pages_capped": response.pages > max_page,
        "last_page_url": url_with(args, page=str(last) if last > 1 else None),
        "chips": filter_chips(args),
        "feed_url": "/feed.atom" + (f"?{query}" if (query := feed_query(args.items(multi=True))) else ""),
        # What the article page marks: the words as searched (a Telex reading decoded).
        "article_q": article_query(response, args),
    }


def article_query(response: SearchResponse, args: MultiDict[str, str]) -> str:
    """Return what the article page marks: the words as searched (a typo corrected, a Telex reading decoded)."""
    if response.correction:
        return response.correction.text
    if response.reading.mode in READING_LABELS:
        return response.reading.text
    return args.get("q", "")


def form_state(args: MultiDict[str, str], problems: Sequence[Problem] = ()) -> dict[str, Any]:
    """Return the values the search form shows, from the URL as typed, and the problems to show beside them."""
    q = args.get("q", "")
    sort = args.get("sort", "relevance")
    sort = sort if sort in SORTS else "relevance"
    blank = not q.strip()
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.slot:
            errors.setdefault(problem.slot, []).append(problem.message)
    return {
        "q": q,
        "blank": blank,
        # Without a query the results are newest first, whatever ``sort=relevance`` says.
        "sort": ("oldest" if sort == "oldest" else "") if blank else sort,
        "sort_labels": BLANK_QUERY_SORT_LABELS if blank else SORT_LABELS,
        "problems": list(problems),
        "errors": {slot: " ".join(messages) for slot, messages in errors.items()},
        "invalid": {name for problem in problems for name in problem.params},
        "date_from": args.get("date_from", ""),
        "date_to": args.get("date_to", ""),
        "per_page": args.get("per_page", ""),
        "hidden": [(k, v) for k in ("author", "tag") for v in args.getlist(k) if v],
        "filters_active": filters_active(without_problems(args, problems)),
        "clear_dates_url": url_with(args, date_from=None, date_to=None),
        "clear_filters_url": url_with(args, **{key: None for key in FILTER_PARAMS}),
    }


@bp.app_template_filter("marked")
def marked_filter(text: str | None) -> Markup:
    """Template filter for ``marked_html``."""
    return marked_html(text)


@bp.app_template_filter("urlencode")
def urlencode_filter(value: str) -> str:
    """Percent-encode ``value`` for a URL (Jinja's filter fails on a lone surrogate)."""
    return quote(encodable(str(value)), safe="")


@bp.app_template_filter("encodable")
def encodable_filter(value: str) -> str:
    """Template filter for ``encodable``: text a URL can carry (no lone surrogates)."""
    return encodable(str(value))


@bp.app_template_filter("vietnam_time")
def vietnam_time_filter(value: str | datetime | None) -> str:
    """Template filter for ``vietnam_time``."""
    return vietnam_time(value)


@bp.app_template_filter("iso_time")
def iso_time_filter(value: str | datetime | None) -> str:
    """Template filter for ``iso_time``."""
    return iso_time(value)


def paragraphs(body: str | None) -> list[str]:
    """Split an article body into its paragraphs."""
    return [p.strip() for p in re.split(r"\n\s*\n", body or "") if p.strip()]


def web_url(url: str | None) -> str | None:
    """Return ``url`` when it is an http(s) link, so a stored ``javascript:`` URL is never rendered."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


@bp.get("/")
def index() -> Response:
    """Render the search page; the URL holds the query, filters, sort and page.

    An invalid parameter gives the normal page (status 400): the search runs
    without it, the form keeps what was typed, and a Vietnamese message sits
    beside the field and in a summary above the results.
    """
    limits = current_settings().search
    args = request.args
    problems = parameter_problems(args.to_dict(flat=False), limits)
    searched = without_problems(args, problems)
    try:
        response = run_search(searched.to_dict(flat=False))
    except QueryError as exc:
        # A rule this page does not check one by one: say so in the summary, with the core's detail.
        problems.append(Problem((), None, f"{GENERIC_PROBLEM} ({exc.message})"))
        html_page = render_template("search.html", state=form_state(args, problems), results=None)
        return TextResponse(html_page, status=400, mimetype="text/html")
    note_search(response)
    results = search_context(response, searched, limits.max_page)
    html_page = render_template("search.html", state=form_state(args, problems), results=results)
    return TextResponse(html_page, status=400 if problems else 200, mimetype="text/html")


@bp.get("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    """Render one article, with the words of ``q`` (the search it came from) marked and kept in the box."""
    limits = current_settings().search
    store = current_store()
    stored = store.get_article(article_id)
    q = request.args.get("q", "")
    from_results = _is_search_page(request.referrer)
    back_url = request.referrer if from_results else url_with(MultiDict({"q": q}))
    if from_results:
        note_click(q)
    title, summary, body = stored.get("title") or "", stored.get("summary") or "", stored.get("body") or ""
    targets = query_targets(current_store(), q, limits)
    targets = targets.settled(title, summary, body)
    html_page = render_template(
        "article.html",
        article=stored,
        state={"q": q, "per_page": "", "hidden": []},
        title_html=mark(title, targets),
        summary_html=mark(summary, targets) if summary else "",
        paragraphs=[mark(p, targets) for p in paragraphs(body)],
        source_url=web_url(stored.get("url")),
        back_url=back_url,
        related=store.related(article_id, RELATED_ON_PAGE, None, limits).items,
    )
    return TextResponse(html_page, mimetype="text/html")


def _is_search_page(referrer: str | None) -> bool:
    """Tell whether the referrer is this site's search page (to link back to the same results)."""
    if not referrer:
        return False
    root = request.host_url.rstrip("/")
    return referrer == root + "/" or referrer.startswith(root + "/?")
