"""A clone with nothing beside it passes: the tests that use recorded reference data run from such a copy.

The copy holds exactly the files git tracks (as a clone would, with this checkout's
edits), in a temporary folder with no `../shared` or anything else next to it. The
suite-wide audit hook (conftest.py) catches reads beside the checkout in-process; this
catches them in subprocesses and path computations too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Tests that read tests/reference/ (the recorded old-handler sessions and real CLI output), in the test
#: process and in the programs they start (the old-handler stand-in); the fast ones.
READERS_OF_REFERENCE_DATA = (
    "tests/test_fake_claude.py",
    "tests/bridge/test_claude_stream.py",
    "tests/test_verify_old_handler.py::test_the_standin_answers_every_old_transcript_as_recorded",
    "tests/contract/test_compatibility.py",
)


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).exists()]


def test_a_bare_copy_of_the_repository_passes_the_reference_data_tests(tmp_path: Path) -> None:
    clone = tmp_path / "alone" / "cc-executor"
    for name in tracked_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    assert sorted(os.listdir(clone.parent)) == ["cc-executor"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *READERS_OF_REFERENCE_DATA],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout and "skipped" not in ran.stdout, ran.stdout[-2000:]
