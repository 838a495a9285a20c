"""Bearer tokens: made once, kept in user-only files that are read without following symlinks.

A token file is trusted only if it is a regular file of this user with mode 0600 (no group
or other bits): a symlink planted in its place (to `/proc/self/personality`, say, whose
content anyone can predict) or a file someone else wrote would otherwise hand the
handler to them.
"""

from __future__ import annotations

import errno
import hmac
import os
import secrets
import stat
from pathlib import Path

from .paths import create_private_file, token_file

TOKEN_ENV = "CC_EXECUTOR_TOKEN"


class TokenFileError(Exception):
    """The token file is unsafe or unreadable; the message says how to fix it."""


def read_token_file(path: Path) -> str | None:
    """The token in `path`, or None if there is no file; refuses anything but a private regular file of ours."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TokenFileError(f"{path} is a symbolic link; a token file must be a regular file: delete it") from exc
        raise TokenFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileError(f"{path} is not a regular file; delete it and a new token is made")
        if info.st_uid != os.getuid():
            raise TokenFileError(f"{path} belongs to another user (uid {info.st_uid}); delete it")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TokenFileError(
                f"{path} is open to other users (mode {stat.filemode(info.st_mode)}); run `chmod 600 {path}`"
            )
        token = handle.read(4096).decode("utf-8", errors="replace").strip()
    if not token:
        raise TokenFileError(f"{path} is empty; delete it and a new token is made on the next start")
    return token


def load_or_create_token(path: Path | None = None) -> str:
    """The stored token, or a new one written to a new 0600 file."""
    path = path or token_file()
    existing = read_token_file(path)
    if existing is not None:
        return existing
    token = secrets.token_urlsafe(32)
    try:
        descriptor = create_private_file(path)
    except FileExistsError:  # another process made it first: use theirs
        return load_or_create_token(path)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def resolve_client_token(explicit: str | None, token_path: Path | None = None) -> str | None:
    """What a client presents: --token, else --token-file, else $CC_EXECUTOR_TOKEN, else the handler's token file."""
    if explicit:
        return explicit
    if token_path is not None:
        token = read_token_file(token_path)
        if token is None:
            raise TokenFileError(f"the token file {token_path} does not exist")
        return token
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    return read_token_file(token_file())


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time comparison, so timing does not tell how much of a guess was right."""
    return hmac.compare_digest(presented.encode(), expected.encode())
