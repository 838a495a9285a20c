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
    changed: bool
    """
    False when the execution was already in the asked-for state.
    """
    message: str
    """
    What happened, in words.
    """
