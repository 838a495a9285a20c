"""The JSON-RPC protocol of one handler connection, apart from sockets and processes (sans-I/O).

`ConnectionProtocol.receive()` takes one client frame and returns what to do:
frames to send, and effects (start, steer or describe an execution) for the
session to carry out; the session reports back through the other methods, which
return the frames to send. Every frame in and out is a model generated from spec/.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ValidationError

from cc_executor.generated.common.errors import ErrorDetails
from cc_executor.generated.common.jsonrpc import (
    ErrorObject,
    ErrorResponse,
    Request,
    SuccessResponse,
)
from cc_executor.generated.ws.notifications.connected import ConnectedNotification, ConnectedParams
from cc_executor.generated.ws.notifications.process_canceled import ProcessCanceledNotification
from cc_executor.generated.ws.notifications.process_completed import (
    ProcessCompletedNotification,
    ProcessCompletedParams,
)
from cc_executor.generated.ws.notifications.process_output import (
    ProcessOutputNotification,
    ProcessOutputParams,
)
from cc_executor.generated.ws.notifications.process_paused import ProcessPausedNotification
from cc_executor.generated.ws.notifications.process_resumed import ProcessResumedNotification
from cc_executor.generated.ws.notifications.process_started import ProcessStartedNotification
from cc_executor.generated.ws.requests.control import ControlParams, ControlResult
from cc_executor.generated.ws.requests.execute import ExecuteParams, ExecuteResult
from cc_executor.generated.ws.requests.hook_status import HookStatusParams, HookStatusResult
from cc_executor.generated.ws.requests.sessions import SessionInfo, SessionsParams, SessionsResult
from cc_executor.generated.ws.requests.status import RunningExecution, StatusParams, StatusResult

from .output_framer import OutputPiece
from .process_runner import Completion, StreamName

RequestId = str | int | None
ControlType = Literal["PAUSE", "RESUME", "CANCEL"]

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
INTERNAL_ERROR, SPAWN_FAILED = -32603, -32000

CAPABILITIES = ["execute", "control", "stream", "status", "hook_status", "sessions"]
PARAMS_BY_METHOD: dict[str, type[BaseModel]] = {
    "execute": ExecuteParams,
    "control": ControlParams,
    "hook_status": HookStatusParams,
    "status": StatusParams,
    "sessions": SessionsParams,
}
STATE_NOTIFICATIONS: dict[str, type[BaseModel]] = {
    "started": ProcessStartedNotification,
    "paused": ProcessPausedNotification,
    "resumed": ProcessResumedNotification,
    "canceled": ProcessCanceledNotification,
}


# -- what receive() asks the session to do -----------------------------------


@dataclass(frozen=True)
class Send:
    frame: bytes


@dataclass(frozen=True)
class StartExecution:
    request_id: RequestId
    answer: bool  # False for a notification (no id): act, but send no reply
    params: ExecuteParams
    execution_id: str


@dataclass(frozen=True)
class ControlExecution:
    request_id: RequestId
    answer: bool
    action: ControlType


@dataclass(frozen=True)
class ReportStatus:
    request_id: RequestId
    answer: bool


@dataclass(frozen=True)
class ReportSessions:
    request_id: RequestId
    answer: bool


Action = Send | StartExecution | ControlExecution | ReportStatus | ReportSessions


def encode(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON of a generated model, sent as a text frame (None kept: old clients read explicit nulls).

    orjson: on bulk output, encoding frames is the handler's largest cost (docs/performance.md).
    """
    data = model.model_dump(mode="json")
    try:
        return orjson.dumps(data)
    except TypeError:  # e.g. a request id beyond 64 bits, which JSON allows and orjson cannot write
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def readable(error: ValidationError) -> tuple[str, str | None]:
    """One sentence for the first problem pydantic found, and the dotted field it concerns."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown parameter"
    return (f"{field}: {message}" if field else message), field


class ConnectionProtocol:
    """State and framing of one connection: at most one execution at a time."""

    def __init__(self, *, session_id: str, version: str, max_frame_bytes: int = 1 << 20) -> None:
        self.session_id = session_id
        self.version = version
        self.max_frame_bytes = max_frame_bytes
        self.execution_id: str | None = None  # the execution this connection runs, if any
        self._pid = 0
        self._pgid: int | None = None

    def greeting(self) -> bytes:
        return encode(
            ConnectedNotification(
                jsonrpc="2.0",
                method="connected",
                params=ConnectedParams(session_id=self.session_id, version=self.version, capabilities=CAPABILITIES),
            )
        )

    # -- frames in ------------------------------------------------------------

    def receive(self, frame: str | bytes) -> list[Action]:
        """Everything one client frame calls for; never raises for bad input."""
        size = len(frame.encode() if isinstance(frame, str) else frame)
        if size > self.max_frame_bytes:
            return [
                self._error(
                    None,
                    INVALID_REQUEST,
                    "frame_too_large",
                    f"Frame of {size} bytes exceeds the limit of {self.max_frame_bytes} bytes",
                )
            ]
        if isinstance(frame, bytes):
            return [
                self._error(
                    None, PARSE_ERROR, "parse_error", "Binary frames are not accepted; send JSON-RPC as a text frame"
                )
            ]
        try:
            message = json.loads(frame, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            return [self._error(None, PARSE_ERROR, "parse_error", f"Parse error: {exc}")]
        if isinstance(message, list):
            return [
                self._error(
                    None,
                    INVALID_REQUEST,
                    "invalid_request",
                    "Batch requests are not supported; send one request per frame",
                )
            ]
        if not isinstance(message, dict):
            return [self._error(None, INVALID_REQUEST, "invalid_request", "A request must be a JSON object")]
        try:
            request = Request.model_validate(message, strict=True)
        except ValidationError as exc:
            request_id = message.get("id")
            if not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
                request_id = None
            text, _ = readable(exc)
            return [self._error(request_id, INVALID_REQUEST, "invalid_request", f"Invalid request: {text}")]
        return self._dispatch(request, answer="id" in request.model_fields_set)

    def _dispatch(self, request: Request, answer: bool) -> list[Action]:
        request_id = request.id
        params_model = PARAMS_BY_METHOD.get(request.method)
        if params_model is None:
            return self._maybe(
                answer,
                self._error(request_id, METHOD_NOT_FOUND, "method_not_found", f"Unknown method: {request.method}"),
            )
        if isinstance(request.params, list):
            return self._maybe(
                answer,
                self._error(request_id, INVALID_PARAMS, "invalid_params", "Invalid params: params must be an object"),
            )
        try:
            params = params_model.model_validate(request.params or {}, strict=True)
        except ValidationError as exc:
            text, field = readable(exc)
            return self._maybe(
                answer,
                self._error(request_id, INVALID_PARAMS, "invalid_params", f"Invalid params: {text}", field=field),
            )
        if isinstance(params, ExecuteParams):
            if self.execution_id is not None:
                return self._maybe(
                    answer,
                    self._error(
                        request_id,
                        INVALID_PARAMS,
                        "execution_running",
                        "A process is already running",
                        execution_id=self.execution_id,
                    ),
                )
            self.execution_id = params.execution_id or str(uuid.uuid4())
            return [StartExecution(request_id, answer, params, self.execution_id)]
        if isinstance(params, ControlParams):
            if self.execution_id is None:
                return self._maybe(
                    answer, self._error(request_id, INVALID_PARAMS, "no_execution", "No process is running")
                )
            if params.execution_id is not None and params.execution_id != self.execution_id:
                return self._maybe(
                    answer,
                    self._error(
                        request_id,
                        INVALID_PARAMS,
                        "no_execution",
                        f"Execution {params.execution_id} is not running here",
                        execution_id=params.execution_id,
                    ),
                )
            return [ControlExecution(request_id, answer, params.type)]
        if isinstance(params, HookStatusParams):
            result = HookStatusResult(enabled=False, message="Hook integration not configured")
            return self._maybe(answer, self._success(request_id, result))
        if isinstance(params, SessionsParams):
            return [ReportSessions(request_id, answer)]
        return [ReportStatus(request_id, answer)]

    # -- frames out, reported by the session ------------------------------------

    def execution_started(self, request: StartExecution, pid: int, pgid: int) -> list[bytes]:
        """The execute reply and process.started."""
        assert self.execution_id is not None
        self._pid, self._pgid = pid, pgid
        frames = [
            encode(
                SuccessResponse(
                    jsonrpc="2.0",
                    id=request.request_id,
                    result=ExecuteResult(
                        status="started", pid=pid, pgid=pgid, execution_id=self.execution_id
                    ).model_dump(),
                )
            )
        ]
        if not request.answer:
            frames.clear()
        return [*frames, self.state_changed("started")]

    def execution_not_started(self, request: StartExecution, message: str) -> list[bytes]:
        execution_id, self.execution_id = self.execution_id, None
        frame = self._error(request.request_id, SPAWN_FAILED, "spawn_failed", message, execution_id=execution_id)
        return [frame.frame] if request.answer else []

    def state_changed(self, status: Literal["started", "paused", "resumed", "canceled"]) -> bytes:
        notification = STATE_NOTIFICATIONS[status]
        return encode(
            notification(
                jsonrpc="2.0",
                method=f"process.{status}",
                params={
                    "status": status,
                    "pid": self._pid,
                    "pgid": self._pgid,
                    "exit_code": None,
                    "error": None,
                    "execution_id": self.execution_id,
                },
            )
        )

    def control_done(
        self, request: ControlExecution, status: Literal["paused", "resumed", "canceled"], changed: bool
    ) -> list[bytes]:
        """The control reply, then the state notification if the state did change."""
        frames = []
        if request.answer:
            frames.append(
                encode(
                    SuccessResponse(
                        jsonrpc="2.0",
                        id=request.request_id,
                        result=ControlResult(status=status, execution_id=self.execution_id).model_dump(),
                    )
                )
            )
        if changed:
            frames.append(self.state_changed(status))
        return frames

    def output(self, stream: StreamName, piece: OutputPiece) -> bytes:
        return encode(
            ProcessOutputNotification(
                jsonrpc="2.0",
                method="process.output",
                params=ProcessOutputParams(
                    type=stream,
                    data=piece.data,
                    truncated=False,
                    chunk_index=piece.chunk_index,
                    total_chunks=piece.total_chunks,
                    execution_id=self.execution_id,
                ),
            )
        )

    def completed(self, completion: Completion) -> bytes:
        """process.completed; the connection is free for the next execute."""
        frame = encode(
            ProcessCompletedNotification(
                jsonrpc="2.0",
                method="process.completed",
                params=ProcessCompletedParams(
                    status=completion.status,
                    pid=self._pid,
                    pgid=self._pgid,
                    exit_code=completion.exit_code,
                    error=completion.error,
                    execution_time=completion.execution_time,
                    early_completion_detected=False,
                    early_completion_time=None,
                    time_saved=0,
                    completion_marker=None,
                    execution_id=self.execution_id,
                    signal=completion.signal,
                    stdout_bytes=completion.stdout_bytes,
                    stderr_bytes=completion.stderr_bytes,
                ),
            )
        )
        self.execution_id = None
        return frame

    def status(
        self, request: ReportStatus, execution: RunningExecution | None, active_sessions: int, max_sessions: int
    ) -> list[bytes]:
        if not request.answer:
            return []
        return [
            encode(
                SuccessResponse(
                    jsonrpc="2.0",
                    id=request.request_id,
                    result=StatusResult(
                        session_id=self.session_id,
                        version=self.version,
                        active_sessions=active_sessions,
                        max_sessions=max_sessions,
                        execution=execution,
                    ).model_dump(mode="json"),
                )
            )
        ]

    def sessions(self, request: ReportSessions, sessions: list[SessionInfo], max_sessions: int) -> list[bytes]:
        if not request.answer:
            return []
        return [self._success(request.request_id, SessionsResult(sessions=sessions, max_sessions=max_sessions)).frame]

    def internal_error(self, action: Action, execution_gone: bool) -> list[bytes]:
        """The reply to a request whose handling failed inside the handler."""
        if execution_gone:
            self.execution_id = None
        if isinstance(action, Send) or not action.answer:
            return []
        return [self._error(action.request_id, INTERNAL_ERROR, "internal_error", "Internal error in the handler").frame]

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _maybe(answer: bool, send: Send) -> list[Action]:
        return [send] if answer else []

    @staticmethod
    def _success(request_id: RequestId, result: BaseModel) -> Send:
        return Send(encode(SuccessResponse(jsonrpc="2.0", id=request_id, result=result.model_dump(mode="json"))))

    @staticmethod
    def _error(
        request_id: RequestId,
        code: int,
        reason: str,
        message: str,
        *,
        field: str | None = None,
        execution_id: str | None = None,
    ) -> Send:
        details = ErrorDetails(reason=reason, field=field, execution_id=execution_id)
        return Send(
            encode(
                ErrorResponse(jsonrpc="2.0", id=request_id, error=ErrorObject(code=code, message=message, data=details))
            )
        )
