"""Cross-origin calls to the JSON API from partner sites' pages, off unless ``server.cors_origins``.

Only the machine endpoints (``/api/...`` and ``/feed.atom``) answer other origins,
and only the configured ones; the search page and ``/metrics`` never do. Every
endpoint takes only GET, HEAD and OPTIONS without credentials, so a preflight
needs no more than the methods and a cache time.
"""

from __future__ import annotations

from flask import Flask, Response, request

from searchsvc.config import origin_list
from searchsvc.web import current_settings

CORS_PATHS = ("/api/", "/feed.atom")
# Seconds a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE = 600
# Response headers a partner's script may read besides the simple ones.
EXPOSED = "ETag"
# Request headers a partner's script may add (revalidation); the API reads no others.
ALLOWED_HEADERS = "If-None-Match, If-Modified-Since, Cache-Control"


def allowed_origin(origin: str, origins: tuple[str, ...]) -> str | None:
    """Return the ``Access-Control-Allow-Origin`` value for ``origin``, or None when it is not allowed.

    >>> allowed_origin("https://a.example", ("https://a.example",))
    'https://a.example'
    >>> allowed_origin("https://b.example", ("https://a.example",)) is None
    True
    >>> allowed_origin("https://b.example", ("*",))
    '*'
    """
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def add_cors_headers(response: Response) -> Response:
    """Let a configured origin read an API response; answer its preflight."""
    origins = origin_list(current_settings().server.cors_origins)
    if not origins or not request.path.startswith(CORS_PATHS):
        return response
    if "*" not in origins:
        response.vary.add("Origin")  # the answer differs by origin: caches must keep them apart
    allowed = allowed_origin(request.headers.get("Origin", ""), origins)
    if allowed is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = allowed
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    return response


def init_app(app: Flask) -> None:
    """Add the CORS headers to every response of ``app``."""
    app.after_request(add_cors_headers)
