# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class ConnectedParams(BaseModel):
    """
    Who the client is talking to.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: str
    """
    Identifies this connection.
    """
    version: str
    """
    The handler's version.
    """
    capabilities: list[str]
    """
    Methods and features offered: execute, control, stream (as in 1.0); status, hook_status and sessions are listed from protocol 2.0 (hook_status itself existed in 1.0 without being listed); permission_relay (protocol 2.0, when the handler can serve a relay channel: execute's permission_relay, permission.requested, answer_permission). `queue` (protocol 2.0 connections only): execute takes `queue`, and an execution that waits for a slot is announced with process.queued.
    """


class ConnectedNotification(BaseModel):
    """
    Sent by the handler first on every new connection.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["connected"]
    params: ConnectedParams
