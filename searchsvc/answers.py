"""Memos kept per index state: recent answers, and the masks some answers are built from.

The same request with the same settings on the same index state gets the same
answer, so a state keeps its recent answers; any commit or reindex makes a new
state, whose memo starts empty, and a state's memo goes when the state does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

import numpy as np

from searchsvc.messages import SearchResponse

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Answers kept per state: the head of the query log repeats all day (an answer is about 30 KB).
ANSWER_ENTRIES = 512
# Masks kept per state: one boolean per document each (100 KB for 100,000 articles).
MASK_ENTRIES = 64


class StateMemo(Generic[K, V]):
    """At most ``entries`` values per index state, the least recently used dropped first.

    A state is any object standing for one moment of the index, compared by identity
    (``state.State``, or a test's in-memory index); the memo holds it weakly.
    """

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._lock = threading.Lock()
        self._by_state: WeakKeyDictionary[Hashable, OrderedDict[K, V]] = WeakKeyDictionary()

    def get(self, state: Hashable, key: K) -> V | None:
        """Return the value kept for ``key`` in ``state``, or None."""
        with self._lock:
            kept = self._by_state.get(state)
            if kept is None or key not in kept:
                return None
            kept.move_to_end(key)
            return kept[key]

    def put(self, state: Hashable, key: K, value: V) -> None:
        """Keep ``value`` for ``key`` in ``state``."""
        with self._lock:
            kept = self._by_state.setdefault(state, OrderedDict())
            kept[key] = value
            while len(kept) > self.entries:
                kept.popitem(last=False)


# Search answers, keyed by (request, settings, hour): ``search.search``.
SEARCH_ANSWERS: StateMemo[Hashable, SearchResponse] = StateMemo(ANSWER_ENTRIES)
# Document masks a search is built from and that no query narrows (an alias's phrases): ``aliases``.
MASKS: StateMemo[Hashable, np.ndarray] = StateMemo(MASK_ENTRIES)
