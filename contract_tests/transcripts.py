"""Transcripts on disk: the committed recordings of the contract scenarios, read and written as JSONL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cc_executor.contract_tests.frames import Event

RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"


def read_transcript(path: Path) -> list[Event]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_transcript(path: Path, events: Iterable[Mapping[str, Any]], digits: int = 2) -> None:
    """One event per line, `t` rounded so a re-recording changes little beyond pids and ids."""
    lines = []
    for event in events:
        line = {"dir": event["dir"], "t": round(float(event.get("t", 0.0)), digits)}
        line.update({key: value for key, value in event.items() if key not in line})
        lines.append(json.dumps(line, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def recording_paths(directory: Path = RECORDINGS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))
