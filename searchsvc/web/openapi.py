"""The OpenAPI 3.1 description of the JSON API, with limits taken from the settings."""

from __future__ import annotations

from typing import Any

from searchsvc.config import Settings
from searchsvc.messages import ACCENT_MODES, FACET_NAMES, READING_MODES, SORTS

JSON = "application/json"
# A rule between two parameters, which a parameter schema cannot say: in the text of both
# parameters and of each operation that takes them.
DATE_RULE = "When both are given, `date_from <= date_to`; otherwise the answer is 400 `invalid_parameter`."
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of an earlier answer: 304 without a body while it still holds.",
    "schema": {"type": "string"},
}
CACHE_CONTROL = {
    "description": "`public, max-age=N` (N = `server.cache_max_age`), or `no-cache` when it is 0.",
    "schema": {"type": "string"},
}
ETAG = {
    "description": "A weak tag of the answer: a hash of its body without `took_ms`.",
    "schema": {"type": "string"},
}
ARTICLE_ID = {"name": "article_id", "in": "path", "required": True, "schema": {"type": "string"}}


def ref(name: str) -> dict[str, str]:
    """Return a reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Allow ``null`` besides ``schema`` (JSON Schema 2020-12 style)."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """Return an object schema whose listed (default: all) properties are required."""
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def error_reply(description: str) -> dict[str, Any]:
    """Return a response object with the JSON error body."""
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def query_param(
    name: str, description: str, schema: dict[str, Any], repeatable: bool = False
) -> dict[str, Any]:
    """Return a query parameter object; a single-valued one may be sent empty (meaning its default)."""
    if repeatable:
        schema = {"type": "array", "items": schema}
    param = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if repeatable:
        param |= {"style": "form", "explode": True}
    else:
        param["allowEmptyValue"] = True
    return param


def search_parameters(settings: Settings) -> list[dict[str, Any]]:
    """Return the parameters of ``/api/search`` (the search page takes the same ones)."""
    limits = settings.search
    day = {"type": "string", "format": "date", "examples": ["2024-09-07"]}
    text = {"type": "string"}
    return [
        query_param(
            "q",
            "Query text, with or without Vietnamese accents (`ha noi` finds `Hà Nội`); Telex/VNI typing "
            f"is decoded. Empty lists the newest articles. Cut to {limits.max_query_chars} characters.",
            {"type": "string", "default": ""},
        ),
        query_param(
            "page",
            "1-based result page.",
            {"type": "integer", "minimum": 1, "maximum": limits.max_page, "default": 1},
        ),
        query_param(
            "per_page",
            "Results per page.",
            {"type": "integer", "minimum": 1, "maximum": limits.max_per_page, "default": limits.per_page},
        ),
        query_param(
            "sort",
            "Result order. `newest`/`oldest` list only the articles where neighbouring query words that "
            "readers write as one word (`miền Trung`) stand together, when there are any.",
            {"type": "string", "enum": list(SORTS), "default": "relevance"},
        ),
        query_param("category", "Keep articles in any of these categories.", text, repeatable=True),
        query_param("source", "Keep articles from any of these sources.", text, repeatable=True),
        query_param("author", "Keep articles by this author.", text, repeatable=True),
        query_param("tag", "Keep articles with this tag.", text, repeatable=True),
        query_param(
            "date_from",
            f"First publication day, inclusive, Vietnam time (UTC+7). {DATE_RULE}",
            day,
        ),
        query_param(
            "date_to",
            f"Last publication day, inclusive, Vietnam time (UTC+7). {DATE_RULE}",
            day,
        ),
        query_param(
            "as_typed",
            "`1`: search exactly what was typed. By default a query with no full match is replaced by its "
            "correction when that has full matches (see `correction`).",
            {"type": "string", "enum": ["0", "1", "false", "true"], "default": "0"},
        ),
        query_param(
            "aliases",
            "Abbreviations and aliases (`UBND` = `Ủy ban nhân dân`): `1` searches them too, `0` never. "
            "Without it they are searched only when the words as typed have no full match (see `aliases`), "
            "and otherwise offered (see `alias_offers`). Quoted words are never expanded.",
            {"type": "string", "enum": ["0", "1", "false", "true"]},
        ),
        query_param(
            "accents",
            "`match`: a word typed with accent marks matches only the same marks (`bão` finds `BÃO`, "
            "not `báo`); a word without marks matches every accent form. `ignore`: every word matches "
            "every accent form (the response's `folded_total`).",
            {"type": "string", "enum": list(ACCENT_MODES), "default": "match"},
        ),
    ]


def component_schemas() -> dict[str, Any]:
    """Return the schemas of the response bodies."""
    string, number, integer = {"type": "string"}, {"type": "number"}, {"type": "integer"}
    maybe_string = nullable(string)
    facet_value = obj({"value": string, "count": integer})
    return {
        "Error": obj(
            {
                "error": obj(
                    {
                        "code": {
                            "type": "string",
                            "examples": [
                                "invalid_parameter",
                                "bad_request",
                                "forbidden",
                                "not_found",
                                "method_not_allowed",
                                "request_timeout",
                                "request_too_large",
                                "internal_error",
                                "index_not_ready",
                            ],
                        },
                        "message": string,
                    }
                )
            }
        ),
        "Highlights": obj(
            {
                "title": {"type": "string", "description": "HTML-escaped title, matched words in `<mark>`."},
                "snippet": {
                    "type": "string",
                    "description": "HTML-escaped passage, matched words in `<mark>`.",
                },
            }
        ),
        "Hit": obj(
            {
                "id": string,
                "title": string,
                "url": maybe_string,
                "published": nullable({"type": "string", "format": "date-time"}),
                "category": maybe_string,
                "source": maybe_string,
                "author": maybe_string,
                "score": number,
                "highlights": ref("Highlights"),
                "tags": {"type": "array", "items": string},
            }
        ),
        "FacetValue": facet_value,
        "SearchResponse": obj(
            {
                "query": string,
                "total": integer,
                "page": integer,
                "per_page": integer,
                "took_ms": number,
                "total_pages": {
                    "type": "integer",
                    "description": "Pages of `per_page` results, at most the `page` maximum.",
                },
                "next": nullable(
                    {
                        "type": "string",
                        "description": "Relative URL of the next page (the same parameters, `page` + 1); "
                        "null on the last page.",
                    }
                ),
                "hits": {"type": "array", "items": ref("Hit")},
                "facets": {
                    "type": "object",
                    "description": "Counts per value; `year` values are `YYYY`, `month` values `YYYY-MM`.",
                    "properties": {
                        name: {"type": "array", "items": ref("FacetValue")} for name in FACET_NAMES
                    },
                    "additionalProperties": {"type": "array", "items": ref("FacetValue")},
                },
                "suggestion": nullable(
                    obj(
                        {
                            "text": string,
                            "html": {"type": "string", "description": "Changed words in `<em>`."},
                        }
                    )
                ),
                "reading": obj(
                    {
                        "mode": {"type": "string", "enum": list(READING_MODES)},
                        "text": {"type": "string", "description": "The query as searched."},
                    }
                ),
                "partial": {
                    "type": "boolean",
                    "description": "No article had every word; best partial matches.",
                },
                "matched_terms": {
                    "type": "array",
                    "items": string,
                    "description": "The index words the query looked for, for highlighting: folded words "
                    "(`bao`) for words typed without marks, exact forms (`bão`) for marked ones.",
                },
                "accents": {"type": "string", "enum": list(ACCENT_MODES)},
                "folded_total": {
                    "type": "integer",
                    "description": "How many articles would match with accents ignored (same filters); "
                    "more than `total` when marked words narrowed the results.",
                },
                "loosened": {
                    "type": "array",
                    "description": "Marked words no article has as typed, read at a looser level.",
                    "items": obj(
                        {
                            "word": {"type": "string", "description": "The word as typed."},
                            "level": {
                                "type": "string",
                                "enum": ["toneless", "folded"],
                                "description": "`toneless`: the same letters with any tone; `folded`: "
                                "accents ignored.",
                            },
                            "forms": {"type": "array", "items": string, "description": "The words searched."},
                        }
                    ),
                },
                "sort": {"type": "string", "enum": list(SORTS)},
                "topic_narrowed": {
                    "type": "boolean",
                    "description": "A date sort lists only the articles where neighbouring query words "
                    "stand together; `relevance_total` articles match the words anywhere.",
                },
                "relevance_total": nullable(
                    {
                        "type": "integer",
                        "description": "With `topic_narrowed`: how many `sort=relevance` lists.",
                    }
                ),
                "truncated": {
                    "type": "boolean",
                    "description": "The query was cut to the configured length.",
                },
                "correction": nullable(
                    obj(
                        {
                            "text": {
                                "type": "string",
                                "description": "The corrected query whose results these are.",
                            },
                            "html": {"type": "string", "description": "Changed words in `<em>`."},
                            "typed": {
                                "type": "string",
                                "description": "The query as typed (no full match); search it with `as_typed=1`.",
                            },
                        }
                    )
                ),
                "aliases": {
                    "type": "array",
                    "description": "Abbreviations and aliases searched besides the words as typed: with "
                    "`aliases=1`, or when the words as typed have no full match (`aliases=0` turns this off).",
                    "items": obj(
                        {
                            "typed": {"type": "string", "description": "The words as typed, e.g. `UBND`."},
                            "aliases": {"type": "array", "items": string},
                        }
                    ),
                },
                "alias_offers": {
                    "type": "array",
                    "description": "Abbreviations and aliases of the query that were not searched "
                    "(`aliases=1` searches them too).",
                    "items": obj(
                        {
                            "typed": {"type": "string", "description": "The words as typed, e.g. `UBND`."},
                            "aliases": {"type": "array", "items": string},
                        }
                    ),
                },
            },
            required=[
                "query",
                "total",
                "page",
                "per_page",
                "took_ms",
                "total_pages",
                "next",
                "hits",
                "facets",
                "suggestion",
                "reading",
            ],
        ),
        "Article": obj(
            {
                "id": string,
                "url": maybe_string,
                "title": string,
                "summary": maybe_string,
                "body": string,
                "author": maybe_string,
                "published": nullable({"type": "string", "format": "date-time"}),
                "category": maybe_string,
                "source": maybe_string,
                "tags": {"type": "array", "items": string},
            }
        ),
        "RelatedResponse": obj(
            {
                "id": {"type": "string", "description": "The article asked about."},
                "related": {
                    "type": "array",
                    "items": obj(
                        {
                            "id": string,
                            "title": string,
                            "url": maybe_string,
                            "published": nullable({"type": "string", "format": "date-time"}),
                            "category": maybe_string,
                            "source": maybe_string,
                            "score": number,
                        }
                    ),
                },
                "terms": {
                    "type": "array",
                    "items": string,
                    "description": "The folded words and word pairs the articles were found by.",
                },
                "took_ms": number,
            }
        ),
        "Suggestions": obj(
            {
                "query": string,
                "suggestions": {
                    "type": "array",
                    "items": obj(
                        {
                            "text": {"type": "string", "description": "Accented completion."},
                            "html": {
                                "type": "string",
                                "description": "Escaped completion, typed prefix in `<mark>`.",
                            },
                        }
                    ),
                },
            }
        ),
        "Health": obj(
            {
                "status": {
                    "type": "string",
                    "enum": ["ok", "degraded"],
                    "description": "`degraded`: a newer generation cannot be served; the one named is.",
                },
                "generation": {"type": "string", "description": "The generation this process serves."},
                "documents": integer,
                "segments": integer,
                "problem": {"type": "string", "description": "Why it is degraded (no server paths)."},
                "querylog": {
                    "type": "string",
                    "description": "Why this worker's query log is not written or lost counts (searching is "
                    "unaffected, the status stays).",
                },
            },
            required=["status", "generation", "documents"],
        ),
    }


ERROR_DESCRIPTIONS = {
    400: "`invalid_parameter`: a parameter is invalid (not ASCII digits, out of range, not a date, an "
    "unknown sort, a single-valued parameter repeated, `date_from` after `date_to`); `bad_request`: the "
    "path or query string is not valid UTF-8 (raw or percent-encoded), or the request line, method or "
    "a header is malformed.",
    403: "`forbidden`: `/metrics` is readable only from the addresses of `server.metrics_allow`.",
    404: "`not_found`: unknown article, or an article id the path cannot carry (a line break in it).",
    405: "`method_not_allowed`: only GET, HEAD and OPTIONS.",
    408: "`request_timeout`: the request did not arrive whole within `server.header_timeout` seconds.",
    413: "`request_too_large`: the request (URL, headers and body) exceeds `server.max_request_bytes`.",
    414: "`request_too_large`: the request line is longer than 8,190 bytes.",
    431: "`request_too_large`: a header line is longer than 8,190 bytes, or there are more than 100.",
    500: "`internal_error`: unexpected server error (logged).",
    503: "`index_not_ready`: there is no usable index yet; run `searchsvc reindex`.",
}
# What any request can get, whatever its path: the front door and the app's edges answer these.
ANY_REQUEST = (400, 405, 408, 413, 414, 431, 500)


def common_errors(*statuses: int) -> dict[str, Any]:
    """Return the error responses every endpoint shares plus ``statuses``."""
    chosen = sorted({*statuses, *ANY_REQUEST})
    return {str(status): error_reply(ERROR_DESCRIPTIONS[status]) for status in chosen}


def options_operation(operation_id: str, *statuses: int) -> dict[str, Any]:
    """Return the ``OPTIONS`` operation of a path: 204 with the ``Allow`` header (and ``statuses``)."""
    allow = {
        "description": "The methods of this path.",
        "schema": {"type": "string", "const": "GET, HEAD, OPTIONS"},
    }
    return {
        "operationId": operation_id,
        "summary": "List the methods this path allows.",
        "responses": {
            "204": {"description": "No content.", "headers": {"Allow": allow}},
            **common_errors(*statuses),
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the API."""
    ok = {"description": "OK"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "searchsvc",
            "version": "1",
            "description": "Accent-insensitive search over Vietnamese news articles. Errors are "
            '`{"error": {"code", "message"}}`. Pages of other sites may call it from a browser when '
            "their origin is in `server.cors_origins` (none by default).",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search articles with filters, facets, highlights and a did-you-mean suggestion.",
                    "description": DATE_RULE,
                    "parameters": [*search_parameters(settings), IF_NONE_MATCH],
                    "responses": {
                        "200": ok
                        | {
                            "headers": {"Cache-Control": CACHE_CONTROL, "ETag": ETAG},
                            "content": {JSON: {"schema": ref("SearchResponse")}},
                        },
                        "304": {
                            "description": "Not modified: `If-None-Match` names the tag of this answer.",
                            "headers": {"Cache-Control": CACHE_CONTROL, "ETag": ETAG},
                        },
                        **common_errors(503),
                    },
                },
                "options": options_operation("searchOptions"),
            },
            "/api/articles/{article_id}": {
                "get": {
                    "operationId": "getArticle",
                    "summary": "Return one stored article.",
                    "parameters": [ARTICLE_ID],
                    "responses": {
                        "200": ok | {"content": {JSON: {"schema": ref("Article")}}},
                        **common_errors(404, 503),
                    },
                },
                "options": options_operation("getArticleOptions", 404) | {"parameters": [ARTICLE_ID]},
            },
            "/api/articles/{article_id}/related": {
                "get": {
                    "operationId": "relatedArticles",
                    "summary": "Return other articles on the same story or topic, best first.",
                    "parameters": [
                        ARTICLE_ID,
                        query_param(
                            "limit",
                            "Most articles to return.",
                            {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                        ),
                        query_param(
                            "before",
                            "Only articles published before this day (Vietnam time): a story's background.",
                            {"type": "string", "format": "date", "examples": ["2024-09-07"]},
                        ),
                    ],
                    "responses": {
                        "200": ok | {"content": {JSON: {"schema": ref("RelatedResponse")}}},
                        **common_errors(404, 503),
                    },
                },
                "options": options_operation("relatedArticlesOptions", 404) | {"parameters": [ARTICLE_ID]},
            },
            "/feed.atom": {
                "get": {
                    "operationId": "searchFeed",
                    "description": DATE_RULE,
                    "summary": "An Atom feed of a search: the newest matching articles first (20 unless "
                    "`per_page` says otherwise; `sort` and `page` are ignored, but checked like "
                    "`/api/search` checks them: a bad value is 400).",
                    "parameters": search_parameters(settings),
                    "responses": {
                        "200": ok | {"content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                        **common_errors(503),
                    },
                },
                "options": options_operation("searchFeedOptions"),
            },
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Complete the words being typed, accent-insensitively.",
                    "parameters": [
                        query_param(
                            "q",
                            "What has been typed so far. Empty gives no suggestions.",
                            {"type": "string", "maxLength": settings.search.max_query_chars},
                        ),
                        query_param(
                            "limit",
                            "Most suggestions to return.",
                            {"type": "integer", "minimum": 1, "maximum": 20, "default": 8},
                        ),
                    ],
                    "responses": {
                        "200": ok | {"content": {JSON: {"schema": ref("Suggestions")}}},
                        **common_errors(503),
                    },
                },
                "options": options_operation("suggestOptions"),
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Report the generation this process serves, and whether a newer one failed.",
                    "responses": {
                        "200": ok | {"content": {JSON: {"schema": ref("Health")}}},
                        **common_errors(503),
                    },
                },
                "options": options_operation("healthOptions"),
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics: requests and latency by endpoint and status (summed over "
                    "every worker), the index generation, documents, last reindex time and duration. "
                    "Readable only from the addresses of `server.metrics_allow` (default: loopback).",
                    "responses": {
                        "200": ok | {"content": {"text/plain": {"schema": {"type": "string"}}}},
                        **common_errors(403),
                    },
                },
                "options": options_operation("metricsOptions"),
            },
            "/api/docs": {
                "get": {
                    "operationId": "apiDocs",
                    "summary": "This document as a page to read (HTML, no script).",
                    "responses": {
                        "200": ok | {"content": {"text/html": {"schema": {"type": "string"}}}},
                        **common_errors(),
                    },
                },
                "options": options_operation("apiDocsOptions"),
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": ok | {"content": {JSON: {"schema": {"type": "object"}}}},
                        **common_errors(),
                    },
                },
                "options": options_operation("openapiOptions"),
            },
        },
        "components": {"schemas": component_schemas()},
    }
