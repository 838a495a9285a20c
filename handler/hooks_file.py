"""Reading a hooks file: the old handler's `.claude-hooks.json` shape, checked, with one clear sentence per problem.

    {"timeout": 60, "env": {"NAME": "value"},
     "hooks": {"pre-execute": "command",
               "post-execute": {"command": "...", "timeout": 30, "optional": true},
               "post-output": ["command", {"command": "..."}]}}

A stage names one command, an object with its own timeout (and, new here, `optional`),
or a list of them, run in order. The old handler's other keys (e.g. `parallel`) and
unknown keys are ignored, as readers here ignore what they do not know; stage names
are not: a misspelt stage would silently never run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("cc_executor.hooks")

HOOKS_FILE_NAME = ".claude-hooks.json"
DEFAULT_TIMEOUT_S = 60.0  # the old handler's default
#: Stages that run, in the order they run before (pre) and after (post) an execution.
PRE_STAGES = ("pre-execute", "pre-tool", "pre-claude")
POST_STAGES = ("post-claude", "post-tool", "post-execute", "post-output")
CLAUDE_STAGES = frozenset({"pre-claude", "post-claude"})
#: When each stage runs, in words (hook_status says it).
WHEN = {
    "pre-execute": "before every execution",
    "pre-tool": "before every execution, after pre-execute (the old handler's name)",
    "pre-claude": "before every Claude Code task, after pre-execute",
    "post-claude": "after every Claude Code task, before post-execute",
    "post-tool": "after every execution, before post-execute (the old handler's name)",
    "post-execute": "after every execution",
    "post-output": "after every execution, after post-execute (the old handler's name)",
}
#: Old stage names that are accepted and never run, and why.
NEVER_RUN = {
    "pre-edit": "never: file edits happen inside Claude Code; use its own hooks (a task's settings)",
    "post-edit": "never: file edits happen inside Claude Code; use its own hooks (a task's settings)",
    "pre-task-list": "never: the old handler's orchestrator prompt ran it, not the handler",
}
#: Claude Code's own hook events: they belong in a task's settings, not in a hooks file.
CLAUDE_CODE_EVENTS = frozenset(
    "PreToolUse PostToolUse PostToolUseFailure Notification UserPromptSubmit Stop SubagentStart SubagentStop "
    "PreCompact SessionStart SessionEnd PermissionRequest".split()
)


class HooksFileError(Exception):
    """The hooks file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Hook:
    stage: str
    command: str
    timeout_s: float
    optional: bool = False


@dataclass(frozen=True)
class HooksConfig:
    path: Path
    hooks: tuple[Hook, ...]
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S

    def at(self, stage: str) -> list[Hook]:
        return [hook for hook in self.hooks if hook.stage == stage]

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(hook.stage for hook in self.hooks))


@dataclass(frozen=True)
class HooksSetup:
    """What was found at start-up: a hooks file, or none, or one that could not be read (`problem`)."""

    config: HooksConfig | None = None
    problem: str | None = None
    path: Path | None = None  # the file with the problem


def load_hooks(path: Path) -> HooksConfig:
    """The hooks file at `path`; HooksFileError says what is wrong with it."""
    where = f"hooks file {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HooksFileError(f"{where} does not exist") from None
    except OSError as exc:
        raise HooksFileError(f"{where} cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise HooksFileError(f"{where} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HooksFileError(f'{where}: expected a JSON object with a "hooks" object')
    timeout = _seconds(data.get("timeout", DEFAULT_TIMEOUT_S), f"{where}: timeout")
    env = data.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str | int | float | bool) for v in env.values()):
        raise HooksFileError(f"{where}: env must be an object of names and string values")
    stages = data.get("hooks")
    if not isinstance(stages, dict):
        raise HooksFileError(f'{where}: expected a "hooks" object naming stages (e.g. "pre-execute")')
    hooks: list[Hook] = []
    for stage, entry in stages.items():
        _check_stage(stage, where)
        entries = entry if isinstance(entry, list) else [entry]
        for item in entries:
            hooks.append(_hook(stage, item, timeout, f"{where}: hooks.{stage}"))
    return HooksConfig(
        path=path.resolve(), hooks=tuple(hooks), env={k: _text(v) for k, v in env.items()}, timeout_s=timeout
    )


def find_hooks(explicit: Path | None, directory: Path) -> HooksSetup:
    """The hooks for a program: `explicit` (--hooks FILE, which must load), else `.claude-hooks.json` in
    `directory` as the old handler did (one that cannot be read is reported, and no hooks run)."""
    if explicit is not None:
        return HooksSetup(load_hooks(explicit))
    implicit = directory / HOOKS_FILE_NAME
    if not implicit.is_file():
        return HooksSetup()
    try:
        return HooksSetup(load_hooks(implicit))
    except HooksFileError as exc:
        log.warning("hooks file not used", extra={"event": {"path": str(implicit), "problem": str(exc)}})
        return HooksSetup(problem=str(exc), path=implicit.resolve())


def _check_stage(stage: str, where: str) -> None:
    if stage in WHEN or stage in NEVER_RUN:
        return
    if stage in CLAUDE_CODE_EVENTS:
        raise HooksFileError(
            f"{where}: {stage} is a Claude Code hook event, not a cc-executor stage: give it to a task as "
            f'settings ({{"hooks": {{"{stage}": [...]}}}})'
        )
    known = ", ".join([*WHEN, *NEVER_RUN])
    raise HooksFileError(f"{where}: unknown stage {stage!r} (known: {known})")


def _hook(stage: str, item: Any, default_timeout: float, where: str) -> Hook:
    command: Any
    if isinstance(item, str):
        command, timeout, optional = item, default_timeout, False
    elif isinstance(item, dict):
        command = item.get("command")
        timeout = _seconds(item.get("timeout", default_timeout), f"{where}.timeout")
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            raise HooksFileError(f"{where}.optional must be true or false")
    else:
        raise HooksFileError(f'{where}: expected a command, an object with "command", or a list of them')
    if not isinstance(command, str) or not command.strip():
        raise HooksFileError(f"{where}: the command must be a non-blank string")
    if "\x00" in command:
        raise HooksFileError(f"{where}: the command contains a NUL character")
    return Hook(stage, command, timeout, optional)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
        raise HooksFileError(f"{where} must be a number of seconds between 0 and 86400")
    return float(value)


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
