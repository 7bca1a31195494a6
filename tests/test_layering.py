"""The floors of searchsvc, read from the imports of every module (lazy imports included).

A module imports only modules of its own floor or of floors below it. The index
has two sides on its floors: the write side (ingest, the segment and bulk
writers, the indexer) and the read side (the live state up to the search and the
web front end); the on-disk format below them is all they share, and neither
side imports the other. Only the CLI stands on both.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "searchsvc"

# Bottom first; a module may import its own floor and the floors below it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    # Importable from anywhere: exceptions, settings, the article and message dataclasses.
    ("shared", ("errors", "config", "article", "messages", "dates", "demo")),
    # Pure str -> str Vietnamese normalization and input-method decoding.
    ("text", ("text", "inputmethod")),
    # Pure functions on words and numbers: query parsing, lexicon, highlighting, ranking, the query log.
    ("words", ("query", "params", "readings", "lexicon", "highlight", "querylog")),
    # Whoosh analyzers built on text, then the schema built on them.
    ("analysis", ("analysis",)),
    ("schema", ("schema",)),
    # The index on disk, shared by both sides: Whoosh's internals, read models, generations.
    ("on disk", ("codec", "readmodel", "generations")),
    # The write side.
    ("write", ("ingest", "segmentwriter", "bulkwriter", "indexer")),
    # The read side: one state of the index and the store that serves it.
    ("index state", ("state", "live", "postings", "documents", "store", "indexview", "facets")),
    # Matching over an IndexView, and the per-state memos of the search layer.
    # Ranking names the schema's field groups, so it stands here, not with the pure word functions.
    ("matching", ("ranking", "accents", "spelling", "matching", "aliases", "topical", "answers")),
    # The one core call over the backend contract, the embedded backend, and related articles.
    ("search", ("backend", "embedded", "search", "related")),
    # The OpenSearch backend (its indexing and its searching), and the one place that picks a backend.
    ("engines", ("opensearch", "engine")),
    # Front ends: only web imports Flask, only cli click; the CLI also drives the write side.
    ("front ends", ("web", "cli")),
]
LEVELS = {unit: level for level, (_, units) in enumerate(FLOORS) for unit in units}


def floor_units(*names: str) -> set[str]:
    """Return the units of the named floors."""
    return {unit for name, units in FLOORS if name in names for unit in units}


WRITE_SIDE = floor_units("write")
READ_SIDE = floor_units("index state", "matching", "search") | {"web"}
# Modules whose whole import closure is free of Whoosh (checked statically and in a fresh interpreter).
NO_WHOOSH = [
    "errors",
    "config",
    "article",
    "messages",
    "dates",
    "demo",
    "text",
    "inputmethod",
    "query",
    "params",
    "readings",
    "lexicon",
    "highlight",
    "querylog",
    "ingest",
    "answers",
]


def unit_of(path: Path) -> str:
    """Return the layering unit of a module file: its name, or ``web``/``demo`` for package files."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imports_of(path: Path) -> set[str]:
    """Return every module a file imports, wherever the import statement is (``from searchsvc import x`` too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: use absolute imports"
            found.add(node.module or "")
            if node.module == "searchsvc":
                found.update(f"searchsvc.{a.name}" for a in node.names if not a.name.startswith("__"))
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


def test_every_module_has_one_floor():
    listed = [unit for _, units in FLOORS for unit in units]
    assert (sorted({unit_of(p) for p in MODULES}), len(listed)) == (sorted(listed), len(set(listed)))


@pytest.mark.parametrize("unit", NO_WHOOSH)
def test_pure_modules_do_not_import_whoosh(unit):
    assert unit not in units_importing("whoosh")


@pytest.mark.parametrize("unit", NO_WHOOSH)
def test_pure_modules_load_no_whoosh(unit):
    code = (
        f"import sys, searchsvc.{unit}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'whoosh'))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout == "[]\n"


def test_every_other_module_needs_whoosh():
    """The list of Whoosh-free modules is complete: every module left out does reach Whoosh."""
    reaching = {unit_of(p) for p in MODULES if unit_of(p) in units_importing("whoosh")}
    for _ in FLOORS:  # the import graph is at most this deep
        reaching |= {unit_of(p) for p, names in MODULES.items() if internal(names) & reaching}
    assert sorted(set(LEVELS) - reaching) == sorted(NO_WHOOSH)


def test_only_web_imports_flask():
    assert units_importing("flask") <= {"web"}


def test_only_cli_imports_click():
    assert units_importing("click") <= {"cli"}


def test_front_ends_do_not_import_whoosh():
    assert units_importing("whoosh") & {"web", "cli"} == set()


@pytest.mark.parametrize("path", list(MODULES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_floor(path):
    unit = unit_of(path)
    higher = {name for name in internal(MODULES[path]) if LEVELS.get(name, 99) > LEVELS[unit]}
    assert higher == set()


@pytest.mark.parametrize(
    "path", [p for p in MODULES if unit_of(p) in READ_SIDE], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_the_read_side_does_not_import_the_write_side(path):
    assert internal(MODULES[path]) & WRITE_SIDE == set()


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


# A web worker answering a request: the app imports the store and the search lazily.
SERVE_A_REQUEST = (
    "from searchsvc.config import load_settings; from searchsvc.web import create_app; "
    "create_app(load_settings(environ={}, overrides={'index': {'dir': sys.argv[1]}}))"
    ".test_client().get('/api/search?q=ha')"
)


@pytest.mark.parametrize(
    "code",
    ["import searchsvc.store", "import searchsvc.search", "import searchsvc.related", SERVE_A_REQUEST],
    ids=["store", "search", "related", "web request"],
)
def test_the_read_side_loads_no_writer(code, tmp_path):
    """A query process never loads the indexer, the writers or ingest (nor their process pool)."""
    report = (
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in "
        "(['searchsvc', 'indexer'], ['searchsvc', 'bulkwriter'], ['searchsvc', 'segmentwriter'], "
        "['searchsvc', 'ingest']) or m == 'concurrent.futures.process'), 'searchsvc.state' in sys.modules)"
    )
    program = f"import sys; {code}; {report}"
    completed = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "index")], capture_output=True, text=True, check=True
    )
    assert completed.stdout == "[] True\n"
