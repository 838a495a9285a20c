"""The CI-sized soak (scripts/soak.py): no file descriptor, child process or memory leak in the handler."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("soak_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_sequential_and_concurrent_load_leaves_nothing_behind():
    soak = load_soak()
    report = await soak.soak(count=500, tries=60, max_sessions=40)
    assert report.connections_accepted == 40 and report.connections_refused_clearly == 20
    assert report.after.fds == report.baseline.fds and report.after.children == report.baseline.children
    assert not report.leaks, report.leaks
