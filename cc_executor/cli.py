"""The `cc-executor` command: one entry point, a subcommand per job."""

# No `from __future__ import annotations` here: typer reads every command's annotations at every run, and
# annotations evaluated once as the module loads cost less than half of evaluating them from strings then
# (about 8 ms of each start, `cc-executor mcp`'s among them).
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

from cc_executor import __version__
from cc_executor.logs import configure_logging
from cc_executor.spec_files import SPEC_DIR
from cc_executor.terminal_text import visible
from cc_executor.token import TOKEN_ENV, TokenFileError

if TYPE_CHECKING:  # imported where used: each command loads only what it needs
    from collections.abc import Coroutine

    from cc_executor.bridge.settings import BridgeSettings
    from cc_executor.handler.hooks_file import HooksSetup
    from cc_executor.handler.server import HandlerServer

DEBUG_ENV = "CC_EXECUTOR_DEBUG"

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
        bool,
        typer.Option("--version", metavar="", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Hand tasks to fresh Claude Code instances."""


# -- options shared by several commands ----------------------------------------------------------

Backend = Literal["auto", "handler", "local"]
LogFormatChoice = Literal["text", "json"]

HandlerUrls = Annotated[
    list[str] | None,
    typer.Option(
        "--handler-url",
        metavar="URL",
        envvar="CC_EXECUTOR_HANDLER_URL",
        show_envvar=True,
        help="Handler URL: ws://HOST:PORT/ws/mcp, wss://… or ws+unix:///path/to/handler.sock (repeatable; in the "
        "variable, separated by spaces). Default: the local handler's socket in the data dir "
        "(ws+unix://DATA_DIR/handler.sock), quietly skipped when no handler listens there; a handler named here "
        "that does not answer is reported (a warning, and handler_error in the result) before the task runs locally.",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar=TOKEN_ENV,
        show_envvar=True,
        metavar="TOKEN",
        help="Handler bearer token (on the command line every user can read it: prefer --token-file or the "
        "variable). Default: --token-file, else the handler's token file in the data dir.",
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Read the handler's bearer token from this file (yours, mode 0600). Default: handler.token in the data "
        "dir.",
    ),
]
CaFile = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        envvar="CC_EXECUTOR_CA_FILE",
        show_envvar=True,
        help="CA certificates (PEM) that a wss:// handler's certificate must chain to. Default: the system's.",
    ),
]
ClaudeBin = Annotated[
    str | None,
    typer.Option(
        envvar="CC_EXECUTOR_CLAUDE_BIN",
        show_envvar=True,
        metavar="PATH",
        help="The claude executable. Default: claude on PATH.",
    ),
]
BackendChoice = Annotated[
    Backend,
    typer.Option(
        help="auto: a handler if one is reachable, else here; handler: handlers only; local: never a handler."
    ),
]
TaskTimeout = Annotated[
    int, typer.Option(min=1, metavar="SECONDS", help="Default time a task may run (a task's own timeout_s wins).")
]
MaxConcurrent = Annotated[int, typer.Option(min=1, metavar="N", help="Most tasks running at once.")]
QueueTimeout = Annotated[
    float,
    typer.Option(
        min=0,
        metavar="SECONDS",
        help="When every handler is full, the most a task waits for a free one (never longer than its own "
        "timeout); then it fails, having run nowhere.",
    ),
]
MaxOutputBytes = Annotated[int, typer.Option(min=1, metavar="BYTES", help="Most bytes of each stream stored per task.")]
MaxOutputTotalBytes = Annotated[
    int,
    typer.Option(
        min=1,
        metavar="BYTES",
        help="Most bytes of stored output of all tasks in the data dir; beyond it the output of the oldest ended "
        "tasks is deleted (their results stay in the history).",
    ),
]
LogFormatOption = Annotated[
    LogFormatChoice, typer.Option(help="Log lines as text or as one JSON object each (stderr).")
]
HooksFile = Annotated[
    Path | None,
    typer.Option(
        "--hooks",
        metavar="FILE",
        help="Hooks file in the old .claude-hooks.json shape: commands run before and after each execution "
        "(docs/hooks.md). Default: .claude-hooks.json in the working directory, if there is one.",
    ),
]


@app.command()
def handler(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS",
            help="Address to bind. Loopback by default; anything else needs a token (or --no-auth with "
            "--trust-network).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            envvar="DEFAULT_PORT",
            show_envvar=True,
            help="TCP port (0 picks a free one).",
        ),
    ] = 8003,
    token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            envvar=TOKEN_ENV,
            show_envvar=True,
            help="Bearer token clients must send (on the command line every user can read it: prefer --token-file or "
            "the variable); at least 32 characters on an address other than loopback. Default: the token file.",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The token file (yours, mode 0600), made with a new token if it is not there. Default: "
            "handler.token in the data dir.",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="TLS certificate chain (PEM): serve wss:// and https://. With --tls-key."),
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(metavar="FILE", help="The TLS certificate's private key (PEM).")] = (
        None
    ),
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help="A Host name clients may use besides loopback names and IP addresses (repeatable), e.g. the name of "
            "the handler's container. Other names are refused (421): that stops DNS rebinding.",
        ),
    ] = None,
    unix_socket: Annotated[
        bool,
        typer.Option(
            help="Also listen on the Unix socket handler.sock in the data dir, which only you can reach; local "
            "bridges and the CLI use it by default."
        ),
    ] = True,
    max_pending_connections: Annotated[
        int,
        typer.Option(
            metavar="N",
            min=1,
            help="Most connections that have not become a session yet (in their handshake); more are dropped at once.",
        ),
    ] = 64,
    handshake_timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", min=0.1, help="Time a connection has to complete its opening handshake."),
    ] = 5.0,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            metavar="",
            help="Accept clients without a token (old clients cannot send one): on loopback every client; on any "
            "other address only clients from --trust-network networks.",
        ),
    ] = False,
    trust_network: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CIDR",
            help="With --no-auth: a source network (CIDR, e.g. a Docker bridge 172.17.0.0/16) whose clients need no "
            "token (repeatable); clients from anywhere else still do. Required for --no-auth off loopback.",
        ),
    ] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ORIGIN", help="A browser Origin allowed to connect (repeatable). By default browsers are refused."
        ),
    ] = None,
    max_sessions: Annotated[
        int,
        typer.Option(
            metavar="N", min=1, envvar="MAX_SESSIONS", show_envvar=True, help="Most connections served at once."
        ),
    ] = 32,
    max_running: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            help="Most executions running at once (default: --max-sessions). Connections may be more; further "
            "executions wait in a FIFO queue (protocol 2.0 clients are told, with process.queued).",
        ),
    ] = None,
    max_queued_executions: Annotated[
        int,
        typer.Option(
            metavar="N",
            min=0,
            help="Most executions waiting for a slot; one more is answered -32004 (handler_full): nothing ran.",
        ),
    ] = 64,
    drain_grace: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            help="On SIGTERM the handler drains: no new connections or executions, queued ones handed back, /ready "
            "503; running executions get this long to finish before they are ended. SIGINT (or a second SIGTERM) "
            "stops at once.",
        ),
    ] = 30.0,
    max_frame_bytes: Annotated[
        int,
        typer.Option(metavar="BYTES", min=256, help="Largest client frame answered, for protocol 2.0 clients (bytes)."),
    ] = 1 << 20,
    max_stdin_bytes: Annotated[
        int,
        typer.Option(
            metavar="BYTES",
            min=0,
            help="Largest stdin of an execute (protocol 2.0; UTF-8 bytes): an execute frame may exceed "
            "--max-frame-bytes by its stdin. 8 MiB takes a 4 MiB prompt.",
        ),
    ] = 8 << 20,
    old_client_max_frame_bytes: Annotated[
        int,
        typer.Option(
            metavar="BYTES",
            min=1024,
            envvar="WS_MAX_SIZE",
            show_envvar=True,
            help="Largest client frame answered for clients without the cc-executor.v2 subprotocol (the old "
            "handler's limit; bytes).",
        ),
    ] = 10 << 20,
    compression: Annotated[
        bool,
        typer.Option("--compression", metavar="", help="Offer permessage-deflate (worth it only over slow networks)."),
    ] = False,
    default_timeout: Annotated[
        int | None,
        typer.Option(
            metavar="SECONDS",
            min=1,
            envvar="DEFAULT_EXECUTION_TIMEOUT",
            show_envvar=True,
            help="Timeout in seconds for executions that do not set one (default: none; else STREAM_TIMEOUT when "
            "ENABLE_STREAM_TIMEOUT=true, as the old handler read them).",
        ),
    ] = None,
    heartbeat_interval: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            envvar="WEBSOCKET_HEARTBEAT_INTERVAL",
            show_envvar=True,
            help="Seconds between the `ping` notifications sent to clients without the cc-executor.v2 subprotocol, "
            "as the old handler did (0: none).",
        ),
    ] = 30.0,
    session_timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            min=0,
            envvar="SESSION_TIMEOUT",
            show_envvar=True,
            help="Close a connection that has sent nothing and run nothing for this many seconds (default: never).",
        ),
    ] = None,
    allowed_commands: Annotated[
        str | None,
        typer.Option(
            metavar="WORDS",
            envvar="ALLOWED_COMMANDS",
            show_envvar=True,
            help="Comma-separated first words a command may start with (e.g. echo,ls); others are refused with "
            "-32001. Default: any command.",
        ),
    ] = None,
    ws_ping_interval: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            envvar="WS_PING_INTERVAL",
            show_envvar=True,
            help="Seconds between WebSocket ping frames.",
        ),
    ] = 20.0,
    ws_ping_timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0,
            envvar="WS_PING_TIMEOUT",
            show_envvar=True,
            help="Seconds to wait for a WebSocket pong before the connection is dropped.",
        ),
    ] = 20.0,
    kill_grace: Annotated[
        float, typer.Option(metavar="SECONDS", min=0, help="Seconds between SIGTERM and SIGKILL when ending a group.")
    ] = 3.0,
    scrub_env: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME", help="Environment variable never passed to executions (repeatable), e.g. a secret."
        ),
    ] = None,
    hooks: HooksFile = None,
    log_format: LogFormatOption = "text",
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        typer.Option(envvar="LOG_LEVEL", show_envvar=True, case_sensitive=False, help="Least severe log lines shown."),
    ] = "INFO",
) -> None:
    """Run the WebSocket execution handler (JSON-RPC 2.0 at ws://HOST:PORT/ws/mcp, also at /ws, and on the Unix
    socket in the data dir)."""
    import ipaddress

    from cc_executor.credentials import server_token
    from cc_executor.endpoints import SOCKET_NAME
    from cc_executor.handler.execution_types import RunLimits
    from cc_executor.handler.server import ConfigError, HandlerConfig, HandlerServer
    from cc_executor.paths import DataDirError, data_dir

    configure_logging(log_format, level=logging.getLevelNamesMapping()[log_level.upper()])
    typed_token = _warn_if_typed(ctx, "token")
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
            max_running=max_running,
            max_queued_executions=max_queued_executions,
            drain_grace_s=drain_grace,
            max_frame_bytes=max_frame_bytes,
            max_stdin_bytes=max_stdin_bytes,
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
            unix_socket=data_dir() / SOCKET_NAME if unix_socket else None,
            allowed_hosts=tuple(allow_host or ()),
            tls_cert=tls_cert,
            tls_key=tls_key,
            max_pending_connections=max_pending_connections,
            handshake_timeout_s=handshake_timeout,
            hooks=_hooks(hooks),
        )
        if config.token_required_somewhere:
            config = replace(config, token=server_token(token, typed_token, token_file))
        server = HandlerServer(config)
    except (ConfigError, TokenFileError, DataDirError) as exc:
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


async def _serve_until_signalled(server: "HandlerServer") -> None:
    """Serve until SIGTERM (drain, then close) or SIGINT (close now); no process group outlives the handler."""
    from cc_executor.fd_limit import raise_open_file_limit
    from cc_executor.handler.launcher import watch_children_with_pidfds
    from cc_executor.handler.process_runner import reap_strays_forever

    watch_children_with_pidfds()
    raise_open_file_limit()
    drain, stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.set() if drain.is_set() else drain.set())
    await server.start()
    where = f"{server.url} and {server.unix_url}" if server.unix_url else server.url
    typer.echo(f"cc-executor handler listening on {where}", err=True)
    reaper = asyncio.ensure_future(reap_strays_forever())
    await _unless(stop, drain.wait())
    if not stop.is_set():
        await _unless(stop, server.drain(server.config.drain_grace_s))  # SIGINT or a second SIGTERM cuts it short
    reaper.cancel()
    await server.close()


async def _unless(stop: asyncio.Event, work: "Coroutine[Any, Any, object]") -> None:
    """Await `work`, or cancel it as soon as `stop` is set."""
    task, stopped = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    for future in (task, stopped):
        future.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await future


def _hooks(explicit: Path | None) -> "HooksSetup":
    """--hooks FILE (it must load), else .claude-hooks.json in the working directory (reported if unusable)."""
    from cc_executor.handler.hooks_file import HooksFileError, find_hooks

    try:
        return find_hooks(explicit, Path.cwd())
    except HooksFileError as exc:
        _fail(str(exc))


def _bridge_settings(
    handler_url: list[str] | None,
    token: str | None,
    claude_bin: str | None,
    backend: Backend,
    task_timeout: int,
    max_concurrent: int,
    max_output_bytes: int,
    **more: Any,
) -> "BridgeSettings":
    """The settings of a bridge (`mcp`, `run`): `more` are BridgeSettings fields given as they are."""
    from cc_executor.bridge.claude_command import resolve_claude_bin
    from cc_executor.bridge.settings import BridgeSettings
    from cc_executor.endpoints import check_url, local_handler_url
    from cc_executor.handler.execution_types import RunLimits

    data = _data_dir()
    for url in handler_url or ():
        try:
            check_url(url)
        except ValueError as exc:
            _fail(f"--handler-url: {exc}")
    return BridgeSettings(
        data_dir=data,
        claude_bin=resolve_claude_bin(claude_bin),
        handler_urls=tuple(handler_url or [local_handler_url(data)]),
        handlers_named=bool(handler_url),
        token=token if backend != "local" else None,
        backend=backend,
        task_timeout_s=task_timeout,
        max_concurrent=max_concurrent,
        max_output_bytes=max_output_bytes,
        # every child of this process is an execution, so exited strays can be reaped (no zombies)
        run_limits=RunLimits(reap_strays=True),
        **more,
    )


@app.command()
def mcp(
    ctx: typer.Context,
    transport: Annotated[
        Literal["stdio", "http"],
        typer.Option(help="stdio: for MCP hosts that start the server; http: streamable HTTP on loopback."),
    ] = "stdio",
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address for --transport http (loopback only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="Port for --transport http (0 picks a free one).")
    ] = 8004,
    http_token_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="For --transport http: the file (yours, mode 0600) with the bearer token every request must carry, "
            "made with a new token if it is not there. Default: bridge-http.token in the data dir.",
        ),
    ] = None,
    max_sessions: Annotated[
        int, typer.Option(metavar="N", min=1, help="For --transport http: most MCP sessions open at once.")
    ] = 16,
    session_idle_timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=1,
            help="For --transport http: end an MCP session that has had no request in flight and no event stream "
            "open for this long.",
        ),
    ] = 120.0,
    handler_url: HandlerUrls = None,
    token: Token = None,
    token_file: TokenFile = None,
    ca_file: CaFile = None,
    claude_bin: ClaudeBin = None,
    backend: BackendChoice = "auto",
    task_timeout: TaskTimeout = 1800,
    max_concurrent: MaxConcurrent = 8,
    max_queued: Annotated[
        int,
        typer.Option(
            metavar="N", min=0, help="Most tasks waiting for a slot; one more is refused with an error that says so."
        ),
    ] = 64,
    queue_timeout: QueueTimeout = 900.0,
    max_output_bytes: MaxOutputBytes = 256 * 1024 * 1024,
    max_output_total_bytes: MaxOutputTotalBytes = 2 * 1024 * 1024 * 1024,
    hooks: HooksFile = None,
    log_format: LogFormatOption = "text",
) -> None:
    """Run the MCP server (register it: claude mcp add --scope user cc-executor -- /path/to/cc-executor mcp)."""
    # only what answering `initialize` needs is imported here; the engine loads beside the transport
    from cc_executor.bridge.engine_loading import LoadingEngine
    from cc_executor.bridge.transports import run_until_stopped, serve_stdio
    from cc_executor.fd_limit import raise_open_file_limit

    configure_logging(log_format)
    if transport == "http":
        from cc_executor.handler.server import is_loopback

        if not is_loopback(host):
            _fail(f"--host {host} is refused: the MCP HTTP transport runs commands as you, so it binds loopback only")
    settings = _bridge_settings(
        handler_url,
        _client_token_of(ctx, token, token_file) if backend != "local" else None,
        claude_bin,
        backend,
        task_timeout,
        max_concurrent,
        max_output_bytes,
        ca_file=ca_file,
        max_queued=max_queued,
        queue_timeout_s=queue_timeout,
        max_output_total_bytes=max_output_total_bytes,
        hooks=_hooks(hooks),
    )
    raise_open_file_limit()
    if transport == "http":
        from cc_executor.bridge.http_auth import default_token_file
        from cc_executor.bridge.http_transport import HttpAccess, bind_http, serve_http
        from cc_executor.token import load_or_create_token

        token_path = http_token_file or default_token_file()
        try:
            access = HttpAccess(load_or_create_token(token_path), max_sessions, session_idle_timeout)
        except (TokenFileError, OSError) as exc:
            _fail(f"the HTTP token file: {exc}")
        try:
            listener = bind_http(host, port)
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        bound_port = listener.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        typer.echo(
            f"cc-executor MCP server (streamable HTTP) at http://{url_host}:{bound_port}/mcp; every request needs "
            f"'Authorization: Bearer <the token in {token_path}>'",
            err=True,
        )

    async def serve_on_http(engine: LoadingEngine) -> None:
        engine.start()  # no client is waiting for this server's first answer yet: load at once
        await serve_http(engine.tools, listener, access)

    async def main() -> int:
        return await run_until_stopped(serve_stdio if transport == "stdio" else serve_on_http, LoadingEngine(settings))

    raise typer.Exit(asyncio.run(main()))


@app.command("permission-relay")
def permission_relay(
    timeout: Annotated[
        float,
        typer.Option(
            min=1, metavar="SECONDS", help="Deny a question that has no answer after this long (a last resort)."
        ),
    ] = 3600.0,
) -> None:
    """The MCP server (stdio) a task's Claude Code asks for permission: the bridge names it in --mcp-config and
    --permission-prompt-tool for tasks with permission_prompts 'orchestrator'. Not run by hand."""
    from cc_executor.permission_relay import serve

    asyncio.run(serve(timeout))


def _permission_modes() -> tuple[str, ...]:
    """The permission modes the spec accepts, read from the spec itself (the generated models cost a cold start
    more than this file does)."""
    schema = json.loads((SPEC_DIR / "mcp" / "common.json").read_text("utf-8"))
    return tuple(mode for mode in schema["$defs"]["PermissionMode"]["enum"] if mode is not None)


PERMISSION_MODES = _permission_modes()


def _permission_mode(value: str | None) -> str | None:
    if value is not None and value not in PERMISSION_MODES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(sorted(PERMISSION_MODES))}")
    return value


@app.command()
def run(
    ctx: typer.Context,
    task: Annotated[
        str | None, typer.Argument(metavar="TASK", help="The task for a fresh Claude Code instance.")
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", metavar="SHELL", help="Run this shell command instead of a Claude task.")
    ] = None,
    cwd: Annotated[
        str | None,
        typer.Option(metavar="DIR", help="Working directory of the task. Default: the current directory."),
    ] = None,
    model: Annotated[str | None, typer.Option(metavar="MODEL", help="Model for claude --model, e.g. sonnet.")] = None,
    max_turns: Annotated[int | None, typer.Option(min=1, metavar="N", help="Stop after this many turns.")] = None,
    permission_mode: Annotated[
        str | None,
        typer.Option(
            metavar=f"<{'|'.join(sorted(PERMISSION_MODES))}>",
            callback=_permission_mode,
            help="Claude Code permission mode. Default: Claude Code's own (in headless mode, tools that would ask "
            "are denied).",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(metavar="SESSION", help="Continue this Claude Code session (a result's session_id)."),
    ] = None,
    fork_session: Annotated[
        bool, typer.Option("--fork-session", metavar="", help="With --resume: branch the session into a new one.")
    ] = False,
    max_budget_usd: Annotated[
        float | None, typer.Option(min=0.000001, metavar="USD", help="Stop a task once it has cost this much.")
    ] = None,
    task_list: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Run the tasks of a task-list file: Markdown (### Task N: title, the body is the task), JSON or "
            "YAML ([{task, ...options}]); the options above apply to every task that does not set its own.",
        ),
    ] = None,
    parallel: Annotated[
        int, typer.Option(min=1, max=16, metavar="N", help="With --task-list: run up to N tasks at once.")
    ] = 1,
    stop_on_failure: Annotated[
        bool,
        typer.Option("--stop-on-failure", metavar="", help="With --task-list: start no task once one fails."),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", metavar="", help="Print the result (with --task-list, every result) as JSON; nothing else."
        ),
    ] = (False),
    handler_url: HandlerUrls = None,
    token: Token = None,
    token_file: TokenFile = None,
    ca_file: CaFile = None,
    claude_bin: ClaudeBin = None,
    backend: BackendChoice = "auto",
    task_timeout: TaskTimeout = 1800,
    queue_timeout: QueueTimeout = 900.0,
    max_output_bytes: MaxOutputBytes = 256 * 1024 * 1024,
    hooks: HooksFile = None,
    log_format: LogFormatOption = "text",
) -> None:
    """Run one task (or --command, or a --task-list file) through the same engine as the MCP tools, with live
    progress. The exit status is non-zero when a task did not complete."""
    from cc_executor.bridge.terminal import run_in_terminal, run_list_in_terminal

    if sum(given is not None for given in (task, command, task_list)) != 1:
        _fail("give a TASK, --command or --task-list (one of them)")
    configure_logging(log_format, level=logging.WARNING)
    resolved = _client_token_of(ctx, token, token_file) if backend != "local" else None
    more: dict[str, Any] = {"ca_file": ca_file, "hooks": _hooks(hooks), "queue_timeout_s": queue_timeout}
    options = {
        "cwd": cwd,
        "model": model,
        "max_turns": max_turns,
        "permission_mode": permission_mode,
        "resume_session_id": resume,
        "fork_session": fork_session or None,
        "max_budget_usd": max_budget_usd,
    }
    if task_list is not None:
        from cc_executor.bridge.task_list_file import TaskListError, read_task_list

        try:
            specs = read_task_list(task_list, {k: v for k, v in options.items() if v is not None})
        except TaskListError as exc:
            _fail(str(exc))
        settings = _bridge_settings(
            handler_url, resolved, claude_bin, backend, task_timeout, parallel, max_output_bytes, **more
        )
        raise typer.Exit(asyncio.run(run_list_in_terminal(settings, specs, parallel, stop_on_failure, json_output)))
    settings = _bridge_settings(handler_url, resolved, claude_bin, backend, task_timeout, 1, max_output_bytes, **more)
    raise typer.Exit(asyncio.run(run_in_terminal(settings, task, command, options, json_output)))


@app.command()
def status(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Argument(
            metavar="URL",
            help="The handler's URL (ws://, wss:// or ws+unix://). Default: the local handler's socket in the data "
            "dir.",
        ),
    ] = None,
    token: Token = None,
    token_file: TokenFile = None,
    ca_file: CaFile = None,
    once: Annotated[bool, typer.Option("--once", metavar="", help="Print one snapshot and exit.")] = False,
) -> None:
    """Show a live table of a handler's sessions and their executions: running, starting (their pre-execution hooks
    run) or queued (Ctrl-C to quit)."""
    from cc_executor.client import HandlerError, HandlerUnavailable
    from cc_executor.endpoints import local_handler_url
    from cc_executor.status_view import show_status

    presented = _client_token_of(ctx, token, token_file)
    url = url or local_handler_url(_data_dir())
    try:
        code = asyncio.run(show_status(url, presented, once, ca_file=ca_file))
    except (HandlerUnavailable, HandlerError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


@app.command()
def doctor(
    ctx: typer.Context,
    handler_url: HandlerUrls = None,
    token: Token = None,
    token_file: TokenFile = None,
    ca_file: CaFile = None,
    claude_bin: ClaudeBin = None,
) -> None:
    """Check what cc-executor needs: claude and its login, the data dir, a handler, the Claude Code registration."""
    from cc_executor.doctor import print_checks, run_checks

    typed = _warn_if_typed(ctx, "token")
    checks = asyncio.run(run_checks(handler_url or [], token, claude_bin, typed, token_file, ca_file))
    raise typer.Exit(print_checks(checks))


def _protocols(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        if value not in ("1.0", "2.0"):
            raise typer.BadParameter(f"{value!r} is not one of 1.0, 2.0")
    return values


@app.command()
def verify(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Argument(metavar="URL", help="WebSocket URL of the handler to check, e.g. ws://127.0.0.1:8003/ws/mcp."),
    ],
    token: Token = None,
    token_file: TokenFile = None,
    junit: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the verdicts as JUnit XML to this file.")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", metavar="", help="Fields and capabilities beyond the recordings count as differences."
        ),
    ] = False,
    scenario: Annotated[list[str] | None, typer.Option(metavar="NAME", help="Only this scenario (repeatable).")] = None,
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            metavar="<1.0|2.0>",
            callback=_protocols,
            help="Only the recordings of this protocol mode (repeatable): 1.0 (old clients, no subprotocol) or 2.0 "
            "(cc-executor.v2). Default: both.",
        ),
    ] = None,
    allow_known: Annotated[
        bool,
        typer.Option(
            "--allow-known",
            metavar="",
            help="Fail only on unexpected differences: those of the old handler listed in spec/README.md pass.",
        ),
    ] = False,
) -> None:
    """Replay the contract scenarios against a handler; exit 1 if any differs from the recordings.

    Each difference is labelled "known: <row of spec/README.md's compatibility table>" or "unexpected".
    """
    from rich.console import Console

    from cc_executor.client import HandlerUnavailable
    from cc_executor.verify import print_table, verify, write_junit

    presented = _client_token_of(ctx, token, token_file)
    try:
        protocols = tuple(protocol or ("1.0", "2.0"))
        verdicts = asyncio.run(verify(url, presented, strict=strict, only=scenario, protocols=protocols))
    except (ValueError, HandlerUnavailable) as exc:
        _fail(str(exc))
    print_table(Console(), url, verdicts, allow_known)
    if junit is not None:
        write_junit(junit, url, verdicts, allow_known)
    raise typer.Exit(1 if any(verdict.failed(allow_known) for verdict in verdicts) else 0)


def _data_dir() -> Path:
    """The data dir, or one line saying why it cannot be used."""
    from cc_executor.paths import DataDirError, data_dir

    try:
        return data_dir()
    except DataDirError as exc:
        _fail(str(exc))


def _warn_if_typed(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given on the command line (then say that every user can read it there)."""
    from cc_executor.credentials import COMMAND_LINE_WARNING

    source = ctx.get_parameter_source(name)
    typed = source is not None and source.name == "COMMANDLINE"
    if typed:
        typer.echo(f"cc-executor: warning: {COMMAND_LINE_WARNING}", err=True)
    return typed


def _client_token_of(ctx: typer.Context, token: str | None, token_file: Path | None) -> str | None:
    """The token a client presents (--token, --token-file, the variable, the handler's token file)."""
    from cc_executor.credentials import client_token

    typed = _warn_if_typed(ctx, "token")
    _data_dir()
    try:
        return client_token(token, typed, token_file)
    except TokenFileError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    typer.echo(f"cc-executor: error: {visible(message)}", err=True)
    raise typer.Exit(2)


def main() -> None:
    """The console script: every failure is one line on stderr, never a traceback."""
    try:
        code = app(prog_name="cc-executor", standalone_mode=False)
    except typer.TyperException as exc:  # a bad option value, an unknown command or option
        where = getattr(getattr(exc, "ctx", None), "command_path", None) or "cc-executor"
        if exc.format_message():  # empty when the help was shown for a bare command
            typer.echo(f"{where}: error: {visible(exc.format_message())} (see {where} --help)", err=True)
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        code = 130
    except Exception as exc:  # a bug: say it in one line; the traceback is there on request
        if os.environ.get(DEBUG_ENV):
            raise
        message = visible(f"{type(exc).__name__}: {exc}")
        typer.echo(f"cc-executor: internal error: {message} (set {DEBUG_ENV}=1 to see the traceback)", err=True)
        code = 70
    sys.exit(code if isinstance(code, int) else 0)
