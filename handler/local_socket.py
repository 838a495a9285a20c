"""The handler's Unix socket in the user-only data dir: the local way in, which no other user can reach.

On one machine the bridge and the CLI connect here by default (`ws+unix://DATA_DIR/handler.sock`),
so the token never crosses TCP, and a process squatting on 127.0.0.1:8003 while no handler
runs gets nothing from them. A lock file says which handler serves the socket: a second
handler on the same data dir leaves it to the first (and says so); one that finds the
lock free removes the socket a dead handler left and listens there itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, unix_serve

from cc_executor.endpoints import unix_url
from cc_executor.owner_lock import LockBusy, OwnerLock
from cc_executor.paths import PRIVATE_FILE_MODE

log = logging.getLogger("cc_executor.handler")

#: sun_path holds 108 bytes, the final NUL included.
MAX_SOCKET_PATH_BYTES = 107


class LocalSocket:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = unix_url(path)
        self._lock: OwnerLock | None = None

    async def serve(
        self, handler: Callable[[ServerConnection], Awaitable[None]], options: dict[str, Any]
    ) -> Server | None:
        """Listen on the socket with the TCP listener's options; None (and a warning) when another handler does."""
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH_BYTES:
            log.warning(
                "no local socket: its path is too long for a Unix socket; set CC_EXECUTOR_DATA_DIR to a shorter one",
                extra={"event": {"path": str(self.path)}},
            )
            return None
        try:
            self._lock = OwnerLock(self.path.with_name(self.path.name + ".lock"))
        except LockBusy:
            log.warning(
                "no local socket: another handler on this data dir serves it", extra={"event": {"path": str(self.path)}}
            )
            return None
        self.path.unlink(missing_ok=True)  # left by a handler that died
        server = await unix_serve(handler, str(self.path), **options)
        os.chmod(self.path, PRIVATE_FILE_MODE)  # the data dir is already user-only; this says so on the socket too
        return server

    def close(self) -> None:
        if self._lock is not None:
            self.path.unlink(missing_ok=True)
            self._lock.release()
            self._lock = None
