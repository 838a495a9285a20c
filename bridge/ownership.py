"""Which bridge owns which execution, and which bridges still run.

Several bridges share one data dir: one per Claude Code window, one for each health
check (`claude mcp list` starts the server and stops it), one in a task's inner Claude
that loads a user-scoped cc-executor. Each holds a lock file in `bridges/` for as long
as it runs (cc_executor/owner_lock.py) and stamps its id on the executions it starts.
At start-up a bridge fails, and ends the processes of, only the executions whose
owner's lock is free: their bridge is provably gone. A bridge lists its own executions
and those of bridges that have ended, never those of another bridge still running.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from cc_executor.handler.process_runner import tagged_processes
from cc_executor.owner_lock import OwnerLock, owner_alive, remove_if_dead
from cc_executor.paths import private_dir

BRIDGES_FOLDER = "bridges"
_BRIDGE_ID = re.compile(r"^[0-9a-f]{32}$")


class BridgeIdentity:
    """This bridge's id, and the lock file that tells other bridges it is alive."""

    def __init__(self, data_dir: Path) -> None:
        self.id = uuid.uuid4().hex
        self.folder = private_dir(data_dir / BRIDGES_FOLDER)
        self._lock = OwnerLock(self._lock_path(self.id))

    def live_bridges(self) -> frozenset[str]:
        """Ids of the bridges running now on this data dir, this one included."""
        return frozenset(
            path.stem for path in self.folder.glob("*.lock") if _BRIDGE_ID.match(path.stem) and owner_alive(path)
        )

    def forget_dead(self) -> None:
        """Remove the lock files that bridges which are gone left behind (a SIGKILLed bridge cannot)."""
        for path in self.folder.glob("*.lock"):
            if _BRIDGE_ID.match(path.stem):
                remove_if_dead(path)

    def scope(self, client: str | None) -> Scope:
        """What a caller of this bridge may see: `client` is its MCP session on a bridge that serves several."""
        return Scope(self.id, client, self.live_bridges() - {self.id} if client is None else frozenset())

    def close(self) -> None:
        self._lock.release()

    def _lock_path(self, bridge_id: str) -> Path:
        return self.folder / f"{bridge_id}.lock"


def owner_gone(owner: str | None, tag: str | None, live_bridges: frozenset[str]) -> bool:
    """Whether the bridge that ran an unfinished execution is provably gone.

    A row of a bridge older than ownership names no owner: it counts as gone unless
    processes carrying its execution tag still run (then its bridge may well be alive).
    """
    if owner is not None:
        return owner not in live_bridges
    return not (tag and tagged_processes(tag, everywhere=True))


@dataclass(frozen=True)
class Scope:
    """The executions one caller may see and steer.

    A session of a bridge serving several (streamable HTTP) sees only what it started. Any
    other caller (stdio: one client per bridge; `cc-executor run`) sees what this bridge ran
    outside such sessions, and the history of bridges that have ended, but never the
    executions of another bridge that still runs.
    """

    bridge: str
    client: str | None
    other_live_bridges: frozenset[str] = frozenset()

    def sees(self, owner: str | None, client: str | None) -> bool:
        if self.client is not None:
            return owner == self.bridge and client == self.client
        return client is None and (owner is None or owner == self.bridge or owner not in self.other_live_bridges)

    def where(self) -> tuple[str, tuple[str, ...]]:
        """The same rule as an SQL condition on the history's `owner` and `client` columns, with its parameters."""
        if self.client is not None:
            return "owner = ? AND client = ?", (self.bridge, self.client)
        hidden = tuple(sorted(self.other_live_bridges))
        if not hidden:
            return "client IS NULL", ()
        marks = ",".join("?" * len(hidden))
        return f"client IS NULL AND (owner IS NULL OR owner NOT IN ({marks}))", hidden
