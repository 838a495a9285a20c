# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class GetExecutionOutputInput(BaseModel):
    """
    Arguments of get_execution_output.
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
    stream: Literal["stdout", "stderr", "result"] | None = "stdout"
    """
    stdout: Claude's stream-json lines; stderr; result: the full final answer text.
    """
    offset: Annotated[int | None, Field(ge=0)] = 0
    """
    Byte offset to start from (use next_offset of the previous page).
    """
    limit: Annotated[int | None, Field(ge=1, le=100000)] = 20000
    """
    Most bytes to return in this page.
    """
