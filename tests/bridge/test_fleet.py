"""A fleet of handlers behind one bridge: routing by free slots, queueing instead of failing, failover of tasks
that never started, retry_on_handler_loss, draining handlers; several real handlers on loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fixtures import bridge_helpers as b

from cc_executor.bridge.executions import ExecutionManager, TaskRequest
from cc_executor.bridge.settings import BridgeSettings
from cc_executor.contract_tests.live_handler import LiveHandler, free_port, live_handler

pytestmark = pytest.mark.timeout(120)


@contextlib.contextmanager
def fleet(count: int, *args: str) -> Iterator[list[LiveHandler]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(live_handler(*args)) for _ in range(count)]


def via(handlers: list[LiveHandler], data_dir: Path, **overrides: Any) -> BridgeSettings:
    fields: dict[str, Any] = {"backend": "handler", "max_concurrent": 32, **overrides}
    return b.settings(data_dir, handler_urls=tuple(h.url for h in handlers), token=handlers[0].token, **fields)


def command(settings: BridgeSettings, text: str, **fields: Any) -> TaskRequest:
    return replace(TaskRequest.for_command(text, settings), **fields)


def spans(log: Path) -> list[tuple[str, float, float]]:
    """(task, started, ended) of every task that logged `start NAME T` and `end NAME T` lines."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for line in log.read_text().splitlines():
        kind, name, at = line.split()
        (starts if kind == "start" else ends)[name] = float(at)
    return [(name, starts[name], ends[name]) for name in starts if name in ends]


def most_at_once(intervals: list[tuple[str, float, float]]) -> int:
    events = sorted([(start, 1) for _, start, _ in intervals] + [(end, -1) for _, _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def metrics_of(handler: LiveHandler) -> str:
    with urllib.request.urlopen(f"{handler.http_url}/metrics", timeout=5) as response:
        return response.read().decode()


def timed(log: Path, name: str, seconds: float) -> str:
    return (
        f"echo start {name} $(date +%s.%N) >> {log}; sleep {seconds}; echo end {name} $(date +%s.%N) >> {log}; "
        f"echo ran {name}"
    )


async def test_at_capacity_tasks_wait_and_all_complete_within_the_slots(tmp_path: Path):
    log = tmp_path / "spans"
    with fleet(1, "--max-running", "2") as handlers:
        settings = via(handlers, tmp_path)
        manager = ExecutionManager(settings)
        steps: list[str] = []
        try:
            executions = [manager.submit(command(settings, timed(log, f"t{i}", 0.5))) for i in range(8)]
            for execution in executions:
                execution.subscribe(lambda update: steps.append(update.message))
            results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 60)
        finally:
            await manager.close()
    assert [r.status for r in results] == ["completed"] * 8, [r.error for r in results]
    assert {r.backend for r in results} == {handlers[0].url}
    assert most_at_once(spans(log)) == 2, "the handler's two slots, never more"
    assert any(step.startswith("queued: every handler is full (2 of 2 execution slots in use)") for step in steps)


async def test_tasks_go_to_the_handler_with_the_most_free_slots(tmp_path: Path):
    log = tmp_path / "spans"
    with fleet(3, "--max-running", "2") as handlers:
        settings = via(handlers, tmp_path)
        manager = ExecutionManager(settings)
        try:
            executions = [manager.submit(command(settings, timed(log, f"t{i}", 1))) for i in range(6)]
            results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 60)
        finally:
            await manager.close()
        queue_waits = [metrics_of(h) for h in handlers]
    assert [r.status for r in results] == ["completed"] * 6
    per_handler = {h.url: sum(1 for r in results if r.backend == h.url) for h in handlers}
    assert sorted(per_handler.values()) == [2, 2, 2], per_handler
    assert most_at_once(spans(log)) == 6, "all six ran at once: two on each handler"
    assert all("cc_executor_queue_wait_seconds_count 0.0" in text for text in queue_waits), "none waited on a handler"


async def test_a_task_waits_no_longer_than_the_queue_deadline_and_then_ran_nowhere(tmp_path: Path):
    marker = tmp_path / "ran"
    with fleet(1, "--max-running", "1") as handlers:
        settings = via(handlers, tmp_path, queue_timeout_s=1.0)
        manager = ExecutionManager(settings)
        try:
            hog = manager.submit(command(settings, "sleep 5"))
            await asyncio.sleep(0.5)
            began = time.monotonic()
            late = await asyncio.wait_for(manager.run_to_end(command(settings, f"touch {marker}")), 30)
            waited = time.monotonic() - began
            await manager.control(hog.id, "cancel")
        finally:
            await manager.close()
    assert late.status == "failed" and late.backend == "none"
    assert "every handler stayed full" in (late.error or "") and "nothing ran" in (late.error or "")
    assert 1.0 <= waited < 10
    assert not marker.exists()


async def test_a_task_waiting_for_a_handler_can_be_canceled_and_never_runs(tmp_path: Path):
    marker = tmp_path / "ran"
    with fleet(1, "--max-running", "1") as handlers:
        settings = via(handlers, tmp_path)
        manager = ExecutionManager(settings)
        try:
            hog = manager.submit(command(settings, "sleep 5"))
            waiting = manager.submit(command(settings, f"touch {marker}"))
            await asyncio.sleep(1.0)
            assert manager.status(waiting.id).status == "queued"
            changed, _ = await manager.control(waiting.id, "cancel", "not needed")
            result = await asyncio.wait_for(manager.follow(waiting), 10)
            await manager.control(hog.id, "cancel")
        finally:
            await manager.close()
    assert changed and result.status == "canceled" and result.backend == "none" and result.error == "not needed"
    assert not marker.exists()


async def test_a_killed_handler_fails_only_its_running_tasks_the_rest_move_on(tmp_path: Path):
    log = tmp_path / "spans"
    with live_handler("--max-running", "2") as survivor:
        with live_handler("--max-running", "2") as doomed:
            settings = via([doomed, survivor], tmp_path)
            manager = ExecutionManager(settings)
            try:
                executions = [manager.submit(command(settings, timed(log, f"t{i}", 2))) for i in range(8)]
                deadline = time.monotonic() + 15
                while sum(1 for e in executions if e.backend == doomed.url) < 2:
                    assert time.monotonic() < deadline, "two tasks never started on the doomed handler"
                    await asyncio.sleep(0.02)
                on_doomed = {e.id for e in executions if e.backend == doomed.url}
                doomed.process.send_signal(signal.SIGKILL)
                results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 90)
            finally:
                await manager.close()
                b.kill_all(str(log))
    failed = [r for r in results if r.status != "completed"]
    assert {r.execution_id for r in failed} == on_doomed, "exactly the tasks that ran on the killed handler failed"
    for result in failed:
        assert result.backend == doomed.url
        assert f"Lost the connection to the handler at {doomed.url}" in (result.error or "")
        assert "retry_on_handler_loss" in (result.hint or "")
    assert all(r.backend == survivor.url for r in results if r.status == "completed")
    assert len(results) - len(failed) == 6


async def test_retry_on_handler_loss_runs_the_task_again_on_another_handler(tmp_path: Path):
    runs = tmp_path / "runs"
    with live_handler("--max-running", "1") as survivor:
        with live_handler("--max-running", "1") as doomed:
            settings = via([doomed, survivor], tmp_path)
            manager = ExecutionManager(settings)
            try:
                hog = manager.submit(command(settings, "sleep 30"))  # takes one handler's only slot
                deadline = time.monotonic() + 15
                while hog.backend not in (doomed.url, survivor.url):
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.02)
                doomed_url = doomed.url if hog.backend == survivor.url else survivor.url
                task = manager.submit(
                    command(settings, f"echo run >> {runs}; sleep 2; echo done", retry_on_handler_loss=True)
                )
                while task.backend != doomed_url:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.02)
                victim = doomed if doomed_url == doomed.url else survivor
                await asyncio.sleep(0.3)
                victim.process.send_signal(signal.SIGKILL)
                await asyncio.sleep(0.5)
                await manager.control(hog.id, "cancel")  # frees the other handler's slot for the second run
                result = await asyncio.wait_for(manager.follow(task), 60)
            finally:
                await manager.close()
    assert result.status == "completed", result
    assert result.backend != doomed_url and result.backend in (doomed.url, survivor.url)
    assert runs.read_text().split() == ["run", "run"], "ran twice: the caller opted in"


async def test_a_draining_handler_takes_nothing_new_and_tasks_go_elsewhere(tmp_path: Path):
    with live_handler("--max-running", "2", "--drain-grace", "20") as draining:
        with live_handler("--max-running", "2") as other:
            settings = via([draining, other], tmp_path)
            manager = ExecutionManager(settings)
            try:
                first = await manager.run_to_end(command(settings, "true"))  # warms a connection to someone
                running = manager.submit(command(settings, "sleep 2; echo finished"))
                deadline = time.monotonic() + 15
                while running.backend == "pending":
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.02)
                target = draining if running.backend == draining.url else other
                target.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                later = await asyncio.gather(*(manager.run_to_end(command(settings, "echo later")) for _ in range(3)))
                finished = await asyncio.wait_for(manager.follow(running), 30)
                assert await asyncio.to_thread(target.process.wait, 20) == 0
            finally:
                await manager.close()
    assert first.status == "completed"
    assert finished.status == "completed", "a draining handler lets its running task finish"
    assert all(r.status == "completed" and r.backend != target.url for r in later)


async def test_a_name_with_several_addresses_is_one_member_per_address_refreshed(tmp_path: Path):
    log = tmp_path / "spans"
    port = free_port()
    records = {"fleet.test": ["127.0.0.1", "127.0.0.2"]}

    async def resolve(host: str, _: int) -> list[str]:
        return records[host]

    named = ("--max-running", "1", "--allow-host", "fleet.test")
    with (
        live_handler(*named, port=port, host="127.0.0.1") as first,
        live_handler(*named, port=port, host="127.0.0.2") as second,
        live_handler(*named, port=port, host="127.0.0.3") as third,
    ):
        name_url = f"ws://fleet.test:{port}/ws/mcp"
        settings = replace(via([first], tmp_path), handler_urls=(name_url,))
        manager = ExecutionManager(settings)
        assert manager.backends.pool is not None
        manager.backends.pool.resolve = resolve
        manager.backends.pool.discovery_interval_s = 0.2
        try:
            executions = [manager.submit(command(settings, timed(log, f"t{i}", 1))) for i in range(4)]
            results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 60)
            records["fleet.test"] = ["127.0.0.2", "127.0.0.3"]  # a rolling replacement: .1 went, .3 came
            await asyncio.sleep(0.3)
            later = [manager.submit(command(settings, "sleep 1")) for _ in range(2)]
            after = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in later)), 60)
            members = sorted(manager.backends.pool.handlers)
        finally:
            await manager.close()
    assert [r.status for r in results] == ["completed"] * 4
    assert sorted(r.backend for r in results) == sorted([first.url, first.url, second.url, second.url])
    assert most_at_once(spans(log)) == 2, "one slot on each address"
    assert sorted(r.backend for r in after) == sorted([second.url, third.url])
    assert members == sorted([second.url, third.url])


async def test_a_busy_fleet_never_sends_tasks_to_the_local_backend(tmp_path: Path):
    with fleet(1, "--max-running", "1", "--max-sessions", "2") as handlers:
        settings = via(handlers, tmp_path, backend="auto")
        manager = ExecutionManager(settings)
        try:
            executions = [manager.submit(command(settings, "sleep 0.3; echo done")) for _ in range(4)]
            results = await asyncio.wait_for(asyncio.gather(*(manager.follow(e) for e in executions)), 60)
        finally:
            await manager.close()
    assert [(r.status, r.backend, r.handler_error) for r in results] == [("completed", handlers[0].url, None)] * 4
