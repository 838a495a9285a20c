"""How a task ended, told for a model: status, the answer, what went wrong, what to do next, a few numbers.

The execution engine hands over the process's completion and, for Claude tasks, the
stream parser's outcome; this module alone decides what they mean (completed or not,
why, the hint) and which facts the TaskResult carries. Nothing raw from the CLI goes
out: its usage block becomes two token counts, its denials a short list.
"""

from __future__ import annotations

from typing import Any

from cc_executor.generated.mcp.common import PermissionDenial, TaskResult
from cc_executor.handler.execution_types import Completion

from .claude_stream import ClaudeOutcome, Denial
from .execution_state import Status, TrackedExecution
from .transcript import api_trouble

#: Longest answer given inline; the rest is read with get_execution_output.
RESULT_CHARS = 20_000
#: Denials listed in a result (the hint counts them all).
LISTED_DENIALS = 10
NOTHING_RAN = "none"
NO_STRUCTURED_OUTPUT = (
    "Claude Code finished without the structured output json_schema asks for (its answer is not JSON of that schema)"
)
UNKNOWN_SESSION = "No conversation found with session ID"


def claude_result(execution: TrackedExecution, completion: Completion) -> TaskResult:
    """A Claude task's result, from its exit and its stream."""
    assert execution.parser is not None
    outcome = execution.parser.finish(completion.exit_code)
    answer = outcome.result or ""
    status: Status
    if completion.status in ("canceled", "timed_out"):
        status, error = completion.status, _stop_reason(execution, completion)
        if status == "timed_out" and outcome.api_retries:
            error = f"{error}. {retries_note(outcome)}"
    elif outcome.ok and completion.exit_code in (0, None):
        status, error = "completed", None
        if execution.request.wants_structured_output and not outcome.has_structured_output:
            status, error = "failed", NO_STRUCTURED_OUTPUT
    else:
        status, error = "failed", _failure_reason(outcome, completion, execution.store.stderr_tail)
    structured = outcome.has_structured_output and outcome.ok
    shown = answer[:RESULT_CHARS] if outcome.ok and answer and not structured else None
    truncated = shown is not None and len(answer) > len(shown)
    if answer and shown != answer:  # an answer the result shows whole is paged from the result (see read_output)
        execution.store.set_result(answer)
    desk = execution.permissions
    hints = [
        _paging_hint(execution.id, answer, shown) if shown is not None and truncated else None,
        _relayed_denials_hint(outcome.permission_denials) if desk else _denials_hint(outcome.permission_denials),
        _failure_hint(status, outcome, error),
        _lost_hint(execution),
    ]
    return TaskResult(
        status=status,
        result=shown,
        structured_output=outcome.structured_output if structured else None,
        result_truncated=True if truncated else None,
        result_chars=len(answer) if truncated else None,
        error=error,
        hint=" ".join(hint for hint in hints if hint) or None,
        execution_id=execution.id,
        session_id=outcome.session_id,
        num_turns=outcome.num_turns or None,
        permission_denials=listed_denials(outcome.permission_denials),
        permission_log=desk.listed_log() if desk else None,
        api_retries=outcome.api_retries or None,
        total_cost_usd=round(outcome.total_cost_usd, 6) if outcome.total_cost_usd else None,  # no float noise
        **_tokens(outcome.usage),
        duration_ms=int(execution.elapsed() * 1000),
        exit_code=completion.exit_code,
        output_truncated=True if execution.store.truncated else None,
        backend=execution.backend,
        handler_error=execution.handler_error,
    )


def command_result(execution: TrackedExecution, completion: Completion) -> TaskResult:
    """A plain command's result (`cc-executor run --command`): its exit status is the verdict."""
    error = _stop_reason(execution, completion) or (
        f"exit code {completion.exit_code}" if completion.status == "failed" else None
    )
    return TaskResult(
        status=completion.status,
        error=error,
        execution_id=execution.id,
        duration_ms=int(execution.elapsed() * 1000),
        exit_code=completion.exit_code,
        output_truncated=True if execution.store.truncated else None,
        backend=execution.backend,
        handler_error=execution.handler_error,
        hint=_lost_hint(execution),
    )


def not_run(
    execution: TrackedExecution, status: Status, error: str, hint: str | None = None, backend: str = NOTHING_RAN
) -> TaskResult:
    """The result of a task that did not start: canceled while queued, or it could not start (`backend`: the
    handler that was lost while starting it, where it may have run; else none)."""
    return TaskResult(
        status=status,
        error=error,
        hint=hint,
        execution_id=execution.id,
        duration_ms=int(execution.elapsed() * 1000),
        backend=backend,
        handler_error=execution.handler_error,
    )


def listed_denials(denials: tuple[Denial, ...]) -> list[PermissionDenial] | None:
    """The distinct denials, at most LISTED_DENIALS of them."""
    distinct = list(dict.fromkeys(denials))[:LISTED_DENIALS]
    return [PermissionDenial(tool=d.tool_name, input=d.input_summary or None) for d in distinct] or None


def retries_note(outcome: ClaudeOutcome) -> str:
    """e.g. "The Claude CLI had retried the Claude API 3 times; the last error: overloaded (529)"."""
    last = f"; the last error: {api_trouble(outcome.last_api_retry)}" if outcome.last_api_retry else ""
    times = "once" if outcome.api_retries == 1 else f"{outcome.api_retries} times"
    return f"The Claude CLI had retried the Claude API {times}{last}"


# -- what went wrong -------------------------------------------------------------------


def _stop_reason(execution: TrackedExecution, completion: Completion) -> str | None:
    """Why it ended; for a cancel, the bridge's own reason (a handler only knows "Canceled by the client")."""
    if completion.status == "canceled" and execution.cancel_reason:
        return execution.cancel_reason
    return completion.error


def _failure_reason(outcome: ClaudeOutcome, completion: Completion, stderr_tail: str) -> str:
    if completion.exit_code == 127 and "not found" in stderr_tail:
        return f"the claude executable was not found where the task ran: {stderr_tail.strip()[-300:]}"
    if completion.exit_code is None and completion.error:  # no exit seen: the backend knows why (lost handler...)
        message = completion.error
    else:
        message = outcome.error_message or completion.error or f"claude exited with code {completion.exit_code}"
    if stderr_tail.strip() and stderr_tail.strip()[-200:] not in message:
        message += f" (stderr: {stderr_tail.strip()[-200:]})"
    if outcome.api_retries:
        message += f". {retries_note(outcome)}"
    return message


# -- what to do next -------------------------------------------------------------------


def _paging_hint(execution_id: str, answer: str, shown: str) -> str:
    return (
        f"The answer has {len(answer):,} characters; result holds the first {len(shown):,}. Read the rest with "
        f"get_execution_output (execution_id '{execution_id}', stream 'result', offset {len(shown.encode())})."
    )


def _denials_hint(denials: tuple[Denial, ...]) -> str | None:
    if not denials:
        return None
    tools = list(dict.fromkeys(d.tool_name for d in denials))
    rules = list(dict.fromkeys(_allow_rule(d) for d in denials))[:5]
    calls = "1 tool call" if len(denials) == 1 else f"{len(denials)} tool calls"
    return (
        f"Claude Code denied {calls} that needed approval ({', '.join(tools)}): in headless mode nobody can approve. "
        f"To allow {'it' if len(denials) == 1 else 'them'}, run the task again with permission_mode 'acceptEdits' "
        f"(file writes and edits) or allowed_tools {rules!r}."
    )


def _relayed_denials_hint(denials: tuple[Denial, ...]) -> str | None:
    """Denials of a task whose permission prompts were relayed: permission_log says who denied each."""
    if not denials:
        return None
    tools = list(dict.fromkeys(d.tool_name for d in denials))
    calls = "1 tool call was" if len(denials) == 1 else f"{len(denials)} tool calls were"
    return (
        f"{calls} denied ({', '.join(tools)}); permission_log says who denied each (a rule, you, the MCP host's "
        "user, or a timeout) and what Claude was told."
    )


def _allow_rule(denial: Denial) -> str:
    """A rule of allowed_tools that would have allowed the call: the tool, or for Bash its command's first word."""
    if denial.tool_name == "Bash" and denial.input_summary.split():
        return f"Bash({denial.input_summary.split()[0]}:*)"
    return denial.tool_name


def _failure_hint(status: str, outcome: ClaudeOutcome, error: str | None) -> str | None:
    if status == "timed_out":
        if outcome.api_retries:
            return "The Claude API was failing; try again later, or give a larger timeout_s."
        return "Give a larger timeout_s or split the task; get_execution_output shows how far it got."
    if status != "failed":
        return None
    if outcome.api_retries or outcome.assistant_error in ("rate_limit", "server_error"):
        return "The Claude API failed; try again later."
    if outcome.subtype == "error_max_turns":
        return "Give a larger max_turns, or split the task."
    if outcome.subtype == "error_max_budget_usd":
        return "Give a larger max_budget_usd, or split the task; total_cost_usd says what this run cost."
    if error == NO_STRUCTURED_OUTPUT:
        return "Run it again, saying in the task what the JSON should hold; get_execution_output shows its answer."
    if any(UNKNOWN_SESSION in item for item in outcome.errors):
        return (
            "resume_session_id must be the session_id of an earlier task's result, run by the same handler (or "
            "locally by this bridge): Claude Code keeps sessions per user and machine. Leave it out to start afresh."
        )
    if outcome.assistant_error:
        return None  # the error says what to do (log in, billing, ...)
    return "get_execution_output with stream 'stderr', or with format 'raw', shows what claude printed."


def _lost_hint(execution: TrackedExecution) -> str | None:
    if execution.lost_handler is None:
        return None
    return (
        "It may have done part of its work before the handler was lost, so it was not run again. Run it again if "
        "that is safe; give retry_on_handler_loss: true to have such tasks run again on another handler by themselves."
    )


def _tokens(usage: dict[str, Any]) -> dict[str, int]:
    """Input tokens (cache reads and writes included) and output tokens, from the CLI's usage block."""
    parts = [usage.get(key) for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    counts = {
        "input_tokens": sum(part for part in parts if isinstance(part, int)),
        "output_tokens": usage["output_tokens"] if isinstance(usage.get("output_tokens"), int) else 0,
    }
    return {name: count for name, count in counts.items() if count}  # none used: nothing to say
