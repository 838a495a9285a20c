# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class PongParams(BaseModel):
    """
    Anything; ignored.
    """

    model_config = ConfigDict(
        extra="allow",
    )


class PongRequest(BaseModel):
    """
    Protocol 1.0 only: a client's answer to `ping`. Accepted silently, with or without an id and whatever its params: never answered, as the old handler did. It counts as activity for the idle-session timeout. Protocol 2.0 has no ping/pong of its own (the WebSocket's ping frames keep the connection alive) and answers `pong` with -32601.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["pong"]
    id: Annotated[str | int | None, Field(title="RequestId")] = None
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: PongParams | None = None
