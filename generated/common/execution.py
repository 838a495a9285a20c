# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import BaseModel, ConfigDict, Field, RootModel


class Execution(RootModel[Any]):
    root: Annotated[Any, Field(title="Execution")]
    """
    Facts about one execution (one process group) shared by several messages.
    """


class StateChangeParams(BaseModel):
    """
    Params of process.started, process.paused, process.resumed and process.canceled.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Annotated[
        Literal["started", "paused", "resumed", "canceled"],
        Field(title="StateChangeStatus"),
    ]
    """
    Which state change the notification announces.
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
    Always null: the process has not ended yet when these are sent.
    """
    error: str | None
    """
    Always null in these notifications.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """
