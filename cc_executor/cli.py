"""The `cc-executor` command: one entry point, a subcommand per job."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cc_executor import __version__
from cc_executor.logs import LogFormat, configure_logging
from cc_executor.token import TOKEN_ENV, TokenFileError, load_or_create_token

if TYPE_CHECKING:  # imported where used: each command loads only what it needs
    from cc_executor.bridge.executions import BridgeSettings
    from cc_executor.handler.server import HandlerServer

app = typer.Typer(
    name="cc-executor",
    help="Hand tasks to fresh Claude Code instances: a WebSocket execution handler and an MCP bridge.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cc-executor {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Hand tasks to fresh Claude Code instances."""


@app.command()
def handler(
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind. Loopback by default; anything else needs a token (or --no-auth with "
            "--trust-network)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="DEFAULT_PORT", show_envvar=True, help="TCP port (0 picks a free one).")
    ] = 8003,
    token: Annotated[
        str | None,
        typer.Option(
            envvar=TOKEN_ENV,
            show_envvar=True,
            help="Bearer token clients must send. Default: the token file in the data dir, made on first start.",
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Accept clients without a token (old clients cannot send one): on loopback every client; on any "
            "other address only clients from --trust-network networks.",
        ),
    ] = False,
    trust_network: Annotated[
        list[str] | None,
        typer.Option(
            help="With --no-auth: a source network (CIDR, e.g. a Docker bridge 172.17.0.0/16) whose clients need no "
            "token (repeatable); clients from anywhere else still do. Required for --no-auth off loopback.",
        ),
    ] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(help="A browser Origin allowed to connect (repeatable). By default browsers are refused."),
    ] = None,
    max_sessions: Annotated[
        int, typer.Option(envvar="MAX_SESSIONS", show_envvar=True, help="Most connections served at once.")
    ] = 32,
    max_frame_bytes: Annotated[
        int, typer.Option(help="Largest client frame answered, for protocol 2.0 clients (bytes).")
    ] = 1 << 20,
    old_client_max_frame_bytes: Annotated[
        int,
        typer.Option(
            envvar="WS_MAX_SIZE",
            show_envvar=True,
            help="Largest client frame answered for clients without the cc-executor.v2 subprotocol (the old "
            "handler's limit; bytes).",
        ),
    ] = 10 << 20,
    compression: Annotated[
        bool, typer.Option("--compression", help="Offer permessage-deflate (worth it only over slow networks).")
    ] = False,
    default_timeout: Annotated[
        int | None,
        typer.Option(
            envvar="DEFAULT_EXECUTION_TIMEOUT",
            show_envvar=True,
            help="Timeout in seconds for executions that do not set one (default: none; else STREAM_TIMEOUT when "
            "ENABLE_STREAM_TIMEOUT=true, as the old handler read them).",
        ),
    ] = None,
    heartbeat_interval: Annotated[
        float,
        typer.Option(
            envvar="WEBSOCKET_HEARTBEAT_INTERVAL",
            show_envvar=True,
            help="Seconds between the `ping` notifications sent to clients without the cc-executor.v2 subprotocol, "
            "as the old handler did (0: none).",
        ),
    ] = 30.0,
    session_timeout: Annotated[
        float | None,
        typer.Option(
            envvar="SESSION_TIMEOUT",
            show_envvar=True,
            help="Close a connection that has sent nothing and run nothing for this many seconds (default: never).",
        ),
    ] = None,
    allowed_commands: Annotated[
        str | None,
        typer.Option(
            envvar="ALLOWED_COMMANDS",
            show_envvar=True,
            help="Comma-separated first words a command may start with (e.g. echo,ls); others are refused with "
            "-32001. Default: any command.",
        ),
    ] = None,
    ws_ping_interval: Annotated[
        float,
        typer.Option(envvar="WS_PING_INTERVAL", show_envvar=True, help="Seconds between WebSocket ping frames."),
    ] = 20.0,
    ws_ping_timeout: Annotated[
        float,
        typer.Option(
            envvar="WS_PING_TIMEOUT",
            show_envvar=True,
            help="Seconds to wait for a WebSocket pong before the connection is dropped.",
        ),
    ] = 20.0,
    kill_grace: Annotated[float, typer.Option(help="Seconds between SIGTERM and SIGKILL when ending a group.")] = 3.0,
    scrub_env: Annotated[
        list[str] | None,
        typer.Option(help="Environment variable never passed to executions (repeatable), e.g. a secret."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="Log lines as text or json (on stderr).")] = "text",
    log_level: Annotated[
        str, typer.Option(envvar="LOG_LEVEL", show_envvar=True, help="DEBUG, INFO, WARNING or ERROR.")
    ] = "INFO",
) -> None:
    """Run the WebSocket execution handler (JSON-RPC 2.0 at ws://HOST:PORT/ws/mcp, also at /ws)."""
    import ipaddress

    from cc_executor.handler.process_runner import RunLimits
    from cc_executor.handler.server import ConfigError, HandlerConfig, HandlerServer
    from cc_executor.paths import data_dir

    level = logging.getLevelNamesMapping().get(log_level.upper())
    if level is None:
        _fail("--log-level must be DEBUG, INFO, WARNING or ERROR")
        return
    configure_logging(_log_format(log_format), level=level)
    try:
        networks = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in trust_network or ())
    except ValueError as exc:
        _fail(f"--trust-network: {exc}")
    try:
        config = HandlerConfig(
            host=host,
            port=port,
            token=None,
            no_auth=no_auth,
            trusted_networks=networks,
            allowed_origins=tuple(allow_origin or ()),
            max_sessions=max_sessions,
            max_frame_bytes=max_frame_bytes,
            old_client_max_frame_bytes=old_client_max_frame_bytes,
            compression=compression,
            default_timeout_s=default_timeout if default_timeout is not None else _old_stream_timeout(),
            heartbeat_s=heartbeat_interval or None,
            idle_timeout_s=session_timeout or None,
            allowed_commands=tuple(word.strip() for word in (allowed_commands or "").split(",") if word.strip()),
            ws_ping_interval_s=ws_ping_interval or None,
            ws_ping_timeout_s=ws_ping_timeout or None,
            run_limits=RunLimits(kill_grace_s=kill_grace, scrub_env=tuple(scrub_env or ()), reap_strays=True),
            state_dir=data_dir() / "running",
        )
        if config.token_required_somewhere:
            config = replace(config, token=token or load_or_create_token())
        server = HandlerServer(config)
    except (ConfigError, TokenFileError) as exc:
        _fail(str(exc))
    try:
        asyncio.run(_serve_until_signalled(server))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _old_stream_timeout() -> int | None:
    """The old handler's STREAM_TIMEOUT, which applied to every execution only with ENABLE_STREAM_TIMEOUT=true."""
    if os.environ.get("ENABLE_STREAM_TIMEOUT", "false").lower() != "true":
        return None
    try:
        return int(os.environ.get("STREAM_TIMEOUT", "600"))
    except ValueError:
        _fail("STREAM_TIMEOUT must be a whole number of seconds")
        return None


def _use_pidfd_child_watcher() -> None:
    """Watch children through pidfds (Linux): Python 3.11's default spends a thread per child process."""
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            watcher = asyncio.PidfdChildWatcher()
            watcher.attach_loop(asyncio.get_running_loop())
            asyncio.set_child_watcher(watcher)


async def _serve_until_signalled(server: HandlerServer) -> None:
    """Serve until SIGINT/SIGTERM, then close every session so no process group outlives the handler."""
    _use_pidfd_child_watcher()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    typer.echo(f"cc-executor handler listening on {server.url}", err=True)
    await stop.wait()
    await server.close()


# -- options shared by the commands that run tasks (mcp, run) -------------------------------

HandlerUrls = Annotated[
    list[str] | None,
    typer.Option(
        "--handler-url",
        help="Handler WebSocket URL (repeatable). Default: ws://127.0.0.1:8003/ws/mcp; with none reachable, "
        "tasks run locally.",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(envvar=TOKEN_ENV, show_envvar=True, help="Handler bearer token. Default: the handler's token file."),
]
ClaudeBin = Annotated[
    str | None,
    typer.Option(
        envvar="CC_EXECUTOR_CLAUDE_BIN", show_envvar=True, help="The claude executable. Default: claude on PATH."
    ),
]
BackendChoice = Annotated[
    str, typer.Option(help="auto: a handler if reachable, else local; handler: handlers only; local: never a handler.")
]
TaskTimeout = Annotated[int, typer.Option(help="Default seconds a task may run (a task's own timeout_s wins).")]
MaxConcurrent = Annotated[int, typer.Option(help="Most tasks running at once.")]
MaxOutputBytes = Annotated[int, typer.Option(help="Most bytes of each stream stored per task.")]
LogFormatOption = Annotated[str, typer.Option(help="Log lines as text or json (on stderr).")]


def _bridge_settings(
    handler_url: list[str] | None,
    token: str | None,
    claude_bin: str | None,
    backend: str,
    task_timeout: int,
    max_concurrent: int,
    max_output_bytes: int,
) -> BridgeSettings:
    from cc_executor.bridge.claude_command import resolve_claude_bin
    from cc_executor.bridge.executions import BridgeSettings
    from cc_executor.bridge.handler_pool import DEFAULT_HANDLER_URL
    from cc_executor.paths import data_dir
    from cc_executor.token import resolve_client_token

    if backend not in ("auto", "handler", "local"):
        _fail("--backend must be auto, handler or local")
    if max_concurrent < 1 or task_timeout < 1 or max_output_bytes < 1:
        _fail("--max-concurrent, --task-timeout and --max-output-bytes must be positive")
    try:
        resolved_token = resolve_client_token(token) if backend != "local" else None
    except TokenFileError as exc:
        _fail(str(exc))
    return BridgeSettings(
        data_dir=data_dir(),
        claude_bin=resolve_claude_bin(claude_bin),
        handler_urls=tuple(handler_url or [DEFAULT_HANDLER_URL]),
        token=resolved_token,
        backend=backend,  # type: ignore[arg-type]
        task_timeout_s=task_timeout,
        max_concurrent=max_concurrent,
        max_output_bytes=max_output_bytes,
    )


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (for MCP hosts) or http (streamable HTTP on loopback).")] = (
        "stdio"
    ),
    host: Annotated[str, typer.Option(help="Address for --transport http (loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8004,
    handler_url: HandlerUrls = None,
    token: Token = None,
    claude_bin: ClaudeBin = None,
    backend: BackendChoice = "auto",
    task_timeout: TaskTimeout = 1800,
    max_concurrent: MaxConcurrent = 8,
    max_output_bytes: MaxOutputBytes = 256 * 1024 * 1024,
    log_format: LogFormatOption = "text",
) -> None:
    """Run the MCP server: `claude mcp add cc-executor -- cc-executor mcp`."""
    from cc_executor.bridge.executions import ExecutionManager
    from cc_executor.bridge.transports import run_until_stopped, serve_http, serve_stdio
    from cc_executor.handler.server import is_loopback

    configure_logging(_log_format(log_format))
    if transport not in ("stdio", "http"):
        _fail("--transport must be stdio or http")
    if transport == "http" and not is_loopback(host):
        _fail(f"--host {host} is refused: the MCP HTTP transport has no authentication, so it binds loopback only")
    settings = _bridge_settings(handler_url, token, claude_bin, backend, task_timeout, max_concurrent, max_output_bytes)

    async def main() -> int:
        manager = ExecutionManager(settings)
        if transport == "stdio":
            return await run_until_stopped(serve_stdio, manager)
        return await run_until_stopped(lambda m: serve_http(m, host, port), manager)

    raise typer.Exit(asyncio.run(main()))


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="The task for a fresh Claude Code instance.")] = None,
    command: Annotated[
        str | None, typer.Option("--command", help="Run this shell command instead of a Claude task.")
    ] = None,
    cwd: Annotated[str | None, typer.Option(help="Working directory of the task.")] = None,
    model: Annotated[str | None, typer.Option(help="Model for claude --model.")] = None,
    max_turns: Annotated[int | None, typer.Option(help="Stop after this many turns.")] = None,
    permission_mode: Annotated[str | None, typer.Option(help="Claude Code permission mode.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON (nothing else on stdout).")] = (
        False
    ),
    handler_url: HandlerUrls = None,
    token: Token = None,
    claude_bin: ClaudeBin = None,
    backend: BackendChoice = "auto",
    task_timeout: TaskTimeout = 1800,
    max_output_bytes: MaxOutputBytes = 256 * 1024 * 1024,
    log_format: LogFormatOption = "text",
) -> None:
    """Run one task (or --command) through the same engine as the MCP tools, with live progress."""
    from cc_executor.bridge.terminal import run_in_terminal

    if (task is None) == (command is None):
        _fail("give either a TASK or --command (one of them)")
    configure_logging(_log_format(log_format), level=logging.WARNING)
    settings = _bridge_settings(handler_url, token, claude_bin, backend, task_timeout, 1, max_output_bytes)
    options = {"cwd": cwd, "model": model, "max_turns": max_turns, "permission_mode": permission_mode}
    raise typer.Exit(asyncio.run(run_in_terminal(settings, task, command, options, json_output)))


@app.command()
def status(
    url: Annotated[str, typer.Argument(help="The handler's WebSocket URL.")] = "ws://127.0.0.1:8003/ws/mcp",
    token: Token = None,
    once: Annotated[bool, typer.Option("--once", help="Print one snapshot and exit.")] = False,
) -> None:
    """Show a live table of a handler's sessions and running executions (Ctrl-C to quit)."""
    from cc_executor.client import HandlerError, HandlerUnavailable
    from cc_executor.status_view import show_status
    from cc_executor.token import resolve_client_token

    try:
        code = asyncio.run(show_status(url, resolve_client_token(token), once))
    except (HandlerUnavailable, HandlerError, TokenFileError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


@app.command()
def verify(
    url: Annotated[str, typer.Argument(help="WebSocket URL of the handler to check, e.g. ws://127.0.0.1:8003/ws/mcp.")],
    token: Token = None,
    junit: Annotated[Path | None, typer.Option(help="Also write the verdicts as JUnit XML to this file.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fields and capabilities beyond the recordings count as differences.")
    ] = False,
    scenario: Annotated[list[str] | None, typer.Option(help="Only this scenario (repeatable).")] = None,
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            help="Only the recordings of this protocol mode (repeatable): 1.0 (old clients, no subprotocol) or 2.0 "
            "(cc-executor.v2). Default: both.",
        ),
    ] = None,
    allow_known: Annotated[
        bool,
        typer.Option(
            "--allow-known",
            help="Fail only on unexpected differences: those of the old handler listed in spec/README.md pass.",
        ),
    ] = False,
) -> None:
    """Replay the contract scenarios against a handler; exit 1 if any differs from the recordings.

    Each difference is labelled "known: <row of spec/README.md's compatibility table>" or "unexpected".
    """
    from rich.console import Console

    from cc_executor.client import HandlerUnavailable
    from cc_executor.token import resolve_client_token
    from cc_executor.verify import print_table, verify, write_junit

    try:
        protocols = tuple(protocol or ("1.0", "2.0"))
        verdicts = asyncio.run(
            verify(url, resolve_client_token(token), strict=strict, only=scenario, protocols=protocols)
        )
    except (ValueError, TokenFileError, HandlerUnavailable) as exc:
        _fail(str(exc))
    print_table(Console(), url, verdicts, allow_known)
    if junit is not None:
        write_junit(junit, url, verdicts, allow_known)
    raise typer.Exit(1 if any(verdict.failed(allow_known) for verdict in verdicts) else 0)


def _log_format(value: str) -> LogFormat:
    if value not in ("text", "json"):
        _fail("--log-format must be text or json")
    return value  # type: ignore[return-value]


def _fail(message: str) -> None:
    typer.echo(f"cc-executor: error: {message}", err=True)
    raise typer.Exit(2)


def main() -> None:
    app(prog_name="cc-executor")
