# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class GetExecutionOutputOutput(BaseModel):
    """
    One page of an execution's stored output.
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
    stream: Literal["stdout", "stderr", "result"]
    """
    The stream the page comes from.
    """
    format: Literal["text", "raw"]
    """
    The form of `data`: text (a readable transcript for Claude's stdout; stderr and result are always text) or raw.
    """
    offset: Annotated[int, Field(ge=0)]
    """
    The byte offset this page starts at (moved back to a character boundary if needed).
    """
    next_offset: Annotated[int | None, Field(ge=0)] = None
    """
    Where the next page starts; left out when this page reached the end of a finished execution (complete).
    """
    total_bytes: Annotated[int, Field(ge=0)]
    """
    Bytes stored so far for this stream in this format.
    """
    data: str
    """
    The page's text (pages never split a UTF-8 character).
    """
    complete: bool
    """
    True when the execution has ended and this page reaches the end.
    """
