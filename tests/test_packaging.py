"""An installed package works outside the repository: what it needs at run time ships inside it."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import searchsvc
from searchsvc.aliases import SHIPPED_ALIASES, _resolve, load_aliases
from searchsvc.config import load_settings
from searchsvc.demo import demo_sources
from searchsvc.indexer import reindex

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(searchsvc.__file__).resolve().parent


def package_data() -> list[str]:
    """Return the package-data patterns of the ``searchsvc`` package, relative to it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns: list[str] = project["tool"]["setuptools"]["package-data"].get("searchsvc", [])
    return patterns


def test_the_default_aliases_are_found_inside_the_package_without_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/ here, as for an installed wheel
    settings = load_settings(environ={})
    found = _resolve(settings.search.aliases)
    assert found == SHIPPED_ALIASES
    relative = found.relative_to(PACKAGE).as_posix()  # inside the package, so it can ship in a wheel
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data())
    assert len(load_aliases(settings.search.aliases).groups) > 100


def test_a_config_aliases_file_in_the_working_directory_replaces_the_shipped_list(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "aliases.txt").write_text("UBND = Ủy ban nhân dân\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    table = load_aliases(load_settings(environ={}).search.aliases)
    assert [group.forms for group in table.groups] == [("UBND", "Ủy ban nhân dân")]


@pytest.mark.parametrize("command", [["search", "ha", "noi"], ["search", "UBND", "ha", "noi"]])
def test_the_cli_searches_from_a_directory_without_config(tmp_path, command):
    index_dir = tmp_path / "index"
    reindex([str(p) for p in demo_sources()], index_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "from searchsvc.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, *command, "--index-dir", str(index_dir), "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert '"total"' in result.stdout
