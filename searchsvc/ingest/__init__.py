"""Read article sources (JSONL, CSV, page text, HTML) into Article records.

Every reader yields a stream of `Article`, `Reject` and `IngestWarning` records
in file order: a bad record becomes a `Reject` naming its file and line, and the
good records around it still come through. Only a source that cannot be read at
all (missing, unknown format, unreadable) raises `IngestError`.

The modules, each importing only those above it: ``records`` (the record types,
the report, the limits, the rejects file), ``fields`` (validation shared by every
format), ``files`` (opening and decoding), one reader per format (``jsonl``,
``csvfile``, ``pagetext``, ``htmlpage``), and ``sources`` (expansion of paths and
format detection). Import from ``searchsvc.ingest``; the names below are the API.
"""

from __future__ import annotations

from searchsvc.ingest.csvfile import COLUMNS
from searchsvc.ingest.fields import REQUIRED_FIELDS
from searchsvc.ingest.files import PAGE_ID_PREFIX, page_id
from searchsvc.ingest.pagetext import PageText, parse_page_text
from searchsvc.ingest.records import (
    DEFAULT_LIMITS,
    EXCERPT_CHARS,
    REPLACEMENT,
    IngestLimits,
    IngestReport,
    IngestWarning,
    Record,
    Reject,
    write_rejects,
)
from searchsvc.ingest.sources import (
    detect_format,
    expand_sources,
    iter_records,
    iter_sources,
    supported_suffixes,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_LIMITS",
    "EXCERPT_CHARS",
    "PAGE_ID_PREFIX",
    "REPLACEMENT",
    "REQUIRED_FIELDS",
    "IngestLimits",
    "IngestReport",
    "IngestWarning",
    "PageText",
    "Record",
    "Reject",
    "detect_format",
    "expand_sources",
    "iter_records",
    "iter_sources",
    "page_id",
    "parse_page_text",
    "supported_suffixes",
    "write_rejects",
]
