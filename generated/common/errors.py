# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import BaseModel, ConfigDict, Field, RootModel


class Errors(RootModel[Any]):
    root: Annotated[Any, Field(title="Errors")]
    """
    JSON-RPC error codes the handler answers with. The old cc_executor handler used some of them wrongly; spec/README.md lists the corrections.
    """


class ErrorDetails(BaseModel):
    """
    Machine-readable facts about an error. Added in protocol 2.0 (the old handler sent data: null).
    """

    model_config = ConfigDict(
        extra="allow",
    )
    reason: Annotated[
        Literal[
            "parse_error",
            "invalid_request",
            "frame_too_large",
            "method_not_found",
            "invalid_params",
            "execution_running",
            "no_execution",
            "spawn_failed",
            "internal_error",
            "command_not_allowed",
            "session_limit",
            "hook_failed",
            "handler_full",
            "draining",
            "canceled",
            "no_request",
        ]
        | None,
        Field(title="ErrorReason"),
    ] = None
    """
    Machine-readable cause, added in protocol 2.0 (old clients ignore it). no_request: answer_permission names no request that waits.
    """
    field: str | None = None
    """
    Dotted path of the offending parameter, for invalid_params.
    """
    execution_id: str | None = None
    """
    The execution the error is about, if any.
    """
