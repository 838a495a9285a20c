"""The JSON-RPC protocol of one handler connection, apart from sockets and processes (sans-I/O).

`ConnectionProtocol.receive()` takes one client frame and returns what to do: frames
to send, and effects (start, steer or describe an execution) for the session to carry
out; the session reports back through the other methods, which return the frames to
send (or further actions). Every frame out is built from a model generated from spec/.
What differs between protocol 1.0 (old clients) and 2.0 (cc-executor.v2) is the
connection's ProtocolMode (protocol_mode.py); this module only asks it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ValidationError
from pydantic.main import IncEx

from cc_executor.generated.common.errors import ErrorDetails
from cc_executor.generated.common.execution import StateChangeParams
from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.common.jsonrpc import ErrorObject, ErrorResponse, SuccessResponse
from cc_executor.generated.ws.notifications.connected import ConnectedNotification, ConnectedParams
from cc_executor.generated.ws.notifications.hook_completed import HookCompletedNotification
from cc_executor.generated.ws.notifications.permission_requested import (
    PermissionRequestedNotification,
    PermissionRequestedParams,
)
from cc_executor.generated.ws.notifications.ping import PingNotification, PingParams
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
from cc_executor.generated.ws.notifications.process_queued import ProcessQueuedNotification, QueuedParams
from cc_executor.generated.ws.notifications.process_resumed import ProcessResumedNotification
from cc_executor.generated.ws.notifications.process_started import ProcessStartedNotification
from cc_executor.generated.ws.requests.answer_permission import AnswerPermissionResult
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.generated.ws.requests.control import ControlResult
from cc_executor.generated.ws.requests.execute import ExecuteResult
from cc_executor.generated.ws.requests.hook_status import HookStatusResult
from cc_executor.generated.ws.requests.sessions import SessionInfo, SessionsResult
from cc_executor.generated.ws.requests.status import QueuedExecution, RunningExecution, StartingExecution, StatusResult

from .execution_types import Completion, OutputPiece, StreamName
from .params import (
    AnswerPermission,
    Control,
    ControlType,
    Execute,
    ParamsRefused,
    check_allowed,
    check_stdin,
    readable,
)
from .protocol_mode import V2, ProtocolMode

RequestId = str | int | None
StateStatus = Literal["started", "paused", "resumed", "canceled"]

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
INTERNAL_ERROR, SPAWN_FAILED, SESSION_LIMIT, NOT_RUN = -32603, -32000, -32003, -32004

CAPABILITIES = ["execute", "control", "stream", "status", "hook_status", "sessions"]
QUEUE_CAPABILITY = "queue"  # protocol 2.0: execute takes `queue`, and process.queued says an execution waits
RELAY_CAPABILITY = "permission_relay"  # protocol 2.0: execute's permission_relay, permission.requested
STATE_NOTIFICATIONS: dict[StateStatus, type[BaseModel]] = {
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
    execute: Execute
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


@dataclass(frozen=True)
class ReportHookStatus:
    request_id: RequestId
    answer: bool


@dataclass(frozen=True)
class DeliverAnswer:
    """Hand an answer_permission's decision to the relay waiting for it."""

    request_id: RequestId
    answer: bool
    params: AnswerPermission


Action = Send | StartExecution | ControlExecution | ReportStatus | ReportSessions | ReportHookStatus | DeliverAnswer


def encode(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON of a generated model, sent as a text frame (None kept: old clients read explicit nulls).

    orjson: on bulk output, encoding frames is the handler's largest cost (docs/performance.md). What it
    cannot write is written by the json module as ASCII: a request id beyond 64 bits, which JSON allows,
    and text holding a lone surrogate (a client may send `"id": "\\ud800"`), which has no UTF-8 form but
    a JSON escape, so the reply carries back the very id the client sent and the session lives on.
    """
    data = model.model_dump(mode="json")
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, separators=(",", ":")).encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def seconds_text(seconds: float | None) -> str:
    """A timeout as the old handler printed it: `5`, not `5.0`."""
    if seconds is None:
        return "None"
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


class OutputEncoder:
    """process.output frames of one execution: the generated model encoded once per stream, the text filled in.

    One line per frame (protocol 1.0) means hundreds of thousands of frames for a chatty
    process; encoding a model each time would cost more than everything else together.
    """

    _MARK = "\ue000cc-executor-data\ue000"  # private-use characters: never in what a model encodes around it

    def __init__(self, execution_id: str | None) -> None:
        self.execution_id = execution_id
        self._templates: dict[str, tuple[bytes, bytes]] = {}
        for stream in ("stdout", "stderr"):
            whole = encode(self._model(stream, OutputPiece(self._MARK)))
            prefix, _, suffix = whole.partition(orjson.dumps(self._MARK))
            self._templates[stream] = (prefix, suffix)

    def frame(self, stream: StreamName, piece: OutputPiece) -> bytes:
        if piece.chunk_index is not None:  # a piece of a long line: rare, and it has numbers to fill in
            return encode(self._model(stream, piece))
        prefix, suffix = self._templates[stream]
        return prefix + orjson.dumps(piece.data) + suffix

    def line_frames(self, stream: StreamName, piece: OutputPiece) -> list[bytes]:
        """One frame per line of the piece, newline included (protocol 1.0's framing)."""
        if piece.chunk_index is not None or piece.data.find("\n") in (-1, len(piece.data) - 1):
            return [self.frame(stream, piece)]
        prefix, suffix = self._templates[stream]
        lines = piece.data.split("\n")
        last = lines.pop()  # "" after a final newline; else the stream's last words, without one
        frames = [prefix + orjson.dumps(line + "\n") + suffix for line in lines]
        if last:
            frames.append(prefix + orjson.dumps(last) + suffix)
        return frames

    def _model(self, stream: StreamName, piece: OutputPiece) -> ProcessOutputNotification:
        return ProcessOutputNotification(
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


class ConnectionProtocol:
    """State and framing of one connection: at most one execution at a time (plus one waiting on a CANCEL)."""

    def __init__(
        self,
        *,
        session_id: str,
        version: str,
        mode: ProtocolMode = V2,
        max_frame_bytes: int = 1 << 20,
        max_stdin_bytes: int = 8 << 20,
        allowed_commands: tuple[str, ...] = (),
        relays: bool = True,
    ) -> None:
        self.session_id = session_id
        #: whether executions may relay their permission prompts here (the mode's, and the server's, to offer)
        self.relays = relays and "permission.requested" in mode.notifications
        self.version = version
        self.mode = mode
        self.max_frame_bytes = max_frame_bytes
        #: an execute frame may be larger than max_frame_bytes by its stdin, up to this many bytes (2.0 only)
        self.max_stdin_bytes = max_stdin_bytes if mode.takes_stdin else 0
        self.allowed_commands = allowed_commands
        self.execution_id: str | None = None  # the execution this connection runs, if any
        self._stopping = False  # a CANCEL of the current execution was accepted
        self._queued: StartExecution | None = None  # an execute sent after that CANCEL, waiting for the group to go
        self._pid = 0
        self._pgid: int | None = None
        self._output = OutputEncoder(None)

    def greeting(self) -> bytes:
        return encode(
            ConnectedNotification(
                jsonrpc="2.0",
                method="connected",
                params=ConnectedParams(
                    session_id=self.session_id, version=self.version, capabilities=self.capabilities
                ),
            )
        )

    @property
    def capabilities(self) -> list[str]:
        queue = [QUEUE_CAPABILITY] if self.mode.shows_queue else []
        relay = [RELAY_CAPABILITY] if self.relays else []
        return [*CAPABILITIES, *queue, *relay]

    def session_limit(self) -> bytes:
        """Protocol 1.0's answer to a connection beyond the session limit, sent before closing it."""
        return self._error(None, SESSION_LIMIT, "session_limit", "Session limit exceeded").frame

    def ping(self, timestamp: float) -> bytes:
        assert "ping" in self.mode.notifications, "ping is a protocol 1.0 notification"
        return encode(PingNotification(jsonrpc="2.0", method="ping", params=PingParams(timestamp=timestamp)))

    # -- frames in ------------------------------------------------------------

    def receive(self, frame: str | bytes) -> list[Action]:
        """Everything one client frame calls for; never raises for bad input."""
        size = len(frame.encode() if isinstance(frame, str) else frame)
        if size > self.max_frame_bytes and (isinstance(frame, bytes) or not self.max_stdin_bytes):
            return [self._too_large(size)]
        if size > self.max_frame_bytes + self.max_stdin_bytes:
            return [self._too_large(size)]
        if isinstance(frame, bytes):
            return [
                self._error(
                    None, PARSE_ERROR, "parse_error", "Binary frames are not accepted; send JSON-RPC as a text frame"
                )
            ]
        message = self._parsed(frame)
        if size > self.max_frame_bytes and not (isinstance(message, dict) and self._stdin_carries(message, size)):
            return [self._too_large(size)]  # only an execute's stdin may make a frame larger
        if isinstance(message, Send):
            return [message]
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
            request = self.mode.envelope.model_validate(message, strict=True)
        except ValidationError as exc:
            request_id = message.get("id")
            if not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
                request_id = None
            text, _ = readable(exc)
            return [self._error(request_id, INVALID_REQUEST, "invalid_request", f"Invalid request: {text}")]
        answer = "id" in request.model_fields_set
        return self._dispatch(request.method, request.id, request.params, answer)

    def _parsed(self, frame: str) -> Any:
        """The frame's JSON, or the parse error to answer."""
        try:
            return json.loads(frame, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            return self._error(None, PARSE_ERROR, "parse_error", f"Parse error: {exc}")

    def _dispatch(self, method: str, request_id: RequestId, raw_params: Any, answer: bool) -> list[Action]:
        if method in self.mode.silent_methods:
            return []
        reader = self.mode.readers.get(method)
        if reader is None:
            return self._maybe(
                answer, self._error(request_id, METHOD_NOT_FOUND, "method_not_found", f"Unknown method: {method}")
            )
        try:
            params = reader(raw_params)
            if isinstance(params, Execute):
                check_allowed(params.command, self.allowed_commands)
                check_stdin(params, self.max_stdin_bytes)
        except ParamsRefused as refused:
            return self._maybe(
                answer, self._error(request_id, refused.code, refused.reason, refused.message, field=refused.field)
            )
        if isinstance(params, Execute):
            return self._execute(StartExecution(request_id, answer, params, ""))
        if isinstance(params, Control):
            return self._control(request_id, answer, params)
        if isinstance(params, AnswerPermission):
            return self._deliver(request_id, answer, params)
        if method == "hook_status":
            return [ReportHookStatus(request_id, answer)] if answer else []
        if method == "sessions":
            return [ReportSessions(request_id, answer)]
        return [ReportStatus(request_id, answer)]

    def _execute(self, request: StartExecution) -> list[Action]:
        if self.execution_id is None:
            return [self._begin(request)]
        if self._stopping and self._queued is None:
            self._queued = request  # the old handler accepted it once the canceled process was gone
            return []
        return self._maybe(
            request.answer,
            self._error(
                request.request_id,
                INVALID_PARAMS,
                "execution_running",
                "A process is already running",
                execution_id=self.execution_id,
            ),
        )

    def _begin(self, request: StartExecution) -> StartExecution:
        self.execution_id = request.execute.execution_id or str(uuid.uuid4())
        self._stopping = False
        return StartExecution(request.request_id, request.answer, request.execute, self.execution_id)

    def _control(self, request_id: RequestId, answer: bool, params: Control) -> list[Action]:
        if self.execution_id is None:
            return self._maybe(answer, self._error(request_id, INVALID_PARAMS, "no_execution", "No process is running"))
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
        return [ControlExecution(request_id, answer, params.action)]

    def _deliver(self, request_id: RequestId, answer: bool, params: AnswerPermission) -> list[Action]:
        guard = params.params.execution_id
        if self.execution_id is None or (guard is not None and guard != self.execution_id):
            return self._maybe(answer, self._no_request(request_id, params))
        return [DeliverAnswer(request_id, answer, params)]

    def _no_request(self, request_id: RequestId, params: AnswerPermission) -> Send:
        key = params.params.request_id
        return self._error(
            request_id,
            INVALID_PARAMS,
            "no_request",
            f"No permission request {key} waits here (answered already, or its execution ended)",
            field="request_id",
            execution_id=self.execution_id,
        )

    # -- frames out, reported by the session ------------------------------------

    def execution_started(self, request: StartExecution, pid: int, pgid: int) -> list[bytes]:
        """The execute reply and process.started."""
        assert self.execution_id is not None
        self._pid, self._pgid = pid, pgid
        self._output = OutputEncoder(self.execution_id)
        frames = []
        if request.answer:
            result = ExecuteResult(status="started", pid=pid, pgid=pgid, execution_id=self.execution_id)
            frames.append(self._success(request.request_id, result).frame)
        return [*frames, self.state_changed("started")]

    def execution_not_started(
        self, request: StartExecution, message: str, reason: str = "spawn_failed", code: int = SPAWN_FAILED
    ) -> list[Action]:
        """The execute's error reply (the process could not start, a pre-execution hook failed, or it got no
        execution slot: NOT_RUN); then an execute that waited on a CANCEL starts."""
        execution_id, self.execution_id, self._stopping = self.execution_id, None, False
        actions: list[Action] = []
        if request.answer:
            actions.append(self._error(request.request_id, code, reason, message, execution_id=execution_id))
        queued, self._queued = self._queued, None
        if queued is not None:
            actions.append(self._begin(queued))
        return actions

    def execution_queued(self, position: int, running: int, max_running: int) -> list[bytes]:
        """process.queued, for the modes that send it (2.0): the execution waits for a slot."""
        if not self.mode.shows_queue:
            return []
        assert self.execution_id is not None
        params = QueuedParams(
            status="queued", execution_id=self.execution_id, position=position, running=running, max_running=max_running
        )
        return [encode(ProcessQueuedNotification(jsonrpc="2.0", method="process.queued", params=params))]

    def control_while_queued(self, request: ControlExecution) -> list[bytes]:
        """PAUSE or RESUME of an execution that waits for a slot: nothing to steer yet (CANCEL withdraws it)."""
        if not request.answer:
            return []
        message = f"Execution {self.execution_id} is queued, not running: only CANCEL applies until it starts"
        return [
            self._error(
                request.request_id, INVALID_PARAMS, "no_execution", message, execution_id=self.execution_id
            ).frame
        ]

    def hook_completed(self, run: HookRun) -> list[bytes]:
        """A hook.completed notification, for the modes that send it (2.0)."""
        if "hook.completed" not in self.mode.notifications:
            return []
        return [encode(HookCompletedNotification(jsonrpc="2.0", method="hook.completed", params=run))]

    def permission_requested(self, request_key: str, question: AskPermissionParams) -> list[bytes]:
        """A permission.requested notification of the running execution, for the modes that send it (2.0)."""
        if "permission.requested" not in self.mode.notifications or self.execution_id is None:
            return []
        params = PermissionRequestedParams.model_validate(
            {"execution_id": self.execution_id, "request_id": request_key, **question.model_dump(exclude_none=True)}
        )
        return [encode(PermissionRequestedNotification(jsonrpc="2.0", method="permission.requested", params=params))]

    def answer_delivered(self, action: DeliverAnswer, delivered: bool) -> list[bytes]:
        """answer_permission's reply: the request it answered, or no_request when nothing waited."""
        if not action.answer:
            return []
        if not delivered:
            return [self._no_request(action.request_id, action.params).frame]
        result = AnswerPermissionResult.model_validate({"request_id": action.params.params.request_id})
        return [self._success(action.request_id, result).frame]

    def hook_status(self, request: ReportHookStatus, result: HookStatusResult) -> list[bytes]:
        """The facts the engine has (the old answer without a hooks file: enabled false and the message only)."""
        if not request.answer:
            return []
        facts = result.model_dump(mode="json", exclude_unset=True)
        return [encode(SuccessResponse(jsonrpc="2.0", id=request.request_id, result=facts))]

    def state_changed(self, status: StateStatus) -> bytes:
        params = StateChangeParams(
            status=status, pid=self._pid, pgid=self._pgid, exit_code=None, error=None, execution_id=self.execution_id
        )
        return encode(STATE_NOTIFICATIONS[status](jsonrpc="2.0", method=f"process.{status}", params=params))

    def control_done(
        self, request: ControlExecution, status: Literal["paused", "resumed", "canceled"], changed: bool
    ) -> list[bytes]:
        """The control reply, then the state notification if the state did change."""
        if request.action == "CANCEL":
            self._stopping = True
        frames = []
        if request.answer:
            frames.append(
                self._success(request.request_id, ControlResult(status=status, execution_id=self.execution_id)).frame
            )
        if changed:
            frames.append(self.state_changed(status))
        return frames

    def output(self, stream: StreamName, pieces: list[OutputPiece]) -> list[bytes]:
        """The process.output frames of a batch of pieces, in order: one per line in protocol 1.0."""
        if self.mode.framing == "line":
            return [frame for piece in pieces for frame in self._output.line_frames(stream, piece)]
        return [self._output.frame(stream, piece) for piece in pieces]

    def completed(self, completion: Completion) -> list[Action]:
        """process.completed (after protocol 1.0's timeout marker lines); then an execute that waited for it starts."""
        frames = []
        if completion.status == "timed_out" and self.mode.timeout_markers:
            marker = OutputPiece(f"\n[Stream timed out after {seconds_text(completion.timeout_s)}s]\n")
            frames += [self._output.frame("stdout", marker), self._output.frame("stderr", marker)]  # one frame each
        params = ProcessCompletedParams(
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
        )
        frames.append(encode(ProcessCompletedNotification(jsonrpc="2.0", method="process.completed", params=params)))
        self.execution_id, self._stopping = None, False
        actions: list[Action] = [Send(frame) for frame in frames]
        queued, self._queued = self._queued, None
        if queued is not None:
            actions.append(self._begin(queued))
        return actions

    def status(
        self,
        request: ReportStatus,
        execution: RunningExecution | None,
        queued: QueuedExecution | None,
        starting: StartingExecution | None,
        active_sessions: int,
        max_sessions: int,
    ) -> list[bytes]:
        """The session's state; an execution waiting for a slot, or for its pre-execution hooks, only where the mode
        shows them (2.0)."""
        if not request.answer:
            return []
        result = StatusResult(
            session_id=self.session_id,
            version=self.version,
            active_sessions=active_sessions,
            max_sessions=max_sessions,
            execution=execution,
            queued_execution=queued,
            starting_execution=starting,
        )
        return [self._success(request.request_id, result, exclude=self._unshown() or None).frame]

    def sessions(self, request: ReportSessions, sessions: list[SessionInfo], max_sessions: int) -> list[bytes]:
        """Every session, with what waits for a slot or for its pre-execution hooks only where the asking connection's
        mode shows them (2.0)."""
        if not request.answer:
            return []
        result = SessionsResult(sessions=sessions, max_sessions=max_sessions)
        unshown = self._unshown()
        return [
            self._success(
                request.request_id, result, exclude={"sessions": {"__all__": unshown}} if unshown else None
            ).frame
        ]

    def _unshown(self) -> set[str]:
        """The fields for an execution that has not started which this connection's mode does not show (1.0: both)."""
        unshown: set[str] = set()
        if not self.mode.shows_queue:
            unshown.add("queued_execution")
        if not self.mode.shows_starting:
            unshown.add("starting_execution")
        return unshown

    def internal_error(self, action: Action, execution_gone: bool) -> list[bytes]:
        """The reply to a request whose handling failed inside the handler."""
        if execution_gone:
            self.execution_id = None
        if isinstance(action, Send) or not action.answer:
            return []
        return [self._error(action.request_id, INTERNAL_ERROR, "internal_error", "Internal error in the handler").frame]

    # -- helpers ---------------------------------------------------------------

    def _too_large(self, size: int) -> Send:
        return self._error(
            None,
            INVALID_REQUEST,
            "frame_too_large",
            f"Frame of {size} bytes exceeds the limit of {self.max_frame_bytes} bytes",
        )

    def _stdin_carries(self, message: dict[str, Any], size: int) -> bool:
        """Whether an oversized frame is an execute whose stdin makes up the excess."""
        params = message.get("params")
        stdin = params.get("stdin") if message.get("method") == "execute" and isinstance(params, dict) else None
        if not self.max_stdin_bytes or not isinstance(stdin, str):
            return False
        return size - len(stdin.encode("utf-8", "surrogatepass")) <= self.max_frame_bytes

    @staticmethod
    def _maybe(answer: bool, send: Send) -> list[Action]:
        return [send] if answer else []

    @staticmethod
    def _success(request_id: RequestId, result: BaseModel, exclude: IncEx | None = None) -> Send:
        """A success response; `exclude` leaves out fields a mode does not send."""
        data = result.model_dump(mode="json", exclude=exclude)
        return Send(encode(SuccessResponse(jsonrpc="2.0", id=request_id, result=data)))

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
        return Send(error_frame(request_id, code, reason, message, field=field, execution_id=execution_id))


def error_frame(
    request_id: RequestId,
    code: int,
    reason: str,
    message: str,
    *,
    field: str | None = None,
    execution_id: str | None = None,
) -> bytes:
    """An error response, its details in `data` (protocol 2.0's additions; old clients ignore them)."""
    details = ErrorDetails.model_validate({"reason": reason, "field": field, "execution_id": execution_id})
    return encode(
        ErrorResponse(jsonrpc="2.0", id=request_id, error=ErrorObject(code=code, message=message, data=details))
    )
