#!/usr/bin/env python3
"""Benchmark the MCP bridge against running the fake `claude` directly.

Every figure with a target is printed with PASS or MISS, next to its baseline and ratio.

    .venv/bin/python scripts/bench_bridge.py            # full run (about 4 minutes)
    .venv/bin/python scripts/bench_bridge.py --quick    # reduced run (about 100 s)
    .venv/bin/python scripts/bench_bridge.py --json     # machine-readable figures
    .venv/bin/python scripts/bench_bridge.py --check    # exit status 1 when a target is missed

Measured, with the fake claude (tests/fixtures/bin/claude) as the task:
  1. `tools/call execute_task` round trip (default success task) through the in-memory
     MCP client (mode "auto" = 2026-07-28 direct dispatch, "legacy" = 2025-11-25
     JSON-RPC), on the local backend and on a real handler process, against the same
     argv run with `asyncio.create_subprocess_exec` and stdout read to EOF; interleaved
     runs (who goes first alternates), and the bridge's added time per task is the median
     of each call's time less the direct run's beside it (the difference of the two
     medians is printed too: it moves with drift in the fake claude's own time).
  2. 20 `[fake:slow seconds=S]` tasks through the handler pool (max_concurrent=20), all
     at once, against the same 20 one after another through the same bridge: speed-up.
  3. Peak RSS of the bridge while a task writes 1 GiB (`[fake:huge mb=1024]`), with the
     bridge in its own process (`python -m cc_executor mcp --backend local|handler`,
     driven over stdio by the SDK's stdio client): VmHWM reset before the task and
     VmRSS sampled during it; also the task's wall time and MB/s against a direct run.

  4. Cold start over stdio: a fresh `python -m cc_executor mcp` process to its answer to
     `initialize` (and to `tools/list`), against a minimal server of the MCP SDK (its
     low-level Server with an empty tool list) started the same way; interleaved, medians compared.

Every loop is bounded in count and time; the handler, the bridge processes and any
baseline process group are stopped at the end, also on error, SIGTERM or Ctrl-C. All
state goes to a temporary CC_EXECUTOR_DATA_DIR that is removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
from bench_common import (
    MB,
    MIB,
    BenchError,
    BenchRun,
    Direct,
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
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from cc_executor.bridge.claude_command import build_claude_argv
from cc_executor.bridge.executions import BridgeSettings, ExecutionManager
from cc_executor.bridge.mcp_server import build_server
from cc_executor.bridge.tool_calls import served
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.handler.launcher import watch_children_with_pidfds

REPO = Path(__file__).resolve().parents[1]
FAKE_CLAUDE = REPO / "tests" / "fixtures" / "bin" / "claude"
#: Variables of a developer's shell that change what the fake claude or the bridge does
#: (the fake refuses to run with CLAUDECODE set, as the real CLI does).
DROPPED_ENV = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CC_EXECUTOR_TOKEN", "CC_EXECUTOR_CLAUDE_BIN")
ROUND_TRIP_TASK = "benchmark round trip"

# -- settings -----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    mode: str
    rt_runs: int  # round trips per configuration, bridge and direct each (interleaved)
    rt_warmup: int
    rt_modes: tuple[str, ...]  # in-memory client modes
    conc_tasks: int
    conc_seconds: float  # [fake:slow seconds=S] per task
    huge_mb: int  # [fake:huge mb=M]
    call_timeout_s: float  # bound on one short tools/call
    huge_timeout_s: float  # bound on the big task (and on its direct run)
    total_budget_s: float  # remaining sections are skipped once this is spent
    cold_runs: int  # cold starts of the bridge and of the minimal SDK server each (interleaved)


FULL = Settings("full", 60, 5, ("auto", "legacy"), 20, 2.0, 1024, 30.0, 150.0, 240.0, 15)
QUICK = Settings("quick", 30, 3, ("auto", "legacy"), 20, 0.5, 128, 30.0, 60.0, 120.0, 7)

TARGETS = {
    "round_trip_added_ms": 3.0,  # median bridge round trip minus median direct run
    "cold_start_added_s": 0.1,  # median time to the initialize answer minus a minimal SDK server's
    "concurrency_speedup": 8.0,
    "bridge_peak_rss_mib": 100.0,
}

# -- /proc ----------------------------------------------------------------------


def find_child(parent: int, argv_part: tuple[str, ...], environ_entry: str) -> int | None:
    """The child of `parent` whose argv contains `argv_part` and whose environment has `environ_entry`."""
    wanted_argv = "\0".join(argv_part).encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            with open(f"{entry.path}/cmdline", "rb") as cmdline:
                if wanted_argv not in cmdline.read():
                    continue
            with open(f"{entry.path}/environ", "rb") as environ:
                if environ_entry.encode() in environ.read().split(b"\0"):
                    return int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    return None


# -- the baseline: the fake claude run directly -----------------------------------


def check_direct(direct: Direct, what: str) -> None:
    if direct.returncode != 0 or b'"type":"result"' not in direct.stdout:
        raise BenchError(f"{what} run directly: exit {direct.returncode}, output ends {direct.stdout[-200:]!r}")


# -- bridges ---------------------------------------------------------------------------


def bridge_settings(data_dir: Path, handler: LiveHandler | None, **overrides: Any) -> BridgeSettings:
    """What `cc-executor mcp` would use, with the fake claude; through `handler` when given, else local."""
    base = BridgeSettings(data_dir=data_dir, claude_bin=str(FAKE_CLAUDE), backend="local")
    if handler is not None:
        base = replace(base, backend="handler", handler_urls=(handler.url,), token=handler.token)
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def in_memory_bridge(settings: BridgeSettings, mode: str) -> AsyncIterator[Client]:
    manager = ExecutionManager(settings)
    try:
        async with Client(build_server(served(manager)), mode=mode) as client:
            yield client
    finally:
        await manager.close()


async def call_task(client: Client | ClientSession, task: str, timeout_s: float) -> dict[str, Any]:
    """One execute_task call; returns its structured result (BenchError unless it completed)."""
    try:
        with anyio.fail_after(timeout_s):
            result = await client.call_tool("execute_task", {"task": task})
    except TimeoutError:
        raise BenchError(f"execute_task did not answer within {timeout_s:g} s: {task[:60]!r}") from None
    data = result.structured_content or {}
    if result.is_error or data.get("status") != "completed":
        text = " ".join(getattr(item, "text", "") for item in result.content)[:300]
        raise BenchError(f"execute_task {task[:60]!r}: {data.get('status')} {data.get('error')} {text}")
    return data


# -- 1. round trip -----------------------------------------------------------------

ROUND_TRIP = "1. execute_task round trip vs the fake claude run directly (default success task)"


async def bench_round_trip(
    label: str, settings: BridgeSettings, mode: str, bench: Settings, details: dict[str, Any]
) -> Figure:
    argv = build_claude_argv(str(FAKE_CLAUDE))
    bridge_ms: list[float] = []
    direct_ms: list[float] = []
    async with in_memory_bridge(settings, mode) as client:
        for _ in range(bench.rt_warmup):
            check_direct(
                await run_direct(argv, bench.call_timeout_s, stdin=ROUND_TRIP_TASK.encode()), "round-trip task"
            )
            await call_task(client, ROUND_TRIP_TASK, bench.call_timeout_s)

        async def through_bridge() -> None:
            started = time.perf_counter()
            data = await call_task(client, ROUND_TRIP_TASK, bench.call_timeout_s)
            bridge_ms.append((time.perf_counter() - started) * 1000)
            if data.get("result") != f"Echo: {ROUND_TRIP_TASK}":
                raise BenchError(f"round trip through the bridge answered {data.get('result')!r}")

        async def directly() -> None:
            direct = await run_direct(argv, bench.call_timeout_s, stdin=ROUND_TRIP_TASK.encode())
            check_direct(direct, "round-trip task")
            direct_ms.append(direct.elapsed_s * 1000)

        for index in range(bench.rt_runs):  # interleaved, alternating who goes first: drift hits both alike
            for step in (through_bridge, directly) if index % 2 == 0 else (directly, through_bridge):
                await step()
    b_median, d_median = statistics.median(bridge_ms), statistics.median(direct_ms)
    # What each call added over the direct run beside it: on a shared VM the fake claude's own time drifts by tens
    # of ms within a minute, which moves the two medians apart; each pair ran back to back, so drift cancels.
    differences = [b - d for b, d in zip(bridge_ms, direct_ms, strict=True)]
    added = statistics.median(differences)
    key = f"round_trip_{label}_{mode}"
    details[key] = {
        "runs": bench.rt_runs,
        "bridge_ms": [round(v, 2) for v in bridge_ms],
        "direct_ms": [round(v, 2) for v in direct_ms],
        "bridge_median_ms": round(b_median, 2),
        "direct_median_ms": round(d_median, 2),
        "added_ms": round(added, 2),
        "difference_of_medians_ms": round(b_median - d_median, 2),
    }
    limit = TARGETS["round_trip_added_ms"]
    return Figure(
        ROUND_TRIP,
        f"round trip, {label}, mode={mode}",
        b_median,
        d_median,
        "ms",
        measure=added,
        measure_unit="ms added",
        target=f"< {limit:g} ms added",
        ok=added < limit,
        note=f"median of {bench.rt_runs} paired differences, the middle half of them {percentile(differences, 0.25):+.1f} "
        f"to {percentile(differences, 0.75):+.1f} ms (difference of the medians {b_median - d_median:+.1f} ms); "
        f"bridge p90 {percentile(bridge_ms, 0.9):.1f} ms, min {min(bridge_ms):.1f}; "
        f"direct p90 {percentile(direct_ms, 0.9):.1f} ms, min {min(direct_ms):.1f}",
    )


# -- 2. concurrency ------------------------------------------------------------------

CONCURRENCY = "2. tasks through the handler pool: all at once (max_concurrent) vs one after another"


async def bench_concurrency(
    handler: LiveHandler, data_dir: Path, bench: Settings, details: dict[str, Any]
) -> list[Figure]:
    n, seconds = bench.conc_tasks, bench.conc_seconds
    settings = bridge_settings(data_dir, handler, max_concurrent=n)
    tasks = [f"concurrency task {i} [fake:slow seconds={seconds:g}]" for i in range(n)]
    async with in_memory_bridge(settings, "auto") as client:
        await call_task(client, "warm-up", bench.call_timeout_s)
        started = time.perf_counter()
        together = await asyncio.gather(*(call_task(client, t, seconds + bench.call_timeout_s) for t in tasks))
        concurrent_s = time.perf_counter() - started
        started = time.perf_counter()
        one_by_one = [await call_task(client, t, seconds + bench.call_timeout_s) for t in tasks]
        sequential_s = time.perf_counter() - started
    if any(r["backend"] != handler.url for r in together + one_by_one):
        raise BenchError("a concurrency task did not run on the handler")
    speedup = sequential_s / concurrent_s
    task_ms = [r["duration_ms"] for r in together]
    details["concurrency"] = {
        "tasks": n,
        "seconds_per_task": seconds,
        "max_concurrent": n,
        "concurrent_s": round(concurrent_s, 3),
        "sequential_s": round(sequential_s, 3),
        "speedup": round(speedup, 2),
        "ideal_speedup": n,
        "concurrent_task_duration_ms": task_ms,
        "sequential_task_duration_ms": [r["duration_ms"] for r in one_by_one],
    }
    limit = TARGETS["concurrency_speedup"]
    return [
        Figure(
            CONCURRENCY,
            f"{n} x [fake:slow seconds={seconds:g}], wall time",
            concurrent_s,
            sequential_s,
            "s",
            measure=speedup,
            measure_unit="x speed-up",
            target=f">= {limit:g}x",
            ok=speedup >= limit,
            note=f"bridge = all {n} at once, baseline = one after another; ideal {n}x; "
            f"task duration_ms at once: min {min(task_ms)}, max {max(task_ms)}; "
            f"sequential overhead {(sequential_s / n - seconds) * 1000:.0f} ms per task",
        )
    ]


# -- 3. memory of a bridge process during a 1 GiB task ----------------------------------

MEMORY = "3. bridge process memory and throughput while a task writes {size}"


@contextlib.asynccontextmanager
async def bridge_process(
    backend: str, handler: LiveHandler | None, data_dir: Path, errlog_path: Path
) -> AsyncIterator[tuple[ClientSession, int]]:
    """`python -m cc_executor mcp --backend BACKEND` over stdio; yields an initialized session and the bridge's pid.

    stdio_client ends the process on the way out (stdin closed, then SIGTERM, then
    SIGKILL to its group); if it still lives after that, it is killed here.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"CC_EXECUTOR_DATA_DIR": str(data_dir), "CC_EXECUTOR_CLAUDE_BIN": str(FAKE_CLAUDE)}
    args = ["-m", "cc_executor", "mcp", "--backend", backend]
    if handler is not None:
        args += ["--handler-url", handler.url]
        env["CC_EXECUTOR_TOKEN"] = handler.token or ""
    params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(REPO))
    pid: int | None = None
    with open(errlog_path, "w") as errlog:
        try:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    with anyio.fail_after(30):
                        await session.initialize()
                    pid = find_child(os.getpid(), ("cc_executor", "mcp"), f"CC_EXECUTOR_DATA_DIR={data_dir}")
                    if pid is None:
                        raise BenchError(f"cannot find the bridge process ({backend}) in /proc")
                    yield session, pid
        finally:
            if pid is not None and proc_status_kib(pid, "VmRSS") is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


async def bench_memory(
    backend: str,
    handler: LiveHandler | None,
    workdir: Path,
    direct: Direct,
    bench: Settings,
    details: dict[str, Any],
) -> list[Figure]:
    label = "handler" if handler else "local"
    section = MEMORY.format(size=f"{bench.huge_mb} MiB")
    task = f"[fake:huge mb={bench.huge_mb}]"
    errlog = workdir / f"bridge-{label}.log"
    async with bridge_process(backend, handler, workdir / f"bridge-{label}", errlog) as (session, pid):
        await call_task(session, "warm-up", bench.call_timeout_s)  # lazy imports and first task done
        rss_before = (proc_status_kib(pid, "VmRSS") or 0) / 1024
        hwm_startup = (proc_status_kib(pid, "VmHWM") or 0) / 1024
        reset = reset_peak_rss(pid)
        pids = {"bridge": pid} | ({"handler": handler.process.pid} if handler else {})
        cpu_before = {name: process_cpu_s(p) for name, p in pids.items()}
        async with RssSampler(pids) as rss:
            rss.window()
            started = time.perf_counter()
            data = await call_task(session, task, bench.huge_timeout_s)
            wall_s = time.perf_counter() - started
            sampled, samples = rss.window()
        cpu = {name: process_cpu_s(p) - cpu_before[name] for name, p in pids.items()}
        hwm = (proc_status_kib(pid, "VmHWM") or 0) / 1024
        # a result carries no byte counts (it is written for a model): the stored size is the raw stdout's
        page = await session.call_tool(
            "get_execution_output", {"execution_id": data["execution_id"], "format": "raw", "limit": 1}
        )
        stored = (page.structured_content or {}).get("total_bytes") or 0
    peak = hwm if reset else max(sampled["bridge"], hwm_startup)
    mb_s, direct_mb_s = direct.stdout_bytes / wall_s / MB, direct.stdout_bytes / direct.elapsed_s / MB
    details[f"memory_{label}"] = {
        "task": task,
        "bridge_pid": pid,
        "bridge_rss_before_task_mib": round(rss_before, 1),
        "bridge_vmhwm_startup_and_warmup_mib": round(hwm_startup, 1),
        "vmhwm_reset_before_task": reset,
        "bridge_vmhwm_during_task_mib": round(hwm, 1),
        "bridge_vmrss_sampled_max_mib": round(sampled["bridge"], 1),
        "handler_vmrss_sampled_max_mib": round(sampled["handler"], 1) if handler else None,
        "rss_samples": samples,
        "wall_s": round(wall_s, 3),
        "direct_wall_s": round(direct.elapsed_s, 3),
        "stdout_bytes_direct_run": direct.stdout_bytes,
        "mb_s": round(mb_s, 1),
        "cpu_s": {name: round(v, 2) for name, v in cpu.items()},
        "result_output_bytes_stored": stored,
        "result_output_truncated": data.get("output_truncated", False),
        "result_duration_ms": data.get("duration_ms"),
    }
    limit = TARGETS["bridge_peak_rss_mib"]
    how = "VmHWM reset before the task" if reset else "VmHWM could not be reset: max of sampled VmRSS"
    handler_note = f"; handler VmRSS max {sampled['handler']:.0f} MiB, CPU {cpu['handler']:.1f} s" if handler else ""
    return [
        Figure(
            section,
            f"bridge peak RSS, --backend {backend}",
            peak,
            rss_before,
            "MiB",
            measure=peak,
            measure_unit="MiB",
            target=f"< {limit:g} MiB",
            ok=peak < limit,
            note=f"baseline = the same bridge before the task (started, one small task done); {how}; "
            f"sampled VmRSS max {sampled['bridge']:.1f} MiB ({samples} samples)",
        ),
        Figure(
            section,
            f"task wall time, --backend {backend}",
            wall_s,
            direct.elapsed_s,
            "s",
            measure=mb_s,
            measure_unit="MB/s",
            note=f"direct {direct_mb_s:.0f} MB/s ({direct.stdout_bytes / MIB:.0f} MiB of stdout); bridge CPU "
            f"{cpu['bridge']:.1f} s{handler_note}; stored {stored / MIB:.0f} MiB "
            f"(truncated: {data.get('output_truncated', False)})",
        ),
    ]


# -- 4. cold start ----------------------------------------------------------------

COLD_START = "4. cold start over stdio: `cc-executor mcp` vs a minimal server of the MCP SDK"
#: The SDK's own cost: a low-level Server with an empty tool list, served over stdio.
MINIMAL_SDK_SERVER = """
import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server

async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[])

async def main():
    server = Server("minimal", on_list_tools=list_tools)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


async def cold_start(argv: list[str], timeout_s: float) -> tuple[float, float]:
    """Seconds from spawning a stdio server to its initialize answer, and to its tools/list answer."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=16 * MIB,  # tools/list is one line of every tool's schemas
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        async with asyncio.timeout(timeout_s):
            marks = []
            for request in (INITIALIZE, LIST_TOOLS):
                process.stdin.write(json.dumps(request).encode() + b"\n")
                if request is INITIALIZE:
                    await process.stdin.drain()
                reply = json.loads(await process.stdout.readline())
                if "result" not in reply:
                    raise BenchError(f"{argv[-1]}: {request['method']} answered {reply}")
                marks.append(time.perf_counter() - started)
                if request is INITIALIZE:
                    process.stdin.write(json.dumps(INITIALIZED).encode() + b"\n")
            process.stdin.close()
            await process.wait()
    except TimeoutError:
        raise BenchError(f"{' '.join(argv)} did not answer within {timeout_s:g} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return marks[0], marks[1]


async def bench_cold_start(bench: Settings, details: dict[str, Any]) -> list[Figure]:
    ours_argv = [sys.executable, "-m", "cc_executor", "mcp", "--backend", "local"]
    sdk_argv = [sys.executable, "-c", MINIMAL_SDK_SERVER]
    ours: list[tuple[float, float]] = []
    sdk: list[tuple[float, float]] = []
    await cold_start(ours_argv, bench.call_timeout_s)  # warm the file cache (bytecode, site-packages)
    await cold_start(sdk_argv, bench.call_timeout_s)
    for index in range(bench.cold_runs):  # interleaved, alternating who goes first
        for argv, into in (
            ((ours_argv, ours), (sdk_argv, sdk)) if index % 2 == 0 else ((sdk_argv, sdk), (ours_argv, ours))
        ):
            into.append(await cold_start(argv, bench.call_timeout_s))
    init, sdk_init = statistics.median(m[0] for m in ours), statistics.median(m[0] for m in sdk)
    tools, sdk_tools = statistics.median(m[1] for m in ours), statistics.median(m[1] for m in sdk)
    added = init - sdk_init
    details["cold_start"] = {
        "runs": bench.cold_runs,
        "bridge_initialize_s": [round(m[0], 3) for m in ours],
        "sdk_initialize_s": [round(m[0], 3) for m in sdk],
        "bridge_tools_list_s": [round(m[1], 3) for m in ours],
        "added_s": round(added, 3),
    }
    limit = TARGETS["cold_start_added_s"]
    return [
        Figure(
            COLD_START,
            "initialize answered",
            init,
            sdk_init,
            "s",
            measure=added,
            measure_unit="s added",
            target=f"< {limit:g} s added",
            ok=added < limit,
            note=f"medians of {bench.cold_runs}; baseline: the SDK's low-level Server with an empty tool list (python start "
            "and the SDK's import included in both)",
        ),
        Figure(
            COLD_START,
            "tools/list answered",
            tools,
            sdk_tools,
            "s",
            measure=tools - sdk_tools,
            measure_unit="s added",
            note="the engine (execution manager, models, tool catalog) loads beside the handshake; tools/list "
            "waits for it",
        ),
    ]


# -- the run -------------------------------------------------------------------


async def bench_all(handler: LiveHandler, bench: Settings, workdir: Path) -> dict[str, Any]:
    watch_children_with_pidfds()  # as `cc-executor mcp` does; the direct runs are watched the same way
    run = BenchRun(bench)
    for label, via in (("local", None), ("handler", handler)):
        for mode in bench.rt_modes:
            if not run.over_budget(f"round trip {label} {mode}"):
                settings = bridge_settings(workdir / f"rt-{label}-{mode}", via)
                run.figures.append(await bench_round_trip(label, settings, mode, bench, run.details))
    if not run.over_budget("concurrency"):
        run.figures += await bench_concurrency(handler, workdir / "concurrency", bench, run.details)
    if not run.over_budget("memory"):
        argv = build_claude_argv(str(FAKE_CLAUDE))
        huge = f"[fake:huge mb={bench.huge_mb}]".encode()
        direct = await run_direct(argv, bench.huge_timeout_s, keep=False, stdin=huge)
        check_direct(direct, "huge task")
        for backend, via in (("handler", handler), ("local", None)):
            if not run.over_budget(f"memory {backend}"):
                run.figures += await bench_memory(backend, via, workdir, direct, bench, run.details)
    if not run.over_budget("cold start"):
        run.figures += await bench_cold_start(bench, run.details)
    return run.result("mcp", TARGETS)


def rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    return [
        (
            f.name,
            fmt(f.value, f.unit),
            fmt(f.baseline, f.unit),
            "-" if f.ratio is None else f"{f.ratio:.2f}x",
            fmt(f.measure, f.measure_unit),
            f.target or "-",
            f.verdict or "info",
            f.note,
        )
        for f in figures
    ]


def print_table(result: dict[str, Any]) -> None:
    figures: list[Figure] = result["_figures"]
    print(title(result, "bridge", "mcp"))
    header = ("Measure", "Bridge", "Baseline", "Ratio", "Figure", "Target", "Result", "Notes")
    table = [header, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:], strict=True)
        ]
        return "  ".join(cells) + "  " + row[-1]

    print(line(header))
    for section in dict.fromkeys(f.section for f in figures):
        print(f"-- {section}")
        for row in rows([f for f in figures if f.section == section]):
            print(line(row))
    print(
        "Baseline: the fake claude run directly; in section 2 the same tasks one after another; for RSS the "
        "bridge's VmRSS before the task. Ratio = bridge / baseline. Figure = what the target applies to."
    )
    print_footer(result)


def run_benchmark(quick: bool) -> dict[str, Any]:
    bench = QUICK if quick else FULL
    for name in DROPPED_ENV:
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="ccx-bench-bridge-") as workdir:
        os.environ["CC_EXECUTOR_DATA_DIR"] = str(Path(workdir) / "data")
        with live_handler() as handler:
            return asyncio.run(sigterm_cancels(bench_all(handler, bench, Path(workdir))))


def main(argv: list[str] | None = None) -> int:
    quick_help = "reduced run: shorter slow tasks, a 128 MiB big task"
    return cli(argv, __doc__, quick_help, run_benchmark, print_table)


if __name__ == "__main__":
    sys.exit(main())
