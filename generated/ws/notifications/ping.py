# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class PingParams(BaseModel):
    """
    When the ping was sent.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    timestamp: float
    """
    The handler's clock, seconds since the Unix epoch.
    """


class PingNotification(BaseModel):
    """
    Protocol 1.0 only: the old handler's heartbeat, sent every heartbeat interval (30 s unless configured) from the start of the connection, whatever runs. Old clients with an idle read timeout rely on it during long silent commands; they may answer with `pong`, and need not.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["ping"]
    params: PingParams
