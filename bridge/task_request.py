"""What to run for a task: the `claude` command line for a TaskSpec, or a plain shell command, and where."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from cc_executor.generated.mcp.common import TaskFields

from .claude_command import build_claude_argv
from .settings import BridgeSettings


@dataclass(frozen=True)
class TaskRequest:
    """What to run: a Claude task (spec) or, for `cc-executor run --command`, a plain shell command.

    `cwd` is always set: the task's own, else the bridge's working directory, so a handler
    runs the task where the bridge would have (it is sent the directory explicitly)."""

    task: str  # shown in status and history
    command: str
    cwd: str
    timeout_s: int
    claude: bool

    @classmethod
    def for_claude(cls, spec: TaskFields, settings: BridgeSettings) -> TaskRequest:
        """Raises ValueError for what the kernel or the CLI would refuse (see build_claude_argv)."""
        argv = build_claude_argv(
            settings.claude_bin,
            spec.task,
            model=spec.model,
            allowed_tools=spec.allowed_tools,
            disallowed_tools=spec.disallowed_tools,
            permission_mode=spec.permission_mode,
            max_turns=spec.max_turns,
            append_system_prompt=spec.append_system_prompt,
            mcp_config=spec.mcp_config,
        )
        # `exec`: claude replaces the shell, so it leads the process group and its own exit
        # status (a negative signal number when killed) is what the task reports.
        command = "exec " + shlex.join(argv)
        timeout = spec.timeout_s or settings.task_timeout_s
        return cls(task=spec.task, command=command, cwd=spec.cwd or os.getcwd(), timeout_s=timeout, claude=True)

    @classmethod
    def for_command(cls, command: str, settings: BridgeSettings, cwd: str | None = None) -> TaskRequest:
        return cls(
            task=command, command=command, cwd=cwd or os.getcwd(), timeout_s=settings.task_timeout_s, claude=False
        )
