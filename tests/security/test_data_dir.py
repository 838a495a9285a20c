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

from cc_executor.paths import DataDirError, create_private_file, data_dir, open_private_for_append
from cc_executor.token import TokenFileError, load_or_create_token, read_token_file

pytestmark = pytest.mark.timeout(120)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_EXECUTOR_")}
    env["CC_EXECUTOR_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "cc_executor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


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
