"""Where cc-executor keeps its files: one data dir, moved as a whole by CC_EXECUTOR_DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "CC_EXECUTOR_DATA_DIR"


def data_dir() -> Path:
    """The user's cc-executor data dir (created user-only on first use)."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("cc-executor"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def token_file() -> Path:
    return data_dir() / "handler.token"
