"""The example in docs/client.md runs as written against a live handler."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cc_executor.contract_tests.live_handler import live_handler

DOC = Path(__file__).resolve().parents[1] / "docs" / "client.md"


def test_the_documented_client_example_runs():
    example = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    with live_handler(token="doc-token") as handler:
        code = example.replace("ws://127.0.0.1:8003/ws/mcp", handler.url)
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CC_EXECUTOR_TOKEN": "doc-token"},
        )
    assert done.returncode == 0, done.stderr
    assert "stdout '1\\n2\\n3\\n'" in done.stdout and "stderr 'done\\n'" in done.stdout
    assert done.stdout.rstrip().endswith("ended completed 0")
