"""The CI-sized soak (scripts/soak.py): no file descriptor, child process or memory leak in the handler."""

from __future__ import annotations

import soak  # scripts/, on the path through tests/conftest.py


async def test_sequential_and_concurrent_load_leaves_nothing_behind():
    report = await soak.soak(count=500, tries=60, max_sessions=40)
    assert report.connections_accepted == 40 and report.connections_refused_clearly == 20
    assert report.after.fds == report.baseline.fds and report.after.children == report.baseline.children
    assert not report.leaks, report.leaks
