"""Facts about one execution that the process runner produces and the protocol core reports, and the limits it
runs under (no I/O here: settings name them without loading the runner)."""

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


@dataclass(frozen=True)
class RunLimits:
    """How the core treats every process it runs."""

    frame_chars: int = 65536
    kill_grace_s: float = 3.0  # SIGTERM to SIGKILL
    drain_grace_s: float = 1.0  # leader gone, others still hold the pipes
    scrub_env: tuple[str, ...] = ()
    #: Reap any exited child that is not a leader: only safe in a process whose
    #: every child is an execution (the handler), never inside a host program.
    reap_strays: bool = False
