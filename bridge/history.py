"""Execution history in SQLite: what ran, where, and how it ended, surviving bridge restarts.

Results are stored as the tools return them; a result stored by an older bridge is read
leniently (fields it no longer knows are dropped), so an upgrade never breaks a status query.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cc_executor.generated.mcp.common import TaskResult
from cc_executor.paths import make_private, private_dir

from .ownership import Scope

UNFINISHED = ("queued", "running", "paused")
KEEP_EXECUTIONS = 1000
#: How long opening the history, or a statement, waits for another bridge's hold on it to end.
BUSY_TIMEOUT_S = 5.0


_COLUMNS = "execution_id, created_at, task, backend, state, elapsed_s, result_json, owner, client"


@dataclass(frozen=True)
class HistoryRow:
    execution_id: str
    created_at: str
    task: str
    backend: str
    status: str
    elapsed_s: float | None
    result: TaskResult | None
    owner: str | None = None  # the bridge that ran it
    client: str | None = None  # the MCP session that started it, on a bridge serving several


@dataclass(frozen=True)
class UnfinishedRow:
    execution_id: str
    backend: str
    tag: str | None  # a local execution's tag, to find its processes
    owner: str | None


class History:
    """One table, one row per execution; every change is committed at once (a crash of the bridge loses nothing;
    in WAL mode with synchronous=NORMAL a commit does not wait for the disk, so only a power loss can drop the
    last ones, and the database stays intact).

    Each row names the bridge that owns it (`owner`, the bridge's id; none for rows of bridges
    older than ownership) and, for a bridge serving several MCP sessions, the session that
    started it (`client`).
    """

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self.path = path
        make_private(path, create=True)
        for companion in ("-wal", "-shm"):  # SQLite gives them the database file's mode; older ones may be open
            make_private(path.with_name(path.name + companion))
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        _use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Bridges that start together (two windows of a host) open the history at once: one at a time makes the
        # table or adds what a newer version needs, the others wait for it.
        self._db.execute("BEGIN IMMEDIATE")
        try:
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
            for column in ("tag", "owner", "client"):  # added after the first release of the table
                if column not in columns:
                    self._db.execute(f"ALTER TABLE executions ADD COLUMN {column} TEXT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def unfinished(self) -> list[UnfinishedRow]:
        """Executions whose end was never recorded, by whichever bridge."""
        rows = self._db.execute(
            "SELECT execution_id, backend, tag, owner FROM executions "
            f"WHERE state IN ({','.join('?' * len(UNFINISHED))})",
            UNFINISHED,
        ).fetchall()
        return [UnfinishedRow(*row) for row in rows]

    def mark_abandoned(self, row: UnfinishedRow, reason: str) -> None:
        """An execution whose bridge is gone ends as failed, with what output it left."""
        result = TaskResult(status="failed", error=reason, execution_id=row.execution_id, backend=row.backend)
        self._db.execute(
            "UPDATE executions SET state='failed', result_json=? WHERE execution_id=? "
            f"AND state IN ({','.join('?' * len(UNFINISHED))})",
            (_stored(result), row.execution_id, *UNFINISHED),
        )

    def set_tag(self, execution_id: str, tag: str) -> None:
        self._db.execute("UPDATE executions SET tag=? WHERE execution_id=?", (tag, execution_id))

    def add(
        self,
        execution_id: str,
        created_at: str,
        task: str,
        backend: str,
        status: str,
        owner: str | None = None,
        client: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO executions (execution_id, created_at, task, backend, state, owner, client) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (execution_id, created_at, task, backend, status, owner, client),
        )

    def update(
        self, execution_id: str, *, status: str, backend: str, elapsed_s: float | None, result: TaskResult | None = None
    ) -> None:
        self._db.execute(
            "UPDATE executions SET state=?, backend=?, elapsed_s=?, result_json=? WHERE execution_id=?",
            (status, backend, elapsed_s, _stored(result) if result else None, execution_id),
        )

    def get(self, execution_id: str) -> HistoryRow | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM executions WHERE execution_id=?", (execution_id,)).fetchone()
        return _row(row) if row else None

    def recent(self, limit: int, scope: Scope) -> list[HistoryRow]:
        """The newest executions `scope` may see."""
        where, parameters = scope.where()
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE {where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (*parameters, limit),
        ).fetchall()
        return [_row(row) for row in rows]

    def prune(self, keep: int = KEEP_EXECUTIONS) -> list[str]:
        """Forget all but the newest `keep` executions (never one still running); returns the ids dropped."""
        rows = self._db.execute(
            f"SELECT execution_id FROM executions WHERE state NOT IN ({','.join('?' * len(UNFINISHED))}) "
            "ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?",
            (*UNFINISHED, keep),
        ).fetchall()
        for (execution_id,) in rows:
            self._db.execute("DELETE FROM executions WHERE execution_id=?", (execution_id,))
        return [row[0] for row in rows]

    def finished_oldest_first(self) -> list[str]:
        """Ids of ended executions, oldest first: whose stored output goes first when the disk budget is spent."""
        rows = self._db.execute(
            f"SELECT execution_id FROM executions WHERE state NOT IN ({','.join('?' * len(UNFINISHED))}) "
            "ORDER BY created_at, rowid",
            UNFINISHED,
        ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        self._db.close()


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL (once; after that this only reads the mode). Of two connections that switch at the
    same moment, SQLite tells one "locked" at once rather than have them wait for each other: it tries again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _stored(result: TaskResult) -> str:
    """Only the fields that apply: absent ones come back absent, never as nulls the schema forbids."""
    return result.model_dump_json(exclude_none=True)


def _row(row: tuple[Any, ...]) -> HistoryRow:
    execution_id, created_at, task, backend, status, elapsed_s, result_json, owner, client = row
    return HistoryRow(execution_id, created_at, task, backend, status, elapsed_s, _result(result_json), owner, client)


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
