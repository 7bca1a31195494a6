"""Saved article pages as text: title, byline and body without the site furniture."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from searchsvc.ingest.fields import (
    _build,
    _clean,
)
from searchsvc.ingest.files import _decode_document, _read_bytes, page_id
from searchsvc.ingest.records import (
    IngestLimits,
    Record,
    Reject,
)

_BYLINE = re.compile(r"^(?P<author>[^|]{0,100})\|\s*(?P<date>[^|]*\d{4}[^|]*)$")
_PHOTO_FILE = re.compile(r"^[\w.-]+\.(?:jpe?g|png|gif|webp|bmp|avif)$", re.IGNORECASE)
_FOLLOW_US = re.compile(r"^theo dõi\s.{1,80}\strên(?:\s.{1,40})?$", re.IGNORECASE)
_POWERED_BY = re.compile(r"^powered by\b", re.IGNORECASE)
_HIGHLIGHTS = re.compile(r"^nổi bật\b", re.IGNORECASE)
_DONT_MISS = "đừng bỏ lỡ"


@dataclass(frozen=True)
class PageText:
    """The parts of an article page saved as text."""

    title: str | None
    author: str | None
    published: str | None
    published_line: int | None
    body: str


def parse_page_text(text: str) -> PageText:
    """Split a saved article page into title, byline and body, dropping site furniture."""
    lines = [(number, _clean(line)) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        return PageText(None, None, None, None, "")
    title = lines[0][1]
    rest = lines[1:]
    author = published = None
    published_line = None
    if rest and (byline := _BYLINE.match(rest[0][1])):
        author = byline["author"].strip() or None
        published = byline["date"].strip()
        published_line = rest[0][0]
        rest = rest[1:]
    body = _page_body(title, [line for _, line in rest])
    return PageText(title, author, published, published_line, "\n\n".join(body))


def _page_body(title: str, lines: list[str]) -> list[str]:
    """Return the body paragraphs of a page's lines, without the site furniture."""
    body: list[str] = []
    for line in lines:
        # Match on NFC so NFD-saved pages lose their furniture too; keep the text as is.
        key = unicodedata.normalize("NFC", line)
        if key.casefold() == _DONT_MISS:
            # The "don't miss" list and everything after it belong to the site.
            if body and _HIGHLIGHTS.match(unicodedata.normalize("NFC", body[-1])):
                body.pop()
            break
        if line == title or _FOLLOW_US.match(key) or _PHOTO_FILE.match(key) or _POWERED_BY.match(key):
            continue
        body.append(line)
    return body


def _read_page_text(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the one article (or Reject) of a saved article page text file."""
    name = str(path)
    text = _decode_document(name, _read_bytes(path))
    if isinstance(text, Reject):
        yield text
        return
    page = parse_page_text(text)
    fields = {
        "id": page_id(path),
        "title": page.title,
        "author": page.author,
        "published": page.published,
        "body": page.body,
    }
    yield from _build(name, None, fields, text, limits, date_line=page.published_line)
