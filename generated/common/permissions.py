# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import BaseModel, ConfigDict, Field, RootModel


class Permissions(RootModel[Any]):
    root: Annotated[Any, Field(title="Permissions")]
    """
    Permission prompts of a Claude task relayed to whoever started it (protocol 2.0): what Claude Code asks, and the answer. Claude Code calls its permission prompt tool (cc-executor permission-relay, an MCP server of the task) whenever a tool call needs approval; the relay asks over the permission relay channel, the handler forwards the question to the client that runs the execution (permission.requested) and the client answers (answer_permission).
    """


class ToolInput(BaseModel):
    """
    The tool call's input as Claude Code gives it, e.g. {"file_path": "/src/a.py", "content": "..."} for Write or {"command": "git push"} for Bash.
    """

    model_config = ConfigDict(
        extra="allow",
    )


class PermissionDecision(BaseModel):
    """
    The answer to a permission request.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    behavior: Annotated[Literal["allow", "deny"], Field(title="Behavior")]
    """
    allow: the tool call runs; deny: it does not, and Claude is told why (message).
    """
    message: Annotated[str | None, Field(max_length=4000, title="DenialMessage")] = None
    """
    What Claude is told with a denial (it sees it as the tool call's error), or a note with an allow.
    """


class PermissionRelayOptions(BaseModel):
    """
    Relay the execution's permission prompts to this connection: the execution's environment names where its relay asks (CC_EXECUTOR_RELAY_URL, CC_EXECUTOR_RELAY_KEY, CC_EXECUTOR_RELAY_PYTHON), and each question arrives as a permission.requested notification, to be answered with answer_permission. Added in protocol 2.0.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    pause_timeout_while_asking: bool | None = None
    """
    The execution's timeout does not count time during which a permission request waits for its answer (by default it does).
    """
