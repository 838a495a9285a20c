"""Tokens that do not leak and cannot be guessed, and TLS for a handler other machines reach.

A token typed on the command line shows in `ps` to every user: it still works, with a
warning, and --token-file / CC_EXECUTOR_TOKEN are the quiet ways. On an address other
than loopback a token needs 32 characters, and serving without TLS is warned about;
--tls-cert/--tls-key serve wss://, which clients check against --ca-file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fixtures.commands import cc_executor

from cc_executor.contract_tests.live_handler import free_port, stop, wait_healthy

pytestmark = pytest.mark.timeout(120)
WARNING = "can be read by every user of this machine"


cli = cc_executor


class Handler:
    """`cc-executor handler ARGS` in the background, with its log."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = data_dir / f"handler-{self.port}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CC_EXECUTOR_")}
        clean.update(CC_EXECUTOR_DATA_DIR=str(data_dir), **(env or {}))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cc_executor", "handler", "--port", str(self.port), *args],
                env=clean,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )

    def __enter__(self) -> Handler:
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.process)

    def wait(self, scheme: str = "http", ca_file: Path | None = None) -> None:
        if scheme == "http":
            wait_healthy(f"http://127.0.0.1:{self.port}", self.process, 15, self.log_path)
            return
        import ssl
        import time

        verify = ssl.create_default_context(cafile=str(ca_file))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                httpx.get(f"https://localhost:{self.port}/health", verify=verify, timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(self.log_path.read_text())

    @property
    def log(self) -> str:
        return self.log_path.read_text()


def test_a_token_on_the_command_line_works_but_warns_and_the_quiet_ways_do_not(tmp_path):
    with Handler(tmp_path, "--token", "typed-token") as handler:
        handler.wait()
        url = f"ws://127.0.0.1:{handler.port}/ws/mcp"
        assert WARNING in handler.log
        typed = cli(tmp_path, "status", url, "--once", "--token", "typed-token")
        assert typed.returncode == 0 and WARNING in typed.stderr
        quiet = cli(tmp_path, "status", url, "--once", env={"CC_EXECUTOR_TOKEN": "typed-token"})
        assert quiet.returncode == 0 and WARNING not in quiet.stderr
        token_file = tmp_path / "client.token"
        token_file.write_text("typed-token\n")
        token_file.chmod(0o600)
        from_file = cli(tmp_path, "status", url, "--once", "--token-file", str(token_file))
        assert from_file.returncode == 0 and WARNING not in from_file.stderr, from_file.stderr
        token_file.chmod(0o644)
        loose = cli(tmp_path, "status", url, "--once", "--token-file", str(token_file))
        assert loose.returncode == 2 and "chmod 600" in loose.stderr


def test_the_handler_reads_its_token_from_a_token_file_and_makes_it_private(tmp_path):
    token_file = tmp_path / "secrets" / "handler.token"
    token_file.parent.mkdir(mode=0o700)
    with Handler(tmp_path, "--token-file", str(token_file)) as handler:
        handler.wait()
        assert WARNING not in handler.log
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        url = f"ws://127.0.0.1:{handler.port}/ws/mcp"
        assert cli(tmp_path, "status", url, "--once", "--token-file", str(token_file)).returncode == 0
        assert cli(tmp_path, "status", url, "--once", "--token", "wrong").returncode == 2
    link = tmp_path / "link.token"
    link.symlink_to("/proc/self/personality")
    refused = cli(tmp_path, "handler", "--port", "0", "--token-file", str(link))
    assert refused.returncode == 2 and "symbolic link" in refused.stderr


def test_off_loopback_a_short_token_is_refused_and_plain_text_is_warned_about(tmp_path):
    refused = cli(tmp_path, "handler", "--host", "0.0.0.0", "--port", "0", env={"CC_EXECUTOR_TOKEN": "a"})
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert "\n" not in line and "at least 32" in line and "Traceback" not in line
    with Handler(tmp_path, "--host", "0.0.0.0") as handler:  # the generated token (43 characters) is fine
        handler.wait()
        assert "serving without TLS on a network address" in handler.log


def make_certificate(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make a test certificate")
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_serves_wss_that_clients_check_against_a_ca_file(tmp_path):
    cert, key = make_certificate(tmp_path)
    token_file = tmp_path / "handler.token"
    with Handler(tmp_path, "--host", "0.0.0.0", "--tls-cert", str(cert), "--tls-key", str(key)) as handler:
        handler.wait("https", ca_file=cert)
        assert f"wss://0.0.0.0:{handler.port}/ws/mcp" in handler.log
        assert "serving without TLS" not in handler.log
        url = f"wss://localhost:{handler.port}/ws/mcp"
        checked = cli(tmp_path, "status", url, "--once", "--ca-file", str(cert), "--token-file", str(token_file))
        assert checked.returncode == 0, checked.stderr
        unchecked = cli(tmp_path, "status", url, "--once", "--token-file", str(token_file))
        assert unchecked.returncode == 2 and "certificate verify failed" in unchecked.stderr
        assert "\n" not in unchecked.stderr.strip()
        plain = cli(tmp_path, "status", f"ws://localhost:{handler.port}/ws/mcp", "--once")
        assert plain.returncode == 2
        ran = cli(
            tmp_path, "run", "--command", "echo over tls", "--json", "--backend", "handler", "--handler-url", url,
            env={"CC_EXECUTOR_CA_FILE": str(cert)},
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["backend"] == url


def test_tls_needs_both_the_certificate_and_its_key(tmp_path):
    cert, _ = make_certificate(tmp_path)
    refused = cli(tmp_path, "handler", "--port", "0", "--tls-cert", str(cert))
    assert refused.returncode == 2 and "--tls-cert and --tls-key go together" in refused.stderr
    wrong = cli(tmp_path, "handler", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(cert))
    assert wrong.returncode == 2 and "cannot load the TLS certificate" in wrong.stderr
    assert "Traceback" not in refused.stderr + wrong.stderr


def test_doctor_checks_the_bridges_http_token_file_too(tmp_path):
    token = tmp_path / "bridge-http.token"
    token.write_text("t" * 43 + "\n")
    token.chmod(0o644)
    loose = cli(tmp_path, "doctor", env={"PATH": "/usr/bin:/bin"})
    assert loose.returncode == 1 and "✗ bridge HTTP token file" in loose.stdout and "chmod 600" in loose.stdout
    token.chmod(0o600)
    fine = cli(tmp_path, "doctor", env={"PATH": "/usr/bin:/bin"})
    assert "✓ bridge HTTP token file" in fine.stdout, fine.stdout
