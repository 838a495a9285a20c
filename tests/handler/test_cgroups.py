"""Execution cgroups a killed handler or bridge left behind are cleared at the next start; live ones stay."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from fixtures.cgroup_support import require_cgroups

from cc_executor.handler import cgroups


@pytest.fixture
def made() -> list[cgroups.ExecutionCgroup]:
    require_cgroups("there are no execution cgroups to leave behind")
    made: list[cgroups.ExecutionCgroup] = []
    yield made
    for cgroup in made:
        cgroup.end()


def new_cgroup(made: list[cgroups.ExecutionCgroup], age_s: float = 0.0) -> cgroups.ExecutionCgroup:
    cgroup = cgroups.ExecutionCgroup.create("test-" + os.urandom(6).hex())
    assert cgroup is not None
    made.append(cgroup)
    if age_s:
        then = time.time() - age_s
        os.utime(cgroup.path, (then, then))
    return cgroup


def test_only_old_empty_cgroups_are_removed(made):
    old_empty = new_cgroup(made, age_s=cgroups.STALE_S + 60)
    new_empty = new_cgroup(made)
    old_busy = new_cgroup(made, age_s=cgroups.STALE_S + 60)
    sleeper = subprocess.Popen(["sh", "-c", f'echo 0 > "{old_busy.path}/cgroup.procs"; exec sleep 30'])
    try:
        for _ in range(500):
            if old_busy.populated():
                break
            time.sleep(0.01)
        assert old_busy.populated()
        removed = cgroups.remove_stale()
        assert old_empty.path.name in removed and not old_empty.path.exists()
        assert new_empty.path.exists(), "a cgroup made moments ago may be about to be filled"
        assert old_busy.path.exists(), "a cgroup with a process in it stays"
    finally:
        sleeper.kill()
        sleeper.wait()
