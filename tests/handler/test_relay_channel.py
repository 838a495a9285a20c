"""The handler's permission relay channel, with a real handler process: an execution started with
`permission_relay` (protocol 2.0) gets a key of its own; its relay's questions reach the client that runs it
(permission.requested) and that client's answer_permission goes back. The key opens the relay channel of its
execution only, and only while it runs; protocol 1.0 clients never see any of it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from cc_executor.client import HandlerClient, HandlerError
from cc_executor.contract_tests.live_handler import LiveHandler
from cc_executor.endpoints import WS_PATH, local_handler_url, open_websocket
from cc_executor.generated.common.permissions import PermissionRelayOptions
from cc_executor.generated.ws.notifications.permission_requested import PermissionRequestedParams
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.generated.ws.notifications.process_output import ProcessOutputParams
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL
from cc_executor.handler.relay_channel import RELAY_KEY_ENV, RELAY_PATH, RELAY_PYTHON_ENV, RELAY_URL_ENV

pytestmark = pytest.mark.timeout(60)

ASKER = Path(__file__).resolve().parents[1] / "fixtures" / "relay_asker.py"
V2 = Subprotocol(V2_SUBPROTOCOL)


def asker(*tools: str) -> str:
    return f"{sys.executable} {ASKER} {' '.join(tools)}"


def relay_url(handler: LiveHandler) -> str:
    """Where a handler's executions ask: its Unix socket in the user-only data dir."""
    return local_handler_url(handler.data_dir)


def environment_of(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().partition("=")[::2] for entry in entries if b"=" in entry)


async def stdout_lines(client: HandlerClient, answer: dict[str, dict[str, Any]]) -> AsyncIterator[Any]:
    """The execution's events: its stdout lines as JSON, each permission.requested (answered as `answer` says for
    its tool), and at the end its completion."""
    async for event in client.events():
        if isinstance(event, PermissionRequestedParams):
            yield event
            await client.answer_permission(event.request_id, **answer[event.tool_name])
        elif isinstance(event, ProcessOutputParams) and event.type == "stdout":
            for line in event.data.splitlines():
                yield json.loads(line)
        elif isinstance(event, ProcessCompletedParams):
            yield event
            return


async def test_questions_reach_the_client_that_runs_the_execution(handler: LiveHandler) -> None:
    client = await HandlerClient.connect(handler.url, handler.token)
    try:
        assert "permission_relay" in client.greeting.capabilities
        started = await client.execute(asker("Write", "Bash"), permission_relay=PermissionRelayOptions())
        answers = {"Write": {"behavior": "allow"}, "Bash": {"behavior": "deny", "message": "Not that command."}}
        seen = [event async for event in stdout_lines(client, answers)]
    finally:
        await client.close()
    requests = [event for event in seen if isinstance(event, PermissionRequestedParams)]
    given, *decisions, completed = [event for event in seen if not isinstance(event, PermissionRequestedParams)]
    assert {RELAY_KEY_ENV, RELAY_PYTHON_ENV, RELAY_URL_ENV} <= set(given), "the relay's key, URL and interpreter"
    write, bash = requests
    assert write.execution_id == bash.execution_id == started.execution_id
    assert (write.tool_name, write.input.model_dump(), write.tool_use_id) == (
        "Write",
        {"command": "Write it"},
        "toolu_Write",
    )
    assert bash.tool_name == "Bash" and write.request_id != bash.request_id
    assert decisions == [{"behavior": "allow"}, {"behavior": "deny", "message": "Not that command."}]
    assert isinstance(completed, ProcessCompletedParams) and completed.exit_code == 0


async def test_the_key_opens_its_relay_channel_only_and_only_while_its_execution_runs(handler: LiveHandler) -> None:
    client = await HandlerClient.connect(handler.url, handler.token)
    try:
        started = await client.execute(asker("Write"), permission_relay=PermissionRelayOptions())
        events = client.events()
        request = await anext(event async for event in events if isinstance(event, PermissionRequestedParams))
        key = environment_of(started.pid)[RELAY_KEY_ENV]
        assert environment_of(started.pid)[RELAY_URL_ENV] == relay_url(handler)

        async with open_websocket(
            relay_url(handler), unix_path=RELAY_PATH, additional_headers=bearer(key), subprotocols=[V2]
        ) as relay:
            greeting = json.loads(await relay.recv())
            assert greeting["method"] == "connected" and greeting["params"]["capabilities"] == ["ask_permission"]
            await relay.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "execute", "params": {"command": "id"}}))
            refused = json.loads(await relay.recv())
            assert refused["error"]["code"] == -32601, "the relay channel runs nothing"

        assert await refusal(relay_url(handler), bearer(handler.token)) == 401, "the handler's token is no relay key"
        assert await refusal(relay_url(handler), {}) == 401
        assert await refusal(relay_url(handler), bearer(key), origin="http://evil.example") == 403
        assert await refusal(relay_url(handler), bearer(key), subprotocols=[]) == 400
        assert await refusal(handler.url, bearer(key)) == 401, "a relay key opens no handler session"
        assert await refusal(relay_url(handler), bearer(key), path=WS_PATH) == 401
        tcp_relay = f"ws://127.0.0.1:{handler.port}{RELAY_PATH}"
        assert await refusal(tcp_relay, bearer(handler.token)) == 401, "on TCP too, where the key would work"

        await client.answer_permission(request.request_id, "allow")
        async for event in events:
            if isinstance(event, ProcessCompletedParams):
                break
        assert await refusal(relay_url(handler), bearer(key)) == 401, "revoked once its execution ended"
        with pytest.raises(HandlerError) as late:
            await client.answer_permission(request.request_id, "deny")
        assert late.value.code == -32602 and late.value.reason == "no_request"
    finally:
        await client.close()


async def test_protocol_1_clients_never_see_permission_prompts(handler: LiveHandler) -> None:
    """An old client's execute with permission_relay runs without a relay (the field is ignored, as 1.0 ignores
    unknown fields): its relay is denied at once, and answer_permission is an unknown method."""
    async with connect(handler.url, additional_headers=bearer(handler.token)) as old:
        greeting = json.loads(await old.recv())
        assert "permission_relay" not in greeting["params"]["capabilities"]
        params = {"command": asker("Write"), "permission_relay": {}}
        await old.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "execute", "params": params}))
        frames = []
        while not frames or frames[-1].get("method") != "process.completed":
            frames.append(json.loads(await asyncio.wait_for(old.recv(), 30)))
        await old.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "answer_permission", "params": {}}))
        unknown = json.loads(await old.recv())
    assert not [f for f in frames if f.get("method") == "permission.requested"]
    said = [json.loads(f["params"]["data"]) for f in frames if f.get("method") == "process.output"]
    assert not {RELAY_KEY_ENV, RELAY_URL_ENV} & set(said[0]), "no relay key for an old client's execution"
    assert said[1]["behavior"] == "deny" and "no relay channel" in said[1]["message"]
    assert unknown["error"]["code"] == -32601


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def refusal(
    url: str, headers: dict[str, str], origin: str | None = None, subprotocols: Any = (V2,), path: str = RELAY_PATH
) -> int:
    """The HTTP status a handshake (at `path` behind a ws+unix:// URL) is refused with (fails when it is let in)."""
    offered = list(subprotocols) or None
    with pytest.raises(InvalidStatus) as refused:
        async with open_websocket(url, unix_path=path, additional_headers=headers, origin=origin, subprotocols=offered):
            pass
    return refused.value.response.status_code
