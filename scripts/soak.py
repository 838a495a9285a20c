#!/usr/bin/env python3
"""Soak the handler: many sequential executions and many concurrent connections, then check for leaks.

    python scripts/soak.py                 # the CI-sized run (also run by tests/soak)
    python scripts/soak.py --full          # 2,000 sequential executions, 200 connections
    python scripts/soak.py --json          # figures as JSON

Open file descriptors, child processes and RSS of the handler are read from /proc
before and after; the run fails (exit 1) when they do not return to their baseline.
Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cc_executor.client import HandlerClient, HandlerUnavailable
from cc_executor.contract_tests.live_handler import live_handler
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams

# CPython keeps freed memory for reuse rather than giving it back, so RSS settles at a
# high-water mark instead of returning to its baseline (the Python heap itself does
# return: see docs/reliability.md). A leak shows as RSS that keeps climbing past this.
RSS_BOUND_KIB = 48 * 1024
SETTLE_S = 10.0


@dataclass
class Footprint:
    fds: int
    children: int
    rss_kib: int


@dataclass
class SoakReport:
    sequential: int
    sequential_s: float
    connections_tried: int
    connections_accepted: int
    connections_refused_clearly: int
    max_sessions: int
    baseline: Footprint
    after_round_1: Footprint
    after: Footprint
    peak_rss_kib: int
    leaks: list[str]


def footprint(pid: int) -> Footprint:
    proc = Path(f"/proc/{pid}")
    fds = len(list((proc / "fd").iterdir()))
    status = (proc / "status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    children = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                children += 1
    return Footprint(fds, children, rss)


def peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


async def run_to_end(client: HandlerClient, command: str) -> ProcessCompletedParams:
    await client.execute(command)
    async for event in client.events():
        if isinstance(event, ProcessCompletedParams):
            return event
    raise RuntimeError("connection ended before process.completed")


async def sequential(url: str, token: str | None, count: int) -> float:
    started = time.monotonic()
    async with await HandlerClient.connect(url, token) as client:
        for index in range(count):
            completed = await asyncio.wait_for(run_to_end(client, f"echo soak {index}"), 30)
            if completed.status != "completed":
                raise RuntimeError(f"execution {index} ended {completed.status}: {completed.error}")
    return time.monotonic() - started


async def crowd(url: str, token: str | None, tries: int) -> tuple[int, int]:
    """Open `tries` connections at once, run something on each accepted one; (accepted, clearly refused)."""

    async def one() -> HandlerClient | str:
        try:
            return await HandlerClient.connect(url, token, open_timeout=20)
        except HandlerUnavailable as exc:
            return str(exc)

    outcomes = await asyncio.gather(*(one() for _ in range(tries)))
    clients = [o for o in outcomes if isinstance(o, HandlerClient)]
    refusals = [o for o in outcomes if isinstance(o, str)]
    clear = sum(1 for r in refusals if "HTTP 503" in r and "Too many sessions" in r)
    try:
        await asyncio.gather(*(asyncio.wait_for(run_to_end(c, "sleep 0.2; echo crowd"), 60) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return len(clients), clear


async def soak(count: int, tries: int, max_sessions: int) -> SoakReport:
    with live_handler("--max-sessions", str(max_sessions), token="soak-token") as handler:
        pid = handler.process.pid
        async with await HandlerClient.connect(handler.url, handler.token) as warm:  # first-use allocations
            await run_to_end(warm, "true")
        await asyncio.sleep(0.5)
        baseline = footprint(pid)
        rounds = []
        for _ in range(2):  # identical rounds: the second shows growth that is not warm-up
            sequential_s = await sequential(handler.url, handler.token, count)
            accepted, refused = await crowd(handler.url, handler.token, tries)
            rounds.append(await settled(pid, baseline))
        after_round_1, after = rounds
        leaks = []
        if after.fds > baseline.fds:
            leaks.append(f"file descriptors: {baseline.fds} -> {after.fds}")
        if after.children > baseline.children:
            leaks.append(f"child processes: {baseline.children} -> {after.children}")
        if after.rss_kib > baseline.rss_kib + RSS_BOUND_KIB:
            leaks.append(f"RSS grew from {baseline.rss_kib} KiB to {after.rss_kib} KiB")
        if accepted != min(tries, max_sessions) or accepted + refused != tries:
            leaks.append(f"of {tries} connections {accepted} were accepted and {refused} clearly refused")
        return SoakReport(
            count,
            round(sequential_s, 2),
            tries,
            accepted,
            refused,
            max_sessions,
            baseline,
            after_round_1,
            after,
            peak_rss(pid),
            leaks,
        )


async def settled(pid: int, baseline: Footprint) -> Footprint:
    """The footprint once closed connections and ended processes have been cleaned up (bounded wait)."""
    deadline = time.monotonic() + SETTLE_S
    now = footprint(pid)
    while time.monotonic() < deadline and (now.fds > baseline.fds or now.children > baseline.children):
        await asyncio.sleep(0.2)
        now = footprint(pid)
    return now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="2,000 executions and 200 connections")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    count, tries, max_sessions = (2000, 200, 150) if args.full else (500, 60, 40)
    report = asyncio.run(soak(count, tries, max_sessions))
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(f"sequential executions   {report.sequential} per round, 2 rounds; last round {report.sequential_s} s")
        print(
            f"concurrent connections  {report.connections_tried} tried, {report.connections_accepted} accepted "
            f"(limit {report.max_sessions}), {report.connections_refused_clearly} refused with 503"
        )
        print(f"{'':24}{'baseline':>10}{'round 1':>10}{'round 2':>10}")
        for name in ("fds", "children", "rss_kib"):
            figures = (getattr(footprint, name) for footprint in (report.baseline, report.after_round_1, report.after))
            print(f"{name:<24}" + "".join(f"{figure:>10}" for figure in figures))
        print(f"peak RSS (KiB)          {report.peak_rss_kib}")
        print("leaks: " + ("; ".join(report.leaks) if report.leaks else "none"))
    return 1 if report.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
