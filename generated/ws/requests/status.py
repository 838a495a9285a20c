# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class StatusParams(BaseModel):
    """
    No parameters.
    """

    model_config = ConfigDict(
        extra="forbid",
    )


class RunningExecution(BaseModel):
    """
    The execution a session is running.
    """

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
    state: Annotated[
        Literal["running", "paused", "stopping"], Field(title="ExecutionState")
    ]
    """
    Where a running execution is now. (An execution that waits for a slot has not started: its state is QueuedState; one whose pre-execution hooks run has not started either: StartingState.)
    """
    pid: Annotated[int, Field(ge=1, title="Pid")]
    """
    Process id of the process the handler started (`/bin/sh -c COMMAND`).
    """
    pgid: Annotated[int | None, Field(ge=1, title="Pgid")]
    """
    Process group id; every execution runs in a new session, so it equals the pid. Null only in old handlers' frames.
    """
    command: str
    """
    The command as given to execute.
    """
    elapsed_s: Annotated[float, Field(ge=0.0)]
    """
    Wall-clock seconds since start.
    """
    active_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds not paused: what the timeout counts.
    """
    timeout: int | None = None
    """
    The execution's timeout in seconds, or null for none.
    """
    stdout_bytes: Annotated[int | None, Field(ge=0)] = None
    """
    Bytes written to stdout so far.
    """
    stderr_bytes: Annotated[int | None, Field(ge=0)] = None
    """
    Bytes written to stderr so far.
    """


class QueuedExecution(BaseModel):
    """
    The execution a session has waiting for an execution slot (--max-running); process.queued announced it. Added in protocol 2.0.
    """

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
    state: Annotated[Literal["queued"], Field(title="QueuedState")]
    """
    An execution that waits in the handler's queue for an execution slot (--max-running): nothing of it runs yet. Added in protocol 2.0.
    """
    command: str
    """
    The command as given to execute.
    """
    queued_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds since it joined the queue.
    """
    position: Annotated[int, Field(ge=1)]
    """
    Its place in the handler's queue now: 1 starts when the next slot frees.
    """


class StartingExecution(BaseModel):
    """
    The execution a session is starting: it has its slot, and its pre-execution hooks run (hook.completed reports each as it ends). Added in protocol 2.0.
    """

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
    state: Annotated[Literal["starting"], Field(title="StartingState")]
    """
    An execution that has its execution slot and whose pre-execution hooks (pre-execute, pre-tool, pre-claude) run: its process is not started yet, and a hook may still refuse it. Added in protocol 2.0.
    """
    command: str
    """
    The command as given to execute.
    """
    starting_s: Annotated[float, Field(ge=0.0)]
    """
    Seconds since it got its execution slot: how long its pre-execution hooks have run.
    """


class StatusResult(BaseModel):
    """
    The session's state.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: str
    """
    This session's id.
    """
    version: str
    """
    The handler's version.
    """
    active_sessions: Annotated[int, Field(ge=0)]
    """
    Sessions open on the handler now.
    """
    max_sessions: Annotated[int, Field(ge=1)]
    """
    The most sessions the handler serves at once.
    """
    execution: RunningExecution | None
    """
    The running execution, or null when the session is idle.
    """
    queued_execution: QueuedExecution | None = None
    """
    The session's execution that waits for an execution slot, or null when none waits (`execution` is null meanwhile). In protocol 2.0 replies only (protocol 1.0 replies have no such field). Added in protocol 2.0.
    """
    starting_execution: StartingExecution | None = None
    """
    The session's execution whose pre-execution hooks run, or null when none starts (`execution` is null meanwhile). In protocol 2.0 replies only. Added in protocol 2.0.
    """


class StatusRequest(BaseModel):
    """
    Ask for the session's state and its running execution, if any (protocol 2.0 replies also show an execution that waits for a slot: queued_execution). Added in protocol 2.0; cheap, never blocks, usable as a liveness probe.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["status"]
    id: Annotated[str | int | None, Field(title="RequestId")]
    """
    Chosen by the client and echoed in the response. Strings and integers are both accepted; null is used only in error responses to frames whose id could not be read.
    """
    params: StatusParams | None = None
