"""Contract scenarios as data: the steps a client takes, the conditions it waits for, and request builders.

A scenario is a list of steps: send a frame (JSON, raw text, binary, or an oversized
filler), receive until a condition holds, pause, close, or check that nothing the
connection started is still running. driver.py plays one against a handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from pydantic import BaseModel

from cc_executor.contract_tests.frames import (
    STREAMS,
    Json,
    RequestId,
    count,
    is_object,
    is_output,
    is_reply_to,
    is_timing,
    stream_text,
)
from cc_executor.generated.ws.requests.control import ControlParams, ControlRequest
from cc_executor.generated.ws.requests.execute import ExecuteParams, ExecuteRequest
from cc_executor.generated.ws.requests.hook_status import HookStatusRequest
from cc_executor.generated.ws.requests.status import StatusRequest

DEFAULT_WAIT_S = 10.0

# -- steps ----------------------------------------------------------------------


@dataclass(frozen=True)
class SendFrame:
    """Send a JSON value as a text frame (a request, or JSON that is deliberately not one)."""

    frame: Json

    def __post_init__(self) -> None:
        if isinstance(self.frame, str):  # a str is stored as raw text in transcripts; say so with SendText
            raise TypeError("SendFrame takes a JSON object, array, number or null; use SendText for raw text")


@dataclass(frozen=True)
class SendText:
    """Send raw text as a text frame (not JSON, truncated JSON, or a JSON string document)."""

    text: str


@dataclass(frozen=True)
class SendBinary:
    """Send a binary frame (the protocol is text only)."""

    data: bytes


@dataclass(frozen=True)
class SendFiller:
    """Send `count` copies of `char` as one text frame: oversized input too big to keep in a recording."""

    char: str
    count: int


class Until(Protocol):
    """A condition over the frames received so far; `since` indexes the first frame after the last send."""

    def met(self, frames: Sequence[Json], since: int) -> bool: ...


@dataclass(frozen=True)
class Receive:
    """Wait until `until` holds (frames keep being recorded meanwhile); fail after `timeout_s`."""

    until: Until
    timeout_s: float = DEFAULT_WAIT_S


@dataclass(frozen=True)
class Pause:
    """Do nothing for a while (e.g. hold a paused process paused)."""

    seconds: float


@dataclass(frozen=True)
class Close:
    """The client goes away (normal close)."""


@dataclass(frozen=True)
class NothingLeftRunning:
    """After Close: /health counts no running execution and no process group this connection started is alive.

    The group check (os.killpg(pgid, 0) -> ProcessLookupError) needs the handler on this
    machine; the driver skips it for a remote handler.
    """

    timeout_s: float = DEFAULT_WAIT_S


Step: TypeAlias = SendFrame | SendText | SendBinary | SendFiller | Receive | Pause | Close | NothingLeftRunning


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    steps: tuple[Step, ...]
    subprotocol: str | None = None  # what the client offers in its handshake: cc-executor.v2 for protocol 2.0


# -- conditions -------------------------------------------------------------------


@dataclass(frozen=True)
class UntilMethod:
    """A notification with this method arrived after the last send."""

    method: str

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return any(is_object(f) and f.get("method") == self.method for f in frames[since:])


@dataclass(frozen=True)
class UntilReply:
    """The response (result or error) with this id arrived after the last send; None matches `"id": null`."""

    id: RequestId

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return any(is_reply_to(f, self.id) for f in frames[since:])


@dataclass(frozen=True)
class UntilOutput:
    """The connection's output on `stream` so far contains `text`."""

    text: str
    stream: str = "stdout"

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return self.text in stream_text(frames, self.stream)


@dataclass(frozen=True)
class UntilIdle:
    """Every execution this connection started has sent its process.completed."""

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return count(frames, "process.started") <= count(frames, "process.completed")


@dataclass(frozen=True)
class UntilCompleted:
    """The connection has received this many process.completed in all."""

    executions: int

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return count(frames, "process.completed") >= self.executions


@dataclass(frozen=True)
class UntilCovered:
    """Replay sync: as many non-output frames, and as much output per stream, as a recording had by then.

    Counting (not matching) keeps the wait robust when chunk boundaries differ; the
    comparison afterwards says what differs.
    """

    frames: int
    output: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, expected: Sequence[Json]) -> UntilCovered:
        others = sum(1 for f in expected if not is_output(f) and not is_timing(f))
        return cls(others, tuple((s, len(stream_text(expected, s))) for s in STREAMS))

    def met(self, frames: Sequence[Json], since: int) -> bool:
        if sum(1 for f in frames if not is_output(f) and not is_timing(f)) < self.frames:
            return False
        return all(len(stream_text(frames, stream)) >= chars for stream, chars in self.output)


# -- building scenarios -------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Json]:
    return model.model_dump(mode="json", exclude_none=True)


def execute(request_id: RequestId, command: str, **options: Any) -> SendFrame:
    params = ExecuteParams(command=command, **options)
    return SendFrame(_dump(ExecuteRequest(jsonrpc="2.0", method="execute", id=request_id, params=params)))


def control(request_id: RequestId, kind: Literal["PAUSE", "RESUME", "CANCEL"], **options: Any) -> SendFrame:
    params = ControlParams(type=kind, **options)
    return SendFrame(_dump(ControlRequest(jsonrpc="2.0", method="control", id=request_id, params=params)))


def status(request_id: RequestId) -> SendFrame:
    return SendFrame(_dump(StatusRequest(jsonrpc="2.0", method="status", id=request_id)))


def hook_status(request_id: RequestId) -> SendFrame:
    return SendFrame({**_dump(HookStatusRequest(jsonrpc="2.0", method="hook_status", id=request_id)), "params": {}})


def raw_request(method: Json, request_id: Json = None, params: Json = None, *, jsonrpc: Json = "2.0") -> SendFrame:
    """Any request-shaped frame, valid or not; `params=None` leaves params out."""
    frame: dict[str, Json] = {"jsonrpc": jsonrpc, "method": method, "id": request_id}
    if params is not None:
        frame["params"] = params
    return SendFrame(frame)


def notification(method: str, params: Json = None) -> SendFrame:
    """A frame without id: the handler acts on it and never answers."""
    frame: dict[str, Json] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        frame["params"] = params
    return SendFrame(frame)


def reply(request_id: RequestId, timeout_s: float = DEFAULT_WAIT_S) -> Receive:
    return Receive(UntilReply(request_id), timeout_s)


def until(method: str, timeout_s: float = DEFAULT_WAIT_S) -> Receive:
    return Receive(UntilMethod(method), timeout_s)


def output(text: str, stream: str = "stdout") -> Receive:
    return Receive(UntilOutput(text, stream))


CONNECTED = until("connected")
COMPLETED = until("process.completed")
