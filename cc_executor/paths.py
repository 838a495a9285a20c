"""Where cc-executor keeps its files: one data dir, moved as a whole by CC_EXECUTOR_DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "CC_EXECUTOR_DATA_DIR"


class DataDirError(Exception):
    """The data dir cannot be made or written; the message names it and the fix."""


def data_dir() -> Path:
    """The user's cc-executor data dir (created user-only on first use)."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("cc-executor"))
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"cannot create the data dir {path}: {exc.strerror or exc}; set {DATA_DIR_ENV} to a folder you can write"
        ) from exc
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(
            f"the data dir {path} is not a folder you can write; set {DATA_DIR_ENV} to one, or fix its permissions"
        )
    return path


def token_file() -> Path:
    return data_dir() / "handler.token"
