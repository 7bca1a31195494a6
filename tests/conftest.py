"""Shared fixtures: settings, a demo index built once per session, the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchsvc.config import Settings, load_settings
from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def settings_for(index_dir: Path) -> Settings:
    """Return default settings pointing at ``index_dir``, ignoring the environment."""
    return load_settings(
        path=REPO / "config" / "searchsvc.toml", environ={}, overrides={"index": {"dir": str(index_dir)}}
    )


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the built-in demo corpus into an index once for the whole session."""
    index_dir = tmp_path_factory.mktemp("demo-index")
    reindex([str(p) for p in demo_sources()], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def demo_settings(demo_index_dir: Path) -> Settings:
    """Return settings for the session's demo index."""
    return settings_for(demo_index_dir)


@pytest.fixture()
def store(demo_index_dir: Path):
    """Open the demo index for searching."""
    from searchsvc.store import open_store

    opened = open_store(demo_index_dir)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """Return the shared corpus directory, or skip when this checkout has none beside it."""
    corpus = SHARED / "corpus"
    if not (corpus / "sample.jsonl").is_file():
        pytest.skip(
            f"the shared corpus is not at {corpus} (it sits beside the repository on the team's machines)"
        )
    return corpus


@pytest.fixture(scope="session")
def app(demo_settings: Settings):
    """Return the Flask app serving the demo index; close its store at the end."""
    from searchsvc.web import STORE_KEY, create_app

    served = create_app(demo_settings)
    yield served
    served.extensions[STORE_KEY].close()


@pytest.fixture()
def client(app):
    """Return a Flask test client of the demo app."""
    return app.test_client()
