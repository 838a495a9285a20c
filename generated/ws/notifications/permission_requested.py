# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from ...common import permissions
from typing import Annotated, Literal


class PermissionRequestedParams(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    execution_id: Annotated[
        str,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ]
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """
    request_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="RequestKey")
    ]
    """
    Identifies one permission request on its connection: chosen by the handler, echoed in answer_permission.
    """
    tool_name: Annotated[str, Field(max_length=256, min_length=1, title="ToolName")]
    """
    The Claude Code tool that needs approval, e.g. Write, Bash, or an MCP tool (mcp__server__tool).
    """
    input: permissions.ToolInput
    tool_use_id: Annotated[str | None, Field(max_length=256, title="ToolUseId")] = None
    """
    Claude Code's id of the tool call (its tool_use block), when it gives one.
    """


class PermissionRequestedNotification(BaseModel):
    """
    Protocol 2.0 only, for an execution started with permission_relay. Claude Code in the connection's execution asks whether a tool call may run (it called its permission prompt tool, the relay). Answer with answer_permission; until then the tool call waits (and, with pause_timeout_while_asking, the execution's timeout does not run). When the execution ends first, the request is gone.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["permission.requested"]
    params: PermissionRequestedParams
