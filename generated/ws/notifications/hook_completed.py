# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from ...common import hooks


class HookCompletedNotification(BaseModel):
    """
    Protocol 2.0 only. A hook of the connection's execution has run: pre-stage hooks before the execute response (a failed one that is not optional stops the execution, and the execute is answered -32000, reason hook_failed), post-stage hooks after the execution's output and before its process.completed.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["hook.completed"]
    params: hooks.HookRun
