"""Releases: one source for the version, printed by the CLI, explained by the changelog."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from click.testing import CliRunner

import searchsvc
from searchsvc.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_the_version_is_written_only_in_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "searchsvc.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", searchsvc.__version__)


def test_the_installed_distribution_has_the_package_version() -> None:
    assert metadata.version("searchsvc") == searchsvc.__version__


def test_cli_prints_the_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"searchsvc, version {searchsvc.__version__}\n"


def test_the_changelog_has_an_entry_for_the_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert searchsvc.__version__ in headings[1:]
