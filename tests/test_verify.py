"""`cc-executor verify`: the contract scenarios as a gate anyone can run against a handler."""

from __future__ import annotations

import os
import subprocess
import sys
from xml.etree import ElementTree

from cc_executor.contract_tests.live_handler import live_handler


def run_verify(url: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cc_executor", "verify", url, "--token", token, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_our_handler_passes_every_scenario(tmp_path):
    report = tmp_path / "junit.xml"
    with live_handler() as handler:
        result = run_verify(handler.url, handler.token, "--junit", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed; differences: 0 known, 0 unexpected" in result.stdout
    suite = ElementTree.parse(report).getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 30
    protocols = {case.get("classname") for case in suite.iter("testcase")}
    assert protocols == {"contract.protocol-1.0", "contract.protocol-2.0"}, "both modes are checked"


def test_a_handler_that_behaves_differently_fails_with_reasons(tmp_path):
    report = tmp_path / "junit.xml"
    # A one-second default timeout ends the long scenarios early: their frames differ from the recordings.
    with live_handler("--default-timeout", "1") as handler:
        result = run_verify(
            handler.url,
            handler.token,
            "--scenario",
            "pause_resume_cancel",
            "--scenario",
            "echo",
            "--junit",
            str(report),
        )
    assert result.returncode == 1, result.stdout
    suite = ElementTree.parse(report).getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["echo"].find("failure") is None
    failure = cases["pause_resume_cancel"].find("failure")
    assert failure is not None and failure.text
    assert "pause_resume_cancel" in result.stdout and "FAIL" in result.stdout


def test_unknown_scenarios_and_refusals_are_clear_errors():
    with live_handler() as handler:
        only_v2 = run_verify(handler.url, handler.token, "--protocol", "2.0", "--scenario", "v2_echo")
        assert only_v2.returncode == 0 and "v2_echo" in only_v2.stdout and "2.0" in only_v2.stdout
        wrong = run_verify(handler.url, handler.token, "--protocol", "3.0")
        assert wrong.returncode == 2 and "'3.0' is not one of 1.0, 2.0" in wrong.stderr
        unknown = run_verify(handler.url, handler.token, "--scenario", "nope")
        assert unknown.returncode == 2 and "no such scenario: nope" in unknown.stderr
        refused = run_verify(handler.url, "wrong", "--scenario", "echo")
        assert refused.returncode == 2 and "HTTP 401" in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
