"""Reaching a handler's /health: cheaply enough that a bridge may ask every second while tasks run."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from cc_executor import endpoints
from cc_executor.contract_tests.live_handler import live_handler
from cc_executor.endpoints import fetch_health, unix_url

pytestmark = pytest.mark.timeout(60)


async def test_no_handler_on_the_local_socket_is_said_at_once_without_an_http_client(monkeypatch, tmp_path):
    """The usual case on a machine where no handler runs (the bridge's default URL, backend auto): it used to cost
    every first task 50 to 150 ms of HTTP client set-up before it could run locally."""

    def no_client(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an HTTP client was made for a socket that is not there")

    monkeypatch.setattr(endpoints, "http_client", no_client)
    with pytest.raises(FileNotFoundError, match="no handler listens on .*handler.sock"):
        await fetch_health(unix_url(tmp_path / "handler.sock"))


async def test_health_fetches_load_the_certificate_authorities_at_most_once(monkeypatch):
    """Loading the CAs takes about 50 ms of CPU: never over the Unix socket (no TLS there), and once per CA file over
    TCP, however often /health is asked."""
    loads: list[object] = []
    real_load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real_load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    endpoints.tls_context.cache_clear()
    with live_handler() as handler:
        socket_url = unix_url(Path(handler.data_dir) / "handler.sock")
        for _ in range(3):
            assert (await fetch_health(socket_url))["status"] == "healthy"
        assert loads == [], "the CAs were loaded for a Unix socket"
        for _ in range(3):
            assert (await fetch_health(handler.url))["status"] == "healthy"
        assert len(loads) <= 1, f"the CAs were loaded {len(loads)} times for 3 fetches"
    assert endpoints.client_tls("wss://a.example/ws/mcp", None) is endpoints.client_tls("wss://b.example/ws/mcp", None)
