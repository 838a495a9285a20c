# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class HookStatusParams(BaseModel):
    """
    No parameters.
    """

    model_config = ConfigDict(
        extra="forbid",
    )


class HookStatusResult(BaseModel):
    """
    Whether pre/post-execution hooks are enabled.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    enabled: bool
    """
    Whether hooks run; always false for cc-executor.
    """
    message: str
    """
    Why, in words.
    """


class HookStatusRequest(BaseModel):
    """
    Ask whether the handler runs pre/post-execution hooks. cc-executor runs none, and says so.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["hook_status"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: HookStatusParams | None = None
