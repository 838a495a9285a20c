# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class RespondPermissionInput(BaseModel):
    """
    Arguments of respond_permission.
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
    request_id: Annotated[
        str,
        Field(
            max_length=64, min_length=1, pattern="^[!-~]+$", title="PermissionRequestId"
        ),
    ]
    """
    Identifies one permission request of an execution (e.g. 'p1'), for respond_permission.
    """
    decision: Literal["allow", "deny"]
    """
    allow: the tool call runs as Claude asked; deny: it does not, and Claude is told so (with message).
    """
    message: Annotated[str | None, Field(max_length=2000)] = None
    """
    Told to Claude with a denial (e.g. what to do instead). Default: that the orchestrator denied it.
    """
    remember: bool | None = None
    """
    true: give the same answer to every later request for the same tool in this task, without asking (e.g. allow every Write).
    """
