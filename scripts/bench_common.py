"""What bench_handler.py and bench_bridge.py share: /proc readings, the direct baseline, figures and the command line.

Both measure something (the handler, the bridge) against the same work done directly, on
Linux, and print one figure a row with PASS or MISS where there is a target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

T = TypeVar("T")

MIB = 1 << 20
MB = 1_000_000


class BenchError(Exception):
    """A measurement could not be made (error reply, wrong output, timeout, a process that would not start)."""


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
    """User + system CPU seconds the process has used (all its threads, not its children)."""
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


# -- the baseline: the same command run directly -------------------------------------


@dataclass
class Direct:
    elapsed_s: float
    stdout_bytes: int
    stdout: bytes  # all of it; with keep=False only the last 4 KiB
    returncode: int | None


async def run_direct(argv: list[str], timeout_s: float, *, keep: bool = True, stdin: bytes | None = None) -> Direct:
    """`argv` with asyncio, stdout and stderr read to EOF; the process group is killed on any failure.

    `keep=False` counts the output instead of holding it (a task that writes a GiB); `stdin` is written to
    its standard input, which is then closed (else it is closed from the start).
    """
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    count, stdout = 0, b""

    async def read_stdout() -> None:
        nonlocal count, stdout
        assert process.stdout is not None
        if keep:
            stdout = await process.stdout.read()
            count = len(stdout)
            return
        while chunk := await process.stdout.read(256 * 1024):
            count += len(chunk)
            stdout = (stdout + chunk)[-4096:]

    async def write_stdin() -> None:
        if stdin is not None and process.stdin is not None:
            process.stdin.write(stdin)
            await process.stdin.drain()
            process.stdin.close()

    try:
        async with asyncio.timeout(timeout_s):
            assert process.stderr is not None
            await asyncio.gather(read_stdout(), process.stderr.read(), write_stdin())
            await process.wait()
    except TimeoutError:
        raise BenchError(f"direct run exceeded {timeout_s:g} s: {argv[-1][:60]!r}") from None
    finally:
        if process.returncode is None:  # timeout, error or Ctrl-C: take the whole group down
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 5)
    return Direct(time.perf_counter() - started, count, stdout, process.returncode)


# -- figures -------------------------------------------------------------------------


@dataclass
class Figure:
    """One row: `value` measured through the handler or bridge, `baseline` the same work done directly."""

    section: str
    name: str
    value: float | None
    baseline: float | None  # None: nothing to compare with
    unit: str
    target: str = ""
    ok: bool | None = None  # None: informational, no target
    note: str = ""
    measure: float | None = None  # what the target applies to when it is neither (ms added, speed-up)
    measure_unit: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "PASS" if self.ok else "MISS"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def fmt(value: float | None, unit: str, ms_digits: int = 1) -> str:
    """A table cell.

    Milliseconds get `ms_digits` decimals and seconds one more: the handler's times are a
    few ms and want 2, the bridge's are tens of ms and 1 is enough.
    """
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.{ms_digits}f} ms"
    if unit == "ms added":
        return f"{value:+.{ms_digits}f} ms"
    if unit == "s":
        return f"{value:.{ms_digits + 1}f} s"
    if unit == "s added":
        return f"{value:+.{ms_digits + 2}f} s"
    if unit == "lines/s":
        return f"{value / 1000:,.0f} k lines/s"
    if unit == "x speed-up":
        return f"{value:.1f}x speed-up"
    return f"{value:.1f} {unit}"


# -- the run -------------------------------------------------------------------


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return "?"


def machine(package: str) -> dict[str, Any]:
    """The CPU, kernel and Python, and the version of `package` (the library the measured side is built on)."""
    cpu = ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    try:
        package_version = version(package)
    except PackageNotFoundError:
        package_version = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        package: package_version,
    }


class BenchRun:
    """One run's figures, details and skipped sections; sections are skipped once the time budget is spent."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings  # a frozen dataclass with `mode` and `total_budget_s`
        self.started = time.monotonic()
        self.figures: list[Figure] = []
        self.details: dict[str, Any] = {"load_average_before": load_average()}
        self.skipped: list[str] = []

    def over_budget(self, name: str) -> bool:
        if time.monotonic() - self.started > self.settings.total_budget_s:
            self.skipped.append(name)
            return True
        return False

    def result(self, package: str, targets: dict[str, float]) -> dict[str, Any]:
        """What --json prints (all but `_figures`) and print_table reads."""
        self.details["load_average_after"] = load_average()
        return {
            "mode": self.settings.mode,
            "machine": machine(package),
            "settings": asdict(self.settings),
            "targets": targets,
            "figures": [{**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in self.figures],
            "all_targets_met": all(f.ok for f in self.figures if f.ok is not None) and not self.skipped,
            "skipped": self.skipped,
            "details": self.details,
            "duration_s": round(time.monotonic() - self.started, 1),
            "_figures": self.figures,
        }


async def sigterm_cancels(work: Awaitable[T]) -> T:
    """Await `work` with SIGTERM ending it as Ctrl-C does: the main task is cancelled, every `finally` runs."""
    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
    try:
        return await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # outside the loop: like Ctrl-C


# -- output and the command line ----------------------------------------------------------


def title(result: dict[str, Any], what: str, package: str) -> str:
    m = result["machine"]
    return (
        f"cc-executor {what} benchmark ({result['mode']}; {m['cpus']} CPUs, Python {m['python']}, "
        f"{package} {m[package]}; {result['duration_s']} s)"
    )


def print_footer(result: dict[str, Any]) -> None:
    details = result["details"]
    print(f"load average before {details['load_average_before']}, after {details['load_average_after']}")
    if result["skipped"]:
        print(f"skipped (time budget spent): {', '.join(result['skipped'])}")
    print("all targets met" if result["all_targets_met"] else "NOT all targets met")


def cli(
    argv: list[str] | None,
    doc: str,
    quick_help: str,
    run: Callable[[bool], dict[str, Any]],
    print_table: Callable[[dict[str, Any]], None],
) -> int:
    """Parse --quick, --json and --check, `run(quick)` and print its result.

    Exit status 130 on Ctrl-C or SIGTERM, 2 when a measurement failed, 1 with --check
    when a target is missed.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # until the event loop takes it over
    try:
        result = run(args.quick)
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
