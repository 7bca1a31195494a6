"""The live state of one index directory: refreshed, swapped whole, pinned per thread.

``refresh`` (called before each request, at most every ``refresh_interval``
seconds) notices a new generation (``searchsvc reindex``) or a new TOC of the
live one (``searchsvc index add/delete``). It builds the new state completely
(``state.build_state``) and swaps it in one step; the calling thread then
answers from that state until its next ``refresh``, so a request never sees two
states. A new state that cannot be built is not installed: the old one keeps
serving and ``problem`` (and so ``health``) says why.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from searchsvc import codec
from searchsvc.errors import IndexNotReady
from searchsvc.generations import CURRENT, current_generation
from searchsvc.state import Part, State, build_state

log = logging.getLogger(__name__)


class LiveIndex:
    """The state one process serves from an index directory, and why a newer one is not served.

    Whoosh's segment readers seek shared file objects, so stored-field reads and
    state changes hold ``lock``.
    """

    def __init__(self, index_dir: Path, refresh_interval: float = 0.25) -> None:
        codec.check_supported()
        self.index_dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self.lock = threading.RLock()
        self.problem: str | None = None  # why a newer generation or TOC is not being served
        self._local = threading.local()
        self._checked = 0.0
        self._retired: list[Part] = []
        self._state = build_state(current_generation(self.index_dir), None)

    @property
    def state(self) -> State:
        """Return the state this thread answers from (pinned by its last ``refresh``)."""
        return getattr(self._local, "state", None) or self._state

    def health(self) -> dict[str, Any]:
        """Return what this process serves: ok, or degraded with the reason (no server paths)."""
        state = self.state
        report: dict[str, Any] = {
            "status": "degraded" if self.problem else "ok",
            "generation": state.generation.name,
            "documents": state.doc_count,
            "segments": len(state.parts),
        }
        if self.problem:
            report["problem"] = self.problem
        return report

    def refresh(self, force: bool = False) -> None:
        """Swap in a new generation or TOC when there is one, and pin the live state for this thread."""
        now = time.monotonic()
        if force or now - self._checked >= self.refresh_interval:
            with self.lock:
                self._checked = now
                self._swap_if_changed()
        self._local.state = self._state

    def _swap_if_changed(self) -> None:
        """Build and install the new state when CURRENT or the live TOC moved on."""
        state = self._state
        try:
            name = (self.index_dir / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return  # keep serving what we have; the pointer is replaced atomically
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = f"the {CURRENT} pointer cannot be read ({type(exc).__name__}); still serving {state.generation.name}"
            return
        try:
            fresh = self._changed_state(name, state)
        except (IndexNotReady, OSError) as exc:
            if self.problem is None:
                log.error("keeping generation %s: %s", state.generation.name, exc)
            self.problem = f"index generation {name} cannot be served ({type(exc).__name__}); still serving {state.generation.name}"
            return
        self.problem = None
        if fresh is not None:
            self._install(fresh)

    def _changed_state(self, name: str, state: State) -> State | None:
        """Return the state of generation ``name``'s newest TOC, or None when ``state`` is it."""
        if name != state.generation.name:
            return build_state(current_generation(self.index_dir), state)
        if codec.toc_generation(codec.open_storage(str(state.generation.path))) == state.toc:
            return None
        return build_state(state.generation, state)

    def _install(self, fresh: State) -> None:
        """Make ``fresh`` the live state (the lock is held)."""
        kept = {id(p.reader) for p in fresh.parts}
        # Threads may still answer from the old state: close its readers one swap later.
        for part in self._retired:
            part.reader.close()
        self._retired = [p for p in self._state.parts if id(p.reader) not in kept]
        self._state = fresh

    def close(self) -> None:
        """Release the segment readers' files."""
        with self.lock:
            for part in self._retired + list(self._state.parts):
                part.reader.close()
            self._retired = []
