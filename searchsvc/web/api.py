"""The JSON API: search, articles, autocomplete, health and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from searchsvc.errors import QueryError
from searchsvc.params import integer, one
from searchsvc.web import current_settings, current_store, run_search
from searchsvc.web.openapi import openapi_document
from searchsvc.web.tracking import note_search

bp = Blueprint("api", __name__)

SUGGEST_LIMIT = 8
MAX_SUGGEST_LIMIT = 20


@bp.get("/api/search")
def search_articles() -> Response:
    """Search the index; the body is ``SearchResponse.to_dict()``."""
    response = run_search(request.args.to_dict(flat=False))
    note_search(response)
    return jsonify(response.to_dict())


@bp.get("/api/articles/<path:article_id>/related")
def related_articles(article_id: str) -> Response:
    """Return other articles on the same story or topic (``limit``, ``before``), or 404."""
    from searchsvc.related import related_params

    limit, before = related_params(request.args.to_dict(flat=False))
    answer = current_store().related(article_id, limit, before, current_settings().search)
    return jsonify(answer.to_dict())


@bp.get("/api/articles/<path:article_id>")
def get_article(article_id: str) -> Response:
    """Return one stored article, or 404."""
    return jsonify(current_store().get_article(article_id))


@bp.get("/api/suggest")
def suggest() -> Response:
    """Return accent-insensitive completions of the word being typed."""
    settings = current_settings()
    params = request.args.to_dict(flat=False)
    q = one(params, "q") or ""
    limit = integer(params, "limit", SUGGEST_LIMIT, 1, MAX_SUGGEST_LIMIT, digits=2)
    if len(q) > settings.search.max_query_chars:
        raise QueryError(
            "invalid_parameter", f"'q' is longer than {settings.search.max_query_chars} characters"
        )
    completions = current_store().complete(q, limit) if q.strip() else []
    return jsonify({"query": q, "suggestions": [{"text": c.text, "html": c.html} for c in completions]})


@bp.get("/healthz")
def health() -> Response:
    """Report the generation this process serves: ok, or degraded with why (503 while nothing can be served)."""
    report = current_store().health()
    serving = report.pop("serving", True)
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    if not serving:
        response.status_code = 503
    return response


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(current_settings()))
