"""Execution history in SQLite: what ran, where, and how it ended, surviving bridge restarts.

Results are stored as the tools return them; a result stored by an older bridge is read
leniently (fields it no longer knows are dropped), so an upgrade never breaks a status query.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cc_executor.generated.mcp.common import TaskResult

UNFINISHED = ("queued", "running", "paused")
KEEP_EXECUTIONS = 1000


@dataclass(frozen=True)
class HistoryRow:
    execution_id: str
    created_at: str
    task: str
    backend: str
    status: str
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

    def mark_abandoned(self, reason: str) -> list[tuple[str, str | None]]:
        """Executions left unfinished by an earlier bridge end as failed, with what output they left.

        Returns (execution id, tag) of each, the tag for finding a local task's leftover processes.
        """
        rows = self._db.execute(
            f"SELECT execution_id, backend, tag FROM executions WHERE state IN ({','.join('?' * len(UNFINISHED))})",
            UNFINISHED,
        ).fetchall()
        for execution_id, backend, _ in rows:
            result = TaskResult(status="failed", error=reason, execution_id=execution_id, backend=backend)
            self._db.execute(
                "UPDATE executions SET state='failed', result_json=? WHERE execution_id=?",
                (_stored(result), execution_id),
            )
        return [(row[0], row[2]) for row in rows]

    def set_tag(self, execution_id: str, tag: str) -> None:
        self._db.execute("UPDATE executions SET tag=? WHERE execution_id=?", (tag, execution_id))

    def add(self, execution_id: str, created_at: str, task: str, backend: str, status: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO executions (execution_id, created_at, task, backend, state) VALUES (?, ?, ?, ?, ?)",
            (execution_id, created_at, task, backend, status),
        )

    def update(
        self, execution_id: str, *, status: str, backend: str, elapsed_s: float | None, result: TaskResult | None = None
    ) -> None:
        self._db.execute(
            "UPDATE executions SET state=?, backend=?, elapsed_s=?, result_json=? WHERE execution_id=?",
            (status, backend, elapsed_s, _stored(result) if result else None, execution_id),
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
    """Only the fields that apply: absent ones come back absent, never as nulls the schema forbids."""
    return result.model_dump_json(exclude_none=True)


def _row(row: tuple[Any, ...]) -> HistoryRow:
    execution_id, created_at, task, backend, status, elapsed_s, result_json = row
    return HistoryRow(execution_id, created_at, task, backend, status, elapsed_s, _result(result_json))


def _result(stored: str | None) -> TaskResult | None:
    """A stored result, without the fields this bridge does not know (an older bridge may have stored them)."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    fields = {key: value for key, value in data.items() if key in TaskResult.model_fields and value is not None}
    try:
        return TaskResult.model_validate(fields)
    except ValidationError as exc:  # e.g. `false` where this bridge leaves a field out: drop what does not fit
        unfit = {error["loc"][0] for error in exc.errors() if error["loc"]}
    try:
        return TaskResult.model_validate({key: value for key, value in fields.items() if key not in unfit})
    except ValidationError:
        return None
