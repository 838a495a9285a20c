"""Suite-wide guard: a test run that leaves processes behind is broken."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command) of every live, non-zombie process below `root`, from /proc."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        commands[int(entry.name)] = cmdline
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append((child, commands.get(child, "?")))
            stack.append(child)
    return found


@pytest.fixture(autouse=True, scope="session")
def no_processes_left_behind():
    yield
    deadline = time.monotonic() + 5
    left = descendants(os.getpid())
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = descendants(os.getpid())
    assert not left, f"processes left behind by the test suite: {left}"
