"""Read where a process's memory lives from /proc/<pid>/smaps_rollup (Linux 4.14+), in MB (MiB).

Rss counts every resident page once per process, so pages shared by gunicorn workers (the
code, a memory-mapped index) are counted in each worker. Pss splits each shared page among
the processes mapping it, so the Pss of all workers adds up to what they really occupy.
Private (clean + dirty) is what this process alone holds; Anonymous is its heap (Python
objects, numpy arrays), as opposed to file-backed pages such as a memory-mapped index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The smaps_rollup lines reported, in order; values there are in kB (KiB).
FIELDS = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Anonymous")
HEADER = ["role", "pid", "Rss", "Pss", "Shared clean", "Shared dirty", "Private", "(dirty)", "Anonymous"]


@dataclass(frozen=True)
class MemorySplit:
    """One process's memory split in MB; private_mb is Private_Dirty + Private_Clean."""

    pid: int
    role: str
    rss_mb: float
    pss_mb: float
    shared_clean_mb: float
    shared_dirty_mb: float
    private_clean_mb: float
    private_dirty_mb: float
    anonymous_mb: float
    private_mb: float

    def row(self) -> list[str]:
        """Return this split as table cells in HEADER's order."""
        values = (self.rss_mb, self.pss_mb, self.shared_clean_mb, self.shared_dirty_mb, self.private_mb)
        cells = [f"{v:.1f}" for v in values]
        return [self.role, str(self.pid), *cells, f"{self.private_dirty_mb:.1f}", f"{self.anonymous_mb:.1f}"]


def read_rollup_kb(pid: int) -> dict[str, int] | None:
    """Return the kB values of /proc/<pid>/smaps_rollup, or None when it cannot be read."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
    except OSError:
        return None
    values = {}
    for line in text.splitlines()[1:]:  # the first line is the address range
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    return values


def memory_split(pid: int, role: str = "process") -> MemorySplit | None:
    """Return the memory split of a process, or None when it is gone or unreadable."""
    kb = read_rollup_kb(pid)
    if kb is None or "Rss" not in kb:
        return None
    mb = {name: round(kb.get(name, 0) / 1024, 1) for name in FIELDS}
    private_kb = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return MemorySplit(
        pid=pid,
        role=role,
        rss_mb=mb["Rss"],
        pss_mb=mb["Pss"],
        shared_clean_mb=mb["Shared_Clean"],
        shared_dirty_mb=mb["Shared_Dirty"],
        private_clean_mb=mb["Private_Clean"],
        private_dirty_mb=mb["Private_Dirty"],
        anonymous_mb=mb["Anonymous"],
        private_mb=round(private_kb / 1024, 1),
    )


def table(splits: list[MemorySplit]) -> list[list[str]]:
    """Tabulate memory splits, header row first."""
    return [list(HEADER), *(split.row() for split in splits)]
