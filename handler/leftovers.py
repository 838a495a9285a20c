"""A handler's running executions noted on disk, so the next handler ends what a crashed one left.

A handler killed with SIGKILL runs no code: its executions' processes live on. Each
running execution is a file named by its tag in a folder named by the handler's pid;
on start, a handler ends the processes of folders whose handler is gone.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from cc_executor.paths import create_private_file, private_dir

from .cgroups import remove_stale
from .proc_scan import pid_alive
from .process_runner import end_tagged_processes

log = logging.getLogger("cc_executor.handler")


class RunningExecutions:
    def __init__(self, directory: Path) -> None:
        self.directory = private_dir(private_dir(directory) / str(os.getpid()))

    def add(self, tag: str) -> None:
        os.close(create_private_file(self.directory / tag))  # empty, and private like everything in the data dir

    def remove(self, tag: str) -> None:
        (self.directory / tag).unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def end_leftovers(self) -> list[int]:
        """End the processes of executions whose handler died; returns their pids."""
        ended: list[int] = []
        for folder in self.directory.parent.iterdir():
            if folder == self.directory or not folder.name.isdigit() or pid_alive(int(folder.name)):
                continue
            for marker in folder.iterdir():
                ended += end_tagged_processes(marker.name)
            shutil.rmtree(folder, ignore_errors=True)
        if ended:
            log.warning("ended processes left by a handler that died", extra={"event": {"pids": ended}})
        remove_stale()
        return ended
