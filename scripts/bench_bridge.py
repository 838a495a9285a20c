#!/usr/bin/env python3
"""Benchmark the MCP bridge against running the fake `claude` directly.

Every figure with a target is printed with PASS or MISS, next to its baseline and ratio.

    .venv/bin/python scripts/bench_bridge.py            # full run (about 90 s)
    .venv/bin/python scripts/bench_bridge.py --quick    # reduced run (about 30 s)
    .venv/bin/python scripts/bench_bridge.py --json     # machine-readable figures
    .venv/bin/python scripts/bench_bridge.py --check    # exit status 1 when a target is missed

Measured, with the fake claude (tests/fixtures/bin/claude) as the task:
  1. `tools/call execute_task` round trip (default success task) through the in-memory
     MCP client (mode "auto" = 2026-07-28 direct dispatch, "legacy" = 2025-11-25
     JSON-RPC), on the local backend and on a real handler process, against the same
     argv run with `asyncio.create_subprocess_exec` and stdout read to EOF; interleaved
     runs, medians compared: the difference is the bridge's added time per task.
  2. 20 `[fake:slow seconds=S]` tasks through the handler pool (max_concurrent=20), all
     at once, against the same 20 one after another through the same bridge: speed-up.
  3. Peak RSS of the bridge while a task writes 1 GiB (`[fake:huge mb=1024]`), with the
     bridge in its own process (`python -m cc_executor mcp --backend local|handler`,
     driven over stdio by the SDK's stdio client): VmHWM reset before the task and
     VmRSS sampled during it; also the task's wall time and MB/s against a direct run.

Every loop is bounded in count and time; the handler, the bridge processes and any
baseline process group are stopped at the end, also on error, SIGTERM or Ctrl-C. All
state goes to a temporary CC_EXECUTOR_DATA_DIR that is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import mcp
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from cc_executor.bridge.claude_command import build_claude_argv
from cc_executor.bridge.executions import BridgeSettings, ExecutionManager
from cc_executor.bridge.mcp_server import build_server
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler

REPO = Path(__file__).resolve().parents[1]
FAKE_CLAUDE = REPO / "tests" / "fixtures" / "bin" / "claude"
#: Variables of a developer's shell that change what the fake claude or the bridge does
#: (the fake refuses to run with CLAUDECODE set, as the real CLI does).
DROPPED_ENV = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CC_EXECUTOR_TOKEN", "CC_EXECUTOR_CLAUDE_BIN")
MIB = 1 << 20
MB = 1_000_000
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


FULL = Settings("full", 60, 5, ("auto", "legacy"), 20, 2.0, 1024, 30.0, 150.0, 210.0)
QUICK = Settings("quick", 30, 3, ("auto", "legacy"), 20, 0.5, 128, 30.0, 60.0, 90.0)

TARGETS = {
    "round_trip_added_ms": 15.0,  # median bridge round trip minus median direct run
    "concurrency_speedup": 8.0,
    "bridge_peak_rss_mib": 100.0,
}


class BenchError(Exception):
    """A measurement could not be made (wrong result, timeout, a process that would not start)."""


# -- /proc ----------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int | None:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM), or None when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (its threads, not its children)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


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


class RssSampler:
    """Samples VmRSS of some processes in the background; `window()` gives each one's maximum since the last call."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.02) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.max_kib = dict.fromkeys(pids, 0)
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def sample(self) -> None:
        for name, pid in self.pids.items():
            rss = proc_status_kib(pid, "VmRSS")
            if rss is not None:
                self.max_kib[name] = max(self.max_kib[name], rss)
        self.samples += 1

    def window(self) -> tuple[dict[str, float], int]:
        """({name: max VmRSS in MiB}, sample count) since the previous call; starts a new window."""
        self.sample()
        result = {name: kib / 1024 for name, kib in self.max_kib.items()}, self.samples
        self.max_kib, self.samples = dict.fromkeys(self.pids, 0), 0
        return result

    async def _run(self) -> None:
        while True:  # ends when cancelled by __aexit__
            self.sample()
            await asyncio.sleep(self.interval_s)


# -- the baseline: the fake claude run directly -----------------------------------


@dataclass
class Direct:
    elapsed_s: float
    stdout_bytes: int
    stdout_tail: bytes
    returncode: int | None


async def run_direct(argv: list[str], timeout_s: float, *, keep: bool = True) -> Direct:
    """The same argv with asyncio, stdout (and stderr) read to EOF; the process group is killed on any failure."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    count, tail = 0, b""

    async def read_stdout() -> None:
        nonlocal count, tail
        assert process.stdout is not None
        if keep:
            data = await process.stdout.read()
            count, tail = len(data), data[-4096:]
            return
        while chunk := await process.stdout.read(256 * 1024):
            count += len(chunk)
            tail = (tail + chunk)[-4096:]

    try:
        async with asyncio.timeout(timeout_s):
            assert process.stderr is not None
            await asyncio.gather(read_stdout(), process.stderr.read())
            await process.wait()
    except TimeoutError:
        raise BenchError(f"direct run exceeded {timeout_s:g} s: {argv[-1][:60]!r}") from None
    finally:
        if process.returncode is None:  # timeout, error or Ctrl-C: take the whole group down
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 5)
    return Direct(time.perf_counter() - started, count, tail, process.returncode)


def check_direct(direct: Direct, what: str) -> None:
    if direct.returncode != 0 or b'"type":"result"' not in direct.stdout_tail:
        raise BenchError(f"{what} run directly: exit {direct.returncode}, output ends {direct.stdout_tail[-200:]!r}")


# -- figures -------------------------------------------------------------------------


@dataclass
class Figure:
    section: str
    name: str
    bridge: float | None  # through the bridge
    baseline: float | None  # the fake claude run directly (the sequential run; the bridge's RSS before the task)
    unit: str
    measure: float | None = None  # the figure the target applies to
    measure_unit: str = ""
    target: str = ""
    ok: bool | None = None  # None: informational, no target
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.bridge is None or not self.baseline:
            return None
        return self.bridge / self.baseline

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "PASS" if self.ok else "MISS"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


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
        async with Client(build_server(manager), mode=mode) as client:
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
    argv = build_claude_argv(str(FAKE_CLAUDE), ROUND_TRIP_TASK)
    bridge_ms: list[float] = []
    direct_ms: list[float] = []
    async with in_memory_bridge(settings, mode) as client:
        for _ in range(bench.rt_warmup):
            check_direct(await run_direct(argv, bench.call_timeout_s), "round-trip task")
            await call_task(client, ROUND_TRIP_TASK, bench.call_timeout_s)

        async def through_bridge() -> None:
            started = time.perf_counter()
            data = await call_task(client, ROUND_TRIP_TASK, bench.call_timeout_s)
            bridge_ms.append((time.perf_counter() - started) * 1000)
            if data.get("result") != f"Echo: {ROUND_TRIP_TASK}":
                raise BenchError(f"round trip through the bridge answered {data.get('result')!r}")

        async def directly() -> None:
            direct = await run_direct(argv, bench.call_timeout_s)
            check_direct(direct, "round-trip task")
            direct_ms.append(direct.elapsed_s * 1000)

        for index in range(bench.rt_runs):  # interleaved, alternating who goes first: drift hits both alike
            for step in (through_bridge, directly) if index % 2 == 0 else (directly, through_bridge):
                await step()
    b_median, d_median = statistics.median(bridge_ms), statistics.median(direct_ms)
    added = b_median - d_median
    key = f"round_trip_{label}_{mode}"
    details[key] = {
        "runs": bench.rt_runs,
        "bridge_ms": [round(v, 2) for v in bridge_ms],
        "direct_ms": [round(v, 2) for v in direct_ms],
        "bridge_median_ms": round(b_median, 2),
        "direct_median_ms": round(d_median, 2),
        "added_ms": round(added, 2),
    }
    limit = TARGETS["round_trip_added_ms"]
    return Figure(
        ROUND_TRIP,
        f"round trip, {label}, mode={mode}",
        b_median,
        d_median,
        "ms",
        added,
        "ms added",
        f"< {limit:g} ms added",
        added < limit,
        f"medians of {bench.rt_runs}; bridge p90 {percentile(bridge_ms, 0.9):.1f} ms, min {min(bridge_ms):.1f}; "
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
            speedup,
            "x speed-up",
            f">= {limit:g}x",
            speedup >= limit,
            f"bridge = all {n} at once, baseline = one after another; ideal {n}x; "
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
        "result_output_bytes_stored": data.get("output_bytes"),
        "result_output_truncated": data.get("output_truncated"),
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
            peak,
            "MiB",
            f"< {limit:g} MiB",
            peak < limit,
            f"baseline = the same bridge before the task (started, one small task done); {how}; "
            f"sampled VmRSS max {sampled['bridge']:.1f} MiB ({samples} samples)",
        ),
        Figure(
            section,
            f"task wall time, --backend {backend}",
            wall_s,
            direct.elapsed_s,
            "s",
            mb_s,
            "MB/s",
            note=f"direct {direct_mb_s:.0f} MB/s ({direct.stdout_bytes / MIB:.0f} MiB of stdout); bridge CPU "
            f"{cpu['bridge']:.1f} s{handler_note}; stored {(data.get('output_bytes') or 0) / MIB:.0f} MiB "
            f"(truncated: {data.get('output_truncated')})",
        ),
    ]


# -- the run -------------------------------------------------------------------


async def bench_all(handler: LiveHandler, bench: Settings, workdir: Path) -> dict[str, Any]:
    # SIGTERM ends the run as Ctrl-C does: the main task is cancelled, every `finally` runs.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    started = time.monotonic()
    figures: list[Figure] = []
    details: dict[str, Any] = {"load_average_before": load_average()}
    skipped: list[str] = []

    def over_budget(name: str) -> bool:
        if time.monotonic() - started > bench.total_budget_s:
            skipped.append(name)
            return True
        return False

    for label, via in (("local", None), ("handler", handler)):
        for mode in bench.rt_modes:
            if not over_budget(f"round trip {label} {mode}"):
                settings = bridge_settings(workdir / f"rt-{label}-{mode}", via)
                figures.append(await bench_round_trip(label, settings, mode, bench, details))
    if not over_budget("concurrency"):
        figures += await bench_concurrency(handler, workdir / "concurrency", bench, details)
    if not over_budget("memory"):
        argv = build_claude_argv(str(FAKE_CLAUDE), f"[fake:huge mb={bench.huge_mb}]")
        direct = await run_direct(argv, bench.huge_timeout_s, keep=False)
        check_direct(direct, "huge task")
        for backend, via in (("handler", handler), ("local", None)):
            if not over_budget(f"memory {backend}"):
                figures += await bench_memory(backend, via, workdir, direct, bench, details)
    details["load_average_after"] = load_average()
    return {
        "mode": bench.mode,
        "machine": machine(),
        "settings": asdict(bench),
        "targets": TARGETS,
        "figures": [{**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in figures],
        "all_targets_met": all(f.ok for f in figures if f.ok is not None) and not skipped,
        "skipped": skipped,
        "details": details,
        "duration_s": round(time.monotonic() - started, 1),
        "_figures": figures,
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    try:
        from importlib.metadata import version

        sdk = version("mcp")
    except Exception:
        sdk = getattr(mcp, "__version__", "?")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "mcp": sdk,
    }


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("ms", "ms added"):
        return f"{value:+.1f} ms" if unit == "ms added" else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "x speed-up":
        return f"{value:.1f}x speed-up"
    return f"{value:.1f} {unit}"


def rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    return [
        (
            f.name,
            fmt(f.bridge, f.unit),
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
    m = result["machine"]
    print(
        f"cc-executor bridge benchmark ({result['mode']}; {m['cpus']} CPUs, Python {m['python']}, mcp {m['mcp']}; "
        f"{result['duration_s']} s)"
    )
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
    details = result["details"]
    print(
        "Baseline: the fake claude run directly; in section 2 the same tasks one after another; for RSS the "
        "bridge's VmRSS before the task. Ratio = bridge / baseline. Figure = what the target applies to."
    )
    print(f"load average before {details['load_average_before']}, after {details['load_average_after']}")
    if result["skipped"]:
        print(f"skipped (time budget spent): {', '.join(result['skipped'])}")
    print("all targets met" if result["all_targets_met"] else "NOT all targets met")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced run: shorter slow tasks, a 128 MiB big task")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    bench = QUICK if args.quick else FULL
    for name in DROPPED_ENV:
        os.environ.pop(name, None)
    try:
        with tempfile.TemporaryDirectory(prefix="ccx-bench-bridge-") as workdir:
            os.environ["CC_EXECUTOR_DATA_DIR"] = str(Path(workdir) / "data")
            with live_handler() as handler:
                result = asyncio.run(bench_all(handler, bench, Path(workdir)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; every process stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "_figures"}, indent=2))
    else:
        print_table(result)
    return 1 if args.check and not result["all_targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
