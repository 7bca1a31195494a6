"""Engines under test and the registry the harness picks them from."""

from __future__ import annotations

from collections.abc import Callable

from bench.engines.base import Engine

ENGINE_NAMES: tuple[str, ...] = (
    "searchsvc",
    "whoosh-default",
    "whoosh-accent",
    "sqlite-fts5",
    "tantivy",
)


def make_engine(name: str, procs: int = 1, limitmb: int = 256) -> Engine:
    """Create the named engine; raise ImportError when its package is missing."""
    factories: dict[str, Callable[[], Engine]] = {
        "searchsvc": lambda: _searchsvc(procs),
        "whoosh-default": lambda: _whoosh("whoosh-default", "default", procs, limitmb),
        "whoosh-accent": lambda: _whoosh("whoosh-accent", "accent", procs, limitmb),
        "sqlite-fts5": _sqlite,
        "tantivy": lambda: _tantivy(procs),
    }
    if name not in factories:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINE_NAMES)}")
    return factories[name]()


def _searchsvc(procs: int) -> Engine:
    """Create the searchsvc adapter, failing early if searchsvc is incomplete."""
    from bench.engines.searchsvc_engine import SearchsvcEngine, import_error

    reason = import_error()
    if reason is not None:
        raise ImportError(reason)
    return SearchsvcEngine(procs=procs)


def _whoosh(name: str, analyzer: str, procs: int, limitmb: int) -> Engine:
    """Create a Whoosh engine with the named analyzer."""
    from bench.engines.whoosh_engine import WhooshEngine, accent_analyzer, default_analyzer

    factory = accent_analyzer if analyzer == "accent" else default_analyzer
    return WhooshEngine(name, factory, procs=procs, limitmb=limitmb)


def _sqlite() -> Engine:
    """Create the SQLite FTS5 engine."""
    from bench.engines.sqlite_fts5 import SqliteFts5Engine

    return SqliteFts5Engine()


def _tantivy(procs: int) -> Engine:
    """Create the Tantivy engine."""
    from bench.engines.tantivy_engine import TantivyEngine

    return TantivyEngine(procs=procs)
