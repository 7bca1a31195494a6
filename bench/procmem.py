"""Read processes from /proc: a server's process tree, CPU time, VmRSS peaks sampled while
it runs, and where a process's memory lives (/proc/<pid>/smaps_rollup, Linux 4.14+), in MB (MiB).

Rss counts every resident page once per process, so pages shared by gunicorn workers (the
code, a memory-mapped index) are counted in each worker. Pss splits each shared page among
the processes mapping it, so the Pss of all workers adds up to what they really occupy.
Private (clean + dirty) is what this process alone holds; Anonymous is its heap (Python
objects, numpy arrays), as opposed to file-backed pages such as a memory-mapped index.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

# The smaps_rollup lines reported, in order; values there are in kB (KiB).
FIELDS = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Anonymous")
RSS_INTERVAL_S = 0.25  # how often RssSampler reads VmRSS
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


@dataclass
class RssPeak:
    """Peak resident memory of the server's processes, in MiB, sampled during a run."""

    master_mb: float = 0.0
    worker_max_mb: float = 0.0
    workers_sum_mb: float = 0.0
    total_mb: float = 0.0
    workers_seen: int = 0
    samples: int = 0

    def add(self, master_kb: int, workers_kb: list[int]) -> None:
        """Fold one sample (VmRSS in KiB) into the peaks."""
        self.master_mb = max(self.master_mb, master_kb / 1024)
        self.worker_max_mb = max(self.worker_max_mb, max(workers_kb, default=0) / 1024)
        self.workers_sum_mb = max(self.workers_sum_mb, sum(workers_kb) / 1024)
        self.total_mb = max(self.total_mb, (master_kb + sum(workers_kb)) / 1024)
        self.workers_seen = max(self.workers_seen, len(workers_kb))
        self.samples += 1


def server_memory(master: int) -> list[MemorySplit]:
    """Return the memory split of the master and of each of its workers, now."""
    splits = [memory_split(master, "master")]
    splits += [memory_split(pid, "worker") for pid in server_processes(master)]
    return [split for split in splits if split is not None]


def server_processes(master: int) -> list[int]:
    """Return the pids of the master's descendants (its gunicorn workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = read_ppid(entry / "stat")
            if ppid is not None:
                parents[int(entry.name)] = ppid
    found, frontier = [], [master]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


def read_ppid(stat_path: Path) -> int | None:
    """Return the parent pid of a /proc/<pid>/stat file, or None if the process is gone."""
    try:
        text = stat_path.read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return int(text.rpartition(")")[2].split()[1])


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); index 0 here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master: int) -> float:
    """Return the CPU time used so far by the master and its workers."""
    return sum(cpu_seconds(pid) for pid in [master, *server_processes(master)])


def client_cpu_seconds() -> float:
    """Return the CPU time used so far by this process (all client threads)."""
    times = os.times()
    return times.user + times.system


def vm_rss_kb(pid: int) -> int:
    """Return VmRSS of a process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def sample_rss_once(master: int) -> RssPeak:
    """Return one RSS sample of the master and its workers."""
    peak = RssPeak()
    peak.add(vm_rss_kb(master), [vm_rss_kb(pid) for pid in server_processes(master)])
    return peak


class RssSampler:
    """Sample the server's RSS in a background thread and keep the peaks."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak = RssPeak()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and take a last sample."""
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        """Sample until stopped, and once more at the end."""
        while True:
            workers = server_processes(self.master)
            self.peak.add(vm_rss_kb(self.master), [vm_rss_kb(pid) for pid in workers])
            if self._done.wait(RSS_INTERVAL_S):
                return
