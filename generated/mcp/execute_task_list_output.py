# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field
from . import common


class TaskListSummary(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    total: Annotated[int, Field(ge=0)]
    completed: Annotated[int, Field(ge=0)]
    failed: Annotated[int, Field(ge=0)]
    canceled: Annotated[int, Field(ge=0)]
    timed_out: Annotated[int, Field(ge=0)]
    skipped: Annotated[int, Field(ge=0)]
    """
    Tasks not run because an earlier one failed and stop_on_failure was set.
    """
    duration_ms: Annotated[int, Field(ge=0)]


class ExecuteTaskListOutput(BaseModel):
    """
    One result per task that ran, in order, and a summary.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    results: list[common.TaskResult]
    summary: Annotated[TaskListSummary, Field(title="TaskListSummary")]
