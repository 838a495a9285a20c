"""Lock files that say whether their owner still lives: held with `flock` for the owner's lifetime.

The kernel drops an flock when the last descriptor of its open file goes, so when its
owner dies, however it dies (SIGKILL included), the lock is free again: a lock that
someone else can take proves the owner dead, where a pid in a file could have been
reused by another process. The descriptor is close-on-exec, so children never hold it
on their parent's behalf.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from .paths import PRIVATE_FILE_MODE


class LockBusy(Exception):
    """Another live process holds the lock."""


class OwnerLock:
    """An exclusive flock on `path`, taken at once or not at all (LockBusy), held until `release()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = _take(path)
        if self._descriptor is None:
            raise LockBusy(str(path))

    def release(self, *, remove: bool = True) -> None:
        """Let go (and delete the file first, so nobody mistakes it for a dead owner's)."""
        if self._descriptor is None:
            return
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self._descriptor)
        self._descriptor = None


def owner_alive(path: Path) -> bool:
    """Whether a live process holds the lock at `path` (False when there is no such file).

    Probing takes the lock for a moment when it is free: a second prober at that very
    moment sees it held and leaves the owner's work alone, which is the safe mistake.
    """
    descriptor = _take(path, create=False)
    if descriptor is None:
        return path.exists()
    os.close(descriptor)
    return False


def remove_if_dead(path: Path) -> bool:
    """Delete the lock file of a dead owner; False (and nothing touched) while its owner lives."""
    descriptor = _take(path, create=False)
    if descriptor is None:
        return not path.exists()
    try:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    finally:
        os.close(descriptor)
    return True


def _take(path: Path, *, create: bool = True) -> int | None:
    """A descriptor holding the exclusive lock, or None when another holds it (or, unless `create`, no file)."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileNotFoundError:
        if create:
            raise
        return None
    try:
        if create:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)  # os.open's mode passes through the umask
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(descriptor)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return descriptor
