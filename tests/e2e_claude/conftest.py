"""Fixtures for the end-to-end tests with the real ``claude`` CLI (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_claude import support


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The real claude CLI, pinned; the test fails (never skips) when it is not installed."""
    return support.tool_path(support.tools.CLAUDE_CLI)


@pytest.fixture(scope="session")
def inspector_bin() -> Path:
    """The MCP Inspector's launcher (``mcp-inspector --cli ...``), pinned."""
    return support.tool_path(support.tools.MCP_INSPECTOR)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A private HOME, data dir and project dir; afterwards no process that was started with this HOME may
    still run (everything a test starts, the handler, the CLI, bridges, inherits it)."""
    box = support.make_sandbox(tmp_path, monkeypatch)
    yield box
    left = support.wait_gone_env(f"HOME={box.home}", 5.0)
    for pid in left:
        support.kill_pid(pid)
    assert not left, f"processes left behind: {left}"
