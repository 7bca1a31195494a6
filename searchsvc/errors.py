"""Specific exceptions raised by core code; only web/ and cli.py translate them."""

from __future__ import annotations


class SearchsvcError(Exception):
    """Base class for every error searchsvc raises on purpose."""


class ConfigError(SearchsvcError):
    """A configuration file or environment variable has an invalid value."""


class IngestError(SearchsvcError):
    """A source file cannot be read at all (missing, unreadable, unknown format)."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class IndexNotReady(SearchsvcError):
    """There is no index to search yet, or it cannot be opened."""


class BackendUnavailable(SearchsvcError):
    """The search cluster cannot be reached, timed out, or is red; the request may be retried."""


class SchemaMismatch(IndexNotReady):
    """The index on disk was built with another schema version."""


class BuildFailed(SearchsvcError):
    """A reindex could not finish (an indexing process died); the live index is unchanged."""


class IndexBusy(SearchsvcError):
    """Another writer holds the index lock."""


class QueryError(SearchsvcError):
    """A search request has an invalid parameter (bad date, page, sort ...)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class NotFound(SearchsvcError):
    """The requested article does not exist."""
