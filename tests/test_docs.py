"""The docs document every CLI command and option, API parameter and config key, and hold together.

README.md is the front page (what searchsvc is, the two commands, a short tour); the
references live under docs/: every command and option in docs/cli.md, every parameter of
``/api/search`` in docs/api.md, every config key with its default in docs/configuration.md.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import fields
from pathlib import Path

import click
import pytest

from searchsvc.cli import main
from searchsvc.config import Settings
from searchsvc.messages import SEARCH_PARAMETERS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = (REPO / "README.md").read_text(encoding="utf-8")
CLI_DOC = (DOCS / "cli.md").read_text(encoding="utf-8")
API_DOC = (DOCS / "api.md").read_text(encoding="utf-8")
CONFIG_DOC = (DOCS / "configuration.md").read_text(encoding="utf-8")
README_LIMIT_BYTES = 10 * 1024
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


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


def long_options(command: click.Command) -> list[str]:
    """List a command's long options, the ``--no-`` halves of flags included."""
    opts = [o for p in command.params for o in [*p.opts, *p.secondary_opts]]
    return [o for o in opts if o.startswith("--")]


def undocumented_cli(text: str) -> list[str]:
    """List the commands and long options that the command table of ``text`` does not describe.

    Each command needs a table row of its own naming each of its options; ``--index-dir``,
    which every command takes, may instead be described once for all of them.
    """
    missing = [f"searchsvc {opt}" for opt in long_options(main) if opt not in text]
    for name, command in _commands(main):
        row = re.search(rf"^\| `searchsvc {re.escape(name)}[ `].*$", text, re.MULTILINE)
        if row is None:
            missing.append(f"searchsvc {name}")
            continue
        for opt in long_options(command):
            if opt not in row.group(0) and not (opt == "--index-dir" and opt in text):
                missing.append(f"searchsvc {name} {opt}")
    return missing


def test_every_cli_command_and_option_is_documented() -> None:
    assert undocumented_cli(CLI_DOC) == []


def test_the_cli_check_notices_a_missing_option() -> None:
    assert undocumented_cli(CLI_DOC.replace("--rejects", "")) == [
        "searchsvc reindex --rejects",
        "searchsvc index add --rejects",
    ]


def search_parameter_table(text: str) -> str:
    """Return the section of docs/api.md that documents ``GET /api/search``."""
    return text.split("## `GET /api/search`", 1)[1].split("\n## ", 1)[0]


def test_every_api_parameter_is_documented() -> None:
    table = search_parameter_table(API_DOC)
    assert [p for p in SEARCH_PARAMETERS if f"`{p}`" not in table] == []


def undocumented_config(text: str) -> list[str]:
    """List every config key whose table row in ``text`` is missing or shows another default."""
    settings = Settings()
    missing = []
    for section in fields(settings):
        for key in fields(getattr(settings, section.name)):
            default = getattr(getattr(settings, section.name), key.name)
            row = re.search(rf"^\| `{section.name}\.{key.name}` \| `([^`]*)` \|", text, re.MULTILINE)
            if row is None or row.group(1) != str(default):
                missing.append(f"{section.name}.{key.name}={default}")
    return missing


def test_every_config_key_is_documented_with_its_default() -> None:
    assert undocumented_config(CONFIG_DOC) == []


def test_the_config_check_notices_a_wrong_default() -> None:
    text = CONFIG_DOC.replace("| `server.port` | `8000` |", "| `server.port` | `8080` |")
    assert undocumented_config(text) == ["server.port=8000"]


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


def joined_lines(text: str) -> str:
    """Join shell continuation lines (a trailing backslash) into one line each."""
    return re.sub(r"\s*\\\n\s*", " ", text)


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"^    (python3 -m venv .+)$", joined_lines(README), re.MULTILINE)
    assert len(commands) == 2
    ci = joined_lines((REPO / ".ci" / "run").read_text(encoding="utf-8"))
    assert commands[1] in ci.splitlines()
    assert shlex.split(commands[0])[-2:] == [".venv/bin/searchsvc", "demo"]


def test_the_test_command_runs_lint_format_types_and_tests() -> None:
    command = re.findall(r"^    (python3 -m venv .+)$", joined_lines(README), re.MULTILINE)[1]
    steps = [step.strip() for step in command.split("&&")]
    assert steps[2:] == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy",
        ".venv/bin/python -m pytest -q",
    ]


def test_readme_stays_short() -> None:
    assert len(README.encode("utf-8")) <= README_LIMIT_BYTES


def test_docs_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md")
    assert [name for name in pages if f"]({name})" not in index] == []


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """Return the anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = unicodedata.normalize("NFC", heading.strip().lower()).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return the anchors of every heading of a Markdown file, duplicates numbered as GitHub does."""
    found: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^#{1,6} (.+)$", line):
            base = anchor(match.group(1))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(path: Path) -> list[str]:
    """Return the link targets of a Markdown file, outside code."""
    text = path.read_text(encoding="utf-8")
    prose = "\n".join(line for line in text.splitlines() if not re.match(r"^(?: {4}|\t)", line))
    return LINK.findall(re.sub(r"`[^`\n]*`", "", prose))


def broken_links(path: Path) -> list[str]:
    """List the relative links of ``path`` whose file, or heading, does not exist."""
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_notices_a_missing_file_and_heading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A page\n\n## `GET /x` and more\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md) [ok](a.md#get-x-and-more) [ok](#here) [web](https://example.com/none)\n"
        "[gone](c.md) [no heading](a.md#nowhere) `[code](c.md)`\n\n## Here\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["c.md", "a.md#nowhere"]
