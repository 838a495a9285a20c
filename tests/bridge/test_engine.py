"""The execution engine's own promises: start-up recovery only when asked for, and a history that an
upgrade cannot break, nor another bridge opening it at the same moment."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from fixtures import bridge_helpers as b

from cc_executor.bridge.executions import ABANDONED, ExecutionManager
from cc_executor.bridge.history import History

#: A result as the bridge stored it before issue 10 (fields it no longer has, `false` where it now leaves out).
OLD_RESULT = {
    "execution_id": "old-1",
    "status": "completed",
    "exit_code": 0,
    "result": "The answer is 3.",
    "result_truncated": False,
    "is_error": False,
    "error": None,
    "session_id": "s-1",
    "num_turns": 2,
    "duration_ms": 4210,
    "total_cost_usd": 0.00072,
    "usage": {"input_tokens": 240, "output_tokens": 24},
    "stderr_tail": "",
    "output_truncated": False,
    "output_bytes": 5120,
    "backend": "local",
}


def test_bridges_that_open_a_new_history_at_the_same_moment_all_open_it(tmp_path):
    """Two windows of a host start their bridges together, and each opens the history. SQLite tells one of two
    connections that switch a new file to WAL at once "database is locked" without waiting, and two that upgrade
    the table at once would add the same column twice: every one of them must open it all the same."""
    failures: list[str] = []
    for round_ in range(20):
        path = tmp_path / f"round-{round_}" / "executions.sqlite3"
        together = threading.Barrier(4)

        def open_history(path: Path = path, together: threading.Barrier = together) -> None:
            together.wait()
            try:
                History(path).close()
            except sqlite3.Error as exc:
                failures.append(repr(exc))

        openers = [threading.Thread(target=open_history) for _ in range(4)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join()
    assert failures == []


def test_a_result_stored_by_an_older_bridge_is_read_without_its_old_fields(tmp_path):
    history = History(tmp_path / "executions.sqlite3")
    history.add("old-1", "2026-11-25T09:00:00+00:00", "Add 1 and 2", "local", "queued")
    history._db.execute("UPDATE executions SET state='completed', result_json=?", (json.dumps(OLD_RESULT),))
    row = history.get("old-1")
    history.close()
    assert row is not None and row.status == "completed"
    assert row.result is not None
    assert row.result.model_dump(exclude_none=True) == {
        "status": "completed",
        "result": "The answer is 3.",
        "execution_id": "old-1",
        "session_id": "s-1",
        "num_turns": 2,
        "total_cost_usd": 0.00072,
        "duration_ms": 4210,
        "exit_code": 0,
        "backend": "local",
    }


async def test_recovery_of_abandoned_executions_is_an_explicit_start_up_step(tmp_path):
    history = History(tmp_path / "executions.sqlite3")
    history.add("left-running", "2026-11-25T09:00:00+00:00", "a task", "local", "running")
    history.close()

    manager = ExecutionManager(b.settings(tmp_path))
    try:
        assert manager.status("left-running").status == "running", "constructing a manager changes nothing"
        manager.recover_abandoned()
        recovered = manager.status("left-running")
    finally:
        await manager.close()
    assert recovered.status == "failed" and recovered.error == ABANDONED
