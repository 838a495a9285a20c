"""Playing a scenario against any handler over a real WebSocket, and recording what happens.

`run_scenario` connects (`websockets.asyncio.client.connect`, offering the scenario's
subprotocol if it has one), takes the steps, and returns the transcript (frames.py).
No test framework here: `cc-executor verify URL` uses it too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from cc_executor.contract_tests.frames import Event, Json, is_object
from cc_executor.contract_tests.steps import (
    DEFAULT_WAIT_S,
    Close,
    NothingLeftRunning,
    Pause,
    Receive,
    Scenario,
    SendBinary,
    SendFiller,
    SendFrame,
    SendText,
    Step,
)
from cc_executor.endpoints import fetch_health, open_websocket, unix_socket_of
from cc_executor.handler.proc_scan import group_alive
from cc_executor.handler.server import is_loopback

# -- the driver -----------------------------------------------------------------------


class ScenarioFailed(Exception):
    """A step could not complete (timeout, closed connection, something left running); carries the transcript."""

    def __init__(self, message: str, events: list[Event]) -> None:
        super().__init__(message)
        self.events = events


def _received_event(message: str | bytes, t: float) -> Event:
    if isinstance(message, bytes):
        return {"dir": "recv", "t": t, "binary": base64.b64encode(message).decode()}
    try:
        return {"dir": "recv", "t": t, "frame": json.loads(message)}
    except ValueError:
        return {"dir": "recv", "t": t, "frame": message}


def _sent_event(step: SendFrame | SendText | SendBinary | SendFiller, t: float) -> Event:
    if isinstance(step, SendFrame):
        return {"dir": "send", "t": t, "frame": step.frame}
    if isinstance(step, SendText):
        return {"dir": "send", "t": t, "frame": step.text}
    if isinstance(step, SendBinary):
        return {"dir": "send", "t": t, "binary": base64.b64encode(step.data).decode()}
    return {"dir": "send", "t": t, "filler": {"char": step.char, "count": step.count}}


def _payload(step: SendFrame | SendText | SendBinary | SendFiller) -> str | bytes:
    if isinstance(step, SendFrame):
        return json.dumps(step.frame, ensure_ascii=False)
    if isinstance(step, SendText):
        return step.text
    if isinstance(step, SendBinary):
        return step.data
    return step.char * step.count


def is_loopback_url(url: str) -> bool:
    """A handler on this machine: a loopback address, or a Unix socket."""
    return unix_socket_of(url) is not None or is_loopback(urlsplit(url).hostname or "")


def started_groups(frames: Iterable[Json]) -> list[int]:
    """Process group ids of every execution a connection started (from results and process.started)."""
    groups: list[int] = []
    for frame in frames:
        if not is_object(frame):
            continue
        body = frame.get("result") if "result" in frame else frame.get("params")
        if frame.get("method", "process.started") != "process.started" or not isinstance(body, dict):
            continue
        if body.get("status") != "started":
            continue
        group = body.get("pgid") if isinstance(body.get("pgid"), int) else body.get("pid")
        if isinstance(group, int) and group > 0 and group not in groups:
            groups.append(group)
    return groups


@dataclass
class _Connection:
    """One played connection: a reader task records server frames while steps run."""

    websocket: ClientConnection
    url: str
    local: bool
    events: list[Event] = field(default_factory=list)
    frames: list[Json] = field(default_factory=list)
    since: int = 0
    closed: bool = False
    closed_by_us: bool = False
    started: float = field(default_factory=time.monotonic)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def now(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="scenario-reader")

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                event = _received_event(message, self.now())
                self.events.append(event)
                self.frames.append(event.get("frame"))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._changed.set()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def fail(self, message: str) -> ScenarioFailed:
        return ScenarioFailed(message, self.events)

    async def perform(self, step: Step) -> None:
        if isinstance(step, SendFrame | SendText | SendBinary | SendFiller):
            self.since = len(self.frames)
            self.events.append(_sent_event(step, self.now()))
            try:
                await self.websocket.send(_payload(step))
            except ConnectionClosed as exc:
                raise self.fail(f"the handler closed the connection before {_describe(step)}: {exc}") from exc
        elif isinstance(step, Receive):
            await self.receive(step)
        elif isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, Close):
            self.closed_by_us = True
            await self.websocket.close()
            if self._reader is not None:
                await asyncio.wait({self._reader}, timeout=DEFAULT_WAIT_S)
            self.events.append({"dir": "close", "t": self.now()})
        elif isinstance(step, NothingLeftRunning):
            await self.nothing_left_running(step)
        else:  # pragma: no cover - the Step union is closed
            raise TypeError(f"unknown step {step!r}")

    async def receive(self, step: Receive) -> None:
        deadline = time.monotonic() + step.timeout_s
        while not step.until.met(self.frames, self.since):
            if self.closed:
                raise self.fail(f"connection closed while waiting for {step.until}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.fail(f"waited {step.timeout_s} s for {step.until}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def settle(self, quiet_s: float, limit_s: float = 2.0) -> None:
        """Wait until no frame has come for `quiet_s` (catching any frame nobody asked for)."""
        deadline = time.monotonic() + limit_s
        while not self.closed and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), quiet_s)
            except TimeoutError:
                return

    async def nothing_left_running(self, step: NothingLeftRunning) -> None:
        groups = started_groups(self.frames)
        deadline = time.monotonic() + step.timeout_s
        while True:
            problems: list[str] = []
            try:
                health = await fetch_health(self.url)
                running = health.get("running_executions")
                if running not in (None, 0):
                    problems.append(f"/health says running_executions={running}")
            except (OSError, ValueError, httpx.HTTPError) as exc:
                problems.append(f"/health did not answer: {exc}")
            if self.local:
                problems += [f"process group {pgid} is still alive" for pgid in groups if group_alive(pgid)]
            if not problems:
                break
            if time.monotonic() > deadline:
                raise self.fail(f"after {step.timeout_s} s: " + "; ".join(problems))
            await asyncio.sleep(0.05)
        self.events.append({"dir": "check", "t": self.now(), "check": "nothing_left_running"})


def _describe(step: Step) -> str:
    text = repr(step)
    return text if len(text) < 200 else text[:200] + "..."


async def run_scenario(
    scenario: Scenario,
    url: str,
    *,
    token: str | None = None,
    local: bool | None = None,
    settle_s: float = 0.1,
    open_timeout_s: float = 10.0,
) -> list[Event]:
    """Play `scenario` against the handler at `url`; the transcript, or ScenarioFailed.

    `local` (default: the URL is loopback) enables the process-group checks, which
    only mean something when the handler runs on this machine.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    local = is_loopback_url(url) if local is None else local
    offered = [Subprotocol(scenario.subprotocol)] if scenario.subprotocol else None
    async with open_websocket(
        url,
        additional_headers=headers,
        subprotocols=offered,
        max_size=None,
        open_timeout=open_timeout_s,
        close_timeout=5,
        ping_interval=None,
    ) as websocket:
        connection = _Connection(websocket, url, local)
        if scenario.subprotocol:  # what was asked for, and what the handler agreed to (None: it does not know it)
            opened = {"dir": "open", "t": 0.0, "subprotocol": scenario.subprotocol, "agreed": websocket.subprotocol}
            connection.events.append(opened)
        connection.start()
        try:
            for number, step in enumerate(scenario.steps, 1):
                try:
                    await connection.perform(step)
                except ScenarioFailed as exc:
                    raise ScenarioFailed(
                        f"{scenario.name}, step {number} {_describe(step)}: {exc}", exc.events
                    ) from exc
            if not connection.closed_by_us and settle_s > 0:
                await connection.settle(settle_s)
        finally:
            await connection.stop()
    return connection.events
