"""Settings: defaults <- a TOML file <- ``SEARCHSVC_*`` environment variables.

This module is the only reader of configuration. Nothing reads the environment
at import time; callers pass the resulting ``Settings`` explicitly.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from searchsvc.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config") / "searchsvc.toml"


@dataclass(frozen=True)
class IndexSettings:
    """Where the index lives and how it is built."""

    dir: str = "index"
    procs: int = 1
    limitmb: int = 512
    keep_generations: int = 2
    lock_timeout: float = 5.0
    max_article_chars: int = 200_000


@dataclass(frozen=True)
class SearchSettings:
    """Ranking weights and request limits."""

    title_weight: float = 3.0
    summary_weight: float = 1.5
    body_weight: float = 1.0
    author_weight: float = 0.5
    exact_boost: float = 0.6
    proximity_boost: float = 2.0
    title_coverage_boost: float = 0.5
    freshness_boost: float = 0.0
    freshness_half_life_days: float = 365.0
    per_page: int = 10
    max_per_page: int = 100
    max_page: int = 1000
    max_query_chars: int = 500
    max_terms: int = 32
    snippet_chars: int = 240
    rerank_depth: int = 50
    aliases: str = "config/aliases.txt"


@dataclass(frozen=True)
class ServerSettings:
    """The production web server."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    timeout: int = 30
    max_request_bytes: int = 16384
    header_timeout: float = 10.0
    log_format: str = "text"
    # The site's address as readers see it; absolute links (the feed's) start with it.
    public_url: str = ""
    # Comma-separated addresses or networks whose X-Forwarded-* headers are believed.
    trusted_proxies: str = ""
    # Open connections one worker holds at most (gunicorn's worker_connections), and from one
    # client address (the peer's; trusted proxies are not capped).
    max_connections: int = 1000
    max_connections_per_client: int = 100
    # Origins of partner sites whose browsers may call the JSON API (comma-separated, "*" any; "": none).
    cors_origins: str = ""
    # Seconds a search response may be reused by browsers and caches (0: revalidate each time).
    cache_max_age: int = 30
    # Comma-separated addresses or networks that may read /metrics ("" : nobody).
    metrics_allow: str = "127.0.0.1, ::1"


@dataclass(frozen=True)
class QueryLogSettings:
    """The opt-in record of what readers search for (``querylog.py``)."""

    enabled: bool = False
    path: str = ""  # empty: querylog.sqlite3 in the index directory
    min_count: int = 3
    keep_days: int = 90
    max_rows: int = 100_000
    flush_seconds: float = 10.0


BACKEND_KINDS = ("embedded", "opensearch")


@dataclass(frozen=True)
class BackendSettings:
    """Which engine holds the index: the embedded Whoosh index or an OpenSearch cluster."""

    kind: str = "embedded"
    url: str = "http://127.0.0.1:9200"
    index: str = "searchsvc"  # the alias; generations are <index>-<stamp>
    replicas: int = 0
    timeout: float = 2.0


@dataclass(frozen=True)
class Settings:
    """All settings of one searchsvc process."""

    index: IndexSettings = field(default_factory=IndexSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    querylog: QueryLogSettings = field(default_factory=QueryLogSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)

    @property
    def index_dir(self) -> Path:
        """Return the index directory as a path."""
        return Path(self.index.dir)


# Limits that must never be switched off or set so low that nothing works (issue 10).
_MINIMUMS: dict[tuple[str, str], float] = {
    ("index", "max_article_chars"): 1000,
    ("server", "workers"): 1,
    ("server", "threads"): 1,
    ("server", "timeout"): 1,
    ("server", "max_request_bytes"): 1024,
    ("server", "header_timeout"): 0.1,
    ("server", "max_connections"): 16,
    ("server", "max_connections_per_client"): 1,
    ("server", "cache_max_age"): 0,
    ("querylog", "min_count"): 1,
    ("querylog", "keep_days"): 1,
    ("querylog", "max_rows"): 100,
    ("querylog", "flush_seconds"): 0,
    ("backend", "replicas"): 0,
    ("backend", "timeout"): 0.1,
}
# Settings whose value must match a pattern: a wrong one fails when the file is read, not on first use.
_PATTERNS: dict[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("backend", "kind"): (re.compile("|".join(BACKEND_KINDS)), "one of " + ", ".join(BACKEND_KINDS)),
    ("backend", "url"): (
        re.compile(r"https?://[^\s/?#,]+(/[^\s?#,]*)?(,https?://[^\s/?#,]+(/[^\s?#,]*)?)*"),
        "an http:// or https:// URL (or several, comma-separated)",
    ),
    # OpenSearch index names: lower case, no separators it forbids; "-" is kept for the generation suffix.
    ("backend", "index"): (
        re.compile(r"[a-z0-9][a-z0-9_.]{0,199}"),
        "lower-case letters, digits, '_' or '.'",
    ),
}


def address_list(setting: str, value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Parse a comma-separated list of IP addresses or networks (``127.0.0.1, 10.0.0.0/8, ::1``)."""
    networks = []
    for part in value.split(","):
        if part.strip():
            try:
                networks.append(ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError(f"{setting}: {part.strip()!r} is not an IP address or network") from exc
    return tuple(networks)


def _check_server(server: ServerSettings) -> None:
    """Reject server settings whose text does not parse (URLs, address lists)."""
    if server.public_url:
        url = urlsplit(server.public_url)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ConfigError(
                f"server.public_url: {server.public_url!r} is not an http(s) URL without query or fragment"
            )
    address_list("server.trusted_proxies", server.trusted_proxies)
    address_list("server.metrics_allow", server.metrics_allow)
    origin_list(server.cors_origins)


def origin_list(value: str) -> tuple[str, ...]:
    """Parse ``server.cors_origins``: ``*`` or origins (``https://tin.example``), comma-separated."""
    origins = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    for origin in origins:
        url = urlsplit(origin)
        if origin != "*" and (url.scheme not in ("http", "https") or not url.netloc or url.path or url.query):
            raise ConfigError(
                f"server.cors_origins: {origin!r} is not an origin like https://tin.example or *"
            )
    return origins


def _check_minimum(section: str, key: str, value: Any) -> None:
    """Reject a value below the smallest that keeps a limit meaningful, or not of the required form."""
    low = _MINIMUMS.get((section, key))
    if low is not None and value < low:
        raise ConfigError(f"{section}.{key}: {value!r} is below the minimum {low:g}")
    form = _PATTERNS.get((section, key))
    if form is not None and not form[0].fullmatch(value):
        raise ConfigError(f"{section}.{key}: {value!r} is not {form[1]}")


def _coerce(section: str, key: str, raw: Any, kind: type) -> Any:
    """Convert ``raw`` to the type of the default: strings (environment) are parsed, TOML values must fit."""
    if not isinstance(raw, str) or kind is str:
        fits = isinstance(raw, kind) and not (kind is int and isinstance(raw, bool))
        if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
            fits = True
        if not fits:
            raise ConfigError(f"{section}.{key}: {raw!r} is not a valid {kind.__name__}")
        return kind(raw)
    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section}.{key}: {raw!r} is not a valid {kind.__name__}") from exc


def _apply(section_obj: Any, section: str, values: Any) -> Any:
    """Return ``section_obj`` with ``values`` applied, rejecting unknown keys."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{section}] must be a table of settings, got {values!r}")
    known = {f.name: type(getattr(section_obj, f.name)) for f in fields(section_obj)}
    changes = {}
    for key, raw in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {section}.{key}")
        changes[key] = _coerce(section, key, raw, known[key])
        _check_minimum(section, key, changes[key])
    return replace(section_obj, **changes)


def _env_values(environ: Mapping[str, str], section: str, names: set[str]) -> dict[str, str]:
    """Collect ``SEARCHSVC_<SECTION>_<KEY>`` variables for one section."""
    prefix = f"SEARCHSVC_{section.upper()}_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and key[len(prefix) :].lower() in names
    }


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read settings from the defaults, a TOML file, the environment and explicit overrides.

    The file is ``path``, else ``$SEARCHSVC_CONFIG``, else ``config/searchsvc.toml``
    when it exists in the working directory.
    """
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("SEARCHSVC_CONFIG")
    file_values: dict[str, Any] = {}
    if chosen:
        config_path = Path(chosen)
        if not config_path.is_file():
            raise ConfigError(f"config file not found: {config_path}")
    else:
        config_path = DEFAULT_CONFIG_PATH
    if config_path.is_file():
        try:
            file_values = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: {exc}") from exc
    settings = Settings()
    unknown = set(file_values) - {f.name for f in fields(settings)}
    if unknown:
        raise ConfigError(f"{config_path}: unknown section(s) {sorted(unknown)}")
    for f in fields(settings):
        section_obj = getattr(settings, f.name)
        names = {sf.name for sf in fields(section_obj)}
        section_obj = _apply(section_obj, f.name, file_values.get(f.name, {}))
        section_obj = _apply(section_obj, f.name, _env_values(environ, f.name, names))
        section_obj = _apply(section_obj, f.name, (overrides or {}).get(f.name, {}))
        settings = replace(settings, **{f.name: section_obj})
    _check_server(settings.server)
    return settings
