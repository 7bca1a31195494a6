"""Where a request comes from: trusted proxies, forwarded clients, the public URL setting."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from searchsvc.config import load_settings
from searchsvc.errors import ConfigError
from searchsvc.web.origin import TrustedProxies, bound_host, forwarded_client
from searchsvc.web.server import gunicorn_options

PROXIES = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # What the client wrote itself stands left of what the proxies appended.
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, 10.0.0.2", "203.0.113.7"),
        ("not-an-address, 10.0.0.2", "10.1.1.1"),
        ("10.0.0.3, 10.0.0.2", "10.0.0.3"),
        ("", "10.1.1.1"),
    ],
)
def test_the_forwarded_client_is_the_right_most_address_not_a_proxy(header, client):
    assert forwarded_client(header, "10.1.1.1", PROXIES) == client


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("10.0.0.9", ("203.0.113.7", "https", "tin.example")),
        ("192.0.2.1", ("192.0.2.1", "http", None)),
    ],
)
def test_forwarded_headers_are_believed_only_from_trusted_proxies(peer, expected):
    seen = {}

    def app(environ, _start):
        seen.update(environ)
        return [b""]

    environ = {
        "REMOTE_ADDR": peer,
        "wsgi.url_scheme": "http",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "tin.example",
    }
    TrustedProxies(app, PROXIES)(environ, lambda *_: None)
    assert (seen["REMOTE_ADDR"], seen["wsgi.url_scheme"], seen.get("searchsvc.forwarded_host")) == expected
    assert seen["searchsvc.peer"] == peer


@pytest.mark.parametrize("host", ["evil.example/x", "a b", "x" * 300, "evil.example:99999999"])
def test_a_forwarded_host_that_is_not_a_host_is_ignored(host):
    seen = {}

    def app(environ, _start):
        seen.update(environ)
        return [b""]

    environ = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_HOST": host}
    TrustedProxies(app, PROXIES)(environ, lambda *_: None)
    assert "searchsvc.forwarded_host" not in seen


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("public_url", "tin.example"),
        ("public_url", "ftp://tin.example"),
        ("public_url", "https://tin.example/?q=1"),
        ("trusted_proxies", "10.0.0.0/8, proxy.local"),
    ],
)
def test_bad_public_url_or_proxy_list_is_a_config_error(setting, value):
    with pytest.raises(ConfigError, match=f"server.{setting}"):
        load_settings(environ={}, overrides={"server": {setting: value}})


def test_gunicorn_believes_no_forwarded_header_itself():
    options = gunicorn_options(
        load_settings(environ={}, overrides={"server": {"trusted_proxies": "10.0.0.1"}})
    )
    assert (options["forwarded_allow_ips"], options["secure_scheme_headers"]) == ("", {})


def test_the_bound_host_brackets_ipv6():
    settings = load_settings(environ={}, overrides={"server": {"host": "::1", "port": 8080}})
    assert bound_host(settings.server) == "[::1]:8080"
