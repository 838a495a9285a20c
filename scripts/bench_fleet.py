#!/usr/bin/env python3
"""Figures for a fleet of handlers behind one bridge (issue 15): queueing at capacity, spreading, a killed handler.

    sudo .venv/bin/python scripts/bench_fleet.py              # each handler in its own network namespace
    .venv/bin/python scripts/bench_fleet.py --loopback        # no root: handlers on loopback ports

As root, each handler runs in a network namespace of its own (a test host), joined to this one by a
veth pair with addresses in 198.18.0.0/15 (the benchmarking range); the namespaces and links are
removed on the way out, whatever happens. The bridge is this process's engine (the one `cc-executor
mcp` runs) with `--backend handler` and every handler's URL; it is given TASKS one-second tasks at
once (`wait: false`), and the figures are:

- one handler with SLOTS execution slots: the time for all of them, against the ideal
  ceil(TASKS / SLOTS) s, and how many completed (target: all);
- three handlers: the time, as a ratio to one handler's (target <= 0.5);
- three handlers, one SIGKILLed mid-run: how many failed (target: at most those running on it) and
  how many completed (target: the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cc_executor.bridge.executions import ExecutionManager, TaskRequest
from cc_executor.bridge.settings import BridgeSettings
from cc_executor.contract_tests.live_handler import free_port, wait_healthy
from cc_executor.generated.mcp.common import TaskResult
from cc_executor.handler.execution_types import RunLimits

NETWORK_PREFIX = "198.18"  # 198.18.0.0/15: set aside for benchmarking networks (RFC 2544)
PORT = 8003
STARTUP_S = 20.0


@dataclass(frozen=True)
class Host:
    """Where one handler listens: an address (in its namespace, or loopback) and a port; `prefix`: ip netns exec."""

    address: str
    port: int
    prefix: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"ws://{self.address}:{self.port}/ws/mcp"


@contextlib.contextmanager
def namespace_hosts(count: int) -> Iterator[list[Host]]:
    """`count` network namespaces, each a host at 198.18.N.2 reached from here through 198.18.N.1."""
    tag = f"ccxb{os.getpid() % 100000}"
    made: list[tuple[str, str]] = []
    try:
        hosts = []
        for index in range(count):
            namespace, near, far = f"{tag}-{index}", f"{tag}a{index}", f"{tag}b{index}"
            net = f"{NETWORK_PREFIX}.{index + 1}"
            run("ip", "netns", "add", namespace)
            made.append((namespace, near))
            run("ip", "link", "add", near, "type", "veth", "peer", "name", far)
            run("ip", "link", "set", far, "netns", namespace)
            run("ip", "addr", "add", f"{net}.1/24", "dev", near)
            run("ip", "link", "set", near, "up")
            inside = ("ip", "netns", "exec", namespace)
            run(*inside, "ip", "addr", "add", f"{net}.2/24", "dev", far)
            run(*inside, "ip", "link", "set", far, "up")
            run(*inside, "ip", "link", "set", "lo", "up")
            hosts.append(Host(f"{net}.2", PORT, inside))
        yield hosts
    finally:
        for namespace, near in made:
            subprocess.run(["ip", "link", "del", near], capture_output=True, check=False)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def loopback_hosts(count: int) -> list[Host]:
    return [Host("127.0.0.1", free_port()) for _ in range(count)]


def run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {done.stderr.strip()}")


def log_of(scratch: str, index: int) -> Path:
    return Path(scratch) / f"handler-{index}.log"


@contextlib.contextmanager
def handlers(hosts: list[Host], slots: int, token: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A handler on each host (--max-running SLOTS); SIGKILLed on the way out if still there."""
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="ccx-fleet-") as scratch:
        try:
            for index, host in enumerate(hosts):
                data_dir = Path(scratch) / f"handler-{index}"
                env = {**os.environ, "CC_EXECUTOR_DATA_DIR": str(data_dir), "CC_EXECUTOR_TOKEN": token}
                argv = [*host.prefix, sys.executable, "-m", "cc_executor", "handler", "--host", host.address]
                argv += ["--port", str(host.port), "--max-running", str(slots), "--drain-grace", "0"]
                argv += ["--no-unix-socket", "--log-level", "WARNING"]
                with open(log_of(scratch, index), "wb") as log:  # the child keeps its own copy
                    processes.append(subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stderr=log))
            for index, (host, process) in enumerate(zip(hosts, processes, strict=True)):
                try:
                    wait_healthy(f"http://{host.address}:{host.port}", process, STARTUP_S, log_of(scratch, index))
                except RuntimeError as exc:
                    raise SystemExit(f"the handler at {host.url}: {exc}") from None
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@dataclass
class Batch:
    elapsed_s: float
    results: list[TaskResult]
    on_killed: int = 0  # tasks running on the killed handler when it was killed

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)


async def batch(
    hosts: list[Host], token: str, tasks: int, seconds: float, kill: subprocess.Popen[bytes] | None
) -> Batch:
    """TASKS `sleep SECONDS` tasks given to the bridge at once; with `kill`, that handler is SIGKILLed mid-run."""
    with tempfile.TemporaryDirectory(prefix="ccx-bridge-") as data_dir:
        settings = BridgeSettings(
            data_dir=Path(data_dir),
            handler_urls=tuple(host.url for host in hosts),
            token=token,
            backend="handler",
            max_concurrent=tasks,
            max_queued=tasks,
            run_limits=RunLimits(kill_grace_s=1.0),
        )
        manager = ExecutionManager(settings)
        try:
            began = time.monotonic()
            executions = [manager.submit(TaskRequest.for_command(f"sleep {seconds}", settings)) for _ in range(tasks)]
            on_killed = 0
            if kill is not None:
                await asyncio.sleep(seconds / 2)
                on_killed = sum(1 for e in executions if e.backend == hosts[0].url and e.status == "running")
                kill.send_signal(signal.SIGKILL)
            results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 600)
            return Batch(time.monotonic() - began, list(results), on_killed)
        finally:
            await manager.close()


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else "PASS" if ok else "MISS"
    print(f"  {name:<52} {value:>16}  {target:<28} {verdict}")


async def bench(hosts: list[Host], tasks: int, slots: int, seconds: float) -> bool:
    token = secrets.token_urlsafe(32)
    ideal_one = math.ceil(tasks / slots) * seconds
    with handlers(hosts[:1], slots, token):
        one = await batch(hosts[:1], token, tasks, seconds, None)
    with handlers(hosts, slots, token):
        three = await batch(hosts, token, tasks, seconds, None)
    with handlers(hosts, slots, token) as processes:
        killed = await batch(hosts, token, tasks, seconds, processes[0])
    ratio = three.elapsed_s / one.elapsed_s
    checks = [
        one.count("completed") == tasks,
        ratio <= 0.5,
        tasks - killed.count("completed") <= killed.on_killed,
    ]
    print(f"\n{tasks} tasks of {seconds:g} s given at once; {slots} execution slots per handler")
    row("one handler: time for all", f"{one.elapsed_s:.2f} s", f"ideal {ideal_one:g} s")
    row("one handler: completed", f"{one.count('completed')} of {tasks}", "all", checks[0])
    row(f"{len(hosts)} handlers: time for all", f"{three.elapsed_s:.2f} s")
    row(
        f"{len(hosts)} handlers: completed",
        f"{three.count('completed')} of {tasks}",
        "all",
        three.count("completed") == tasks,
    )
    row(f"{len(hosts)} handlers / one handler", f"{ratio:.2f}", "<= 0.5", checks[1])
    row("one of them SIGKILLed mid-run: running on it then", f"{killed.on_killed}")
    row("  failed", f"{tasks - killed.count('completed')}", "<= running on it", checks[2])
    row("  completed", f"{killed.count('completed')} of {tasks}", "the rest")
    row("  time for all", f"{killed.elapsed_s:.2f} s")
    return all(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loopback", action="store_true", help="handlers on loopback ports (no root needed)")
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--handlers", type=int, default=3)
    args = parser.parse_args()
    if args.loopback:
        print("handlers on loopback ports")
        return 0 if asyncio.run(bench(loopback_hosts(args.handlers), args.tasks, args.slots, args.seconds)) else 1
    if os.geteuid() != 0 or shutil.which("ip") is None:
        raise SystemExit("network namespaces need root and iproute2's ip; or give --loopback")
    with namespace_hosts(args.handlers) as hosts:
        print(f"handlers in network namespaces: {', '.join(host.address for host in hosts)}")
        return 0 if asyncio.run(bench(hosts, args.tasks, args.slots, args.seconds)) else 1


if __name__ == "__main__":
    sys.exit(main())
