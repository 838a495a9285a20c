"""Hostile input at the handler's door, sent the way an attacker would: raw sockets, odd headers, floods.

Every refusal is one clear HTTP answer (never a 500 with a traceback in the log), a frame
the handler cannot echo is answered anyway, a DNS-rebinding page is refused on every
route, failed logins are logged without flooding the log and slowed down per address
(the right token still gets in at once), connections that never finish their handshake
cannot use up the handler's descriptors, and the descriptor limit is as high as allowed.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from cc_executor.client import HandlerClient, HandlerUnavailable
from cc_executor.contract_tests.live_handler import LiveHandler, free_port, live_handler, stop, wait_healthy
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

pytestmark = pytest.mark.timeout(120)


def exchange(port: int, request: str, timeout_s: float = 10) -> tuple[int, str]:
    """Send a raw HTTP request; (status, the whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as raw:
        raw.sendall(request.replace("\n", "\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
        raw.settimeout(0.5)
        try:
            while chunk := raw.recv(65536):
                answer += chunk
        except OSError:
            pass
    text = answer.decode(errors="replace")
    return int(text.split(" ", 2)[1]), text


def upgrade(port: int, *headers: str, path: str = "/ws/mcp") -> str:
    lines = [
        f"GET {path} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *headers,
    ]
    return "\n".join(lines) + "\n\n"


def no_traceback(handler: LiveHandler) -> None:
    log = handler.log_path.read_text()
    assert "Traceback" not in log and "process_request failed" not in log, log[-3000:]


def test_repeated_authorization_origin_or_host_headers_are_400_without_a_traceback():
    with live_handler() as handler:
        port, auth = handler.port, f"Authorization: Bearer {handler.token}"
        host = f"Host: 127.0.0.1:{port}"
        for headers in (
            (host, auth, auth),
            (host, auth, "Authorization: Bearer wrong"),
            (host, auth, "Origin: http://127.0.0.1", "Origin: http://evil.example"),
            (host, host, auth),
        ):
            status, answer = exchange(port, upgrade(port, *headers))
            assert status == 400, answer
            assert "More than one" in answer
        status, answer = exchange(port, f"GET /health HTTP/1.1\n{host}\nHost: evil.example\n\n")
        assert status == 400, answer
        status, _ = exchange(port, upgrade(port, host, auth))
        assert status == 101, "a well-formed handshake still gets in"
        no_traceback(handler)


async def test_an_id_that_cannot_be_encoded_is_answered_and_the_session_lives():
    with live_handler() as handler:
        for offered in (None, [Subprotocol(V2_SUBPROTOCOL)]):
            async with connect(handler.url, additional_headers=handler.headers, subprotocols=offered) as websocket:
                await websocket.recv()  # connected
                await websocket.send('{"jsonrpc": "2.0", "id": "\\ud800", "method": "status"}')
                reply = json.loads(await websocket.recv())
                assert reply["id"] == "\ud800" and reply["result"]["execution"] is None  # the very id it sent
                await websocket.send('{"jsonrpc": "2.0", "id": "\\udfff", "method": "\\udfff"}')
                reply = json.loads(await websocket.recv())
                assert reply["id"] == "\udfff" and reply["error"]["code"] in (-32600, -32601)
                await websocket.send('{"jsonrpc": "2.0", "id": 3, "method": "status"}')
                assert json.loads(await websocket.recv())["id"] == 3, "the session lives on"
        no_traceback(handler)


@pytest.mark.parametrize("route", ["/health", "/healthz", "/metrics"])
def test_the_host_is_checked_on_every_http_route(route):
    with live_handler("--allow-host", "handler.internal") as handler:
        port = handler.port
        for host, expected in (
            ("evil.example", 421),
            (f"evil.example:{port}", 421),
            ("127.0.0.1.evil.example", 421),
            (f"localhost:{port}", 200),
            (f"127.0.0.1:{port}", 200),
            (f"[::1]:{port}", 200),
            ("192.168.1.20:8003", 200),  # an IP address cannot be rebound to another site
            (f"handler.internal:{port}", 200),  # --allow-host
        ):
            status, answer = exchange(port, f"GET {route} HTTP/1.1\nHost: {host}\n\n")
            assert status == expected, (host, answer)
        no_traceback(handler)


def test_the_host_is_checked_on_the_upgrade():
    with live_handler() as handler:
        auth = f"Authorization: Bearer {handler.token}"
        status, answer = exchange(handler.port, upgrade(handler.port, "Host: evil.example", auth))
        assert status == 421 and "--allow-host" in answer
        status, _ = exchange(handler.port, upgrade(handler.port, f"Host: localhost:{handler.port}", auth))
        assert status == 101


async def test_failed_logins_are_logged_rate_limited_and_slowed_down_but_the_right_token_gets_in():
    with live_handler("--handshake-timeout", "60") as handler:  # every queued guess gets its answer

        async def attempt(token: str | None) -> int:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                async with connect(handler.url, additional_headers=headers, open_timeout=60):
                    return 101
            except InvalidStatus as refused:
                return refused.response.status_code

        began = time.monotonic()
        assert await attempt(None) == 401
        assert time.monotonic() - began < 1, "no token guesses nothing: answered at once"
        guesses = [asyncio.ensure_future(attempt(f"guess-{n}")) for n in range(12)]
        await asyncio.sleep(1.0)
        began = time.monotonic()
        async with await HandlerClient.connect(handler.url, handler.token):
            pass
        assert time.monotonic() - began < 1.5, "the right token is never held up by someone else's guesses"
        answers = await asyncio.gather(*guesses)
        assert answers.count(401) == 9 and answers.count(429) == 3, answers  # the 10th failure and on: throttled
        assert time.monotonic() - began > 2 * 2, "once throttled, each guess waits its turn"
        log = handler.log_path.read_text()
    failures = [line for line in log.splitlines() if "failed login" in line]
    assert 1 <= len(failures) <= 3, failures
    assert "127.0.0.1" in failures[0]


def handler_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_connections_without_a_session_are_capped_and_their_handshake_is_short():
    with live_handler("--max-pending-connections", "8", "--handshake-timeout", "1") as handler:
        pid = handler.process.pid
        before = handler_fds(pid)
        flood = [socket.create_connection(("127.0.0.1", handler.port)) for _ in range(40)]
        try:
            await asyncio.sleep(0.5)
            assert handler_fds(pid) <= before + 8 + 2, "the connections beyond the cap were dropped at once"
            # the local user still gets in through the socket while the TCP port is flooded
            socket_url = f"ws+unix://{handler.data_dir / 'handler.sock'}"
            async with await HandlerClient.connect(socket_url, handler.token) as client:
                assert (await client.status()).execution is None
            await asyncio.sleep(1.5)
            for raw in flood:  # every one of them is closed by now: cut at once, or timed out in its handshake
                raw.settimeout(1)
                assert raw.recv(1) == b""
        finally:
            for raw in flood:
                raw.close()
        async with await HandlerClient.connect(handler.url, handler.token) as client:  # and TCP works again
            assert client.protocol_version == "2.0"
        log = handler.log_path.read_text()
    assert "too many connections without a session" in log


def limits_of(pid: int) -> tuple[int, int]:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if "open files" in line)
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one(tmp_path):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = 256 if hard == resource.RLIM_INFINITY or hard > 256 else hard

    def lower_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))

    port = free_port()
    env = {**os.environ, "CC_EXECUTOR_DATA_DIR": str(tmp_path), "CC_EXECUTOR_TOKEN": "t" * 32}
    log_path = tmp_path / "handler.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cc_executor", "handler", "--port", str(port)],
            env=env,
            stderr=log,
            preexec_fn=lower_soft_limit,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, 15, log_path)
        soft, raised_hard = limits_of(process.pid)
    finally:
        stop(process)
    assert soft > low and soft == raised_hard, (soft, raised_hard)


async def test_a_wrong_token_from_the_local_user_is_refused_too():
    """The socket admits only this user, and still asks for the token (as over TCP)."""
    with live_handler() as handler:
        socket_url = f"ws+unix://{handler.data_dir / 'handler.sock'}"
        with pytest.raises(HandlerUnavailable, match="HTTP 401"):
            await HandlerClient.connect(socket_url, "wrong")
