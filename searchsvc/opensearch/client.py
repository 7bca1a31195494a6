"""Connect to the OpenSearch cluster and turn its failures into searchsvc's errors.

One error map for every caller: an unreachable, slow, overloaded or red cluster
is ``BackendUnavailable`` (HTTP 503, CLI exit 1: worth retrying); a missing alias
is ``IndexNotReady`` and an index of another schema version ``SchemaMismatch``,
both telling the operator to run ``searchsvc reindex``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors

from searchsvc.config import Settings
from searchsvc.errors import BackendUnavailable, IndexNotReady, SchemaMismatch
from searchsvc.schema import SCHEMA_VERSION

# Statuses that say the cluster, not the request, is at fault: auth, overload, server errors.
_UNAVAILABLE_STATUSES = frozenset({401, 403, 408, 429})


def connect(settings: Settings) -> OpenSearch:
    """Return a client of the configured cluster: the configured timeout, at most one retry, no sniffing.

    A refused connection is retried once on the next URL (another node); a timeout
    is not, so a request never waits much longer than ``backend.timeout``.
    """
    backend = settings.backend
    return OpenSearch(
        hosts=[url.strip() for url in backend.url.split(",")],
        timeout=backend.timeout,
        max_retries=1,
        retry_on_timeout=False,
        retry_on_status=(),
        sniff_on_start=False,
        sniff_on_connection_fail=False,
    )


def unavailable_reason(exc: Exception) -> str | None:
    """Return why ``exc`` means the cluster is unavailable, or None when it is another failure."""
    if isinstance(exc, os_errors.ConnectionTimeout):
        return "the search cluster did not answer in time"
    if isinstance(exc, os_errors.ConnectionError):
        return f"the search cluster cannot be reached ({_cause(exc)})"
    if isinstance(exc, os_errors.TransportError):
        status = exc.status_code
        if isinstance(status, int) and (status >= 500 or status in _UNAVAILABLE_STATUSES):
            return f"the search cluster answered {status} ({str(exc.error)[:200]})"
    return None


def _cause(exc: os_errors.ConnectionError) -> str:
    """Return the short reason of a connection failure (refused, reset, name unknown)."""
    info = exc.info
    text = str(info) if info is not None else str(exc.error)
    for known in ("Connection refused", "Connection reset", "Name or service not known", "timed out"):
        if known in text:
            return known.lower()
    return type(info).__name__ if isinstance(info, Exception) else "connection error"


@contextmanager
def backend_errors() -> Iterator[None]:
    """Raise ``BackendUnavailable`` for any client error that says the cluster is unreachable, slow or failing."""
    try:
        yield
    except os_errors.TransportError as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise BackendUnavailable(reason) from exc


def check_health(client: OpenSearch, index: str | None = None) -> str:
    """Return the cluster's (or ``index``'s) health colour; red is ``BackendUnavailable``."""
    with backend_errors():
        health = client.cluster.health(index=index)
    status = str(health.get("status", "red"))
    if status == "red":
        where = f"index {index} of " if index else ""
        raise BackendUnavailable(f"{where}the search cluster is red (a primary shard is unassigned)")
    return status


def live_index(client: OpenSearch, alias: str) -> str:
    """Return the concrete index behind ``alias`` after checking its schema version."""
    with backend_errors():
        found = client.indices.get_mapping(index=alias, ignore=404)
    if missing(found):
        raise IndexNotReady(
            f"no index {alias!r} in the search cluster: run `searchsvc reindex SOURCE...` first"
        )
    if len(found) != 1:
        raise IndexNotReady(
            f"{alias!r} names {len(found)} indexes in the search cluster, not one: run `searchsvc reindex`"
        )
    name, body = next(iter(found.items()))
    check_schema(name, body.get("mappings", {}))
    return str(name)


def missing(answer: dict[str, Any]) -> bool:
    """Tell whether an answer asked for with ``ignore=404`` says not found (asked so, the client logs no warning)."""
    return answer.get("status") == 404 and "error" in answer or answer.get("found") is False


def check_schema(index: str, mappings: dict[str, Any]) -> None:
    """Refuse an index whose mapping was written for another schema version."""
    version = (mappings.get("_meta") or {}).get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the search index {index} has schema version {version}, this searchsvc needs "
            f"{SCHEMA_VERSION}: run `searchsvc reindex SOURCE...` to rebuild it"
        )
