# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class ControlParams(BaseModel):
    """
    What to do to the running execution, as protocol 2.0 reads it (closed).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    type: Annotated[Literal["PAUSE", "RESUME", "CANCEL"], Field(title="ControlType")]
    """
    PAUSE (SIGSTOP the group), RESUME (SIGCONT), CANCEL (terminate the group).
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    If given, must name the running execution (a guard against acting on a newer one). Added in protocol 2.0.
    """


class LenientControlParams(BaseModel):
    """
    What to do, as protocol 1.0 reads it: parameters it does not know are ignored, as the old handler ignored them.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[Literal["PAUSE", "RESUME", "CANCEL"], Field(title="ControlType")]
    """
    PAUSE (SIGSTOP the group), RESUME (SIGCONT), CANCEL (terminate the group).
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    If given, must name the running execution (a guard against acting on a newer one). Added in protocol 2.0.
    """


class ControlResult(BaseModel):
    """
    The outcome of a control request.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["paused", "resumed", "canceled"]
    """
    The execution's state after the request.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """


class ControlRequest(BaseModel):
    """
    Pause, resume or cancel the connection's running execution. PAUSE and RESUME send SIGSTOP / SIGCONT to the whole process group; CANCEL terminates the whole group (SIGTERM, a grace period, then SIGKILL). Each answers with a result and a process.paused / process.resumed / process.canceled notification; a CANCEL is followed by the execution's process.completed (status canceled). Pausing a paused or resuming a running execution succeeds without a second notification.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["control"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: ControlParams
