"""An Atom feed of any search: ``/feed.atom`` takes ``/api/search``'s parameters, newest first.

Written with the standard library's ElementTree rather than a feed library: an
Atom document is a dozen elements, and ElementTree escapes every text; only the
characters XML 1.0 cannot carry at all are removed first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, request

from searchsvc.messages import Hit, SearchResponse
from searchsvc.params import request_from_params
from searchsvc.text import encodable
from searchsvc.web import current_settings, run_search
from searchsvc.web.origin import public_root

bp = Blueprint("feed", __name__)

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_ENTRIES = 20
# Parameters that make no sense for a feed: it is always the newest first, from the first page.
IGNORED = ("sort", "page")
# XML 1.0 forbids these characters even escaped; a stored title could hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAGS = re.compile(r"</?(?:mark|em)>")
# The date an undated article gets in a feed: Atom requires one, and it sorts them last.
EPOCH = "1970-01-01T00:00:00+00:00"

ET.register_namespace("", ATOM)


def xml_text(value: str | None) -> str:
    """Return ``value`` as text XML can carry (no control characters, no lone surrogates)."""
    return _NOT_XML.sub("", encodable(value or ""))


def feed_params(args: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Return a feed's search parameters: the reader's, sorted newest first, 20 entries unless asked."""
    params = {k: list(v) for k, v in args.items() if k not in IGNORED}
    params["sort"] = ["newest"]
    params.setdefault("per_page", [str(FEED_ENTRIES)])
    return params


def feed_query(args: Iterable[tuple[str, str]]) -> str:
    """Return the query string of the feed of a search page's parameters (empty ones left out)."""
    kept = [(k, encodable(v)) for k, v in args if k not in IGNORED and v != ""]
    return urlencode(kept)


def _child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """Append an Atom element with optional text and attributes."""
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _entry(feed: ET.Element, hit: Hit, root: str) -> None:
    """Append one search hit as an Atom entry linking to its article page."""
    page = f"{root}/articles/{quote(encodable(hit.id), safe='')}"
    entry = _child(feed, "entry")
    _child(entry, "id", page)
    _child(entry, "title", hit.title)
    _child(entry, "link", href=page)
    if hit.url and hit.url.lower().startswith(("https://", "http://")):
        _child(entry, "link", rel="via", href=hit.url)
    _child(entry, "updated", hit.published or EPOCH)
    if hit.published:
        _child(entry, "published", hit.published)
    if hit.author:
        _child(_child(entry, "author"), "name", hit.author)
    if hit.category:
        _child(entry, "category", term=hit.category)
    snippet = _TAGS.sub("", hit.highlights.snippet)  # escaped HTML: the marks are the only tags
    _child(entry, "summary", snippet, type="html")


def atom_feed(response: SearchResponse, root: str, query: str) -> bytes:
    """Return the Atom document of a search (``root``: this site's URL, ``query``: the search's)."""
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "vi"})
    self_url = f"{root}/feed.atom" + (f"?{query}" if query else "")
    _child(feed, "id", self_url)
    label = response.query.strip()
    _child(feed, "title", f"Tìm kiếm: {label}" if label else "Bài viết mới nhất")
    newest = next((h.published for h in response.hits if h.published), None)
    _child(feed, "updated", newest or datetime.now(UTC).isoformat(timespec="seconds"))
    _child(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    _child(feed, "link", rel="alternate", type="text/html", href=f"{root}/" + (f"?{query}" if query else ""))
    _child(_child(feed, "author"), "name", "TinTìm")
    _child(feed, "generator", "searchsvc")
    for hit in response.hits:
        _entry(feed, hit, root)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


@bp.get("/feed.atom")
def search_feed() -> Response:
    """Answer the Atom feed of a search: the newest matching articles first."""
    params = request.args.to_dict(flat=False)
    # A feed ignores sort and page, but a bad one is the same 400 as on /api/search.
    request_from_params(params, current_settings().search)
    response = run_search(feed_params(params))
    query = feed_query(request.args.items(multi=True))
    # Never from the Host header: a cache in front would keep a feed pointing elsewhere.
    body = atom_feed(response, public_root(current_settings().server), query)
    return Response(body, mimetype=ATOM_TYPE)
