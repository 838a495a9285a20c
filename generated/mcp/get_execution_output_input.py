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
    stdout: what Claude did (see format); stderr: what claude printed on stderr; result: Claude's whole final answer.
    """
    format: Literal["text", "raw"] | None = "text"
    """
    For stdout. text (default): a readable transcript, one line per step (Claude's text, each tool call with its main argument, tool results shortened, API retries, denials). raw: Claude Code's stream-json lines as printed.
    """
    offset: Annotated[int | None, Field(ge=0)] = 0
    """
    Byte offset to start from: 0, or next_offset of the previous page (or the offset a hint names).
    """
    limit: Annotated[int | None, Field(ge=1, le=100000)] = 20000
    """
    Most bytes to return in this page.
    """
