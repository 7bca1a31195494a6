"""What matching needs from an index, written down: the seam a second backend stands behind.

``store.Store`` implements both protocols over the live Whoosh-derived read
models; a test implements ``IndexView`` over a few numpy arrays
(``tests/test_indexview.py``). Document numbers run from 0 to
``len(columns.live)`` - 1; posting arrays are sorted by document number.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

import numpy as np

from searchsvc.lexicon import Lexicon
from searchsvc.state import Columns


class IndexView(Protocol):
    """The searchable index at one moment: postings, lengths, positions, columns and the lexicon."""

    @property
    def state(self) -> Hashable:
        """Return an object standing for the content served now (a new one after any change)."""
        ...

    @property
    def doc_count(self) -> int:
        """Return the number of searchable (live) documents."""
        ...

    @property
    def columns(self) -> Columns:
        """Return the per-document columns (``live`` is False for deleted documents)."""
        ...

    @property
    def lexicon(self) -> Lexicon:
        """Return the lexicon (word forms, pairs, completions)."""
        ...

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (docnums, term frequencies) of a term in a field."""
        ...

    def doc_frequency(self, field: str, term: str) -> int:
        """Return the number of documents with ``term`` in ``field``."""
        ...

    def length_norm(self, field: str, k1: float, b: float) -> np.ndarray:
        """Return BM25's per-document ``k1 * (1 - b + b * len / avg)`` of a field."""
        ...

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` indexed words of ``field`` starting with ``prefix``, in order."""
        ...

    def term_positions(self, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (index into the sorted, unique ``docnums``, position) of every occurrence of a term."""
        ...


class DocumentView(IndexView, Protocol):
    """An index that also gives its stored documents (what related articles and corrections read)."""

    def stored(self, docnum: int) -> dict[str, Any]:
        """Return the stored fields of a document number."""
        ...

    def document_number(self, article_id: str) -> int | None:
        """Return the live document number of an article id, or None."""
        ...
