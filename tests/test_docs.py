"""The README documents every CLI command and option, API parameter and config key."""

from __future__ import annotations

import re
import shlex
from dataclasses import fields
from pathlib import Path

import click

from searchsvc.cli import main
from searchsvc.config import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
API_PARAMETERS = (
    "q",
    "page",
    "per_page",
    "sort",
    "category",
    "source",
    "author",
    "tag",
    "date_from",
    "date_to",
    "as_typed",
    "aliases",
)


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """List every (full name, command) of the CLI."""
    found = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, full + " "))
        else:
            found.append((full, command))
    return found


def test_every_cli_command_and_option_is_documented() -> None:
    missing = []
    for name, command in _commands(main):
        if f"searchsvc {name}" not in README:
            missing.append(f"searchsvc {name}")
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in README:
                    missing.append(f"searchsvc {name} {opt}")
    assert missing == []


def test_every_api_parameter_is_documented() -> None:
    table = README.split("### `GET /api/search`", 1)[1].split("###", 1)[0]
    assert [p for p in API_PARAMETERS if f"`{p}`" not in table] == []


def test_every_config_key_is_documented_with_its_default() -> None:
    settings = Settings()
    missing = []
    for section in fields(settings):
        for key in fields(getattr(settings, section.name)):
            default = getattr(getattr(settings, section.name), key.name)
            row = re.search(rf"^\| `{section.name}\.{key.name}` \| `([^`]*)` \|", README, re.MULTILINE)
            if row is None or row.group(1) != str(default):
                missing.append(f"{section.name}.{key.name}={default}")
    assert missing == []


def test_config_file_lists_every_key() -> None:
    text = (REPO / "config" / "searchsvc.toml").read_text(encoding="utf-8")
    settings = Settings()
    missing = [
        f"{s.name}.{k.name}"
        for s in fields(settings)
        for k in fields(getattr(settings, s.name))
        if not re.search(rf"^{k.name} = ", text, re.MULTILINE)
    ]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"^    (python3 -m venv .+)$", README, re.MULTILINE)
    assert len(commands) == 2
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
    assert shlex.split(commands[0])[-2:] == [".venv/bin/searchsvc", "demo"]
