# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class McpCommon(RootModel[Any]):
    root: Annotated[Any, Field(title="McpCommon")]
    """
    Definitions shared by the bridge's MCP tools. The bridge advertises each tool's schema with these references inlined, so clients see one self-contained schema per tool.
    """


class TaskSpec(BaseModel):
    """
    One task and its Claude Code options.
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


class TaskResult(BaseModel):
    """
    The outcome of one task. Final once status is not running. Large output is not included: page through it with get_execution_output.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution_id: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one task execution; returned by execute_task and used by the status, output and control tools.
    """
    status: Annotated[
        Literal["running", "completed", "failed", "canceled", "timed_out"],
        Field(title="TaskStatus"),
    ]
    """
    running: still going (also while paused); completed: Claude finished and reported success; failed: Claude reported an error, exited non-zero, or could not run; canceled: stopped by control_execution or the client; timed_out: ran past its timeout.
    """
    exit_code: int | None = None
    """
    Exit code of the claude process (minus the signal number if a signal ended it).
    """
    result: str | None = None
    """
    Claude's final answer (the `result` message's text), at most 20,000 characters; see result_truncated.
    """
    result_truncated: bool | None = None
    """
    True when `result` was cut; get_execution_output with stream 'result' returns all of it.
    """
    is_error: bool | None = None
    """
    Claude's own verdict from its result message; null when it sent none.
    """
    error: str | None = None
    """
    What went wrong, in one or two sentences, when status is not completed.
    """
    session_id: str | None = None
    """
    Claude Code session id (for `claude --resume`).
    """
    num_turns: Annotated[int | None, Field(ge=0)] = None
    """
    Agentic turns Claude took, as its result message reports.
    """
    duration_ms: Annotated[int | None, Field(ge=0)] = None
    """
    Wall-clock duration of the execution.
    """
    total_cost_usd: Annotated[float | None, Field(ge=0.0)] = None
    """
    What the run cost, in US dollars, as Claude reports it.
    """
    usage: Annotated[dict[str, Any] | None, Field(title="Usage")] = None
    """
    Token usage as Claude reports it (input_tokens, output_tokens, cache_*...).
    """
    stderr_tail: str | None = None
    """
    The last lines of stderr (at most 2,000 characters).
    """
    output_truncated: bool | None = None
    """
    True when the stored output hit the bridge's cap (--max-output-bytes) and later output was dropped.
    """
    output_bytes: Annotated[int | None, Field(ge=0)] = None
    """
    Bytes of stdout stored; page through them with get_execution_output.
    """
    backend: str
    """
    Where it runs or ran: the handler's WebSocket URL, 'local', or 'pending' while it waits for a slot (a wait=false reply).
    """


class Progress(BaseModel):
    """
    What a running task has done so far, from Claude's stream.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    num_turns: Annotated[int, Field(ge=0)]
    """
    Model turns (API responses) so far.
    """
    tool_calls: Annotated[int, Field(ge=0)]
    """
    Tool calls Claude has made so far.
    """
    last_tool: str | None = None
    """
    The tool Claude called most recently.
    """
    last_text: str | None = None
    """
    The latest assistant text, at most 500 characters.
    """


class ExecutionSummary(BaseModel):
    """
    One line of the execution history.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution_id: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one task execution; returned by execute_task and used by the status, output and control tools.
    """
    state: Annotated[
        Literal[
            "queued",
            "running",
            "paused",
            "completed",
            "failed",
            "canceled",
            "timed_out",
        ],
        Field(title="ExecutionState"),
    ]
    """
    Lifecycle of an execution: queued (waiting for a free slot), running, paused, then one of the final statuses.
    """
    task: str
    """
    The task text, at most 200 characters.
    """
    backend: str
    """
    Where it runs or ran: the handler's WebSocket URL, 'local', or 'pending' before it starts.
    """
    created_at: AwareDatetime
    """
    When the execution was submitted (UTC).
    """
    elapsed_s: Annotated[float | None, Field(ge=0.0)] = None
    """
    Seconds since it was submitted, or its whole duration once it has ended.
    """


class ExecutionStatus(BaseModel):
    """
    Everything known about one execution.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution_id: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one task execution; returned by execute_task and used by the status, output and control tools.
    """
    state: Annotated[
        Literal[
            "queued",
            "running",
            "paused",
            "completed",
            "failed",
            "canceled",
            "timed_out",
        ],
        Field(title="ExecutionState"),
    ]
    """
    Lifecycle of an execution: queued (waiting for a free slot), running, paused, then one of the final statuses.
    """
    task: str
    """
    The task text, at most 200 characters.
    """
    backend: str
    """
    Where it runs or ran: the handler's WebSocket URL, 'local', or 'pending' before it starts.
    """
    created_at: AwareDatetime
    """
    When the execution was submitted (UTC).
    """
    elapsed_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds since it was submitted, or its whole duration once it has ended.
    """
    progress: Progress
    last_output_lines: Annotated[list[str], Field(max_length=20)]
    """
    The last lines of stdout, each at most 300 characters.
    """
    result: TaskResult | None
    """
    The final result once the execution has ended.
    """
