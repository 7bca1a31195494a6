"""The on-disk layout of an index directory, shared by the writers and the readers.

Layout of an index directory::

    index/
      CURRENT              name of the live generation (replaced atomically)
      gen-<stamp>/         a complete Whoosh index plus manifest.json
      .build-<stamp>/      a generation being built (never served; removed if stale)
      .lock                held by whoever writes (reindex, index add/delete)

Readers (``store``, the CLI) find the live generation here without loading the
write side; what a damaged file raises while it is read becomes one
``IndexNotReady`` through ``damaged``.
"""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from searchsvc.errors import IndexNotReady, SchemaMismatch
from searchsvc.schema import SCHEMA_VERSION

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
BUILD_PREFIX = ".build-"
GEN_PREFIX = "gen-"
REINDEX = "run `searchsvc reindex`"

# What reading a damaged file raises: the OS, Whoosh's struct and varint readers, and
# unpickling a cut or garbled TOC or stored-fields block (which can name any class or key).
DAMAGE: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ImportError,
    struct.error,
    pickle.UnpicklingError,
)


@dataclass(frozen=True)
class Generation:
    """A committed, live index generation."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        """Return the generation's directory name."""
        return self.path.name


@contextmanager
def damaged(
    what: str,
    problem: str = "is damaged",
    advice: str = REINDEX,
    detail: bool = False,
    also: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Raise what reading a damaged file raises inside the block (``DAMAGE``, ``also``) as ``IndexNotReady``.

    The message is ``<what> <problem> (<exception type>); <advice>`` (with the
    exception's own text after its type when ``detail``); it never names a server path
    unless ``what`` does. Keep the block to the reads: it would hide a bug's ``KeyError`` too.
    """
    try:
        yield
    except IndexNotReady:
        raise
    except DAMAGE + also as exc:
        kind = f"{type(exc).__name__}: {exc}" if detail else type(exc).__name__
        raise IndexNotReady(f"{what} {problem} ({kind})" + (f"; {advice}" if advice else "")) from exc


def lock_path(index_dir: Path) -> Path:
    """Return the writers' lock file of an index directory."""
    return index_dir / LOCK


def current_generation(index_dir: Path) -> Generation:
    """Return the live generation, or raise ``IndexNotReady``/``SchemaMismatch``."""
    name = _current_name(index_dir)
    with damaged(f"index generation {name}"):
        manifest = json.loads((index_dir / name / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise IndexNotReady(f"index generation {name} has a damaged manifest; {REINDEX}")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the index in {index_dir} has schema version {version}, this searchsvc needs "
            f"{SCHEMA_VERSION}: run `searchsvc reindex SOURCE...` to rebuild it"
        )
    return Generation(index_dir / name, manifest)


def _current_name(index_dir: Path) -> str:
    """Return the generation name ``CURRENT`` points to, checked to be one."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotReady(f"no index in {index_dir}: run `searchsvc reindex SOURCE...` first") from None
    except UnicodeDecodeError:
        raise IndexNotReady(f"the {CURRENT} pointer in {index_dir} is damaged; {REINDEX}") from None
    if not name.startswith(GEN_PREFIX) or "/" in name:
        raise IndexNotReady(f"the {CURRENT} pointer in {index_dir} names no generation; {REINDEX}")
    return name


def directory_size(path: Path) -> int:
    """Return the bytes used by the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
