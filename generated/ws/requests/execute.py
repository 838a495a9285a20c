# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field
from ...common import permissions


class ExecuteParams(BaseModel):
    """
    What to run, and how, as protocol 2.0 reads it: closed, and `timeout` must be an integer of at least 1 or null.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    command: Annotated[
        str, Field(max_length=1048576, min_length=1, pattern="^[^\\u0000]*$")
    ]
    """
    Shell command, run as `/bin/sh -c COMMAND` in its own session and process group, its stdin closed unless `stdin` is given. It cannot contain NUL characters (no process argument can).
    """
    timeout: Annotated[int | None, Field(ge=1, le=604800)] = None
    """
    Seconds the process may run (paused time not counted) before the whole group is terminated; null or absent means the handler's default (none unless configured).
    """
    cwd: Annotated[str | None, Field(min_length=1, pattern="^[^\\u0000]*$")] = None
    """
    Working directory of the process; absent means the handler's own. Added in protocol 2.0.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """
    stdin: Annotated[str | None, Field(max_length=8388608)] = None
    """
    Text written to the process's standard input (UTF-8), which is then closed; absent or null: stdin is closed from the start. At most --max-stdin-bytes of UTF-8 (8 MiB by default: a 4 MiB prompt for `claude -p` passes); more is answered -32602 (field stdin). An execute frame may exceed --max-frame-bytes by its stdin: the frame is answered when its size less stdin's UTF-8 bytes is within --max-frame-bytes (send stdin unescaped, as UTF-8: an escaped character counts as its escape). Added in protocol 2.0; protocol 1.0 ignores it, as the old handler did, and stdin stays closed.
    """
    queue: bool | None = None
    """
    false: when no execution slot is free, answer -32004 (reason handler_full) at once instead of queueing (a client with other handlers to try uses it, so a task it places never waits on a handler that may go away). Absent, null or true: queue. Added in protocol 2.0 (capability `queue`).
    """
    permission_relay: permissions.PermissionRelayOptions | None = None


class LenientExecuteParams(BaseModel):
    """
    What to run, as protocol 1.0 reads it (clients without the cc-executor.v2 subprotocol): parameters it does not know (`id`, `path`, `model`, `temp`, ...) are ignored, as the old handler ignored them, and `timeout` is converted as the old handler converted it.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    command: Annotated[str, Field(max_length=1048576, pattern="^[^\\u0000]*$")]
    """
    The shell command. An empty or blank command is answered with -32001 "Command cannot be empty", the old handler's answer.
    """
    timeout: int | float | str | bool | None = None
    """
    Seconds, converted as the old handler converted them: an integer as is; a float without a fractional part (5.0); a string of an integer, with surrounding blanks, a sign or digit-separating underscores allowed (" 5 ", "+5", "5_000") or of a float without a fractional part ("5.0"); true is 1 and false is 0. 0, false and null mean no timeout (the handler's default applies); a negative timeout fires at once. Anything else (5.5, "soon", "1e3") is answered with -32602.
    """
    cwd: Annotated[str | None, Field(min_length=1, pattern="^[^\\u0000]*$")] = None
    """
    Working directory of the process; absent means the handler's own. Added in protocol 2.0.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """


class ExecuteResult(BaseModel):
    """
    The process has started.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["started"]
    pid: Annotated[int, Field(ge=1, title="Pid")]
    """
    Process id of the process the handler started (`/bin/sh -c COMMAND`).
    """
    pgid: Annotated[int | None, Field(ge=1, title="Pgid")]
    """
    Process group id; every execution runs in a new session, so it equals the pid. Null only in old handlers' frames.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """


class ExecuteRequest(BaseModel):
    """
    Start one command in a new process group. One execution at a time per connection: while one runs, another `execute` is refused with -32602 (reason execution_running), except right after a CANCEL was answered: then the new execution starts as soon as the canceled group is gone (its process.completed comes first), never refused. The reply comes once the pre-execution hooks (if any) have run and the process has started. When every execution slot of the handler is taken (--max-running), the execution waits in the handler's FIFO queue first: protocol 2.0 clients get a process.queued notification at once and may CANCEL it while it waits (the execute is then answered -32004, reason canceled); protocol 1.0 clients just get their reply later. A full queue, or a draining handler, answers -32004 (reason handler_full or draining): nothing ran; then come process.started, any number of process.output, and exactly one process.completed. Protocol 2.0 reads params strictly (ExecuteParams); protocol 1.0 reads them as the old handler did (LenientExecuteParams).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["execute"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: ExecuteParams
