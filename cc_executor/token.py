"""The handler's bearer token: made once, kept in a user-only file the bridge reads."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from .paths import token_file

TOKEN_ENV = "CC_EXECUTOR_TOKEN"


class TokenFileError(Exception):
    """The token file is unsafe or unreadable; the message says how to fix it."""


def read_token_file(path: Path) -> str | None:
    """The token in `path`, or None if there is no file; refuses a file others can read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenFileError(
            f"{path} is readable by other users (mode {stat.filemode(info.st_mode)}); run `chmod 600 {path}`"
        )
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise TokenFileError(f"{path} is empty; delete it and a new token is made on the next handler start")
    return token


def load_or_create_token(path: Path | None = None) -> str:
    """The stored token, or a new one written to a 0600 file."""
    path = path or token_file()
    existing = read_token_file(path)
    if existing is not None:
        return existing
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return load_or_create_token(path)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def resolve_client_token(explicit: str | None) -> str | None:
    """What a client should present: --token, else $CC_EXECUTOR_TOKEN, else the handler's token file."""
    if explicit:
        return explicit
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    return read_token_file(token_file())


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time comparison, so timing does not tell how much of a guess was right."""
    return hmac.compare_digest(presented.encode(), expected.encode())
