"""The handler as a real process on loopback: HTTP endpoints, who may connect, limits, cleanup."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from cc_executor.client import HandlerClient, HandlerError, HandlerUnavailable
from cc_executor.contract_tests.live_handler import live_handler
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

V2 = Subprotocol(V2_SUBPROTOCOL)


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


async def until_completed(client: HandlerClient) -> ProcessCompletedParams:
    async for event in client.events():
        if isinstance(event, ProcessCompletedParams):
            return event
    raise AssertionError("connection ended before process.completed")


def test_health_reports_the_documented_fields(handler):
    status, body = get(f"{handler.http_url}/health")
    assert status == 200
    assert {"status", "service", "version", "active_sessions", "max_sessions", "uptime_seconds"} <= set(body)
    assert body["status"] == "healthy" and body["auth_required"] is True


def test_unknown_paths_are_404_with_a_hint(handler):
    status, body = get(f"{handler.http_url}/nope")
    assert status == 404 and "/ws/mcp" in body["message"]


async def test_a_client_without_the_token_is_refused(handler):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic test-token"}):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(handler.url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
        assert b"bearer token" in refused.value.response.body


async def test_a_browser_origin_is_refused(handler):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(handler.url, additional_headers=handler.headers, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_the_client_reports_refusals_clearly(handler):
    with pytest.raises(HandlerUnavailable, match="HTTP 401"):
        await HandlerClient.connect(handler.url, "wrong")
    with pytest.raises(HandlerUnavailable, match="cannot reach"):
        await HandlerClient.connect("ws://127.0.0.1:9/ws/mcp", "x", open_timeout=2)


async def test_execute_status_and_errors_through_the_typed_client(handler):
    async with await HandlerClient.connect(handler.url, handler.token) as client:
        assert client.greeting.version
        started = await client.execute("echo hello; echo oops >&2; exit 4", execution_id="t-1")
        assert started.execution_id == "t-1" and started.pgid == started.pid
        completed = await until_completed(client)
        assert (completed.status, completed.exit_code, completed.stdout_bytes) == ("failed", 4, 6)
        assert (await client.status()).execution is None
        assert (await client.hook_status()).enabled is False
        with pytest.raises(HandlerError) as error:
            await client.control("PAUSE")
        assert error.value.code == -32602 and error.value.reason == "no_execution"


async def test_an_oversized_frame_is_answered_and_the_connection_survives():
    with live_handler("--max-frame-bytes", "1000") as small:  # protocol 2.0's limit
        async with connect(small.url, additional_headers=small.headers, subprotocols=[V2]) as ws:
            await ws.recv()
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "x" * 5000}})
            )
            reply = json.loads(await ws.recv())
            assert reply["error"]["code"] == -32600 and reply["error"]["data"]["reason"] == "frame_too_large"
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "status", "id": 2}))
            assert json.loads(await ws.recv())["id"] == 2


async def test_sessions_beyond_the_limit_are_refused_clearly():
    with live_handler("--max-sessions", "2") as limited:
        clients = [await HandlerClient.connect(limited.url, limited.token) for _ in range(2)]
        try:
            with pytest.raises(HandlerUnavailable, match="HTTP 503.*Too many sessions: 2 of 2"):
                await HandlerClient.connect(limited.url, limited.token)
        finally:
            for client in clients:
                await client.close()
        await asyncio.sleep(0.2)
        async with await HandlerClient.connect(limited.url, limited.token) as again:
            assert (await again.status()).active_sessions == 1


async def test_a_disconnecting_client_takes_its_process_group_down(handler):
    client = await HandlerClient.connect(handler.url, handler.token)
    started = await client.execute("sleep 60 & sleep 60; wait")
    await client.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(started.pgid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.killpg(started.pgid, 0)
    assert get(f"{handler.http_url}/health")[1]["running_executions"] == 0


async def test_stopping_the_handler_ends_running_executions():
    with live_handler() as doomed:
        client = await HandlerClient.connect(doomed.url, doomed.token)
        started = await client.execute("sleep 60")
        doomed.process.terminate()
        await asyncio.to_thread(doomed.process.wait, 10)
        assert not pid_alive(started.pid)
        await client.close()


def test_no_auth_is_refused_on_a_public_address(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cc_executor", "handler", "--host", "0.0.0.0", "--no-auth", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CC_EXECUTOR_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "--no-auth is refused on 0.0.0.0" in result.stderr and "Traceback" not in result.stderr


def test_the_token_file_is_made_user_only_and_reused(tmp_path):
    from cc_executor.token import TokenFileError, load_or_create_token, read_token_file

    path = tmp_path / "handler.token"
    token = load_or_create_token(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and load_or_create_token(path) == token
    path.chmod(0o644)
    with pytest.raises(TokenFileError, match="chmod 600"):
        read_token_file(path)


async def test_metrics_count_executions_by_status(handler):
    async with await HandlerClient.connect(handler.url, handler.token) as client:
        for command in ("true", "exit 2"):
            await client.execute(command)
            await until_completed(client)
    with urllib.request.urlopen(f"{handler.http_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert float(samples['cc_executor_executions_total{status="completed"}']) >= 1
    assert float(samples['cc_executor_executions_total{status="failed"}']) >= 1
    assert float(samples["cc_executor_execution_duration_seconds_count"]) >= 2
    assert float(samples["cc_executor_running_executions"]) == 0


async def test_an_execution_id_of_any_allowed_length_reaches_the_metrics_as_an_exemplar(handler):
    """OpenMetrics bounds an exemplar's labels to 128 characters: a 128-character id (the most execute allows) is
    cut to fit, and the execution is counted and reported all the same."""
    longest = "x" * 127 + "y"
    async with await HandlerClient.connect(handler.url, handler.token) as client:
        await client.execute("exit 3", execution_id=longest)
        completed = await asyncio.wait_for(until_completed(client), 10)
    assert completed.execution_id == longest and completed.status == "failed"
    request = urllib.request.Request(f"{handler.http_url}/metrics", headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    [counted] = [line for line in text.splitlines() if line.startswith('cc_executor_executions_total{status="failed"}')]
    assert counted.split(" # ", 1)[1].startswith('{execution_id="' + "x" * 116 + '"}')


async def test_sessions_lists_every_session_and_the_status_command_shows_them(handler):
    async with (
        await HandlerClient.connect(handler.url, handler.token) as busy,
        await HandlerClient.connect(handler.url, handler.token) as viewer,
    ):
        await busy.execute("sleep 30", execution_id="busy-1")
        listing = await viewer.sessions()
        by_id = {s.session_id: s for s in listing.sessions}
        assert by_id[busy.greeting.session_id].execution.execution_id == "busy-1"
        assert by_id[viewer.greeting.session_id].execution is None
        shown = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cc_executor", "status", handler.url, "--token", handler.token, "--once"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert shown.returncode == 0, shown.stderr
        assert "busy-1" in shown.stdout and "sleep 30" in shown.stdout and "running 1" in shown.stdout
        await busy.control("CANCEL")


def test_status_command_reports_a_wrong_token_without_a_traceback(handler):
    shown = subprocess.run(
        [sys.executable, "-m", "cc_executor", "status", handler.url, "--token", "wrong", "--once"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shown.returncode == 2 and "HTTP 401" in shown.stderr and "Traceback" not in shown.stderr


async def test_executions_never_see_the_token_or_configured_secrets():
    secrets_env = {
        "CC_EXECUTOR_TOKEN": "env-token",
        "CLAUDECODE": "1",
        "CLAUDE_CODE_ENTRYPOINT": "cli",
        "MY_SECRET": "s3",
    }
    with live_handler("--scrub-env", "MY_SECRET", env={**secrets_env, "VISIBLE": "yes"}) as scrubbed:
        async with await HandlerClient.connect(scrubbed.url, scrubbed.token) as client:
            await client.execute("env")
            seen = ""
            async for event in client.events():
                if isinstance(event, ProcessCompletedParams):
                    break
                seen += event.data if hasattr(event, "data") else ""
        log = scrubbed.log_path.read_text()
    variables = dict(line.split("=", 1) for line in seen.splitlines() if "=" in line)
    assert variables.get("VISIBLE") == "yes"
    for name in secrets_env:
        assert name not in variables, f"{name} reached the process"
    assert scrubbed.token not in log and "env-token" not in log, "a token was logged"


async def test_json_logs_have_one_line_per_connection_event_and_execution():
    with live_handler("--log-format", "json") as logged:
        async with await HandlerClient.connect(logged.url, logged.token) as client:
            await client.execute("printf abc", execution_id="logged-1")
            await until_completed(client)
        await asyncio.sleep(0.2)
        records = [json.loads(line) for line in logged.log_path.read_text().splitlines() if line.startswith("{")]
    by_message = {}
    for record in records:
        by_message.setdefault(record["msg"], []).append(record)
    started, ended = by_message["execution started"][0], by_message["execution ended"][0]
    assert started["execution_id"] == "logged-1" and len(started["command_sha256"]) == 12
    assert ended["status"] == "completed" and ended["stdout_bytes"] == 3 and ended["duration_s"] >= 0
    assert by_message["session opened"] and by_message["session closed"]
    assert all({"ts", "level", "logger", "msg"} <= set(record) for record in records)


def live_group_members(pgid: int) -> list[int]:
    """Members of a process group that are not zombies (an orphan's zombie waits for whoever adopted it)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


async def test_a_restarted_handler_ends_what_a_killed_one_left_running(tmp_path):
    env = {"CC_EXECUTOR_DATA_DIR": str(tmp_path)}
    with live_handler(env=env) as doomed:
        client = await HandlerClient.connect(doomed.url, doomed.token)
        started = await client.execute("sleep 60 & sleep 60; wait")
        doomed.process.kill()  # SIGKILL: the handler can end nothing itself
        await asyncio.to_thread(doomed.process.wait, 10)
        await client.close()
    assert live_group_members(started.pgid), "orphaned, still running"
    with live_handler(env=env):
        deadline = time.monotonic() + 10
        while live_group_members(started.pgid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert live_group_members(started.pgid) == []


async def test_old_settings_apply_when_no_flag_is_given():
    """STREAM_TIMEOUT (with ENABLE_STREAM_TIMEOUT), ALLOWED_COMMANDS and SESSION_TIMEOUT, read as the old handler did."""
    old_env = {"ENABLE_STREAM_TIMEOUT": "true", "STREAM_TIMEOUT": "1", "ALLOWED_COMMANDS": "sleep, echo"}
    with live_handler(env={**old_env, "SESSION_TIMEOUT": "1.5"}) as configured:
        async with await HandlerClient.connect(configured.url, configured.token) as client:
            await client.execute("sleep 5")
            completed = await until_completed(client)
            assert completed.status == "timed_out" and "Timed out after 1 s" in completed.error
            with pytest.raises(HandlerError) as refused:
                await client.execute("ls /")
            assert refused.value.code == -32001 and refused.value.message == "Command 'ls' is not allowed"
            started = time.monotonic()
            async for _ in client.events():  # nothing runs, nothing is sent: the idle session is closed
                pass
            assert client.closed and 1.0 < time.monotonic() - started < 10


async def test_a_running_session_is_not_idle():
    with live_handler("--session-timeout", "0.5") as configured:
        async with await HandlerClient.connect(configured.url, configured.token) as client:
            await client.execute("sleep 1.5; echo done")
            completed = await until_completed(client)
            assert completed.status == "completed" and not client.closed


def test_default_port_and_log_level_come_from_the_old_variables(tmp_path):
    from cc_executor.contract_tests.live_handler import free_port, stop, wait_healthy

    port = free_port()
    log_path = tmp_path / "handler.log"
    env = {**os.environ, "CC_EXECUTOR_DATA_DIR": str(tmp_path), "DEFAULT_PORT": str(port), "LOG_LEVEL": "WARNING"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cc_executor", "handler", "--no-auth"], env=env, stderr=log, stdin=subprocess.DEVNULL
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, 15, log_path)
    finally:
        stop(process)
    log = log_path.read_text()
    assert "listening on" in log and "INFO" not in log, "INFO lines are below LOG_LEVEL=WARNING"


def test_trusted_networks_decide_who_needs_a_token():
    import ipaddress

    from cc_executor.handler.server import ConfigError, HandlerConfig

    bridge = ipaddress.ip_network("172.17.0.0/16")
    token = "t" * 32  # off loopback a token has at least 32 characters
    trusted = HandlerConfig(host="0.0.0.0", no_auth=True, trusted_networks=(bridge,), token=token)
    trusted.check()
    assert not trusted.needs_token("172.17.0.5") and not trusted.needs_token("::ffff:172.17.0.5")
    assert trusted.needs_token("10.1.2.3") and trusted.needs_token("127.0.0.1") and trusted.needs_token("garbage")
    assert not HandlerConfig(no_auth=True).needs_token("127.0.0.1")  # --no-auth on loopback: everyone
    assert HandlerConfig(token="t").needs_token("172.17.0.5")
    with pytest.raises(ConfigError, match="--trust-network"):
        HandlerConfig(host="0.0.0.0", no_auth=True).check()
    with pytest.raises(ConfigError, match="only makes sense with --no-auth"):
        HandlerConfig(host="0.0.0.0", trusted_networks=(bridge,), token=token).check()


async def test_no_auth_off_loopback_trusts_only_the_named_networks(tmp_path):
    """Bound to every address (traffic stays on loopback): 127.0.0.0/8 trusted needs no token; else one is needed."""
    for network, needs_token in (("127.0.0.0/8", False), ("10.99.0.0/16", True)):
        with live_handler("--host", "0.0.0.0", "--no-auth", "--trust-network", network, token=None) as public:
            log = public.log_path.read_text()
            assert "clients from trusted networks connect without a token" in log
            if needs_token:
                with pytest.raises(HandlerUnavailable, match="HTTP 401"):
                    await HandlerClient.connect(public.url)
                token = (public.data_dir / "handler.token").read_text().strip()
                async with await HandlerClient.connect(public.url, token) as client:
                    assert client.protocol_version == "2.0"
            else:
                async with await HandlerClient.connect(public.url) as client:
                    assert client.protocol_version == "2.0"
            assert get(f"{public.http_url}/health")[1]["auth_required"] is True


def test_a_trusted_network_that_is_not_one_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cc_executor", "handler", "--host", "0.0.0.0", "--no-auth", "--trust-network", "x/99"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CC_EXECUTOR_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2 and "--trust-network" in result.stderr and "Traceback" not in result.stderr
