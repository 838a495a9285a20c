"""The bridge's own permission relay channel, for the tasks it runs itself (the local backend).

A handler serves the relay channel on its own listeners; the bridge has none (stdio), so for
its local tasks it listens on a Unix socket of its own: in the user-only data dir (no other
user can reach it, and nothing goes over TCP), or, when that path is too long for a Unix
socket, in a private (0700) temporary folder. It listens from the first task that relays
its permission prompts until the bridge closes, and each key opens it only while its task runs.
"""

from __future__ import annotations

import http
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, unix_serve
from websockets.http11 import Request, Response

from cc_executor.endpoints import unix_url
from cc_executor.handler.door import Refused, check_headers
from cc_executor.handler.local_socket import MAX_SOCKET_PATH_BYTES
from cc_executor.handler.relay_channel import RELAY_PATH, RelayKeys, relay_refusal, serve_relay
from cc_executor.handler.server import error_response, select_subprotocol
from cc_executor.paths import PRIVATE_FILE_MODE


class LocalRelay:
    """The relay channel of this bridge's local tasks."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.keys = RelayKeys()
        self._server: Server | None = None
        self._socket: Path | None = None
        self._temporary: Path | None = None

    async def url(self) -> str:
        """Where the relays of local tasks ask (listening from the first call on)."""
        if self._server is None or self._socket is None:
            self._socket = self._socket_path()
            self._server = await unix_serve(
                self._serve, str(self._socket), process_request=self._admit, select_subprotocol=select_subprotocol
            )
            os.chmod(self._socket, PRIVATE_FILE_MODE)
        return unix_url(self._socket)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
            self._server = None
        if self._socket is not None:
            self._socket.unlink(missing_ok=True)
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def _socket_path(self) -> Path:
        name = f"relay-{secrets.token_hex(4)}.sock"
        path = self.data_dir / name
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH_BYTES:
            return path
        self._temporary = Path(tempfile.mkdtemp(prefix="cc-executor-"))  # 0700: this user's alone
        return self._temporary / name

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """The handler's door and relay checks (repeated headers, Host, Origin, the key, the subprotocol)."""
        try:
            check_headers(request.headers, ())
        except Refused as bad:
            return error_response(bad.status, bad.message)
        if request.path.split("?", 1)[0] != RELAY_PATH:
            message = f"This socket serves the permission relay channel ({RELAY_PATH}) only"
            return error_response(http.HTTPStatus.NOT_FOUND, message)
        refused = relay_refusal(request.headers, self.keys)
        return error_response(*refused) if refused else None

    async def _serve(self, websocket: ServerConnection) -> None:
        await serve_relay(websocket, self.keys)
