"""`cc-executor verify` against a stand-in for the OLD handler: its differences are known, labelled by README row.

The stand-in (tests/fixtures/old_handler_standin.py) answers from the old handler's real
transcripts in tests/reference/original-handler/. Every difference verify finds there
must be one spec/README.md documents; a stand-in that renames a field must fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fixtures import old_handler_standin

from cc_executor.contract_tests.known_differences import readme_rows
from cc_executor.contract_tests.live_handler import free_port, stop, wait_healthy
from cc_executor.contract_tests.replay import replay_against
from cc_executor.contract_tests.transcripts import read_transcript

STANDIN = Path(old_handler_standin.__file__)


@pytest.fixture(autouse=True)
def reference_transcripts() -> None:
    if (
        not old_handler_standin.REFERENCE_DIR.is_dir()
    ):  # the transcripts are part of the repository: their absence is a failure
        pytest.fail(f"no old-handler transcripts in {old_handler_standin.REFERENCE_DIR}")


#: The scenarios whose requests the old transcripts answer (or the old handler's rules for them do), and
#: ones showing the error-code, `truncated` and control-while-idle corrections.
COVERED = (
    "connect",
    "echo",
    "stdout_stderr_exit3",
    "pause_resume_cancel",
    "execute_while_running",
    "error_unknown_method",
    "status_and_hook_status",
    "error_control_idle",
    "error_parse",
    "long_line",
    "timeout",
    "lines",
    "pong",
    "execute_after_cancel",
    "v2_echo",
)


@contextlib.contextmanager
def standin(*args: str) -> Iterator[str]:
    """The stand-in as a separate program, on a free loopback port; stopped on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ccx-standin-") as directory:
        log_path = Path(directory) / "standin.log"
        command = [sys.executable, str(STANDIN), "--port", str(port), *args]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, 15.0, log_path)
            yield f"ws://127.0.0.1:{port}/ws/mcp"
        finally:
            stop(process)


@pytest.fixture(scope="module")
def old_handler() -> Iterator[str]:
    with standin() as url:
        yield url


def run_verify(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cc_executor", "verify", url, "--token", "unused", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "400"},  # one difference per line: nothing wraps
    )


def scenario_args(names: tuple[str, ...]) -> list[str]:
    return [arg for name in names for arg in ("--scenario", name)]


def junit_lines(path: Path) -> dict[str, list[str]]:
    """Per scenario, the differences the JUnit report lists (failure text, or system-out when allowed)."""
    cases = ElementTree.parse(path).getroot().iter("testcase")
    lines: dict[str, list[str]] = {}
    for case in cases:
        node = case.find("failure") if case.find("failure") is not None else case.find("system-out")
        lines[str(case.get("name"))] = (node.text or "").splitlines() if node is not None else []
    return lines


def test_the_standin_answers_every_old_transcript_as_recorded(old_handler: str) -> None:
    """Replayed against the stand-in, each old transcript comes back exactly (after normalising ids and pids)."""
    for path in sorted(old_handler_standin.REFERENCE_DIR.glob("*.jsonl")):
        _, problems = asyncio.run(replay_against(path.stem, read_transcript(path), old_handler, limit_s=30))
        assert not problems, f"{path.stem}: {problems}"


def test_old_handler_differences_are_known_and_allowed(old_handler: str, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = run_verify(old_handler, *scenario_args(COVERED), "--allow-known", "--junit", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unexpected —" not in result.stdout
    assert f"{len(COVERED)} passed ({len(COVERED)} with known differences only), 0 failed" in result.stdout
    assert result.stdout.rstrip().endswith(" unexpected") and ", 0 unexpected" in result.stdout

    lines = junit_lines(report)
    assert set(lines) == set(COVERED)
    rows = readme_rows()
    for scenario, differences in lines.items():
        assert differences, f"{scenario}: the old handler differs in every scenario (at least its version)"
        for line in differences:
            assert line.startswith("known: "), f"{scenario}: {line}"
            label = line.removeprefix("known: ").split(" — ", 1)[0]
            assert set(label.split("; ")) <= rows, f"{scenario}: {label!r} is not a row of spec/README.md"

    def labelled(scenario: str, row: str, text: str) -> bool:
        return any(line.startswith(f"known: {row} — ") and text in line for line in lines[scenario])

    assert labelled("connect", "version in `connected`", 'expected "2.0.0", got "1.0.0"')
    assert labelled("echo", "additions of protocol 2.0", "execution_id missing")
    assert labelled("stdout_stderr_exit3", "pgid", "pgid expected")
    assert labelled("pause_resume_cancel", "CANCEL", "process.completed: not sent")
    assert labelled("pause_resume_cancel", "PAUSE of a paused process, RESUME of a running one", "process.paused")
    assert labelled("pause_resume_cancel", "additions of protocol 2.0", 'answered with an error {"code": -32601')
    assert labelled("execute_while_running", "execute while a process runs", "error.data expected")
    assert labelled("error_unknown_method", "`error.data`", "got null")
    assert labelled("status_and_hook_status", "wording of `message` texts", "Hook integration not initialized")
    assert labelled("error_control_idle", "control with nothing running", "expected -32602, got -32002")
    assert labelled("error_parse", "frame that is not JSON", "expected -32700, got -32603")
    assert labelled("long_line", "a line over the frame limit", "truncated expected false, got true")
    assert labelled("timeout", "timeout", 'status expected "timed_out", got "completed"')
    assert labelled("execute_after_cancel", "CANCEL", "process.completed: not sent")
    assert labelled("v2_echo", "additions of protocol 2.0", "subprotocol: the handler agreed to none")
    # the table shows the same labels
    assert "known: CANCEL — process.completed: not sent" in result.stdout


def test_known_differences_still_fail_without_allow_known(old_handler: str) -> None:
    result = run_verify(old_handler, *scenario_args(("connect", "echo")))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 passed, 2 failed (2 with known differences only)" in result.stdout
    assert "FAIL (known)" in result.stdout and "known: version in `connected`" in result.stdout


def test_a_renamed_field_is_unexpected_even_with_allow_known(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    with standin("--rename", "exit_code=exitCode") as url:
        result = run_verify(url, "--scenario", "echo", "--allow-known", "--junit", str(report))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unexpected — process.completed: exit_code missing (expected 0)" in result.stdout
    assert "0 passed, 1 failed; differences: 6 known, 2 unexpected" in result.stdout
    failure = ElementTree.parse(report).getroot().find("testcase/failure")
    assert failure is not None and failure.text and failure.text.startswith("unexpected — ")
    assert "known: additions of protocol 2.0" in failure.text  # the known ones are still told apart


def test_the_rules_do_not_excuse_real_changes() -> None:
    """Offline, on the echo recording: only what a README row covers is known; the rest stays unexpected."""
    from cc_executor.contract_tests.comparison import compare_frames
    from cc_executor.contract_tests.frames import received
    from cc_executor.contract_tests.known_differences import label_problems
    from cc_executor.contract_tests.transcripts import RECORDINGS_DIR

    recorded = read_transcript(RECORDINGS_DIR / "echo.jsonl")

    def judged(change) -> list[str]:
        live = [{**event, "frame": change(event["frame"])} if event["dir"] == "recv" else event for event in recorded]
        return [str(d) for d in label_problems(recorded, live, compare_frames(received(recorded), received(live)))]

    def params(update, method: str = "process.completed"):
        return lambda f: {**f, "params": {**f["params"], **update}} if f.get("method") == method else f

    assert judged(lambda f: f) == []
    assert judged(params({"pgid": None})) == ['known: pgid — process.completed: pgid expected "<pid1>", got null']
    assert judged(params({"pgid": 1})) == ['unexpected — process.completed: pgid expected "<pid1>", got "<pid2>"']
    assert judged(params({"data": "hullo\n"}, "process.output"))[0].startswith("unexpected — process.output")
    assert judged(params({"exit_code": "0"}))[0] == 'unexpected — process.completed: exit_code expected 0, got "0"'

    def without_execution_id(frame):
        if "params" not in frame:
            return frame
        return {**frame, "params": {k: v for k, v in frame["params"].items() if k != "execution_id"}}

    assert judged(without_execution_id) == [
        "known: additions of protocol 2.0 — process.started, process.output(stdout), process.completed:"
        ' execution_id missing (expected "<id2>")'
    ]
