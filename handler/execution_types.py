"""Facts about one execution that the process runner produces and the protocol core reports (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StreamName = Literal["stdout", "stderr"]
CompletionStatus = Literal["completed", "failed", "canceled", "timed_out"]


@dataclass(frozen=True, slots=True)
class OutputPiece:
    """The text of one process.output frame and its place in a split line."""

    data: str
    chunk_index: int | None = None
    total_chunks: int | None = None


@dataclass(frozen=True)
class Completion:
    """How an execution ended; the facts of process.completed."""

    status: CompletionStatus
    exit_code: int | None
    signal: str | None
    error: str | None
    execution_time: float
    stdout_bytes: int
    stderr_bytes: int
    timeout_s: float | None = None  # the limit the execution ran under (old clients are shown it when it fires)
