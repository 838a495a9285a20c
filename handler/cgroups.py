"""Each execution in a cgroup of its own, where cgroup v2 lets this user make one, ended as a whole.

A process that leaves its process group (setsid) is still found by its execution tag,
but one that also drops the tag from its environment would escape both. No process can
leave a cgroup it was put in without write access to another one, so where cgroup v2
delegation is available (this user may create a sub-cgroup of its own cgroup: root, or
a systemd unit with Delegate=yes) every execution starts inside `cc-executor-<tag>`
below this process's cgroup (its shell moves itself there before running the command),
and ending the execution ends the cgroup (cgroup.kill).
Elsewhere executions run as before, and docs/security.md says what is not contained.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import time
from functools import cache
from pathlib import Path

log = logging.getLogger("cc_executor.handler")

PREFIX = "cc-executor-"
REMOVE_WAIT_S = 2.0
POLL_S = 0.01


@cache
def own_cgroup() -> Path | None:
    """This process's cgroup v2 folder, if there is a cgroup v2 hierarchy to find it in."""
    try:
        entries = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    relative = next((line[3:] for line in entries if line.startswith("0::")), None)
    mount_point = next((line.split(" - ", 1)[0].split()[4] for line in mounts if " - cgroup2 " in line), None)
    if relative is None or mount_point is None:
        return None
    folder = Path(mount_point) / relative.lstrip("/")
    return folder if folder.is_dir() else None


class ExecutionCgroup:
    """The cgroup of one execution: the child joins it before it runs anything; ending it kills what is left."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, tag: str) -> ExecutionCgroup | None:
        """A new cgroup for the execution tagged `tag`, or None where this user may not make one."""
        parent = own_cgroup()
        if parent is None:
            return None
        path = parent / f"{PREFIX}{tag}"
        try:
            path.mkdir(mode=0o700)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
                log.info("no cgroup for the execution", extra={"event": {"error": str(exc)}})
            return None
        return cls(path)

    @classmethod
    def of_tag(cls, tag: str) -> ExecutionCgroup | None:
        """The cgroup an earlier process made for the execution tagged `tag`, if it is still there."""
        parent = own_cgroup()
        path = parent / f"{PREFIX}{tag}" if parent is not None else None
        return cls(path) if path is not None and path.is_dir() else None

    def argv(self, command: str) -> list[str]:
        """`/bin/sh -c command`, preceded by the shell moving itself into the cgroup (it writes 0 to cgroup.procs)
        before it runs anything, so all the command starts is inside. The shell does it rather than a preexec_fn:
        that would cost a full fork of this process (no vfork) and a slow migration, about 3 ms per execution;
        the shell's own move costs about 0.5 ms. Where the move fails the command runs all the same."""
        join_then_run = '{ echo 0 >"$0"; } 2>/dev/null; exec /bin/sh -c "$1"'
        return ["/bin/sh", "-c", join_then_run, str(self.path / "cgroup.procs"), command]

    def pids(self) -> list[int]:
        """Every process in the cgroup and the cgroups below it (one read when cgroup.events says there is none)."""
        return self._listed() if self.populated() else []

    def _listed(self) -> list[int]:
        found: list[int] = []
        for folder, _, _ in os.walk(self.path):
            with contextlib.suppress(OSError):
                found += [int(line) for line in Path(folder, "cgroup.procs").read_text().split()]
        return found

    def populated(self) -> bool:
        """Whether a process is in the cgroup or below (from cgroup.events; where it cannot be read, by looking)."""
        try:
            with open(self.path / "cgroup.events", "rb") as events:
                return b"populated 1" in events.read()
        except OSError:
            return bool(self._listed())

    def kill(self) -> None:
        """SIGKILL everything in the cgroup and below: cgroup.kill (Linux 5.14+), else one process at a time."""
        try:
            (self.path / "cgroup.kill").write_text("1")
            return
        except OSError:
            pass
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def end(self) -> list[int]:
        """Kill what is still inside (processes that left the group and dropped the tag) and remove the cgroup;
        returns the pids that were left. Blocks at most REMOVE_WAIT_S."""
        left = self.pids()
        if left:
            self.kill()
        deadline = time.monotonic() + REMOVE_WAIT_S
        while self.populated() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        self.remove()
        return left

    def remove_soon(self) -> None:
        """Remove the (empty) cgroup in a thread: rmdir waits for the cgroup lock, which a move into another cgroup
        holds through a whole RCU grace period (~12 ms), and neither the event loop nor the execution's completion
        should wait for that. `removals_done()` waits for what is pending."""
        removal = asyncio.ensure_future(asyncio.to_thread(self.remove))
        _REMOVALS.add(removal)
        removal.add_done_callback(_REMOVALS.discard)

    def remove(self) -> None:
        """rmdir the cgroup, and any cgroup an execution inside it made (innermost first)."""
        try:
            os.rmdir(self.path)  # the usual case: nothing nested
            return
        except FileNotFoundError:
            return
        except OSError:
            pass
        for folder, _, _ in sorted(os.walk(self.path), key=lambda entry: -len(entry[0])):
            with contextlib.suppress(OSError):
                os.rmdir(folder)


#: An empty execution cgroup this old is litter: a cgroup is filled within moments of being made.
STALE_S = 60.0


def remove_stale() -> list[str]:
    """Remove the empty `cc-executor-*` cgroups below this process's cgroup that are older than STALE_S: what a
    handler or bridge that was killed left (its ready shell ended when it lost its parent; nobody removed the
    cgroup). A cgroup with a process in it cannot be removed, so a live ready shell's or execution's stays.
    Returns the names removed; blocking (run at start-up, in a thread)."""
    parent = own_cgroup()
    if parent is None:
        return []
    removed: list[str] = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_S:
                    os.rmdir(entry.path)
                    removed.append(entry.name)
    if removed:
        log.info("removed empty cgroups left by a process that died", extra={"event": {"cgroups": len(removed)}})
    return removed


_REMOVALS: set[asyncio.Future[None]] = set()


async def removals_done() -> None:
    """Wait for the cgroups being removed in the background (before a server that made them exits)."""
    if _REMOVALS:
        await asyncio.wait(set(_REMOVALS))
