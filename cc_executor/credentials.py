"""Where a command's token comes from, in one order for every command, and what to warn about.

Order: `--token` on the command line, `--token-file`, `$CC_EXECUTOR_TOKEN`, then the token
file in the data dir (the handler makes it on first start). A token typed on the command
line still works, but every user of the machine can read it (`ps`, /proc/PID/cmdline), so
it gets a warning naming the safe ways.
"""

from __future__ import annotations

from pathlib import Path

from .token import load_or_create_token, resolve_client_token

COMMAND_LINE_WARNING = (
    "--token on the command line can be read by every user of this machine (ps, /proc); give --token-file FILE "
    "(a 0600 file) or set CC_EXECUTOR_TOKEN instead"
)


def client_token(token: str | None, token_from_command_line: bool, token_file: Path | None) -> str | None:
    """What a client presents to a handler (TokenFileError for an unsafe or missing file)."""
    return resolve_client_token(token if token_from_command_line or token_file is None else None, token_file)


def server_token(token: str | None, token_from_command_line: bool, token_file: Path | None) -> str:
    """What the handler requires: the given token, else the token file's (made, 0600, if it is not there yet)."""
    if token and (token_from_command_line or token_file is None):
        return token
    return load_or_create_token(token_file)
