"""Running the bridge: a transport serves the MCP server and starts the engine's load beside it; on a signal or
the transport's end every task is ended and recorded on the way out."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.stdio import stdio_server

from .engine_loading import LoadingEngine
from .mcp_server import build_server

log = logging.getLogger("cc_executor.bridge")
UNWIND_TIMEOUT_S = 1.0


async def serve_stdio(engine: LoadingEngine) -> None:
    """Serve on stdin/stdout until the client closes stdin or a signal arrives.

    The client that started the bridge waits for its `initialize` answer, so the engine starts loading only once
    the client has it (`notifications/initialized`), or at the first request that needs it.
    """
    server = build_server(engine.tools)

    async def initialized(ctx: ServerRequestContext, params: types.NotificationParams) -> None:
        engine.start()

    server.add_notification_handler("notifications/initialized", types.NotificationParams, initialized)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def run_until_stopped(serve: Callable[[LoadingEngine], Awaitable[None]], engine: LoadingEngine) -> int:
    """Run a transport, which starts loading the engine (which recovers what an earlier bridge left running); on
    SIGINT/SIGTERM, the transport's end or an engine that cannot load, cancel running tasks and close the engine.

    The stdio transport reads stdin in a thread that cannot be interrupted, so after a signal (or an engine
    that cannot load) the process exits explicitly once every task has been ended and recorded.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def stop_on(signum: int) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_on, signum)
    running: set[asyncio.Future[Any]] = {
        asyncio.ensure_future(serve(engine)),
        asyncio.ensure_future(stop.wait()),
        asyncio.ensure_future(_tend_engine(engine)),
    }
    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    for task in running:
        task.cancel()
    # Bounded: stdio's stdin thread unwinds only when a line or EOF arrives, which may be never.
    done, _ = await asyncio.wait(running, timeout=UNWIND_TIMEOUT_S)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("the MCP transport failed", exc_info=task.exception())
    loaded = await engine.close()
    if received:
        os._exit(128 + received[0])
    if not loaded:  # the reason is logged; stdio's stdin thread would hold the exit until the client goes
        os._exit(1)
    return 0


async def _tend_engine(engine: LoadingEngine) -> None:
    """Ends (and so ends the bridge) only when the engine cannot load, saying why in one line; once it has loaded,
    reaps exited strays if asked (every child of this process is an execution: no zombies)."""
    try:
        await engine.loaded()
    except Exception as exc:
        log.error(f"the bridge cannot start: {exc}")
        return
    if engine.settings.run_limits.reap_strays:
        from cc_executor.handler.process_runner import reap_strays_forever

        await reap_strays_forever()
    await asyncio.Event().wait()
