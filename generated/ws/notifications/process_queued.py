# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class QueuedParams(BaseModel):
    """
    Where a queued execution stands.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["queued"]
    execution_id: str
    """
    The execution that waits (the execute's own, or the one the handler gave it).
    """
    position: Annotated[int, Field(ge=1)]
    """
    Its place in the queue when it joined (1: next to start).
    """
    running: Annotated[int | None, Field(ge=0)] = None
    """
    Executions running on the handler then.
    """
    max_running: Annotated[int | None, Field(ge=1)] = None
    """
    The handler's execution slots (--max-running).
    """


class ProcessQueuedNotification(BaseModel):
    """
    Protocol 2.0 only. Every execution slot of the handler is taken (--max-running), so the connection's execution waits in the handler's FIFO queue; nothing has started yet. Sent once, right after the execute request; when a slot frees, the pre-execution hooks run and the execute reply and process.started follow as usual. While queued the execution may be canceled (control CANCEL: the execute is then answered -32004, reason canceled), and a handler that starts draining answers it -32004, reason draining. Either way nothing ran.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["process.queued"]
    params: QueuedParams
