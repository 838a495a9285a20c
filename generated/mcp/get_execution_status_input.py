# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field


class GetExecutionStatusInput(BaseModel):
    """
    Arguments of get_execution_status.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    The execution to describe. Without it, the recent executions are listed.
    """
    wait_s: Annotated[float | None, Field(ge=0.0, le=300.0)] = 0
    """
    Wait up to this many seconds for the execution to end before answering (long poll); it answers at once when a permission request of the task waits for you (permission_requests). Keep it under your client's tool timeout, and call again while the status is queued, running or paused.
    """
    limit: Annotated[int | None, Field(ge=1, le=100)] = 20
    """
    How many recent executions to list when no execution_id is given.
    """
