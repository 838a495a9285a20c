"""The bridge's MCP tools, as spec/mcp defines them: each takes its checked, typed arguments and
returns its structured content, the same facts in words, and whether the call is an error result.

A task that did not complete (failed, canceled, timed out, could not start) is an error
result that still carries its structured content: a model must not mistake it for
success, and Claude Code shows a model the text of an error result, so the text says
everything the structured content does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from cc_executor.generated.mcp.common import TaskFields, TaskResult
from cc_executor.generated.mcp.control_execution_input import ControlExecutionInput
from cc_executor.generated.mcp.control_execution_output import ControlExecutionOutput
from cc_executor.generated.mcp.execute_task_input import ExecuteTaskInput
from cc_executor.generated.mcp.execute_task_list_input import ExecuteTaskListInput
from cc_executor.generated.mcp.execute_task_list_output import ExecuteTaskListOutput
from cc_executor.generated.mcp.get_execution_output_input import GetExecutionOutputInput
from cc_executor.generated.mcp.get_execution_output_output import GetExecutionOutputOutput
from cc_executor.generated.mcp.get_execution_status_input import GetExecutionStatusInput
from cc_executor.generated.mcp.get_execution_status_output import GetExecutionStatusOutput
from cc_executor.generated.mcp.get_hook_status_output import GetHookStatusOutput, HookRunInfo, HookStageInfo
from cc_executor.generated.mcp.respond_permission_input import RespondPermissionInput
from cc_executor.generated.mcp.respond_permission_output import RespondPermissionOutput
from cc_executor.generated.mcp.wait_executions_input import WaitExecutionsInput
from cc_executor.generated.ws.requests.hook_status import HookStatusResult

from .attention import HostQuestions, until_ended_or_asked
from .client_view import ClientView
from .elicitation import Resumed
from .execution_state import ProgressListener, TrackedExecution
from .executions import TaskRequest
from .fan_out import run_list, summarize
from .output_store import StoredStream
from .permissions import asking_tasks, list_cannot_ask
from .result_text import list_text, task_text, wait_text, waiting_line
from .views import follow_hint, live_status
from .waiting import briefs, unknown

NOT_COMPLETED = ("failed", "canceled", "timed_out")
#: A wait=false reply waits this long for the task to start (or fail to), so it can say which.
SETTLE_S = 2.0
DEFAULT_PAGE_BYTES = 20_000
SHOWN_HOOK_RUNS = 10
ERROR_CHARS = 300


class ToolFailure(Exception):
    """A tool call that cannot be done; its message goes back as an error result without structured content."""


@dataclass(frozen=True)
class ToolAnswer:
    structured: BaseModel
    text: str
    is_error: bool = False


class ToolCall(Protocol):
    """What a tool gets besides its arguments: the engine as its client may see it, progress notifications to its
    caller, how to ask the caller's user about permission requests (None: it cannot be asked), and what a retried
    call (MCP 2026-07-28, after an input_required result) hands back."""

    manager: ClientView
    host: HostQuestions | None
    resumed: Resumed | None

    def progress(self, index: int = 1, of: int = 1) -> AbstractAsyncContextManager[ProgressListener]:
        """While open, the steps of the `index`-th execution of `of` reach the caller as progress."""
        ...


async def execute_task(call: ToolCall, args: ExecuteTaskInput) -> ToolAnswer:
    if call.resumed is not None and call.resumed.execution_id is not None:  # the host answered; follow on
        execution = call.manager.executions.get(call.resumed.execution_id)
        if execution is None:
            raise ToolFailure(f"The task {call.resumed.execution_id!r} this call started is no longer known.")
    else:
        request = task_request(call.manager, args)
        if args.wait is False:
            execution = call.manager.submit(request)
            await call.manager.settle(execution, SETTLE_S)
            reply = execution.result or TaskResult(
                status=execution.status,
                hint=follow_hint(execution.id, execution.status),
                execution_id=execution.id,
                backend=execution.backend,
                handler_error=execution.handler_error,
            )
            return _answer(reply)
        execution = call.manager.submit(request)
    if call.host is not None:
        call.host.resume_execution = execution.id
    async with call.progress() as report:
        unsubscribe = execution.subscribe(report)
        try:
            await follow(call, execution)
        finally:
            unsubscribe()
    return _answer(execution.result or live_status(execution))


async def follow(call: ToolCall, execution: TrackedExecution) -> None:
    """Until the execution ends, or asks for the orchestrator; a cancelled call cancels the execution (and waits
    for it)."""
    try:
        await until_ended_or_asked([execution], call.host)
    except asyncio.CancelledError:
        await asyncio.shield(call.manager.cancel_and_wait(execution, "Canceled by the MCP client"))
        raise


async def execute_task_list(call: ToolCall, args: ExecuteTaskListInput) -> ToolAnswer:
    asking = asking_tasks(args.tasks)
    if asking:
        instead = "start such tasks with execute_task and wait false, then wait_executions (it returns when one asks)"
        raise ToolFailure("Nothing ran: " + list_cannot_ask(asking, instead) + ".")
    requests = [task_request(call.manager, spec) for spec in args.tasks]  # all checked before any runs
    started = asyncio.get_running_loop().time()
    results = await run_list(
        call.manager,
        requests,
        call.progress,
        max_parallel=args.max_parallel or 1,
        stop_on_failure=bool(args.stop_on_failure),
    )
    summary = summarize(results, len(requests), asyncio.get_running_loop().time() - started)
    return ToolAnswer(
        ExecuteTaskListOutput(results=results, summary=summary),
        list_text(results, summary),
        is_error=any(r.status in NOT_COMPLETED for r in results),
    )


async def get_execution_status(call: ToolCall, args: GetExecutionStatusInput) -> ToolAnswer:
    manager = call.manager
    if args.execution_id is None:
        recent = manager.recent(args.limit or 20)
        lines = [
            f"{s.execution_id}  {s.status:<9}  {(s.duration_ms or 0) / 1000:7.1f} s  {s.task[:60]}" for s in recent
        ]
        return ToolAnswer(GetExecutionStatusOutput(recent=recent), "\n".join(lines) or "No executions yet.")
    if manager.find(args.execution_id) is None:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r} (never seen, or pruned from the history).")
    if args.wait_s and args.execution_id in manager.executions:
        await until_ended_or_asked([manager.executions[args.execution_id]], call.host, args.wait_s)
    status = manager.status(args.execution_id)
    assert status is not None
    return ToolAnswer(GetExecutionStatusOutput(execution=status), task_text(status))


async def get_execution_output(call: ToolCall, args: GetExecutionOutputInput) -> ToolAnswer:
    stream = args.stream or "stdout"
    form = args.format or "text"
    stored: StoredStream = stream
    if stream == "stdout" and form == "text" and call.manager.has_transcript(args.execution_id):
        stored = "transcript"
    offset = args.offset or 0
    try:
        data, next_offset, total, ended = call.manager.read_output(
            args.execution_id, stored, offset, args.limit or DEFAULT_PAGE_BYTES
        )
    except KeyError:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r}.") from None
    complete = ended and next_offset >= total
    page = GetExecutionOutputOutput(
        execution_id=args.execution_id,
        stream=stream,
        format=form,
        offset=offset,
        next_offset=None if complete else next_offset,
        total_bytes=total,
        data=data,
        complete=complete,
    )
    return ToolAnswer(page, data)


async def control_execution(call: ToolCall, args: ControlExecutionInput) -> ToolAnswer:
    try:
        changed, message = await call.manager.control(args.execution_id, args.action, "Canceled by control_execution")
    except KeyError:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r}.") from None
    status = call.manager.status(args.execution_id)
    assert status is not None
    output = ControlExecutionOutput(
        execution_id=args.execution_id, action=args.action, status=status.status, changed=changed, message=message
    )
    return ToolAnswer(output, f"{message} (status: {status.status})")


async def wait_executions(call: ToolCall, args: WaitExecutionsInput) -> ToolAnswer:
    ids = list(dict.fromkeys(execution_id.root for execution_id in args.execution_ids))
    missing = unknown(call.manager, ids)
    if missing:
        raise ToolFailure(f"Unknown execution_id(s) {missing!r} (never seen, or pruned from the history).")
    mode = args.mode or "all"
    live = [call.manager.executions[i] for i in ids if i in call.manager.executions]
    every = mode == "all" or len(live) == len(ids)  # "any": one from the history has ended already
    wait_s = 60.0 if args.wait_s is None else args.wait_s
    if wait_s > 0 and every:
        await until_ended_or_asked(live, call.host, wait_s, every=mode == "all")
    answer = briefs(call.manager, ids, mode)
    return ToolAnswer(answer, wait_text(answer), is_error=any(e.status in NOT_COMPLETED for e in answer.executions))


async def respond_permission(call: ToolCall, args: RespondPermissionInput) -> ToolAnswer:
    manager = call.manager
    execution = manager.executions.get(args.execution_id)
    if execution is not None and execution.permissions is None:
        raise ToolFailure(
            f"Task {args.execution_id!r} was not started with permission_prompts 'orchestrator': it asks nothing."
        )
    if execution is None or execution.finished.is_set():
        return _ended_task_answer(manager, args)
    desk = execution.permissions
    assert desk is not None
    answered = desk.answer(args.request_id, args.decision, "orchestrator", args.message, bool(args.remember))
    if not answered.answered and not any(entry.request_id == args.request_id for entry in desk.log):
        waiting = ", ".join(desk.waiting) or "none"
        raise ToolFailure(
            f"Task {args.execution_id!r} has no permission request {args.request_id!r} (waiting: {waiting})."
        )
    pending = desk.pending()
    if pending:
        ids = ", ".join(p.request_id for p in pending)
        hint = f"{len(pending)} more waiting: answer each with respond_permission (request_id {ids})."
    else:
        hint = follow_hint(execution.id, execution.status)
    output = RespondPermissionOutput(
        execution_id=execution.id,
        request_id=args.request_id,
        decision=args.decision,
        answered=answered.answered,
        status=execution.status,
        message=answered.message,
        hint=hint,
        permission_requests=pending or None,
    )
    lines = [answered.message, *(f"Still waiting: {waiting_line(p)}" for p in pending), f"Next: {hint}"]
    return ToolAnswer(output, "\n".join(lines))


def _ended_task_answer(manager: ClientView, args: RespondPermissionInput) -> ToolAnswer:
    """respond_permission for a task that has ended (here or in an earlier bridge): nothing to answer."""
    status = manager.status(args.execution_id)
    if status is None:
        raise ToolFailure(f"Unknown execution_id {args.execution_id!r} (never seen, or pruned from the history).")
    message = f"Nothing changed: the task has ended ({status.status}), and its permission requests with it."
    output = RespondPermissionOutput(
        execution_id=args.execution_id,
        request_id=args.request_id,
        decision=args.decision,
        answered=False,
        status=status.status,
        message=message,
    )
    return ToolAnswer(output, message)


async def get_hook_status(call: ToolCall, _args: BaseModel | None) -> ToolAnswer:
    backend, status = await call.manager.hook_status()
    answer = hook_view(backend, status)
    lines = [f"{answer.message} ({backend})"]
    lines += [f"  {s.stage}: {s.command} (timeout {s.timeout_s:g} s; {s.when})" for s in answer.stages or []]
    lines += [f"  ran {r.stage} for {r.execution_id}: {r.status}" for r in answer.last_runs or []]
    return ToolAnswer(answer, "\n".join(lines))


def hook_view(backend: str, status: HookStatusResult) -> GetHookStatusOutput:
    """A handler's (or the bridge's) hook status as the model gets it: the last few runs, short errors."""
    stages = [
        HookStageInfo(stage=s.stage, command=s.command, timeout_s=s.timeout_s, optional=s.optional, when=s.when)
        for s in status.stages or []
    ]
    runs = [
        HookRunInfo(
            stage=run.stage,
            status=run.status,
            command=run.command,
            execution_id=run.execution_id,
            exit_code=run.exit_code,
            duration_s=run.duration_s,
            error=run.error[:ERROR_CHARS] if run.error else None,
            ended_at=run.ended_at,
        )
        for run in (status.last_runs or [])[-SHOWN_HOOK_RUNS:]
    ]
    return GetHookStatusOutput(
        enabled=status.enabled,
        message=status.message,
        backend=backend,
        config_path=status.config_path,
        stages=stages or None,
        last_runs=runs or None,
    )


ToolFunction = Callable[[Any, Any], Awaitable[ToolAnswer]]
TOOLS: dict[str, tuple[type[BaseModel] | None, ToolFunction]] = {
    "execute_task": (ExecuteTaskInput, execute_task),
    "execute_task_list": (ExecuteTaskListInput, execute_task_list),
    "get_execution_status": (GetExecutionStatusInput, get_execution_status),
    "get_execution_output": (GetExecutionOutputInput, get_execution_output),
    "control_execution": (ControlExecutionInput, control_execution),
    "wait_executions": (WaitExecutionsInput, wait_executions),
    "respond_permission": (RespondPermissionInput, respond_permission),
    "get_hook_status": (None, get_hook_status),
}


def task_request(manager: ClientView, spec: TaskFields) -> TaskRequest:
    try:
        return TaskRequest.for_claude(spec, manager.settings)
    except ValueError as exc:
        raise ToolFailure(f"Cannot build the claude command: {exc}") from exc


def _answer(result: TaskResult) -> ToolAnswer:
    return ToolAnswer(result, task_text(result), is_error=result.status in NOT_COMPLETED)
