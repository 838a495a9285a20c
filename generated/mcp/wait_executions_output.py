# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from . import common


class ExecutionBrief(BaseModel):
    """
    One execution in a few words: its status and the start of its answer or error.
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
    result: str | None = None
    """
    The start of Claude's answer (at most 300 characters; the JSON of structured_output when json_schema was given).
    """
    result_truncated: Literal[True] | None = None
    """
    Present (true) when the answer is longer than `result`: get_execution_status has it whole.
    """
    error: str | None = None
    """
    What went wrong (at most 300 characters), for a task that did not complete.
    """
    session_id: str | None = None
    """
    Claude Code's session id, for resume_session_id.
    """
    duration_ms: Annotated[int | None, Field(ge=0)] = None
    """
    Wall-clock time so far, or of the whole execution once it has ended.
    """
    permission_requests: Annotated[
        list[common.PendingPermission] | None, Field(max_length=10)
    ] = None
    """
    Permission requests of its Claude waiting for your answer (respond_permission).
    """


class WaitExecutionsOutput(BaseModel):
    """
    Where each execution stands, in the order asked, with a short result: a compact answer for many executions at once (get_execution_status has one execution's whole result). The call is an error result (isError) when an execution ended without completing.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    executions: list[ExecutionBrief]
    done: bool
    """
    Whether the wait is over: every execution has ended (mode all), or one has (mode any).
    """
    pending: Annotated[int, Field(ge=0)]
    """
    How many of them have not ended yet.
    """
    hint: str | None = None
    """
    What to do next: answer waiting permission requests, wait again for the pending ones, or read a whole result.
    """
