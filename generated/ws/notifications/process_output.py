# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal
from pydantic import BaseModel, ConfigDict, Field


class ProcessOutputParams(BaseModel):
    """
    One piece of the process's output.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[Literal["stdout", "stderr"], Field(title="StreamName")]
    """
    Which output stream of the process the data came from.
    """
    data: str
    """
    The text (see the notification's description for how pieces fit together).
    """
    truncated: bool
    """
    Always false: cc-executor never drops output.
    """
    chunk_index: Annotated[int | None, Field(ge=0)]
    """
    For a line split into pieces: the piece's index from 0; null otherwise.
    """
    total_chunks: Annotated[int | None, Field(ge=1)]
    """
    For a split line: the number of pieces, given on the last piece (the handler streams and cannot know it earlier); null otherwise.
    """
    execution_id: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[!-~]+$", title="ExecutionId"),
    ] = None
    """
    Identifies one execution: 1 to 128 printable ASCII characters, no spaces. Chosen by the client in `execute`, or made by the handler (a UUID). Added in protocol 2.0.
    """


class ProcessOutputNotification(BaseModel):
    """
    Output of the running process. Per stream, concatenating `data` in arrival order gives exactly what the process wrote (decoded as UTF-8; bytes that are not UTF-8 become U+FFFD; a character is never split). How lines are framed depends on the protocol mode. Protocol 1.0 (the default): exactly one line per frame, newline included, as the old handler sent it, so each frame of line-oriented output (e.g. Claude's stream-json) parses on its own; a line without its newline yet waits for it or for the end of the stream. Protocol 2.0 (cc-executor.v2): a frame holds as many whole lines as fit the frame limit, and a half-written line is sent when the stream goes quiet. In both, a line longer than the handler's frame limit (65,536 characters) arrives in pieces numbered by chunk_index. Protocol 1.0 only: when a timeout ends the execution, one frame per stream carrying the old handler's marker line "\\n[Stream timed out after N s]\\n" (N the timeout, e.g. "\\n[Stream timed out after 5s]\\n") comes right before process.completed.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    jsonrpc: Annotated[Literal["2.0"], Field(title="JsonRpcVersion")]
    """
    Always the string "2.0".
    """
    method: Literal["process.output"]
    params: ProcessOutputParams
