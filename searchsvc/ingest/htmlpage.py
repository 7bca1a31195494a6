"""Saved article pages as HTML: meta tags, JSON-LD and the longest <article>."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path

from searchsvc.article import Article
from searchsvc.ingest.fields import (
    _build,
)
from searchsvc.ingest.files import _decode_document, _read_bytes, page_id
from searchsvc.ingest.records import (
    IngestLimits,
    IngestWarning,
    Record,
    Reject,
)

_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.IGNORECASE)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# Text inside these never belongs to the article body: code, navigation, media
# captions, share bars and the headline block that repeats the title and byline.
# fmt: off
_SKIPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "aside", "header", "footer",
    "figure", "figcaption", "form", "button", "select", "iframe", "svg", "h1",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "blockquote", "pre", "table", "tr", "td", "th", "br", "hr", "article",
})
# fmt: on
_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting"})


class _ArticlePageParser(HTMLParser):
    """Collect the meta tags, JSON-LD blocks, <title> and <article> paragraphs of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.canonical: str | None = None
        self.title_parts: list[str] = []
        self.json_ld: list[str] = []
        self.articles: list[list[str]] = []
        self._in_title = False
        self._raw_tag: str | None = None  # script/style whose text is not page text
        self._raw_parts: list[str] = []
        self._article_depth = 0
        self._skip_depth = 0
        self._paragraph: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note metadata and open paragraphs as elements start."""
        attributes = {key: value or "" for key, value in attrs}
        if tag == "meta":
            self._note_meta(attributes)
        elif tag == "link" and "canonical" in attributes.get("rel", "").lower().split():
            self.canonical = self.canonical or attributes.get("href")
        elif tag == "title" and not self._article_depth:
            self._in_title = True
        if tag in ("script", "style"):
            is_ld = attributes.get("type", "").strip().lower() == "application/ld+json"
            self._raw_tag = "ld" if tag == "script" and is_ld else tag
            self._raw_parts = []
        if tag == "article":
            if not self._article_depth:
                self.articles.append([])
            self._article_depth += 1
        if not self._article_depth:
            return
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        """Close paragraphs, skipped elements and articles as elements end."""
        if tag == "title":
            self._in_title = False
        if tag in ("script", "style") and self._raw_tag is not None:
            if self._raw_tag == "ld":
                self.json_ld.append("".join(self._raw_parts))
            self._raw_tag = None
        if not self._article_depth:
            return
        if tag in _SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "article":
            self._article_depth -= 1

    def handle_data(self, data: str) -> None:
        """Collect text for the title, a JSON-LD block or the current paragraph."""
        if self._raw_tag is not None:
            self._raw_parts.append(data)
        elif self._in_title:
            self.title_parts.append(data)
        elif self._article_depth and not self._skip_depth:
            self._paragraph.append(data)

    def close(self) -> None:
        """Finish parsing and keep the paragraph an unclosed <article> left open."""
        super().close()
        self._flush()

    def _note_meta(self, attributes: Mapping[str, str]) -> None:
        """Remember a <meta> content under its property, name or itemprop."""
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        if key and "content" in attributes:
            self.meta.setdefault(key.strip().lower(), []).append(attributes["content"])

    def _flush(self) -> None:
        """End the current paragraph, keeping it when it has text."""
        text = _HTML_SPACE.sub(" ", "".join(self._paragraph)).strip()
        self._paragraph = []
        if text and self.articles:
            self.articles[-1].append(text)


def _first(*values: object) -> str | None:
    """Return the first value that is a non-blank string."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
    return None


def _json_ld_article(blocks: list[str]) -> tuple[dict[str, object], list[str]]:
    """Return the first Article-like JSON-LD object and the problems met finding it."""
    problems: list[str] = []
    for number, block in enumerate(blocks, start=1):
        try:
            # strict=False: CMS templates paste raw newlines into JSON-LD strings.
            data = json.loads(block, strict=False)
        except json.JSONDecodeError as error:
            problems.append(f"malformed JSON-LD block {number} ignored: {error.msg}")
            continue
        for node in _json_ld_nodes(data):
            if _is_article_node(node):
                return node, problems
    return {}, problems


def _json_ld_nodes(data: object) -> Iterator[dict[str, object]]:
    """Yield every object of a JSON-LD document, looking into lists and @graph."""
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _json_ld_nodes(data.get("@graph"))


def _is_article_node(node: Mapping[str, object]) -> bool:
    """Tell whether a JSON-LD object's @type is an article type."""
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(
        isinstance(name, str) and (name.endswith("Article") or name in _ARTICLE_TYPES) for name in names
    )


def _ld_names(value: object) -> str | None:
    """Return the name(s) in a JSON-LD person/organization value, comma-joined."""
    items = value if isinstance(value, list) else [value]
    names = [_first(item.get("name")) if isinstance(item, dict) else _first(item) for item in items]
    joined = ", ".join(name.strip() for name in names if name)
    return joined or None


def _ld_keywords(value: object) -> list[str]:
    """Return the keywords of a JSON-LD value: a list or a comma-separated string."""
    if isinstance(value, str):
        return [keyword for keyword in value.split(",") if keyword.strip()]
    if isinstance(value, list):
        return [keyword for keyword in value if isinstance(keyword, str) and keyword.strip()]
    return []


def _ld_first_text(value: object) -> str | None:
    """Return a JSON-LD text value, or the first text of a list of them."""
    if isinstance(value, list):
        return _first(*value)
    if isinstance(value, dict):
        return _first(value.get("@id"), value.get("url"))
    return _first(value)


def _html_fields(path: Path, parser: _ArticlePageParser) -> tuple[dict[str, object], list[str]]:
    """Return the article fields of a parsed page and the problems met."""
    meta = {key: values[0] for key, values in parser.meta.items()}
    ld, problems = _json_ld_article(parser.json_ld)
    # Sites reuse <article> for teaser cards; the longest one is the story.
    body_paragraphs = max(parser.articles, key=lambda paragraphs: sum(map(len, paragraphs)), default=[])
    title_tag = _HTML_SPACE.sub(" ", "".join(parser.title_parts))
    fields: dict[str, object] = {
        "id": page_id(path),
        "url": _first(
            meta.get("og:url"),
            parser.canonical,
            _ld_first_text(ld.get("url")),
            _ld_first_text(ld.get("mainEntityOfPage")),
        ),
        "title": _first(meta.get("og:title"), ld.get("headline"), title_tag),
        "summary": _first(meta.get("og:description"), meta.get("description"), ld.get("description")),
        "body": "\n\n".join(body_paragraphs) or _first(ld.get("articleBody")),
        "author": _first(meta.get("author"), _ld_names(ld.get("author"))),
        "published": _first(
            meta.get("article:published_time"),
            ld.get("datePublished"),
            meta.get("datepublished"),
        ),
        "category": _first(meta.get("article:section"), _ld_first_text(ld.get("articleSection"))),
        "source": _first(meta.get("og:site_name"), _ld_names(ld.get("publisher"))),
        "tags": parser.meta.get("article:tag") or _ld_keywords(ld.get("keywords")),
    }
    return fields, problems


def _html_encoding(data: bytes) -> str:
    """Return the encoding a page declares in its first bytes, UTF-8 by default."""
    match = _HTML_CHARSET.search(data[:4096])
    if match is None:
        return "utf-8"
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return "utf-8"


def _read_html(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the one article (or Reject) of a saved HTML article page."""
    name = str(path)
    data = _read_bytes(path)
    text = _decode_document(name, data, _html_encoding(data))
    if isinstance(text, Reject):
        yield text
        return
    parser = _ArticlePageParser()
    parser.feed(text)
    parser.close()
    fields, problems = _html_fields(path, parser)
    records = list(_build(name, None, fields, text, limits))
    article_id = str(fields["id"])
    if any(isinstance(record, Article) for record in records):
        for problem in problems:
            yield IngestWarning(name, None, article_id, problem)
    yield from records
