"""One WebSocket connection: moves frames between the socket, the protocol core and the process runner."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.common.permissions import PermissionDecision, PermissionRelayOptions
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.generated.ws.requests.sessions import SessionInfo
from cc_executor.generated.ws.requests.status import QueuedExecution, RunningExecution, StartingExecution
from cc_executor.logs import command_digest

from .execution_slots import ExecutionSlots, NotRun, Waiting
from .execution_types import Completion, OutputPiece, RunLimits, StreamName
from .hooks import HookContext, HooksEngine, failure_message
from .launcher import Launcher
from .leftovers import RunningExecutions
from .metrics import HandlerMetrics
from .params import ControlType
from .process_runner import RunningProcess, SpawnError
from .protocol import (
    NOT_RUN,
    Action,
    ConnectionProtocol,
    ControlExecution,
    DeliverAnswer,
    ReportHookStatus,
    ReportSessions,
    ReportStatus,
    Send,
    StartExecution,
)
from .relay_channel import Asker, RelayDoor, RelayKeys

log = logging.getLogger("cc_executor.handler")

#: Frames handed to the transport at once: few writes, and a read of short lines (256 KiB, 40,000 frames
#: of one line each) never sits in memory encoded all at once.
WRITE_BATCH_FRAMES = 1024


@dataclass(frozen=True)
class SessionSettings:
    run_limits: RunLimits
    default_timeout_s: int | None
    max_sessions: int
    metrics: HandlerMetrics
    running: RunningExecutions | None = None
    heartbeat_s: float | None = 30.0  # protocol 1.0's ping notification; None: never
    idle_timeout_s: float | None = None  # close a connection that sends nothing and runs nothing this long
    hooks: HooksEngine | None = None
    slots: ExecutionSlots | None = None  # shared by the handler's sessions; None: one of its own per session
    relay: RelayDoor | None = None  # where the permission relays of this handler's executions ask
    launcher: Launcher | None = None  # the handler's, with a shell kept ready; None: every start from scratch


@dataclass(frozen=True)
class _Queued:
    request: StartExecution
    waiting: Waiting
    starter: asyncio.Task[None]


def describe(running: RunningProcess, execution_id: str) -> RunningExecution:
    state = "stopping" if running.stopping else "paused" if running.paused else "running"
    return RunningExecution(
        execution_id=execution_id,
        state=state,
        pid=running.pid,
        pgid=running.pgid,
        command=running.command,
        elapsed_s=round(running.clock.elapsed(), 3),
        active_s=round(running.clock.active(), 3),
        timeout=None if running.timeout_s is None else int(running.timeout_s),
        stdout_bytes=running.bytes_out["stdout"],
        stderr_bytes=running.bytes_out["stderr"],
    )


async def send_frames(websocket: ServerConnection, frames: list[bytes]) -> None:
    """Text frames (UTF-8 JSON already), handed to the transport in one write.

    One line per frame (protocol 1.0) makes many small frames: one `send` each would cost
    more than framing them. This is what `send` does for one frame (websockets' own
    send_context: checks the state, then drains with flow control), for a batch.
    """
    if len(frames) == 1:
        await websocket.send(frames[0], text=True)
        return
    for start in range(0, len(frames), WRITE_BATCH_FRAMES):
        while websocket.send_in_progress is not None:  # a fragmented message is being sent: never interleave
            await asyncio.shield(websocket.send_in_progress)
        async with websocket.send_context():  # on exit: waits while the socket's buffer is full
            for frame in frames[start : start + WRITE_BATCH_FRAMES]:
                websocket.protocol.send_text(frame)
            chunks = websocket.protocol.data_to_send()
            websocket.transport.writelines([chunk for chunk in chunks if chunk])
            if not all(chunks) and websocket.transport.can_write_eof():  # b"": end of stream (as send_data does)
                websocket.transport.write_eof()


class Session:
    """Serves one connection until it closes, then takes its running process group down."""

    def __init__(
        self,
        websocket: ServerConnection,
        protocol: ConnectionProtocol,
        settings: SessionSettings,
        peers: Callable[[], Collection[Session]],
    ) -> None:
        self.websocket = websocket
        self.protocol = protocol
        self.settings = settings
        self.peers = peers  # every session of the handler, this one included
        self.connected_at = time.monotonic()
        self.last_heard = self.connected_at
        self.running: RunningProcess | None = None
        self.hooks = settings.hooks or HooksEngine()
        self.slots = settings.slots or ExecutionSlots(max_running=1, max_queued=1)
        self._announced = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        #: an execution waiting for a slot, and the task that starts it once it has one
        self._waiting: _Queued | None = None
        #: an execution that has its slot while its pre-execution hooks run, and since when
        self._starting: tuple[StartExecution, float] | None = None
        self._relay_key: str | None = None  # the running execution's, while it relays permission prompts
        self._questions: dict[str, asyncio.Future[PermissionDecision]] = {}  # permission requests waiting, by key
        self._question_keys = itertools.count(1)

    async def serve(self) -> None:
        started = time.monotonic()
        log.info(
            "session opened",
            extra={"event": {"session_id": self.protocol.session_id, "protocol": self.protocol.mode.version}},
        )
        chores = self._chores()
        try:
            await self._send(self.protocol.greeting())
            async for frame in self.websocket:
                self.last_heard = time.monotonic()
                for action in self.protocol.receive(frame):
                    await self._perform_safely(action)
        except ConnectionClosed:
            pass
        finally:
            for chore in chores:
                chore.cancel()
            self._withdraw()
            self.cancel_execution("Client disconnected")
            self._drop_questions()
            if self._watcher is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher
            duration = round(time.monotonic() - started, 3)
            log.info(
                "session closed", extra={"event": {"session_id": self.protocol.session_id, "duration_s": duration}}
            )

    def _chores(self) -> list[asyncio.Future[None]]:
        """What runs beside the message loop: protocol 1.0's heartbeat, the idle-session timeout."""
        chores: list[asyncio.Future[None]] = []
        if self.protocol.mode.heartbeat and self.settings.heartbeat_s:
            chores.append(asyncio.ensure_future(self._heartbeat(self.settings.heartbeat_s)))
        if self.settings.idle_timeout_s:
            chores.append(asyncio.ensure_future(self._close_when_idle(self.settings.idle_timeout_s)))
        return chores

    async def _heartbeat(self, interval_s: float) -> None:
        """The old handler's `ping` notification every interval, answered or not (its clients' idle timers need it)."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval_s)
                await self._send(self.protocol.ping(time.time()))

    async def _close_when_idle(self, idle_s: float) -> None:
        while True:
            quiet = time.monotonic() - self.last_heard
            if quiet >= idle_s and self.running is None and self.protocol.execution_id is None:
                log.info("idle session closed", extra={"event": {"session_id": self.protocol.session_id}})
                await self.websocket.close(1000, f"Session idle for {idle_s:g} s")
                return
            await asyncio.sleep(idle_s - quiet if quiet < idle_s else min(idle_s, 1.0))  # busy: look again later

    def _withdraw(self) -> bool:
        """Take this connection's execution out of the queue, if it waits there (True)."""
        if self._waiting is None:
            return False
        queued, self._waiting = self._waiting, None
        queued.starter.cancel()
        self.slots.leave(queued.waiting)
        return True

    def cancel_execution(self, reason: str) -> None:
        """A client that goes away, or a handler that stops, takes the process group with it."""
        if self.running is not None:
            self.running.cancel(reason)

    async def _perform_safely(self, action: Action) -> None:
        """A bug while acting on one frame is answered with -32603 and logged; the session goes on."""
        try:
            await self._perform(action)
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("internal error", extra={"event": {"session_id": self.protocol.session_id}})
            await self._send_all(self.protocol.internal_error(action, execution_gone=self.running is None))

    async def _perform(self, action: Action) -> None:
        if isinstance(action, Send):
            await self._send(action.frame)
        elif isinstance(action, StartExecution):
            await self._start(action)
        elif isinstance(action, ControlExecution):
            await self._control(action)
        elif isinstance(action, ReportStatus):
            frames = self.protocol.status(
                action,
                self.execution(),
                self.queued_execution(),
                self.starting_execution(),
                len(self.peers()),
                self.settings.max_sessions,
            )
            await self._send_all(frames)
        elif isinstance(action, ReportSessions):
            infos = [peer.info() for peer in self.peers()]
            await self._send_all(self.protocol.sessions(action, infos, self.settings.max_sessions))
        elif isinstance(action, ReportHookStatus):
            await self._send_all(self.protocol.hook_status(action, self.hooks.status()))
        elif isinstance(action, DeliverAnswer):
            waiter = self._questions.get(action.params.params.request_id)
            delivered = waiter is not None and not waiter.done()
            if waiter is not None and delivered:
                answer = action.params.params
                waiter.set_result(PermissionDecision(behavior=answer.behavior, message=answer.message))
            await self._send_all(self.protocol.answer_delivered(action, delivered))

    def execution(self) -> RunningExecution | None:
        if self.running is None or self.protocol.execution_id is None:
            return None
        return describe(self.running, self.protocol.execution_id)

    def queued_execution(self) -> QueuedExecution | None:
        """The execution waiting for a slot, while it is in the queue."""
        queued = self._waiting
        if queued is None:
            return None
        position = self.slots.position(queued.waiting)
        if position is None:  # it was just given its slot, and starts
            return None
        return QueuedExecution(
            execution_id=queued.request.execution_id,
            state="queued",
            command=queued.request.execute.command,
            queued_s=round(time.monotonic() - queued.waiting.joined_at, 3),
            position=position,
        )

    def starting_execution(self) -> StartingExecution | None:
        """The execution whose pre-execution hooks run, before its process starts."""
        if self._starting is None:
            return None
        request, since = self._starting
        return StartingExecution(
            execution_id=request.execution_id,
            state="starting",
            command=request.execute.command,
            starting_s=round(time.monotonic() - since, 3),
        )

    def info(self) -> SessionInfo:
        connected_s = round(time.monotonic() - self.connected_at, 3)
        return SessionInfo(
            session_id=self.protocol.session_id,
            connected_s=connected_s,
            execution=self.execution(),
            queued_execution=self.queued_execution(),
            starting_execution=self.starting_execution(),
        )

    async def _start(self, request: StartExecution) -> None:
        """Start at once when a slot is free; else queue (process.queued for 2.0) and start when one frees."""
        try:
            waiting = self.slots.take(request.execute.may_queue)
        except NotRun as not_run:
            await self._not_run(request, not_run)
            return
        if waiting is None:
            await self._start_in_slot(request)
            return
        log.info(
            "execution queued",
            extra={"event": {"execution_id": request.execution_id, "position": waiting.position}},
        )
        await self._send_all(
            self.protocol.execution_queued(waiting.position, self.slots.running, self.slots.max_running)
        )
        starter = asyncio.create_task(self._start_when_granted(request, waiting), name=f"queued {request.execution_id}")
        self._waiting = _Queued(request, waiting, starter)

    async def _start_when_granted(self, request: StartExecution, waiting: Waiting) -> None:
        try:
            await waiting.turn()
        except NotRun as not_run:  # the handler began draining
            self._waiting = None
            with contextlib.suppress(ConnectionClosed):
                await self._not_run(request, not_run)
            return
        self._waiting = None
        self.settings.metrics.waited(request.execution_id, time.monotonic() - waiting.joined_at)
        with contextlib.suppress(ConnectionClosed):
            await self._start_in_slot(request)

    async def _not_run(self, request: StartExecution, not_run: NotRun) -> None:
        self.settings.metrics.not_started(request.execution_id, not_run.reason)
        log.info(
            "execution not run",
            extra={"event": {"execution_id": request.execution_id, "reason": not_run.reason}},
        )
        for action in self.protocol.execution_not_started(request, not_run.message, not_run.reason, NOT_RUN):
            await self._perform_safely(action)

    async def _start_in_slot(self, request: StartExecution) -> None:
        """Run the execution in the slot it holds; the slot is released when it ends (or if it never starts)."""
        handed_over = False
        try:
            handed_over = await self._run(request)
        finally:
            if not handed_over:
                self.slots.release()

    async def _run(self, request: StartExecution) -> bool:
        """True once the execution's completion is watched (and its slot released there)."""
        execute = request.execute
        timeout = execute.timeout_s if execute.timeout_s is not None else self.settings.default_timeout_s
        self._announced.clear()
        context = HookContext(request.execution_id, execute.command, execute.cwd, self.protocol.session_id)
        self._starting = (request, time.monotonic())
        try:
            refused = await self.hooks.before(context, self._report_hook)
            if refused is not None:
                log.warning("execution stopped by a hook", extra={"event": {"execution_id": request.execution_id}})
                for action in self.protocol.execution_not_started(request, failure_message(refused), "hook_failed"):
                    await self._perform_safely(action)
                return False
            environ = self._relay_environment(execute.permission_relay)
            try:
                running = await RunningProcess.start(
                    execute.command,
                    self._forward_output,
                    cwd=execute.cwd,
                    timeout_s=timeout,
                    limits=self.settings.run_limits,
                    environ=environ,
                    framing=self.protocol.mode.framing,
                    stdin=execute.stdin.encode("utf-8", "surrogatepass") if execute.stdin else None,
                    launcher=self.settings.launcher,
                )
            except SpawnError as exc:
                self._end_relay()
                self.settings.metrics.spawn_failed(request.execution_id)
                log.warning(
                    "execution not started", extra={"event": {"execution_id": request.execution_id, "error": str(exc)}}
                )
                for action in self.protocol.execution_not_started(request, str(exc)):
                    await self._perform_safely(action)
                return False
            self.running = running
        finally:
            self._starting = None
        if self.settings.running is not None:
            self.settings.running.add(running.tag)
        log.info(
            "execution started",
            extra={
                "event": {
                    "execution_id": request.execution_id,
                    "session_id": self.protocol.session_id,
                    "pid": running.pid,
                    "command_sha256": command_digest(execute.command),
                    "timeout_s": timeout,
                }
            },
        )
        try:
            await self._send_all(self.protocol.execution_started(request, running.pid, running.pgid))
        finally:
            self._announced.set()
            self._watcher = asyncio.create_task(self._report_completion(running, context))
        return True

    # -- permission prompts of the execution (protocol 2.0's permission_relay) ----------------------------

    def _relay_environment(self, options: PermissionRelayOptions | None) -> dict[str, str] | None:
        """The execution's environment with a fresh relay key, when its permission prompts come here."""
        relay = self.settings.relay
        if options is None or relay is None:
            return None
        self._relay_key = relay.keys.issue(self._asker(options))
        return {**os.environ, **RelayKeys.environment(self._relay_key, relay.url)}

    def _asker(self, options: PermissionRelayOptions) -> Asker:
        async def ask(question: AskPermissionParams) -> PermissionDecision:
            """Forward the question to this connection's client and wait for its answer_permission."""
            await self._announced.wait()  # the execute reply and process.started go out first
            key = f"r{next(self._question_keys)}"
            waiter: asyncio.Future[PermissionDecision] = asyncio.get_running_loop().create_future()
            self._questions[key] = waiter
            running = self.running
            hold = (
                running.timeout_held() if running and options.pause_timeout_while_asking else contextlib.nullcontext()
            )
            try:
                with hold:
                    await self._send_all(self.protocol.permission_requested(key, question))
                    return await waiter
            finally:
                self._questions.pop(key, None)

        return ask

    def _end_relay(self) -> None:
        """The execution ended: its relay key opens nothing any more, and its questions are dropped."""
        if self._relay_key is not None and self.settings.relay is not None:
            self.settings.relay.keys.revoke(self._relay_key)
        self._relay_key = None
        self._drop_questions()

    def _drop_questions(self) -> None:
        for waiter in self._questions.values():
            waiter.cancel()
        self._questions.clear()

    async def _forward_output(self, stream: StreamName, pieces: list[OutputPiece]) -> None:
        """The runner's sink: waits for the socket (backpressure); output for a gone client is dropped."""
        await self._announced.wait()
        with contextlib.suppress(ConnectionClosed):
            await self._send_all(self.protocol.output(stream, pieces))

    async def _report_hook(self, run: HookRun) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send_all(self.protocol.hook_completed(run))

    async def _report_completion(self, running: RunningProcess, context: HookContext) -> None:
        completion = await running.wait()
        self._end_relay()
        await self.hooks.after(context, completion, self._report_hook)
        self.running = None
        self.slots.release()
        actions = self.protocol.completed(completion)
        frames = [action for action in actions if isinstance(action, Send)]
        then = [action for action in actions if not isinstance(action, Send)]  # an execute that waited on a CANCEL
        with contextlib.suppress(ConnectionClosed):
            try:
                for frame in frames:
                    await self._perform_safely(frame)
            finally:  # the bookkeeping once the client knows (it does not wait for it), before anything starts next
                self._record_end(running, context.execution_id, completion)
            for action in then:
                await self._perform_safely(action)

    def _record_end(self, running: RunningProcess, execution_id: str, completion: Completion) -> None:
        if self.settings.running is not None:
            self.settings.running.remove(running.tag)
        self.settings.metrics.execution_ended(
            execution_id,
            completion.status,
            completion.execution_time,
            completion.stdout_bytes + completion.stderr_bytes,
        )
        log.info(
            "execution ended",
            extra={
                "event": {
                    "execution_id": execution_id,
                    "status": completion.status,
                    "exit_code": completion.exit_code,
                    "duration_s": round(completion.execution_time, 3),
                    "stdout_bytes": completion.stdout_bytes,
                    "stderr_bytes": completion.stderr_bytes,
                }
            },
        )

    async def _control(self, request: ControlExecution) -> None:
        running = self.running
        if running is None and self._waiting is not None:
            await self._control_queued(request)
            return
        if running is None:  # started but already reported completed: nothing left to steer
            await self._send_all(self.protocol.control_done(request, _STATUS[request.action], changed=False))
            return
        if request.action == "PAUSE":
            changed = running.pause()
        elif request.action == "RESUME":
            changed = running.resume()
        else:
            changed = running.cancel("Canceled by the client")
        await self._send_all(self.protocol.control_done(request, _STATUS[request.action], changed))

    async def _control_queued(self, request: ControlExecution) -> None:
        """CANCEL withdraws an execution that waits for a slot (its execute is answered: nothing ran)."""
        if request.action != "CANCEL":
            await self._send_all(self.protocol.control_while_queued(request))
            return
        assert self._waiting is not None
        queued = self._waiting.request
        self._withdraw()
        await self._send_all(self.protocol.control_done(request, "canceled", changed=False))
        await self._not_run(queued, NotRun("canceled", "Canceled while queued: nothing ran"))

    async def _send_all(self, frames: list[bytes]) -> None:
        if frames:
            await send_frames(self.websocket, frames)

    async def _send(self, frame: bytes) -> None:
        """Frames are UTF-8 JSON already; send them as text without decoding and encoding again."""
        await self.websocket.send(frame, text=True)


_STATUS: dict[ControlType, Literal["paused", "resumed", "canceled"]] = {
    "PAUSE": "paused",
    "RESUME": "resumed",
    "CANCEL": "canceled",
}
