# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class ExecuteTaskInput(BaseModel):
    """
    Arguments of execute_task.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    task: Annotated[str, Field(max_length=100000, min_length=1, title="TaskText")]
    """
    The prompt for the fresh Claude Code instance. It is passed as one argument, never parsed as a flag, even if it starts with '-'. The whole command line must stay under 128 KiB.
    """
    cwd: Annotated[str | None, Field(min_length=1, title="Cwd")] = None
    """
    Working directory for the task (absolute path). Default: the bridge's working directory.
    """
    model: Annotated[str | None, Field(max_length=200, min_length=1, title="Model")] = (
        None
    )
    """
    Model name or alias for `claude --model`, e.g. 'sonnet'. Default: Claude Code's own default.
    """
    timeout_s: Annotated[int | None, Field(ge=1, le=86400, title="TimeoutSeconds")] = (
        None
    )
    """
    Seconds the task may run (paused time not counted) before it is stopped with status timed_out. Default: the bridge's --task-timeout (1800).
    """
    allowed_tools: Annotated[
        list[str] | None, Field(max_length=200, title="ToolList")
    ] = None
    """
    Claude Code tool names or patterns, e.g. ['Read', 'Bash(git:*)'].
    """
    disallowed_tools: Annotated[
        list[str] | None, Field(max_length=200, title="ToolList")
    ] = None
    """
    Claude Code tool names or patterns, e.g. ['Read', 'Bash(git:*)'].
    """
    permission_mode: Annotated[
        Literal[
            "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"
        ]
        | None,
        Field(title="PermissionMode"),
    ] = None
    """
    Claude Code permission mode for the task (`--permission-mode`).
    """
    max_turns: Annotated[int | None, Field(ge=1, le=1000, title="MaxTurns")] = None
    """
    Stop after this many agentic turns (`--max-turns`); the result then has is_error true.
    """
    append_system_prompt: Annotated[
        str | None, Field(max_length=20000, title="AppendSystemPrompt")
    ] = None
    """
    Text appended to Claude Code's system prompt (`--append-system-prompt`).
    """
    mcp_config: Annotated[
        str | None, Field(max_length=20000, min_length=1, title="McpConfig")
    ] = None
    """
    MCP servers for the task (`--mcp-config`): a path to a JSON file, or the JSON text itself.
    """
    wait: bool | None = True
    """
    true (default): run to the end, reporting progress, and return the result. false: return at once with the execution_id; poll with get_execution_status (wait_s) and read output with get_execution_output.
    """
