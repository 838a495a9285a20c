# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from . import common


class GetExecutionStatusOutput(BaseModel):
    """
    One execution in detail, or the recent ones in brief.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution: common.ExecutionStatus | None
    """
    The execution asked for; null when none was asked for.
    """
    recent: list[common.ExecutionSummary]
    """
    Recent executions, newest first; empty when an execution_id was given.
    """
