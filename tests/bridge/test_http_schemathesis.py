"""The bridge's streamable-HTTP MCP endpoint against spec/http/bridge-openapi.yaml: schemathesis on a live bridge.

Every case gets a session of its own (initialize, then notifications/initialized), so a
generated DELETE cannot spoil the next case; the session headers are the client's part of
the protocol and are not fuzzed. GET opens the session's endless event stream, so the
session is ended from the side after a moment, which closes the stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from fixtures import bridge_helpers as b

from cc_executor.contract_tests.spec_validation import SPEC_DIR

pytestmark = pytest.mark.timeout(60)
OPENAPI = SPEC_DIR / "http" / "bridge-openapi.yaml"
PROTOCOL_VERSION = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"enabled": True},
        "generation": {"max-examples": 15, "deterministic": True},
    }
)
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)


@pytest.fixture(scope="module")
def bridge_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with b.http_bridge(tmp_path_factory.mktemp("bridge-http")) as base_url:
        yield base_url


def new_session(base_url: str) -> dict[str, str]:
    """Initialise a session and return the headers every later request of it carries."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "1"},
        },
    }
    with httpx.Client(base_url=base_url, timeout=10, headers={"Accept": ACCEPT}) as http:
        answer = http.post("/mcp", json=initialize)
        assert answer.status_code == 200, answer.text
        headers = {"Accept": ACCEPT, "Mcp-Session-Id": answer.headers["mcp-session-id"]}
        headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        initialized = http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        assert initialized.status_code == 202, initialized.text
    return headers


def end_session_later(base_url: str, headers: dict[str, str], delay_s: float) -> threading.Thread:
    def end() -> None:
        time.sleep(delay_s)
        httpx.delete(f"{base_url}/mcp", headers=headers, timeout=10)

    thread = threading.Thread(target=end, daemon=True)
    thread.start()
    return thread


@schema.parametrize()
def test_mcp_endpoint_conforms_to_openapi(case: schemathesis.Case, bridge_url: str) -> None:
    headers = new_session(bridge_url)
    ender = end_session_later(bridge_url, headers, 0.5) if case.method == "GET" else None
    case.call_and_validate(base_url=bridge_url, headers=headers, timeout=30)
    if ender is not None:
        ender.join(15)
