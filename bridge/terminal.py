"""`cc-executor run`: one task, or a task-list file, through the bridge's engine, with live progress on the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from rich.console import Console
from rich.text import Text

from cc_executor.generated.mcp.common import TaskResult, TaskSpec
from cc_executor.generated.mcp.execute_task_list_output import ExecuteTaskListOutput
from cc_executor.handler.launcher import watch_children_with_pidfds
from cc_executor.terminal_text import literal, visible

from .client_view import ClientView
from .execution_state import ProgressListener
from .executions import BridgeSettings, ExecutionManager, ProgressUpdate, TaskRequest
from .fan_out import run_list, summarize
from .permissions import asking_tasks, list_cannot_ask
from .result_text import list_text, task_text


async def run_in_terminal(
    settings: BridgeSettings, task: str | None, command: str | None, options: dict[str, Any], json_output: bool
) -> int:
    """Exit status: 0 when the task completed; a plain command's own exit code; 1 otherwise (130 on Ctrl-C)."""
    status = Console(stderr=True)
    try:
        if command is not None:
            request = TaskRequest.for_command(command, settings, cwd=options.get("cwd"))
        else:
            spec = TaskSpec.model_validate({"task": task, **{k: v for k, v in options.items() if v is not None}})
            request = TaskRequest.for_claude(spec, settings)
    except (ValueError, TypeError) as exc:
        status.print(Text.assemble(("cc-executor: error: ", "red"), literal(str(exc))))
        return 2
    watch_children_with_pidfds()
    manager = ExecutionManager(settings)
    manager.recover_abandoned()
    interrupted = False
    try:
        execution = manager.submit(request)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if command is not None and not json_output:
            execution.output_listeners.append(_echo)
        with status.status(literal(f"starting: {request.task[:80]}"), spinner="dots") as spinner:

            def show(update: ProgressUpdate) -> None:
                spinner.update(literal(f"[{execution.elapsed():5.1f} s] {update.message}"))

            execution.subscribe(show)
            follow = asyncio.create_task(manager.follow(execution))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({follow, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not follow.done():
                interrupted = True
                spinner.update("canceling: ending the task's process group")
                await manager.control(execution.id, "cancel", "Interrupted at the terminal")
            result: TaskResult = await follow
            stopping.cancel()
    finally:
        await manager.close()
    if json_output:
        print(json.dumps(result.model_dump(mode="json", exclude_unset=True), indent=2))
    elif command is not None:
        colour = "green" if result.status == "completed" else "red"
        facts = (
            f" exit {result.exit_code} in {result.duration_ms} ms (backend: {result.backend}, id {result.execution_id})"
        )
        status.print(
            Text.assemble((result.status, colour), literal(facts + (f": {result.error}" if result.error else "")))
        )
    else:
        print(visible(task_text(result)))
    if interrupted:
        return 130
    if command is not None and result.exit_code is not None and result.exit_code >= 0:
        return result.exit_code
    return 0 if result.status == "completed" else 1


def _echo(stream: str, text: str) -> None:
    target = sys.stdout if stream == "stdout" else sys.stderr
    target.write(visible(text))
    with contextlib.suppress(OSError):
        target.flush()


async def run_list_in_terminal(
    settings: BridgeSettings, specs: list[TaskSpec], max_parallel: int, stop_on_failure: bool, json_output: bool
) -> int:
    """Exit status: 0 when every task completed; 1 otherwise (130 on Ctrl-C, after the running tasks are canceled)."""
    status = Console(stderr=True)
    try:
        asking = asking_tasks(specs)
        if asking:
            raise ValueError(list_cannot_ask(asking, "run them through the MCP bridge (execute_task)"))
        requests = [TaskRequest.for_claude(spec, settings) for spec in specs]
    except ValueError as exc:
        status.print(Text.assemble(("cc-executor: error: ", "red"), literal(str(exc))))
        return 2
    watch_children_with_pidfds()
    manager = ExecutionManager(settings)
    manager.recover_abandoned()
    started = time.monotonic()
    try:
        with status.status(literal(f"starting {len(requests)} tasks"), spinner="dots") as spinner:

            @contextlib.asynccontextmanager
            async def progress(index: int, of: int) -> AsyncIterator[ProgressListener]:
                def show(update: ProgressUpdate) -> None:
                    spinner.update(
                        literal(f"[{time.monotonic() - started:5.1f} s] task {index}/{of} · {update.message}")
                    )

                yield show

            work = asyncio.create_task(
                run_list(
                    ClientView(manager, None),
                    requests,
                    progress,
                    max_parallel=max_parallel,
                    stop_on_failure=stop_on_failure,
                )
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not work.done():
                spinner.update("canceling: ending the tasks' process groups")
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                return 130
            results: list[TaskResult] = work.result()
    finally:
        await manager.close()
    summary = summarize(results, len(requests), time.monotonic() - started)
    if json_output:
        output = ExecuteTaskListOutput(results=results, summary=summary)
        print(json.dumps(output.model_dump(mode="json", exclude_none=True), indent=2))
    else:
        print(visible(list_text(results, summary)))
    return 0 if summary.completed == summary.total else 1
