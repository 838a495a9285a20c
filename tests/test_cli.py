"""The `cc-executor` command as a newcomer meets it: one line per error, text printed as text, helpful help.

Every command runs as a real process (`python -m cc_executor`), the way a user runs it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures import bridge_helpers as b
from fixtures.commands import cc_executor
from rich.console import Console
from rich.text import Text

from cc_executor.contract_tests.live_handler import LiveHandler
from cc_executor.doctor import Check, print_checks
from cc_executor.terminal_text import literal, visible

pytestmark = pytest.mark.timeout(120)
ESC = "\x1b"


def cli(*args: str, data_dir: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return cc_executor(data_dir, *args, env={"COLUMNS": "200", **env}, timeout=timeout)


def one_line_error(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The run failed with exit status 2 and exactly one line on stderr naming the problem."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for words in expected:
        assert words in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        yield squatter.getsockname()[1]


# -- one line, not a traceback ------------------------------------------------------------------------


def test_a_busy_port_for_the_mcp_http_transport(tmp_path: Path, busy_port: int) -> None:
    done = cli("mcp", "--transport", "http", "--port", str(busy_port), "--backend", "local", data_dir=tmp_path)
    one_line_error(done, f"cannot listen on 127.0.0.1:{busy_port}", "in use")


def test_a_busy_port_for_the_handler(tmp_path: Path, busy_port: int) -> None:
    done = cli("handler", "--port", str(busy_port), "--no-auth", data_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("cc-executor: error: cannot listen on")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("handler", "--port", "99999"), ("--port", "65535")),
        (("mcp", "--port", "-1"), ("--port",)),
        (("run", "--max-turns", "0", "x"), ("--max-turns", "greater than or equal to 1")),
        (
            ("run", "--permission-mode", "bogus", "x"),
            ("--permission-mode", "'bogus'", "acceptEdits", "bypassPermissions"),
        ),
        (("run", "--backend", "nope", "x"), ("--backend", "auto", "handler", "local")),
        (("mcp", "--transport", "carrier-pigeon"), ("--transport", "stdio", "http")),
        (("run", "--log-format", "xml", "--command", "true"), ("--log-format", "text", "json")),
        (("run",), ("TASK, --command or --task-list",)),
        (("frobnicate",), ("No such command",)),
        (("mcp", "--transport", "http", "--host", "0.0.0.0"), ("loopback only",)),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(
    tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    one_line_error(cli(*args, data_dir=tmp_path), *words)


def test_a_data_dir_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for args in (("run", "--command", "true"), ("mcp",), ("status", "--once"), ("handler",)):
        one_line_error(cli(*args, data_dir=blocker / "data"), "data dir", "CC_EXECUTOR_DATA_DIR")


def test_an_unreachable_or_malformed_handler_for_status_and_verify(tmp_path: Path) -> None:
    closed = f"ws://127.0.0.1:{b.free_port()}/ws/mcp"
    one_line_error(cli("status", closed, "--once", data_dir=tmp_path), "cannot reach", closed)
    one_line_error(cli("verify", closed, data_dir=tmp_path), "cannot reach", closed)
    one_line_error(cli("status", "not a url", "--once", data_dir=tmp_path), "not a url")


def test_a_handler_that_refuses_the_token(tmp_path: Path, handler: LiveHandler) -> None:
    done = cli("status", handler.url, "--once", data_dir=tmp_path, CC_EXECUTOR_TOKEN="wrong")
    one_line_error(done, "HTTP 401")


def test_a_missing_claude_is_said_in_the_result(tmp_path: Path) -> None:
    done = cli("run", "a task", "--backend", "local", "--claude-bin", str(tmp_path / "no-claude"), data_dir=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "claude executable" in done.stdout and "was not found" in done.stdout
    assert "npm install -g @anthropic-ai/claude-code" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_bug_is_one_line_too_unless_asked_for(tmp_path: Path) -> None:
    """An exception nobody foresaw (here: a data dir that is a broken symlink's target) is still one line."""
    env = {"CC_EXECUTOR_DATA_DIR": str(tmp_path)}
    code = "import sys; from cc_executor import cli; cli.app.registered_commands.clear(); "
    code += "cli.app.command('boom')(lambda: 1 / 0); sys.argv = ['cc-executor', 'boom']; cli.main()"
    ran = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    assert ran.returncode == 70 and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.strip() == (
        "cc-executor: internal error: ZeroDivisionError: division by zero (set CC_EXECUTOR_DEBUG=1 to see the traceback)"
    )
    debug = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "CC_EXECUTOR_DEBUG": "1"},
        capture_output=True,
        text=True,
    )
    assert "Traceback" in debug.stderr


# -- text is text -------------------------------------------------------------------------------------


def test_visible_shows_control_characters_and_keeps_newlines() -> None:
    assert visible(f"a{ESC}[31mred\tx\ny\x07\x9b\u202eevil") == "a\\x1b[31mred\tx\ny\\x07\\x9b\\u202eevil"
    rendered = Console(width=200, record=True, file=open(os.devnull, "w"))
    rendered.print(literal("fix the [/] bug [red]not red[/red] :smile:"))
    assert rendered.export_text().strip() == "fix the [/] bug [red]not red[/red] :smile:"


def test_run_prints_a_command_and_its_output_literally(tmp_path: Path) -> None:
    command = f"echo '[/] [bold]x[/bold]'; printf 'a{ESC}]0;pwned{ESC}\\\\b\\n'"
    done = cli("run", "--command", command, "--backend", "local", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[/] [bold]x[/bold]\na\\x1b]0;pwned\\x1b\\b\n"  # OSC title sequence, shown
    assert ESC not in done.stdout + done.stderr
    assert "completed" in done.stderr and "Traceback" not in done.stderr


def test_run_prints_a_claude_task_with_brackets(tmp_path: Path) -> None:
    done = cli(
        "run",
        f"fix the [/] bug {ESC}[2J",
        "--backend",
        "local",
        "--claude-bin",
        str(b.FAKE_CLAUDE_BIN),
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "fix the [/] bug \\x1b[2J" in done.stdout
    assert ESC not in done.stdout + done.stderr


def test_status_shows_a_command_with_markup_and_escapes_as_text(tmp_path: Path, handler: LiveHandler) -> None:
    marker = b.marker()
    command = f"sleep 30 # [/] [red]{marker}[/red] {ESC}[2J"
    code = (
        "import asyncio, sys\n"
        "from cc_executor.client import HandlerClient\n"
        "async def main():\n"
        f"    async with await HandlerClient.connect({handler.url!r}, {handler.token!r}) as client:\n"
        f"        await client.execute({command!r})\n"
        "        print('started', flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None and runner.stdout.readline().strip() == "started"
        done = cli("status", handler.url, "--once", data_dir=tmp_path, CC_EXECUTOR_TOKEN=str(handler.token))
        assert done.returncode == 0, done.stderr
        assert f"[red]{marker}[/red]" in done.stdout and "[/]" in done.stdout
        assert "\\x1b[2J" in done.stdout and ESC not in done.stdout
    finally:
        runner.kill()
        runner.wait()
    deadline = time.monotonic() + 15  # the handler ends the group of a client that went away
    while b.processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not b.processes(marker)


def test_doctor_prints_details_and_fixes_literally() -> None:
    console = Console(width=60, record=True, file=open(os.devnull, "w"))
    code = print_checks(
        [
            Check("ok", "claude CLI", "2.1.330 at /opt/[bin]/claude"),
            Check("fail", "handler", f"cannot reach ws://x {ESC}[31m", "start it: `cc-executor handler --port 8003`"),
        ],
        console,
    )
    text = console.export_text()
    assert code == 1
    assert "/opt/[bin]/claude" in text and "\\x1b[31m" in text and ESC not in text
    assert "    fix: start it: `cc-executor handler --port 8003`" in text  # one line however narrow the terminal
    assert isinstance(literal("x"), Text)


# -- help and where things are ------------------------------------------------------------------------


def test_every_command_help_shows_defaults_and_choices(tmp_path: Path) -> None:
    commands = ("handler", "mcp", "run", "status", "doctor", "verify")
    for command in commands:
        done = cli(command, "--help", data_dir=tmp_path)
        assert done.returncode == 0 and "Usage" in done.stdout, done.stderr
        assert "<list[str]>" not in done.stdout, command
    mcp_help = cli("mcp", "--help", data_dir=tmp_path).stdout
    for choices in ("stdio|http", "auto|handler|local", "text|json", "[default: 8004]"):
        assert choices in mcp_help, choices
    run_help = cli("run", "--help", data_dir=tmp_path).stdout
    assert re.search(r"acceptEdits\|.*bypassPermissions", run_help), run_help


def test_mcp_over_http_says_where_it_listens(tmp_path: Path) -> None:
    with b.http_bridge(tmp_path) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
    log = (tmp_path / "bridge-stderr.log").read_text()
    assert f"cc-executor MCP server (streamable HTTP) at {base_url}/mcp" in log, log
