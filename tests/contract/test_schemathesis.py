"""The handler's plain-HTTP side against spec/http/openapi.yaml: schemathesis, every check on, a live handler.

The schema is read from spec/ (not fetched from the handler: it serves none), and the
requests go to a `live_handler()` subprocess; examples are bounded so the run stays short.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import schemathesis

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.spec_files import SPEC_DIR

OPENAPI = SPEC_DIR / "http" / "openapi.yaml"
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"enabled": True},  # every built-in check, including unsupported_method (405 + Allow)
        "generation": {"max-examples": 25, "deterministic": True},
    }
)
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)


@pytest.fixture(scope="module")
def handler() -> Iterator[LiveHandler]:
    with live_handler() as running:
        yield running


@schema.parametrize()
def test_http_side_conforms_to_openapi(case: schemathesis.Case, handler: LiveHandler) -> None:
    case.call_and_validate(base_url=handler.http_url, timeout=5)


def status_and_allow(handler: LiveHandler, method: str, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(urlsplit(handler.http_url).netloc, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Allow") or ""
    finally:
        connection.close()


def test_undeclared_methods_are_refused(handler: LiveHandler) -> None:
    """openapi.yaml declares only GET: anything else is 405 Method Not Allowed with `Allow` (RFC 9110 15.5.6)."""
    answers = {
        f"{method} {path}": status_and_allow(handler, method, path)
        for path in ("/health", "/metrics")
        for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE")
    }
    wrong = {request: answer for request, answer in answers.items() if answer[0] != 405 or "GET" not in answer[1]}
    assert not wrong, f"(status, Allow) of undeclared methods: {wrong}"
