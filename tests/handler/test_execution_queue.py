"""Execution slots apart from connections: --max-running, the FIFO queue, cancel while queued, drain on SIGTERM.

Real handler processes on loopback; clients as the typed client (protocol 2.0) and as an old client
(no subprotocol) would connect.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fixtures.commands import cc_executor
from websockets.asyncio.client import ClientConnection, connect

from cc_executor.client import HandlerClient, HandlerError, HandlerUnavailable
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.generated.ws.notifications.process_queued import QueuedParams

pytestmark = pytest.mark.timeout(90)


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def metric(handler: LiveHandler, name: str) -> float:
    with urllib.request.urlopen(f"{handler.http_url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


async def next_event(client: HandlerClient, kind: type) -> object:
    async for event in client.events():
        if isinstance(event, kind):
            return event
    raise AssertionError(f"the connection ended before a {kind.__name__}")


async def until_health(handler: LiveHandler, **expected: object) -> dict:
    """/health once it shows the expected values (within 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        body = get(f"{handler.http_url}/health")[1]
        if all(body.get(key) == value for key, value in expected.items()):
            return body
        assert time.monotonic() < deadline, f"/health never showed {expected}: {body}"
        await asyncio.sleep(0.05)


async def test_executions_beyond_the_slots_wait_in_order_and_v2_clients_are_told(tmp_path: Path):
    order = tmp_path / "order"
    with live_handler("--max-running", "1") as handler:
        clients = [await HandlerClient.connect(handler.url, handler.token) for _ in range(3)]
        try:
            assert all("queue" in client.greeting.capabilities for client in clients)
            first = await clients[0].execute(f"echo first >> {order}; sleep 1")
            waiting = []
            for name, client in zip(("second", "third"), clients[1:], strict=True):
                waiting.append(asyncio.ensure_future(client.execute(f"echo {name} >> {order}", execution_id=name)))
                queued = await next_event(client, QueuedParams)
                assert isinstance(queued, QueuedParams) and queued.execution_id == name
            assert [queued.position, queued.running, queued.max_running] == [2, 1, 1]
            body = await until_health(handler, running_executions=1, queued_executions=2)
            assert body["max_running"] == 1 and body["active_sessions"] == 3 and body["draining"] is False
            assert metric(handler, "cc_executor_queued_executions") == 2
            assert not any(task.done() for task in waiting), "the execute reply comes once it has started"
            results = await asyncio.gather(*waiting)
            assert [result.execution_id for result in results] == ["second", "third"]
            for client in clients:
                assert (await next_event(client, ProcessCompletedParams)).status == "completed"
            assert first.status == "started"
        finally:
            for client in clients:
                await client.close()
        assert order.read_text().split() == ["first", "second", "third"]
        assert metric(handler, "cc_executor_queue_wait_seconds_count") == 2


async def test_a_queued_execution_can_be_canceled_and_never_runs(tmp_path: Path):
    marker = tmp_path / "ran"
    with live_handler("--max-running", "1") as handler:
        async with (
            await HandlerClient.connect(handler.url, handler.token) as busy,
            await HandlerClient.connect(handler.url, handler.token) as queued,
        ):
            await busy.execute("sleep 3")
            start = asyncio.ensure_future(queued.execute(f"touch {marker}", execution_id="later"))
            await next_event(queued, QueuedParams)
            with pytest.raises(HandlerError, match="PAUSE|only CANCEL"):
                await queued.control("PAUSE")
            canceled = await queued.control("CANCEL")
            assert canceled.status == "canceled" and canceled.execution_id == "later"
            with pytest.raises(HandlerError) as refused:
                await start
            assert refused.value.code == -32004 and refused.value.reason == "canceled"
            assert "nothing ran" in refused.value.message
            await until_health(handler, running_executions=1, queued_executions=0)
            # the connection is free for another execution
            await busy.control("CANCEL")
            assert (await next_event(busy, ProcessCompletedParams)).status == "canceled"
            again = await queued.execute("echo again")
            assert again.status == "started"
        assert metric(handler, 'cc_executor_executions_not_run_total{reason="canceled"}') == 1
    assert not marker.exists()


async def test_a_full_queue_and_queue_false_are_answered_at_once_and_nothing_runs(tmp_path: Path):
    marker = tmp_path / "ran"
    with live_handler("--max-running", "1", "--max-queued-executions", "1") as handler:
        clients = [await HandlerClient.connect(handler.url, handler.token) for _ in range(4)]
        try:
            await clients[0].execute("sleep 3")
            no_wait_began = time.monotonic()
            with pytest.raises(HandlerError) as no_wait:
                await clients[1].execute(f"touch {marker}", queue=False)
            assert time.monotonic() - no_wait_began < 2
            assert no_wait.value.code == -32004 and no_wait.value.reason == "handler_full"
            waiting = asyncio.ensure_future(clients[2].execute("true"))
            await next_event(clients[2], QueuedParams)
            with pytest.raises(HandlerError) as full:
                await clients[3].execute(f"touch {marker}")
            assert full.value.reason == "handler_full" and "1 executions wait already" in full.value.message
            await clients[2].control("CANCEL")
            with pytest.raises(HandlerError):
                await waiting
        finally:
            for client in clients:
                await client.close()
    assert not marker.exists()


async def test_a_client_that_leaves_while_queued_gives_its_place_up():
    with live_handler("--max-running", "1") as handler:
        async with await HandlerClient.connect(handler.url, handler.token) as busy:
            await busy.execute("sleep 1")
            leaver = await HandlerClient.connect(handler.url, handler.token)
            asyncio.ensure_future(leaver.execute("sleep 30")).add_done_callback(lambda task: task.exception())
            await next_event(leaver, QueuedParams)
            await leaver.close()
            await until_health(handler, queued_executions=0, active_sessions=1)
            assert (await next_event(busy, ProcessCompletedParams)).status == "completed"
        await until_health(handler, running_executions=0)


async def test_old_clients_are_queued_silently_and_get_their_reply_when_it_starts():
    with live_handler("--max-running", "1", token=None) as handler:
        async with await HandlerClient.connect(handler.url) as busy:
            await busy.execute("sleep 1")
            async with connect(handler.url) as old:  # no subprotocol: protocol 1.0
                greeting = json.loads(await old.recv())
                assert "queue" not in greeting["params"]["capabilities"]
                await old.send(
                    json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "echo hi"}})
                )
                began = time.monotonic()
                frames = []
                while not frames or frames[-1].get("method") != "process.completed":
                    frames.append(json.loads(await asyncio.wait_for(old.recv(), 20)))
                waited = time.monotonic() - began
        methods = [frame.get("method", "reply") for frame in frames if frame.get("method") != "ping"]
        assert methods == ["reply", "process.started", "process.output", "process.completed"]
        assert frames[0]["result"]["status"] == "started" and waited > 0.5, "it waited for the running one"


async def test_sigterm_drains_running_executions_finish_queued_ones_are_handed_back(tmp_path: Path):
    marker = tmp_path / "ran"
    with live_handler("--max-running", "1", "--drain-grace", "20") as handler:
        running = await HandlerClient.connect(handler.url, handler.token)
        queued = await HandlerClient.connect(handler.url, handler.token)
        try:
            await running.execute("sleep 1.5; echo finished")
            waiting = asyncio.ensure_future(queued.execute(f"touch {marker}"))
            await next_event(queued, QueuedParams)
            assert get(f"{handler.http_url}/ready")[0] == 200
            handler.process.send_signal(signal.SIGTERM)
            with pytest.raises(HandlerError) as handed_back:
                await waiting
            assert handed_back.value.code == -32004 and handed_back.value.reason == "draining"
            status, body = get(f"{handler.http_url}/ready")
            assert status == 503 and body["draining"] is True and body["running_executions"] == 1
            assert get(f"{handler.http_url}/healthz")[0] == 200, "liveness holds while draining"
            with pytest.raises(HandlerUnavailable, match="HTTP 503.*draining") as refused:
                await HandlerClient.connect(handler.url, handler.token)
            assert refused.value.status == 503
            with pytest.raises(HandlerError) as no_more:
                await queued.execute("true")
            assert no_more.value.reason == "draining"
            output = []
            async for event in running.events():
                if isinstance(event, ProcessCompletedParams):
                    assert event.status == "completed"
                    break
                output.append(getattr(event, "data", ""))
            assert "finished\n" in output
            assert await asyncio.to_thread(handler.process.wait, 10) == 0
        finally:
            await running.close()
            await queued.close()
    assert not marker.exists()


async def test_the_drain_grace_period_ends_what_still_runs():
    with live_handler("--drain-grace", "1") as handler:
        async with await HandlerClient.connect(handler.url, handler.token) as client:
            started = await client.execute("sleep 60")
            began = time.monotonic()
            handler.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(handler.process.wait, 15) == 0
            took = time.monotonic() - began
            ends = [event.status async for event in client.events() if isinstance(event, ProcessCompletedParams)]
    assert ends in ([], ["canceled"]), "ended as a stopping handler ends it (the connection may close first)"
    assert 1 <= took < 10
    with pytest.raises(ProcessLookupError):
        os.killpg(started.pgid, 0)


async def old_reply(old: ClientConnection, request_id: int) -> dict:
    """The reply to an old client's request, past any notification."""
    while True:
        frame = json.loads(await asyncio.wait_for(old.recv(), 20))
        if frame.get("id") == request_id:
            return frame


async def test_the_running_and_the_queued_executions_show_in_status_sessions_and_the_status_command(tmp_path: Path):
    """One slot: one running, two waiting (a 2.0 client's, then an old client's); each is where it is, by its id."""
    old_fields = {"session_id", "version", "active_sessions", "max_sessions", "execution"}
    with live_handler("--max-running", "1", token=None) as handler:
        async with (
            await HandlerClient.connect(handler.url) as busy,
            await HandlerClient.connect(handler.url) as waiting,
            await HandlerClient.connect(handler.url) as viewer,
            connect(handler.url) as old,  # no subprotocol: protocol 1.0
        ):
            await busy.execute("sleep 30", execution_id="running-1")
            start = asyncio.ensure_future(waiting.execute("sleep 29", execution_id="queued-1"))
            await next_event(waiting, QueuedParams)
            old_session = json.loads(await old.recv())["params"]["session_id"]
            await old.send(
                json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "sleep 28"}})
            )
            await until_health(handler, running_executions=1, queued_executions=2)

            own = await waiting.status()
            assert own.execution is None and own.queued_execution is not None
            assert (own.queued_execution.execution_id, own.queued_execution.state) == ("queued-1", "queued")
            assert own.queued_execution.position == 1 and own.queued_execution.command == "sleep 29"
            running = await busy.status()
            assert running.queued_execution is None and running.execution is not None
            assert (running.execution.execution_id, running.execution.state) == ("running-1", "running")
            await old.send(json.dumps({"jsonrpc": "2.0", "method": "status", "id": 2}))
            assert set((await old_reply(old, 2))["result"]) == old_fields, "protocol 1.0 keeps its shape"

            listed = {session.session_id: session for session in (await viewer.sessions()).sessions}
            shown = {
                session_id: (session.execution or session.queued_execution)
                for session_id, session in listed.items()
                if session.execution or session.queued_execution
            }
            assert {session_id: (e.execution_id, e.state) for session_id, e in shown.items()} == {
                busy.greeting.session_id: ("running-1", "running"),
                waiting.greeting.session_id: ("queued-1", "queued"),
                old_session: (shown[old_session].execution_id, "queued"),
            }
            assert [listed[s].queued_execution.position for s in (waiting.greeting.session_id, old_session)] == [1, 2]

            table = await asyncio.to_thread(
                cc_executor, tmp_path, "status", handler.url, "--once", env={"COLUMNS": "200"}, timeout=30
            )
            assert table.returncode == 0, table.stderr
            rows = {line.split("│")[3].strip(): line for line in table.stdout.splitlines() if line.count("│") > 8}
            assert "running" in rows["running-1"] and "sleep 30" in rows["running-1"]
            assert "queued #1" in rows["queued-1"] and "sleep 29" in rows["queued-1"]
            old_id = shown[old_session].execution_id[:12]
            assert "queued #2" in rows[old_id] and "sleep 28" in rows[old_id]
            assert "running 1  starting 0  queued 2" in table.stdout

            await waiting.control("CANCEL")
            with pytest.raises(HandlerError):
                await start
            await busy.control("CANCEL")
