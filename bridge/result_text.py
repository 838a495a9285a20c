"""A task's result in words, for MCP text content and the terminal (kept free of the MCP SDK: it loads slowly)."""

from __future__ import annotations

from cc_executor.generated.mcp.common import TaskResult


def task_text(result: TaskResult) -> str:
    """The result's facts in words, for clients that show text rather than structured content."""
    facts = [f"Task {result.execution_id}: {result.status}"]
    if result.duration_ms is not None:
        facts.append(f"in {result.duration_ms / 1000:.1f} s")
    if result.num_turns is not None:
        facts.append(f"{result.num_turns} turns")
    if result.total_cost_usd is not None:
        facts.append(f"${result.total_cost_usd:.4f}")
    lines = [", ".join(facts) + f" (backend: {result.backend})"]
    if result.error:
        lines.append(f"Error: {result.error}")
    if result.result:
        lines += ["", result.result]
    if result.result_truncated:
        lines.append("[result truncated: get_execution_output with stream 'result' returns all of it]")
    if result.output_truncated:
        lines.append("[stored output hit the bridge's cap; later output was dropped]")
    return "\n".join(lines)
