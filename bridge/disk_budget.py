"""All stored task output under one cap: when it is reached, the output of the oldest ended executions goes.

Every execution keeps its output in outputs/<execution id>/, and several bridges write
there (one per Claude Code window). Each counts what it writes; when the folder would
pass the cap it measures the folder (everyone's writes) and deletes the output of the
oldest ended executions, whoever ran them (the history keeps their results), until
there is room again. When only running executions are left, what they write next is cut
(their output is marked truncated) until room frees up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .output_store import output_folder, remove

#: Pruning leaves the folder at this share of the cap, so it does not run again on the next write.
ROOM_FACTOR = 0.9
#: With only running executions left to blame, measure again after this long, not on every write.
RETRY_S = 1.0


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under `folder` (symbolic links are neither followed nor counted)."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            try:
                info = os.lstat(os.path.join(parent, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(parent, name)):
                total += info.st_size
    return total


class DiskBudget:
    def __init__(self, outputs_dir: Path, cap: int, ended_oldest_first: Callable[[], list[str]]) -> None:
        self.outputs_dir = outputs_dir
        self.cap = cap
        self.ended_oldest_first = ended_oldest_first
        self.used = folder_bytes(outputs_dir)
        self.pruned = 0  # executions whose output was deleted to make room
        self._next_try = 0.0

    def take(self, wanted: int) -> int:
        """How many of `wanted` bytes may be written now (all of them unless the cap is reached); counts them."""
        if self.used + wanted > self.cap:
            self._make_room(wanted)
        allowed = max(0, min(wanted, self.cap - self.used))
        self.used += allowed
        return allowed

    def forget(self, execution_ids: Iterable[str]) -> None:
        """Delete the stored output of executions the history no longer keeps."""
        for execution_id in execution_ids:
            self._delete(execution_id)

    def _make_room(self, wanted: int) -> None:
        now = time.monotonic()
        if now < self._next_try:
            return
        self.used = folder_bytes(self.outputs_dir)
        target = self.cap * ROOM_FACTOR - wanted
        for execution_id in self.ended_oldest_first():
            if self.used <= target:
                break
            if self._delete(execution_id):
                self.pruned += 1
        self._next_try = now + RETRY_S if self.used + wanted > self.cap else 0.0

    def _delete(self, execution_id: str) -> bool:
        folder = output_folder(self.outputs_dir, execution_id)
        if folder is None or not folder.is_dir() or folder.is_symlink():
            return False
        size = folder_bytes(folder)
        remove(folder)
        self.used = max(0, self.used - size)
        return True
