# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class ControlExecutionOutput(BaseModel):
    """
    The outcome of a control_execution call.
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
    action: Literal["pause", "resume", "cancel"]
    """
    The action that was asked for.
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
    changed: bool
    """
    False when nothing changed: the execution was already paused (pause), not paused (resume), or ending or ended (cancel).
    """
    message: str
    """
    What happened, in words.
    """
