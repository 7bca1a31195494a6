"""The layering of STYLE.md, read from the imports of every module (lazy imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "searchsvc"

# text -> analysis -> schema -> ingest/indexer/query/facets/store -> search -> web, cli.
# Level 0 may be imported from anywhere; a module may import its own level or lower ones.
LEVELS = {
    "errors": 0,
    "config": 0,
    "article": 0,
    "messages": 0,
    "dates": 0,
    "demo": 0,
    "text": 1,
    "inputmethod": 1,
    "highlight": 1,
    "lexicon": 1,
    "ranking": 1,
    "analysis": 2,
    "schema": 3,
    "codec": 3,
    "ingest": 4,
    "bulkwriter": 4,
    "indexer": 4,
    "query": 4,
    "facets": 4,
    "readmodel": 4,
    "store": 4,
    "matching": 4,
    "accents": 4,
    "topical": 4,
    "readings": 4,
    "spelling": 4,
    "aliases": 4,
    "search": 5,
    "related": 5,
    "querylog": 4,
    "opensearch": 4,
    "web": 6,
    "cli": 6,
}
NO_WHOOSH = [
    "text",
    "inputmethod",
    "highlight",
    "lexicon",
    "ranking",
    "dates",
    "ingest",
    "article",
    "messages",
]


def unit_of(path: Path) -> str:
    """Return the layering unit of a module file: its name, or ``web``/``demo`` for package files."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imports_of(path: Path) -> set[str]:
    """Return every module a file imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: use absolute imports"
            found.add(node.module or "")
    return found


MODULES = {
    path: imports_of(path)
    for path in sorted(PACKAGE.rglob("*.py"))
    if path.name != "__init__.py" or path.parent != PACKAGE
}


def units_importing(top: str) -> set[str]:
    """Return the units that import the third-party package ``top``."""
    return {
        unit_of(p) for p, names in MODULES.items() if any(n == top or n.startswith(top + ".") for n in names)
    }


def internal(names: set[str]) -> set[str]:
    """Return the searchsvc units among imported module names."""
    return {n.split(".")[1] for n in names if n.startswith("searchsvc.")}


def test_every_module_has_a_level():
    assert {unit_of(p) for p in MODULES} - set(LEVELS) == set()


@pytest.mark.parametrize("unit", NO_WHOOSH)
def test_pure_modules_do_not_import_whoosh(unit):
    assert unit not in units_importing("whoosh")


def test_only_web_imports_flask():
    assert units_importing("flask") <= {"web"}


def test_only_cli_imports_click():
    assert units_importing("click") <= {"cli"}


def test_front_ends_do_not_import_whoosh():
    assert units_importing("whoosh") & {"web", "cli"} == set()


@pytest.mark.parametrize("path", list(MODULES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    unit = unit_of(path)
    higher = {name for name in internal(MODULES[path]) if LEVELS.get(name, 99) > LEVELS[unit]}
    assert higher == set()


def private_uses(path: Path) -> set[str]:
    """Return ``obj._name`` attribute uses in a file where ``obj`` is not ``self``/``cls``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.add(node.attr)
    return found


def test_only_codec_touches_whoosh_internals():
    """Whoosh's private attributes are read in ``codec.py`` alone (checked when an index opens)."""
    whoosh_users = {p for p in MODULES if unit_of(p) in units_importing("whoosh") and p.name != "codec.py"}
    assert {p.name: private_uses(p) for p in whoosh_users if private_uses(p)} == {}


# Inside the ingest package a module imports only the ones before it; the format readers
# (jsonl, csvfile, pagetext, htmlpage) do not import each other.
INGEST_ORDER = [
    "records",
    "fields",
    "files",
    "jsonl",
    "csvfile",
    "pagetext",
    "htmlpage",
    "sources",
    "__init__",
]
INGEST_FORMATS = {"jsonl", "csvfile", "pagetext", "htmlpage"}


@pytest.mark.parametrize("path", sorted((PACKAGE / "ingest").glob("*.py")), ids=lambda p: p.name)
def test_ingest_modules_import_only_earlier_ones(path):
    name = path.stem
    inside = {n.split(".")[2] for n in imports_of(path) if n.startswith("searchsvc.ingest.")}
    later = {dep for dep in inside if INGEST_ORDER.index(dep) >= INGEST_ORDER.index(name)}
    other_formats = inside & INGEST_FORMATS if name in INGEST_FORMATS else set()
    assert (later, other_formats) == (set(), set())


def test_every_ingest_module_has_a_place():
    assert sorted(p.stem for p in (PACKAGE / "ingest").glob("*.py")) == sorted(INGEST_ORDER)
