"""A typed async client for the handler's WebSocket protocol, built on the generated models.

    async with await HandlerClient.connect("ws://127.0.0.1:8003/ws/mcp", token=...) as client:
        started = await client.execute("echo hello")
        async for event in client.events():
            if isinstance(event, ProcessOutputParams):
                print(event.data, end="")
            elif isinstance(event, ProcessCompletedParams):
                break

The URL is `ws://HOST:PORT/ws/mcp`, `wss://…` (checked against the system's CAs or a
`ca_file`), or `ws+unix:///path/to/handler.sock`: the local handler's socket in the data
dir, which only its user can reach (cc_executor/endpoints.py).

Replies are matched to requests by id; notifications arrive in order through `events()`.
The event queue is bounded, so a consumer that stops reading slows the handler (and
the process) down instead of filling memory.

The client asks for protocol 2.0 (the WebSocket subprotocol `cc-executor.v2`: batched
output framing, strict validation). It reads forward-compatibly, as spec/README.md asks
of every reader: fields it does not know in anything the handler sends are kept and
ignored, and notifications it does not know (e.g. a 1.0 handler's `ping`) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State
from websockets.typing import Subprotocol

from cc_executor.generated.common.execution import StateChangeParams
from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.common.jsonrpc import ErrorResponse, Request, SuccessResponse
from cc_executor.generated.common.permissions import PermissionDecision, PermissionRelayOptions
from cc_executor.generated.ws.notifications.connected import ConnectedParams
from cc_executor.generated.ws.notifications.permission_requested import PermissionRequestedParams
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.generated.ws.notifications.process_output import ProcessOutputParams
from cc_executor.generated.ws.notifications.process_queued import QueuedParams
from cc_executor.generated.ws.requests.answer_permission import AnswerPermissionParams, AnswerPermissionResult
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.generated.ws.requests.control import ControlResult
from cc_executor.generated.ws.requests.execute import ExecuteParams, ExecuteResult
from cc_executor.generated.ws.requests.hook_status import HookStatusResult
from cc_executor.generated.ws.requests.sessions import SessionsResult
from cc_executor.generated.ws.requests.status import StatusResult
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

from .endpoints import absent_socket, check_url, open_websocket

Event = (
    ProcessOutputParams
    | ProcessCompletedParams
    | StateChangeParams
    | HookRun
    | QueuedParams
    | PermissionRequestedParams
)
NOTIFICATION_PARAMS: dict[str, type[Event]] = {
    "hook.completed": HookRun,
    "process.queued": QueuedParams,
    "permission.requested": PermissionRequestedParams,
    "process.output": ProcessOutputParams,
    "process.completed": ProcessCompletedParams,
    "process.started": StateChangeParams,
    "process.paused": StateChangeParams,
    "process.resumed": StateChangeParams,
    "process.canceled": StateChangeParams,
}
ControlAction = Literal["PAUSE", "RESUME", "CANCEL"]
EVENT_QUEUE_FRAMES = 256
CLOSE_TIMEOUT_S = 2.0


class HandlerError(Exception):
    """The handler answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (JSON-RPC error {code})")
        self.code = code
        self.message = message
        self.data = data

    @property
    def reason(self) -> str | None:
        return self.data.get("reason") if isinstance(self.data, dict) else None


class HandlerUnavailable(Exception):
    """No connection could be made, or it was lost; says why (refused, unauthorized, full, ...).

    `status` is the HTTP status of a refused handshake (401, 429, 503, ...), None otherwise."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RequestNotSent(HandlerUnavailable):
    """The request never left: safe to retry elsewhere (nothing can have started)."""


class HandlerClient:
    """One connection to a handler: at most one execution at a time, as the protocol says."""

    def __init__(self, websocket: ClientConnection, greeting: ConnectedParams) -> None:
        self.websocket = websocket
        self.greeting = greeting
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue(EVENT_QUEUE_FRAMES)
        self._closed_reason: str | None = None
        self._ended = False
        self._reader = asyncio.create_task(self._read(), name="handler-client-reader")

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None = None,
        *,
        open_timeout: float = 5.0,
        ca_file: Path | None = None,
        address: str | None = None,
    ) -> HandlerClient:
        """Connect to the handler at a ws://, wss:// (checked against `ca_file`, else the system's CAs) or
        ws+unix:// URL; HandlerUnavailable says why it could not. `address`: connect to that address of the URL's
        host name (one handler of several behind one name)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            check_url(url)
        except ValueError as exc:
            raise HandlerUnavailable(str(exc)) from exc
        absent = absent_socket(url)
        if absent is not None:
            raise HandlerUnavailable(f"cannot reach {url}: {absent}")
        try:
            websocket = await open_websocket(
                url,
                ca_file=ca_file,
                address=address,
                additional_headers=headers,
                subprotocols=[Subprotocol(V2_SUBPROTOCOL)],
                open_timeout=open_timeout,
                max_size=None,
                ping_interval=20,
            )
        except InvalidStatus as exc:
            body = exc.response.body.decode(errors="replace") if exc.response.body else ""
            with contextlib.suppress(ValueError, AttributeError):
                body = json.loads(body)["message"]
            status = exc.response.status_code
            raise HandlerUnavailable(f"{url} refused the connection (HTTP {status}): {body}", status) from exc
        except (OSError, TimeoutError) as exc:
            raise HandlerUnavailable(f"cannot reach {url}: {exc}") from exc
        except Exception as exc:  # handshake failures come in many library-specific types
            raise HandlerUnavailable(f"cannot open a WebSocket to {url}: {exc}") from exc
        try:
            first = json.loads(await asyncio.wait_for(websocket.recv(), open_timeout))
            greeting = ConnectedParams.model_validate(first["params"])
        except Exception as exc:
            await websocket.close()
            raise HandlerUnavailable(f"{url} did not greet with a 'connected' notification: {exc}") from exc
        return cls(websocket, greeting)

    async def __aenter__(self) -> HandlerClient:
        return self

    async def __aexit__(self, *exc_info: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        await self.close()

    @property
    def protocol_version(self) -> str:
        """The protocol in use: 2.0 when the handler agreed to cc-executor.v2, 1.0 with one that does not know it."""
        return "2.0" if self.websocket.subprotocol == V2_SUBPROTOCOL else "1.0"

    @property
    def can_refuse_to_queue(self) -> bool:
        """Whether the handler takes execute's `queue: false` (its greeting lists the `queue` capability)."""
        return "queue" in self.greeting.capabilities

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def close(self) -> None:
        """Close, and never hang: a connection still streaming output may not answer the close handshake."""
        self._reader.cancel()  # it may wait on a full event queue nobody reads any more
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        try:
            await asyncio.wait_for(self.websocket.close(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            self.websocket.transport.abort()

    # -- requests ----------------------------------------------------------------

    async def execute(
        self,
        command: str,
        *,
        timeout: int | None = None,
        cwd: str | None = None,
        execution_id: str | None = None,
        stdin: str | None = None,
        queue: bool | None = None,
        permission_relay: PermissionRelayOptions | None = None,
    ) -> ExecuteResult:
        """Start `command`; `stdin` (protocol 2.0) is written to its standard input, which is then closed.

        When every slot of the handler is taken, the execution waits in its queue (a QueuedParams event says so)
        and this returns once it has started; `queue=False` (handlers with the `queue` capability) is answered
        -32004, reason handler_full, instead. With `permission_relay` (protocol 2.0), its permission prompts arrive
        as PermissionRequestedParams events, each to be answered with `answer_permission`."""
        if stdin is not None and self.protocol_version != "2.0":
            raise HandlerError(-32602, "this handler speaks protocol 1.0, which cannot take stdin for a command")
        if permission_relay is not None and "permission_relay" not in self.greeting.capabilities:
            raise HandlerError(
                -32602,
                "this handler does not relay permission prompts (an older handler, or one that serves wss:// only, "
                "without a local socket)",
            )
        params = ExecuteParams(
            command=command,
            timeout=timeout,
            cwd=cwd,
            execution_id=execution_id,
            stdin=stdin,
            queue=queue,
            permission_relay=permission_relay,
        )
        return ExecuteResult.model_validate(await self.request("execute", params.model_dump(exclude_none=True)))

    async def control(self, action: ControlAction, execution_id: str | None = None) -> ControlResult:
        params: dict[str, Any] = {"type": action}
        if execution_id:
            params["execution_id"] = execution_id
        return ControlResult.model_validate(await self.request("control", params))

    async def answer_permission(
        self, request_id: str, behavior: Literal["allow", "deny"], message: str | None = None
    ) -> AnswerPermissionResult:
        """Answer a permission.requested of this connection's execution (HandlerError, reason no_request, when
        nothing waits under that id)."""
        params = AnswerPermissionParams(request_id=request_id, behavior=behavior, message=message)
        return AnswerPermissionResult.model_validate(
            await self.request("answer_permission", params.model_dump(exclude_none=True))
        )

    async def ask_permission(self, question: AskPermissionParams) -> PermissionDecision:
        """On the permission relay channel: ask whether a tool call may run, and wait for the answer."""
        return PermissionDecision.model_validate(
            await self.request("ask_permission", question.model_dump(mode="json", exclude_none=True))
        )

    async def status(self) -> StatusResult:
        return StatusResult.model_validate(await self.request("status", {}))

    async def sessions(self) -> SessionsResult:
        return SessionsResult.model_validate(await self.request("sessions", {}))

    async def hook_status(self) -> HookStatusResult:
        return HookStatusResult.model_validate(await self.request("hook_status", {}))

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send one request and wait for its reply; raises HandlerError on an error reply."""
        if self.closed or self.websocket.state is not State.OPEN:
            raise RequestNotSent(self._closed_reason or "the connection is closed")
        request_id = next(self._ids)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        # unescaped UTF-8: a large stdin counts against the handler's limit as its UTF-8 bytes
        frame = Request(jsonrpc="2.0", method=method, id=request_id, params=params).model_dump_json()
        try:
            try:
                await self.websocket.send(frame)
            except ConnectionClosed as exc:  # it may or may not have reached the handler
                raise HandlerUnavailable(f"connection lost while sending {method}: {exc}") from exc
            return await reply
        finally:
            self._pending.pop(request_id, None)

    # -- notifications ---------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Notifications in arrival order; ends when the connection closes."""
        while not (self._ended and self._events.empty()):
            event = await self._events.get()
            if event is None:
                self._ended = True
                return
            yield event

    def discard_events(self) -> None:
        """Drop the notifications queued so far (those of an execute that was refused), before the next execute."""
        while not self._events.empty():
            if self._events.get_nowait() is None:
                self._ended = True

    async def _read(self) -> None:
        try:
            async for frame in self.websocket:
                message = json.loads(frame)
                if "id" in message and ("result" in message or "error" in message):
                    self._resolve(message)
                    continue
                params_model = NOTIFICATION_PARAMS.get(message.get("method", ""))
                if params_model is not None:
                    await self._events.put(params_model.model_validate(message.get("params")))
        except ConnectionClosed as exc:
            self._closed_reason = f"connection closed: {exc}"
        finally:
            self._closed_reason = self._closed_reason or "connection closed"
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(HandlerUnavailable(self._closed_reason))
            try:
                self._events.put_nowait(None)
            except asyncio.QueueFull:
                self._ended = True  # events() stops once the queue is drained

    def _resolve(self, message: dict[str, Any]) -> None:
        reply = self._pending.get(message["id"])
        if reply is None or reply.done():
            return
        if "error" in message:
            reply.set_exception(handler_error(message))
        else:
            reply.set_result(SuccessResponse.model_validate(message).result)


def handler_error(message: dict[str, Any]) -> HandlerError:
    """The error reply as an exception; a code or reason this client does not know yet (a newer handler's) is kept
    as sent rather than refused."""
    try:
        error = ErrorResponse.model_validate(message).error
    except ValidationError:
        raw = message.get("error")
        raw = raw if isinstance(raw, dict) else {}
        return HandlerError(int(raw.get("code", 0)), str(raw.get("message", "")), raw.get("data"))
    data = error.data.model_dump(mode="json", exclude_none=True) if error.data is not None else None
    return HandlerError(error.code, error.message, data)
