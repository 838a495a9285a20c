"""Tool calls that wait on executions stop waiting when Claude asks something only the orchestrator can answer.

A permission request of a task (permission_prompts 'orchestrator') that no rule answered
waits for someone. A tool call waiting on that task (execute_task, get_execution_status
with wait_s, wait_executions) first lets the MCP host's user be asked, where the host can
be (bridge/elicitation.py), and returns as soon as a request waits that nobody is being
asked about: the model must answer it with respond_permission, and cannot while its call
still waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Protocol

from .execution_state import TrackedExecution
from .permissions import PermissionRequest


class HostQuestions(Protocol):
    """Asks the MCP host's user about permission requests (elicitation), for one tool call."""

    resume_execution: str | None  # the task an execute_task call follows (a retried call follows it on)

    def ask(self, execution: TrackedExecution, requests: list[PermissionRequest]) -> None:
        """Ask about `requests` (each is marked asked); may raise to end the tool call with the question."""
        ...


async def until_asked(executions: Sequence[TrackedExecution], host: HostQuestions | None) -> None:
    """Returns once a permission request of one of the executions waits for the orchestrator (the host, where it
    can be asked, was asked first); never for executions whose permission prompts are not relayed."""
    while True:
        desks = [
            (execution, execution.permissions)
            for execution in executions
            if execution.permissions is not None and not execution.finished.is_set()
        ]
        if not desks:
            await asyncio.Event().wait()  # nothing here can ask: the caller's other waits decide
        changes = [desk.next_change() for _, desk in desks]
        for execution, desk in desks:
            unasked = desk.unasked()
            if unasked and host is not None:
                host.ask(execution, unasked)
        if any(desk.needs_orchestrator() for _, desk in desks):
            return
        await first_of([change.wait() for change in changes])


async def first_of(waits: Sequence[Awaitable[object]], timeout_s: float | None = None) -> None:
    """Returns when the first of `waits` is done (its exception raised) or `timeout_s` passed; the others are
    cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()


async def until_ended_or_asked(
    executions: Sequence[TrackedExecution],
    host: HostQuestions | None,
    timeout_s: float | None = None,
    *,
    every: bool = True,
) -> None:
    """Wait until every execution (or, not `every`, one) has ended, one asks for the orchestrator, or time is up."""
    live = [execution for execution in executions if not execution.finished.is_set()]
    if not live or (not every and len(live) < len(executions)):
        return
    waits: list[Awaitable[object]] = [_all_ended(live)] if every else [execution.finished.wait() for execution in live]
    await first_of([*waits, until_asked(live, host)], timeout_s)


async def _all_ended(executions: Sequence[TrackedExecution]) -> None:
    for execution in executions:
        await execution.finished.wait()
