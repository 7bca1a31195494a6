"""The JSON API: search, articles, autocomplete, health and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from searchsvc.errors import QueryError
from searchsvc.web import current_settings, current_store, run_search
from searchsvc.web.openapi import openapi_document
from searchsvc.web.tracking import note_search, query_log_problem

bp = Blueprint("api", __name__)

SUGGEST_LIMIT = 8
MAX_SUGGEST_LIMIT = 20


def single_param(name: str, default: str = "") -> str:
    """Return a parameter that may be given at most once."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise QueryError("invalid_parameter", f"'{name}' may be given only once")
    return values[0] if values else default


def suggest_limit() -> int:
    """Parse the optional ``limit`` of ``/api/suggest``: ASCII digits, 1 to 20; empty means 8."""
    raw = single_param("limit")
    if not raw:
        return SUGGEST_LIMIT
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError("invalid_parameter", f"'limit' must be an integer, got {raw[:40]!r}")
    if len(raw) > 2 or not 1 <= int(raw) <= MAX_SUGGEST_LIMIT:
        raise QueryError(
            "invalid_parameter", f"'limit' must be between 1 and {MAX_SUGGEST_LIMIT}, got {raw[:40]}"
        )
    return int(raw)


@bp.get("/api/search")
def search_articles() -> Response:
    """Search the index; the body is ``SearchResponse.to_dict()``."""
    response = run_search(request.args.to_dict(flat=False))
    note_search(response)
    return jsonify(response.to_dict())


@bp.get("/api/articles/<path:article_id>/related")
def related_articles(article_id: str) -> Response:
    """Return other articles on the same story or topic (``limit``, ``before``), or 404."""
    from searchsvc.related import related, related_params

    limit, before = related_params(request.args.to_dict(flat=False))
    answer = related(current_store(), article_id, limit, before, current_settings().search)
    return jsonify(answer.to_dict())


@bp.get("/api/articles/<path:article_id>")
def get_article(article_id: str) -> Response:
    """Return one stored article, or 404."""
    return jsonify(current_store().get_article(article_id))


@bp.get("/api/suggest")
def suggest() -> Response:
    """Return accent-insensitive completions of the word being typed."""
    settings = current_settings()
    q = single_param("q")
    limit = suggest_limit()
    if len(q) > settings.search.max_query_chars:
        raise QueryError(
            "invalid_parameter", f"'q' is longer than {settings.search.max_query_chars} characters"
        )
    completions = current_store().complete(q, limit) if q.strip() else []
    return jsonify({"query": q, "suggestions": [{"text": c.text, "html": c.html} for c in completions]})


@bp.get("/healthz")
def health() -> Response:
    """Report the generation this process serves: ok, or degraded with why (503 while there is no index)."""
    report = current_store().health()
    if (querylog := query_log_problem()) is not None:
        report["querylog"] = querylog  # searching is unaffected: the status stays as it is
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(current_settings()))
