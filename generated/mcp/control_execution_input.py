# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class ControlExecutionInput(BaseModel):
    """
    Arguments of control_execution.
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
    pause: stop the task's whole process group (SIGSTOP; paused time does not count toward the timeout); resume: continue it; cancel: end it (status canceled).
    """
