"""What /proc says about processes: liveness, descendants, and who carries an environment marker (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterable


def pid_alive(pid: int) -> bool:
    """Running or stopped, not a zombie (a zombie has ended; it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def zombie(pid: int) -> bool:
    """An ended process not reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists, zombies included (signal 0 probes without signalling)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def all_pids() -> list[int]:
    """Every process this one can see, itself excepted."""
    own = os.getpid()
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and int(entry) != own]


def children(pid: int) -> list[int]:
    """The children of `pid` (of any of its threads; zombies included), from /proc/PID/task/TID/children."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found += [int(child) for child in listed.read().split()]
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """Children, grandchildren, ... of `root`."""
    found, stack = [], [root]
    while stack:
        kids = children(stack.pop())
        found += kids
        stack += kids
    return found


def with_environment_entry(entry: bytes, candidates: Iterable[int]) -> list[int]:
    """The live candidates whose environment holds `entry` (e.g. b"NAME=value")."""
    found = []
    for pid in candidates:
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if entry in environ.read().split(b"\0") and pid_alive(pid):
                    found.append(pid)
        except OSError:
            continue
    return found
