"""Contract scenarios as data, a driver that plays them against any handler, and the normaliser.

A scenario is a list of steps: send a frame (JSON, raw text, binary, or an oversized
filler), receive until a condition holds, pause, close, or check that nothing the
connection started is still running. The driver plays one over a real WebSocket
(`websockets.asyncio.client.connect`) and returns its transcript, one event per line
in the format of the old handler's transcripts (tests/reference/original-handler/*.jsonl):

    {"dir": "send" | "recv", "t": <seconds since connect>, "frame": <JSON frame, or raw text>}

plus, where a frame cannot be stored as JSON text, `"binary": <base64>` or
`"filler": {"char": "x", "count": N}` instead of `"frame"`, and two events of our own:
`{"dir": "close"}` (the client closed) and `{"dir": "check", "check": "nothing_left_running"}`.

A transcript can be played back (`replay_scenario`): its client frames are sent with
their recorded pacing, each only once the server frames that preceded it have come.
`normalise` maps what legitimately varies between runs to placeholders, so two runs of
one scenario compare equal. No test framework here: `cc-executor verify URL` uses it too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import os
import re
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cc_executor.generated.ws.requests.control import ControlParams, ControlRequest
from cc_executor.generated.ws.requests.execute import ExecuteParams, ExecuteRequest
from cc_executor.generated.ws.requests.hook_status import HookStatusRequest
from cc_executor.generated.ws.requests.status import StatusRequest
from cc_executor.handler.server import is_loopback

Json: TypeAlias = Any
Event: TypeAlias = dict[str, Any]
RequestId: TypeAlias = str | int | None

RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"
OUTPUT = "process.output"
STREAMS = ("stdout", "stderr")
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


# -- conditions -------------------------------------------------------------------


def _is_object(frame: Json) -> bool:
    return isinstance(frame, dict)


@dataclass(frozen=True)
class UntilMethod:
    """A notification with this method arrived after the last send."""

    method: str

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return any(_is_object(f) and f.get("method") == self.method for f in frames[since:])


@dataclass(frozen=True)
class UntilReply:
    """The response (result or error) with this id arrived after the last send; None matches `"id": null`."""

    id: RequestId

    def met(self, frames: Sequence[Json], since: int) -> bool:
        return any(_is_reply_to(f, self.id) for f in frames[since:])


def _is_reply_to(frame: Json, request_id: RequestId) -> bool:
    if not _is_object(frame) or "id" not in frame or ("result" not in frame and "error" not in frame):
        return False
    return type(frame["id"]) is type(request_id) and frame["id"] == request_id


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
        return _count(frames, "process.started") <= _count(frames, "process.completed")


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
        others = sum(1 for f in expected if not _is_output(f))
        return cls(others, tuple((s, len(stream_text(expected, s))) for s in STREAMS))

    def met(self, frames: Sequence[Json], since: int) -> bool:
        if sum(1 for f in frames if not _is_output(f)) < self.frames:
            return False
        return all(len(stream_text(frames, stream)) >= chars for stream, chars in self.output)


def _count(frames: Iterable[Json], method: str) -> int:
    return sum(1 for f in frames if _is_object(f) and f.get("method") == method)


def _is_output(frame: Json) -> bool:
    return _is_object(frame) and frame.get("method") == OUTPUT


def stream_text(frames: Iterable[Json], stream: str) -> str:
    """Everything received on one stream, concatenated (what the process wrote)."""
    return "".join(
        str(f["params"].get("data", ""))
        for f in frames
        if _is_output(f) and isinstance(f.get("params"), dict) and f["params"].get("type") == stream
    )


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
UNICODE_COMMAND = (
    r"printf '\377\376 héllo ✓ 日本\n'; "  # two bytes that are not UTF-8, then UTF-8 text from the command itself
    r"printf 'nul:\000 bell:\007 esc:\033[0m tab:\t\n'; "  # control characters must survive JSON escaping
    r"printf 'split: \342\234'; printf '\223 joined\n'; "  # one character written in two pieces
    r"echo 'ошибка ✗' >&2; "
    r"printf 'no newline at the end ✓'"
)


def _scenarios() -> list[Scenario]:
    return [
        Scenario("connect", "the connected greeting on a new connection", (CONNECTED,)),
        Scenario("echo", "execute -> result started -> started -> output -> completed", (
            CONNECTED, execute(1, "echo hello"), COMPLETED,
        )),
        Scenario("stdout_stderr_exit3", "both streams and a non-zero exit (status failed)", (
            CONNECTED, execute(1, "printf 'line1\\nline2\\n'; echo oops >&2; exit 3"), COMPLETED,
        )),
        Scenario("unicode_binary_output", "UTF-8, invalid bytes (U+FFFD), control characters, split characters", (
            CONNECTED, execute(1, UNICODE_COMMAND), COMPLETED,
        )),
        Scenario("many_lines", "20000 lines, framed many lines to a frame", (
            CONNECTED, execute(1, "seq 1 20000"), COMPLETED,
        )),
        Scenario("long_line", "one 300 KB line: pieces numbered by chunk_index, nothing lost", (
            CONNECTED, execute(1, r"head -c 300000 /dev/zero | tr '\000' x; echo; echo after"), COMPLETED,
        )),
        Scenario("pause_resume_cancel", "PAUSE holds the group (no output while paused), RESUME, CANCEL", (
            CONNECTED,
            execute(1, "echo before; sleep 0.5; echo after; sleep 30"),
            output("before\n"),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            status(3), reply(3),
            Pause(1.0),  # 'after' is due 0.5 s after 'before': it must not come while paused
            control(4, "PAUSE"), reply(4),  # already paused: a result, no second notification
            control(5, "RESUME"), reply(5), until("process.resumed"),
            output("after\n"),
            control(6, "RESUME"), reply(6),  # already running: a result, no notification
            control(7, "CANCEL"), reply(7), COMPLETED,
        )),
        Scenario("timeout", "sleep 30 with timeout 1: group terminated, status timed_out", (
            CONNECTED, execute(1, "sleep 30", timeout=1), COMPLETED,
        )),
        Scenario("timeout_not_counting_pauses", "paused time does not count towards the timeout", (
            CONNECTED,
            execute(1, "sleep 30", timeout=1), reply(1),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            Pause(0.8),
            status(3), reply(3),  # 0.8 s in, paused: still running
            Pause(0.8),  # 1.6 s in: a timeout that counted paused time would have fired by now
            control(4, "RESUME"), reply(4), until("process.resumed"),
            COMPLETED,
        )),
        Scenario("background_child", "the leader exits first; a child's late output still comes before completed", (
            CONNECTED, execute(1, "(sleep 0.3; echo late) & echo early"), COMPLETED,
        )),
        Scenario("execute_while_running", "a second execute is refused while one runs; accepted after", (
            CONNECTED,
            execute(1, "sleep 1; echo done1"), reply(1),
            execute(2, "echo second"), reply(2),
            COMPLETED,
            execute(3, "echo second"), COMPLETED,
        )),
        Scenario("status_and_hook_status", "status idle and running, hook_status, execution_id guard, cwd", (
            CONNECTED,
            status(1), reply(1),
            hook_status(2), reply(2),
            raw_request("hook_status", 3), reply(3),
            execute(4, "pwd; sleep 30", cwd="/tmp", timeout=60, execution_id="job-42"), output("/tmp\n"),
            status("five"), reply("five"),
            control(6, "CANCEL", execution_id="job-41"), reply(6),
            control(7, "CANCEL", execution_id="job-42"), reply(7), COMPLETED,
            status(8), reply(8),
        )),
        Scenario("error_parse", "-32700 for text that is not JSON and for binary frames; the connection stays", (
            CONNECTED,
            SendText("not json"), reply(None),
            SendText('{"jsonrpc": "2.0", "method": "status", "id": 1'), reply(None),
            SendText('{"jsonrpc": "2.0", "method": "status", "id": NaN}'), reply(None),
            SendBinary(b"\x00\x01\x02 binary \xff"), reply(None),
            SendBinary(b'{"jsonrpc": "2.0", "method": "status", "id": 2}'), reply(None),
            status(3), reply(3),
        )),
        Scenario("error_invalid_request", "-32600 for JSON that is not a request object", (
            CONNECTED,
            SendFrame([{"jsonrpc": "2.0", "method": "status", "id": 1}]), reply(None),
            SendFrame([]), reply(None),
            SendFrame(42), reply(None),
            SendText('"status"'), reply(None),
            SendFrame(None), reply(None),
            SendFrame({"jsonrpc": "2.0", "id": 3}), reply(3),
            raw_request("status", 4, jsonrpc="1.0"), reply(4),
            SendFrame({"method": "status", "id": 5}), reply(5),
            raw_request(7, 6), reply(6),
            raw_request("status", True), reply(None),
            raw_request("status", 1.5), reply(None),
            SendFrame({"jsonrpc": "2.0", "method": "status", "id": 7, "extra": 1}), reply(7),
            status(8), reply(8),
        )),
        Scenario("error_unknown_method", "-32601 for a method the handler does not have", (
            CONNECTED,
            raw_request("frobnicate", 7, {}), reply(7),
            raw_request("Execute", 8, {"command": "echo no"}), reply(8),
            raw_request("process.output", 9), reply(9),
            status(10), reply(10),
        )),
        Scenario("error_invalid_params", "-32602 with one readable sentence and data.field", (
            CONNECTED,
            raw_request("execute", 1, {}), reply(1),
            raw_request("execute", 2, {"command": 7}), reply(2),
            raw_request("execute", 3, {"command": "echo no", "bogus": True}), reply(3),
            raw_request("execute", 4, {"command": "echo no", "timeout": 0}), reply(4),
            raw_request("execute", 5, {"command": "echo no", "timeout": "5"}), reply(5),
            raw_request("execute", 6, {"command": ""}), reply(6),
            raw_request("execute", 7, []), reply(7),
            raw_request("execute", 8, {"command": "echo no", "cwd": ""}), reply(8),
            raw_request("control", 9, {"type": "STOP"}), reply(9),
            raw_request("control", 10, {}), reply(10),
            raw_request("status", 11, {"verbose": True}), reply(11),
            raw_request("hook_status", 12, {"x": 1}), reply(12),
            status(13), reply(13),
        )),
        Scenario("error_control_idle", "-32602 no_execution for control with nothing running", (
            CONNECTED,
            control(1, "PAUSE"), reply(1),
            control(2, "RESUME"), reply(2),
            control(3, "CANCEL"), reply(3),
            status(4), reply(4),
        )),
        Scenario("error_oversized", "-32600 frame_too_large for a frame over 1 MiB; the connection stays", (
            CONNECTED,
            SendFiller("x", (1 << 20) + 1), reply(None),
            status(2), reply(2),
        )),
        Scenario("error_spawn_failed", "-32000 when the process cannot start (no such cwd); the session is free", (
            CONNECTED,
            execute(1, "echo never", cwd="/nonexistent/cc-executor-contract"), reply(1),
            status(2), reply(2),
            execute(3, "echo after"), COMPLETED,
        )),
        Scenario("notifications_without_id", "frames without id are acted on and never answered", (
            CONNECTED,
            notification("hook_status"),
            notification("status"),
            notification("frobnicate"),
            notification("execute", {}),
            notification("control", {"type": "PAUSE"}),
            status(1), reply(1),
            notification("execute", {"command": "echo quiet"}), COMPLETED,
            status(2), reply(2),
        )),
        Scenario("client_disconnect", "a client that goes away mid-run takes its process group with it", (
            CONNECTED,
            execute(1, "sleep 30 & sleep 31 & wait"), reply(1), until("process.started"),
            Close(),
            NothingLeftRunning(),
        )),
        Scenario("client_disconnect_paused", "a paused group is ended too when its client goes away", (
            CONNECTED,
            execute(1, "sleep 30 & sleep 31 & wait"), reply(1), until("process.started"),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            Close(),
            NothingLeftRunning(),
        )),
    ]  # fmt: skip


SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _scenarios()}


# -- the driver -----------------------------------------------------------------------


class ScenarioFailed(Exception):
    """A step could not complete (timeout, closed connection, something left running); carries the transcript."""

    def __init__(self, message: str, events: list[Event]) -> None:
        super().__init__(message)
        self.events = events


def _received_event(message: str | bytes, t: float) -> Event:
    if isinstance(message, bytes):
        return {"dir": "recv", "t": t, "binary": base64.b64encode(message).decode()}
    try:
        return {"dir": "recv", "t": t, "frame": json.loads(message)}
    except ValueError:
        return {"dir": "recv", "t": t, "frame": message}


def _sent_event(step: SendFrame | SendText | SendBinary | SendFiller, t: float) -> Event:
    if isinstance(step, SendFrame):
        return {"dir": "send", "t": t, "frame": step.frame}
    if isinstance(step, SendText):
        return {"dir": "send", "t": t, "frame": step.text}
    if isinstance(step, SendBinary):
        return {"dir": "send", "t": t, "binary": base64.b64encode(step.data).decode()}
    return {"dir": "send", "t": t, "filler": {"char": step.char, "count": step.count}}


def _payload(step: SendFrame | SendText | SendBinary | SendFiller) -> str | bytes:
    if isinstance(step, SendFrame):
        return json.dumps(step.frame, ensure_ascii=False)
    if isinstance(step, SendText):
        return step.text
    if isinstance(step, SendBinary):
        return step.data
    return step.char * step.count


def health_url(ws_url: str) -> str:
    """ws://host:port/ws/mcp -> http://host:port/health."""
    parts = urlsplit(ws_url)
    return urlunsplit(("https" if parts.scheme == "wss" else "http", parts.netloc, "/health", "", ""))


def is_loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


def fetch_health(url: str, timeout_s: float = 2.0) -> dict[str, Json]:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        health: dict[str, Json] = json.load(response)
    return health


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (signal 0 probes without signalling)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def started_groups(frames: Iterable[Json]) -> list[int]:
    """Process group ids of every execution a connection started (from results and process.started)."""
    groups: list[int] = []
    for frame in frames:
        if not _is_object(frame):
            continue
        body = frame.get("result") if "result" in frame else frame.get("params")
        if frame.get("method", "process.started") != "process.started" or not isinstance(body, dict):
            continue
        if body.get("status") != "started":
            continue
        group = body.get("pgid") if isinstance(body.get("pgid"), int) else body.get("pid")
        if isinstance(group, int) and group > 0 and group not in groups:
            groups.append(group)
    return groups


@dataclass
class _Connection:
    """One played connection: a reader task records server frames while steps run."""

    websocket: ClientConnection
    url: str
    local: bool
    events: list[Event] = field(default_factory=list)
    frames: list[Json] = field(default_factory=list)
    since: int = 0
    closed: bool = False
    closed_by_us: bool = False
    started: float = field(default_factory=time.monotonic)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def now(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="scenario-reader")

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                event = _received_event(message, self.now())
                self.events.append(event)
                self.frames.append(event.get("frame"))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._changed.set()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def fail(self, message: str) -> ScenarioFailed:
        return ScenarioFailed(message, self.events)

    async def perform(self, step: Step) -> None:
        if isinstance(step, SendFrame | SendText | SendBinary | SendFiller):
            self.since = len(self.frames)
            self.events.append(_sent_event(step, self.now()))
            try:
                await self.websocket.send(_payload(step))
            except ConnectionClosed as exc:
                raise self.fail(f"the handler closed the connection before {_describe(step)}: {exc}") from exc
        elif isinstance(step, Receive):
            await self.receive(step)
        elif isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, Close):
            self.closed_by_us = True
            await self.websocket.close()
            if self._reader is not None:
                await asyncio.wait({self._reader}, timeout=DEFAULT_WAIT_S)
            self.events.append({"dir": "close", "t": self.now()})
        elif isinstance(step, NothingLeftRunning):
            await self.nothing_left_running(step)
        else:  # pragma: no cover - the Step union is closed
            raise TypeError(f"unknown step {step!r}")

    async def receive(self, step: Receive) -> None:
        deadline = time.monotonic() + step.timeout_s
        while not step.until.met(self.frames, self.since):
            if self.closed:
                raise self.fail(f"connection closed while waiting for {step.until}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.fail(f"waited {step.timeout_s} s for {step.until}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def settle(self, quiet_s: float, limit_s: float = 2.0) -> None:
        """Wait until no frame has come for `quiet_s` (catching any frame nobody asked for)."""
        deadline = time.monotonic() + limit_s
        while not self.closed and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), quiet_s)
            except TimeoutError:
                return

    async def nothing_left_running(self, step: NothingLeftRunning) -> None:
        groups = started_groups(self.frames)
        url = health_url(self.url)
        deadline = time.monotonic() + step.timeout_s
        while True:
            problems: list[str] = []
            try:
                health = await asyncio.to_thread(fetch_health, url)
                running = health.get("running_executions")
                if running not in (None, 0):
                    problems.append(f"/health says running_executions={running}")
            except (OSError, ValueError) as exc:
                problems.append(f"/health did not answer: {exc}")
            if self.local:
                problems += [f"process group {pgid} is still alive" for pgid in groups if group_alive(pgid)]
            if not problems:
                break
            if time.monotonic() > deadline:
                raise self.fail(f"after {step.timeout_s} s: " + "; ".join(problems))
            await asyncio.sleep(0.05)
        self.events.append({"dir": "check", "t": self.now(), "check": "nothing_left_running"})


def _describe(step: Step) -> str:
    text = repr(step)
    return text if len(text) < 200 else text[:200] + "..."


async def run_scenario(
    scenario: Scenario,
    url: str,
    *,
    token: str | None = None,
    local: bool | None = None,
    settle_s: float = 0.1,
    open_timeout_s: float = 10.0,
) -> list[Event]:
    """Play `scenario` against the handler at `url`; the transcript, or ScenarioFailed.

    `local` (default: the URL is loopback) enables the process-group checks, which
    only mean something when the handler runs on this machine.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    local = is_loopback_url(url) if local is None else local
    async with connect(
        url, additional_headers=headers, max_size=None, open_timeout=open_timeout_s, close_timeout=5, ping_interval=None
    ) as websocket:
        connection = _Connection(websocket, url, local)
        connection.start()
        try:
            for number, step in enumerate(scenario.steps, 1):
                try:
                    await connection.perform(step)
                except ScenarioFailed as exc:
                    raise ScenarioFailed(
                        f"{scenario.name}, step {number} {_describe(step)}: {exc}", exc.events
                    ) from exc
            if not connection.closed_by_us and settle_s > 0:
                await connection.settle(settle_s)
        finally:
            await connection.stop()
    return connection.events


# -- replaying a transcript -------------------------------------------------------------


def frame_of(event: Mapping[str, Any]) -> Json:
    """The frame of a recv/send event (binary as {"binary": base64}, filler as {"filler": ...})."""
    if "frame" in event:
        return event["frame"]
    if "binary" in event:
        return {"binary": event["binary"]}
    return {"filler": event.get("filler")}


def received(events: Iterable[Mapping[str, Any]]) -> list[Json]:
    return [frame_of(e) for e in events if e.get("dir") == "recv"]


def step_of(event: Mapping[str, Any]) -> Step | None:
    """The client action a transcript event records; None for server frames and unknown events."""
    direction = event.get("dir")
    if direction == "close":
        return Close()
    if direction == "check":
        return NothingLeftRunning()
    if direction != "send":
        return None
    if "binary" in event:
        return SendBinary(base64.b64decode(event["binary"]))
    if "filler" in event:
        return SendFiller(str(event["filler"]["char"]), int(event["filler"]["count"]))
    frame = event.get("frame")
    return SendText(frame) if isinstance(frame, str) else SendFrame(frame)


def replay_scenario(
    name: str, events: Sequence[Mapping[str, Any]], *, max_gap_s: float = 1.0, until_idle: bool = False
) -> Scenario:
    """Turn a transcript back into steps: each client action waits for the server frames recorded before it,
    then for the recorded gap since the previous event (at most `max_gap_s`).

    `until_idle` also waits, at the end, for every started execution's process.completed
    (a reference transcript may stop before it).
    """
    steps: list[Step] = []
    expected: list[Json] = []
    last_t = 0.0
    closed = False
    for event in events:
        t = float(event.get("t", last_t))
        if event.get("dir") == "recv":
            expected.append(frame_of(event))
            last_t = t
            continue
        step = step_of(event)
        if step is None:
            continue
        if expected and not closed:
            steps.append(Receive(UntilCovered.of(expected)))
        gap = min(max(t - last_t, 0.0), max_gap_s)
        if gap > 0:
            steps.append(Pause(round(gap, 3)))
        steps.append(step)
        closed = closed or isinstance(step, Close)
        last_t = t
    if not closed:
        steps.append(Receive(UntilCovered.of(expected)))
        if until_idle:
            steps.append(Receive(UntilIdle()))
    return Scenario(name, f"replay of {name}", tuple(steps))


async def replay_against(
    name: str,
    recorded: Sequence[Mapping[str, Any]],
    url: str,
    *,
    token: str | None = None,
    local: bool | None = None,
    additive: bool = False,
    max_gap_s: float = 1.0,
    limit_s: float = 60.0,
) -> tuple[list[Event], list[str]]:
    """Replay a recorded transcript against the handler at `url`: (live transcript, how it departs from the recording).

    The departures: a step that could not complete, server frames that differ after
    normalisation, client actions (close, check) that did not happen, broken output framing.
    """
    problems: list[str] = []
    try:
        scenario = replay_scenario(name, recorded, max_gap_s=max_gap_s)
        live = await asyncio.wait_for(run_scenario(scenario, url, token=token, local=local), limit_s)
    except ScenarioFailed as exc:
        live, problems = exc.events, [f"replay stopped: {exc}"]
    except TimeoutError:
        live, problems = [], [f"replay of {name} took longer than {limit_s} s"]
    problems += compare_frames(received(recorded), received(live), additive=additive)
    actions = [event["dir"] for event in recorded if event["dir"] != "recv"]
    if not problems and actions != [event["dir"] for event in live if event["dir"] != "recv"]:
        problems.append(f"client actions differ from the recording's {actions}")
    return live, problems + output_problems(received(live))


# -- recordings on disk --------------------------------------------------------------------


def read_transcript(path: Path) -> list[Event]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_transcript(path: Path, events: Iterable[Mapping[str, Any]], digits: int = 2) -> None:
    """One event per line, `t` rounded so a re-recording changes little beyond pids and ids."""
    lines = []
    for event in events:
        line = {"dir": event["dir"], "t": round(float(event.get("t", 0.0)), digits)}
        line.update({key: value for key, value in event.items() if key not in line})
        lines.append(json.dumps(line, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def recording_paths(directory: Path = RECORDINGS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


# -- normalising --------------------------------------------------------------------------

#: Fields whose values differ from run to run and from handler to handler, and why.
PID_FIELDS = frozenset({"pid", "pgid"})  # kernel-assigned; pgid == pid is kept visible by sharing the placeholder
TIME_FIELDS = frozenset({"execution_time", "elapsed_s", "active_s", "uptime_seconds", "connected_s"})  # wall-clock
COUNT_FIELDS = frozenset({"active_sessions"})  # other clients of a shared handler, and closes still settling
ID_FIELDS = frozenset({"session_id"})  # made by the handler per connection
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MERGED = "<merged>"


def merge_output(frames: Sequence[Json]) -> list[Json]:
    """Collapse each run of consecutive process.output frames into one frame per stream (stdout first).

    Chunk boundaries and the interleaving of two pipes depend on timing; what a process
    wrote to each stream between two other events does not.
    """
    merged: list[Json] = []
    run: list[dict[str, Json]] = []

    def flush() -> None:
        for stream in STREAMS:
            pieces = [f for f in run if f.get("params", {}).get("type") == stream]
            if not pieces:
                continue
            frame = copy.deepcopy(pieces[0])
            params = frame["params"]
            params["data"] = "".join(str(p["params"].get("data", "")) for p in pieces)
            if "truncated" in params:
                params["truncated"] = any(p["params"].get("truncated") for p in pieces)
            for key in ("chunk_index", "total_chunks"):
                if key in params:
                    params[key] = MERGED
            merged.append(frame)
        others = [f for f in run if f.get("params", {}).get("type") not in STREAMS]
        merged.extend(copy.deepcopy(others))
        run.clear()

    for frame in frames:
        if _is_output(frame) and isinstance(frame.get("params"), dict):
            run.append(frame)
            continue
        flush()
        merged.append(copy.deepcopy(frame))
    flush()
    return merged


@dataclass
class _Placeholders:
    """Names values by order of first appearance, so equal values stay equal and distinct ones distinct."""

    seen: dict[str, dict[Json, str]] = field(default_factory=dict)

    def name(self, kind: str, value: Json) -> str:
        names = self.seen.setdefault(kind, {})
        return names.setdefault(value, f"<{kind}{len(names) + 1}>")

    def walk(self, value: Json, key: str | None = None) -> Json:
        if isinstance(value, dict):
            return {k: self.walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(item) for item in value]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if key in PID_FIELDS and number:
            return self.name("pid", value)
        if key in TIME_FIELDS and number:
            return "<seconds>"
        if key in COUNT_FIELDS and number:
            return "<count>"
        if key in ID_FIELDS and isinstance(value, str):
            return self.name("id", value.lower())
        if isinstance(value, str):
            return UUID.sub(lambda match: self.name("id", match.group().lower()), value)
        return value


def normalise(frames: Sequence[Json]) -> list[Json]:
    """Server frames with run-to-run variation replaced by placeholders; two good runs compare equal."""
    normalised: list[Json] = _Placeholders().walk(merge_output(frames))
    return normalised


def json_type(value: Json) -> str:
    """The JSON Schema type name of a value, as the comparisons of shapes name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _short(value: Json, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def differences(expected: Json, actual: Json, path: str = "$", limit: int = 20, *, additive: bool = False) -> list[str]:
    """Where two JSON values differ (bool is not a number; 1 and 1.0 are the same number).

    `additive` tolerates what a later handler of the same major version may add: fields,
    and items of a list (e.g. capabilities) as long as every expected item is still there.
    """
    found: list[str] = []

    def visit(want: Json, got: Json, where: str) -> None:
        if len(found) >= limit:
            return
        if json_type(want) != json_type(got):
            found.append(f"{where}: expected {_short(want)}, got {_short(got)}")
        elif isinstance(want, dict):
            for key in want.keys() - got.keys():
                found.append(f"{where}.{key}: missing (expected {_short(want[key])})")
            if not additive:
                found.extend(f"{where}.{key}: unexpected {_short(got[key])}" for key in got.keys() - want.keys())
            for key in want.keys() & got.keys():
                visit(want[key], got[key], f"{where}.{key}")
        elif isinstance(want, list):
            if additive and len(got) > len(want) and all(item in got for item in want):
                return
            if len(want) != len(got):
                found.append(f"{where}: expected {len(want)} items, got {len(got)}")
            for index, (a, b) in enumerate(zip(want, got, strict=False)):
                visit(a, b, f"{where}[{index}]")
        elif want != got:
            if isinstance(want, str) and isinstance(got, str):
                at = next(
                    (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got))
                )
                found.append(
                    f"{where}: strings differ at char {at} (lengths {len(want)}, {len(got)}): "
                    f"expected {_short(want[at : at + 60])}, got {_short(got[at : at + 60])}"
                )
            else:
                found.append(f"{where}: expected {_short(want)}, got {_short(got)}")

    visit(expected, actual, path)
    return found[:limit]


def frame_label(frame: Json) -> str:
    """A short name for a frame: its method, or result#id / error#id."""
    if not _is_object(frame):
        return _short(frame, 40)
    if "method" in frame:
        stream = frame.get("params", {}).get("type") if frame.get("method") == OUTPUT else None
        return f"{frame['method']}({stream})" if stream else str(frame["method"])
    return f"{'error' if 'error' in frame else 'result'}#{json.dumps(frame.get('id'))}"


def compare_frames(expected: Sequence[Json], actual: Sequence[Json], *, additive: bool = False) -> list[str]:
    """Differences between two runs' server frames after normalisation; empty when they match.

    Strict by default (a recording pins the wire format of this version); `additive=True`
    suits checking a newer handler of the same major version against old recordings.
    """
    want, got = normalise(expected), normalise(actual)
    problems: list[str] = []
    if [frame_label(f) for f in want] != [frame_label(f) for f in got]:
        problems.append(
            f"frame sequence differs:\n  expected {[frame_label(f) for f in want]}\n  got      {[frame_label(f) for f in got]}"
        )
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        problems += differences(a, b, f"frame {index} {frame_label(a)}", additive=additive)
    return problems


def output_problems(frames: Sequence[Json]) -> list[str]:
    """Stream invariants of process.output: split lines numbered 0, 1, ... with total_chunks on the last piece,
    no split left open at process.completed, and byte counts that match the text (when it is valid UTF-8)."""
    problems: list[str] = []
    next_chunk: dict[str, int | None] = dict.fromkeys(STREAMS)
    texts: dict[str, list[str]] = {stream: [] for stream in STREAMS}
    for index, frame in enumerate(frames):
        if not _is_object(frame):
            continue
        params = frame.get("params") if isinstance(frame.get("params"), dict) else {}
        if frame.get("method") == OUTPUT:
            stream = params.get("type")
            if stream not in STREAMS:
                continue
            texts[stream].append(str(params.get("data", "")))
            chunk, total = params.get("chunk_index"), params.get("total_chunks")
            expected_chunk = next_chunk[stream]
            if chunk is None:
                if expected_chunk is not None:
                    problems.append(f"frame {index}: {stream} piece without chunk_index inside a split line")
                if total is not None:
                    problems.append(f"frame {index}: total_chunks without chunk_index")
                continue
            if chunk != (expected_chunk or 0):
                problems.append(f"frame {index}: {stream} chunk_index {chunk}, expected {expected_chunk or 0}")
            if total is None:
                next_chunk[stream] = chunk + 1
            else:
                if total != chunk + 1:
                    problems.append(f"frame {index}: total_chunks {total} on piece {chunk}")
                next_chunk[stream] = None
        elif frame.get("method") == "process.completed":
            for stream in STREAMS:
                if next_chunk[stream] is not None:
                    problems.append(f"frame {index}: completed while a {stream} line was still split")
                text = "".join(texts[stream])
                counted = params.get(f"{stream}_bytes")
                if isinstance(counted, int) and "\ufffd" not in text and len(text.encode()) != counted:
                    problems.append(f"frame {index}: {stream}_bytes {counted}, but {len(text.encode())} bytes arrived")
            next_chunk = dict.fromkeys(STREAMS)
            texts = {stream: [] for stream in STREAMS}
    return problems
