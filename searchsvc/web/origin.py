"""Where a request comes from and where this site is: the configured public URL and trusted proxies.

A client's ``Host`` header says nothing trustworthy about this site: a link built
from it can be poisoned into a cache in front (``Host: evil.example``). Absolute
links start with ``server.public_url``; without one, with the bound address, or
with what a configured trusted proxy says (``X-Forwarded-Proto``/``-Host``).
The client address is the peer's, or the one a trusted proxy forwarded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from flask import request

from searchsvc.config import ServerSettings, address_list

Networks = tuple[IPv4Network | IPv6Network, ...]
PEER_KEY = "searchsvc.peer"
FORWARDED_HOST_KEY = "searchsvc.forwarded_host"
# A host as a proxy may forward it: a name or an IPv4 address, or a bracketed IPv6 one, and a port.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def in_networks(address: str, networks: Networks) -> bool:
    """Tell whether ``address`` (an IP address as text) is in one of ``networks``."""
    try:
        parsed = ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def is_address(text: str) -> bool:
    """Tell whether ``text`` is an IP address."""
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def forwarded_client(header: str, peer: str, proxies: Networks) -> str:
    """Return the client a chain of trusted proxies forwarded: the right-most address not a proxy.

    Addresses left of it were written by the client itself and prove nothing.
    """
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, proxies):
            return hop if is_address(hop) else peer
    return hops[0] if hops else peer


class TrustedProxies:
    """WSGI middleware believing ``X-Forwarded-For/Proto/Host`` only from the configured proxies.

    From any other peer those headers are ignored: the client address stays the
    peer's and the scheme stays the connection's.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], proxies: Networks) -> None:
        self.app = app
        self.proxies = proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Rewrite the client address, scheme and forwarded host of a trusted proxy's request."""
        peer = environ.get("REMOTE_ADDR", "")
        environ[PEER_KEY] = peer
        if self.proxies and in_networks(peer, self.proxies):
            forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
            if forwarded_for:
                environ["REMOTE_ADDR"] = forwarded_client(forwarded_for, peer, self.proxies)
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip()
            if _HOST.fullmatch(host):
                environ[FORWARDED_HOST_KEY] = host
        return self.app(environ, start_response)


def trusted_proxies(server: ServerSettings) -> Networks:
    """Return the networks of ``server.trusted_proxies``."""
    return address_list("server.trusted_proxies", server.trusted_proxies)


def bound_host(server: ServerSettings) -> str:
    """Return ``host:port`` of the bound address (an IPv6 address in brackets)."""
    host = f"[{server.host}]" if ":" in server.host else server.host
    return f"{host}:{server.port}"


def public_root(server: ServerSettings) -> str:
    """Return this site's root URL for absolute links, without a trailing slash (never from ``Host``)."""
    if server.public_url:
        return server.public_url.rstrip("/")
    host = request.environ.get(FORWARDED_HOST_KEY) or bound_host(server)
    return f"{request.scheme}://{host}"
