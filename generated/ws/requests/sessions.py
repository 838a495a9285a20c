# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal
from . import status


class SessionsParams(BaseModel):
    """
    No parameters.
    """

    model_config = ConfigDict(
        extra="forbid",
    )


class SessionsRequest(BaseModel):
    """
    List every session of the handler and what each is running, or has waiting for a slot (for `cc-executor status`). Added in protocol 2.0. Any authenticated client may ask: all clients of one handler share its token and are equally trusted.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["sessions"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: SessionsParams | None = None


class SessionInfo(BaseModel):
    """
    One session of the handler.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: str
    """
    The session's id, as its connected greeting said.
    """
    connected_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds since the session connected.
    """
    execution: status.RunningExecution | None
    """
    The session's running execution, or null when it is idle.
    """
    queued_execution: status.QueuedExecution | None = None
    """
    The session's execution that waits for an execution slot, or null when none waits (`execution` is null meanwhile). In replies to protocol 2.0 connections only, whichever protocol the listed session speaks. Added in protocol 2.0.
    """
    starting_execution: status.StartingExecution | None = None
    """
    The session's execution whose pre-execution hooks run, or null when none starts (`execution` is null meanwhile). In replies to protocol 2.0 connections only, whichever protocol the listed session speaks. Added in protocol 2.0.
    """


class SessionsResult(BaseModel):
    """
    Every session of the handler, the asking one included.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    sessions: list[SessionInfo]
    max_sessions: Annotated[int, Field(ge=1)]
    """
    The most sessions the handler serves at once.
    """
