"""Read article sources (JSONL, CSV, page text, HTML) into Article records.

Every reader yields a stream of `Article`, `Reject` and `IngestWarning` records
in file order: a bad record becomes a `Reject` naming its file and line, and the
good records around it still come through. Only a source that cannot be read at
all (missing, unknown format, unreadable) raises `IngestError`.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import html
import json
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO

from searchsvc.article import Article
from searchsvc.config import IndexSettings
from searchsvc.dates import parse_published
from searchsvc.errors import IngestError

EXCERPT_CHARS = 500
# fmt: off
COLUMNS = (
    "id", "url", "title", "summary", "body", "author", "published", "category", "source",
    "tags",
)
# fmt: on
REQUIRED_FIELDS = ("id", "title", "body")
PAGE_ID_PREFIX = "page-"
REPLACEMENT = "\ufffd"
# Lone surrogates cannot be encoded at all (a JSON "\ud800" escape makes one), and
# the 66 Unicode non-characters must not be exchanged: both become U+FFFD.
_UNENCODABLE = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
    + "]"
)
_FIRST_UNENCODABLE = "\ud800"

_GZIP_MAGIC = b"\x1f\x8b"
# Bodies over 50,000 characters exist; the csv default limit (131,072) is too
# close for comfort.
_CSV_FIELD_LIMIT = 1 << 24
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


@dataclass(frozen=True)
class Reject:
    """A source record that could not become an article, and why."""

    path: str
    line: int | None  # 1-based; None when the problem concerns the whole file or item
    reason: str
    raw: str = ""  # the start of the offending text, at most EXCERPT_CHARS characters


@dataclass(frozen=True)
class IngestWarning:
    """A problem in a record that was ingested anyway, such as an unparseable date."""

    path: str
    line: int | None
    article_id: str
    reason: str


Record = Article | Reject | IngestWarning


@dataclass
class IngestReport:
    """Count the articles of a record stream and keep its rejects and warnings."""

    articles: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[IngestWarning] = field(default_factory=list)

    def collect(self, records: Iterable[Record]) -> Iterator[Article]:
        """Yield the articles of records and keep the rejects and warnings aside."""
        for record in records:
            if isinstance(record, Article):
                self.articles += 1
                yield record
            elif isinstance(record, Reject):
                self.rejects.append(record)
            else:
                self.warnings.append(record)


@dataclass(frozen=True)
class IngestLimits:
    """What an article may hold to enter the index (``[index]`` settings)."""

    # Characters of text in all fields together; a longer body is cut (with a warning).
    max_article_chars: int = IndexSettings.max_article_chars

    @classmethod
    def from_settings(cls, index: IndexSettings) -> IngestLimits:
        """Return the limits of the ``[index]`` settings."""
        return cls(max_article_chars=index.max_article_chars)


DEFAULT_LIMITS = IngestLimits()


class _BadRecord(ValueError):
    """A record's fields do not make an article; the message is the reject reason."""


# ---------------------------------------------------------------------------
# Sources and formats


def iter_sources(paths: Sequence[str | Path], limits: IngestLimits = DEFAULT_LIMITS) -> Iterator[Record]:
    """Return the records of every file and directory in paths, in order.

    All paths are checked before the first record is read, so a typo in the last
    argument fails fast instead of after a long ingest.
    """
    files = expand_sources(paths)
    return _chain_records(files, limits)


def _chain_records(files: Sequence[Path], limits: IngestLimits) -> Iterator[Record]:
    """Yield the records of each file in turn."""
    for path in files:
        yield from iter_records(path, limits)


def expand_sources(paths: Sequence[str | Path]) -> list[Path]:
    """Return the source files paths name: files as given, directories expanded."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(_directory_sources(path))
        elif path.is_file():
            _reader_for(path)  # raises IngestError for an unknown format
            files.append(path)
        elif path.exists():
            raise IngestError(str(given), "not a regular file or directory")
        else:
            raise IngestError(str(given), "no such file or directory")
    return files


def _directory_sources(directory: Path) -> list[Path]:
    """Return the supported files under directory, recursively, sorted, hidden ones skipped."""
    found = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and detect_format(path) is not None
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )
    if not found:
        raise IngestError(str(directory), f"no supported source files ({supported_suffixes()})")
    return found


def detect_format(path: str | Path) -> str | None:
    """Return the format name path's extension stands for, or None when unsupported."""
    name = Path(path).name.lower()
    for suffix, format_name in _SUFFIXES:
        if name.endswith(suffix):
            return format_name
    return None


def supported_suffixes() -> str:
    """Return the supported file name endings as one readable string."""
    return ", ".join(suffix for suffix, _ in _SUFFIXES)


def iter_records(path: str | Path, limits: IngestLimits = DEFAULT_LIMITS) -> Iterator[Record]:
    """Return the records of one source file; raise IngestError if it cannot be read."""
    source = Path(path)
    if not source.is_file():
        reason = "not a regular file" if source.exists() else "no such file"
        raise IngestError(str(path), reason)
    return _reader_for(source)(source, limits)


def _reader_for(path: Path) -> Callable[[Path, IngestLimits], Iterator[Record]]:
    """Return the reader for path's format; raise IngestError for unknown formats."""
    format_name = detect_format(path)
    if format_name is None:
        raise IngestError(str(path), f"unknown source format (supported: {supported_suffixes()})")
    return _READERS[format_name]


def _open_binary(path: Path) -> BinaryIO:
    """Open path for reading bytes, decompressing it when it starts like gzip."""
    try:
        # Sniff the magic number rather than trust the name: exports get renamed.
        with open(path, "rb") as probe:
            magic = probe.read(2)
        if magic == _GZIP_MAGIC:
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except OSError as error:
        raise IngestError(str(path), f"cannot open: {error.strerror or error}") from error


def _read_bytes(path: Path) -> bytes:
    """Return the whole (decompressed) content of path."""
    with _open_binary(path) as stream:
        try:
            return stream.read()
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise IngestError(str(path), f"truncated or corrupt gzip data: {error}") from error


# ---------------------------------------------------------------------------
# Field validation shared by every format


def _excerpt(text: str) -> str:
    """Return the start of text, short enough for a rejects file."""
    return _UNENCODABLE.sub(REPLACEMENT, text.rstrip("\r\n")[:EXCERPT_CHARS])


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
    if _UNENCODABLE.search(article.id):
        raise _BadRecord(
            f"field 'id' has a character that cannot be encoded ({_first_unencodable(article.id)})"
        )
    changes: dict[str, object] = {}
    problems: list[str] = []
    for name in _TEXT_FIELDS:
        value = getattr(article, name)
        # max() scans in C; Vietnamese text lies far below the first unencodable code point.
        if value and max(value) >= _FIRST_UNENCODABLE and _UNENCODABLE.search(value):
            changes[name] = _UNENCODABLE.sub(REPLACEMENT, value)
            problems.append(_replaced(name, value))
    if any(_UNENCODABLE.search(tag) for tag in article.tags):
        changes["tags"] = tuple(_UNENCODABLE.sub(REPLACEMENT, tag) for tag in article.tags)
        problems.append(_replaced("tags", "".join(article.tags)))
    return (replace(article, **changes) if changes else article), problems


def _first_unencodable(text: str) -> str:
    """Describe the first character of ``text`` that cannot be encoded, e.g. ``U+D800``."""
    found = _UNENCODABLE.search(text)
    return f"U+{ord(found.group()):04X}" if found else ""


def _replaced(name: str, value: str) -> str:
    """Return the warning for unencodable characters replaced in field ``name``."""
    count = len(_UNENCODABLE.findall(value))
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


def _decode_utf8(raw: bytes, line: int) -> tuple[str, int | None]:
    """Return raw decoded (bad bytes as U+FFFD) and the 1-based first bad byte, if any."""
    if line == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return raw.decode("utf-8", "replace"), error.start + 1


# ---------------------------------------------------------------------------
# JSON lines (.jsonl, .jsonl.gz, .json)


def _read_jsonl(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the records of a JSON-lines file, decoding and parsing each line alone."""
    name = str(path)
    line = 0
    with _open_binary(path) as stream:
        try:
            for line, raw in enumerate(stream, start=1):
                yield from _jsonl_line(name, line, raw, limits)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            # Keep what was read; the reject tells the operator the rest is missing.
            yield Reject(
                name,
                line + 1,
                f"truncated or corrupt gzip data after line {line}: {error}",
            )


def _jsonl_line(path: str, line: int, raw: bytes, limits: IngestLimits) -> Iterator[Record]:
    """Yield the article or Reject one JSON line makes; blank lines make nothing."""
    text, bad_byte = _decode_utf8(raw, line)
    if bad_byte is not None:
        yield Reject(path, line, f"invalid UTF-8 at byte {bad_byte}", _excerpt(text))
        return
    text = text.rstrip("\r\n")  # so error columns count within the line
    if not text.strip():
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield Reject(
            path,
            line,
            _json_problem(error),
            _excerpt(text),
        )
        return
    if not isinstance(data, dict):
        yield Reject(path, line, f"not a JSON object (got {_json_type(data)})", _excerpt(text))
        return
    yield from _build(path, line, data, text, limits)


def _read_json(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the records of a .json file: JSON lines, or one array of objects."""
    with _open_binary(path) as stream:
        start = stream.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    if start.startswith(b"["):
        return _read_json_array(path, limits)
    return _read_jsonl(path, limits)


def _read_json_array(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the records of a file holding one JSON array of article objects."""
    name = str(path)
    data = _read_bytes(path)
    text = _decode_document(name, data)
    if isinstance(text, Reject):
        yield text
        return
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        yield Reject(
            name,
            error.lineno,
            _json_problem(error),
            _excerpt(text),
        )
        return
    for position, item in enumerate(items, start=1):
        raw = json.dumps(item, ensure_ascii=False)
        if not isinstance(item, dict):
            yield Reject(
                name,
                None,
                f"item {position}: not a JSON object (got {_json_type(item)})",
                _excerpt(raw),
            )
            continue
        for record in _build(name, None, item, raw, limits):
            yield _name_item(record, position)


def _name_item(record: Record, position: int) -> Record:
    """Prefix the reason of a Reject or warning with its array position."""
    if isinstance(record, Reject):
        return Reject(record.path, record.line, f"item {position}: {record.reason}", record.raw)
    if isinstance(record, IngestWarning):
        reason = f"item {position}: {record.reason}"
        return IngestWarning(record.path, record.line, record.article_id, reason)
    return record


# ---------------------------------------------------------------------------
# CSV


def _read_csv(path: Path, limits: IngestLimits) -> Iterator[Record]:
    """Yield the records of a CSV file with a header row naming the JSONL fields."""
    name = str(path)
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    source = _CsvLines()
    with _open_binary(path) as stream:
        reader = csv.reader(source.lines(stream))
        header = _csv_header(name, next(reader, None))
        source.consume()
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield Reject(name, start, f"malformed CSV: {error}", _excerpt(source.consume()))
                continue
            raw = source.consume()
            if row:
                yield from _csv_row(name, start, reader.line_num, header, row, raw, source, limits)


def _csv_header(path: str, row: list[str] | None) -> list[str]:
    """Return the normalized column names; raise IngestError when required ones lack."""
    if row is None:
        raise IngestError(path, "empty CSV file: no header row")
    header = [column.strip().lower() for column in row]
    missing = [column for column in REQUIRED_FIELDS if column not in header]
    if missing:
        raise IngestError(path, f"CSV header lacks column(s): {', '.join(missing)}", 1)
    return header


def _csv_row(
    path: str,
    start: int,
    end: int,
    header: list[str],
    row: list[str],
    raw: str,
    source: _CsvLines,
    limits: IngestLimits,
) -> Iterator[Record]:
    """Yield the article or Reject one CSV record (lines start..end) makes."""
    bad = source.bad_byte(start, end)
    if bad is not None:
        bad_line, position = bad
        yield Reject(
            path,
            start,
            f"invalid UTF-8 at byte {position} of line {bad_line}",
            _excerpt(raw),
        )
        return
    # Spreadsheet exports end lines with CRLF, inside quoted bodies too.
    row = [cell.replace("\r\n", "\n") for cell in row]
    if len(row) != len(header):
        yield Reject(
            path,
            start,
            f"expected {len(header)} columns, got {len(row)}",
            _excerpt(raw),
        )
        return
    fields: dict[str, object] = {
        column: cell for column, cell in zip(header, row, strict=True) if column in COLUMNS
    }
    try:
        fields["tags"] = _split_tags(str(fields.get("tags") or ""))
    except _BadRecord as error:
        yield Reject(path, start, str(error), _excerpt(raw))
        return
    yield from _build(path, start, fields, raw, limits)


def _split_tags(cell: str) -> list[str]:
    """Return the tags of a CSV cell: a JSON list, or ';'- or ','-separated."""
    text = cell.strip()
    if text.startswith("["):
        try:
            tags = json.loads(text)
        except json.JSONDecodeError as error:
            raise _BadRecord(f"field 'tags' is not a valid JSON list: {error.msg}") from error
        if not isinstance(tags, list):
            raise _BadRecord(f"field 'tags' must be a list of strings, got {_json_type(tags)}")
        return tags
    # ";" wins so that a tag may contain a comma ("Hà Nội, Việt Nam" is rare but real).
    separator = ";" if ";" in text else ","
    return [tag for tag in text.split(separator) if tag.strip()]


class _CsvLines:
    """Feed csv.reader decoded lines and remember which ones had invalid UTF-8."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.bad: dict[int, int] = {}

    def lines(self, stream: BinaryIO) -> Iterator[str]:
        """Yield each line decoded; bad bytes become U+FFFD and are noted."""
        # Decoding per line keeps one bad byte from stopping the file; csv records
        # may span lines, so the record that holds the line is rejected later.
        for line, raw in enumerate(stream, start=1):
            text, bad_byte = _decode_utf8(raw, line)
            if bad_byte is not None:
                self.bad[line] = bad_byte
            self.pending.append(text)
            yield text

    def consume(self) -> str:
        """Return the source text of the record just read and forget it."""
        text = "".join(self.pending)
        self.pending.clear()
        return text

    def bad_byte(self, start: int, end: int) -> tuple[int, int] | None:
        """Return (line, byte) of the first invalid UTF-8 in lines start..end."""
        for line in range(start, end + 1):
            if line in self.bad:
                return line, self.bad[line]
        return None


# ---------------------------------------------------------------------------
# Whole documents: page text and HTML


def page_id(path: str | Path) -> str:
    """Return the stable article id of a page file: its name without the extension."""
    name = Path(path).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return PAGE_ID_PREFIX + stem


def _decode_document(path: str, data: bytes, encoding: str = "utf-8") -> str | Reject:
    """Return data decoded, or a Reject naming the line of the first bad byte."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        excerpt = data.decode(encoding, "replace")
        return Reject(
            path,
            line,
            f"invalid {encoding.upper()} at byte {column}",
            _excerpt(excerpt),
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


# ---------------------------------------------------------------------------
# Rejects file


def write_rejects(rejects: Iterable[Reject], path: str | Path) -> int:
    """Write rejects to path as JSON lines (path, line, reason, raw); return how many."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(target, "w", encoding="utf-8") as out:
        for reject in rejects:
            entry = {
                "path": reject.path,
                "line": reject.line,
                "reason": reject.reason,
                "raw": reject.raw,
            }
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
    return count


_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".jsonl.gz", "jsonl"),
    (".json.gz", "json"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json", "json"),
    (".csv", "csv"),
    (".txt", "page-text"),
    (".html", "html"),
    (".htm", "html"),
)
_READERS: dict[str, Callable[[Path, IngestLimits], Iterator[Record]]] = {
    "jsonl": _read_jsonl,
    "json": _read_json,
    "csv": _read_csv,
    "page-text": _read_page_text,
    "html": _read_html,
}
