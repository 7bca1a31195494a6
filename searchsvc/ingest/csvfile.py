"""CSV files with a header row naming the JSON-lines fields."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from searchsvc.errors import IngestError
from searchsvc.ingest.fields import (
    REQUIRED_FIELDS,
    _BadRecord,
    _build,
    _excerpt,
    _json_type,
)
from searchsvc.ingest.files import _decode_utf8, _open_binary
from searchsvc.ingest.records import (
    IngestLimits,
    Record,
    Reject,
)

# fmt: off
COLUMNS = (
    "id", "url", "title", "summary", "body", "author", "published", "category", "source",
    "tags",
)
# fmt: on
# Bodies over 50,000 characters exist; the csv default limit (131,072) is too
# close for comfort.
_CSV_FIELD_LIMIT = 1 << 24


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
