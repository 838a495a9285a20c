"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler

# Test helpers import as `fixtures.…` and `e2e_claude.…`, scripts as modules of scripts/
# (pytest's importlib mode puts no test folder on sys.path by itself).
TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS), str(TESTS.parent / "scripts")]


@pytest.fixture(scope="module")
def handler() -> LiveHandler:
    """A real handler subprocess on a free loopback port, shared by one test module."""
    with live_handler() as running:
        yield running
