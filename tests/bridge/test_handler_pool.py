"""The handler pool: health-aware choice among handlers, retry with backoff for connecting only."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cc_executor.bridge.handler_pool import HandlerPool
from cc_executor.client import HandlerClient, HandlerUnavailable
from cc_executor.contract_tests.live_handler import free_port, live_handler

pytestmark = pytest.mark.timeout(60)


async def run_on(pool: HandlerPool, command: str) -> tuple[str, str]:
    """(the handler URL it ran on, its stdout)."""
    output: list[str] = []

    async def sink(stream: str, text: str) -> None:
        output.append(text)

    execution = await pool.start(command, cwd=None, timeout_s=30, sink=sink)
    completion = await execution.wait()
    assert completion.status == "completed", completion
    return execution.backend, "".join(output)


async def test_an_unreachable_handler_is_passed_over_for_a_reachable_one():
    closed = f"ws://127.0.0.1:{free_port()}/ws/mcp"
    with live_handler(token="t") as handler:
        pool = HandlerPool([closed, handler.url], "t", backoff_s=0.01)
        try:
            backend, output = await run_on(pool, "echo here")
        finally:
            await pool.close()
    assert backend == handler.url and output == "here\n"


async def test_the_least_loaded_handler_gets_new_connections():
    with live_handler("--max-sessions", "4", token="t") as busy, live_handler("--max-sessions", "4", token="t") as idle:
        hogs = [await HandlerClient.connect(busy.url, "t") for _ in range(3)]
        pool = HandlerPool([busy.url, idle.url], "t")
        try:
            chosen = [(await run_on(pool, "true"))[0] for _ in range(2)]
        finally:
            await pool.close()
            for hog in hogs:
                await hog.close()
    assert chosen == [idle.url, idle.url]


async def test_connecting_is_retried_with_backoff_until_the_handler_is_up(tmp_path):
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/mcp"
    started = threading.Event()
    stop = threading.Event()

    def late_handler() -> None:
        time.sleep(0.8)
        with live_handler(token="t", port=port):
            started.set()
            stop.wait(30)

    thread = threading.Thread(target=late_handler, daemon=True)
    thread.start()
    pool = HandlerPool([url], "t", connect_attempts=8, backoff_s=0.1)
    try:
        began = time.monotonic()
        backend, output = await run_on(pool, "echo late")
        assert backend == url and output == "late\n" and time.monotonic() - began >= 0.8
    finally:
        await pool.close()
        stop.set()
        await asyncio.to_thread(thread.join, 30)


async def test_a_refused_token_is_not_retried():
    with live_handler(token="right") as handler:
        pool = HandlerPool([handler.url], "wrong", connect_attempts=5, backoff_s=1.0)
        began = time.monotonic()
        with pytest.raises(HandlerUnavailable, match="HTTP 401"):
            await pool.start("true", cwd=None, timeout_s=5, sink=None)
        assert time.monotonic() - began < 1.0, "a credentials problem is reported at once"
        await pool.close()


async def test_a_stale_health_answer_is_refreshed_beside_the_task_not_before_it(monkeypatch):
    """The first placement asks /health (nothing known yet); later ones go by the last answer and the bridge's own
    starts and ends, and fetch a fresh one beside the task: a slow /health holds no task up."""
    import cc_executor.bridge.handler_pool as handler_pool

    fetched: list[float] = []
    slow = asyncio.Event()
    real_fetch = handler_pool.fetch_health

    async def fetch(url: str, **options: object) -> object:
        fetched.append(time.monotonic())
        if slow.is_set():
            await asyncio.sleep(3)
        return await real_fetch(url, **options)

    monkeypatch.setattr(handler_pool, "fetch_health", fetch)
    monkeypatch.setattr(handler_pool, "HEALTH_FRESH_S", 0.0)  # every answer is stale at once
    with live_handler(token="t") as handler:
        pool = HandlerPool([handler.url], "t")
        try:
            await run_on(pool, "true")
            assert len(fetched) == 1
            slow.set()
            began = time.monotonic()
            backend, output = await run_on(pool, "echo not held up")
            took = time.monotonic() - began
            assert len(fetched) == 2, "a fresh answer was asked for"
        finally:
            await pool.close()
    assert backend == handler.url and output == "not held up\n"
    assert took < 2.5, f"the task waited for the slow /health ({took:.2f} s)"
