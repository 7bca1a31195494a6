"""Open the configured backend: the embedded index, or an OpenSearch cluster."""

from __future__ import annotations

from pathlib import Path

from searchsvc.backend import Backend
from searchsvc.config import Settings


def open_backend(settings: Settings, index_dir: Path | None = None) -> Backend:
    """Open the backend ``settings.backend.kind`` names (raises ``IndexNotReady`` or ``BackendUnavailable``)."""
    if settings.backend.kind == "opensearch":
        # Loaded only when chosen: the embedded default never imports the cluster client.
        from searchsvc.opensearch.searching import open_cluster

        return open_cluster(settings)
    from searchsvc.embedded import EmbeddedBackend
    from searchsvc.store import open_store

    return EmbeddedBackend(open_store(index_dir or settings.index_dir))
