"""The execution engine: runs tasks on a backend, a few at a time, and answers for them.

The MCP tools and `cc-executor run` both work through an ExecutionManager. It gives
each task an id, waits for a free slot, starts it where backend_choice says, keeps its
output on disk, feeds Claude's stream to the execution's state (progress, transcript),
and records every execution in the history so it can be asked about after a restart.
What a result says is outcome.py's job; how status looks to a model, views.py's; which
bridge and which MCP session owns an execution, ownership.py's.

Bounded: a task holds no file until it has a slot, at most `max_queued` wait for one, an
execution leaves memory once it has ended (the history answers for it), and all stored
output stays under `max_output_total_bytes` (disk_budget.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Literal

from cc_executor.client import HandlerUnavailable
from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.mcp.common import ExecutionSummary, TaskResult
from cc_executor.generated.ws.requests.hook_status import HookStatusResult
from cc_executor.handler.cgroups import remove_stale
from cc_executor.handler.execution_types import Completion, StreamName
from cc_executor.handler.hooks import HookListener
from cc_executor.handler.process_runner import end_tagged_processes
from cc_executor.logs import command_digest

from .backend_choice import BackendChoice
from .backends import LOCAL, Execution, PermissionRelay, StartFailed, TextSink
from .disk_budget import DiskBudget
from .execution_state import ProgressListener, ProgressUpdate, TrackedExecution
from .history import History, HistoryRow
from .outcome import NOTHING_RAN, claude_result, command_result, not_run
from .output_store import OutputStore, StoredStream, output_folder, read_page, text_page
from .ownership import BridgeIdentity, Scope, owner_gone
from .settings import BackendMode, BridgeSettings
from .task_request import TaskRequest
from .views import live_status, stored_status, summary

__all__ = [
    "ABANDONED",
    "BackendMode",
    "BridgeSettings",
    "ExecutionManager",
    "ProgressUpdate",
    "QueueFull",
    "TaskRequest",
    "TrackedExecution",
]

log = logging.getLogger("cc_executor.bridge")

Action = Literal["pause", "resume", "cancel"]
START_WAIT_S = 15.0  # pause/resume of a task whose process is still being started waits this long for it
MAX_RUNS = 3  # retry_on_handler_loss: a task runs at most this many times
ABANDONED = (
    "The bridge stopped while this task was running, so its outcome was not recorded "
    "(a handler ends such a task; a local one is ended when the bridge starts again)"
)


class QueueFull(Exception):
    """Too many tasks wait for a slot already; the message says what to do."""


class ExecutionManager:
    """Runs tasks on a backend, at most `max_concurrent` at a time, and answers for them."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.history = History(settings.data_dir / "executions.sqlite3")
        self.identity = BridgeIdentity(settings.data_dir)
        self.outputs_dir = settings.data_dir / "outputs"
        self.disk = DiskBudget(self.outputs_dir, settings.max_output_total_bytes, self.history.finished_oldest_first)
        self.backends = BackendChoice(settings)
        self.executions: dict[str, TrackedExecution] = {}  # the ones that have not ended
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        self._runners: set[asyncio.Task[None]] = set()

    def recover_abandoned(self) -> None:
        """Start-up: forget the oldest history, and fail (and end the leftover processes of) every execution
        whose bridge is provably gone; another bridge's that still runs is left alone. Call once, before serving."""
        self.disk.forget(self.history.prune())
        live = self.identity.live_bridges()
        for row in self.history.unfinished():
            if not owner_gone(row.owner, row.tag, live):
                continue
            self.history.mark_abandoned(row, ABANDONED)
            ended = end_tagged_processes(row.tag) if row.tag else []
            log.warning(
                "execution left running by a bridge that is gone marked failed",
                extra={"event": {"execution_id": row.execution_id, "leftover_processes_ended": ended}},
            )
        self.identity.forget_dead()
        remove_stale()

    # -- starting and waiting ------------------------------------------------------

    def submit(self, request: TaskRequest, client: str | None = None) -> TrackedExecution:
        """Queue a task (QueueFull when `max_queued` wait already); `client` is the MCP session it belongs to."""
        waiting = sum(1 for execution in self.executions.values() if not execution.has_slot)
        if waiting >= self.settings.max_queued:
            raise QueueFull(
                f"{waiting} tasks are already waiting for a slot (the bridge runs {self.settings.max_concurrent} at "
                "a time and queues at most --max-queued more); wait for some to end, or cancel some with "
                "control_execution, then try again"
            )
        execution_id = str(uuid.uuid4())
        store = OutputStore(
            self.outputs_dir / execution_id,
            self.settings.max_output_bytes,
            allowance=self.disk.take,
        )
        execution = TrackedExecution(execution_id, request, store, client)
        self.executions[execution_id] = execution
        self.history.add(
            execution_id,
            execution.created_at.isoformat(),
            request.task,
            execution.backend,
            "queued",
            owner=self.identity.id,
            client=client,
        )
        runner = asyncio.create_task(self._run(execution), name=f"execution {execution_id}")
        self._runners.add(runner)
        runner.add_done_callback(self._runners.discard)
        return execution

    async def settle(self, execution: TrackedExecution, timeout_s: float) -> None:
        """Wait (at most `timeout_s`) until a starting execution has started or failed to, so a reply can say
        which; a queued one (no free slot) is not waited for."""
        await asyncio.sleep(0)  # its runner takes a free slot now, if there is one
        if execution.status == "queued":
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(execution.settled.wait()), timeout_s)

    async def run_to_end(
        self, request: TaskRequest, listener: ProgressListener | None = None, client: str | None = None
    ) -> TaskResult:
        """Submit and wait; if the caller is cancelled, the execution is canceled too (and awaited)."""
        execution = self.submit(request, client)
        if listener:
            execution.subscribe(listener)
        return await self.follow(execution)

    async def follow(self, execution: TrackedExecution) -> TaskResult:
        """Wait for the result; if the caller is cancelled, the execution is canceled too (and awaited)."""
        try:
            await execution.finished.wait()
        except asyncio.CancelledError:
            await asyncio.shield(self.cancel_and_wait(execution, "Canceled by the MCP client"))
            raise
        assert execution.result is not None
        return execution.result

    async def cancel_and_wait(self, execution: TrackedExecution, reason: str) -> None:
        await self.control(execution.id, "cancel", reason)
        await execution.finished.wait()

    async def _run(self, execution: TrackedExecution) -> None:
        try:
            async with self._slots:
                execution.has_slot = True
                if execution.cancel_reason:
                    self._finish(execution, not_run(execution, "canceled", execution.cancel_reason))
                    return
                execution.status = "running"
                execution.started = time.monotonic()
                for attempt in range(1, MAX_RUNS + 1):
                    handle = await self._start(execution)
                    if handle is None:
                        return
                    completion = await handle.wait()
                    if not (handle.lost and self._run_again(execution, handle.backend, attempt)):
                        break
                if execution.permissions is not None:  # what still waits is denied, and in the result's log
                    execution.permissions.close()
                self._finish(execution, self._result(execution, completion))
        except Exception as exc:  # a bug must not leave an execution "running" forever
            log.exception("execution failed inside the bridge", extra={"event": {"execution_id": execution.id}})
            self._finish(execution, not_run(execution, "failed", f"Internal error in the bridge: {exc}"))

    async def _start(self, execution: TrackedExecution) -> Execution | None:
        """The started process; None when it could not start (the execution is then finished: nothing ran)."""
        try:
            handle = await self.backends.start(
                execution, self._sink(execution), self._hooks(execution), self._relay(execution)
            )
        except StartFailed as exc:
            if execution.cancel_reason:  # canceled while it waited for a free handler
                self._finish(execution, not_run(execution, "canceled", execution.cancel_reason))
            else:
                ran = exc.may_have_run_on or NOTHING_RAN
                self._finish(execution, not_run(execution, "failed", str(exc), exc.hint, backend=ran))
            return None
        execution.handle = handle
        execution.backend = handle.backend
        execution.status = "running"
        execution.settled.set()
        self.history.update(execution.id, status="running", backend=handle.backend, elapsed_s=None)
        if handle.tag:
            self.history.set_tag(execution.id, handle.tag)
        execution.store.open_streams(("stdout", "transcript") if execution.request.claude else ("stdout",))
        execution.announce(f"started on {handle.backend}", self.settings.progress_interval_s, force=True)
        log.info(
            "task started",
            extra={
                "event": {
                    "execution_id": execution.id,
                    "command_sha256": command_digest(execution.request.command),
                    "backend": handle.backend,
                }
            },
        )
        reason = execution.cancel_reason  # a cancel may have come while it was starting
        if reason is not None:
            await handle.cancel(reason)
        return handle

    def _run_again(self, execution: TrackedExecution, lost: str, attempt: int) -> bool:
        """After its handler was lost: whether the task runs again elsewhere (it opted in, and was not canceled)."""
        if not execution.request.retry_on_handler_loss or execution.cancel_reason or attempt >= MAX_RUNS:
            execution.lost_handler = lost
            return False
        log.warning(
            "handler lost while a task ran; running it again elsewhere (retry_on_handler_loss)",
            extra={"event": {"execution_id": execution.id, "handler": lost, "attempt": attempt}},
        )
        execution.restart(f"lost the handler at {lost}; running the task again from the start elsewhere")
        execution.announce(f"lost the handler at {lost}; running it again", 0, force=True)
        return True

    def _sink(self, execution: TrackedExecution) -> TextSink:
        interval = self.settings.progress_interval_s

        async def take(stream: StreamName, text: str) -> None:
            execution.store.append(stream, text)
            for listener in execution.output_listeners:
                listener(stream, text)
            if stream == "stdout":
                execution.take_stdout(text, interval)

        return take

    @staticmethod
    def _relay(execution: TrackedExecution) -> PermissionRelay | None:
        desk, policy = execution.permissions, execution.request.permissions
        if desk is None or policy is None:
            return None
        return PermissionRelay(desk.relay, policy.pause_timeout_while_asking)

    def _hooks(self, execution: TrackedExecution) -> HookListener:
        async def take(run: HookRun) -> None:
            execution.take_hook(run, self.settings.progress_interval_s)

        return take

    def _result(self, execution: TrackedExecution, completion: Completion) -> TaskResult:
        if execution.parser is None:
            return command_result(execution, completion)
        for event in execution.parser.close():  # a last line without a newline
            execution.take_event(event, self.settings.progress_interval_s)
        return claude_result(execution, completion)

    def _finish(self, execution: TrackedExecution, result: TaskResult) -> None:
        if execution.permissions is not None:
            execution.permissions.close()
        execution.result = result
        execution.status = result.status
        execution.ended = time.monotonic()
        execution.store.close()
        self.history.update(
            execution.id, status=result.status, backend=result.backend, elapsed_s=execution.elapsed(), result=result
        )
        execution.announce(f"{result.status}: {result.error or 'done'}"[:300], 0, force=True)
        execution.settled.set()
        execution.finished.set()
        self.executions.pop(execution.id, None)  # the history answers for it from now on
        log.info(
            "task ended",
            extra={
                "event": {
                    "execution_id": execution.id,
                    "command_sha256": command_digest(execution.request.command),
                    "status": result.status,
                    "backend": result.backend,
                    "duration_s": round(execution.elapsed(), 3),
                    "bytes_out": execution.store.bytes["stdout"],
                }
            },
        )

    # -- steering and asking ---------------------------------------------------------

    async def control(self, execution_id: str, action: Action, reason: str = "Canceled by request") -> tuple[bool, str]:
        """(changed, message); raises KeyError for an unknown id."""
        execution = self.executions.get(execution_id)
        if execution is None:
            row = self.history.get(execution_id)
            if row is None:
                raise KeyError(execution_id)
            return False, f"The execution already ended ({row.status})."
        if execution.finished.is_set():
            return False, f"The execution already ended ({execution.status})."
        if action == "cancel":
            if execution.cancel_reason:
                return False, "Already being canceled."
            execution.cancel_reason = reason
            execution.cancel_requested.set()  # one that waits for a free handler stops waiting
            if execution.handle is not None:
                await execution.handle.cancel(reason)
            if execution.permissions is not None:  # nobody need answer what the task asks on its way out
                execution.permissions.close()
            return True, "Canceled; the process group is being terminated."
        if execution.handle is None and execution.status == "running":  # its process is being started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(execution.settled.wait(), START_WAIT_S)
            if execution.finished.is_set():
                return False, f"The execution already ended ({execution.status})."
        if execution.handle is None:
            return False, "The execution has not started yet (it is queued)."
        if action == "pause":
            if execution.status == "paused":  # a handler answers "paused" again; say it changed nothing
                return False, "It was already paused."
            changed = await execution.handle.pause()
            if changed:
                execution.status = "paused"
            return changed, "Paused." if changed else "It was already paused or is ending."
        if execution.status != "paused":
            return False, "It was not paused."
        changed = await execution.handle.resume()
        if changed:
            execution.status = "running"
        return changed, "Resumed." if changed else "It was not paused."

    def find(self, execution_id: str) -> TrackedExecution | HistoryRow | None:
        return self.executions.get(execution_id) or self.history.get(execution_id)

    def status(self, execution_id: str) -> TaskResult | None:
        """The execution as get_execution_status shows it; None for an unknown id."""
        found = self.find(execution_id)
        if found is None:
            return None
        return live_status(found) if isinstance(found, TrackedExecution) else stored_status(found)

    def scope(self, client: str | None = None) -> Scope:
        """What a caller may see: `client` is its MCP session on a bridge that serves several."""
        return self.identity.scope(client)

    def visible(self, found: TrackedExecution | HistoryRow, scope: Scope) -> bool:
        if isinstance(found, TrackedExecution):
            return scope.sees(self.identity.id, found.client)
        return scope.sees(found.owner, found.client)

    def recent(self, limit: int, scope: Scope | None = None) -> list[ExecutionSummary]:
        rows = self.history.recent(limit, scope or self.scope())
        return [summary(row, self.executions.get(row.execution_id)) for row in rows]

    def read_output(
        self, execution_id: str, stream: StoredStream, offset: int, limit: int
    ) -> tuple[str, int, int, bool]:
        """(text, next offset, total bytes, execution ended); KeyError for an unknown id."""
        found = self.find(execution_id)
        if found is None:
            raise KeyError(execution_id)
        ended = True
        if isinstance(found, TrackedExecution):
            ended = found.finished.is_set()
        folder = output_folder(self.outputs_dir, execution_id)
        if folder is None or folder.is_symlink():  # not an id this bridge made, nor a folder it made
            return "", offset, 0, ended
        path = folder / f"{stream}.txt"
        shown = found.result.result if found.result is not None else None
        if stream == "result" and shown and not path.exists():  # the answer the result shows whole has no file
            return (*text_page(shown, offset, limit), ended)
        text, next_offset, total = read_page(path, offset, limit)
        return text, next_offset, total, ended

    def has_transcript(self, execution_id: str) -> bool:
        """Whether a readable transcript is kept (Claude tasks of this bridge version; not plain commands)."""
        tracked = self.executions.get(execution_id)
        if tracked is not None:  # its file is made with its first step
            return tracked.request.claude
        folder = output_folder(self.outputs_dir, execution_id)
        return folder is not None and (folder / "transcript.txt").is_file()

    async def hook_status(self) -> tuple[str, HookStatusResult]:
        """(who answered, their hook status): the handler tasks go to, else the bridge's own hooks."""
        if self.backends.pool is not None:
            with contextlib.suppress(HandlerUnavailable):
                return await self.backends.pool.hook_status()
        return LOCAL, self.backends.local.hooks.status()

    async def close(self) -> None:
        """Cancel what still runs, wait for it to be recorded, and let go of connections."""
        for execution in list(self.executions.values()):
            if not execution.finished.is_set():
                await self.control(execution.id, "cancel", "The bridge is shutting down")
        if self._runners:
            await asyncio.wait(set(self._runners), timeout=self.settings.run_limits.kill_grace_s + 5)
        await self.backends.close()
        self.history.close()
        self.identity.close()
