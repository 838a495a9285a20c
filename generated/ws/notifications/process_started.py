# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from ...common import execution


class ProcessStartedNotification(BaseModel):
    """
    Sent once the process has started, right after the execute reply.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["process.started"]
    params: execution.StateChangeParams
