"""Start a real handler process on a free loopback port, for tests, contract replays and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LiveHandler:
    url: str  # ws://127.0.0.1:PORT/ws/mcp
    http_url: str  # http://127.0.0.1:PORT
    port: int
    token: str | None
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def live_handler(
    *extra_args: str,
    token: str | None = "test-token",
    env: dict[str, str] | None = None,
    startup_s: float = 15.0,
    port: int | None = None,
    host: str = "127.0.0.1",
) -> Iterator[LiveHandler]:
    """A `cc-executor handler` subprocess on `host` (a loopback address); stopped (SIGTERM, then SIGKILL) on exit,
    whatever happens."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="ccx-handler-") as data_dir:
        child_env = {**os.environ, "CC_EXECUTOR_DATA_DIR": data_dir, **(env or {})}
        child_env.pop("CC_EXECUTOR_TOKEN", None)
        if token:  # in the environment: on the command line every user could read it
            child_env["CC_EXECUTOR_TOKEN"] = token
        auth = [] if token else ["--no-auth"]
        # no drain by default: stopping a test's handler ends what it runs at once (extra_args may set one)
        command = [
            *(
                sys.executable,
                "-m",
                "cc_executor",
                "handler",
                "--host",
                host,
                "--port",
                str(port),
                "--drain-grace",
                "0",
            ),
            *auth,
            *extra_args,
        ]
        log_path = Path(data_dir) / "handler.log"
        with open(log_path, "wb") as log_file:  # a file, not a pipe: a chatty handler must never block on it
            process = subprocess.Popen(command, env=child_env, stdin=subprocess.DEVNULL, stderr=log_file)
        http_url = f"http://{host}:{port}"
        try:
            wait_healthy(http_url, process, startup_s, log_path)
            yield LiveHandler(f"ws://{host}:{port}/ws/mcp", http_url, port, token, process, Path(data_dir), log_path)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> int:
    """SIGTERM, wait, SIGKILL: the handler ends its sessions' process groups on SIGTERM."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def wait_healthy(http_url: str, process: subprocess.Popen[bytes], startup_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = log_path.read_text(errors="replace")
            raise RuntimeError(f"handler exited with {process.returncode} during startup:\n{stderr}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{http_url}/health", timeout=1) as response:
                if json.load(response).get("status") == "healthy":
                    return
        time.sleep(0.05)
    raise RuntimeError(f"handler did not become healthy within {startup_s} s")
