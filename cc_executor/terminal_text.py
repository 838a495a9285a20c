"""Text that came from a user or a process, made safe to print on an operator's terminal.

A prompt, a command or a line of output may hold Rich markup (`[/]`, `[red]`), which Rich
would interpret or choke on, and control characters (an escape sequence can rewrite the
screen, retitle the window or hide text; bidi overrides can make text read differently
from what it is). Everything such is printed literally: markup as the brackets it is,
control characters as visible escapes (`\\x1b`, `\\u202e`). Newlines and tabs stay.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: printing an error must not load Rich
    from rich.text import Text

#: C0 and C1 controls (but newline and tab), DEL, and the Unicode formatting characters that
#: reorder or hide text (bidi embeddings, overrides and isolates; zero-width marks stay: they are harmless).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character shown as an escape, so printing it cannot steer the terminal."""
    return _UNSAFE.sub(_escape, text)


def literal(text: str, style: str = "") -> Text:
    """A Rich Text of `text` exactly as written: no markup, no emoji codes, controls made visible."""
    from rich.text import Text

    return Text(visible(text), style=style)
