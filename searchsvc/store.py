"""The read side of the index, as one object for the callers: the live state, its postings, its documents.

A ``Store`` is opened once per process. Each Whoosh segment of the live
generation comes with a read model (``readmodel.py``) that the store maps
read-only: posting lists, positions and field lengths are read straight from
pages every worker shares, so nothing is decoded or cached per process.

Each job lives in its own module and the store only puts them together:

- ``live.py``: the live state, refreshed and swapped whole, pinned per thread; health.
- ``state.py``: one state, built from a generation's TOC (segments, columns, lengths).
- ``postings.py``: postings, document frequencies, length norms, prefixes, positions.
- ``documents.py``: stored documents and their LRU, ids, the article view, stats.

What matching needs of a store is written down in ``indexview.py``; answers are
kept per state by the search layer (``answers.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np

from searchsvc import postings
from searchsvc.documents import Documents, document_number, stats
from searchsvc.generations import Generation
from searchsvc.lexicon import Completion, Lexicon
from searchsvc.live import LiveIndex
from searchsvc.state import Column, Columns, State

# Column and Columns are state.py's, still importable from here for older callers.
__all__ = ["Column", "Columns", "Store", "open_store"]


class Store:
    """The live index generation of one index directory, ready to search (``indexview.DocumentView``).

    Read models are shared memory maps, safe to read from any thread; every read
    answers from the state this thread pinned at its last ``refresh``.
    """

    def __init__(self, index_dir: Path, refresh_interval: float = 0.25) -> None:
        self.live = LiveIndex(index_dir, refresh_interval)
        self.documents = Documents(self.live.lock)

    # ------------------------------------------------------------ state (live.py)

    @property
    def state(self) -> State:
        """Return the state this thread answers from (pinned by its last ``refresh``)."""
        return self.live.state

    @property
    def problem(self) -> str | None:
        """Return why a newer generation or TOC is not being served, or None."""
        return self.live.problem

    @property
    def current(self) -> Generation:
        """Return the live generation."""
        return self.state.generation

    @property
    def generation(self) -> str:
        """Return the live generation's name."""
        return self.state.generation.name

    @property
    def columns(self) -> Columns:
        """Return the per-document columns."""
        return self.state.columns

    @property
    def lexicon(self) -> Lexicon:
        """Return the generation's lexicon (suggestions, completions)."""
        return self.state.lexicon

    @property
    def doc_count(self) -> int:
        """Return the number of searchable documents."""
        return self.state.doc_count

    def health(self) -> dict[str, Any]:
        """Return what this process serves: ok, or degraded with the reason (no server paths)."""
        return self.live.health()

    def refresh(self, force: bool = False) -> None:
        """Swap in a new generation or TOC when there is one, and pin the live state for this thread."""
        self.live.refresh(force)

    # ------------------------------------------------------------ postings (postings.py)

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (docnums, term frequencies) of a term over the whole index (views where possible)."""
        return postings.term_postings(self.state, field, term)

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the number of documents with ``term`` in ``field`` (deleted ones included, as Whoosh)."""
        return postings.doc_frequency(self.state, field, term)

    def length_norm(self, field: str, k1: float, b: float) -> np.ndarray:
        """Return BM25's per-document length normalisation ``k1 * (1 - b + b * len / avg)`` of a field."""
        return postings.length_norm(self.state, field, k1, b)

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` indexed words of ``field`` starting with ``prefix``, in order."""
        return postings.expand_prefix(self.state, field, prefix, limit)

    def term_positions(self, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (index into ``docnums``, position) for every occurrence of a term in those documents."""
        return postings.term_positions(self.state, field, term, docnums)

    # ------------------------------------------------------------ documents (documents.py)

    def stored(self, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number."""
        return self.documents.stored(self.state, docnum)

    def document_number(self, article_id: str) -> int | None:
        """Return the live document number of an article id, or None."""
        return document_number(self.state, article_id)

    def get_article(self, article_id: str) -> dict[str, Any]:
        """Return the stored article with this id, or raise ``NotFound``."""
        return self.documents.get_article(self.state, article_id)

    def complete(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Return accent-insensitive completions of what is being typed."""
        return self.lexicon.complete(prefix, limit)

    def stats(self) -> dict[str, Any]:
        """Return documents, generation, size and per-category/source counts and date range."""
        return stats(self.state)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the segment readers' files."""
        self.live.close()


def open_store(index_dir: Path, refresh_interval: float = 0.25) -> Store:
    """Open the live index of ``index_dir`` for searching (raises ``IndexNotReady``)."""
    return Store(index_dir, refresh_interval)
