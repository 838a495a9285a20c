"""How the bridge runs tasks: where (backend, handlers), how long, how many at once, what it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cc_executor.handler.execution_types import RunLimits
from cc_executor.handler.hooks_file import HooksSetup

BackendMode = Literal["auto", "handler", "local"]


@dataclass(frozen=True)
class BridgeSettings:
    data_dir: Path
    claude_bin: str = "claude"
    handler_urls: tuple[str, ...] = ()
    #: True when the handler URLs were named (--handler-url or CC_EXECUTOR_HANDLER_URL): then backend
    #: "auto" says which handler failed and why before it runs a task locally. The default URL nobody
    #: named falls back quietly.
    handlers_named: bool = True
    token: str | None = None
    backend: BackendMode = "auto"
    task_timeout_s: int = 1800
    max_concurrent: int = 8
    #: tasks waiting for a slot; one more is refused with a clear error
    max_queued: int = 64
    #: the most a task waits for a free handler when every handler of the fleet is full (and never longer than
    #: its own timeout); then it fails, having run nowhere
    queue_timeout_s: float = 900.0
    max_output_bytes: int = 256 * 1024 * 1024  # per stream of one task
    #: all stored output in the data dir; beyond it the output of the oldest ended tasks goes
    max_output_total_bytes: int = 2 * 1024 * 1024 * 1024
    progress_interval_s: float = 0.5
    run_limits: RunLimits = field(default_factory=RunLimits)
    ca_file: Path | None = None  # CA certificates for wss:// handlers (default: the system's)
    #: the hooks of tasks the bridge runs itself (--hooks, or .claude-hooks.json where it started)
    hooks: HooksSetup = field(default_factory=HooksSetup)
