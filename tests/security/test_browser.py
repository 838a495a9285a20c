"""A hostile web page, in a real headless Chromium, must never run a command through cc-executor.

The page is served from another origin on loopback. It tries to open a WebSocket to
the handler (even one started with --no-auth) and to call the bridge's HTTP MCP
endpoint; it reports every step back to its own server, so the test knows the
page's script really ran. A control run with the page's origin allowed shows that
the same page does run the command when it is let in: the test can fail.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fixtures import bridge_helpers as b

from cc_executor.contract_tests.live_handler import free_port, live_handler

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

HANDLER_PAGE = """<!doctype html><title>attack</title><script>
const report = (event) => fetch('/report', {method: 'POST', body: JSON.stringify(event)});
report({event: 'attempt'});
const ws = new WebSocket('ws://127.0.0.1:%(port)d/ws/mcp');
ws.onopen = () => {
  report({event: 'open'});
  ws.send(JSON.stringify({jsonrpc: '2.0', method: 'execute', id: 1, params: {command: 'touch %(marker)s'}}));
};
ws.onmessage = (message) => report({event: 'message', data: message.data});
ws.onerror = () => report({event: 'error'});
ws.onclose = (close) => report({event: 'close', code: close.code});
</script>"""

BRIDGE_PAGE = """<!doctype html><title>attack</title><script>
const report = (event) => fetch('/report', {method: 'POST', body: JSON.stringify(event)});
report({event: 'attempt'});
const call = {jsonrpc: '2.0', id: 1, method: 'tools/call',
  params: {name: 'execute_task', arguments: {task: 'from a web page'}}};
for (const [mode, type] of [['cors', 'application/json'], ['no-cors', 'text/plain']]) {
  fetch('http://127.0.0.1:%(port)d/mcp', {method: 'POST', mode: mode,
      headers: {'Content-Type': type, 'Accept': 'application/json, text/event-stream'}, body: JSON.stringify(call)})
    .then((response) => report({event: 'response', mode: mode, status: response.status}))
    .catch((error) => report({event: 'blocked', mode: mode, error: String(error)}));
}
</script>"""


@contextmanager
def attack_page(html: str, port: int = 0) -> Iterator[tuple[str, list[dict]]]:
    """Serve `html` at http://127.0.0.1:PORT/ and collect what its script reports."""
    reports: list[dict] = []

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            reports.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", reports
    finally:
        server.shutdown()
        server.server_close()


def browse(url: str, reports: list[dict], until: str, timeout_s: float = 20.0) -> None:
    """Load `url` in headless Chromium until the page has reported `until` (or time runs out)."""
    assert CHROMIUM, "chromium is not installed: run scripts/install_test_tools.py"
    with tempfile.TemporaryDirectory(prefix="ccx-chromium-") as profile:
        browser = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",  # keeps the page open until we end the browser
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and not any(r.get("event") == until for r in reports):
                time.sleep(0.1)
            time.sleep(1.0)  # let late reports arrive
        finally:
            os.killpg(browser.pid, 9)
            browser.wait()


@pytest.mark.parametrize("auth", [["--no-auth"], []], ids=["no-auth", "token"])
def test_a_web_page_cannot_run_a_command_through_the_handler(tmp_path, auth):
    marker = tmp_path / "pwned"
    with live_handler(*auth, token=None if auth else "secret") as handler:
        with attack_page(HANDLER_PAGE % {"port": handler.port, "marker": marker}) as (url, reports):
            browse(url, reports, until="close")
        log = handler.log_path.read_text()
    events = [r["event"] for r in reports]
    assert "attempt" in events, f"the page's script did not run: {reports}"
    assert "close" in events and "open" not in events, reports
    assert not marker.exists(), "the page ran a command"
    if auth == ["--no-auth"]:
        assert "origin refused" in log  # refused for its Origin, not merely for lacking a token


def test_control_the_same_page_runs_its_command_when_its_origin_is_allowed(tmp_path):
    marker = tmp_path / "allowed"
    page_port = free_port()
    origin = f"http://127.0.0.1:{page_port}"
    with live_handler("--no-auth", "--allow-origin", origin, token=None) as handler:
        with attack_page(HANDLER_PAGE % {"port": handler.port, "marker": marker}, page_port) as (url, reports):
            browse(url, reports, until="message")
            deadline = time.monotonic() + 5
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    assert "open" in [r["event"] for r in reports], reports
    assert marker.exists(), "with its origin allowed the page should have run the command"


def test_a_web_page_cannot_call_the_bridge_http_endpoint(tmp_path):
    with b.http_bridge(tmp_path) as base_url:
        with attack_page(BRIDGE_PAGE % {"port": httpx.URL(base_url).port}) as (url, reports):
            browse(url, reports, until="blocked")
    events = [r["event"] for r in reports]
    assert "attempt" in events, f"the page's script did not run: {reports}"
    assert all(r.get("status") in (None, 0, 403, 421) for r in reports), reports
    history = tmp_path / "executions.sqlite3"
    if history.exists():
        with closing(sqlite3.connect(history)) as db:
            assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == 0, "the page started a task"
