"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

import pytest

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler


@pytest.fixture(scope="module")
def handler() -> LiveHandler:
    """A real handler subprocess on a free loopback port, shared by one test module."""
    with live_handler() as running:
        yield running
