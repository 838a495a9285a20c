"""Claude's stream in words: one line per step, the same words for progress, activity and transcripts.

A model following a task reads these lines in three places: MCP progress messages, the
`activity` of get_execution_status, and the readable transcript of get_execution_output.
Each step says its turn, then what happened: Claude's text, a tool call with its main
argument, a tool's result (shortened), an API retry, a denied tool call.
"""

from __future__ import annotations

from .claude_stream import (
    ApiRetryEvent,
    AssistantTextEvent,
    ClaudeEvent,
    HookEvent,
    InitEvent,
    PermissionDeniedEvent,
    ResultEvent,
    ToolResultEvent,
    ToolUseEvent,
    UnparsedLineEvent,
)

#: Width of a step in progress messages and activity.
SHORT = 160
#: Longest tool result shown in a transcript.
TOOL_RESULT_CHARS = 200


def step(event: ClaudeEvent, turn: int, width: int | None = SHORT) -> str | None:
    """The event as one step; None for events that are not steps. `turn` is the turn it belongs to.

    With `width`, the step is one line of at most that many characters (progress, activity);
    without, Claude's text is kept whole, its lines indented (a transcript)."""
    line = _words(event, turn, width is None)
    if line is None or width is None:
        return line
    flat = " ".join(line.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def api_trouble(retry: ApiRetryEvent) -> str:
    """What went wrong with the API request, e.g. "overloaded (529)", or "unknown (no HTTP answer)"."""
    what = (retry.error or "error").replace("_", " ")
    return f"{what} ({retry.error_status})" if retry.error_status else f"{what} (no HTTP answer)"


def _words(event: ClaudeEvent, turn: int, whole: bool) -> str | None:
    prefix = f"turn {turn} · "
    if isinstance(event, InitEvent):
        version = f" {event.version}" if event.version else ""
        servers = ", ".join(f"{name} ({status})" for name, status in event.mcp_servers)
        return (
            f"Claude Code{version} started: model {event.model or '?'}, permission mode "
            f"{event.permission_mode or '?'}, {event.tools_count} tools"
            + (f", MCP servers {servers}" if servers else "")
        )
    if isinstance(event, AssistantTextEvent):
        who = "subagent" if event.subagent else "Claude"
        text = event.text.strip()
        if whole:
            text = text.replace("\n", "\n    ") + (" […]" if event.truncated else "")
        return f"{prefix}{who}: {text}"
    if isinstance(event, ToolUseEvent):
        who = "subagent uses " if event.subagent else ""
        return f"{prefix}{who}{event.tool_name}" + (f": {event.input_summary}" if event.input_summary else "")
    if isinstance(event, ToolResultEvent):
        preview = " ".join(event.preview.split())[:TOOL_RESULT_CHARS]
        more = f"… ({event.chars:,} characters)" if event.chars > len(event.preview) else ""
        return f"{prefix}  ↳ {'error: ' if event.is_error else ''}{preview or '(no output)'}{more}"
    if isinstance(event, ApiRetryEvent):
        of = f" of {event.max_retries}" if event.max_retries else ""
        return f"{prefix}API {api_trouble(event)}, retry {event.attempt}{of}"
    if isinstance(event, PermissionDeniedEvent):
        what = event.denial.tool_name + (f": {event.denial.input_summary}" if event.denial.input_summary else "")
        return f"{prefix}denied {what}" + (f" ({event.message})" if event.message else "")
    if isinstance(event, HookEvent):
        code = f" (exit {event.exit_code})" if event.exit_code not in (None, 0) else ""
        said = " ".join(event.output.split())
        return f"{prefix}Claude Code hook {event.name}: {event.outcome or '?'}{code}" + (f": {said}" if said else "")
    if isinstance(event, UnparsedLineEvent):
        return f"not stream-json: {event.preview}"
    if isinstance(event, ResultEvent):
        verdict = "error" if event.is_error else "done"
        cost = f", ${event.total_cost_usd:.4f}" if event.total_cost_usd else ""
        turns = f"{event.num_turns} turn" + ("" if event.num_turns == 1 else "s")
        return f"{verdict}: {event.subtype or 'result'} after {turns}{cost}"
    return None  # a new turn says nothing by itself
