"""Run the app: gunicorn in-process for production, Flask's server for development."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from searchsvc.config import Settings
from searchsvc.web import create_app

# Client address, request line, status, bytes, time in milliseconds, user agent.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
# Gunicorn cannot accept request lines longer than this unless its limit is switched off (0).
GUNICORN_MAX_LINE = 8190
MAX_GRACEFUL_SECONDS = 30


class SearchServer(BaseApplication):
    """A gunicorn application that builds one searchsvc app per worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's configuration."""
        for key, value in self.options.items():
            if key in self.cfg.settings:  # skip what an older gunicorn does not know
                self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app; gunicorn calls this in each worker, after the fork."""
        return create_app(self.settings)


def with_index_dir(settings: Settings, index_dir: str | Path | None) -> Settings:
    """Return ``settings`` pointing at ``index_dir`` when one is given."""
    if index_dir is None:
        return settings
    return replace(settings, index=replace(settings.index, dir=str(index_dir)))


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Return the gunicorn configuration for ``settings.server``."""
    server = settings.server
    # Let requests up to our own limit reach the app, which answers 413 in the JSON error shape.
    line_limit = 0 if server.max_request_bytes >= GUNICORN_MAX_LINE else GUNICORN_MAX_LINE
    return {
        "bind": f"{server.host}:{server.port}",
        "workers": server.workers,
        "threads": server.threads,
        "worker_class": "gthread" if server.threads > 1 else "sync",
        "timeout": server.timeout,
        "graceful_timeout": min(server.timeout, MAX_GRACEFUL_SECONDS),
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "limit_request_line": line_limit,
        "limit_request_field_size": max(GUNICORN_MAX_LINE, server.max_request_bytes),
        "proc_name": "searchsvc",
        # Workers open the index lazily after the fork; never load the app in the arbiter.
        "preload_app": False,
        # gunicorn >= 25.1 opens a control socket at one path per user; several servers would clash.
        "control_socket_disable": True,
    }


def run_production(settings: Settings, index_dir: str | Path | None = None) -> None:
    """Serve with gunicorn until SIGTERM/SIGINT (graceful stop), using ``settings.server``."""
    settings = with_index_dir(settings, index_dir)
    SearchServer(settings, gunicorn_options(settings)).run()


def run_dev(settings: Settings, index_dir: str | Path | None = None, debug: bool = False) -> None:
    """Serve with Flask's development server (one process, threaded)."""
    settings = with_index_dir(settings, index_dir)
    app = create_app(settings)
    app.run(
        host=settings.server.host, port=settings.server.port, debug=debug, use_reloader=debug, threaded=True
    )
