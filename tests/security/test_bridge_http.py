"""The bridge's streamable-HTTP transport, attacked as a hostile HTTP client and as another local user would.

It runs commands as its user and holds the handler's token, so it answers only holders of
its own bearer token; it keeps few MCP sessions and ends idle ones quickly, so a flood of
`initialize` cannot lock anyone out for long; and each session sees and steers only the
executions it started.
"""

from __future__ import annotations

import json
import stat
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import bridge_helpers as b
from fixtures import other_user

pytestmark = pytest.mark.timeout(120)
PROTOCOL = "2025-11-25"
ACCEPT = "application/json, text/event-stream"


def initialize_body(request_id: int = 0) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
    }


def message_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of a response: the body, or the last `data:` of an event stream."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


class Session:
    """One MCP session over raw HTTP, as any client would hold it."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        opened = http.post("/mcp", json=initialize_body(), headers=self.headers(token))
        assert opened.status_code == 200, opened.text
        self.headers_ = self.headers(token) | {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
        self.headers_["MCP-Protocol-Version"] = PROTOCOL
        ready = http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers_)
        assert ready.status_code == 202, ready.text
        self.ids = iter(range(1, 10**6))

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": ACCEPT, "Content-Type": "application/json"}

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": next(self.ids), "method": "tools/call"}
        body["params"] = {"name": tool, "arguments": arguments}
        answer = self.http.post("/mcp", json=body, headers=self.headers_)
        assert answer.status_code == 200, answer.text
        return message_of(answer)["result"]

    def end(self) -> None:
        self.http.delete("/mcp", headers=self.headers_)


def executions_in_history(data_dir: Path) -> int:
    import sqlite3

    history = data_dir / "executions.sqlite3"
    if not history.exists():
        return 0
    with closing(sqlite3.connect(history)) as db:
        return int(db.execute("SELECT count(*) FROM executions").fetchone()[0])


def test_every_request_needs_the_bridges_own_token(tmp_path):
    with b.http_bridge(tmp_path) as base_url, httpx.Client(base_url=base_url, timeout=10) as http:
        token_file = tmp_path / "bridge-http.token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = b.http_token(tmp_path)
        assert len(token) >= 32
        printed = (tmp_path / "bridge-stderr.log").read_text()
        assert f"at {base_url}/mcp" in printed and str(token_file) in printed, "it says where it listens, and how in"

        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        for presented in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
            refused = http.post("/mcp", json=initialize_body(), headers=headers | presented)
            assert refused.status_code == 401, refused.text
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "bridge-http.token" in refused.json()["error"]["message"]
        assert http.get("/mcp", headers=headers).status_code == 401
        assert http.delete("/mcp", headers=headers).status_code == 401

        twice = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer wrong"), *headers.items()]
        duplicated = http.post("/mcp", json=initialize_body(), headers=twice)
        assert duplicated.status_code == 400 and "More than one authorization" in duplicated.text
        origins = [("Authorization", f"Bearer {token}"), ("Origin", "http://127.0.0.1"), ("Origin", "http://evil")]
        assert http.post("/mcp", json=initialize_body(), headers=[*origins, *headers.items()]).status_code == 400

        session = Session(http, token)
        assert session.call("get_execution_status", {})["structuredContent"] == {"recent": []}
        session.end()
    log = (tmp_path / "bridge-stderr.log").read_text()
    assert "failed login" in log and "Traceback" not in log


def test_a_given_http_token_file_is_used(tmp_path):
    token_file = tmp_path / "my-bridge.token"
    with b.http_bridge(tmp_path, "--http-token-file", str(token_file)) as base_url:
        assert not (tmp_path / "bridge-http.token").exists()
        with httpx.Client(base_url=base_url, timeout=10) as http:
            Session(http, token_file.read_text().strip()).end()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


ATTACK = r"""
import json, sys, urllib.error, urllib.request
url, token_path = sys.argv[1], sys.argv[2]
try:
    open(token_path).read()
    print("READ THE TOKEN")
except OSError as exc:
    print("token unreadable:", type(exc).__name__)
call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "execute_task", "arguments": {
    "task": "touch pwned", "permission_mode": "bypassPermissions",
    "mcp_config": json.dumps({"mcpServers": {"x": {"command": "sh", "args": ["-c", "touch /tmp/pwned"]}}})}}}
init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
    "capabilities": {}, "clientInfo": {"name": "attacker", "version": "1"}}}
for body, auth in ((init, None), (call, None), (init, "Bearer guessed"), (call, "Bearer guessed")):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                 **({"Authorization": auth} if auth else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print("status", response.status)
    except urllib.error.HTTPError as exc:
        print("status", exc.code)
"""


def test_another_local_user_can_neither_read_the_token_nor_run_anything(tmp_path):
    other_user.require_other_user()
    with b.http_bridge(tmp_path) as base_url:
        attack = other_user.run_as_other_user(
            [other_user.SYSTEM_PYTHON, "-c", ATTACK, f"{base_url}/mcp", str(tmp_path / "bridge-http.token")]
        )
    assert attack.returncode == 0, attack.stderr
    lines = attack.stdout.splitlines()
    assert lines[0] == "token unreadable: PermissionError", lines
    assert lines[1:] == ["status 401"] * 4, lines
    assert executions_in_history(tmp_path) == 0, "nothing was started"


def test_sessions_are_capped_and_idle_ones_end_so_a_flood_locks_nobody_out_for_long(tmp_path):
    with b.http_bridge(tmp_path, "--max-sessions", "3", "--session-idle-timeout", "1") as base_url:
        token = b.http_token(tmp_path)
        headers = Session.headers(token)
        with httpx.Client(base_url=base_url, timeout=10) as http:
            flood = [http.post("/mcp", json=initialize_body(n), headers=headers).status_code for n in range(20)]
            assert flood.count(200) == 3 and flood.count(503) == 17, flood
            deadline = time.monotonic() + 15
            while http.post("/mcp", json=initialize_body(), headers=headers).status_code == 503:
                assert time.monotonic() < deadline, "the flood's idle sessions never ended"
                time.sleep(0.2)
            waited = time.monotonic() - (deadline - 15)
            assert waited < 10, f"locked out for {waited:.1f} s"
            session = Session(http, token)  # a real client gets a session and works
            assert session.call("get_execution_status", {})["structuredContent"] == {"recent": []}
            session.end()


def test_each_session_sees_and_steers_only_its_own_executions(tmp_path):
    tag = b.marker()
    try:
        with b.http_bridge(tmp_path) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            token = b.http_token(tmp_path)
            owner, other = Session(http, token), Session(http, token)
            started = owner.call("execute_task", {"task": f"{tag} [fake:hang]", "wait": False})
            execution_id = started["structuredContent"]["execution_id"]

            assert other.call("get_execution_status", {})["structuredContent"] == {"recent": []}
            for tool, arguments in (
                ("get_execution_status", {"execution_id": execution_id}),
                ("get_execution_output", {"execution_id": execution_id}),
                ("control_execution", {"execution_id": execution_id, "action": "cancel"}),
                ("control_execution", {"execution_id": execution_id, "action": "pause"}),
            ):
                answer = other.call(tool, arguments)
                assert answer["isError"] and "Unknown execution_id" in answer["content"][0]["text"], (tool, answer)
            assert b.processes(tag), "the other session's cancel did nothing"

            mine = owner.call("get_execution_status", {})["structuredContent"]["recent"]
            assert [row["execution_id"] for row in mine] == [execution_id]
            canceled = owner.call("control_execution", {"execution_id": execution_id, "action": "cancel"})
            assert canceled["structuredContent"]["changed"] is True
            final = owner.call("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
            assert final["structuredContent"]["execution"]["status"] == "canceled"
            owner.end()
            other.end()
    finally:
        b.kill_all(tag)


def test_only_the_session_that_started_a_task_answers_its_permission_requests(tmp_path):
    """Another session of the same bridge cannot approve a task's tool calls: its respond_permission is answered
    as for an unknown execution, and the request still waits for the owner."""
    tag = b.marker()
    try:
        with b.http_bridge(tmp_path) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            token = b.http_token(tmp_path)
            owner, other = Session(http, token), Session(http, token)
            task = {"task": f"{tag} [fake:deny]", "cwd": str(tmp_path), "permission_prompts": "orchestrator"}
            first = owner.call("execute_task", task)["structuredContent"]
            [write] = first["permission_requests"]
            answer = {"execution_id": first["execution_id"], "request_id": write["request_id"], "decision": "allow"}
            refused = other.call("respond_permission", answer)
            assert refused["isError"] and "Unknown execution_id" in refused["content"][0]["text"], refused
            assert not (tmp_path / "notes.md").exists()
            assert owner.call("respond_permission", answer)["structuredContent"]["answered"] is True
            owner.call("control_execution", {"execution_id": first["execution_id"], "action": "cancel"})
            owner.end()
            other.end()
    finally:
        b.kill_all(tag)


def test_connections_that_send_no_request_are_closed(tmp_path):
    """uvicorn alone keeps a connection that never sends a request open forever: enough of them use up the
    bridge's descriptors. Half-open ones, and one stuck in the middle of its request head, are closed."""
    import socket

    with b.http_bridge(tmp_path) as base_url:
        port = httpx.URL(base_url).port
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
        stuck = socket.create_connection(("127.0.0.1", port))
        stuck.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for connection in [*idle, stuck]:
                connection.settimeout(15)
                assert connection.recv(1) == b"", "the bridge closed it"
        finally:
            for connection in [*idle, stuck]:
                connection.close()
        with httpx.Client(base_url=base_url, timeout=10) as http:
            Session(http, b.http_token(tmp_path)).end()
