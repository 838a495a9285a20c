#!/usr/bin/env python3
"""Benchmark the WebSocket execution handler against running the same commands directly.

Starts a real handler (contract_tests.live_handler) on a free loopback port and, in
the same run, measures a baseline: the same `/bin/sh -c COMMAND` started with
`asyncio.create_subprocess_exec`, stdout and stderr read to the end. Every figure with
a target is printed with PASS or MISS.

    .venv/bin/python scripts/bench_handler.py            # full run (about 30 s)
    .venv/bin/python scripts/bench_handler.py --quick    # reduced run (about 8 s)
    .venv/bin/python scripts/bench_handler.py --json     # machine-readable figures
    .venv/bin/python scripts/bench_handler.py --check    # exit status 1 when a target is missed

Both protocol modes are measured, side by side with the direct baseline:

* protocol 2.0 (the client offers cc-executor.v2: many lines to a frame), with the
  websockets client as every v2 client connects (offering permessage-deflate, which the
  handler declines unless started with --compression): echo round trip, `seq 1 200000`,
  32 MiB in 1 KiB lines, 32 MiB of base64 lines of seeded random bytes (output that
  does not compress; informational), one 16 MiB line, and handler memory (VmHWM,
  sampled VmRSS) while a slow client reads a large stream, ended by a CANCEL and a drain;
* protocol 1.0 (no subprotocol: one line per frame, as old clients get it): `seq 1
  200000`, 32 MiB in 1 KiB lines, one 16 MiB line, read by picows (a Cython WebSocket
  client: 200,000 frames cost the websockets client ~10 us each, more than the handler
  spends on them), and, informational, the same `seq` read by the websockets client
  old clients use.

Measured (MB = 10^6 bytes): wall time from `execute` sent to `process.completed`
received, on one connection; every byte of output compared (sha256), chunk numbering
of the long line checked.

Other work on the machine skews wall times, so the load average is printed, and so is
the handler's own CPU time per run (steadier: the handler is one event-loop thread).

Every loop is bounded in count and time; the handler (and any baseline process
group) is stopped at the end, also on error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import random
import shlex
import statistics
import string
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from bench_common import (
    MB,
    MIB,
    BenchError,
    BenchRun,
    Figure,
    RssSampler,
    cli,
    fmt,
    percentile,
    print_footer,
    proc_status_kib,
    process_cpu_s,
    reset_peak_rss,
    run_direct,
    sigterm_cancels,
    title,
)
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

# -- the workloads: commands whose output is known exactly ----------------------

ALNUM = string.ascii_letters + string.digits
LINE_1K = (ALNUM * 17)[:1023]  # 1023 characters + "\n" = one 1 KiB line
PATTERN_61 = ALNUM[:61]  # a prime period, so a lost, doubled or moved piece changes the hash

ECHO_COMMAND = "echo hello"
SEQ_COUNT = 200_000
BULK_BYTES = 32 * MIB
LONG_LINE_BYTES = 16 * MIB


@dataclass(frozen=True)
class Stream:
    """A command and the exact stdout it must produce."""

    key: str
    label: str
    command: str
    expected: bytes
    split_line: bool = False  # one line longer than a frame: check the chunk numbering too

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.expected).hexdigest()


def seq_stream() -> Stream:
    expected = "".join(f"{i}\n" for i in range(1, SEQ_COUNT + 1)).encode()
    return Stream("seq", f"seq 1 {SEQ_COUNT}", f"seq 1 {SEQ_COUNT}", expected)


def bulk_stream() -> Stream:
    line = (LINE_1K + "\n").encode()
    expected = line * (BULK_BYTES // len(line))
    return Stream("bulk_32mib", "32 MiB in 1 KiB lines", f"yes {LINE_1K} | head -c {BULK_BYTES}", expected)


def random_lines_stream(directory: Path) -> Stream:
    """32 MiB of 1 KiB base64 lines of seeded random bytes (deflate gains ~25 %), `cat` from a file."""
    text = base64.b64encode(random.Random(20240601).randbytes(BULK_BYTES * 3 // 4)).decode()
    lines = [text[i : i + 1023] + "\n" for i in range(0, len(text), 1023)]
    expected = "".join(lines).encode()[:BULK_BYTES]
    path = directory / "random-lines.txt"
    path.write_bytes(expected)
    return Stream("random_32mib", "32 MiB base64 lines", f"cat {shlex.quote(str(path))}", expected)


def long_line_stream() -> Stream:
    expected = (PATTERN_61 * (LONG_LINE_BYTES // len(PATTERN_61) + 1)).encode()[:LONG_LINE_BYTES]
    command = f"yes {PATTERN_61} | tr -d '\\n' | head -c {LONG_LINE_BYTES}"
    return Stream("long_line_16mib", "one 16 MiB line, no newline", command, expected, split_line=True)


def slow_command(volume: int) -> str:
    """Hard-to-compress 1 KiB lines, so backpressure really reaches the handler even with deflate."""
    return f"head -c {volume * 3 // 4 + 4096} /dev/urandom | base64 -w 1023 | head -c {volume}"


# -- settings -----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    mode: str
    echo_runs: int
    echo_warmup: int
    repeats: int  # runs of each throughput workload, handler and direct; the median is reported
    slow_volume: int  # bytes the slow-client command would write if never canceled
    slow_read_s: float  # how long the client reads slowly before it cancels
    slow_delay_s: float  # pause after every frame the slow client receives
    exec_timeout_s: float  # bound on any one execution
    total_budget_s: float  # remaining workloads are skipped once this is spent


FULL = Settings("full", 60, 5, 5, 1 << 30, 15.0, 0.05, 60.0, 150.0)
QUICK = Settings("quick", 20, 3, 1, 128 * MIB, 4.0, 0.05, 30.0, 60.0)

TARGETS = {
    "echo_overhead_ms": 2.0,  # protocol 2.0: echo within 2 ms of running it directly
    "seq_wall_s": 0.3,  # protocol 2.0: `seq 1 200000`
    "bulk_vs_direct": 0.4,  # protocol 2.0: 32 MiB at 0.4 x the direct baseline's MB/s or better
    "slow_peak_rss_mib": 80.0,
    "old_seq_wall_s": 1.5,  # protocol 1.0: `seq 1 200000`, one frame a line (the old handler: 22 s)
    "old_bulk_mb_s": 50.0,  # protocol 1.0: 32 MiB in 1 KiB lines (the old handler: 4.5 MB/s)
}
V2_TARGETS = {"seq": ("seq_wall_s", TARGETS["seq_wall_s"]), "bulk": ("bulk_vs_direct", TARGETS["bulk_vs_direct"])}
OLD_TARGETS = {
    "seq": ("old_seq_wall_s", TARGETS["old_seq_wall_s"]),
    "bulk": ("old_bulk_mb_s", TARGETS["old_bulk_mb_s"]),
}


# -- running through the handler ---------------------------------------------------


@dataclass
class Received:
    """What one execution delivered to the client."""

    elapsed_s: float = 0.0  # execute sent -> process.completed received
    frames: int = 0  # process.output frames
    chunk_frames: int = 0  # frames that are pieces of a split line
    chunk_indices: list[int] = field(default_factory=list)
    total_chunks: list[int] = field(default_factory=list)
    stdout_chars: int = 0
    stderr_chars: int = 0
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    completed: dict[str, Any] = field(default_factory=dict)
    canceled_at_chars: int | None = None  # stdout received when the CANCEL was sent
    keep: bool = True  # False: only count the output

    def take(self, message: dict[str, Any], started: float) -> bool:
        """Account for one frame of the execution; True once it is process.completed."""
        method = message.get("method")
        if method == "process.output":
            params = message["params"]
            data = params["data"]
            self.frames += 1
            if params["type"] == "stdout":
                self.stdout_chars += len(data)
                if self.keep:
                    self.stdout.append(data)
            else:
                self.stderr_chars += len(data)
                if self.keep:
                    self.stderr.append(data)
            if params.get("chunk_index") is not None:
                self.chunk_frames += 1
                self.chunk_indices.append(params["chunk_index"])
                if params.get("total_chunks") is not None:
                    self.total_chunks.append(params["total_chunks"])
        elif method == "process.completed":
            self.elapsed_s = time.perf_counter() - started
            self.completed = message["params"]
            return True
        elif "error" in message:
            raise BenchError(f"error from the handler: {message['error']}")
        return False


class HandlerClient:
    """One WebSocket connection to the handler; runs one execution at a time."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next_id = 0

    @property
    def extensions(self) -> list[str]:
        return [str(extension.name) for extension in self.ws.protocol.extensions]

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def greeting(self) -> None:
        async with asyncio.timeout(10):
            message = json.loads(await self.ws.recv())
        if message.get("method") != "connected":
            raise BenchError(f"expected the connected notification, got {message!r}")

    async def execute(
        self,
        command: str,
        timeout_s: float,
        *,
        keep: bool = True,
        slow_reader: Callable[[], Awaitable[None]] | None = None,
        cancel_after_s: float | None = None,
    ) -> Received:
        """Run one command; return once process.completed has arrived (all output comes before it).

        `keep=False` only counts the output. `slow_reader` is awaited after every
        process.output frame until `cancel_after_s` has passed; then a control
        CANCEL is sent and the rest is read at full speed up to process.completed.
        """
        received = Received(keep=keep)
        request_id = self._id()
        frame = {"jsonrpc": "2.0", "method": "execute", "id": request_id, "params": {"command": command}}
        started = time.perf_counter()
        await self.ws.send(json.dumps(frame))
        cancel_at = None if cancel_after_s is None else started + cancel_after_s
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    message = json.loads(await self.ws.recv())
                    if received.take(message, started):
                        return received
                    method = message.get("method")
                    if cancel_at is not None and received.canceled_at_chars is None:
                        if time.perf_counter() >= cancel_at:
                            received.canceled_at_chars = received.stdout_chars
                            await self.cancel()
                        elif slow_reader is not None and method == "process.output":
                            await slow_reader()
        except TimeoutError:
            await self._abandon()
            raise BenchError(f"no process.completed within {timeout_s:g} s for {command[:60]!r}") from None

    async def cancel(self) -> None:
        frame = {"jsonrpc": "2.0", "method": "control", "id": self._id(), "params": {"type": "CANCEL"}}
        await self.ws.send(json.dumps(frame))

    async def _abandon(self) -> None:
        """Cancel a stuck execution and drain to its process.completed (bounded), so the connection is reusable."""
        with contextlib.suppress(Exception):
            await self.cancel()
            async with asyncio.timeout(15):
                while json.loads(await self.ws.recv()).get("method") != "process.completed":
                    pass


class FastListener(WSListener):
    """picows calls on_ws_frame for every frame as it is parsed (in C): frames are parsed here as they come."""

    def __init__(self) -> None:
        self.greeted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.received: Received | None = None
        self.started = 0.0
        self.done: asyncio.Future[Received] | None = None

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return
        message = orjson.loads(frame.get_payload_as_bytes())
        if not self.greeted.done():
            self.greeted.set_result(None)
            return
        if self.received is None or self.done is None or self.done.done():
            return
        try:
            if self.received.take(message, self.started):
                self.done.set_result(self.received)
        except BenchError as exc:
            self.done.set_exception(exc)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(BenchError("the handler closed the connection"))


class FastClient:
    """A connection read by picows, for protocol 1.0's one frame a line; runs one execution at a time."""

    def __init__(self, transport: WSTransport, listener: FastListener) -> None:
        self.transport, self.listener = transport, listener
        self._next_id = 0

    async def execute(self, command: str, timeout_s: float, *, keep: bool = True) -> Received:
        self._next_id += 1
        frame = {"jsonrpc": "2.0", "method": "execute", "id": self._next_id, "params": {"command": command}}
        listener = self.listener
        listener.received, listener.done = Received(keep=keep), asyncio.get_running_loop().create_future()
        listener.started = time.perf_counter()
        self.transport.send(WSMsgType.TEXT, orjson.dumps(frame))
        try:
            return await asyncio.wait_for(listener.done, timeout_s)
        except TimeoutError:
            raise BenchError(f"no process.completed within {timeout_s:g} s for {command[:60]!r}") from None


@contextlib.asynccontextmanager
async def open_fast_client(handler: LiveHandler, subprotocol: str | None = None) -> AsyncIterator[FastClient]:
    headers = {**handler.headers, **({"Sec-WebSocket-Protocol": subprotocol} if subprotocol else {})}
    transport, listener = await ws_connect(FastListener, handler.url, extra_headers=headers, max_frame_size=1 << 30)
    assert isinstance(listener, FastListener)
    try:
        await asyncio.wait_for(listener.greeted, 10)
        yield FastClient(transport, listener)
    finally:
        transport.disconnect()


@contextlib.asynccontextmanager
async def open_client(handler: LiveHandler, **options: Any) -> AsyncIterator[HandlerClient]:
    """A greeted connection; closed politely when all went well, dropped at once otherwise.

    On an error or Ctrl-C the handler may be blocked sending output this client no
    longer reads, so a closing handshake could not finish: abort the TCP connection
    instead (the handler then cancels the execution of a client that went away).
    """
    ws = await connect(handler.url, additional_headers=handler.headers, max_size=None, open_timeout=10, **options)
    try:
        client = HandlerClient(ws)
        await client.greeting()
        yield client
    except BaseException:
        ws.transport.abort()
        raise
    with contextlib.suppress(Exception):
        async with asyncio.timeout(10):
            await ws.close()


# -- running directly ------------------------------------------------------------


def sh(command: str) -> list[str]:
    """The baseline's argv: the command through `/bin/sh -c`, as the handler runs it."""
    return ["/bin/sh", "-c", command]


# -- the workloads -------------------------------------------------------------------

MAIN = "protocol 2.0 (cc-executor.v2: many lines to a frame), websockets client"
OLD = "protocol 1.0 (no subprotocol: one line per frame, as old clients get it), picows client"
OLD_WS = "protocol 1.0, the websockets client old clients use (informational)"


async def bench_echo(client: HandlerClient, settings: Settings, details: dict[str, Any]) -> list[Figure]:
    for _ in range(settings.echo_warmup):
        await run_direct(sh(ECHO_COMMAND), settings.exec_timeout_s)
        await client.execute(ECHO_COMMAND, settings.exec_timeout_s)
    handler_ms: list[float] = []
    direct_ms: list[float] = []
    for _ in range(settings.echo_runs):  # interleaved, so drift hits both sides alike
        direct = await run_direct(sh(ECHO_COMMAND), settings.exec_timeout_s)
        if direct.stdout != b"hello\n":
            raise BenchError(f"direct echo printed {direct.stdout!r}")
        direct_ms.append(direct.elapsed_s * 1000)
        received = await client.execute(ECHO_COMMAND, settings.exec_timeout_s)
        if "".join(received.stdout) != "hello\n" or received.completed.get("status") != "completed":
            raise BenchError(f"echo through the handler: {received.stdout!r}, {received.completed!r}")
        handler_ms.append(received.elapsed_s * 1000)
    h_median, d_median = statistics.median(handler_ms), statistics.median(direct_ms)
    overhead = h_median - d_median
    details["echo"] = {
        "runs": settings.echo_runs,
        "handler_ms": [round(v, 3) for v in handler_ms],
        "direct_ms": [round(v, 3) for v in direct_ms],
    }
    return [
        Figure(MAIN, "echo round trip, median", h_median, d_median, "ms", note=f"{settings.echo_runs} runs"),
        Figure(
            MAIN,
            "echo round trip, p90",
            percentile(handler_ms, 0.9),
            percentile(direct_ms, 0.9),
            "ms",
            note=f"handler min {min(handler_ms):.2f} ms, max {max(handler_ms):.2f} ms",
        ),
        Figure(
            MAIN,
            "echo overhead vs direct (median)",
            overhead,
            None,
            "ms",
            f"<= {TARGETS['echo_overhead_ms']:g} ms",
            overhead <= TARGETS["echo_overhead_ms"],
        ),
    ]


@dataclass
class StreamResult:
    handler_s: list[float]
    direct_s: list[float]
    frames: list[int]
    chunk_frames: list[int]
    total_chunks: list[list[int]]
    problems: list[str]
    peak_rss_mib: float
    handler_cpu_s: float = 0.0  # per run, averaged over the repeats: robust when other work shares the CPUs

    @property
    def handler_median(self) -> float:
        return statistics.median(self.handler_s)

    @property
    def direct_median(self) -> float:
        return statistics.median(self.direct_s)


def damage(stream: Stream, received: Received) -> list[str]:
    """What is wrong with what the handler delivered (empty when intact)."""
    problems = []
    status = received.completed.get("status"), received.completed.get("exit_code")
    if status != ("completed", 0):
        problems.append(f"process.completed status {status}")
    data = "".join(received.stdout).encode()
    if data != stream.expected:
        problems.append(f"stdout {len(data)} bytes (expected {len(stream.expected)}), sha256 differs")
    if received.stderr_chars:
        problems.append(f"{received.stderr_chars} characters on stderr")
    if received.completed.get("stdout_bytes") != len(stream.expected):
        problems.append(f"stdout_bytes reported {received.completed.get('stdout_bytes')}")
    if stream.split_line:
        pieces = received.chunk_indices
        if not pieces or pieces != list(range(len(pieces))) or received.total_chunks != [len(pieces)]:
            problems.append(f"chunk numbering: {len(pieces)} pieces, total_chunks {received.total_chunks}")
    return problems


async def measure_stream(
    client: HandlerClient | FastClient, rss: RssSampler, stream: Stream, settings: Settings
) -> StreamResult:
    """Run a workload `repeats` times each way (interleaved); every run's output is verified."""
    result = StreamResult([], [], [], [], [], [], 0.0)
    rss.window()
    pid = rss.pids["handler"]
    cpu_s = 0.0
    for _ in range(settings.repeats):
        direct = await run_direct(sh(stream.command), settings.exec_timeout_s)
        if direct.stdout != stream.expected or direct.returncode != 0:
            raise BenchError(f"{stream.label} run directly: {len(direct.stdout)} bytes, exit {direct.returncode}")
        result.direct_s.append(direct.elapsed_s)
        del direct
        cpu_before = process_cpu_s(pid)
        received = await client.execute(stream.command, settings.exec_timeout_s)
        cpu_s += process_cpu_s(pid) - cpu_before
        result.handler_s.append(received.elapsed_s)
        result.frames.append(received.frames)
        result.chunk_frames.append(received.chunk_frames)
        result.total_chunks.append(received.total_chunks)
        result.problems += damage(stream, received)
        del received
    result.peak_rss_mib = rss.window()[0]["handler"]
    result.handler_cpu_s = cpu_s / settings.repeats
    return result


def stream_figures(
    section: str, stream: Stream, result: StreamResult, targets: dict[str, tuple[str, float]] | None
) -> list[Figure]:
    """The figures of one workload; `targets` ("seq" and "bulk": (name, value)) when this section has any."""
    h_s, d_s = result.handler_median, result.direct_median
    intact = "verified" if not result.problems else "DAMAGED: " + "; ".join(sorted(set(result.problems))[:2])
    mb_s = len(stream.expected) / h_s / MB
    direct_mb_s = len(stream.expected) / d_s / MB
    common = (
        f"{intact}; {result.frames[-1]} frames; handler CPU {result.handler_cpu_s:.3f} s/run; "
        f"RSS max {result.peak_rss_mib:.0f} MiB"
    )
    if stream.key == "seq":
        seq_target = targets["seq"][1] if targets else None
        return [
            Figure(
                section,
                f"{stream.label}, wall time",
                h_s,
                d_s,
                "s",
                f"<= {seq_target:g} s" if seq_target else "",
                (h_s <= seq_target and not result.problems) if seq_target else None,
                common,
            ),
            Figure(section, f"{stream.label}, lines/s", SEQ_COUNT / h_s, SEQ_COUNT / d_s, "lines/s"),
        ]
    if stream.split_line:
        last_total = result.total_chunks[-1][-1] if result.total_chunks[-1] else "-"
        return [
            Figure(
                section,
                stream.label,
                h_s,
                d_s,
                "s",
                "intact" if targets else "",
                (not result.problems) if targets else None,
                f"{mb_s:.0f} MB/s; {result.chunk_frames[-1]} chunks (total_chunks {last_total}); {common}",
            )
        ]
    name, value = targets["bulk"] if targets else ("", 0.0)
    if name == "bulk_vs_direct":
        target, ok = f">= {value:g} x direct", mb_s >= value * direct_mb_s
    elif name:
        target, ok = f">= {value:g} MB/s", mb_s >= value
    return [
        Figure(
            section,
            f"{stream.label}, throughput",
            mb_s,
            direct_mb_s,
            "MB/s",
            target if name else "",
            (ok and not result.problems) if name else None,
            f"{h_s:.3f} s vs {d_s:.3f} s; {common}",
        )
    ]


def stream_details(stream: Stream, result: StreamResult) -> dict[str, Any]:
    return {
        "command": stream.command if len(stream.command) < 200 else stream.command[:200] + "...",
        "bytes": len(stream.expected),
        "sha256": stream.sha256,
        "handler_s": [round(v, 4) for v in result.handler_s],
        "direct_s": [round(v, 4) for v in result.direct_s],
        "frames": result.frames,
        "chunk_frames": result.chunk_frames,
        "last_total_chunks": [t[-1] if t else None for t in result.total_chunks],
        "intact": not result.problems,
        "problems": result.problems,
        "handler_cpu_s_per_run": round(result.handler_cpu_s, 3),
        "handler_peak_rss_mib": round(result.peak_rss_mib, 1),
    }


async def bench_slow_client(
    client: HandlerClient, handler: LiveHandler, rss: RssSampler, settings: Settings, details: dict[str, Any]
) -> list[Figure]:
    pid = handler.process.pid
    whole_run_hwm = (proc_status_kib(pid, "VmHWM") or 0) / 1024
    before = (proc_status_kib(pid, "VmRSS") or 0) / 1024
    reset = reset_peak_rss(pid)
    rss.window()

    async def read_slowly() -> None:
        await asyncio.sleep(settings.slow_delay_s)

    received = await client.execute(
        slow_command(settings.slow_volume),
        settings.slow_read_s + settings.exec_timeout_s,
        keep=False,
        slow_reader=read_slowly,
        cancel_after_s=settings.slow_read_s,
    )
    sampled, samples = rss.window()
    sampled_max = sampled["handler"]
    hwm = (proc_status_kib(pid, "VmHWM") or 0) / 1024
    status = received.completed.get("status")
    if status not in ("canceled", "completed"):
        raise BenchError(f"slow client: process.completed {received.completed!r}")
    peak = hwm if reset else max(sampled_max, whole_run_hwm)
    slow_chars = received.canceled_at_chars if received.canceled_at_chars is not None else received.stdout_chars
    drained = received.stdout_chars - slow_chars
    details["slow_client"] = {
        "command": slow_command(settings.slow_volume),
        "volume_bytes": settings.slow_volume,
        "slow_read_s": settings.slow_read_s,
        "delay_per_frame_s": settings.slow_delay_s,
        "bytes_read_slowly": slow_chars,
        "bytes_drained_after_cancel": drained,
        "frames_total": received.frames,
        "completed_status": status,
        "stdout_bytes_reported": received.completed.get("stdout_bytes"),
        "elapsed_s": round(received.elapsed_s, 3),
        "cancel_to_completed_s": round(received.elapsed_s - settings.slow_read_s, 3),
        "handler_rss_before_mib": round(before, 1),
        "handler_vmhwm_mib": round(hwm, 1),
        "vmhwm_reset_before_phase": reset,
        "handler_vmrss_sampled_max_mib": round(sampled_max, 1),
        "rss_samples": samples,
        "handler_vmhwm_whole_run_before_phase_mib": round(whole_run_hwm, 1),
    }
    how = "VmHWM, reset at the start of the phase" if reset else "VmHWM could not be reset: whole-run peak"
    return [
        Figure(
            MAIN,
            "handler peak RSS, slow client",
            peak,
            None,
            "MiB",
            f"< {TARGETS['slow_peak_rss_mib']:g} MiB",
            peak < TARGETS["slow_peak_rss_mib"] and status == "canceled",
            f"{how}; sampled VmRSS max {sampled_max:.1f} MiB ({samples} samples); {slow_chars / MIB:.1f} MiB read "
            f"in {settings.slow_read_s:g} s, CANCEL, {drained / MIB:.1f} MiB drained "
            f"in {received.elapsed_s - settings.slow_read_s:.2f} s; status {status}",
        ),
        Figure(
            MAIN,
            "handler peak RSS, whole run",
            max(whole_run_hwm, hwm),
            None,
            "MiB",
            note=f"VmHWM over all workloads; {before:.0f} MiB before the slow-client phase",
        ),
    ]


# -- the run -------------------------------------------------------------------


async def run_workloads(handler: LiveHandler, settings: Settings, workdir: Path) -> dict[str, Any]:
    run = BenchRun(settings)
    pid = handler.process.pid
    run.details["handler_rss_after_start_mib"] = round((proc_status_kib(pid, "VmRSS") or 0) / 1024, 1)
    seq, bulk, long_line = seq_stream(), bulk_stream(), long_line_stream()
    async with RssSampler({"handler": pid}, interval_s=0.025) as rss:
        async with open_client(handler, subprotocols=[Subprotocol(V2_SUBPROTOCOL)]) as client:
            run.details["extensions"] = client.extensions
            run.figures += await bench_echo(client, settings, run.details)
            for stream in [seq, bulk, random_lines_stream(workdir), long_line]:
                if not run.over_budget(stream.label):
                    result = await measure_stream(client, rss, stream, settings)
                    run.details[stream.key] = stream_details(stream, result)
                    targets = V2_TARGETS if stream.key != "random_32mib" else None
                    run.figures += stream_figures(MAIN, stream, result, targets)
            if not run.over_budget("slow client"):
                run.figures += await bench_slow_client(client, handler, rss, settings, run.details)
        async with open_fast_client(handler) as fast:
            for stream in [seq, bulk, long_line]:
                if not run.over_budget(f"{stream.label}, protocol 1.0"):
                    result = await measure_stream(fast, rss, stream, settings)
                    run.details[f"old_{stream.key}"] = stream_details(stream, result)
                    run.figures += stream_figures(OLD, stream, result, OLD_TARGETS)
        async with open_client(handler) as old_client:
            if not run.over_budget(f"{seq.label}, protocol 1.0, websockets client"):
                result = await measure_stream(old_client, rss, seq, settings)
                run.details["old_websockets_seq"] = stream_details(seq, result)
                run.figures += stream_figures(OLD_WS, seq, result, None)
    return run.result("websockets", TARGETS)


def rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    return [
        (
            f.name,
            fmt(f.value, f.unit, ms_digits=2),
            fmt(f.baseline, f.unit, ms_digits=2),
            "-" if f.ratio is None else f"{f.ratio:.2f}x",
            f.target,
            f.verdict,
            f.note,
        )
        for f in figures
    ]


def print_table(result: dict[str, Any]) -> None:
    figures: list[Figure] = result["_figures"]
    header = ("Measure", "Handler", "Direct", "Ratio", "Target", "Result", "Notes")
    table = Table(title=title(result, "handler", "websockets"), title_justify="left")
    for column in header[:-1]:
        table.add_column(column, justify="left" if column == "Measure" else "right", no_wrap=True)
    table.add_column("Notes", overflow="fold")
    for section in dict.fromkeys(f.section for f in figures):
        table.add_row(f"[bold]{section}[/]", end_section=False)
        for row in rows([f for f in figures if f.section == section]):
            verdict = {"PASS": "[green]PASS[/]", "MISS": "[bold red]MISS[/]"}.get(row[5], "")
            table.add_row(*row[:5], verdict, row[6])
        table.add_section()
    Console(width=max(200, Console().width)).print(table)
    print_footer(result)


def run_benchmark(quick: bool) -> dict[str, Any]:
    settings = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="ccx-bench-") as workdir, live_handler() as handler:
        # SIGTERM cancels the run, every `finally` runs (baseline process groups are killed), then
        # live_handler stops the handler.
        return asyncio.run(sigterm_cancels(run_workloads(handler, settings, Path(workdir))))


def main(argv: list[str] | None = None) -> int:
    quick_help = "reduced run: fewer repeats, smaller slow-client volume"
    return cli(argv, __doc__, quick_help, run_benchmark, print_table)


if __name__ == "__main__":
    sys.exit(main())
