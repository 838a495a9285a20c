"""Where a task's permission relay asks its questions: a WebSocket channel of its own, beside the execution's.

An execution started with `permission_relay` gets a relay key in its environment
(CC_EXECUTOR_RELAY_KEY, with CC_EXECUTOR_RELAY_URL saying where to ask and
CC_EXECUTOR_RELAY_PYTHON the interpreter that runs the relay). The relay
(`cc-executor permission-relay`, the MCP server Claude Code calls as its
`--permission-prompt-tool`) connects to the URL with the key as its bearer token and
sends `ask_permission` requests; each is answered with what the execution's asker
decides: in a handler, the client that runs the execution (permission.requested /
answer_permission on its connection); in the bridge's local backend, the bridge itself.

A key is random (256 bits), good only while its execution runs, and opens nothing but
this channel: it cannot run, steer or watch anything. The handler's token is never
accepted here, so a task never needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http
import json
import logging
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed

from cc_executor import __version__
from cc_executor.generated.common.jsonrpc import Request, SuccessResponse
from cc_executor.generated.common.permissions import PermissionDecision
from cc_executor.generated.ws.notifications.connected import ConnectedNotification, ConnectedParams
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams

from .params import readable
from .protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RequestId,
    encode,
    error_frame,
)
from .protocol_mode import V2_SUBPROTOCOL

log = logging.getLogger("cc_executor.handler")

RELAY_PATH = "/ws/permission-relay"
RELAY_URL_ENV = "CC_EXECUTOR_RELAY_URL"
RELAY_KEY_ENV = "CC_EXECUTOR_RELAY_KEY"
RELAY_PYTHON_ENV = "CC_EXECUTOR_RELAY_PYTHON"
#: Connections one key may hold at once (a relay needs one; a few more cover a reconnect).
MAX_CONNECTIONS_PER_KEY = 4

#: Decides one question of an execution's Claude; may take minutes (someone has to answer).
Asker = Callable[[AskPermissionParams], Awaitable[PermissionDecision]]


@dataclass
class _Grant:
    asker: Asker
    connections: set[ServerConnection] = field(default_factory=set)


@dataclass(frozen=True)
class RelayDoor:
    """The keys of a server's executions, and the URL their relays reach it at."""

    keys: RelayKeys
    url: str


class RelayKeys:
    """The relay keys of the executions that run now, each with the asker that answers its questions."""

    def __init__(self) -> None:
        self._grants: dict[str, _Grant] = {}  # by the key's SHA-256: a lookup never compares the secret itself

    def issue(self, asker: Asker) -> str:
        key = secrets.token_urlsafe(32)
        self._grants[_digest(key)] = _Grant(asker)
        return key

    def revoke(self, key: str) -> None:
        """The execution ended: the key opens nothing any more, and its relay connections are closed."""
        grant = self._grants.pop(_digest(key), None)
        for connection in list(grant.connections if grant else ()):
            asyncio.get_running_loop().create_task(connection.close(1000, "The execution ended"))

    def grant_for(self, presented: str) -> _Grant | None:
        return self._grants.get(_digest(presented)) if presented else None

    @staticmethod
    def environment(key: str, url: str) -> dict[str, str]:
        """What the execution's environment gets so that its relay can ask (the interpreter runs the relay)."""
        return {RELAY_URL_ENV: url, RELAY_KEY_ENV: key, RELAY_PYTHON_ENV: sys.executable}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def presented_key(headers: Headers) -> str:
    scheme, _, key = headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def relay_refusal(headers: Headers, keys: RelayKeys) -> tuple[http.HTTPStatus, str] | None:
    """Why a relay handshake is refused (status, message), or None to let it in."""
    if headers.get("Origin") is not None:
        return http.HTTPStatus.FORBIDDEN, "Browsers may not connect to the permission relay channel"
    grant = keys.grant_for(presented_key(headers))
    if grant is None:
        return http.HTTPStatus.UNAUTHORIZED, (
            "Missing or unknown relay key: the permission relay channel takes the key of a running execution "
            f"(its {RELAY_KEY_ENV}) as 'Authorization: Bearer <key>'"
        )
    if len(grant.connections) >= MAX_CONNECTIONS_PER_KEY:
        return http.HTTPStatus.TOO_MANY_REQUESTS, "Too many relay connections for this execution"
    offered = [value.strip() for header in headers.get_all("Sec-WebSocket-Protocol") for value in header.split(",")]
    if V2_SUBPROTOCOL not in offered:
        return (
            http.HTTPStatus.BAD_REQUEST,
            f"The permission relay channel speaks protocol 2.0 only: offer {V2_SUBPROTOCOL}",
        )
    return None


async def serve_relay(websocket: ServerConnection, keys: RelayKeys) -> None:
    """One relay connection: the greeting, then each ask_permission answered as its execution's asker decides.

    Questions are answered in any order (each waits for its own answer); when the connection or the
    execution goes, the questions still waiting are dropped."""
    grant = keys.grant_for(presented_key(websocket.request.headers if websocket.request else Headers()))
    if grant is None:  # revoked between the handshake and now
        await websocket.close(1008, "The execution ended")
        return
    grant.connections.add(websocket)
    asking: set[asyncio.Task[None]] = set()
    greeting = ConnectedParams(session_id=str(uuid.uuid4()), version=__version__, capabilities=["ask_permission"])
    try:
        await websocket.send(
            encode(ConnectedNotification(jsonrpc="2.0", method="connected", params=greeting)), text=True
        )
        async for frame in websocket:
            read = _read(frame)
            if isinstance(read, bytes):
                await websocket.send(read, text=True)
                continue
            task = asyncio.create_task(_answer(websocket, grant.asker, *read))
            asking.add(task)
            task.add_done_callback(asking.discard)
    except ConnectionClosed:
        pass
    finally:
        grant.connections.discard(websocket)
        for task in asking:
            task.cancel()


def _read(frame: str | bytes) -> tuple[RequestId, AskPermissionParams] | bytes:
    """The request id and question in a frame, or the error frame to answer it with."""
    if isinstance(frame, bytes):
        return error_frame(None, PARSE_ERROR, "parse_error", "Binary frames are not accepted; send JSON text")
    try:
        message: Any = json.loads(frame)
    except ValueError as exc:
        return error_frame(None, PARSE_ERROR, "parse_error", f"Parse error: {exc}")
    try:
        request = Request.model_validate(message, strict=True)
    except ValidationError as exc:
        return error_frame(None, INVALID_REQUEST, "invalid_request", f"Invalid request: {readable(exc)[0]}")
    if request.method != "ask_permission":
        message = f"Unknown method: {request.method} (the permission relay channel takes ask_permission only)"
        return error_frame(request.id, METHOD_NOT_FOUND, "method_not_found", message)
    try:
        return request.id, AskPermissionParams.model_validate(request.params or {}, strict=True)
    except ValidationError as exc:
        text, field_name = readable(exc)
        return error_frame(request.id, INVALID_PARAMS, "invalid_params", f"Invalid params: {text}", field=field_name)


async def _answer(
    websocket: ServerConnection, asker: Asker, request_id: RequestId, question: AskPermissionParams
) -> None:
    try:
        decision = await asker(question)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("permission relay: the question could not be answered")
        frame = error_frame(request_id, INTERNAL_ERROR, "internal_error", "Internal error while asking")
    else:
        result = decision.model_dump(mode="json", exclude_none=True)
        frame = encode(SuccessResponse(jsonrpc="2.0", id=request_id, result=result))
    with contextlib.suppress(ConnectionClosed):
        await websocket.send(frame, text=True)
