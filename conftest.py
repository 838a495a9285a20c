"""Suite-wide guards: a test run that leaves processes behind, or reads beside the checkout, is broken."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

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


ROOT = Path(__file__).resolve().parent
#: What sat beside the checkout before the run (e.g. ../shared). A checkout directly in the temporary folder has
#: the tests' own temporary files beside it too: those, and earlier runs' leftovers, are not "beside".
TEMPORARY = ("pytest-of-", "ccx-", "tmp")
BESIDE = tuple(
    str(entry) + os.sep for entry in ROOT.parent.iterdir() if entry != ROOT and not entry.name.startswith(TEMPORARY)
)
OUTSIDE_READS: list[str] = []


def _watch_reads(event: str, args: tuple[object, ...]) -> None:
    """Note every file or folder this process opens beside the checkout (e.g. ../shared): a clone has none."""
    if event not in ("open", "os.listdir", "os.scandir") or not args or not isinstance(args[0], (str, Path)):
        return
    path = os.path.abspath(args[0])
    if (path + os.sep).startswith(BESIDE):
        OUTSIDE_READS.append(path)


sys.addaudithook(_watch_reads)


class _SysWithPatientSettrace:
    """`sys` as threading's new threads see it, with a settrace that waits its turn.

    Under coverage every new thread calls sys.settrace at start, and CPython 3.11 refuses a call made while another
    thread's is in flight (python/cpython#98257): the thread dies before it runs, e.g. a request thread of a test's
    HTTP server, and the test fails for the harness's sake. Retrying after a moment is what the call would have
    needed."""

    def __getattr__(self, name: str) -> object:
        return getattr(sys, name)

    @staticmethod
    def settrace(function: Any) -> None:
        for _ in range(200):  # bounded: about 1 s at most
            try:
                return sys.settrace(function)
            except RuntimeError:
                time.sleep(0.005)
        return sys.settrace(function)


threading._sys = _SysWithPatientSettrace()  # the sys that Thread._bootstrap_inner calls settrace on


@pytest.fixture(autouse=True, scope="session")
def nothing_read_outside_the_repository():
    yield
    assert not OUTSIDE_READS, f"tests read outside the repository: {sorted(set(OUTSIDE_READS))[:10]}"
