"""Open source files: gzip by its magic number, UTF-8 per line or per document, page ids."""

from __future__ import annotations

import codecs
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

from searchsvc.errors import IngestError
from searchsvc.ingest.fields import (
    _excerpt,
)
from searchsvc.ingest.records import (
    Reject,
)

PAGE_ID_PREFIX = "page-"
_GZIP_MAGIC = b"\x1f\x8b"


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


def _decode_utf8(raw: bytes, line: int) -> tuple[str, int | None]:
    """Return raw decoded (bad bytes as U+FFFD) and the 1-based first bad byte, if any."""
    if line == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return raw.decode("utf-8", "replace"), error.start + 1


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
