"""Translate core exceptions and HTTP errors into responses, and add security headers.

The JSON error shape is a contract: ``{"error": {"code": str, "message": str}}``.
API paths always get it; browser pages get an HTML error page instead.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from searchsvc.errors import BackendUnavailable, IndexNotReady, NotFound, QueryError
from searchsvc.web import TextResponse

# Only same-origin resources; no inline script or style; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    431: "request_too_large",
    500: "internal_error",
    503: "index_not_ready",
}
HTML_TITLES = {
    400: "Yêu cầu không hợp lệ",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    413: "Yêu cầu quá lớn",
    500: "Đã có lỗi xảy ra",
    503: "Chỉ mục chưa sẵn sàng",
}
HTML_MESSAGES = {
    400: "Địa chỉ trang có tham số không hợp lệ.",
    404: "Trang hoặc bài viết bạn tìm không tồn tại, hoặc đã bị gỡ khỏi chỉ mục.",
    405: "Trang này chỉ nhận yêu cầu GET.",
    413: "Địa chỉ hoặc nội dung yêu cầu quá dài. Hãy rút ngắn câu tìm kiếm.",
    500: "Máy chủ gặp lỗi ngoài dự kiến. Vui lòng thử lại sau.",
    503: "Dữ liệu tìm kiếm đang được chuẩn bị. Vui lòng thử lại sau ít phút.",
}


def wants_json() -> bool:
    """Tell whether the current request should get a JSON error rather than a page."""
    path = request.path
    # Machine endpoints (feeds and metrics included): their readers never render a page.
    if path.startswith("/api/") or path in ("/api", "/healthz", "/feed.atom", "/metrics"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(status: int, code: str, message: str) -> Response:
    """Return the JSON error body with ``status``."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def error_response(status: int, code: str, message: str) -> Response:
    """Return a JSON or HTML error, depending on the request."""
    if wants_json():
        return json_error(status, code, message)
    title = HTML_TITLES.get(status, HTML_TITLES[500])
    html = render_template(
        "error.html", status=status, title=title, message=HTML_MESSAGES.get(status, message)
    )
    return TextResponse(html, status=status, mimetype="text/html")


def request_size() -> int:
    """Return the size in bytes of the request line, headers and declared body."""
    environ = request.environ
    size = len(environ.get("REQUEST_METHOD", "")) + len(environ.get("PATH_INFO", ""))
    size += len(environ.get("QUERY_STRING", ""))
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            size += len(key) + len(str(value)) + 4
    return size + (request.content_length or 0)


def reject_large_requests() -> Response | None:
    """Answer 413 before routing when the request exceeds ``max_request_bytes``."""
    from searchsvc.web import current_settings

    limit = current_settings().server.max_request_bytes
    size = request_size()
    if size > limit:
        return error_response(413, "request_too_large", f"the request has {size} bytes, the limit is {limit}")
    return None


def reject_undecodable_query() -> Response | None:
    """Answer 400 when the path or a query parameter is not UTF-8, raw or percent-encoded.

    Werkzeug would keep ``%ff`` as text and search for it; the API promises 400.
    """
    try:
        request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return error_response(400, "bad_request", "the path is not valid UTF-8")
    try:
        query = request.query_string.decode("utf-8")
        parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeError:
        return error_response(400, "bad_request", "the query string is not valid UTF-8")
    return None


def answer_options(response: Response) -> Response:
    """Answer ``OPTIONS`` with 204 and the ``Allow`` header, not an empty 200 ``text/html``."""
    if request.method == "OPTIONS" and response.status_code == 200 and "Allow" in response.headers:
        response.status_code = 204
        response.set_data(b"")
        del response.headers["Content-Type"]
    return response


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def handle_query_error(exc: QueryError) -> Response:
    """Answer an invalid search parameter with 400."""
    return error_response(400, exc.code, exc.message)


def handle_not_found(exc: NotFound) -> Response:
    """Answer an unknown article with 404."""
    return error_response(404, "not_found", str(exc))


def handle_index_not_ready(exc: IndexNotReady) -> Response:
    """Answer 503 while there is no usable index; the next request retries.

    The exception names the index directory, for the operator's log: the client
    gets a message without server paths.
    """
    from flask import current_app

    current_app.logger.warning("index not ready: %s", exc)
    response = error_response(
        503, "index_not_ready", "the search index is not ready: run `searchsvc reindex SOURCE...`"
    )
    response.headers["Retry-After"] = "5"
    return response


def handle_backend_unavailable(exc: BackendUnavailable) -> Response:
    """Answer 503 while the search cluster is unreachable, slow or red; the next request tries again.

    The reason (refused, timed out, red) says what the operator should look at and
    names no address, so the client gets it as is.
    """
    from flask import current_app

    current_app.logger.warning("search backend unavailable: %s", exc)
    response = error_response(503, "backend_unavailable", str(exc))
    response.headers["Retry-After"] = "5"
    return response


def handle_http_error(exc: HTTPException) -> Response:
    """Answer Werkzeug's HTTP errors (404 route, 405, 413 body ...) in our shape."""
    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        status = 413
    code = HTTP_CODES.get(status, "http_error")
    messages = {
        404: f"no such page or endpoint: {request.path[:200]}",
        405: f"{request.method} is not allowed on {request.path[:200]}; use GET",
    }
    response = error_response(status, code, messages.get(status) or exc.description or exc.name)
    if status == 405:
        allow = exc.get_headers().copy()
        response.headers.extend([(k, v) for k, v in allow if k.lower() == "allow"])
    return response


def handle_unexpected(exc: Exception) -> Response:
    """Log any other exception and answer 500 without leaking details."""
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "internal server error")


def init_app(app: Flask) -> None:
    """Register the error handlers, the size check and the headers on ``app``."""
    app.before_request(reject_large_requests)
    app.before_request(reject_undecodable_query)
    app.after_request(answer_options)
    app.after_request(add_security_headers)
    app.register_error_handler(QueryError, handle_query_error)
    app.register_error_handler(NotFound, handle_not_found)
    app.register_error_handler(IndexNotReady, handle_index_not_ready)
    app.register_error_handler(BackendUnavailable, handle_backend_unavailable)
    app.register_error_handler(HTTPException, handle_http_error)
    # This edge is where unexpected errors must become a clean 500, so it catches everything.
    app.register_error_handler(Exception, handle_unexpected)
