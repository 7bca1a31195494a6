"""The web front end: a JSON API and a server-rendered search page on one Flask app.

Only this package imports Flask. It renders the core's ``SearchResponse`` as
JSON (``api``) or HTML (``pages``) and translates core exceptions into HTTP
errors (``errors``).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, current_app, request, url_for
from flask.json.provider import DefaultJSONProvider

from searchsvc.config import Settings, load_settings
from searchsvc.text import encodable

if TYPE_CHECKING:
    from searchsvc.backend import Backend
    from searchsvc.messages import SearchResponse

SETTINGS_KEY = "searchsvc.settings"
STORE_KEY = "searchsvc.store"
ASSETS_KEY = "searchsvc.assets"
STATIC_FOLDER = Path(__file__).resolve().parent / "static"
# A versioned static URL never changes content, so browsers keep it for a year without asking.
IMMUTABLE = "public, max-age=31536000, immutable"
# Bodies worth compressing: text, JSON, JavaScript, SVG; smaller ones gain nothing.
COMPRESSIBLE_TYPES = ("application/json", "application/javascript", "image/svg+xml")
MIN_COMPRESS_BYTES = 512


class TextResponse(Response):
    """A response whose text body always encodes: lone surrogates become U+FFFD.

    Ingest replaces them, but an index built before it did still holds some, and
    one such title must not turn every page that shows it into a 500.
    """

    def set_data(self, value: bytes | str) -> None:
        """Encode a text body as UTF-8, replacing what cannot be encoded."""
        if isinstance(value, str):
            text = value
            try:
                value = text.encode("utf-8")
            except UnicodeEncodeError:
                value = encodable(text).encode("utf-8")
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
    """Open the configured backend lazily, once per process, and retry while there is none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: Backend | None = None
        self._pid = 0

    def get(self) -> Backend:
        """Return the refreshed backend of this process, opening it on first use."""
        store = self._store
        # A store opened before a fork shares file offsets with the parent: reopen it.
        if store is None or self._pid != os.getpid():
            with self._lock:
                if self._store is None or self._pid != os.getpid():
                    self._store = self._open()
                    self._pid = os.getpid()
                store = self._store
        assert store is not None  # opened above, or open_store raised
        store.refresh()
        return store

    def _open(self) -> Backend:
        """Open the configured backend (raises ``IndexNotReady`` or ``BackendUnavailable``)."""
        from searchsvc.engine import open_backend

        return open_backend(self.settings)

    def close(self) -> None:
        """Close the store if this process opened one."""
        with self._lock:
            if self._store is not None and self._pid == os.getpid():
                self._store.close()
            self._store = None


class Assets:
    """The static files, read once, each with a version (a hash of its bytes) to put in its URL."""

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                data = path.read_bytes()
                mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.files[path.name] = (data, hashlib.sha256(data).hexdigest()[:12], mimetype)

    def url(self, name: str) -> str:
        """Return the versioned URL of a static file (``/static/style.css?v=…``)."""
        return url_for("static", filename=name, v=self.files[name][1])

    def response(self, filename: str) -> Response:
        """Serve one static file: cached for a year under its current version, revalidated otherwise."""
        found = self.files.get(filename)
        if found is None:
            abort(404)
        data, version, mimetype = found
        response = Response(data, mimetype=mimetype)
        # Weak: the gzip and the plain bytes are the same file to a cache.
        response.set_etag(version, weak=True)
        response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == version else "no-cache"
        response.make_conditional(request)  # sets the status and headers on response itself
        return response


def compress(response: Response) -> Response:
    """Gzip a text, JSON, JavaScript or SVG body when the client accepts gzip; say it varies either way."""
    mimetype = response.mimetype or ""
    if not (mimetype.startswith("text/") or mimetype in COMPRESSIBLE_TYPES):
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.status_code in (204, 304)
        or not request.accept_encodings["gzip"]
    ):
        return response
    data = response.get_data()
    if len(data) < MIN_COMPRESS_BYTES:
        return response
    # mtime=0: the same body always compresses to the same bytes.
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


# The order the OpenAPI document writes them in; methods a route adds come after, sorted.
ALLOW_ORDER = ("GET", "HEAD", "OPTIONS")


def ordered_allow(response: Response) -> Response:
    """Write ``Allow`` in one fixed order (Werkzeug's follows a set, and varied between processes)."""
    allow = response.headers.get("Allow")
    if allow:
        methods = {m.strip() for m in allow.split(",") if m.strip()}
        known = [m for m in ALLOW_ORDER if m in methods]
        response.headers["Allow"] = ", ".join(known + sorted(methods - set(ALLOW_ORDER)))
    return response


def current_settings() -> Settings:
    """Return the settings of the running app."""
    settings: Settings = current_app.extensions[SETTINGS_KEY]
    return settings


def current_store() -> Backend:
    """Return the app's refreshed backend, raising ``IndexNotReady`` while there is no index."""
    stores: StoreHolder = current_app.extensions[STORE_KEY]
    return stores.get()


def run_search(params: Mapping[str, Sequence[str]]) -> SearchResponse:
    """Validate query-string parameters and search with the app's ``[search]`` settings.

    The one way a web view searches, so no front end can forget the configured
    weights, boosts and snippet length (issue 8).
    """
    from searchsvc.search import request_from_params, search

    limits = current_settings().search
    return search(current_store(), request_from_params(params, limits), limits)


# A common syllable: the first search fills one-time tables (highlight letter classes, patterns).
WARM_QUERY = "tin"


def open_early(app: Flask) -> None:
    """Open the index and answer one search in a new worker, so its first reader waits for neither.

    Without an index yet, nothing happens: the first request tries again (503 until there is one).
    """
    from searchsvc.errors import SearchsvcError
    from searchsvc.search import SearchRequest, search

    try:
        store = app.extensions[STORE_KEY].get()
        search(store, SearchRequest(q=WARM_QUERY), app.extensions[SETTINGS_KEY].search)
    except SearchsvcError:
        return


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app for ``settings`` (default: ``load_settings()``)."""
    from searchsvc.web import api, cors, errors, feed, metrics, origin, pages

    settings = settings if settings is not None else load_settings()
    from searchsvc.aliases import load_aliases

    load_aliases(settings.search.aliases)  # a missing or malformed alias file fails here, not in a search
    # Static files are served by ``Assets``, with versioned URLs and cache headers.
    app = Flask(__name__, static_folder=None)
    app.response_class = TextResponse
    app.json = JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_request_bytes
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[STORE_KEY] = StoreHolder(settings)
    assets = Assets(STATIC_FOLDER)
    app.extensions[ASSETS_KEY] = assets
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=assets.response)
    app.add_template_global(assets.url, "asset_url")
    # Registered first so it runs last, on the final body of every response, errors included.
    app.after_request(compress)
    app.after_request(ordered_allow)
    metrics.init_app(app)  # first, so its timer starts even when an error hook answers early
    errors.init_app(app)
    cors.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feed.bp)
    # X-Forwarded-* are believed from the configured proxies only (gunicorn is told to believe none).
    app.wsgi_app = origin.TrustedProxies(app.wsgi_app, origin.trusted_proxies(settings.server))  # type: ignore[method-assign]
    return app
