"""What a task's Claude inherits, and what it cannot escape.

The inner Claude must not believe it runs inside the orchestrator's session (its id, its
messaging socket and token, the session that launched it, its notes, its project dir):
those variables are dropped, while credentials and user configuration pass. And a process
that leaves its process group and drops its execution tag is still ended with its
execution where cgroup v2 lets this user make a cgroup per execution.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from fixtures import bridge_helpers as b
from fixtures.cgroup_support import require_cgroups

from cc_executor.handler import cgroups
from cc_executor.handler.execution_types import OutputPiece, RunLimits, StreamName
from cc_executor.handler.process_runner import ORCHESTRATOR_SESSION_ENV, RunningProcess

pytestmark = pytest.mark.timeout(60)

#: What Claude Code sets for the MCP servers and commands it starts (strings of the real CLI 2.1.330).
SESSION = {
    "CLAUDECODE": "1",
    "CLAUDE_CODE_ENTRYPOINT": "cli",
    "CLAUDE_CODE_SESSION_ID": "5f0c6a3e-0000-4000-8000-000000000001",
    "CLAUDE_CODE_MESSAGING_SOCKET": "/tmp/claude-messaging.sock",
    "CLAUDE_CODE_MESSAGING_TOKEN": "messaging-secret",
    "CLAUDE_CODE_LAUNCHED_BY_SESSION_IDS": "5f0c6a3e-0000-4000-8000-000000000001",
    "CLAUDE_CODE_CHILD_NOTES_DIR": "/tmp/claude-notes",
    "CLAUDE_CODE_CHILD_SESSION": "1",
    "CLAUDE_PROJECT_DIR": "/home/someone/project",
    "CLAUDE_PID": "4242",
}
PASSED_ON = {
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "CLAUDE_CODE_OAUTH_TOKEN": "oauth-test",
    "CLAUDE_CONFIG_DIR": "/home/someone/.claude",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
}


async def test_the_inner_claude_gets_credentials_and_configuration_but_not_the_orchestrators_session(
    tmp_path, monkeypatch
):
    assert set(SESSION) <= set(ORCHESTRATOR_SESSION_ENV)
    for name, value in {**SESSION, **PASSED_ON}.items():
        monkeypatch.setenv(name, value)
    names = ",".join([*SESSION, *PASSED_ON])
    async with b.mcp_bridge(tmp_path) as bridge:
        result = await bridge.ok("execute_task", {"task": f"[fake:echo_env vars={names}]"})
    seen = json.loads(result["result"])["env"]
    assert {name: seen[name] for name in SESSION} == dict.fromkeys(SESSION)
    assert seen["ANTHROPIC_API_KEY"] == "set"
    assert {name: seen[name] for name in PASSED_ON if name != "ANTHROPIC_API_KEY"} == {
        name: value for name, value in PASSED_ON.items() if name != "ANTHROPIC_API_KEY"
    }


#: Leaves its process group (setsid), drops its execution tag (env -u), and sleeps on; says its pid.
ESCAPE = (
    "env -u CC_EXECUTOR_EXECUTION_TAG setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' "
    "</dev/null >/dev/null 2>&1 & sleep 0.3"
)


async def run_escape(tmp_path: Path) -> tuple[int, Path | None]:
    """(the pid of the process that escaped group and tag, the execution's cgroup if it had one)."""
    pidfile = tmp_path / f"escapee-{os.urandom(4).hex()}"

    async def discard(stream: StreamName, pieces: list[OutputPiece]) -> None:
        pass

    running = await RunningProcess.start(
        ESCAPE.format(pidfile=pidfile), discard, limits=RunLimits(kill_grace_s=0.5, reap_strays=False)
    )
    completion = await running.wait()
    assert completion.status == "completed"
    return int(pidfile.read_text()), running.cgroup.path if running.cgroup else None


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


async def wait_gone(pid: int, timeout_s: float = 5.0) -> bool:
    for _ in range(int(timeout_s / 0.05)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not alive(pid)


async def test_a_process_that_leaves_its_group_and_drops_its_tag_is_ended_with_its_cgroup(tmp_path):
    require_cgroups("such a process escapes (docs/security.md says so)")
    escapee, cgroup = await run_escape(tmp_path)
    assert cgroup is not None
    assert await wait_gone(escapee), "the execution's cgroup took the escaped process with it"
    await cgroups.removals_done()  # once empty, it is removed in the background, after the completion
    assert not cgroup.exists(), "the execution's cgroup was removed"


async def test_control_without_a_cgroup_such_a_process_escapes(tmp_path, monkeypatch):
    """What the cgroup is for: without one, group and tag are all there is, and this process has neither."""
    monkeypatch.setattr(cgroups.ExecutionCgroup, "create", classmethod(lambda cls, tag: None))
    escapee, _ = await run_escape(tmp_path)
    try:
        assert alive(escapee), "it escaped, as docs/security.md says it does where there is no cgroup"
    finally:
        os.kill(escapee, 9)
        await wait_gone(escapee)
