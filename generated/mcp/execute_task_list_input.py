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
    Tasks run one after another, each in its own fresh Claude Code instance.
    """
    stop_on_failure: bool | None = False
    """
    Skip the remaining tasks once one does not complete.
    """
