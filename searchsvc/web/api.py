"""The JSON API: search, articles, autocomplete, health and the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from searchsvc.errors import QueryError
from searchsvc.params import integer, one
from searchsvc.text import encodable
from searchsvc.web import TextResponse, current_settings, current_store, run_search
from searchsvc.web.openapi import openapi_document
from searchsvc.web.tracking import note_search, query_log_problem

bp = Blueprint("api", __name__)

SUGGEST_LIMIT = 8
MAX_SUGGEST_LIMIT = 20


def search_etag(body: dict[str, Any]) -> str:
    """Return the tag of a search answer: a hash of its body without the time it took.

    Built from what is answered, so any index change that changes the results changes
    it, and one that does not (a reindex of the same articles) keeps it.
    """
    stable = {k: v for k, v in body.items() if k != "took_ms"}
    text = json.dumps(stable, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(encodable(text).encode("utf-8")).hexdigest()[:24]


def cacheable(response: Response, tag: str) -> Response:
    """Mark a search answer reusable for ``server.cache_max_age`` seconds under ``tag``."""
    max_age = current_settings().server.cache_max_age
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    # Weak: a gzipped and a plain body are the same answer to a cache.
    response.set_etag(tag, weak=True)
    return response


def pagination(page: int, per_page: int, total: int) -> dict[str, Any]:
    """Return ``total_pages`` (at most ``search.max_page``) and the relative URL of the next page, or None."""
    max_page = current_settings().search.max_page
    total_pages = min(max_page, -(-total // per_page)) if per_page else 0
    if page >= total_pages:
        return {"total_pages": total_pages, "next": None}
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page + 1))]
    # Relative: a link built from the Host header could be poisoned into a cache.
    return {"total_pages": total_pages, "next": f"{request.path}?{urlencode(args)}"}


@bp.get("/api/search")
def search_articles() -> Response:
    """Search the index; the body is ``SearchResponse.to_dict()`` with ``total_pages`` and ``next``."""
    response = run_search(request.args.to_dict(flat=False))
    note_search(response)
    body = response.to_dict() | pagination(response.page, response.per_page, response.total)
    tag = search_etag(body)
    if request.if_none_match.contains_weak(tag):
        not_modified = Response(status=304)
        del not_modified.headers["Content-Type"]
        return cacheable(not_modified, tag)
    return cacheable(jsonify(body), tag)


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
    if (querylog := query_log_problem()) is not None:
        report["querylog"] = querylog  # searching is unaffected: the status stays as it is
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    if not serving:
        response.status_code = 503
    return response


@bp.get("/api/docs")
def api_docs() -> Response:
    """Return the API's documentation as a page, rendered from the OpenAPI document (no script)."""
    from searchsvc.web.apidocs import operations, rich, schemas

    document = openapi_document(current_settings())
    page = render_template(
        "api_docs.html",
        info=document["info"],
        openapi=document["openapi"],
        description=rich(document["info"]["description"]),
        operations=operations(document),
        schemas=schemas(document),
    )
    return TextResponse(page, mimetype="text/html")


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(current_settings()))
