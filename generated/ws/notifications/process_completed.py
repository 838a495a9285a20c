# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class ProcessCompletedParams(BaseModel):
    """
    How the execution ended.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Annotated[
        Literal["completed", "failed", "canceled", "timed_out"],
        Field(title="CompletionStatus"),
    ]
    """
    How an execution ended: completed (exit code 0), failed (non-zero exit code, or killed by a signal it did not get from the handler), canceled (CANCEL, or the client went away), timed_out (ran longer than its timeout, paused time not counted).
    """
    pid: Annotated[int, Field(ge=1, title="Pid")]
    """
    Process id of the process the handler started (`/bin/sh -c COMMAND`).
    """
    pgid: Annotated[int | None, Field(ge=1, title="Pgid")]
    """
    Process group id; every execution runs in a new session, so it equals the pid. Null only in old handlers' frames.
    """
    exit_code: int | None
    """
    The exit code, or minus the signal number when a signal ended the process.
    """
    error: str | None
    """
    Why the execution did not complete normally; null when it exited by itself.
    """
    execution_time: Annotated[float, Field(ge=0.0)]
    """
    Wall-clock seconds from start to the end of the process group.
    """
    early_completion_detected: bool | None = None
    """
    Kept for old clients; always false.
    """
    early_completion_time: float | None = None
    """
    Kept for old clients; always null.
    """
    time_saved: Literal[0] | None = None
    """
    Kept for old clients; always the integer 0 (as the old handler sent it).
    """
    completion_marker: str | None = None
    """
    Kept for old clients; always null.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """
    signal: str | None = None
    """
    Name of the signal that ended the process (e.g. SIGKILL), if one did. Added in protocol 2.0.
    """
    stdout_bytes: Annotated[int | None, Field(ge=0)] = None
    """
    Bytes the process wrote to stdout. Added in protocol 2.0.
    """
    stderr_bytes: Annotated[int | None, Field(ge=0)] = None
    """
    Bytes the process wrote to stderr. Added in protocol 2.0.
    """


class ProcessCompletedNotification(BaseModel):
    """
    The one terminal notification of every execution, sent after all its output, once the whole process group is gone.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["process.completed"]
    params: ProcessCompletedParams
