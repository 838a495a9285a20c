# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field
from . import common


class TaskListSummary(BaseModel):
    """
    Counts of the list's outcomes.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    total: Annotated[int, Field(ge=0)]
    """
    Tasks in the list.
    """
    completed: Annotated[int, Field(ge=0)]
    """
    Tasks that completed.
    """
    failed: Annotated[int, Field(ge=0)]
    """
    Tasks that failed.
    """
    canceled: Annotated[int, Field(ge=0)]
    """
    Tasks that were canceled.
    """
    timed_out: Annotated[int, Field(ge=0)]
    """
    Tasks that ran past their timeout.
    """
    skipped: Annotated[int, Field(ge=0)]
    """
    Tasks not started because one did not complete and stop_on_failure was set.
    """
    duration_ms: Annotated[int, Field(ge=0)]
    """
    Wall-clock duration of the whole list.
    """


class ExecuteTaskListOutput(BaseModel):
    """
    One result per task that ran, in list order (whatever order they ended in), and a summary. The call is an error result (isError) when a task did not complete.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    results: list[common.TaskResult]
    summary: Annotated[TaskListSummary, Field(title="TaskListSummary")]
    """
    Counts of the list's outcomes.
    """
