"""The handler's Unix socket: the local way in, which no other user can reach and no squatter can stand in for.

A process listening on 127.0.0.1:8003 (while no handler runs there, or beside one that
runs elsewhere) must get nothing from a bridge or CLI on the same machine run with their
defaults: no connection, so no token and no task.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fixtures import other_user
from fixtures.commands import cc_executor

from cc_executor.contract_tests.live_handler import live_handler, stop, wait_healthy

pytestmark = pytest.mark.timeout(120)
SQUATTED_PORT = 8003


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cc_executor(data_dir, *args, env={"PATH": "/usr/bin:/bin"})  # no claude: doctor stays quick


@contextmanager
def squatter(port: int = SQUATTED_PORT) -> Iterator[list[bytes]]:
    """A process listening where the handler usually does; yields what every connection to it sent."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as exc:
        listener.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"port {port} is busy, so no squatter can sit on it: {exc}")
        pytest.skip(f"port {port} is busy here ({exc}); the squatter needs it")
    listener.listen()
    listener.settimeout(0.2)
    received: list[bytes] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    received.append(connection.recv(65536))
                except OSError:
                    received.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


def keep_token(data_dir: Path, token: str) -> None:
    """The token file a handler makes on first start (live_handler passes its token in the environment)."""
    (data_dir / "handler.token").write_text(f"{token}\n")
    (data_dir / "handler.token").chmod(0o600)


def test_the_handler_listens_on_a_private_socket_that_local_clients_use_by_default():
    with live_handler() as handler:
        socket_path = handler.data_dir / "handler.sock"
        mode = socket_path.stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert f"ws+unix://{socket_path}" in handler.log_path.read_text()
        keep_token(handler.data_dir, handler.token)

        shown = cli(handler.data_dir, "status", "--once")
        assert shown.returncode == 0, shown.stderr
        assert f"ws+unix://{socket_path}" in shown.stdout.replace("\n", "")

        ran = cli(handler.data_dir, "run", "--command", "echo through the socket", "--json")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["backend"] == f"ws+unix://{socket_path}"


def test_a_squatter_on_the_handler_port_gets_nothing_from_default_clients(tmp_path):
    token = tmp_path / "handler.token"
    token.write_text("the-users-token\n")
    token.chmod(0o600)
    with squatter() as received:
        # no handler at all: the task runs here, nothing goes to the port
        ran = cli(tmp_path, "run", "--command", "echo local", "--json")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["backend"] == "local"
        assert cli(tmp_path, "status", "--once").returncode == 2
        cli(tmp_path, "doctor")
        with live_handler() as handler:  # a handler that runs, on another port, with its socket in its data dir
            keep_token(handler.data_dir, handler.token)
            ran = cli(handler.data_dir, "run", "--command", "echo handler", "--json")
            assert json.loads(ran.stdout)["backend"].startswith("ws+unix://"), ran.stdout
            assert cli(handler.data_dir, "status", "--once").returncode == 0
            doctor = cli(handler.data_dir, "doctor")
            assert "✓ handler: ws+unix://" in doctor.stdout, doctor.stdout
    assert received == [], "the squatter got a connection (and with it the token or a task)"


def test_no_handler_at_the_default_socket_is_one_clear_line(tmp_path):
    shown = cli(tmp_path, "status", "--once")
    assert shown.returncode == 2
    line = shown.stderr.strip()
    assert "\n" not in line and "no handler listens on" in line and str(tmp_path / "handler.sock") in line


def test_another_user_cannot_reach_the_socket():
    other_user.require_other_user()
    with live_handler() as handler:
        socket_path = handler.data_dir / "handler.sock"
        attempt = other_user.run_as_other_user(
            [
                other_user.SYSTEM_PYTHON,
                "-c",
                "import socket, sys\n"
                "s = socket.socket(socket.AF_UNIX)\n"
                "try:\n    s.connect(sys.argv[1]); print('CONNECTED')\n"
                "except OSError as exc:\n    print(type(exc).__name__)\n",
                str(socket_path),
            ]
        )
    assert attempt.stdout.strip() == "PermissionError", (attempt.stdout, attempt.stderr)


def test_a_second_handler_on_the_data_dir_leaves_the_socket_to_the_first_and_a_dead_ones_is_replaced(tmp_path):
    from cc_executor.contract_tests.live_handler import free_port

    with live_handler() as first:
        env = {**os.environ, "CC_EXECUTOR_DATA_DIR": str(first.data_dir), "CC_EXECUTOR_TOKEN": "second-token"}
        port = free_port()
        log_path = tmp_path / "second.log"
        with open(log_path, "wb") as log:
            second = subprocess.Popen(
                [sys.executable, "-m", "cc_executor", "handler", "--port", str(port)], env=env, stderr=log
            )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", second, 15, log_path)
            assert "another handler on this data dir serves it" in log_path.read_text()
        finally:
            stop(second)
        assert (first.data_dir / "handler.sock").exists(), "the second handler left the first one's socket alone"
        first.process.kill()  # SIGKILL: its socket file stays behind
        first.process.wait()
        with open(log_path, "wb") as log:
            third = subprocess.Popen(
                [sys.executable, "-m", "cc_executor", "handler", "--port", str(port)], env=env, stderr=log
            )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", third, 15, log_path)
            assert f"ws+unix://{first.data_dir / 'handler.sock'}" in log_path.read_text()
            keep_token(first.data_dir, "second-token")
            shown = cli(first.data_dir, "status", "--once")
        finally:
            stop(third)
    assert shown.returncode == 0, shown.stderr
