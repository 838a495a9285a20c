"""Executions: ids, states, output, progress and results of tasks, whichever backend runs them.

The MCP tools and `cc-executor run` both work through an ExecutionManager; it picks
a backend per task (a handler when one is reachable, else the local fallback),
keeps each task's output on disk, follows Claude's stream for progress, and
records every execution in the history so it can be asked about after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cc_executor.client import HandlerUnavailable
from cc_executor.generated.mcp.common import (
    ExecutionStatus,
    ExecutionSummary,
    Progress,
    TaskResult,
    TaskSpec,
)
from cc_executor.handler.execution_types import Completion, StreamName
from cc_executor.handler.process_runner import RunLimits, end_tagged_processes
from cc_executor.logs import command_digest

from .backends import LOCAL, Backend, Execution, LocalBackend, StartFailed, TextSink
from .claude_command import build_claude_argv
from .claude_stream import (
    AssistantTextEvent,
    ClaudeEvent,
    ClaudeStreamParser,
    InitEvent,
    ResultEvent,
    ToolUseEvent,
    TurnEvent,
)
from .handler_pool import HandlerPool
from .history import History, HistoryRow
from .output_store import OutputStore, StoredStream, read_page, remove

log = logging.getLogger("cc_executor.bridge")

BackendMode = Literal["auto", "handler", "local"]
Action = Literal["pause", "resume", "cancel"]
FINAL_STATES = ("completed", "failed", "canceled", "timed_out")
RESULT_CHARS = 20_000
START_WAIT_S = 15.0  # pause/resume of a task whose process is still being started waits this long for it
TASK_PREVIEW_CHARS = 200
ABANDONED = (
    "The bridge stopped while this task was running, so its outcome was not recorded "
    "(a handler ends such a task; a local one is ended when the bridge starts again)"
)


@dataclass(frozen=True)
class BridgeSettings:
    data_dir: Path
    claude_bin: str = "claude"
    handler_urls: tuple[str, ...] = ()
    token: str | None = None
    backend: BackendMode = "auto"
    task_timeout_s: int = 1800
    max_concurrent: int = 8
    max_output_bytes: int = 256 * 1024 * 1024
    progress_interval_s: float = 0.5
    run_limits: RunLimits = field(default_factory=RunLimits)


@dataclass(frozen=True)
class TaskRequest:
    """What to run: a Claude task (spec) or, for `cc-executor run --command`, a plain shell command."""

    task: str  # shown in status and history
    command: str
    cwd: str | None
    timeout_s: int
    claude: bool

    @classmethod
    def for_claude(cls, spec: TaskSpec, settings: BridgeSettings) -> TaskRequest:
        argv = build_claude_argv(
            settings.claude_bin,
            spec.task,
            model=spec.model,
            allowed_tools=spec.allowed_tools,
            disallowed_tools=spec.disallowed_tools,
            permission_mode=spec.permission_mode,
            max_turns=spec.max_turns,
            append_system_prompt=spec.append_system_prompt,
            mcp_config=spec.mcp_config,
        )
        timeout = spec.timeout_s or settings.task_timeout_s
        # `exec`: claude replaces the shell, so it leads the process group and its own exit
        # status (a negative signal number when killed) is what the task reports.
        command = "exec " + shlex.join(argv)
        return cls(task=spec.task, command=command, cwd=spec.cwd, timeout_s=timeout, claude=True)

    @classmethod
    def for_command(cls, command: str, settings: BridgeSettings, cwd: str | None = None) -> TaskRequest:
        return cls(task=command, command=command, cwd=cwd, timeout_s=settings.task_timeout_s, claude=False)


@dataclass(frozen=True)
class ProgressUpdate:
    count: int
    message: str


ProgressListener = Callable[[ProgressUpdate], None]


class TrackedExecution:
    """One execution while this bridge runs it."""

    def __init__(self, execution_id: str, request: TaskRequest, store: OutputStore) -> None:
        self.id = execution_id
        self.request = request
        self.store = store
        self.created_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.ended: float | None = None
        self.state: str = "queued"
        self.backend = "pending"
        self.handle: Execution | None = None
        self.settled = asyncio.Event()  # set once the process started (handle set) or the execution ended
        self.parser = ClaudeStreamParser() if request.claude else None
        self.result: TaskResult | None = None
        self.finished = asyncio.Event()
        self.cancel_reason: str | None = None
        self.last_tool: str | None = None
        self.events_seen = 0
        self._listeners: list[ProgressListener] = []
        self.output_listeners: list[Callable[[StreamName, str], None]] = []
        self._last_progress_at = 0.0
        self._pending_update: ProgressUpdate | None = None

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def subscribe(self, listener: ProgressListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def announce(self, message: str, interval_s: float, force: bool = False) -> None:
        """Tell listeners, at most once per interval (the latest message wins; `force` always goes)."""
        self.events_seen += 1
        update = ProgressUpdate(self.events_seen, message)
        now = time.monotonic()
        if not force and now - self._last_progress_at < interval_s:
            self._pending_update = update
            return
        self._last_progress_at, self._pending_update = now, None
        for listener in list(self._listeners):
            listener(update)

    def progress(self) -> Progress:
        if self.parser is None:
            return Progress(num_turns=0, tool_calls=0)
        text = self.parser.last_assistant_text
        return Progress(
            num_turns=self.parser.num_turns,
            tool_calls=self.parser.tool_calls,
            last_tool=self.last_tool,
            last_text=text[:500] if text else None,
        )


class ExecutionManager:
    """Runs tasks on a backend, at most `max_concurrent` at a time, and answers for them."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.history = History(settings.data_dir / "executions.sqlite3")
        self.outputs_dir = settings.data_dir / "outputs"
        for dropped in self.history.prune():
            remove(self.outputs_dir / dropped)
        abandoned = self.history.mark_abandoned(ABANDONED, self.outputs_dir)
        for execution_id, tag in abandoned:
            ended = end_tagged_processes(tag) if tag else []
            log.warning(
                "execution left running by an earlier bridge marked failed",
                extra={"event": {"execution_id": execution_id, "leftover_processes_ended": ended}},
            )
        self.local = LocalBackend(settings.run_limits)
        self.pool = (
            HandlerPool(list(settings.handler_urls), settings.token)
            if settings.handler_urls and settings.backend != "local"
            else None
        )
        self.executions: dict[str, TrackedExecution] = {}
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        self._runners: set[asyncio.Task[None]] = set()

    # -- starting and waiting ------------------------------------------------------

    def submit(self, request: TaskRequest) -> TrackedExecution:
        execution_id = str(uuid.uuid4())
        store = OutputStore(self.outputs_dir / execution_id, self.settings.max_output_bytes)
        execution = TrackedExecution(execution_id, request, store)
        self.executions[execution_id] = execution
        self.history.add(execution_id, execution.created_at.isoformat(), request.task, execution.backend, "queued")
        runner = asyncio.create_task(self._run(execution), name=f"execution {execution_id}")
        self._runners.add(runner)
        runner.add_done_callback(self._runners.discard)
        return execution

    async def wait(self, execution: TrackedExecution, timeout_s: float | None = None) -> bool:
        """True once the execution has ended; False if `timeout_s` passed first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(execution.finished.wait()), timeout_s)
        return execution.finished.is_set()

    async def run_to_end(self, request: TaskRequest, listener: ProgressListener | None = None) -> TaskResult:
        """Submit and wait; if the caller is cancelled, the execution is canceled too (and awaited)."""
        execution = self.submit(request)
        if listener:
            execution.subscribe(listener)
        return await self.follow(execution)

    async def follow(self, execution: TrackedExecution) -> TaskResult:
        """Wait for the result; if the caller is cancelled, the execution is canceled too (and awaited)."""
        try:
            await execution.finished.wait()
        except asyncio.CancelledError:
            await asyncio.shield(self._cancel_and_wait(execution, "Canceled by the MCP client"))
            raise
        assert execution.result is not None
        return execution.result

    async def _cancel_and_wait(self, execution: TrackedExecution, reason: str) -> None:
        await self.control(execution.id, "cancel", reason)
        await execution.finished.wait()

    async def _run(self, execution: TrackedExecution) -> None:
        try:
            async with self._slots:
                if execution.cancel_reason:
                    self._finish(execution, _not_run(execution, "canceled", execution.cancel_reason))
                    return
                execution.state = "running"
                execution.started = time.monotonic()
                try:
                    handle = await self._start(execution)
                except StartFailed as exc:
                    self._finish(execution, _not_run(execution, "failed", str(exc)))
                    return
                execution.handle = handle
                execution.backend = handle.backend
                execution.settled.set()
                self.history.update(execution.id, state="running", backend=handle.backend, elapsed_s=None)
                if handle.tag:
                    self.history.set_tag(execution.id, handle.tag)
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
                completion = await handle.wait()
                self._finish(execution, self._result(execution, completion))
        except Exception as exc:  # a bug must not leave an execution "running" forever
            log.exception("execution failed inside the bridge", extra={"event": {"execution_id": execution.id}})
            self._finish(execution, _not_run(execution, "failed", f"Internal error in the bridge: {exc}"))

    async def _start(self, execution: TrackedExecution) -> Execution:
        request = execution.request
        sink = self._sink(execution)
        backend: Backend = self.local
        if self.pool is not None:
            try:
                return await self.pool.start(request.command, cwd=request.cwd, timeout_s=request.timeout_s, sink=sink)
            except HandlerUnavailable as exc:
                if self.settings.backend == "handler":
                    raise StartFailed(str(exc)) from exc
                log.info("no handler reachable; running locally", extra={"event": {"error": str(exc)}})
        if request.claude and shutil.which(self.settings.claude_bin) is None:
            raise StartFailed(
                f"the claude executable {self.settings.claude_bin!r} was not found; install Claude Code "
                "(npm install -g @anthropic-ai/claude-code) or point --claude-bin / CC_EXECUTOR_CLAUDE_BIN at it"
            )
        return await backend.start(request.command, cwd=request.cwd, timeout_s=request.timeout_s, sink=sink)

    def _sink(self, execution: TrackedExecution) -> TextSink:
        interval = self.settings.progress_interval_s

        async def take(stream: StreamName, text: str) -> None:
            execution.store.append(stream, text)
            for listener in execution.output_listeners:
                listener(stream, text)
            if stream == "stdout" and execution.parser is not None:
                for event in execution.parser.feed(text):
                    message = _describe(event, execution)
                    if message:
                        execution.announce(message, interval, force=isinstance(event, ResultEvent))
            elif stream == "stdout" and not execution.request.claude:
                line = text.rstrip("\n").rsplit("\n", 1)[-1]
                execution.announce(line[:200] or "output", interval)

        return take

    def _result(self, execution: TrackedExecution, completion: Completion) -> TaskResult:
        store = execution.store
        store.flush()
        base = dict(
            execution_id=execution.id,
            exit_code=completion.exit_code,
            duration_ms=int(execution.elapsed() * 1000),
            stderr_tail=store.stderr_tail or None,
            output_truncated=store.truncated,
            output_bytes=store.bytes["stdout"],
            backend=execution.backend,
        )
        if execution.parser is None:  # a plain command: its exit status is the verdict
            error = _stop_reason(execution, completion) or (
                f"exit code {completion.exit_code}" if completion.status == "failed" else None
            )
            return TaskResult(status=completion.status, error=error, **base)
        outcome = execution.parser.finish(completion.exit_code)
        text = outcome.result or ""
        store.set_result(text)
        status: Literal["completed", "failed", "canceled", "timed_out"]
        if completion.status in ("canceled", "timed_out"):
            status, error = completion.status, _stop_reason(execution, completion)
        elif outcome.ok and completion.exit_code in (0, None):
            status, error = "completed", None
        else:
            status, error = "failed", _failure_reason(outcome.error_message, completion, store.stderr_tail)
        return TaskResult(
            status=status,
            error=error,
            result=text[:RESULT_CHARS] if outcome.saw_result else None,
            result_truncated=len(text) > RESULT_CHARS,
            is_error=outcome.is_error if outcome.saw_result else None,
            session_id=outcome.session_id,
            num_turns=outcome.num_turns,
            total_cost_usd=outcome.total_cost_usd,
            usage=outcome.usage or None,
            **base,
        )

    def _finish(self, execution: TrackedExecution, result: TaskResult) -> None:
        execution.result = result
        execution.state = result.status
        execution.ended = time.monotonic()
        execution.store.close()
        self.history.update(
            execution.id, state=result.status, backend=result.backend, elapsed_s=execution.elapsed(), result=result
        )
        execution.announce(f"{result.status}: {result.error or 'done'}"[:300], 0, force=True)
        execution.settled.set()
        execution.finished.set()
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
            return False, f"The execution already ended ({row.state})."
        if execution.state in FINAL_STATES:
            return False, f"The execution already ended ({execution.state})."
        if action == "cancel":
            if execution.cancel_reason:
                return False, "Already being canceled."
            execution.cancel_reason = reason
            if execution.handle is not None:
                await execution.handle.cancel(reason)
            return True, "Canceled; the process group is being terminated."
        if execution.handle is None and execution.state == "running":  # its process is being started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(execution.settled.wait(), START_WAIT_S)
            if execution.state in FINAL_STATES:
                return False, f"The execution already ended ({execution.state})."
        if execution.handle is None:
            return False, "The execution has not started yet (it is queued)."
        if action == "pause":
            if execution.state == "paused":  # a handler answers "paused" again; say it changed nothing
                return False, "It was already paused."
            changed = await execution.handle.pause()
            if changed:
                execution.state = "paused"
            return changed, "Paused." if changed else "It was already paused or is ending."
        if execution.state != "paused":
            return False, "It was not paused."
        changed = await execution.handle.resume()
        if changed:
            execution.state = "running"
        return changed, "Resumed." if changed else "It was not paused."

    def find(self, execution_id: str) -> TrackedExecution | HistoryRow | None:
        return self.executions.get(execution_id) or self.history.get(execution_id)

    def status(self, execution_id: str) -> ExecutionStatus | None:
        found = self.find(execution_id)
        if found is None:
            return None
        if isinstance(found, TrackedExecution):
            return ExecutionStatus(
                execution_id=found.id,
                state=found.state,
                task=found.request.task[:TASK_PREVIEW_CHARS],
                backend=found.backend,
                created_at=found.created_at,
                elapsed_s=round(found.elapsed(), 3),
                progress=found.progress(),
                last_output_lines=found.store.last_lines(),
                result=found.result,
            )
        turns = found.result.num_turns if found.result and found.result.num_turns else 0
        return ExecutionStatus(
            execution_id=found.execution_id,
            state=found.state,
            task=found.task[:TASK_PREVIEW_CHARS],
            backend=found.backend,
            created_at=found.created_at,
            elapsed_s=round(found.elapsed_s or 0.0, 3),
            progress=Progress(num_turns=turns, tool_calls=0),
            last_output_lines=_last_lines(self.outputs_dir / found.execution_id / "stdout.txt"),
            result=found.result,
        )

    def recent(self, limit: int) -> list[ExecutionSummary]:
        summaries = []
        for row in self.history.recent(limit):
            live = self.executions.get(row.execution_id)
            summaries.append(
                ExecutionSummary(
                    execution_id=row.execution_id,
                    state=live.state if live else row.state,
                    task=row.task[:TASK_PREVIEW_CHARS],
                    backend=live.backend if live else row.backend,
                    created_at=row.created_at,
                    elapsed_s=round(live.elapsed() if live else (row.elapsed_s or 0.0), 3),
                )
            )
        return summaries

    def read_output(
        self, execution_id: str, stream: StoredStream, offset: int, limit: int
    ) -> tuple[str, int, int, bool]:
        """(text, next offset, total bytes, execution ended); KeyError for an unknown id."""
        found = self.find(execution_id)
        if found is None:
            raise KeyError(execution_id)
        ended = True
        if isinstance(found, TrackedExecution):
            found.store.flush()
            ended = found.finished.is_set()
        text, next_offset, total = read_page(self.outputs_dir / execution_id / f"{stream}.txt", offset, limit)
        return text, next_offset, total, ended

    async def hook_status(self) -> tuple[str, bool, str]:
        if self.pool is not None:
            with contextlib.suppress(HandlerUnavailable):
                return await self.pool.hook_status()
        return LOCAL, False, "No handler reachable; tasks run locally, where no hooks are configured"

    async def close(self) -> None:
        """Cancel what still runs, wait for it to be recorded, and let go of connections."""
        for execution in list(self.executions.values()):
            if not execution.finished.is_set():
                await self.control(execution.id, "cancel", "The bridge is shutting down")
        if self._runners:
            await asyncio.wait(set(self._runners), timeout=self.settings.run_limits.kill_grace_s + 5)
        if self.pool is not None:
            await self.pool.close()
        self.history.close()


def _not_run(execution: TrackedExecution, status: str, error: str) -> TaskResult:
    return TaskResult(
        execution_id=execution.id,
        status=status,
        error=error,
        duration_ms=int(execution.elapsed() * 1000),
        output_truncated=False,
        output_bytes=0,
        backend=execution.backend if execution.backend != "pending" else LOCAL,
    )


def _stop_reason(execution: TrackedExecution, completion: Completion) -> str | None:
    """Why it ended; for a cancel, the bridge's own reason (a handler only knows "Canceled by the client")."""
    if completion.status == "canceled" and execution.cancel_reason:
        return execution.cancel_reason
    return completion.error


def _failure_reason(parser_message: str | None, completion: Completion, stderr_tail: str) -> str:
    if completion.exit_code == 127 and "not found" in stderr_tail:
        return f"the claude executable was not found where the task ran: {stderr_tail.strip()[-300:]}"
    if completion.exit_code is None and completion.error:  # no exit seen: the backend knows why (lost handler...)
        message = completion.error
    else:
        message = parser_message or completion.error or f"claude exited with code {completion.exit_code}"
    if stderr_tail.strip() and stderr_tail.strip()[-200:] not in message:
        message += f" (stderr: {stderr_tail.strip()[-200:]})"
    return message


def _describe(event: ClaudeEvent, execution: TrackedExecution) -> str | None:
    """One human-readable progress line per interesting stream event."""
    parser = execution.parser
    turn = parser.num_turns if parser else 0
    if isinstance(event, InitEvent):
        return f"Claude started (model {event.model or '?'}, {event.tools_count} tools)"
    if isinstance(event, ToolUseEvent):
        execution.last_tool = event.tool_name
        return f"turn {turn}: using {event.tool_name}"
    if isinstance(event, AssistantTextEvent):
        return f"turn {turn}: {' '.join(event.text.split())[:160]}"
    if isinstance(event, TurnEvent):
        return None
    if isinstance(event, ResultEvent):
        return f"finished after {event.num_turns} turns" + (" with an error" if event.is_error else "")
    return None


def _last_lines(path: Path, count: int = 20) -> list[str]:
    text, _, _ = read_page(path, max(0, _size(path) - 16 * 1024), 16 * 1024)
    return [line[:300] for line in text.rstrip("\n").split("\n")[-count:]] if text else []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
