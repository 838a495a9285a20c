"""Build the command line that runs one task in a fresh headless ``claude``.

One job: turn a task and its options into an argv list for the real Claude Code CLI
(flag names as the CLI and claude-agent-sdk spell them). Running it, quoting it for a
shell (``shlex.join``) and reading its output belong elsewhere. The options arrive
checked against spec/mcp (TaskFields: permission modes, positive max_turns, non-blank
task and tool names); only what no schema can say is checked here: NUL bytes and the
kernel's limit on an argument's size.

Why the task goes after ``--``: ``--allowedTools``, ``--disallowedTools`` and
``--mcp-config`` are variadic in the CLI (commander ``<values...>``), so a bare task
right after them would be swallowed as one more tool or config, and a task starting
with ``-`` would be taken for a flag. After ``--`` it is always the prompt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Final

CLAUDE_BIN_ENV: Final = "CC_EXECUTOR_CLAUDE_BIN"
DEFAULT_CLAUDE_BIN: Final = "claude"

#: Linux refuses (E2BIG) any single argv string of 128 KiB or more, NUL included.
#: When the argv is shlex-joined into one ``sh -c`` string, the whole command counts.
MAX_ARG_BYTES: Final = 128 * 1024 - 1

#: Subcommands of the CLI. commander dispatches on the first operand even after ``--``,
#: so a task that is exactly one of these words would run it (``update`` updates claude).
CLAUDE_SUBCOMMANDS: Final = frozenset(
    "mcp plugin plugins setup-token doctor update upgrade install migrate-installer config auth".split()
)

#: The fixed head of every headless run: print mode, one JSON message per line.
#: The CLI refuses stream-json in print mode without --verbose.
HEADLESS_FLAGS: Final = ("-p", "--output-format", "stream-json", "--verbose")


def resolve_claude_bin(explicit: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """Pick the claude executable: ``--claude-bin`` value, else $CC_EXECUTOR_CLAUDE_BIN, else
    ``claude`` (found on PATH), so tests and installs can point at another binary."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    return env.get(CLAUDE_BIN_ENV) or DEFAULT_CLAUDE_BIN


def build_claude_argv(
    claude_bin: str,
    task: str,
    *,
    model: str | None = None,
    allowed_tools: Sequence[str] | None = None,
    disallowed_tools: Sequence[str] | None = None,
    permission_mode: str | None = None,
    max_turns: int | None = None,
    append_system_prompt: str | None = None,
    mcp_config: str | None = None,
) -> list[str]:
    """Return the argv for ``claude -p … --output-format stream-json --verbose -- TASK``.

    Raises ValueError for what the kernel would reject anyway (NUL bytes, an argument
    over MAX_ARG_BYTES), so the caller gets a clear message instead of a failed spawn.
    """
    argv = [claude_bin, *HEADLESS_FLAGS]
    if model:
        argv += ["--model", model]
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
    if append_system_prompt:
        argv += ["--append-system-prompt", append_system_prompt]
    if mcp_config:
        argv += ["--mcp-config", mcp_config]
    if task in CLAUDE_SUBCOMMANDS:
        task += "\n"  # no longer the subcommand's name; the model reads the same words
    argv += ["--", task]
    for arg in argv:
        _check_arg(arg)
    return argv


def _check_arg(arg: str) -> None:
    """Reject arguments no exec can carry: NUL bytes, or too long for the kernel."""
    if "\x00" in arg:
        raise ValueError("arguments must not contain NUL bytes")
    size = len(arg.encode("utf-8", "surrogateescape"))
    if size > MAX_ARG_BYTES:
        raise ValueError(
            f"argument of {size} bytes exceeds the kernel's per-argument limit of "
            f"{MAX_ARG_BYTES} bytes; pass long text through a file instead"
        )
