"""Helpers for the end-to-end tests with the real ``claude`` CLI, run offline.

Imported as ``from e2e_claude import support`` (tests/conftest.py puts tests/ on sys.path).

Every test gets its own HOME (the CLI writes ~/.claude.json and ~/.claude/ there), its
own CC_EXECUTOR_DATA_DIR, and an environment without the caller's ANTHROPIC_* / CLAUDE*
variables, so a developer's login or a surrounding Claude Code session cannot leak in.
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`` keeps the CLI from even resolving
api.anthropic.com (telemetry, update checks): its only traffic goes to the fake API on
loopback.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from fixtures.claude_helpers import kill_group

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path) -> ModuleType:
    """Import a file by path, once."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


tools = load("cc_executor_tests_install_test_tools", REPO / "scripts" / "install_test_tools.py")
fake_api = load("cc_executor_tests_fake_anthropic_api", REPO / "tests" / "fixtures" / "fake_anthropic_api.py")
claude_helpers = load("cc_executor_tests_claude_helpers", REPO / "tests" / "fixtures" / "claude_helpers.py")

INSTALL_HINT = "run `.venv/bin/python scripts/install_test_tools.py` (CI runs it before pytest)"
#: Variables of the caller's environment that would change what the CLI or the bridge does.
SCRUBBED_PREFIXES = ("ANTHROPIC_", "CLAUDE", "CC_EXECUTOR_", "FAKE_CLAUDE_")


def tool_path(tool) -> Path:
    """The tool's executable; the test FAILS (never skips) when it is not installed as pinned."""
    problem = tool.problem()
    if problem is not None:
        pytest.fail(f"{tool.package}@{tool.version} is not usable: {problem}; {INSTALL_HINT}", pytrace=False)
    return tool.bin


@dataclass(frozen=True)
class Sandbox:
    """A test's private places: HOME for the CLI, a data dir for cc-executor, a project dir."""

    home: Path
    data_dir: Path
    project: Path

    def env(self, api_url: str | None = None, api_key: str | None = "test-key", **extra: str) -> dict[str, str]:
        """The variables given to the CLI (or to the handler or bridge that runs it) on top of os.environ."""
        env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "CC_EXECUTOR_DATA_DIR": str(self.data_dir),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        if api_url:  # a key without a base URL would send the CLI looking for api.anthropic.com (20 s of DNS retries)
            env["ANTHROPIC_BASE_URL"] = api_url
            if api_key:
                env["ANTHROPIC_API_KEY"] = api_key
        return {**env, **extra}

    def full_env(self, api_url: str | None = None, api_key: str | None = "test-key", **extra: str) -> dict[str, str]:
        return {**os.environ, **self.env(api_url, api_key, **extra)}


def make_sandbox(root: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Fresh HOME, data dir and project dir under `root`; os.environ scrubbed of the caller's Claude and
    cc-executor settings for the test (live_handler and the bridge pass os.environ on to what they run)."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES):
            monkeypatch.delenv(name)
    box = Sandbox(root / "home", root / "data", root / "project")
    for path in (box.home, box.data_dir, box.project):
        path.mkdir()
    monkeypatch.setenv("HOME", str(box.home))
    monkeypatch.setenv("CC_EXECUTOR_DATA_DIR", str(box.data_dir))
    return box


# -- processes ------------------------------------------------------------------------


def processes_with(marker: str) -> dict[int, str]:
    """Live (non-zombie) processes whose command line contains `marker`, from /proc."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z" and marker in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


def wait_gone(marker: str, timeout: float = 10.0) -> dict[int, str]:
    """Wait until no process carries `marker`; returns what is still there after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def processes_with_env(entry: str) -> dict[int, str]:
    """Live (non-zombie) processes started with `entry` (NAME=value) in their environment, from /proc."""
    needle = entry.encode() + b"\0"
    found = {}
    for proc in os.scandir("/proc"):
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = Path(proc.path, "environ").read_bytes()
            stat = Path(proc.path, "stat").read_text()
            cmdline = Path(proc.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z" and (environ.startswith(needle) or b"\0" + needle in environ):
            found[int(proc.name)] = cmdline.strip()
    return found


def wait_gone_env(entry: str, timeout: float = 10.0) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while (left := processes_with_env(entry)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Ran:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def explain(self) -> str:
        return (
            f"$ {' '.join(self.command)}\nexit {self.returncode} after {self.seconds:.1f} s\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def run(command: Sequence[str | os.PathLike[str]], *, env: dict[str, str], cwd: Path, timeout: float = 60.0) -> Ran:
    """Run a command in its own process group, and kill the whole group afterwards whatever happened
    (the CLI and the inspector start MCP servers of their own)."""
    argv = [str(part) for part in command]
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        stdout, stderr = process.communicate()
        pytest.fail(f"timed out after {timeout} s:\n" + Ran(argv, -9, stdout, stderr, timeout).explain())
    finally:
        kill_group(process.pid)
    return Ran(argv, process.returncode, stdout, stderr, time.monotonic() - started)
