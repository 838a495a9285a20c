# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from . import common


class WaitExecutionsInput(BaseModel):
    """
    Arguments of wait_executions.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    execution_ids: Annotated[
        list[common.ExecutionId], Field(max_length=100, min_length=1)
    ]
    """
    The executions to wait for (from execute_task with wait=false).
    """
    mode: Literal["all", "any"] | None = "all"
    """
    all (default): answer once every execution has ended; any: once one of them has (one that had ended already counts).
    """
    wait_s: Annotated[float | None, Field(ge=0.0, le=300.0)] = 60
    """
    Wait at most this many seconds, then answer with where each execution stands; call again for those still running. It answers early when a permission request of one of them waits for you (its permission_requests). Keep it under your client's tool timeout.
    """
