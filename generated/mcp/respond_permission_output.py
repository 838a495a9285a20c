# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from . import common


class RespondPermissionOutput(BaseModel):
    """
    The outcome of a respond_permission call.
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
    The decision that was given.
    """
    answered: bool
    """
    True when this answer reached Claude; false when the request had been answered already (by a rule, an elicitation, a timeout, or an earlier call) or its task had ended: then nothing changed.
    """
    status: Annotated[
        Literal[
            "queued",
            "running",
            "paused",
            "completed",
            "failed",
            "canceled",
            "timed_out",
        ],
        Field(title="Status"),
    ]
    """
    Where an execution stands. queued: waiting for a free slot; running; paused (control_execution); then one final status: completed (Claude finished and reported success), failed (Claude reported an error, exited non-zero, or the task could not start), canceled (control_execution, the MCP client, or the bridge stopping), timed_out (ran past timeout_s).
    """
    message: str
    """
    What happened, in words.
    """
    hint: str | None = None
    """
    What to do next: answer the other waiting requests, or follow the task.
    """
    permission_requests: Annotated[
        list[common.PendingPermission] | None, Field(max_length=10)
    ] = None
    """
    Requests of the task still waiting for an answer.
    """
