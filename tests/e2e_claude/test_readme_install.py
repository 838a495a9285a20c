"""README.md's own lines register cc-executor with the real `claude` CLI in a clean HOME, and it connects.

The lines are read from README.md, not copied here, so the README cannot drift from what
works: the `claude mcp add` line runs as written (from the checkout, whose .venv the
README's install made), and its `.mcp.json` example with the placeholder path replaced by
this checkout's. Then `cc-executor doctor` sees the same registration, and the login state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from e2e_claude import support

pytestmark = pytest.mark.timeout(240)
README = support.REPO / "README.md"
PLACEHOLDER = "/path/to/cc-executor"
INSTALLED = support.REPO / ".venv" / "bin" / "cc-executor"


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def readme_line(starting: str) -> str:
    lines = [line for block in readme_blocks("sh") for line in block.splitlines() if line.startswith(starting)]
    assert len(lines) == 1, f"README.md should show one `{starting}` line, found {lines}"
    return lines[0]


@pytest.fixture
def cli_on_path(claude_bin: Path, sandbox: support.Sandbox) -> dict[str, str]:
    """The sandbox's environment with the pinned real CLI as `claude` first on PATH, as after npm install -g."""
    if not INSTALLED.is_file():
        pytest.fail(f"{INSTALLED} is missing: the README's install (python3 -m venv .venv && ...) did not run here")
    bin_dir = sandbox.home / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude_bin)
    env = sandbox.full_env()
    # As on a newcomer's machine: no cc-executor on PATH (an activated venv would hide a README that needs one).
    kept = [entry for entry in env["PATH"].split(":") if entry and not (Path(entry) / "cc-executor").exists()]
    env["PATH"] = ":".join([str(bin_dir), *kept])
    return env


def connected_line(listed: support.Ran, command: str) -> None:
    pattern = rf"^cc-executor: {re.escape(command)} - [✓✔] Connected$"
    assert re.search(pattern, listed.stdout, re.MULTILINE), listed.explain()


def test_the_readme_registration_connects_from_any_project(cli_on_path: dict[str, str], sandbox: support.Sandbox):
    add = readme_line("claude mcp add ")
    added = support.run(["bash", "-c", add], env=cli_on_path, cwd=support.REPO)
    assert added.returncode == 0, added.explain()
    listed = support.run(["claude", "mcp", "list"], env=cli_on_path, cwd=sandbox.project, timeout=90)
    assert listed.returncode == 0, listed.explain()
    connected_line(listed, f"{INSTALLED} mcp")

    doctor = support.run(
        [INSTALLED, "doctor"], env={**cli_on_path, "ANTHROPIC_API_KEY": "sk-test"}, cwd=sandbox.project
    )
    assert "✓ Claude Code: cc-executor:" in doctor.stdout and "Connected" in doctor.stdout, doctor.explain()
    assert "✓ claude login: logged in (ANTHROPIC_API_KEY)" in doctor.stdout, doctor.explain()
    assert "✓ claude CLI: 2.1.330 (Claude Code)" in doctor.stdout, doctor.explain()
    assert doctor.returncode == 0, doctor.explain()


def test_the_readme_mcp_json_connects_once_approved(cli_on_path: dict[str, str], sandbox: support.Sandbox):
    (example,) = [block for block in readme_blocks("json") if '"mcpServers"' in block]
    assert PLACEHOLDER in example
    (sandbox.project / ".mcp.json").write_text(example.replace(PLACEHOLDER, str(support.REPO)))
    # What trusting the folder and approving the server in an interactive `claude` write:
    trusted = {"projects": {str(sandbox.project): {"hasTrustDialogAccepted": True}}}
    (sandbox.home / ".claude.json").write_text(json.dumps(trusted))
    settings = sandbox.project / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"enabledMcpjsonServers": ["cc-executor"]}))
    listed = support.run(["claude", "mcp", "list"], env=cli_on_path, cwd=sandbox.project, timeout=90)
    assert listed.returncode == 0, listed.explain()
    connected_line(listed, f"{INSTALLED} mcp")


def test_doctor_says_what_is_wrong_and_how_to_fix_it(cli_on_path: dict[str, str], sandbox: support.Sandbox):
    doctor = support.run([INSTALLED, "doctor"], env=cli_on_path, cwd=sandbox.project)
    assert doctor.returncode == 1, doctor.explain()
    assert "✗ claude login: claude is not logged in and no API key is set" in doctor.stdout, doctor.explain()
    assert "– Claude Code: cc-executor is not registered" in doctor.stdout, doctor.explain()
    assert f"claude mcp add --scope user cc-executor -- {INSTALLED} mcp" in doctor.stdout, doctor.explain()
    local_socket = f"ws+unix://{sandbox.data_dir}/handler.sock"  # the default: this machine's handler, if one runs
    assert f"– handler: none at {local_socket}" in doctor.stdout, doctor.explain()

    sandbox.data_dir.chmod(0o777)
    loose = support.run([INSTALLED, "doctor"], env={**cli_on_path, "ANTHROPIC_API_KEY": "k"}, cwd=sandbox.project)
    assert loose.returncode == 1 and "✗ data dir:" in loose.stdout and "chmod 700" in loose.stdout, loose.explain()
    sandbox.data_dir.chmod(0o700)

    broken = {**cli_on_path, "PATH": "/usr/bin:/bin"}
    missing = support.run([INSTALLED, "doctor"], env=broken, cwd=sandbox.project)
    assert missing.returncode == 1 and "✗ claude CLI: 'claude' is not on PATH" in missing.stdout, missing.explain()
    assert "npm install -g @anthropic-ai/claude-code" in missing.stdout


def test_doctor_checks_a_named_handler_and_its_token(cli_on_path: dict[str, str], sandbox: support.Sandbox):
    from cc_executor.contract_tests.live_handler import free_port, live_handler

    closed = f"ws://127.0.0.1:{free_port()}/ws/mcp"
    unreachable = support.run([INSTALLED, "doctor", "--handler-url", closed], env=cli_on_path, cwd=sandbox.project)
    assert unreachable.returncode == 1 and f"✗ handler: cannot reach {closed}" in unreachable.stdout
    with live_handler(token="the-right-token") as handler:
        wrong = support.run(
            [INSTALLED, "doctor", "--handler-url", handler.url, "--token", "wrong"],
            env=cli_on_path,
            cwd=sandbox.project,
        )
        assert wrong.returncode == 1 and "HTTP 401" in wrong.stdout and "fix: give the handler's token" in wrong.stdout
        right = support.run(
            [INSTALLED, "doctor", "--handler-url", handler.url],
            env={**cli_on_path, "CC_EXECUTOR_TOKEN": "the-right-token"},
            cwd=sandbox.project,
        )
        assert f"✓ handler: {handler.url} (version" in right.stdout, right.explain()
