"""Small text helpers shared by the page builder and the renderers."""

from __future__ import annotations

import json
import re
from typing import Any

BASE_VERSION = "1.0"
_ADDED_IN = re.compile(r"\badded in (?:protocol )?(\d+\.\d+)", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`[^`]*`)")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s|$)")


def versions_in(description: str) -> list[str]:
    """The protocol versions a description says something was added in ("Added in protocol 2.0")."""
    return _ADDED_IN.findall(description or "")


def latest(*versions: str) -> str:
    """The highest of some "major.minor" versions."""
    return max(versions, key=lambda v: tuple(int(part) for part in v.split(".")))


def since(description: str, floor: str = BASE_VERSION) -> str:
    """The version something appeared in: what its description says, never earlier than `floor`."""
    return latest(floor, *versions_in(description))


def slug(text: str) -> str:
    """The anchor a code host (GitHub, GitLab) gives a heading with this text."""
    text = text.replace("`", "").strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def split_code(text: str) -> list[tuple[str, bool]]:
    """Inline text as (piece, is_code) pairs; backtick spans are code (without their backticks)."""
    pieces = []
    for piece in _CODE_SPAN.split(text):
        if not piece:
            continue
        if len(piece) >= 2 and piece.startswith("`") and piece.endswith("`"):
            pieces.append((piece[1:-1], True))
        else:
            pieces.append((piece, False))
    return pieces


def one_line(text: str) -> str:
    """Collapse whitespace (including newlines) to single spaces."""
    return " ".join((text or "").split())


def first_sentence(text: str) -> str:
    """The first sentence of a description, for summary tables."""
    text = one_line(text)
    match = _SENTENCE_END.search(text)
    return text[: match.end()] if match else text


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each collapsed to one line."""
    return [one_line(chunk) for chunk in re.split(r"\n\s*\n", text or "") if chunk.strip()]


def json_text(value: Any, indent: int | None = None) -> str:
    """Deterministic JSON for display."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return json.dumps(value, ensure_ascii=False, indent=indent)
