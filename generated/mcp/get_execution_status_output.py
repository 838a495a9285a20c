# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from . import common


class GetExecutionStatusOutput(BaseModel):
    """
    One execution (when execution_id was given) or the recent ones in brief.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution: common.TaskResult | None = None
    """
    The execution asked for: the same object execute_task returns, with its task, and while it runs tool_calls and its latest activity.
    """
    recent: list[common.ExecutionSummary] | None = None
    """
    Recent executions, newest first (when no execution_id was given).
    """
