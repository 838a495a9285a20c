"""Execution history in SQLite: what ran, where, and how it ended, surviving bridge restarts."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cc_executor.generated.mcp.common import TaskResult

UNFINISHED = ("queued", "running", "paused")
KEEP_EXECUTIONS = 1000


@dataclass(frozen=True)
class HistoryRow:
    execution_id: str
    created_at: str
    task: str
    backend: str
    state: str
    elapsed_s: float | None
    result: TaskResult | None


class History:
    """One table, one row per execution; every change is committed at once (a crash loses nothing)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS executions (
                execution_id TEXT PRIMARY KEY,
                created_at TEXT NOT NULL,
                task TEXT NOT NULL,
                backend TEXT NOT NULL,
                state TEXT NOT NULL,
                elapsed_s REAL,
                result_json TEXT
            )"""
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(executions)")}
        if "tag" not in columns:  # added after the first release of the table
            self._db.execute("ALTER TABLE executions ADD COLUMN tag TEXT")

    def mark_abandoned(self, reason: str, outputs_dir: Path) -> list[tuple[str, str | None]]:
        """Executions left unfinished by an earlier bridge end as failed, with what output they left.

        Returns (execution id, tag) of each, the tag for finding a local task's leftover processes.
        """
        rows = self._db.execute(
            f"SELECT execution_id, backend, tag FROM executions WHERE state IN ({','.join('?' * len(UNFINISHED))})",
            UNFINISHED,
        ).fetchall()
        for execution_id, backend, _ in rows:
            stdout = outputs_dir / execution_id / "stdout.txt"
            result = TaskResult(
                execution_id=execution_id,
                status="failed",
                error=reason,
                backend=backend,
                output_truncated=False,
                output_bytes=stdout.stat().st_size if stdout.is_file() else 0,
            )
            self._db.execute(
                "UPDATE executions SET state='failed', result_json=? WHERE execution_id=?",
                (_stored(result), execution_id),
            )
        return [(row[0], row[2]) for row in rows]

    def set_tag(self, execution_id: str, tag: str) -> None:
        self._db.execute("UPDATE executions SET tag=? WHERE execution_id=?", (tag, execution_id))

    def add(self, execution_id: str, created_at: str, task: str, backend: str, state: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO executions (execution_id, created_at, task, backend, state) VALUES (?, ?, ?, ?, ?)",
            (execution_id, created_at, task, backend, state),
        )

    def update(
        self, execution_id: str, *, state: str, backend: str, elapsed_s: float | None, result: TaskResult | None = None
    ) -> None:
        self._db.execute(
            "UPDATE executions SET state=?, backend=?, elapsed_s=?, result_json=? WHERE execution_id=?",
            (state, backend, elapsed_s, _stored(result) if result else None, execution_id),
        )

    def get(self, execution_id: str) -> HistoryRow | None:
        row = self._db.execute(
            "SELECT execution_id, created_at, task, backend, state, elapsed_s, result_json FROM executions "
            "WHERE execution_id=?",
            (execution_id,),
        ).fetchone()
        return _row(row) if row else None

    def recent(self, limit: int) -> list[HistoryRow]:
        rows = self._db.execute(
            "SELECT execution_id, created_at, task, backend, state, elapsed_s, result_json FROM executions "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_row(row) for row in rows]

    def prune(self, keep: int = KEEP_EXECUTIONS) -> list[str]:
        """Forget all but the newest `keep` executions; returns the ids dropped (their output can go)."""
        rows = self._db.execute(
            "SELECT execution_id FROM executions ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?", (keep,)
        ).fetchall()
        for (execution_id,) in rows:
            self._db.execute("DELETE FROM executions WHERE execution_id=?", (execution_id,))
        return [row[0] for row in rows]

    def close(self) -> None:
        self._db.close()


def _stored(result: TaskResult) -> str:
    """Only the fields the result was given: unset ones come back unset, never as nulls the schema forbids."""
    return result.model_dump_json(exclude_unset=True)


def _row(row: tuple[Any, ...]) -> HistoryRow:
    execution_id, created_at, task, backend, state, elapsed_s, result_json = row
    result = TaskResult.model_validate(json.loads(result_json)) if result_json else None
    return HistoryRow(execution_id, created_at, task, backend, state, elapsed_s, result)
