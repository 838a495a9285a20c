"""`cc-executor doctor`: check what a newcomer gets wrong, one line each, with the fix.

Checked: the claude CLI (present, its version, logged in or an API key), the data dir and
the token files (the handler's, the bridge's HTTP one: owned, private), each handler
(reachable, token accepted; by default the local handler's Unix socket), and whether
Claude Code has cc-executor registered and can start it (`claude mcp list`).
A failed check makes the exit status 1; a warning (e.g. no handler running, which is
fine: tasks then run in the bridge itself) does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.text import Text

from cc_executor.bridge.claude_command import resolve_claude_bin
from cc_executor.bridge.http_auth import TOKEN_FILE_NAME
from cc_executor.client import HandlerClient, HandlerUnavailable
from cc_executor.credentials import client_token
from cc_executor.endpoints import local_handler_url
from cc_executor.paths import DataDirError, data_dir, token_file
from cc_executor.terminal_text import literal
from cc_executor.token import TOKEN_ENV, TokenFileError, read_token_file

Verdict = Literal["ok", "warn", "fail"]
COMMAND_TIMEOUT_S = 20.0
MCP_LIST_TIMEOUT_S = 90.0  # claude starts every registered server to ask its health
MARKS: dict[Verdict, tuple[str, str]] = {"ok": ("✓", "green"), "warn": ("–", "yellow"), "fail": ("✗", "red")}


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    what: str
    detail: str
    fix: str | None = None


async def run_checks(
    handler_urls: Sequence[str],
    token: str | None,
    claude_bin: str | None,
    token_typed: bool = False,
    token_path: Path | None = None,
    ca_file: Path | None = None,
) -> list[Check]:
    claude = resolve_claude_bin(claude_bin)
    found = shutil.which(claude)
    local_checks = _data_dir_checks()
    handler_checks, claude_checks = await asyncio.gather(
        _handler_checks(handler_urls, token, token_typed, token_path, ca_file), _claude_checks(claude, found)
    )
    return [*claude_checks, *local_checks, *handler_checks]


def print_checks(checks: Sequence[Check], console: Console | None = None) -> int:
    """Print one line per check (and its fix); the exit status: 1 if any failed."""
    console = console or Console(highlight=False)
    for check in checks:
        mark, colour = MARKS[check.verdict]
        line = Text.assemble((f"{mark} ", colour), (check.what, "bold"), ": ", literal(check.detail))
        console.print(line, soft_wrap=True)  # unwrapped: a fix is a command to copy
        if check.fix:
            label = "    fix: " if check.verdict == "fail" else "    hint: "
            console.print(Text.assemble(label, literal(check.fix)), soft_wrap=True)
    failed = sum(1 for check in checks if check.verdict == "fail")
    console.print(f"{failed} problem{'s' if failed != 1 else ''} found" if failed else "all checks passed")
    return 1 if failed else 0


# -- claude -----------------------------------------------------------------------------------------


async def _claude_checks(claude: str, found: str | None) -> list[Check]:
    if found is None:
        return [
            Check(
                "fail",
                "claude CLI",
                f"{claude!r} is not on PATH",
                "npm install -g @anthropic-ai/claude-code, or point --claude-bin / CC_EXECUTOR_CLAUDE_BIN at it",
            )
        ]
    version, auth, registered = await asyncio.gather(
        _output([found, "--version"], COMMAND_TIMEOUT_S),
        _output([found, "auth", "status", "--json"], COMMAND_TIMEOUT_S),
        _output([found, "mcp", "list"], MCP_LIST_TIMEOUT_S),
    )
    checks = [_version_check(found, version), _login_check(auth)]
    return [*checks, _registration_check(registered)]


def _version_check(path: str, ran: tuple[int, str] | str) -> Check:
    if isinstance(ran, str):
        return Check("fail", "claude CLI", f"{path} did not run: {ran}", "reinstall Claude Code")
    code, output = ran
    first = output.strip().splitlines()[0] if output.strip() else ""
    if code != 0 or not first:
        return Check("fail", "claude CLI", f"{path} --version failed (exit {code})", "reinstall Claude Code")
    return Check("ok", "claude CLI", f"{first} at {path}")


def _login_check(ran: tuple[int, str] | str) -> Check:
    fix = "run `claude` once and log in (/login), or set ANTHROPIC_API_KEY for the user that runs the tasks"
    status: object = None
    if not isinstance(ran, str):
        with contextlib.suppress(ValueError):
            status = json.loads(ran[1])
    if isinstance(status, dict):
        if status.get("loggedIn"):
            source = status.get("apiKeySource") or status.get("authMethod") or "yes"
            return Check("ok", "claude login", f"logged in ({source})")
        return Check("fail", "claude login", "claude is not logged in and no API key is set", fix)
    if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        return Check("ok", "claude login", "an API key is set in the environment")
    return Check("warn", "claude login", "could not ask claude (`claude auth status`) and no API key is set", fix)


def _registration_check(ran: tuple[int, str] | str) -> Check:
    add = f"claude mcp add --scope user cc-executor -- {this_command()} mcp"
    if isinstance(ran, str):
        return Check("warn", "Claude Code", f"`claude mcp list` did not answer: {ran}", None)
    ours = [line for line in ran[1].splitlines() if _is_ours(line)]
    if not ours:
        return Check("warn", "Claude Code", "cc-executor is not registered as an MCP server here", add)
    failing = [line for line in ours if "connected" not in line.lower() or "failed" in line.lower()]
    if failing:
        return Check("fail", "Claude Code", failing[0].strip(), f"register it with the full path: {add}")
    return Check("ok", "Claude Code", ours[0].strip())


def _is_ours(line: str) -> bool:
    """A `claude mcp list` line (`name: command args - status`) of a server that runs cc-executor's bridge."""
    name, _, rest = line.partition(": ")
    command = rest.rsplit(" - ", 1)[0]
    return bool(rest) and ("cc-executor" in name or "cc-executor" in command or "cc_executor" in command)


def this_command() -> str:
    """How to start this very installation of cc-executor from anywhere: an absolute path, never PATH."""
    script = Path(sys.executable).with_name("cc-executor")
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m cc_executor"


async def _output(command: Sequence[str], timeout_s: float) -> tuple[int, str] | str:
    """(exit code, stdout) of a short command, or why it could not run; never waits past `timeout_s`."""
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        await process.wait()
        return f"no answer within {timeout_s:g} s"
    return process.returncode or 0, stdout.decode(errors="replace")


# -- data dir and token -----------------------------------------------------------------------------


def _data_dir_checks() -> list[Check]:
    try:
        folder = data_dir()
    except DataDirError as exc:
        return [Check("fail", "data dir", str(exc))]
    checks = [Check("ok", "data dir", f"{folder} (mode {stat.filemode(folder.stat().st_mode)})")]
    checks.append(_token_file_check("token file", token_file(), "a handler first starts"))
    bridge_token = _token_file_check(
        "bridge HTTP token file", folder / TOKEN_FILE_NAME, "the bridge first serves --transport http"
    )
    if bridge_token.verdict != "warn":  # none is fine: it is made when needed
        checks.append(bridge_token)
    return checks


def _token_file_check(what: str, path: Path, made_when: str) -> Check:
    try:
        token = read_token_file(path)
    except TokenFileError as exc:
        return Check("fail", what, str(exc))
    if token is None:
        return Check("warn", what, f"none yet ({path} is made when {made_when})")
    return Check("ok", what, f"{path} (mode {stat.filemode(path.stat().st_mode)})")


# -- handlers ---------------------------------------------------------------------------------------


async def _handler_checks(
    urls: Sequence[str], token: str | None, typed: bool, token_path: Path | None, ca_file: Path | None
) -> list[Check]:
    named = bool(urls)
    try:
        presented = client_token(token, typed, token_path)
        urls = urls or [local_handler_url(data_dir())]
    except (TokenFileError, DataDirError) as exc:
        return [Check("fail", "handler token", str(exc))]
    return list(await asyncio.gather(*(_handler_check(url, presented, named, ca_file) for url in urls)))


async def _handler_check(url: str, token: str | None, named: bool, ca_file: Path | None) -> Check:
    try:
        async with await HandlerClient.connect(url, token, open_timeout=5.0, ca_file=ca_file) as client:
            version = client.greeting.version
    except HandlerUnavailable as exc:
        message = str(exc)
        if "HTTP 401" in message:
            return Check(
                "fail",
                "handler",
                message,
                f"give the handler's token: --token-file FILE / {TOKEN_ENV}, or its token file {token_file()}",
            )
        if not named and "refused the connection" not in message:  # nobody asked for it: optional
            return Check(
                "warn",
                "handler",
                f"none at {url}: tasks run in the bridge itself",
                "to run tasks in a handler, start one: `cc-executor handler`",
            )
        return Check("fail", "handler", message, "start the handler, or fix --handler-url")
    return Check(
        "ok", "handler", f"{url} (version {version}) accepts the token" if token else f"{url} (version {version})"
    )
