"""A list of tasks, run one after another or several at once (fan-out); the results in list order.

Tasks start in list order, at most `max_parallel` at a time (the bridge's --max-concurrent
still bounds what runs at once over all calls). With `stop_on_failure`, once a task does
not complete no further task starts; those already running are let finish. Used by
execute_task_list and `cc-executor run --task-list`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from cc_executor.generated.mcp.common import TaskResult
from cc_executor.generated.mcp.execute_task_list_output import TaskListSummary

from .client_view import ClientView
from .execution_state import ProgressListener
from .task_request import TaskRequest

#: Progress for the `index`-th task of `of` (1-based), open while it runs.
ListProgress = Callable[[int, int], AbstractAsyncContextManager[ProgressListener]]


async def run_list(
    manager: ClientView,
    requests: list[TaskRequest],
    progress: ListProgress,
    *,
    max_parallel: int = 1,
    stop_on_failure: bool = False,
) -> list[TaskResult]:
    """The results of the tasks that ran, in list order; if the caller is cancelled, every running task is
    canceled too (and awaited)."""
    results: list[TaskResult | None] = [None] * len(requests)
    gate = asyncio.Semaphore(max_parallel)  # first come, first served: tasks start in list order
    stopped = False

    async def one(index: int, request: TaskRequest) -> None:
        nonlocal stopped
        async with gate:
            if stopped:
                return
            async with progress(index + 1, len(requests)) as report:
                result = await manager.run_to_end(request, report)
            results[index] = result
            if stop_on_failure and result.status != "completed":
                stopped = True

    async with asyncio.TaskGroup() as group:
        for index, request in enumerate(requests):
            group.create_task(one(index, request), name=f"task {index + 1} of {len(requests)}")
    return [result for result in results if result is not None]


def summarize(results: list[TaskResult], total: int, duration_s: float) -> TaskListSummary:
    def count(status: str) -> int:
        return sum(1 for result in results if result.status == status)

    return TaskListSummary(
        total=total,
        completed=count("completed"),
        failed=count("failed"),
        canceled=count("canceled"),
        timed_out=count("timed_out"),
        skipped=total - len(results),
        duration_ms=int(duration_s * 1000),
    )
