"""JSON lines (.jsonl, .jsonl.gz, .ndjson) and .json files: JSON lines or one array of objects."""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

from searchsvc.ingest.fields import (
    _build,
    _excerpt,
    _json_problem,
    _json_type,
)
from searchsvc.ingest.files import _decode_document, _decode_utf8, _open_binary, _read_bytes
from searchsvc.ingest.records import (
    IngestLimits,
    IngestWarning,
    Record,
    Reject,
)


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
