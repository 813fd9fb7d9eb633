"""CPU of the bench's own processes only: the bench and the processes it started (read from /proc).

``/proc/PID/stat`` gives each process's user and system time, and that of its children it has reaped
(``cutime``/``cstime``); the tree under a pid is found by parent pid. A database server, a Redis server
or anything else on the machine is never in it: the benches do not report those, since on a shared
machine a server's CPU is every client's, not the bench's.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def tree(root: int) -> list[int]:
    """``root`` and every process under it (children, their children …), alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far, its reaped children included; 0 once it is gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and every process under it (see the module docstring)."""
    return sum(cpu_seconds(pid) for pid in tree(root))
