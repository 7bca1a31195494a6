"""Source expansion and format detection: which files to read and which reader reads each."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from searchsvc.errors import IngestError
from searchsvc.ingest.csvfile import _read_csv
from searchsvc.ingest.htmlpage import _read_html
from searchsvc.ingest.jsonl import _read_json, _read_jsonl
from searchsvc.ingest.pagetext import _read_page_text
from searchsvc.ingest.records import (
    DEFAULT_LIMITS,
    IngestLimits,
    Record,
)


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
