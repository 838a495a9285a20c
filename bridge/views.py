"""An execution as get_execution_status shows it: the TaskResult once it has ended, its progress before.

A poll of a running execution stays under STATUS_CHARS of JSON, so a model can poll
often: no raw output, only counts, the latest steps in words, and what to do next.
"""

from __future__ import annotations

from cc_executor.generated.mcp.common import ExecutionSummary, PendingPermission, TaskResult

from .execution_state import TrackedExecution
from .history import HistoryRow
from .outcome import listed_denials

TASK_CHARS = 200
SUMMARY_TASK_CHARS = 100
STATUS_CHARS = 1500
WAIT_HINT = "wait_s (up to 300)"


def live_status(execution: TrackedExecution) -> TaskResult:
    """Where a running execution stands, or its result (with its task) once it has ended."""
    task = execution.request.task[:TASK_CHARS]
    if execution.result is not None:
        return execution.result.model_copy(update={"task": task})
    parser = execution.parser
    desk = execution.permissions
    pending = desk.pending() if desk else []
    status = TaskResult(
        status=execution.status,
        hint=permission_hint(execution.id, pending) if pending else follow_hint(execution.id, execution.status),
        execution_id=execution.id,
        task=task,
        num_turns=parser.num_turns if parser else None,
        tool_calls=parser.tool_calls if parser else None,
        activity=execution.store.activity or None,
        permission_denials=listed_denials(parser.permission_denials) if parser else None,
        permission_requests=pending or None,
        permission_log=desk.listed_log() if desk else None,
        api_retries=(parser.api_retries or None) if parser else None,
        duration_ms=int(execution.elapsed() * 1000),
        backend=execution.backend,
        handler_error=execution.handler_error,
    )
    return _fit(status)


def stored_status(row: HistoryRow) -> TaskResult:
    """An execution of an earlier bridge (or one this bridge ran), from the history."""
    task = row.task[:TASK_CHARS]
    if row.result is not None:
        return row.result.model_copy(update={"task": task})
    return TaskResult(
        status=row.status,
        execution_id=row.execution_id,
        task=task,
        duration_ms=int((row.elapsed_s or 0.0) * 1000),
        backend=row.backend,
    )


def summary(row: HistoryRow, live: TrackedExecution | None) -> ExecutionSummary:
    elapsed = live.elapsed() if live else (row.elapsed_s or 0.0)
    result = live.result if live else row.result
    return ExecutionSummary(
        session_id=result.session_id if result else None,
        execution_id=row.execution_id,
        status=live.status if live else row.status,
        task=row.task[:SUMMARY_TASK_CHARS],
        backend=live.backend if live else row.backend,
        created_at=row.created_at,
        duration_ms=int(elapsed * 1000),
    )


def follow_hint(execution_id: str, status: str) -> str:
    """What to call next for an execution that has not ended."""
    poll = f"call get_execution_status with execution_id '{execution_id}' and {WAIT_HINT} until the status is final"
    if status == "queued":
        return f"Queued: it waits for a free slot (the bridge's --max-concurrent); {poll}."
    if status == "paused":
        return f"Paused: control_execution with action 'resume' continues it; then {poll}."
    return f"Still running: {poll}; get_execution_output shows every step so far."


def permission_hint(execution_id: str, pending: list[PendingPermission]) -> str:
    """What to do about permission requests that wait for the orchestrator."""
    asks = "; ".join(f"{p.request_id}: {p.tool} {p.input or ''}".strip() for p in pending[:3])
    more = f" (and {len(pending) - 3} more)" if len(pending) > 3 else ""
    one = len(pending) == 1
    return (
        f"Claude waits for your permission ({asks}{more}): call respond_permission with execution_id "
        f"'{execution_id}', request_id and decision 'allow' or 'deny' (remember true: the same answer for that tool "
        f"from now on). Unanswered, {'it is' if one else 'each is'} denied when its timeout_s runs out."
    )


def _fit(status: TaskResult) -> TaskResult:
    """Drop the oldest permission answers, then the oldest steps, then all but the first denial, until the poll
    fits in STATUS_CHARS (waiting permission requests always stay: someone must answer them)."""
    log = list(status.permission_log or [])
    activity = list(status.activity or [])
    denials = list(status.permission_denials or [])
    while len(status.model_dump_json(exclude_none=True)) > STATUS_CHARS and (log or activity or len(denials) > 1):
        if log:
            log.pop(0)
        elif activity:
            activity.pop(0)
        else:
            denials.pop()
        update = {"permission_log": log or None, "activity": activity or None, "permission_denials": denials or None}
        status = status.model_copy(update=update)
    return status
