"""What every bench report says about its run: date, commit, command, machine and load."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("whoosh3", "tantivy", "searchsvc")


def run_meta(command: str, **fields: Any) -> dict[str, Any]:
    """Describe this run of ``command`` (its arguments added) with the run's own ``fields``.

    A ``git_commit`` among ``fields`` (read when the run started) replaces the one read now.
    """
    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "command": " ".join([command, *sys.argv[1:]]),
        **fields,
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": machine_info(),
    }


def section_head(title: str, meta: dict[str, Any]) -> list[str]:
    """Return the Markdown lines that open a report section: title, date, command and commit."""
    return [
        "",
        f"## {title}, {meta['date']}",
        "",
        f"- Command: `{meta['command']}`; git commit `{meta['git_commit']}`",
    ]


def machine_text(machine: dict[str, Any]) -> str:
    """Describe the machine of ``machine_info`` in a phrase: CPUs, RAM and Python."""
    return (
        f"{machine['nproc']} CPUs ({machine['cpu']}), {machine['ram_gb']} GB RAM, Python {machine['python']}"
    )


def load_text(values: list[float]) -> str:
    """Format load averages as ``1.00/0.50/0.25``."""
    return "/".join(f"{x:.2f}" for x in values)


def git_commit() -> str:
    """Return the working tree's short commit, with `-dirty` when files are changed, or 'unknown'."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine_info() -> dict:
    """Return CPU count and model, RAM, Python and package versions."""
    return {
        "nproc": os.cpu_count(),
        "cpu": _proc_value("/proc/cpuinfo", "model name") or platform.processor(),
        "ram_gb": round(int((_proc_value("/proc/meminfo", "MemTotal") or "0 kB").split()[0]) / 1024**2, 1),
        "python": platform.python_version(),
        "packages": dict(_versions(), sqlite=sqlite3.sqlite_version),
    }


def _proc_value(path: str, key: str) -> str | None:
    """Return the first `key: value` value of a /proc file, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        return None
    return None


def _versions() -> dict[str, str]:
    """Return the installed versions of the benchmarked packages."""
    out = {}
    for package in PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
