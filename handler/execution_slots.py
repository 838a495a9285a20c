"""The handler's execution slots: at most `max_running` executions at once, the rest in a bounded FIFO queue.

Connections and executions are counted apart: a handler may hold more connections
(--max-sessions) than it runs executions (--max-running), and an execute beyond the
slots waits here, first come first served, until one frees. Draining (SIGTERM) hands
every waiting execution back (nothing of it ran) and takes no new ones.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Literal

NotRunReason = Literal["handler_full", "draining", "canceled"]


class NotRun(Exception):
    """The execution gets no slot and never starts; `reason` says why (spec: -32004's reasons)."""

    def __init__(self, reason: NotRunReason, message: str) -> None:
        super().__init__(message)
        self.reason: NotRunReason = reason
        self.message = message


class Waiting:
    """A place in the queue: awaited until a slot is handed over (or NotRun)."""

    def __init__(self, position: int) -> None:
        self.position = position  # when it joined; 1 is next
        self.joined_at = time.monotonic()
        self.granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def turn(self) -> None:
        await asyncio.shield(self.granted)


class ExecutionSlots:
    """Hands out execution slots; call `release()` once per granted slot when its execution has ended."""

    def __init__(self, max_running: int, max_queued: int) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.max_running = max_running
        self.max_queued = max_queued
        self.running = 0
        self.draining = False
        self._queue: deque[Waiting] = deque()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def position(self, waiting: Waiting) -> int | None:
        """Its place in the queue now (1 is next), or None once it left the queue."""
        try:
            return self._queue.index(waiting) + 1
        except ValueError:
            return None

    def take(self, may_queue: bool = True) -> Waiting | None:
        """None: a slot is granted now. A Waiting: queued (await its turn()). NotRun: no slot and no place."""
        if self.draining:
            raise NotRun("draining", "The handler is draining (shutting down): nothing ran; use another handler")
        if self.running < self.max_running and not self._queue:
            self._grant()
            return None
        if not may_queue:
            raise NotRun(
                "handler_full",
                f"All {self.max_running} execution slots are taken ({self.queued} waiting): nothing ran; the client "
                "asked not to queue",
            )
        if len(self._queue) >= self.max_queued:
            raise NotRun(
                "handler_full",
                f"All {self.max_running} execution slots are taken and {self.queued} executions wait already (the "
                "most the queue holds): nothing ran; try again later or another handler",
            )
        waiting = Waiting(len(self._queue) + 1)
        self._queue.append(waiting)
        return waiting

    def leave(self, waiting: Waiting) -> None:
        """A queued execution is withdrawn (canceled, or its client went away); a slot it was just given goes on."""
        if waiting in self._queue:
            self._queue.remove(waiting)
        elif waiting.granted.done() and waiting.granted.exception() is None:
            self.release()

    def release(self) -> None:
        """A granted slot is free again: it goes to the first in the queue."""
        self.running -= 1
        while self._queue and self.running < self.max_running:
            waiting = self._queue.popleft()
            self._grant()
            waiting.granted.set_result(None)
        if self.running == 0:
            self._idle.set()

    def drain(self) -> None:
        """Take nothing new; every queued execution is handed back (NotRun 'draining')."""
        self.draining = True
        while self._queue:
            self._queue.popleft().granted.set_exception(
                NotRun(
                    "draining",
                    "The handler is draining (shutting down) before this execution started: nothing "
                    "ran; use another handler",
                )
            )

    async def idle(self, timeout_s: float | None) -> bool:
        """Wait until nothing runs (True), or `timeout_s` passes (False)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def _grant(self) -> None:
        self.running += 1
        self._idle.clear()
