# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal
from ...common import hooks


class HookStatusParams(BaseModel):
    """
    No parameters.
    """

    model_config = ConfigDict(
        extra="forbid",
    )


class HookStatusRequest(BaseModel):
    """
    Ask what hooks the handler runs: its hooks file, each stage's command, and the latest runs.
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


class HookStatusResult(BaseModel):
    """
    Whether pre/post-execution hooks are enabled.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    enabled: bool
    """
    Whether hooks run: a hooks file was loaded (--hooks FILE, or .claude-hooks.json in the handler's working directory).
    """
    message: str
    """
    The status in words: the file and its stages, or why no hooks run ("Hook integration not configured" without a hooks file).
    """
    config_path: str | None = None
    """
    The hooks file (the old handler's name for it).
    """
    hooks_configured: list[str] | None = None
    """
    The stage names the file configures (the old handler's field).
    """
    timeout: float | None = None
    """
    The file's default timeout in seconds (the old handler's field).
    """
    stages: list[hooks.HookStageConfig] | None = None
    """
    Each configured hook. Added in protocol 2.0.
    """
    last_runs: Annotated[list[hooks.HookRun] | None, Field(max_length=20)] = None
    """
    The latest hook runs of every connection, oldest first. Added in protocol 2.0.
    """
