"""A TaskResult in words: the MCP text content and the terminal (kept free of the MCP SDK: it loads slowly).

The text carries the same facts as the structured content, for hosts that show text, and
for Claude Code, which gives the model the text of an error result (isError) instead of
its structured content: a failed task must read as well as a successful one.
"""

from __future__ import annotations

import json

from cc_executor.generated.mcp.common import PendingPermission, PermissionLogEntry, TaskResult
from cc_executor.generated.mcp.execute_task_list_output import TaskListSummary
from cc_executor.generated.mcp.wait_executions_output import WaitExecutionsOutput


def task_text(result: TaskResult) -> str:
    """The result's facts in words: a headline, the error, the answer, then what to do next."""
    lines = [_headline(result)]
    if result.task:
        lines.append(f"Task: {result.task}")
    if result.error:
        lines.append(f"Error: {result.error}")
    if result.handler_error:
        lines.append(f"Handler not used: {result.handler_error}")
    if result.permission_denials:
        denied = "; ".join(d.tool + (f" {d.input}" if d.input else "") for d in result.permission_denials)
        lines.append(f"Denied tool calls: {denied}")
    if result.permission_requests:
        lines.append("Waiting for your permission:")
        lines += [f"  {waiting_line(request)}" for request in result.permission_requests]
    if result.permission_log:
        lines.append("Permission requests answered:")
        lines += [f"  {log_line(entry)}" for entry in result.permission_log]
    if result.activity:
        lines += ["Latest steps:", *(f"  {step}" for step in result.activity)]
    if result.hint:
        lines.append(f"Next: {result.hint}")
    if result.output_truncated:
        lines.append("Stored output hit the bridge's cap (--max-output-bytes); later output was dropped.")
    if result.structured_output is not None:
        lines += ["Structured output:", json.dumps(result.structured_output, ensure_ascii=False)]
    if result.result is not None:
        shown = (
            f" (the first {len(result.result):,} of {result.result_chars:,} characters)" if result.result_chars else ""
        )
        lines += [f"Answer{shown}:", result.result]
    return "\n".join(lines)


def list_text(results: list[TaskResult], summary: TaskListSummary) -> str:
    parts = [task_text(result) for result in results]
    parts.append(
        f"Summary: {summary.completed} of {summary.total} completed, {summary.failed} failed, "
        f"{summary.canceled} canceled, {summary.timed_out} timed out, {summary.skipped} skipped."
    )
    return "\n\n".join(parts)


def wait_text(answer: WaitExecutionsOutput) -> str:
    """One line per execution, then what to do next."""
    lines = []
    for entry in answer.executions:
        line = f"{entry.execution_id}: {entry.status}"
        if entry.duration_ms is not None:
            line += f" ({entry.duration_ms / 1000:.1f} s)"
        if entry.session_id:
            line += f", session {entry.session_id}"
        if entry.error:
            line += f"; error: {entry.error}"
        if entry.result is not None:
            line += f"; answer: {entry.result}"
        lines.append(line)
        lines += [
            f"  waiting for your permission: {waiting_line(request)}" for request in entry.permission_requests or []
        ]
    lines.append(f"{'Done' if answer.done else 'Not done'}: {answer.pending} not ended.")
    if answer.hint:
        lines.append(f"Next: {answer.hint}")
    return "\n".join(lines)


def waiting_line(request: PendingPermission) -> str:
    """e.g. "p1: Write /src/a.py (waited 12.0 s; denied in 288.0 s unless answered)"."""
    what = f"{request.request_id}: {request.tool} {request.input or ''}".strip()
    left = f"; denied in {request.timeout_s:g} s unless answered" if request.timeout_s is not None else ""
    return f"{what} (waited {request.waited_s:g} s{left})"


def log_line(entry: PermissionLogEntry) -> str:
    """e.g. "p2: Bash git push denied by rule Bash(git push:*) after 0 s"."""
    what = f"{entry.request_id}: {entry.tool} {entry.input or ''}".strip()
    by = f"rule {entry.rule}" if entry.rule else entry.answered_by.replace("_", " ")
    said = f" ({entry.message})" if entry.message else ""
    waited = f" after {entry.waited_s:g} s" if entry.waited_s is not None else ""
    verdict = "allowed" if entry.decision == "allow" else "denied"
    return f"{what} {verdict} by {by}{waited}{said}"


def _headline(result: TaskResult) -> str:
    """e.g. "Task 9b2f… completed on local in 4.2 s: 2 turns, $0.0007, 240 input and 24 output tokens"."""
    where = "nowhere (nothing ran)" if result.backend == "none" else result.backend
    head = f"Task {result.execution_id} {result.status} on {where}"
    if result.duration_ms is not None:
        head += f" {'in' if result.status not in ('queued', 'running', 'paused') else 'for'} "
        head += f"{result.duration_ms / 1000:.1f} s"
    facts = []
    if result.num_turns is not None:
        facts.append(f"{result.num_turns} turn" + ("" if result.num_turns == 1 else "s"))
    if result.tool_calls is not None:
        facts.append(f"{result.tool_calls} tool call" + ("" if result.tool_calls == 1 else "s"))
    if result.api_retries:
        facts.append(f"{result.api_retries} API retr" + ("y" if result.api_retries == 1 else "ies"))
    if result.total_cost_usd is not None:
        facts.append(f"${result.total_cost_usd:.4f}")
    if result.input_tokens is not None or result.output_tokens is not None:
        facts.append(f"{result.input_tokens or 0} input and {result.output_tokens or 0} output tokens")
    if result.exit_code not in (None, 0):
        facts.append(f"exit code {result.exit_code}")
    if result.session_id:
        facts.append(f"session {result.session_id}")
    return head + (": " + ", ".join(facts) if facts else "")
