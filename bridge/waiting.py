"""Waiting for several executions at once (wait_executions): until all have ended, or one has, or one asks for
permission (bridge/attention.py), or time is up.

The answer is short on purpose, one line per execution (its status and the start of its
answer or error), so a model can wait for many tasks in one call; get_execution_status
has one execution's whole result.
"""

from __future__ import annotations

import json

from cc_executor.generated.mcp.common import TaskResult
from cc_executor.generated.mcp.wait_executions_output import ExecutionBrief, WaitExecutionsOutput

from .client_view import ClientView

BRIEF_CHARS = 300
FINAL = ("completed", "failed", "canceled", "timed_out")


def briefs(manager: ClientView, execution_ids: list[str], mode: str) -> WaitExecutionsOutput:
    """Where each execution stands now (every id must be known: see `unknown`)."""
    statuses = [manager.status(execution_id) for execution_id in execution_ids]
    entries = [brief(status) for status in statuses if status is not None]
    pending = [entry.execution_id for entry in entries if entry.status not in FINAL]
    done = not pending if mode == "all" else len(pending) < len(entries)
    hint = None
    asking = [entry.execution_id for entry in entries if entry.permission_requests]
    if asking:
        hint = (
            f"Claude waits for your permission in {asking!r}: answer each request with respond_permission "
            "(execution_id, request_id, decision), then wait again."
        )
    elif pending:
        again = f"call wait_executions again with execution_ids {pending!r}"
        hint = f"{len(pending)} not ended yet: {again}." if not done else f"{len(pending)} still running ({again})."
    elif any(entry.result_truncated for entry in entries):
        hint = "get_execution_status with an execution_id has its whole result."
    return WaitExecutionsOutput(executions=entries, done=done, pending=len(pending), hint=hint)


def unknown(manager: ClientView, execution_ids: list[str]) -> list[str]:
    return [execution_id for execution_id in execution_ids if manager.find(execution_id) is None]


def brief(result: TaskResult) -> ExecutionBrief:
    """One execution in a few words."""
    answer = result.result
    if result.structured_output is not None:
        answer = json.dumps(result.structured_output, ensure_ascii=False, separators=(",", ":"))
    cut = answer is not None and len(answer) > BRIEF_CHARS
    return ExecutionBrief(
        execution_id=result.execution_id,
        status=result.status,
        result=answer[: BRIEF_CHARS - 1] + "…" if answer is not None and cut else answer,
        result_truncated=True if cut or result.result_truncated else None,
        error=result.error[:BRIEF_CHARS] if result.error else None,
        session_id=result.session_id,
        duration_ms=result.duration_ms,
        permission_requests=result.permission_requests,
    )
