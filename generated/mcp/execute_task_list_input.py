# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field
from . import common


class ExecuteTaskListInput(BaseModel):
    """
    Arguments of execute_task_list.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    tasks: Annotated[list[common.TaskSpec], Field(max_length=100, min_length=1)]
    """
    Tasks, each in its own fresh Claude Code instance: one after another, or up to max_parallel at once.
    """
    stop_on_failure: bool | None = False
    """
    Once a task does not complete, start no further task: the tasks not yet started are skipped (counted in summary.skipped). One after another, that is every later task; with max_parallel > 1, tasks already running when one fails are let finish and their results are returned.
    """
    max_parallel: Annotated[int | None, Field(ge=1, le=16)] = 1
    """
    How many of the tasks may run at once. 1 (default): one after another, each starting when the one before has ended. More: tasks start in list order as others end (never more than the bridge's --max-concurrent run at once; the rest wait, queued). The results come in list order either way.
    """
