"""An untrusted data dir or token file never gives the handler away; everything made is private.

The attacks are played by a second local user (tests/fixtures/other_user.py): a world-
writable CC_EXECUTOR_DATA_DIR with the token file planted as a symlink to
/proc/self/personality (whose content anyone can predict), a data dir the other user owns,
and a token file of theirs. Each must be refused in one line, before anything listens.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import other_user
from fixtures.commands import cc_executor

from cc_executor.paths import DataDirError, create_private_file, data_dir, open_private_for_append
from cc_executor.token import TokenFileError, load_or_create_token, read_token_file

pytestmark = pytest.mark.timeout(120)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cc_executor(data, *args)


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    for word in words:
        assert word in line, line


def test_a_world_writable_data_dir_with_a_planted_token_symlink_is_refused() -> None:
    other_user.require_other_user()
    with other_user.shared_tmp() as shared:
        planted = shared / "data"
        plant = other_user.run_as_other_user(
            [
                "sh",
                "-c",
                f"mkdir -m 777 {planted} && chmod 777 {planted} && ln -s /proc/self/personality {planted}/handler.token",
            ]
        )
        assert plant.returncode == 0, plant.stderr
        for args in (("handler", "--port", "0"), ("mcp",), ("run", "--command", "true"), ("status", "--once")):
            refused(cli(planted, *args), str(planted), "another user")
        planted_by_us = shared / "ours"
        planted_by_us.mkdir(mode=0o700)
        planted_by_us.chmod(0o777)
        refused(cli(planted_by_us, "handler", "--port", "0"), "may be written by other users", "chmod 700")


def test_a_token_file_that_is_a_symlink_is_never_followed(tmp_path: Path) -> None:
    (tmp_path / "handler.token").symlink_to("/proc/self/personality")
    refused(cli(tmp_path, "handler", "--port", "0"), "symbolic link")
    with pytest.raises(TokenFileError, match="symbolic link"):
        read_token_file(tmp_path / "handler.token")


def test_a_token_file_of_another_user_or_open_to_others_is_refused(tmp_path: Path) -> None:
    other_user.require_other_user()
    token = tmp_path / "handler.token"
    token.write_text("their-token\n")
    token.chmod(0o600)
    os.chown(token, other_user.OTHER_UID, other_user.OTHER_UID)
    with pytest.raises(TokenFileError, match="belongs to another user"):
        read_token_file(token)
    refused(cli(tmp_path, "handler", "--port", "0"), "belongs to another user")
    os.chown(token, os.getuid(), os.getgid())
    token.chmod(0o640)
    with pytest.raises(TokenFileError, match="chmod 600"):
        read_token_file(token)
    token.unlink()
    os.mkfifo(token, 0o600)  # a FIFO would block a reader forever
    with pytest.raises(TokenFileError, match="not a regular file"):
        read_token_file(token)


def test_what_is_made_is_private_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = os.umask(0)
    try:
        monkeypatch.setenv("CC_EXECUTOR_DATA_DIR", str(tmp_path / "data"))
        made = data_dir()
        assert stat.S_IMODE(made.stat().st_mode) == 0o700
        load_or_create_token(made / "handler.token")
        assert stat.S_IMODE((made / "handler.token").stat().st_mode) == 0o600
        os.close(open_private_for_append(made / "out.txt"))
        assert stat.S_IMODE((made / "out.txt").stat().st_mode) == 0o600
        (made / "link").symlink_to(made / "out.txt")
        with pytest.raises(OSError):
            os.close(open_private_for_append(made / "link"))
        with pytest.raises(FileExistsError):
            os.close(create_private_file(made / "out.txt"))
    finally:
        os.umask(previous)


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("CC_EXECUTOR_DATA_DIR", str(tmp_path / "file"))
    with pytest.raises(DataDirError, match="not a folder"):
        data_dir()


async def test_every_file_the_bridge_makes_is_private_whatever_the_umask(tmp_path):
    from fixtures import bridge_helpers as b

    from cc_executor.bridge.executions import ExecutionManager, TaskRequest

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    previous = os.umask(0)
    try:
        manager = ExecutionManager(b.settings(data))
        try:
            result = await manager.run_to_end(TaskRequest.for_command("echo out; echo err >&2", manager.settings))
            made = sorted(path for path in data.rglob("*"))
            modes = {path.relative_to(data).as_posix(): stat.S_IMODE(path.lstat().st_mode) for path in made}
        finally:
            await manager.close()
    finally:
        os.umask(previous)
    execution = f"outputs/{result.execution_id}"
    assert {"executions.sqlite3", "executions.sqlite3-wal", "executions.sqlite3-shm"} <= set(modes), modes
    assert {"bridges", "outputs", execution, f"{execution}/stdout.txt", f"{execution}/stderr.txt"} <= set(modes)
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}, f"open to other users: {loose}"


def test_every_file_the_handler_makes_is_private_whatever_the_umask(tmp_path):
    import asyncio

    from cc_executor.client import HandlerClient
    from cc_executor.contract_tests.live_handler import free_port, stop, wait_healthy

    port, data = free_port(), tmp_path / "data"
    log_path = tmp_path / "handler.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_EXECUTOR_")}
    env["CC_EXECUTOR_DATA_DIR"] = str(data)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cc_executor", "handler", "--port", str(port)],
            env=env,
            stderr=log,
            preexec_fn=lambda: os.umask(0),
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, 15, log_path)

        async def while_running() -> dict[str, int]:
            token = (data / "handler.token").read_text().strip()
            async with await HandlerClient.connect(f"ws+unix://{data / 'handler.sock'}", token) as client:
                await client.execute("sleep 30")
                made = sorted(data.rglob("*"))
                return {path.relative_to(data).as_posix(): stat.S_IMODE(path.lstat().st_mode) for path in made}

        modes = asyncio.run(while_running())
    finally:
        stop(process)
    running = [name for name in modes if name.startswith("running/")]
    assert {"handler.token", "handler.sock", "handler.sock.lock"} <= set(modes) and len(running) == 2, modes
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}, f"open to other users: {loose}"


async def test_planted_history_rows_never_lead_outside_the_outputs_folder(tmp_path):
    """Ids are made by the bridge (UUIDs) and a path is only ever built from one: a row saying `../victim`,
    an absolute path, or a UUID whose output folder is a symbolic link elsewhere, deletes and shows nothing."""
    import sqlite3
    import uuid
    from contextlib import closing

    from fixtures import bridge_helpers as b

    from cc_executor.bridge.executions import ExecutionManager
    from cc_executor.bridge.history import KEEP_EXECUTIONS, History

    data, victim = tmp_path / "data", tmp_path / "victim"
    data.mkdir(mode=0o700)
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    (victim / "stderr.txt").write_text("secret")
    History(data / "executions.sqlite3").close()
    linked = str(uuid.uuid4())
    (data / "outputs").mkdir(mode=0o700)
    (data / "outputs" / linked).symlink_to(victim)
    planted = ["../victim", str(victim), "outputs/../../victim", linked]
    rows = [(execution_id, "2000-01-01T00:00:00+00:00", "planted", "local", "completed") for execution_id in planted]
    rows += [
        (str(uuid.uuid4()), f"2026-12-01T00:00:{n % 60:02d}+00:00", "newer", "local", "completed")
        for n in range(KEEP_EXECUTIONS)
    ]
    with closing(sqlite3.connect(data / "executions.sqlite3")) as db:
        db.executemany(
            "INSERT INTO executions (execution_id, created_at, task, backend, state) VALUES (?, ?, ?, ?, ?)", rows
        )
        db.commit()
    async with b.in_memory_bridge(b.settings(data)) as (client, manager):
        manager.recover_abandoned()  # prunes the planted rows (the oldest)
        assert manager.history.get("../victim") is None, "the planted rows were pruned"
        for execution_id in planted:
            manager.history.add(execution_id, "2000-01-01T00:00:00+00:00", "planted", "local", "completed")
            page = await client.call_tool("get_execution_output", {"execution_id": execution_id, "stream": "stderr"})
            assert page.structured_content is None or page.structured_content["data"] == "", execution_id
        manager.disk.cap = 1  # the disk budget deletes the oldest ended outputs first: the planted ones
        manager.disk.take(10)
    assert (victim / "precious.txt").read_text() == "keep me"
    assert isinstance(manager, ExecutionManager)
