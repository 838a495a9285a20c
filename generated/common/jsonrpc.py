# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import BaseModel, ConfigDict, Field, RootModel
from . import errors


class JsonRpc(RootModel[Any]):
    root: Annotated[Any, Field(title="JsonRpc")]
    """
    JSON-RPC 2.0 envelopes shared by every WebSocket message. Objects the handler sends are open (additionalProperties true): a reader ignores fields it does not know, because server-sent objects may gain fields within a major version. What clients send is closed in protocol 2.0.
    """


class Request(BaseModel):
    """
    Any client frame, before its method is known, as protocol 2.0 reads it: closed, so an unknown top-level field is answered with -32600. A frame without `id` is a notification: the handler acts on it but never answers it.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Annotated[str, Field(min_length=1)]
    """
    The method to call: execute, control, status, hook_status or sessions.
    """
    id: Annotated[str | int | None, Field(title="RequestId")] = None
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: dict[str, Any] | list[Any] | None = None
    """
    The method's parameters; an object (arrays are answered with -32602).
    """


class LenientRequest(BaseModel):
    """
    Any client frame as protocol 1.0 reads it (clients without the cc-executor.v2 subprotocol): like Request, but top-level fields other than jsonrpc, method, id and params are ignored, as the old handler ignored them.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Annotated[str, Field(min_length=1)]
    """
    The method to call: execute, control, status, hook_status or sessions.
    """
    id: Annotated[str | int | None, Field(title="RequestId")] = None
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: dict[str, Any] | list[Any] | None = None
    """
    The method's parameters; an object (arrays are answered with -32602).
    """


class SuccessResponse(BaseModel):
    """
    The reply to a request that succeeded; `result` has the shape named by the request's method.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    result: dict[str, Any]
    """
    The method's result; its schema is the request file's *Result definition.
    """
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """


class ErrorObject(BaseModel):
    """
    The JSON-RPC error member: a code, one readable sentence, and optional details.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Annotated[
        Literal[-32700, -32600, -32601, -32602, -32603, -32000, -32001, -32003, -32004],
        Field(title="ErrorCode"),
    ]
    """
    -32700 parse error (the frame is not JSON, or not text); -32600 invalid request (JSON, but not a JSON-RPC request object, or too large); -32601 method not found; -32602 invalid params, or the request does not fit the session's state (e.g. execute while a process runs); -32603 internal error; -32000 the process could not be started (or a pre-execution hook failed: reason hook_failed); -32001 the command is refused (empty, or not in the handler's allowed commands); -32003 too many sessions (protocol 1.0 only: sent before the handler closes the connection, as the old handler did; protocol 2.0 clients are refused in the handshake with HTTP 503). -32004 the execution was not run (nothing started): every slot and the queue are taken (reason handler_full), the handler is draining (reason draining), or it was canceled while queued (reason canceled).
    """
    message: str
    """
    One readable sentence saying what was wrong.
    """
    data: Annotated[errors.ErrorDetails | None, Field(title="ErrorData")] = None
    """
    Extra facts about an error; null when there are none. The old handler always sent null; the details object is new in protocol 2.0.
    """


class ErrorResponse(BaseModel):
    """
    The reply to a request that failed.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    error: ErrorObject
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
