"""`cc-executor status`: a live table of a handler's sessions, their running executions, those whose pre-execution
hooks run and those waiting for a slot."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cc_executor.client import HandlerClient
from cc_executor.endpoints import fetch_health
from cc_executor.generated.ws.requests.sessions import SessionsResult
from cc_executor.terminal_text import literal


def render(url: str, health: dict[str, Any] | None, sessions: SessionsResult, own_session: str) -> Group:
    others = [s for s in sessions.sessions if s.session_id != own_session]
    running = sum(1 for s in others if s.execution is not None)
    queued = sum(1 for s in others if s.queued_execution is not None)
    starting = sum(1 for s in others if s.starting_execution is not None)
    version = health.get("version", "?") if health else "?"
    uptime = f"{health['uptime_seconds']:.0f} s" if health else "?"
    header = Text.assemble(
        literal(url, "bold"),
        literal(f"  version {version}  up {uptime}  sessions {len(others)}/{sessions.max_sessions}"),
        f" (plus this viewer)  running {running}  starting {starting}  queued {queued}",
    )
    table = Table(expand=True)
    for column in ("session", "connected", "execution", "state", "pid", "elapsed", "active", "out bytes", "command"):
        table.add_column(column, overflow="ellipsis", no_wrap=column != "command")
    for session in sorted(others, key=lambda s: -s.connected_s):
        execution, waiting, starting_one = session.execution, session.queued_execution, session.starting_execution
        if starting_one is not None:  # its pre-execution hooks run: no process yet, elapsed is how long they have run
            cells = [
                session.session_id[:8],
                f"{session.connected_s:.0f} s",
                starting_one.execution_id[:12],
                f"{starting_one.state} (hooks)",
                "",
                f"{starting_one.starting_s:.1f} s",
                "",
                "",
                starting_one.command[:200],
            ]
        elif waiting is not None:  # no process yet: elapsed is the time it has waited, its place in the queue beside
            cells = [
                session.session_id[:8],
                f"{session.connected_s:.0f} s",
                waiting.execution_id[:12],
                f"{waiting.state} #{waiting.position}",
                "",
                f"{waiting.queued_s:.1f} s",
                "",
                "",
                waiting.command[:200],
            ]
        elif execution is None:
            cells = [session.session_id[:8], f"{session.connected_s:.0f} s", "-", "idle", "", "", "", "", ""]
        else:
            cells = [
                session.session_id[:8],
                f"{session.connected_s:.0f} s",
                execution.execution_id[:12],
                execution.state,
                str(execution.pid),
                f"{execution.elapsed_s:.1f} s",
                f"{execution.active_s:.1f} s",
                str((execution.stdout_bytes or 0) + (execution.stderr_bytes or 0)),
                execution.command[:200],
            ]
        table.add_row(*(literal(cell) for cell in cells))
    return Group(header, table)


async def show_status(
    url: str, token: str | None, once: bool, interval_s: float = 1.0, ca_file: Path | None = None
) -> int:
    console = Console()
    async with await HandlerClient.connect(url, token, ca_file=ca_file) as client:

        async def snapshot() -> Group:
            health = None
            with contextlib.suppress(httpx.HTTPError, OSError, ValueError):
                health = await fetch_health(url, ca_file=ca_file)
            return render(url, health, await client.sessions(), client.greeting.session_id)

        if once:
            console.print(await snapshot())
            return 0
        with Live(await snapshot(), console=console, refresh_per_second=4) as live:
            while not client.closed:
                await asyncio.sleep(interval_s)
                live.update(await snapshot())
    return 1
