"""One execution while this bridge runs it: its status, its output, what Claude has done, who listens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.mcp.common import TaskResult
from cc_executor.handler.execution_types import StreamName

from .backends import Execution
from .claude_stream import ApiRetryEvent, ClaudeEvent, ClaudeStreamParser, TurnEvent
from .output_store import OutputStore
from .permissions import PermissionDesk
from .task_request import TaskRequest
from .transcript import step

Status = Literal["queued", "running", "paused", "completed", "failed", "canceled", "timed_out"]
COMMAND_LINE_CHARS = 200


@dataclass(frozen=True)
class ProgressUpdate:
    count: int  # grows with every step of this execution
    message: str


ProgressListener = Callable[[ProgressUpdate], None]


class TrackedExecution:
    """One execution: the engine drives it; tools and the terminal read it and listen to its steps."""

    def __init__(self, execution_id: str, request: TaskRequest, store: OutputStore, client: str | None = None) -> None:
        self.id = execution_id
        self.request = request
        self.store = store
        self.client = client  # the MCP session that started it, on a bridge serving several
        self.created_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.ended: float | None = None
        self.status: Status = "queued"
        self.backend = "pending"
        self.handler_error: str | None = None  # why a named handler did not run it (then it ran locally)
        self.has_slot = False  # holds one of the bridge's --max-concurrent slots (it may still wait for a handler)
        self.cancel_requested = asyncio.Event()  # set with cancel_reason: a wait for a free handler ends
        self.lost_handler: str | None = None  # the handler that was lost while it ran (it was not run again)
        self.handle: Execution | None = None
        self.settled = asyncio.Event()  # set once the process started (handle set) or the execution ended
        self.finished = asyncio.Event()
        self.result: TaskResult | None = None
        self.cancel_reason: str | None = None
        self.parser = ClaudeStreamParser() if request.claude else None
        self.turn = 0  # the turn Claude's latest step belongs to
        self.output_listeners: list[Callable[[StreamName, str], None]] = []
        #: its Claude's permission requests, when they are relayed (permission_prompts 'orchestrator')
        self.permissions = (
            PermissionDesk(request.permissions, request.cwd, self.take_note) if request.permissions else None
        )
        self._listeners: list[ProgressListener] = []
        self._steps = 0
        self._last_sent_at = float("-inf")
        self._pending: ProgressUpdate | None = None
        self._flush: asyncio.TimerHandle | None = None

    def restart(self, note: str) -> None:
        """It runs again from the start (its handler was lost): what Claude says is read afresh."""
        if self.request.claude:  # Claude tasks keep a transcript
            self.store.note(note)
        self.store.remember(note)
        self.handle = None
        self.parser = ClaudeStreamParser() if self.request.claude else None
        self.turn = 0

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    # -- what happened -----------------------------------------------------------------

    def take_stdout(self, text: str, interval_s: float) -> None:
        """Claude's stream-json (or a command's output) as it arrives: recorded, and announced step by step."""
        if self.parser is None:
            for line in text.splitlines():
                if line.strip():
                    self.store.remember(line[:COMMAND_LINE_CHARS])
                    self.announce(line[:COMMAND_LINE_CHARS], interval_s)
            return
        for event in self.parser.feed(text):
            self.take_event(event, interval_s)

    def take_event(self, event: ClaudeEvent, interval_s: float) -> None:
        if isinstance(event, TurnEvent):
            self.turn = event.num_turns
            return
        turn = self.turn + 1 if isinstance(event, ApiRetryEvent) else max(self.turn, 1)
        short = step(event, turn)
        if short is None:
            return
        self.store.note(step(event, turn, width=None) or short)
        self.store.remember(short)
        self.announce(short, interval_s)

    def take_hook(self, run: HookRun, interval_s: float) -> None:
        """A hook of the hooks file ran for this execution (here or in the handler): a step like any other."""
        outcome = run.status.replace("_", " ") + (f" ({run.error})" if run.error else "")
        self.take_note(f"hook {run.stage} `{run.command}`: {outcome}", interval_s)

    def take_note(self, line: str, interval_s: float = 0.0) -> None:
        """A step of the bridge's own (a hook ran, a permission request came or was answered): in the transcript,
        the activity and progress (at once, unless an interval is given)."""
        self.store.note(line)
        short = " ".join(line.split())[:COMMAND_LINE_CHARS]
        self.store.remember(short)
        self.announce(short, interval_s, force=not interval_s)

    # -- who listens -------------------------------------------------------------------

    def subscribe(self, listener: ProgressListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def announce(self, message: str, interval_s: float, force: bool = False) -> None:
        """Tell listeners, at most once per interval; a step held back goes out when the interval
        ends unless a newer one came (the latest wins, so a long tool call is never hidden)."""
        self._steps += 1
        update = ProgressUpdate(self._steps, message)
        wait = self._last_sent_at + interval_s - time.monotonic()
        if force or wait <= 0:
            self._pending = None
            if self._flush is not None:
                self._flush.cancel()
                self._flush = None
            self._send(update)
            return
        self._pending = update
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(wait, self._send_pending)

    def _send_pending(self) -> None:
        self._flush = None
        update, self._pending = self._pending, None
        if update is not None:
            self._send(update)

    def _send(self, update: ProgressUpdate) -> None:
        self._last_sent_at = time.monotonic()
        for listener in list(self._listeners):
            listener(update)
