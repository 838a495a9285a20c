"""What to run for a task: the `claude` command line for a TaskSpec and the task for its stdin, or a plain
shell command, and where."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass

from cc_executor import permission_prompt
from cc_executor.generated.mcp.common import TaskFields

from .claude_command import build_claude_argv
from .permissions import PermissionPolicy
from .settings import BridgeSettings

#: The largest task, in UTF-8 bytes: about a million tokens (spec/mcp TaskText). A handler takes stdin
#: up to its --max-stdin-bytes (8 MiB by default).
MAX_TASK_BYTES = 4 * 1024 * 1024
#: The largest json_schema or settings object, as JSON (it goes on the command line).
MAX_OPTION_JSON_CHARS = 100_000


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
    stdin: str | None = None  # a Claude task's prompt, written to claude's stdin
    wants_structured_output: bool = False  # json_schema was given: an answer without structured_output fails
    retry_on_handler_loss: bool = False  # run again on another handler if the one running it is lost
    permissions: PermissionPolicy | None = None  # permission_prompts 'orchestrator': its Claude asks through a relay

    @classmethod
    def for_claude(cls, spec: TaskFields, settings: BridgeSettings) -> TaskRequest:
        """Raises ValueError for what the kernel or the CLI would refuse (see build_claude_argv)."""
        size = len(spec.task.encode("utf-8", "surrogatepass"))
        if size > MAX_TASK_BYTES:
            raise ValueError(f"the task is {size:,} bytes of UTF-8; at most {MAX_TASK_BYTES:,} (4 MiB) are taken")
        for name, value in (("json_schema", spec.json_schema), ("settings", spec.settings)):
            if isinstance(value, dict) and len(json.dumps(value, ensure_ascii=False)) > MAX_OPTION_JSON_CHARS:
                raise ValueError(f"{name} is over {MAX_OPTION_JSON_CHARS:,} characters as JSON")
        permissions = PermissionPolicy.of(spec)
        disallowed = list(spec.disallowed_tools or ())
        if permissions is not None:  # the relay answers Claude Code, never the model
            disallowed.append(permission_prompt.PROMPT_TOOL)
        argv = build_claude_argv(
            settings.claude_bin,
            model=spec.model,
            allowed_tools=spec.allowed_tools,
            disallowed_tools=disallowed,
            permission_mode=spec.permission_mode,
            max_turns=spec.max_turns,
            append_system_prompt=spec.append_system_prompt,
            mcp_config=spec.mcp_config,
            resume_session_id=spec.resume_session_id,
            fork_session=bool(spec.fork_session),
            max_budget_usd=spec.max_budget_usd,
            json_schema=spec.json_schema,
            system_prompt=spec.system_prompt,
            fallback_model=spec.fallback_model,
            add_dirs=[directory.root for directory in spec.add_dirs or ()],
            settings=spec.settings,
            permission_prompt_tool=permission_prompt.PROMPT_TOOL if permissions else None,
            permission_mcp_config=permission_prompt.mcp_config(permissions.timeout_s) if permissions else None,
        )
        # `exec`: claude replaces the shell, so it leads the process group and its own exit
        # status (a negative signal number when killed) is what the task reports.
        command = "exec " + shlex.join(argv)
        timeout = spec.timeout_s or settings.task_timeout_s
        return cls(
            task=spec.task,
            command=command,
            cwd=spec.cwd or os.getcwd(),
            timeout_s=timeout,
            claude=True,
            stdin=spec.task,
            wants_structured_output=spec.json_schema is not None,
            retry_on_handler_loss=bool(spec.retry_on_handler_loss),
            permissions=permissions,
        )

    @classmethod
    def for_command(cls, command: str, settings: BridgeSettings, cwd: str | None = None) -> TaskRequest:
        return cls(
            task=command, command=command, cwd=cwd or os.getcwd(), timeout_s=settings.task_timeout_s, claude=False
        )
