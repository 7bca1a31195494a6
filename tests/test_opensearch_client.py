"""Backend settings, the client's error map, and how the edges answer an unavailable cluster."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from opensearchpy import exceptions as os_errors

from searchsvc.config import BackendSettings, load_settings
from searchsvc.errors import BackendUnavailable, ConfigError, SchemaMismatch
from searchsvc.opensearch.client import backend_errors, check_schema, connect, live_index, unavailable_reason
from searchsvc.schema import SCHEMA_VERSION


def closed_port_url() -> str:
    """Return the URL of a local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_backend_defaults_to_embedded():
    assert load_settings(environ={}).backend == BackendSettings(
        kind="embedded", url="http://127.0.0.1:9200", index="searchsvc", replicas=0, timeout=2.0
    )


def test_backend_from_the_environment():
    settings = load_settings(
        environ={
            "SEARCHSVC_BACKEND_KIND": "opensearch",
            "SEARCHSVC_BACKEND_URL": "http://127.0.0.1:9201,http://127.0.0.1:9202",
            "SEARCHSVC_BACKEND_INDEX": "news",
            "SEARCHSVC_BACKEND_REPLICAS": "1",
            "SEARCHSVC_BACKEND_TIMEOUT": "0.5",
        }
    )
    assert settings.backend == BackendSettings(
        kind="opensearch",
        url="http://127.0.0.1:9201,http://127.0.0.1:9202",
        index="news",
        replicas=1,
        timeout=0.5,
    )
    # Nothing else changes meaning.
    assert settings.index == load_settings(environ={}).index


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("KIND", "elastic", "backend.kind: 'elastic' is not one of embedded, opensearch"),
        ("URL", "127.0.0.1:9200", "backend.url: '127.0.0.1:9200' is not an http:// or https:// URL"),
        ("URL", "http://a b", "backend.url: 'http://a b' is not an http"),
        ("INDEX", "News", "backend.index: 'News' is not lower-case letters"),
        ("INDEX", "a-b", "backend.index: 'a-b' is not lower-case letters"),
        ("REPLICAS", "-1", "backend.replicas: -1 is below the minimum 0"),
        ("TIMEOUT", "0", "backend.timeout: 0.0 is below the minimum 0.1"),
        ("TIMEOUT", "soon", "backend.timeout: 'soon' is not a valid float"),
    ],
)
def test_invalid_backend_values_are_clear_errors(key, value, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={f"SEARCHSVC_BACKEND_{key}": value})
    assert str(caught.value).startswith(message)


def test_backend_in_the_file(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text('[backend]\nkind = "opensearch"\nurl = "https://search.example:9200"\n', encoding="utf-8")
    assert load_settings(path, environ={}).backend.url == "https://search.example:9200"


def test_unreachable_cluster_is_backend_unavailable():
    settings = load_settings(
        environ={}, overrides={"backend": {"kind": "opensearch", "url": closed_port_url(), "timeout": 1.0}}
    )
    client = connect(settings)
    with pytest.raises(BackendUnavailable) as caught:
        live_index(client, "searchsvc")
    assert str(caught.value) == "the search cluster cannot be reached (connection refused)"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (
            os_errors.ConnectionTimeout("TIMEOUT", "read timed out", None),
            "the search cluster did not answer in time",
        ),
        (
            os_errors.TransportError(503, "unavailable_shards_exception", {}),
            "the search cluster answered 503",
        ),
        (
            os_errors.TransportError(429, "es_rejected_execution_exception", {}),
            "the search cluster answered 429",
        ),
        (os_errors.AuthenticationException(401, "security_exception", {}), "the search cluster answered 401"),
    ],
)
def test_error_map(exc, reason):
    assert (unavailable_reason(exc) or "").startswith(reason)
    with pytest.raises(BackendUnavailable) as caught, backend_errors():
        raise exc
    assert str(caught.value).startswith(reason)


@pytest.mark.parametrize(
    "exc", [os_errors.RequestError(400, "parsing_exception", {}), os_errors.NotFoundError(404, "x", {})]
)
def test_request_errors_are_not_unavailability(exc):
    assert unavailable_reason(exc) is None
    with pytest.raises(type(exc)), backend_errors():
        raise exc


def test_schema_mismatch_says_reindex():
    check_schema("searchsvc-x", {"_meta": {"schema_version": SCHEMA_VERSION}})
    with pytest.raises(SchemaMismatch) as caught:
        check_schema("searchsvc-x", {"_meta": {"schema_version": SCHEMA_VERSION - 1}})
    assert str(caught.value) == (
        f"the search index searchsvc-x has schema version {SCHEMA_VERSION - 1}, this searchsvc needs "
        f"{SCHEMA_VERSION}: run `searchsvc reindex SOURCE...` to rebuild it"
    )


def test_web_answers_backend_unavailable_with_503_json(tmp_path: Path):
    from searchsvc.web import create_app

    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(tmp_path)}}))

    def down() -> str:
        raise BackendUnavailable("the search cluster did not answer in time")

    app.add_url_rule("/api/down", "down", down)
    response = app.test_client().get("/api/down")
    assert (response.status_code, response.get_json()) == (
        503,
        {"error": {"code": "backend_unavailable", "message": "the search cluster did not answer in time"}},
    )
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    "args",
    [["reindex", "--quiet", "{demo}"], ["index", "add", "{demo}"], ["index", "delete", "x"], ["stats"]],
)
def test_cli_prints_one_error_line_when_the_cluster_is_down(args):
    from click.testing import CliRunner

    from searchsvc.cli import main
    from searchsvc.demo import demo_sources

    demo = str(demo_sources()[0])
    env = {"SEARCHSVC_BACKEND_KIND": "opensearch", "SEARCHSVC_BACKEND_URL": closed_port_url()}
    result = CliRunner().invoke(main, [a.format(demo=demo) for a in args], env=env)
    assert (result.exit_code, result.output) == (
        1,
        "error: the search cluster cannot be reached (connection refused)\n",
    )
