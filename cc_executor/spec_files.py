"""Where the spec's files are: spec/ beside the package folders in a checkout, cc_executor/spec when installed."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
SPEC_DIR = next(
    (folder for folder in (_PACKAGE / "spec", _PACKAGE.parent / "spec") if (folder / "mcp" / "tools.yaml").is_file()),
    _PACKAGE / "spec",
)
