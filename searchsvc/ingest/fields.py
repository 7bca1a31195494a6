"""Field validation shared by every format: a record's fields become an Article or a Reject."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from searchsvc.article import Article
from searchsvc.dates import parse_published
from searchsvc.ingest.records import (
    DEFAULT_LIMITS,
    EXCERPT_CHARS,
    IngestLimits,
    IngestWarning,
    Record,
    Reject,
)
from searchsvc.text import UNEXCHANGEABLE, encodable

REQUIRED_FIELDS = ("id", "title", "body")
_FIRST_UNENCODABLE = "\ud800"
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class _BadRecord(ValueError):
    """A record's fields do not make an article; the message is the reject reason."""


def _excerpt(text: str) -> str:
    """Return the start of text, short enough for a rejects file."""
    return encodable(text.rstrip("\r\n")[:EXCERPT_CHARS], UNEXCHANGEABLE)


def _json_problem(error: json.JSONDecodeError) -> str:
    """Return a reject reason for a JSON syntax error."""
    # Some messages end in "at" ("Invalid control character at"); avoid "at at".
    return f"malformed JSON: {error.msg.removesuffix(' at')} at column {error.colno}"


def _json_type(value: object) -> str:
    """Return the JSON name of value's type, for reject reasons."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _clean(value: str) -> str:
    """Decode HTML entities and strip surrounding whitespace; change nothing else."""
    # Unescape first: "&nbsp;" at the edges becomes whitespace that strip removes.
    return html.unescape(value).strip()


def _required_text(fields: Mapping[str, object], name: str) -> str:
    """Return the cleaned, non-empty string field name; raise _BadRecord otherwise."""
    if name not in fields or fields[name] is None:
        raise _BadRecord(f"missing field '{name}'")
    value = fields[name]
    if not isinstance(value, str):
        raise _BadRecord(f"field '{name}' must be a string, got {_json_type(value)}")
    text = value.strip() if name == "id" else _clean(value)
    if not text:
        raise _BadRecord(f"empty field '{name}'")
    return text


def _optional_text(fields: Mapping[str, object], name: str) -> str | None:
    """Return the cleaned string field name, None when absent or empty."""
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadRecord(f"field '{name}' must be a string or null, got {_json_type(value)}")
    return _clean(value) or None


def _tags(value: object) -> tuple[str, ...]:
    """Return the cleaned, non-empty tags of a list of strings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _BadRecord(f"field 'tags' must be a list of strings, got {_json_type(value)}")
    tags: list[str] = []
    for position, tag in enumerate(value, start=1):
        if not isinstance(tag, str):
            raise _BadRecord(f"field 'tags' must be a list of strings, item {position} is {_json_type(tag)}")
        cleaned = _clean(tag)
        if cleaned:
            tags.append(cleaned)
    return tuple(tags)


def _published(fields: Mapping[str, object]) -> tuple[datetime | None, str | None]:
    """Return the publication date of fields and a warning when it is not a date."""
    value = fields.get("published")
    if value is None:
        return None, None
    if not isinstance(value, str):
        raise _BadRecord(f"field 'published' must be a string or null, got {_json_type(value)}")
    published = parse_published(value)
    if published is not None or not value.strip():
        return published, None
    # The article is still good; an unknown date must not cost the whole record.
    return None, f"unparseable date in 'published': {value.strip()[:100]!r}"


def _article_from_fields(fields: Mapping[str, object]) -> tuple[Article, str | None]:
    """Return the article fields describe and a date warning; raise _BadRecord if invalid."""
    article_id = _required_text(fields, "id")
    title = _required_text(fields, "title")
    body = _required_text(fields, "body")
    url = _optional_text(fields, "url")
    summary = _optional_text(fields, "summary")
    author = _optional_text(fields, "author")
    category = _optional_text(fields, "category")
    source = _optional_text(fields, "source")
    tags = _tags(fields.get("tags"))
    published, warning = _published(fields)
    article = Article(
        id=article_id,
        title=title,
        body=body,
        url=url,
        summary=summary,
        author=author,
        published=published,
        category=category,
        source=source,
        tags=tags,
    )
    return article, warning


def _build(
    path: str,
    line: int | None,
    fields: Mapping[str, object],
    raw: str,
    limits: IngestLimits = DEFAULT_LIMITS,
    date_line: int | None = None,
) -> Iterator[Record]:
    """Yield the article fields describe (after its warnings, if any) or a Reject.

    date_line is where a page's date is written, when that differs from line.
    """
    try:
        article, warning = _article_from_fields(fields)
        article, problems = _within_limits(*_encodable(article), limits)
    except _BadRecord as error:
        yield Reject(path, line, str(error), _excerpt(raw))
        return
    if warning is not None:
        yield IngestWarning(path, date_line or line, article.id, warning)
    for problem in problems:
        yield IngestWarning(path, line, article.id, problem)
    yield article


_TEXT_FIELDS = ("title", "summary", "body", "author", "url", "category", "source")


def _encodable(article: Article) -> tuple[Article, list[str]]:
    """Replace lone surrogates and non-characters by U+FFFD; reject them in the id.

    Such text cannot be written as UTF-8 (surrogates) or must not be exchanged
    (non-characters): once indexed, every page showing it failed with a 500.
    """
    if UNEXCHANGEABLE.search(article.id):
        raise _BadRecord(
            f"field 'id' has a character that cannot be encoded ({_first_unencodable(article.id)})"
        )
    changes: dict[str, Any] = {}  # keyword arguments of dataclasses.replace, one type per field
    problems: list[str] = []
    for name in _TEXT_FIELDS:
        value = getattr(article, name)
        # max() scans in C; Vietnamese text lies far below the first unencodable code point.
        if value and max(value) >= _FIRST_UNENCODABLE and UNEXCHANGEABLE.search(value):
            changes[name] = encodable(value, UNEXCHANGEABLE)
            problems.append(_replaced(name, value))
    if any(UNEXCHANGEABLE.search(tag) for tag in article.tags):
        changes["tags"] = tuple(encodable(tag, UNEXCHANGEABLE) for tag in article.tags)
        problems.append(_replaced("tags", "".join(article.tags)))
    return (replace(article, **changes) if changes else article), problems


def _first_unencodable(text: str) -> str:
    """Describe the first character of ``text`` that cannot be encoded, e.g. ``U+D800``."""
    found = UNEXCHANGEABLE.search(text)
    return f"U+{ord(found.group()):04X}" if found else ""


def _replaced(name: str, value: str) -> str:
    """Return the warning for unencodable characters replaced in field ``name``."""
    count = len(UNEXCHANGEABLE.findall(value))
    plural = "s" if count > 1 else ""
    return (
        f"field '{name}': {count} character{plural} that cannot be encoded "
        f"(first {_first_unencodable(value)}) replaced by U+FFFD"
    )


def _within_limits(article: Article, problems: list[str], limits: IngestLimits) -> tuple[Article, list[str]]:
    """Cut a body that makes the article longer than ``limits.max_article_chars``; reject what cannot fit.

    One huge article must not cost every search that matches it: highlights and
    re-ranking read the stored text. The rest of the article is kept whole, so a
    record whose other fields alone exceed the limit is rejected.
    """
    limit = limits.max_article_chars
    other = sum(len(getattr(article, name) or "") for name in _TEXT_FIELDS if name != "body")
    other += len(article.id) + sum(map(len, article.tags))
    if other + len(article.body) <= limit:
        return article, problems
    room = limit - other
    if room < 1:
        raise _BadRecord(
            f"the fields besides 'body' have {other:,} characters, more than the "
            f"index.max_article_chars limit of {limit:,}"
        )
    body = _cut(article.body, room)
    cut = f"field 'body' cut from {len(article.body):,} to {len(body):,} characters"
    return replace(article, body=body), [*problems, f"{cut} (index.max_article_chars is {limit:,})"]


def _cut(text: str, limit: int) -> str:
    """Return at most ``limit`` characters of ``text``, ending at a space when one is near."""
    head = text[:limit]
    space = head.rfind(" ", max(0, limit - 200))
    return (head[:space] if space > 0 else head).rstrip()
