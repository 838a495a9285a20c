"""The bridge as an MCP server: the tools of spec/mcp, served by the SDK's low-level Server.

The low-level Server advertises the spec's schemas exactly as written; arguments
are checked against them here, so a bad call gets an isError result that names
the field. Progress from Claude's stream goes out as MCP progress notifications,
and a cancelled tools/call cancels the task's process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

from cc_executor import __version__
from cc_executor.generated.mcp.common import TaskResult, TaskSpec
from cc_executor.generated.mcp.control_execution_input import ControlExecutionInput
from cc_executor.generated.mcp.control_execution_output import ControlExecutionOutput
from cc_executor.generated.mcp.execute_task_input import ExecuteTaskInput
from cc_executor.generated.mcp.execute_task_list_input import ExecuteTaskListInput
from cc_executor.generated.mcp.execute_task_list_output import ExecuteTaskListOutput, TaskListSummary
from cc_executor.generated.mcp.get_execution_output_input import GetExecutionOutputInput
from cc_executor.generated.mcp.get_execution_output_output import GetExecutionOutputOutput
from cc_executor.generated.mcp.get_execution_status_input import GetExecutionStatusInput
from cc_executor.generated.mcp.get_execution_status_output import GetExecutionStatusOutput
from cc_executor.generated.mcp.get_hook_status_output import GetHookStatusOutput

from .executions import ExecutionManager, ProgressUpdate, TaskRequest
from .result_text import task_text
from .tool_specs import ToolSpec, load_tools

log = logging.getLogger("cc_executor.bridge")

INSTRUCTIONS = """\
cc-executor runs tasks in fresh Claude Code instances, each with a full, clean context.
Use execute_task for one task (wait=false for long ones, then get_execution_status with
wait_s to wait in bounded steps), execute_task_list for several in sequence,
control_execution to pause/resume/cancel, get_execution_output to read large output."""


PROGRESS_FLUSH_S = 1.0


class ToolFailure(Exception):
    """A tool call that cannot be done; its message goes back as an isError result."""


class ToolCall:
    """One tools/call: its context, for progress, and the bridge it acts on."""

    def __init__(self, manager: ExecutionManager, ctx: ServerRequestContext) -> None:
        self.manager = manager
        self.ctx = ctx
        self._progress: asyncio.Queue[ProgressUpdate] = asyncio.Queue(maxsize=64)

    def report(self, update: ProgressUpdate) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a slow client misses intermediate steps, not the task
            self._progress.put_nowait(update)

    @contextlib.asynccontextmanager
    async def progress(self, prefix: str = "") -> AsyncIterator[Callable[[ProgressUpdate], None]]:
        """While open, progress updates reported through the yielded callback reach the client."""

        async def forward() -> None:
            while True:
                update = await self._progress.get()
                try:
                    with contextlib.suppress(Exception):  # a client that went away must not fail the task
                        await self.ctx.session.report_progress(update.count, None, f"{prefix}{update.message}")
                finally:
                    self._progress.task_done()

        sender = asyncio.create_task(forward())
        try:
            yield self.report
            # the last updates (the final status) go out before the result does
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.join(), PROGRESS_FLUSH_S)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender


# -- the tools -----------------------------------------------------------------------


async def execute_task(call: ToolCall, args: ExecuteTaskInput) -> tuple[BaseModel, str]:
    request = _request(call.manager, TaskSpec.model_validate(args.model_dump(exclude={"wait"})))
    if args.wait is False:
        execution = call.manager.submit(request)
        result = TaskResult(
            execution_id=execution.id,
            status="running",
            backend=execution.backend,
            output_truncated=False,
            output_bytes=0,
        )
        return result, (
            f"Task {execution.id} started; follow it with get_execution_status (wait_s up to 300) and "
            "get_execution_output."
        )
    async with call.progress() as report:
        result = await call.manager.run_to_end(request, report)
    return result, task_text(result)


async def execute_task_list(call: ToolCall, args: ExecuteTaskListInput) -> tuple[BaseModel, str]:
    requests = [_request(call.manager, spec) for spec in args.tasks]  # all checked before any runs
    results: list[TaskResult] = []
    started = asyncio.get_running_loop().time()
    for index, request in enumerate(requests, start=1):
        async with call.progress(f"task {index}/{len(requests)}: ") as report:
            result = await call.manager.run_to_end(request, report)
        results.append(result)
        if args.stop_on_failure and result.status != "completed":
            break
    counts = {status: sum(1 for r in results if r.status == status) for status in ("completed", "failed")}
    summary = TaskListSummary(
        total=len(requests),
        completed=counts["completed"],
        failed=counts["failed"],
        canceled=sum(1 for r in results if r.status == "canceled"),
        timed_out=sum(1 for r in results if r.status == "timed_out"),
        skipped=len(requests) - len(results),
        duration_ms=int((asyncio.get_running_loop().time() - started) * 1000),
    )
    text = "\n\n".join(task_text(r) for r in results)
    text += (
        f"\n\nSummary: {summary.completed} of {summary.total} completed, {summary.failed} failed, "
        f"{summary.canceled} canceled, {summary.timed_out} timed out, {summary.skipped} skipped."
    )
    return ExecuteTaskListOutput(results=results, summary=summary), text


async def get_execution_status(call: ToolCall, args: GetExecutionStatusInput) -> tuple[BaseModel, str]:
    manager = call.manager
    if args.execution_id is None:
        recent = manager.recent(args.limit or 20)
        lines = [f"{s.execution_id}  {s.state:<9}  {s.elapsed_s or 0:7.1f} s  {s.task[:60]}" for s in recent]
        return GetExecutionStatusOutput(execution=None, recent=recent), "\n".join(lines) or "No executions yet."
    found = manager.find(args.execution_id)
    if found is None:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r} (never seen, or pruned from the history).")
    if args.wait_s and args.execution_id in manager.executions:
        await manager.wait(manager.executions[args.execution_id], args.wait_s)
    status = manager.status(args.execution_id)
    assert status is not None
    if status.result is not None:
        text = task_text(status.result)
    else:
        progress = status.progress
        text = (
            f"Task {status.execution_id}: {status.state} for {status.elapsed_s:.1f} s on {status.backend}; "
            f"{progress.num_turns} turns, {progress.tool_calls} tool calls"
        )
        if progress.last_text:
            text += f"\nLatest: {progress.last_text}"
    return GetExecutionStatusOutput(execution=status, recent=[]), text


async def get_execution_output(call: ToolCall, args: GetExecutionOutputInput) -> tuple[BaseModel, str]:
    stream = args.stream or "stdout"
    offset = args.offset or 0
    try:
        data, next_offset, total, ended = call.manager.read_output(
            args.execution_id, stream, offset, args.limit or 20000
        )
    except KeyError:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r}.") from None
    complete = ended and next_offset >= total
    page = GetExecutionOutputOutput(
        execution_id=args.execution_id,
        stream=stream,
        offset=offset,
        next_offset=None if complete else next_offset,
        total_bytes=total,
        data=data,
        complete=complete,
    )
    return page, data


async def control_execution(call: ToolCall, args: ControlExecutionInput) -> tuple[BaseModel, str]:
    try:
        changed, message = await call.manager.control(args.execution_id, args.action, "Canceled by control_execution")
    except KeyError:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r}.") from None
    status = call.manager.status(args.execution_id)
    assert status is not None
    output = ControlExecutionOutput(
        execution_id=args.execution_id, action=args.action, state=status.state, changed=changed, message=message
    )
    return output, message


async def get_hook_status(call: ToolCall, _args: BaseModel) -> tuple[BaseModel, str]:
    backend, enabled, message = await call.manager.hook_status()
    return GetHookStatusOutput(enabled=enabled, message=message, backend=backend), f"{message} ({backend})"


ToolFunction = Callable[[ToolCall, Any], Awaitable[tuple[BaseModel, str]]]
TOOLS: dict[str, tuple[type[BaseModel] | None, ToolFunction]] = {
    "execute_task": (ExecuteTaskInput, execute_task),
    "execute_task_list": (ExecuteTaskListInput, execute_task_list),
    "get_execution_status": (GetExecutionStatusInput, get_execution_status),
    "get_execution_output": (GetExecutionOutputInput, get_execution_output),
    "control_execution": (ControlExecutionInput, control_execution),
    "get_hook_status": (None, get_hook_status),
}


def _request(manager: ExecutionManager, spec: TaskSpec) -> TaskRequest:
    try:
        return TaskRequest.for_claude(spec, manager.settings)
    except (ValueError, TypeError) as exc:
        raise ToolFailure(f"Cannot build the claude command: {exc}") from exc


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


# -- the server --------------------------------------------------------------------------


def build_server(manager: ExecutionManager) -> Server:
    catalog: dict[str, ToolSpec] = load_tools()
    if set(catalog) != set(TOOLS):
        raise RuntimeError(f"spec/mcp/tools.yaml and the bridge disagree: {sorted(set(catalog) ^ set(TOOLS))}")

    async def list_tools(
        ctx: ServerRequestContext, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[spec.tool for spec in catalog.values()])

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = catalog.get(params.name)
        if spec is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")
        arguments = params.arguments or {}
        problems = spec.argument_errors(arguments)
        if problems:
            return error_result(f"Invalid arguments for {params.name}: " + "; ".join(problems))
        model, function = TOOLS[params.name]
        try:
            structured, text = await function(
                ToolCall(manager, ctx), model.model_validate(arguments) if model else None
            )
        except ToolFailure as exc:
            return error_result(str(exc))
        except Exception as exc:  # never a traceback to the client; the log has it
            log.exception("tool failed", extra={"event": {"tool": params.name}})
            return error_result(f"Internal error in {params.name}: {exc}")
        data = structured.model_dump(mode="json", exclude_unset=True)
        problems = spec.output_errors(data)
        if problems:  # the client would reject it; say what is wrong instead of breaking its call
            log.error("tool result does not match its outputSchema", extra={"event": {"tool": params.name}})
            return error_result(
                f"Internal error in {params.name}: its result does not match the outputSchema: " + "; ".join(problems)
            )
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=data)

    return Server(
        "cc-executor",
        version=__version__,
        title="cc-executor",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
