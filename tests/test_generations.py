"""The index directory's layout: finding the live generation, and one error for every damaged read."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import pytest

from searchsvc.errors import IndexNotReady
from searchsvc.generations import current_generation, damaged, directory_size, lock_path
from searchsvc.indexer import reindex

CORE = Path(__file__).resolve().parent / "fixtures" / "core" / "articles.jsonl"


@pytest.mark.parametrize(
    "raised", [OSError("x"), EOFError(), pickle.UnpicklingError("x"), KeyError("k"), struct.error("x")]
)
def test_damaged_reads_become_one_index_not_ready(raised: BaseException):
    with pytest.raises(IndexNotReady) as caught, damaged("index generation gen-1", "cannot be opened"):
        raise raised
    assert str(caught.value) == (
        f"index generation gen-1 cannot be opened ({type(raised).__name__}); run `searchsvc reindex`"
    )


def test_damaged_leaves_other_errors_and_its_own_kind_alone():
    with pytest.raises(RuntimeError), damaged("x"):
        raise RuntimeError("a bug, not damage")
    with pytest.raises(IndexNotReady, match="^as it was$"), damaged("x"):
        raise IndexNotReady("as it was")


@pytest.mark.parametrize("damage", ["current-bytes", "current-name", "manifest-list"])
def test_damaged_pointer_or_manifest_is_index_not_ready(tmp_path, damage):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    if damage == "current-bytes":
        (index_dir / "CURRENT").write_bytes(b"\xff\xfe")
    elif damage == "current-name":
        (index_dir / "CURRENT").write_text("../../etc\n")
    else:
        (current_generation(index_dir).path / "manifest.json").write_text("[1]")
    with pytest.raises(IndexNotReady):
        current_generation(index_dir)


def test_the_lock_and_the_size_are_of_the_index_directory(tmp_path):
    index_dir = tmp_path / "index"
    reindex([CORE], index_dir)
    generation = current_generation(index_dir)
    assert lock_path(index_dir) == index_dir / ".lock"
    assert directory_size(generation.path) == sum(
        p.stat().st_size for p in generation.path.rglob("*") if p.is_file()
    )
    assert generation.manifest["documents"] == 6
