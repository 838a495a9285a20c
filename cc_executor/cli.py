"""The `cc-executor` command: one entry point, a subcommand per job."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from cc_executor import __version__
from cc_executor.logs import LogFormat, configure_logging
from cc_executor.token import TOKEN_ENV, TokenFileError, load_or_create_token

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
    host: Annotated[str, typer.Option(help="Address to bind. Loopback by default; anything else needs a token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8003,
    token: Annotated[
        str | None,
        typer.Option(
            envvar=TOKEN_ENV,
            show_envvar=True,
            help="Bearer token clients must send. Default: the token file in the data dir, made on first start.",
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Accept clients without a token (for old clients; loopback only).")
    ] = False,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(help="A browser Origin allowed to connect (repeatable). By default browsers are refused."),
    ] = None,
    max_sessions: Annotated[int, typer.Option(help="Most connections served at once.")] = 32,
    max_frame_bytes: Annotated[int, typer.Option(help="Largest client frame answered (bytes).")] = 1 << 20,
    default_timeout: Annotated[
        int | None, typer.Option(help="Timeout in seconds for executions that do not set one (default: none).")
    ] = None,
    kill_grace: Annotated[float, typer.Option(help="Seconds between SIGTERM and SIGKILL when ending a group.")] = 3.0,
    scrub_env: Annotated[
        list[str] | None,
        typer.Option(help="Environment variable never passed to executions (repeatable), e.g. a secret."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="Log lines as text or json (on stderr).")] = "text",
) -> None:
    """Run the WebSocket execution handler (JSON-RPC 2.0 at ws://HOST:PORT/ws/mcp)."""
    from cc_executor.handler.process_runner import RunLimits
    from cc_executor.handler.server import ConfigError, HandlerConfig, HandlerServer

    configure_logging(_log_format(log_format))
    try:
        if not no_auth and not token:
            token = load_or_create_token()
        config = HandlerConfig(
            host=host,
            port=port,
            token=None if no_auth else token,
            no_auth=no_auth,
            allowed_origins=tuple(allow_origin or ()),
            max_sessions=max_sessions,
            max_frame_bytes=max_frame_bytes,
            default_timeout_s=default_timeout,
            run_limits=RunLimits(kill_grace_s=kill_grace, scrub_env=tuple(scrub_env or ()), reap_strays=True),
        )
        server = HandlerServer(config)
    except (ConfigError, TokenFileError) as exc:
        _fail(str(exc))
    try:
        asyncio.run(_serve_until_signalled(server))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


async def _serve_until_signalled(server) -> None:
    """Serve until SIGINT/SIGTERM, then close every session so no process group outlives the handler."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    typer.echo(f"cc-executor handler listening on {server.url}", err=True)
    await stop.wait()
    await server.close()


def _log_format(value: str) -> LogFormat:
    if value not in ("text", "json"):
        _fail("--log-format must be text or json")
    return value  # type: ignore[return-value]


def _fail(message: str) -> None:
    typer.echo(f"cc-executor: error: {message}", err=True)
    raise typer.Exit(2)


def main() -> None:
    app(prog_name="cc-executor")
