"""Build the command line that runs one task in a fresh headless ``claude``.

One job: turn a task's options into an argv list for the real Claude Code CLI (flag
names as the CLI and claude-agent-sdk spell them). The task itself is not on it: it
goes to ``claude -p`` on its standard input (with no prompt argument the CLI reads
stdin to its end), so a task of any size fits and is never taken for a flag or a
subcommand. Running the command, quoting it for a shell (``shlex.join``) and reading
its output belong elsewhere. The options arrive checked against spec/mcp (TaskFields);
only what no schema can say is checked here: NUL bytes and the kernel's limit on an
argument's size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

CLAUDE_BIN_ENV: Final = "CC_EXECUTOR_CLAUDE_BIN"
DEFAULT_CLAUDE_BIN: Final = "claude"

#: Linux refuses (E2BIG) any single argv string of 128 KiB or more, NUL included.
#: When the argv is shlex-joined into one ``sh -c`` string, the whole command counts.
MAX_ARG_BYTES: Final = 128 * 1024 - 1

#: The fixed head of every headless run: print mode, one JSON message per line, hook events
#: included (Claude Code's own hooks show in progress). The CLI refuses stream-json in print
#: mode without --verbose.
HEADLESS_FLAGS: Final = ("-p", "--output-format", "stream-json", "--verbose", "--include-hook-events")


def resolve_claude_bin(explicit: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """Pick the claude executable: ``--claude-bin`` value, else $CC_EXECUTOR_CLAUDE_BIN, else
    ``claude`` (found on PATH), so tests and installs can point at another binary."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    return env.get(CLAUDE_BIN_ENV) or DEFAULT_CLAUDE_BIN


def build_claude_argv(
    claude_bin: str,
    *,
    model: str | None = None,
    allowed_tools: Sequence[str] | None = None,
    disallowed_tools: Sequence[str] | None = None,
    permission_mode: str | None = None,
    max_turns: int | None = None,
    append_system_prompt: str | None = None,
    mcp_config: str | None = None,
    resume_session_id: str | None = None,
    fork_session: bool = False,
    max_budget_usd: float | None = None,
    json_schema: Mapping[str, Any] | None = None,
    system_prompt: str | None = None,
    fallback_model: str | None = None,
    add_dirs: Sequence[str] | None = None,
    settings: Mapping[str, Any] | str | None = None,
    permission_prompt_tool: str | None = None,
    permission_mcp_config: str | None = None,
) -> list[str]:
    """Return the argv for ``claude -p --output-format stream-json --verbose …`` (the task goes on stdin).

    Raises ValueError for what the kernel or the CLI would reject anyway (NUL bytes, an argument
    over MAX_ARG_BYTES, --fork-session without --resume), so the caller gets a clear message
    instead of a failed spawn.
    """
    if fork_session and not resume_session_id:
        raise ValueError("fork_session needs resume_session_id: it branches the session being resumed")
    argv = [claude_bin, *HEADLESS_FLAGS]
    if model:
        argv += ["--model", model]
    if fallback_model:
        argv += ["--fallback-model", fallback_model]
    # Tool lists go as one comma-joined argument, as claude-agent-sdk sends them (the CLI
    # splits it again, keeping rules like ``Bash(git log:*)`` whole).
    if allowed_tools:
        argv += ["--allowedTools", ",".join(allowed_tools)]
    if disallowed_tools:
        argv += ["--disallowedTools", ",".join(disallowed_tools)]
    if permission_mode is not None:
        argv += ["--permission-mode", permission_mode]
    if max_turns is not None:
        argv += ["--max-turns", str(max_turns)]
    if max_budget_usd is not None:
        argv += ["--max-budget-usd", f"{max_budget_usd:g}"]
    if system_prompt:
        argv += ["--system-prompt", system_prompt]
    if append_system_prompt:
        argv += ["--append-system-prompt", append_system_prompt]
    if json_schema is not None:
        argv += ["--json-schema", _json(json_schema)]
    if settings is not None:
        argv += ["--settings", settings if isinstance(settings, str) else _json(settings)]
    for config in (mcp_config, permission_mcp_config):
        if config:
            argv += ["--mcp-config", config]  # one flag each: the CLI gathers the servers of every config
    if permission_prompt_tool:
        argv += ["--permission-prompt-tool", permission_prompt_tool]
    for directory in add_dirs or ():
        argv += ["--add-dir", directory]  # one flag per directory: the value list never runs on
    if resume_session_id:
        argv += ["--resume", resume_session_id]
        if fork_session:
            argv.append("--fork-session")
    for arg in argv:
        _check_arg(arg)
    return argv


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _check_arg(arg: str) -> None:
    """Reject arguments no exec can carry: NUL bytes, or too long for the kernel."""
    if "\x00" in arg:
        raise ValueError("arguments must not contain NUL bytes")
    size = len(arg.encode("utf-8", "surrogateescape"))
    if size > MAX_ARG_BYTES:
        raise ValueError(
            f"argument of {size} bytes exceeds the kernel's per-argument limit of "
            f"{MAX_ARG_BYTES} bytes; pass long text through a file instead (settings: a file path)"
        )
