"""Logging for the handler and the bridge: readable text or one JSON object a line, on stderr."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from typing import Literal

LogFormat = Literal["text", "json"]


def command_digest(command: str) -> str:
    """Short fingerprint of a command, so logs can correlate runs without storing the command."""
    return hashlib.sha256(command.encode()).hexdigest()[:12]


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record; the `event` extra's fields are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "event", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = " ".join(f"{key}={value}" for key, value in getattr(record, "event", {}).items())
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if fields:
            line += f" [{fields}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Send cc_executor's logs to stderr (stdout may be an MCP stdio channel)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger("cc_executor")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
