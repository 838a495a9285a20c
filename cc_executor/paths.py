"""Where cc-executor keeps its files, and how they are made: one data dir, private to its user.

The data dir holds the handler's token, the history and every task's output, so it must be
the user's alone: a data dir that another user owns or may write into is refused (someone
could plant a token file, a symlink or history rows there). Everything made inside it gets
explicit private modes whatever the umask, and is opened without following symlinks.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "CC_EXECUTOR_DATA_DIR"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class DataDirError(Exception):
    """The data dir cannot be made, written, or trusted; the message names it and the fix."""


def data_dir() -> Path:
    """The user's cc-executor data dir: made user-only on first use, refused when it is not private."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("cc-executor"))
    try:
        private_dir(path)
    except OSError as exc:
        raise DataDirError(
            f"cannot create the data dir {path}: {exc.strerror or exc}; set {DATA_DIR_ENV} to a folder you can write"
        ) from exc
    return path


def private_dir(path: Path) -> Path:
    """Make `path` (mode 0700) if it is not there; refuse it if it is not this user's alone."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True)
        os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask
    except FileExistsError:
        pass
    check_private_dir(path)
    return path


def check_private_dir(path: Path) -> None:
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise DataDirError(f"{path} is not a folder; set {DATA_DIR_ENV} to a folder only you can write")
    if info.st_uid != os.getuid():
        raise DataDirError(
            f"{path} belongs to another user (uid {info.st_uid}), who could plant files in it; "
            f"set {DATA_DIR_ENV} to a folder of your own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise DataDirError(
            f"{path} may be written by other users (mode {stat.filemode(info.st_mode)}), who could plant files "
            f"in it; run `chmod 700 {path}`, or set {DATA_DIR_ENV} to a private folder"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"the data dir {path} is not writable; fix its permissions or set {DATA_DIR_ENV}")


def create_private_file(path: Path) -> int:
    """A new file, mode 0600, as an open descriptor for writing; never follows or replaces what is there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def open_private_for_append(path: Path) -> int:
    """A descriptor appending to `path`, made 0600 if new; a symlink planted there is refused (ELOOP)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def make_private(path: Path, *, create: bool = False) -> None:
    """Mode 0600 for a file another program creates (SQLite's database, -wal, -shm): made empty and private first
    when `create`, else only when it is there already (e.g. left by an older version under a loose umask)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileNotFoundError:
        return
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)


def token_file() -> Path:
    return data_dir() / "handler.token"
