"""The web front end: a JSON API and a server-rendered search page on one Flask app.

Only this package imports Flask. It renders the core's ``SearchResponse`` as
JSON (``api``) or HTML (``pages``) and translates core exceptions into HTTP
errors (``errors``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app
from flask.json.provider import DefaultJSONProvider

from searchsvc.config import Settings, load_settings

if TYPE_CHECKING:
    from searchsvc.messages import SearchResponse

SETTINGS_KEY = "searchsvc.settings"
STORE_KEY = "searchsvc.store"
# Python strings may hold lone surrogates (from a JSON escape); UTF-8 cannot encode them.
_SURROGATES = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """Return ``text`` with lone surrogates replaced by U+FFFD, so it can be encoded as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


class TextResponse(Response):
    """A response whose text body always encodes: lone surrogates become U+FFFD.

    Ingest replaces them, but an index built before it did still holds some, and
    one such title must not turn every page that shows it into a 500.
    """

    def set_data(self, value: bytes | str) -> None:
        """Encode a text body as UTF-8, replacing what cannot be encoded."""
        if isinstance(value, str):
            try:
                value = value.encode("utf-8")
            except UnicodeEncodeError:
                value = encodable(value).encode("utf-8")
        super().set_data(value)


class JSONProvider(DefaultJSONProvider):
    """Write UTF-8 JSON in insertion order with ISO-8601 dates."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        """Serialize dates as ISO-8601 instead of Flask's HTTP-date format."""
        if isinstance(o, (date, datetime)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


class StoreHolder:
    """Open the index store lazily, once per process, and retry while there is none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: Any = None
        self._pid = 0

    def get(self) -> Any:
        """Return the refreshed store of this process, opening it on first use."""
        store = self._store
        # A store opened before a fork shares file offsets with the parent: reopen it.
        if store is None or self._pid != os.getpid():
            with self._lock:
                if self._store is None or self._pid != os.getpid():
                    self._store = self._open()
                    self._pid = os.getpid()
                store = self._store
        store.refresh()
        return store

    def _open(self) -> Any:
        """Open the store of the configured index directory (raises ``IndexNotReady``)."""
        from searchsvc.store import open_store

        return open_store(self.settings.index_dir)

    def close(self) -> None:
        """Close the store if this process opened one."""
        with self._lock:
            if self._store is not None and self._pid == os.getpid():
                self._store.close()
            self._store = None


def current_settings() -> Settings:
    """Return the settings of the running app."""
    return current_app.extensions[SETTINGS_KEY]


def current_store() -> Any:
    """Return the app's refreshed store, raising ``IndexNotReady`` while there is no index."""
    return current_app.extensions[STORE_KEY].get()


def run_search(params: Mapping[str, Sequence[str]]) -> SearchResponse:
    """Validate query-string parameters and search with the app's ``[search]`` settings.

    The one way a web view searches, so no front end can forget the configured
    weights, boosts and snippet length (issue 8).
    """
    from searchsvc.search import request_from_params, search

    limits = current_settings().search
    return search(current_store(), request_from_params(params, limits), limits)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app for ``settings`` (default: ``load_settings()``)."""
    from searchsvc.web import api, errors, pages

    settings = settings if settings is not None else load_settings()
    app = Flask(__name__)
    app.response_class = TextResponse
    app.json = JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_request_bytes
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[STORE_KEY] = StoreHolder(settings)
    errors.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    return app
