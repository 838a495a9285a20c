"""A stand-in for the OLD cc_executor handler (protocol 1.0), backed by its recorded transcripts.

    python -m cc_executor.contract_tests.old_handler_standin --port 8013
    cc-executor verify ws://127.0.0.1:8013/ws/mcp --allow-known

The old handler cannot be run here, but ../shared/reference/original-handler/ holds real
transcripts of it. Pointed at this stand-in, `cc-executor verify` shows what an old handler
does differently from the new handler's recordings, each difference labelled with the
README row that documents it (contract_tests/known_differences.py). It is a module rather
than a test fixture so that anyone checking a handler with verify can see the labels on a
known-old peer too; it needs the reference transcripts (--reference DIR).

What it answers, on each connection (any path; no token needed, as the old handler):

* the greeting: the `connected` frame of connect_only.jsonl, with a fresh session_id;
* `execute` whose params equal a recorded execute's (echo "hello", the stdout/stderr/exit 3
  command, ...): that execution's recorded frames (result, process.started, process.output,
  process.completed) with the client's id, at the recorded pace (--speed scales it);
  PAUSE holds the replay, CANCEL ends it;
* `execute` of anything else: the command really runs (`sh -c`, its own process group, the
  stand-in's working directory) and is reported as the old handler reported it, in frames
  shaped like the recorded ones. Where no transcript shows how, the old handler's source
  (cc_executor's websocket_handler.py and stream_handler.py, protocol 1.0) does: one
  process.output per line; `truncated` true for a line ending in "...\\n" and for every
  piece but the last of a line over 64 KiB, each piece with chunk_index and total_chunks;
  `timeout` stops the streaming and reports `completed` (exit code 0 while the process
  still runs, left running until the connection ends); `cwd` and `execution_id` are
  ignored; no early-completion markers. With --replay-only it is refused instead (-32603);
* `execute` while an execution runs: the recorded -32602 "A process is already running";
* `control` PAUSE/RESUME/CANCEL: the recorded result and notification, again for a PAUSE
  of a paused process (the old handler signalled and notified every time); CANCEL sends
  no process.completed; with nothing running (never, or no longer): -32002 "No process
  is running" (source);
* `hook_status`: the recorded result;
* any other method (status, sessions, typos): the recorded -32601 "Unknown method: <method>";
* params the old models reject: -32603 with the validation message (the old catch-all);
* text that is not JSON: -32603 with the parser's message and no id; JSON that is not an
  object, and binary frames: the connection is closed (the old message loop died on them);
  a frame over 1 MiB: the connection is closed (spec/README.md);
* requests without an id, or with id null, are answered like any other, the reply without
  an id (the old handler dropped null fields from its replies);
* GET /health: {"status": "healthy", "service": "cc-executor-websocket"}.

A connection that ends takes its process groups with it (the old session cleanup did too).
--rename OLD=NEW renames a field in every frame sent: a deliberately broken old handler,
for checking that verify reports such a change as unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

REFERENCE_DIR = (Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "original-handler").resolve()
MAX_FRAME = 1 << 20
CHUNK = 65536  # the old handler's MAX_CHUNK_SIZE for one process.output
LINE_LIMIT = 16 << 20  # the old stream handler's hard limit for one line
PROCESS_NOT_FOUND = -32002
INTERNAL_ERROR = -32603
Frame = dict[str, Any]


class ExecuteRequest(BaseModel):
    """What the old handler's ExecuteRequest accepted (other fields were ignored)."""

    command: str
    timeout: int | None = None


class ControlRequest(BaseModel):
    type: Literal["PAUSE", "RESUME", "CANCEL"]


# -- the recordings ----------------------------------------------------------------------------------


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _params_key(params: Any) -> str:
    return json.dumps(params, sort_keys=True)


def _is_reply_to(frame: Any, request_id: Any) -> bool:
    return isinstance(frame, dict) and "method" not in frame and frame.get("id") == request_id


@dataclass
class Library:
    """What the transcripts say the old handler sends, by the request that made it send it."""

    greeting: Frame
    executions: dict[str, list[tuple[float, Frame]]]  # execute params -> (seconds after the request, frame)
    control: dict[str, list[Frame]]  # PAUSE -> [result, process.paused]
    already_running: Frame
    unknown_method: tuple[Frame, str]  # the error, and the method name its message names
    hook_status: Frame
    started: Frame
    output: Frame
    completed: Frame

    @classmethod
    def load(cls, directory: Path) -> Library:
        paths = sorted(directory.glob("*.jsonl"))
        if not paths:
            raise FileNotFoundError(f"no old-handler transcripts (*.jsonl) in {directory}")
        found: dict[str, Any] = {"executions": {}, "control": {}}
        for path in paths:
            cls._read(_events(path), found)
        missing = {"greeting", "already_running", "unknown_method", "hook_status", "started", "output", "completed"}
        missing -= found.keys()
        if missing or set(found["control"]) != {"PAUSE", "RESUME", "CANCEL"}:
            raise ValueError(
                f"the transcripts in {directory} lack {sorted(missing) or 'a control PAUSE/RESUME/CANCEL'}"
            )
        return cls(**found)

    @staticmethod
    def _read(events: list[dict[str, Any]], found: dict[str, Any]) -> None:
        for frame in [e["frame"] for e in events if e.get("dir") == "recv"]:
            method = frame.get("method") if isinstance(frame, dict) else None
            if method == "connected":
                found.setdefault("greeting", frame)
            elif method in ("process.started", "process.output"):
                found.setdefault(method.split(".")[1], frame)
            elif method == "process.completed" and frame["params"].get("status") == "completed":
                found.setdefault("completed", frame)
        for index, event in enumerate(events):
            request = event.get("frame")
            if event.get("dir") != "send" or not isinstance(request, dict):
                continue
            sent_at, method, request_id = float(event.get("t", 0.0)), request.get("method"), request.get("id")
            later = [(float(e.get("t", 0.0)), e["frame"]) for e in events[index + 1 :] if e.get("dir") == "recv"]
            reply = next((f for _, f in later if _is_reply_to(f, request_id)), None)
            if reply is None:
                continue
            if method == "execute" and "error" in reply:
                found.setdefault("already_running", reply)
            elif method == "execute":
                found["executions"].setdefault(
                    _params_key(request.get("params")), Library._execution(later, request_id, sent_at)
                )
            elif method == "control":
                status = reply["result"]["status"]
                note = next(f for _, f in later if isinstance(f, dict) and f.get("method") == f"process.{status}")
                found["control"].setdefault(request["params"]["type"], [reply, note])
            elif method == "hook_status":
                found.setdefault("hook_status", reply)
            elif "error" in reply and reply["error"].get("code") == -32601:
                found.setdefault("unknown_method", (reply, str(method)))

    @staticmethod
    def _execution(later: list[tuple[float, Any]], request_id: Any, sent_at: float) -> list[tuple[float, Frame]]:
        """The reply to one execute and its process.started/output/completed, up to completed (or the end)."""
        timeline: list[tuple[float, Frame]] = []
        for t, frame in later:
            if not isinstance(frame, dict):
                continue
            method = frame.get("method")
            if _is_reply_to(frame, request_id) or method in ("process.started", "process.output", "process.completed"):
                timeline.append((max(float(t) - sent_at, 0.0), frame))
            if method in ("process.completed", "process.canceled"):
                break
        return timeline


# -- one connection ---------------------------------------------------------------------------------------


@dataclass
class Options:
    reference: Path = REFERENCE_DIR
    speed: float = 1.0  # pace of recorded executions: 1 as recorded, 0 as fast as possible
    replay_only: bool = False
    renames: dict[str, str] = field(default_factory=dict)


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(key, key): _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    return value


def _with_id(frame: Frame, request_id: Any) -> Frame:
    """A reply for this request; the old handler left out a null id."""
    reply = {key: value for key, value in copy.deepcopy(frame).items() if key != "id"}
    if request_id is not None:
        reply["id"] = request_id
    return reply


def _error(code: int, message: str, request_id: Any) -> Frame:
    return _with_id({"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": None}}, request_id)


class Execution:
    """What a session runs: a replayed recording or a real process."""

    pid: int | None
    pgid: int | None

    @property
    def alive(self) -> bool:
        raise NotImplementedError

    async def control(self, kind: str) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        raise NotImplementedError


class Replayed(Execution):
    """A recorded execution played back; pausing stops its clock.

    The result and process.started go out before the next request is read (the old handler
    sent both from its execute handler); the rest follows at the recorded pace.
    """

    def __init__(self, session: Session, timeline: list[tuple[float, Frame]], request_id: Any) -> None:
        first = next((frame.get("result") for _, frame in timeline if "result" in frame), None) or {}
        self.pid, self.pgid = first.get("pid"), first.get("pgid")
        self.session, self.timeline, self.request_id = session, timeline, request_id
        self.running, self.paused = asyncio.Event(), asyncio.Event()
        self.running.set()
        self.finished = self.canceled = False  # a recording that stops before completed: still running
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, session: Session, timeline: list[tuple[float, Frame]], request_id: Any) -> Replayed:
        replay = cls(session, timeline, request_id)
        starting = next((n + 1 for n, (_, f) in enumerate(timeline) if f.get("method") == "process.started"), 0)
        clock = await replay._play(timeline[:starting], 0.0)
        replay.task = asyncio.create_task(replay._play(timeline[starting:], clock), name="standin-replay")
        return replay

    @property
    def alive(self) -> bool:
        return not self.finished and not self.canceled

    async def _play(self, timeline: list[tuple[float, Frame]], clock: float) -> float:
        for t, frame in timeline:
            await self._sleep((t - clock) * self.session.options.speed)
            clock = t
            await self.running.wait()
            with contextlib.suppress(ConnectionClosed):
                await self.session.send(_with_id(frame, self.request_id) if "method" not in frame else frame)
            if frame.get("method") == "process.completed":
                self.finished = True
        return clock

    async def _sleep(self, seconds: float) -> None:
        """Sleep `seconds` of running time (paused time does not count)."""
        loop = asyncio.get_running_loop()
        while seconds > 0:
            await self.running.wait()
            started = loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.paused.wait(), seconds)
            seconds -= loop.time() - started

    async def control(self, kind: str) -> None:
        if kind == "PAUSE":
            self.running.clear()
            self.paused.set()
        elif kind == "RESUME":
            self.paused.clear()
            self.running.set()
        else:
            await self.end()

    async def end(self) -> None:
        self.canceled = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class Running(Execution):
    """A real process, reported the old handler's way."""

    def __init__(self, session: Session, process: asyncio.subprocess.Process, timeout: int | None) -> None:
        self.session, self.process, self.timeout = session, process, timeout
        self.pid = process.pid
        try:  # the old handler asked the kernel, and got None when the group was already gone
            self.pgid: int | None = os.getpgid(process.pid)
        except ProcessLookupError:
            self.pgid = None
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, session: Session, command: str, timeout: int | None) -> Running:
        process = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=LINE_LIMIT,
        )
        return cls(session, process, timeout)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def stream(self) -> None:
        self.task = asyncio.create_task(self._stream(), name="standin-stream")

    async def _stream(self) -> None:
        with contextlib.suppress(ConnectionClosed):  # the client went away: the session ends the group
            await self._report()

    async def _report(self) -> None:
        started = time.time()
        assert self.process.stdout is not None and self.process.stderr is not None
        readers = asyncio.gather(self._read(self.process.stdout, "stdout"), self._read(self.process.stderr, "stderr"))
        if self.timeout:
            with contextlib.suppress(TimeoutError):  # the old handler stopped streaming and reported completion
                await asyncio.wait_for(readers, self.timeout)
        else:
            await readers
        try:
            exit_code = await asyncio.wait_for(self.process.wait(), 5.0)
        except TimeoutError:
            exit_code = self.process.returncode if self.process.returncode is not None else 0
        frame = copy.deepcopy(self.session.library.completed)
        frame["params"].update(
            status="completed" if exit_code == 0 else "failed",
            pid=self.pid,
            pgid=self.pgid,
            exit_code=exit_code,
            execution_time=time.time() - started,
        )
        await self.session.send(frame)

    async def _read(self, stream: asyncio.StreamReader, kind: str) -> None:
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # longer than LINE_LIMIT: the old handler passed on what it had read
                line = await stream.read(LINE_LIMIT)
            if not line:
                return
            await self._send_output(kind, line.decode("utf-8", errors="replace"))

    async def _send_output(self, kind: str, data: str) -> None:
        pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
        for index, piece in enumerate(pieces):
            frame = copy.deepcopy(self.session.library.output)
            last = index == len(pieces) - 1
            frame["params"].update(
                type=kind,
                data=piece,
                truncated=not last or data.endswith("...\n"),
                chunk_index=index if len(pieces) > 1 else None,
                total_chunks=len(pieces) if len(pieces) > 1 else None,
            )
            await self.session.send(frame)

    async def control(self, kind: str) -> None:
        if kind == "CANCEL":
            await self.end()
        else:
            os.killpg(self.pid, signal.SIGSTOP if kind == "PAUSE" else signal.SIGCONT)

    async def end(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        for sig in (signal.SIGTERM, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
        try:
            await asyncio.wait_for(self.process.wait(), 2.0)
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError):  # the whole group, children included
            os.killpg(self.pid, signal.SIGKILL)
        await self.process.wait()


class Session:
    def __init__(self, websocket: ServerConnection, library: Library, options: Options) -> None:
        self.websocket, self.library, self.options = websocket, library, options
        self.execution: Execution | None = None
        self.ended: list[Execution] = []

    async def send(self, frame: Frame) -> None:
        await self.websocket.send(json.dumps(_renamed(frame, self.options.renames)))

    async def run(self) -> None:
        greeting = copy.deepcopy(self.library.greeting)
        greeting["params"]["session_id"] = str(uuid.uuid4())
        await self.send(greeting)
        async for message in self.websocket:
            if isinstance(message, bytes):
                await self.websocket.close(1011, "binary frame")  # the old loop read text only, and died
                return
            try:
                request = json.loads(message)
            except ValueError as exc:
                await self.send(_error(INTERNAL_ERROR, str(exc), None))
                continue
            if not isinstance(request, dict):
                await self.websocket.close(1011, "not a JSON object")  # request.get failed, twice
                return
            await self.dispatch(request)

    async def dispatch(self, request: Frame) -> None:
        method, params, request_id = request.get("method"), request.get("params", {}), request.get("id")
        if method == "execute":
            await self.execute(params, request_id)
        elif method == "control":
            await self.control(params, request_id)
        elif method == "hook_status":
            await self.send(_with_id(self.library.hook_status, request_id))
        else:
            frame, recorded_method = self.library.unknown_method
            reply = _with_id(frame, request_id)
            reply["error"]["message"] = reply["error"]["message"].replace(recorded_method, str(method))
            await self.send(reply)

    async def execute(self, params: Any, request_id: Any) -> None:
        try:
            request = ExecuteRequest(**params)
        except (ValidationError, TypeError) as exc:
            await self.send(_error(INTERNAL_ERROR, str(exc), request_id))
            return
        if self.execution is not None and self.execution.alive:
            await self.send(_with_id(self.library.already_running, request_id))
            return
        if self.execution is not None:
            self.ended.append(self.execution)
        timeline = self.library.executions.get(_params_key(params))
        if timeline is not None:
            self.execution = await Replayed.start(self, timeline, request_id)
            return
        if self.options.replay_only:
            message = f"stand-in: no recording of the old handler for execute {_params_key(params)}"
            await self.send(_error(INTERNAL_ERROR, message, request_id))
            return
        try:
            running = await Running.start(self, request.command, request.timeout)
        except OSError as exc:
            await self.send(_error(INTERNAL_ERROR, str(exc), request_id))
            return
        self.execution = running
        await self.send(_with_id({"jsonrpc": "2.0", "result": self._state("started", running)}, request_id))
        started = copy.deepcopy(self.library.started)
        started["params"].update(self._state("started", running))
        await self.send(started)
        running.stream()

    async def control(self, params: Any, request_id: Any) -> None:
        try:
            kind = ControlRequest(**params).type
        except (ValidationError, TypeError) as exc:
            await self.send(_error(INTERNAL_ERROR, str(exc), request_id))
            return
        execution = self.execution
        if execution is None or execution.pgid is None or not execution.alive:
            await self.send(_error(PROCESS_NOT_FOUND, "No process is running", request_id))
            return
        result, note = self.library.control[kind]
        if kind != "CANCEL":
            await execution.control(kind)
        await self.send(_with_id(result, request_id))
        notification = copy.deepcopy(note)
        notification["params"].update(pid=execution.pid, pgid=execution.pgid)
        await self.send(notification)
        if kind == "CANCEL":  # after the notification: the old handler then cancelled its streaming task
            await execution.control(kind)

    @staticmethod
    def _state(status: str, execution: Execution) -> Frame:
        return {"status": status, "pid": execution.pid, "pgid": execution.pgid}

    async def end(self) -> None:
        for execution in [*self.ended, *([self.execution] if self.execution else [])]:
            with contextlib.suppress(Exception):
                await execution.end()


# -- the server --------------------------------------------------------------------------------------------


def _health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.split("?", 1)[0] != "/health":
        return None
    response = connection.respond(HTTPStatus.OK, json.dumps({"status": "healthy", "service": "cc-executor-websocket"}))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


async def serve_standin(host: str = "127.0.0.1", port: int = 0, options: Options | None = None) -> Server:
    """Start the stand-in; `server.sockets[0].getsockname()[1]` is its port. Close it with server.close()."""
    options = options or Options()
    library = Library.load(options.reference)

    async def handle(websocket: ServerConnection) -> None:
        session = Session(websocket, library, options)
        try:
            await session.run()
        except ConnectionClosed:
            pass
        finally:
            await session.end()

    return await serve(handle, host, port, max_size=MAX_FRAME, process_request=_health, ping_interval=None)


def _rename(value: str) -> tuple[str, str]:
    old, sep, new = value.partition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError("expected OLD=NEW")
    return old, new


async def _main(args: argparse.Namespace) -> None:
    options = Options(args.reference, args.speed, args.replay_only, dict(args.rename))
    server = await serve_standin(args.host, args.port, options)
    port = server.sockets[0].getsockname()[1]
    print(f"old-handler stand-in on ws://{args.host}:{port}/ws/mcp (transcripts: {options.reference})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close(close_connections=True)
    await server.wait_closed()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cc_executor.contract_tests.old_handler_standin",
        description="Serve a stand-in for the old cc_executor handler, replayed from its recorded transcripts.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8013, help="0 picks a free port (printed on start)")
    parser.add_argument("--reference", type=Path, default=REFERENCE_DIR, help="directory of old-handler *.jsonl")
    parser.add_argument("--speed", type=float, default=1.0, help="pace of replayed executions (0: no waiting)")
    parser.add_argument("--replay-only", action="store_true", help="refuse to run commands no transcript has")
    parser.add_argument("--rename", type=_rename, action="append", default=[], metavar="OLD=NEW")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_main(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"old_handler_standin: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
