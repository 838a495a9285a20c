# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class AnswerPermissionParams(BaseModel):
    """
    Which request, and the answer.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    request_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="RequestKey")
    ]
    """
    Identifies one permission request on its connection: chosen by the handler, echoed in answer_permission.
    """
    behavior: Annotated[Literal["allow", "deny"], Field(title="Behavior")]
    """
    allow: the tool call runs; deny: it does not, and Claude is told why (message).
    """
    message: Annotated[str | None, Field(max_length=4000, title="DenialMessage")] = None
    """
    What Claude is told with a denial (it sees it as the tool call's error), or a note with an allow.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    If given, must name the connection's execution (a guard against answering a newer one).
    """


class AnswerPermissionResult(BaseModel):
    """
    The answer reached the waiting relay.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    request_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="RequestKey")
    ]
    """
    Identifies one permission request on its connection: chosen by the handler, echoed in answer_permission.
    """


class AnswerPermissionRequest(BaseModel):
    """
    Protocol 2.0 only. The answer to a permission.requested notification of the connection's execution; the handler hands it to the waiting relay. Answered -32602 (reason no_request) when no such request waits (already answered, or its execution ended).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["answer_permission"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: AnswerPermissionParams
