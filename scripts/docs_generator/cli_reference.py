"""docs/reference/configuration.md: every command, flag and environment variable, read from the CLI itself."""

from __future__ import annotations

from typing import Any

import typer

from cc_executor.cli import app
from cc_executor.paths import DATA_DIR_ENV

#: Settings read from the environment without a flag of their own.
ENVIRONMENT_ONLY = {
    DATA_DIR_ENV: "Moves all of cc-executor's files: the handler's token file and Unix socket "
    "(ws+unix://DATA_DIR/handler.sock, which local bridges and the CLI use by default), the bridge's execution "
    "history (SQLite), stored task output, HTTP token file (bridge-http.token) and lock files, and the handler's "
    "notes of running executions. It must be yours alone (mode 0700): another user's, or one others may write, is "
    "refused. Default: the platform's user data dir (e.g. ~/.local/share/cc-executor).",
    "CC_EXECUTOR_FUZZ_SCALE": "Test suite only: multiplies the number of frames the WebSocket fuzzing sends (default 1).",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(option: Any) -> str:
    if option.is_flag:
        return "off" if not option.default else "on"
    if option.default in (None, (), []):
        return ""
    return f"`{option.default}`"


def render_configuration() -> str:
    root: Any = typer.main.get_command(app)  # a click group (typer vendors click)
    lines = [
        "# Configuration reference",
        "",
        "Generated from the `cc-executor` command's own definitions by `scripts/generate_docs.py`;",
        "`cc-executor COMMAND --help` shows the same.",
        "",
    ]
    for name in sorted(root.commands):
        command = root.commands[name]
        lines += [f"## `cc-executor {name}`", "", _cell(command.help or "").strip(), ""]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for argument in arguments:
            help_text = _cell(getattr(argument, "help", "") or "")
            lines.append(
                f"Argument `{argument.name.upper()}`" + ("" if argument.required else " (optional)") + f": {help_text}"
            )
            lines.append("")
        options = [p for p in command.params if p.param_type_name == "option" and p.name != "help"]
        if options:
            lines += ["| option | environment | default | meaning |", "| --- | --- | --- | --- |"]
            for option in options:
                flags = ", ".join(f"`{flag}`" for flag in [*option.opts, *option.secondary_opts])
                envvar = f"`{option.envvar}`" if option.envvar else ""
                lines.append(f"| {flags} | {envvar} | {_cell(_default(option))} | {_cell(option.help or '')} |")
            lines.append("")
    lines += ["## Environment only", "", "| variable | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {_cell(meaning)} |" for name, meaning in sorted(ENVIRONMENT_ONLY.items())]
    return "\n".join(lines) + "\n"
