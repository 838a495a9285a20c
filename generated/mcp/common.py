# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel
from typing_extensions import TypeAliasType


class McpCommon(RootModel[Any]):
    root: Annotated[Any, Field(title="McpCommon")]
    """
    Definitions shared by the bridge's MCP tools. The bridge advertises each tool's schema with these references inlined, so clients see one self-contained schema per tool.
    """


class ExecutionId(RootModel[str]):
    root: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one task execution; returned by execute_task and used by the status, output and control tools.
    """


class PermissionRule(RootModel[str]):
    root: Annotated[
        str,
        Field(
            max_length=1000,
            min_length=1,
            pattern="^[A-Za-z_][A-Za-z0-9_-]*(\\(.*\\))?$",
        ),
    ]


class PendingPermission(BaseModel):
    """
    A permission request of the task's Claude that waits for your answer (respond_permission).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    request_id: Annotated[
        str,
        Field(
            max_length=64, min_length=1, pattern="^[!-~]+$", title="PermissionRequestId"
        ),
    ]
    """
    Identifies one permission request of an execution (e.g. 'p1'), for respond_permission.
    """
    tool: str
    """
    The tool Claude wants to use, e.g. 'Write' or 'Bash'.
    """
    input: str | None = None
    """
    Its main argument, shortened: the file path, the command, the URL.
    """
    waited_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds it has waited so far.
    """
    timeout_s: Annotated[float | None, Field(ge=0.0)] = None
    """
    Seconds left before it is denied for want of an answer.
    """


class PermissionLogEntry(BaseModel):
    """
    One permission request of the task and how it was answered.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    request_id: Annotated[
        str,
        Field(
            max_length=64, min_length=1, pattern="^[!-~]+$", title="PermissionRequestId"
        ),
    ]
    """
    Identifies one permission request of an execution (e.g. 'p1'), for respond_permission.
    """
    tool: str
    """
    The tool Claude wanted to use.
    """
    input: str | None = None
    """
    Its main argument, shortened.
    """
    decision: Literal["allow", "deny"]
    """
    The answer Claude got.
    """
    answered_by: Literal[
        "rule", "remembered", "orchestrator", "elicitation", "timeout", "task_ended"
    ]
    """
    Who answered: rule (allow_rules / deny_rules, named in rule), remembered (an earlier answer given with remember), orchestrator (respond_permission), elicitation (the MCP host's user), timeout (nobody within permission_timeout_s: denied), task_ended (the task was canceled, timed out or ended while it waited).
    """
    rule: str | None = None
    """
    The rule that answered (answered_by rule).
    """
    message: str | None = None
    """
    What Claude was told with a denial.
    """
    waited_s: Annotated[float | None, Field(ge=0.0)] = None
    """
    Seconds from the request to its answer.
    """


class PermissionDenial(BaseModel):
    """
    A tool call Claude Code denied because it needed approval.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    tool: str
    """
    The tool, e.g. 'Write' or 'Bash'.
    """
    input: str | None = None
    """
    Its main argument, shortened: the file path, the command, the URL.
    """


class TaskResult(BaseModel):
    """
    One execution as a model needs it: its status, Claude's answer, what went wrong and what to do next, and a few numbers. Fields that do not apply are left out. get_execution_status returns the same object, with the task, tool_calls and activity added while it runs.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    status: Annotated[
        Literal[
            "queued",
            "running",
            "paused",
            "completed",
            "failed",
            "canceled",
            "timed_out",
        ],
        Field(title="Status"),
    ]
    """
    Where an execution stands. queued: waiting for a free slot; running; paused (control_execution); then one final status: completed (Claude finished and reported success), failed (Claude reported an error, exited non-zero, or the task could not start), canceled (control_execution, the MCP client, or the bridge stopping), timed_out (ran past timeout_s).
    """
    result: str | None = None
    """
    Claude's final answer, at most 20,000 characters (see result_truncated); left out when structured_output holds the answer.
    """
    result_truncated: Literal[True] | None = None
    """
    Present (true) when the answer is longer than `result`; result_chars gives its length and hint says how to read the rest (get_execution_output, stream 'result').
    """
    result_chars: Annotated[int | None, Field(ge=0)] = None
    """
    Length of the whole answer in characters (given when it was truncated).
    """
    structured_output: Any | None = None
    """
    The answer as the JSON value json_schema asked for (then `result` is left out: this is the answer).
    """
    error: str | None = None
    """
    What went wrong, in a sentence: present when the status is failed, canceled or timed_out.
    """
    hint: str | None = None
    """
    What to do next: how to follow a running task, read the rest of a long answer, allow denied tools, or get past a failure.
    """
    execution_id: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one task execution; returned by execute_task and used by the status, output and control tools.
    """
    task: str | None = None
    """
    The task text, at most 200 characters (get_execution_status only).
    """
    session_id: str | None = None
    """
    Claude Code's session id: give it as resume_session_id to continue this conversation in a follow-up task (or with fork_session to branch it).
    """
    num_turns: Annotated[int | None, Field(ge=0)] = None
    """
    Agentic turns Claude took (so far, while it runs).
    """
    tool_calls: Annotated[int | None, Field(ge=0)] = None
    """
    Tool calls Claude made so far (get_execution_status, while it runs).
    """
    activity: Annotated[list[str] | None, Field(max_length=5)] = None
    """
    The latest steps, oldest first, one short line each: tool calls with their main argument, Claude's text, API retries, denials (get_execution_status, while it runs). get_execution_output has them all.
    """
    permission_denials: Annotated[
        list[PermissionDenial] | None, Field(max_length=10)
    ] = None
    """
    Tool calls Claude Code denied for want of approval (at most 10 listed; hint gives the count and how to allow them).
    """
    permission_requests: Annotated[
        list[PendingPermission] | None, Field(max_length=10)
    ] = None
    """
    Permission requests waiting for your answer now (permission_prompts 'orchestrator', while it runs): answer each with respond_permission; unanswered, each is denied after permission_timeout_s.
    """
    permission_log: Annotated[list[PermissionLogEntry] | None, Field(max_length=50)] = (
        None
    )
    """
    Every permission request of the task so far and its answer, oldest first (permission_prompts 'orchestrator'; at most 50 listed: get_execution_output's transcript has them all).
    """
    api_retries: Annotated[int | None, Field(ge=1)] = None
    """
    How often the Claude CLI retried a failed Claude API request (overloaded, rate limit, server error); left out when none.
    """
    total_cost_usd: Annotated[float | None, Field(ge=0.0)] = None
    """
    What the run cost, in US dollars, as Claude Code reports it.
    """
    input_tokens: Annotated[int | None, Field(ge=0)] = None
    """
    Input tokens of all turns, cache reads and writes included.
    """
    output_tokens: Annotated[int | None, Field(ge=0)] = None
    """
    Output tokens of all turns.
    """
    duration_ms: Annotated[int | None, Field(ge=0)] = None
    """
    Wall-clock time of the execution (so far, while it runs).
    """
    exit_code: int | None = None
    """
    Exit code of the claude process (minus the signal number if a signal ended it).
    """
    output_truncated: Literal[True] | None = None
    """
    Present (true) when the stored output hit the bridge's cap (--max-output-bytes) and later output was dropped; the answer and the counts are still whole.
    """
    backend: Annotated[str, Field(title="Backend")]
    """
    Where the task runs or ran: the handler's WebSocket URL (for a handler found through DNS, the URL with its address), 'local' (inside the bridge), 'pending' while it is not started yet (queued in the bridge, or waiting for a free handler), or 'none' when nothing ran.
    """
    handler_error: str | None = None
    """
    Why the handler named for the bridge (--handler-url or CC_EXECUTOR_HANDLER_URL) did not run the task, when it then ran locally.
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
    status: Annotated[
        Literal[
            "queued",
            "running",
            "paused",
            "completed",
            "failed",
            "canceled",
            "timed_out",
        ],
        Field(title="Status"),
    ]
    """
    Where an execution stands. queued: waiting for a free slot; running; paused (control_execution); then one final status: completed (Claude finished and reported success), failed (Claude reported an error, exited non-zero, or the task could not start), canceled (control_execution, the MCP client, or the bridge stopping), timed_out (ran past timeout_s).
    """
    task: str
    """
    The task text, at most 100 characters.
    """
    backend: Annotated[str, Field(title="Backend")]
    """
    Where the task runs or ran: the handler's WebSocket URL (for a handler found through DNS, the URL with its address), 'local' (inside the bridge), 'pending' while it is not started yet (queued in the bridge, or waiting for a free handler), or 'none' when nothing ran.
    """
    created_at: AwareDatetime
    """
    When the execution was submitted (UTC).
    """
    duration_ms: Annotated[int | None, Field(ge=0)] = None
    """
    Time since it was submitted, or its whole duration once it has ended.
    """
    session_id: str | None = None
    """
    Claude Code's session id, once the task has ended (for resume_session_id).
    """


class AddDir(RootModel[str]):
    root: Annotated[str, Field(max_length=4096, min_length=1, pattern="^/")]


ClaudeSettingsString = TypeAliasType(
    "ClaudeSettingsString",
    Annotated[str, Field(max_length=4096, min_length=1, pattern="^/")],
)


class TaskFields(BaseModel):
    """
    One task and its Claude Code options: the fields every tool that runs a task takes. Open, so that a tool's input can add its own fields (allOf) and close the whole with unevaluatedProperties.
    """

    task: Annotated[
        str, Field(max_length=4194304, min_length=1, pattern="\\S", title="TaskText")
    ]
    """
    The prompt for the fresh Claude Code instance (not blank), at most 4 MiB of UTF-8 (4,194,304 bytes, about a million tokens). It reaches `claude` on its standard input, never on the command line, so its size is not bound by the kernel's limit on arguments.
    """
    cwd: Annotated[
        str | None, Field(max_length=4096, min_length=1, pattern="^/", title="Cwd")
    ] = None
    """
    Working directory of the task: an absolute path to an existing directory. Default: the bridge's own working directory, whichever backend runs the task (a handler is sent it explicitly).
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
    Claude Code tool names or permission rules, e.g. ['Read', 'Write', 'Bash(git:*)'].
    """
    disallowed_tools: Annotated[
        list[str] | None, Field(max_length=200, title="ToolList")
    ] = None
    """
    Claude Code tool names or permission rules, e.g. ['Read', 'Write', 'Bash(git:*)'].
    """
    permission_mode: Annotated[
        Literal[
            "default",
            "manual",
            "acceptEdits",
            "plan",
            "auto",
            "dontAsk",
            "bypassPermissions",
        ]
        | None,
        Field(title="PermissionMode"),
    ] = None
    """
    Claude Code permission mode (`--permission-mode`). A headless Claude has nobody to ask, so every tool call that would need approval is denied and listed in the result's permission_denials. default (the default; `manual` is the same): reads run, but file writes and edits and shell commands that change files (rm, mv, ...) are denied. acceptEdits: file writes and edits and common filesystem commands (mkdir, touch, mv, cp) run too. plan: reads only, Claude plans and changes nothing. dontAsk: only tools pre-approved by allowed_tools run. auto: a classifier approves or denies each call. bypassPermissions: everything runs (only on a disposable machine). To allow a few specific tools instead, use allowed_tools.
    """
    max_turns: Annotated[int | None, Field(ge=1, le=1000, title="MaxTurns")] = None
    """
    Stop after this many agentic turns (`--max-turns`); the task then fails, saying so.
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
    resume_session_id: Annotated[
        str | None,
        Field(
            max_length=200,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]*$",
            title="SessionId",
        ),
    ] = None
    """
    A Claude Code session to continue (`claude --resume`): the session_id of an earlier result. The task is then the next message of that conversation, with everything said before in context. Run it in the same cwd as the task that started the session (Claude Code keeps sessions per user, in ~/.claude on the machine that ran it: a handler's, or the bridge's).
    """
    fork_session: Annotated[bool | None, Field(title="ForkSession")] = None
    """
    With resume_session_id: branch the conversation into a new session (`--fork-session`) instead of continuing it in place; the result's session_id is then the new one. Refused without resume_session_id.
    """
    max_budget_usd: Annotated[
        float | None, Field(gt=0.0, le=10000.0, title="MaxBudgetUsd")
    ] = None
    """
    Stop the task once its API calls have cost this many US dollars (`--max-budget-usd`); a task that hits it fails, saying so (its cost is in total_cost_usd).
    """
    json_schema: Annotated[dict[str, Any] | None, Field(title="JsonSchema")] = None
    """
    A JSON Schema the answer must fit (`--json-schema`): Claude then answers with a JSON value, returned as the result's structured_output. A task that ends without it fails. At most 100,000 characters as JSON.
    """
    system_prompt: Annotated[
        str | None, Field(max_length=100000, min_length=1, title="SystemPrompt")
    ] = None
    """
    Replace Claude Code's system prompt (`--system-prompt`); to add to it instead, use append_system_prompt.
    """
    fallback_model: Annotated[
        str | None, Field(max_length=400, min_length=1, title="FallbackModel")
    ] = None
    """
    Models to fall back to, comma-separated and in order, when the model is overloaded or unavailable (`--fallback-model`).
    """
    add_dirs: Annotated[list[AddDir] | None, Field(max_length=50, title="AddDirs")] = (
        None
    )
    """
    More directories Claude may read and edit besides cwd (`--add-dir`): absolute paths.
    """
    settings: Annotated[
        dict[str, Any] | ClaudeSettingsString | None, Field(title="ClaudeSettings")
    ] = None
    """
    Claude Code settings for this task (`--settings`): a settings object (e.g. {"hooks": {"PostToolUse": [...]}} for Claude Code's own hooks, which the result's progress shows as they run), or the absolute path of a settings file where the task runs. At most 100,000 characters as JSON.
    """
    retry_on_handler_loss: Annotated[bool | None, Field(title="RetryOnHandlerLoss")] = (
        None
    )
    """
    true: if the handler running the task is lost (it stopped, or the network failed), run the task again from the start on another handler. It may then run twice (what the first run did stays done), so only for tasks that may safely be repeated. Default false: such a task fails, naming the handler. A task that never started on a lost handler always moves to another, whatever this says.
    """
    permission_prompts: Annotated[
        Literal["deny", "orchestrator"] | None, Field(title="PermissionPrompts")
    ] = None
    """
    Who answers when Claude Code would ask for permission (a file write, a shell command that changes files, an MCP tool, ...; which calls ask depends on permission_mode). deny (the default): nobody; the call is denied and listed in permission_denials. orchestrator: you do. The request waits: get_execution_status shows it in permission_requests (and execute_task, get_execution_status and wait_executions return as soon as one waits), progress says so, and respond_permission answers it; an MCP host that supports elicitation is asked directly. allow_rules and deny_rules answer matching calls without asking; a request nobody answers within permission_timeout_s is denied. Every request and its answer is in the result's permission_log.
    """
    allow_rules: Annotated[
        list[PermissionRule] | None, Field(max_length=100, title="PermissionRules")
    ] = None
    """
    Tool calls Claude Code asks about that these rules allow are allowed without asking you (Claude Code's rule syntax, e.g. 'Read', 'Edit(src/**)', 'Bash(git status:*)', 'Bash(npm run test)', 'WebFetch(domain:example.com)', 'mcp__server__tool'). A shell command joined with && || ; | is allowed only when every part is. Needs permission_prompts 'orchestrator'.
    """
    deny_rules: Annotated[
        list[PermissionRule] | None, Field(max_length=100, title="PermissionRules")
    ] = None
    """
    Tool calls these rules match are denied without asking you (same syntax as allow_rules; a deny rule wins over an allow rule; a shell command is denied when any part matches). Needs permission_prompts 'orchestrator'.
    """
    permission_timeout_s: Annotated[
        int | None, Field(ge=1, le=3600, title="PermissionTimeoutSeconds")
    ] = None
    """
    Seconds a permission request may wait for an answer before it is denied (Claude is told nobody answered in time). Default 300. Needs permission_prompts 'orchestrator'.
    """
    pause_timeout_while_asking: Annotated[
        bool | None, Field(title="PauseTimeoutWhileAsking")
    ] = None
    """
    true: the task's timeout_s does not count time during which a permission request waits for your answer (by default it does). Needs permission_prompts 'orchestrator'.
    """


class TaskSpec(TaskFields):
    """
    One task and its Claude Code options.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
