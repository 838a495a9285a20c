# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from ...common import permissions
from typing import Annotated, Literal


class AskPermissionParams(BaseModel):
    """
    What Claude Code asks about, as it calls its permission prompt tool.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    tool_name: Annotated[str, Field(max_length=256, min_length=1, title="ToolName")]
    """
    The Claude Code tool that needs approval, e.g. Write, Bash, or an MCP tool (mcp__server__tool).
    """
    input: permissions.ToolInput
    tool_use_id: Annotated[str | None, Field(max_length=256, title="ToolUseId")] = None
    """
    Claude Code's id of the tool call (its tool_use block), when it gives one.
    """


class AskPermissionRequest(BaseModel):
    """
    Protocol 2.0, permission relay channel only (/ws/permission-relay). A task's permission relay asks whether a tool call may run; the reply comes once whoever started the task has answered (by rule, by hand, or by a timeout): it may take minutes. The connection is authenticated by the execution's relay key, not the handler's token, and may ask nothing else.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["ask_permission"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: AskPermissionParams
