"""An execution's output kept on disk, so any amount can be paged later without holding it in memory.

Per execution, in outputs/<execution id>/: stdout and stderr as the process wrote them,
Claude's final answer (result), and for Claude tasks a readable transcript (one line per
step, see transcript.py); in memory only the last few steps (activity) and the end of
stderr. Folders and files are private (0700, 0600) whatever the umask. A folder is only
ever named by a canonical UUID, so no id (a history row can be planted) reaches outside
the outputs folder.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Literal

from cc_executor.paths import DataDirError, open_private_for_append, private_dir

log = logging.getLogger("cc_executor.bridge")

StoredStream = Literal["stdout", "stderr", "result", "transcript"]
ACTIVITY_LINES = 5
STDERR_TAIL_CHARS = 2000

#: How many of so many bytes may be written now (the disk budget, shared by every execution).
Allowance = Callable[[int], int]


def output_folder(outputs_dir: Path, execution_id: str) -> Path | None:
    """The folder of an execution's output; None for an id that is not a canonical UUID (never a path)."""
    try:
        canonical = str(uuid.UUID(execution_id))
    except (ValueError, TypeError):
        return None
    return outputs_dir / canonical if canonical == execution_id else None


class OutputStore:
    """Appends text per stream up to a byte cap; keeps short tails in memory for status replies.

    A stream's file is made once the task's process has started, while it boots (`open_streams`), or else when
    its first bytes come: a task that waits for a slot holds no file, and making files is no part of a task's
    start, nor of its end when all of its output comes at once, as it exits. Writes are unbuffered: output is on
    disk as it comes, while the process still runs, so nothing is left to write between its exit and the result
    (nor before a page is read). What cannot be written is dropped and marked truncated, with one log line: the
    task runs on, and its result is read from the stream all the same."""

    def __init__(self, directory: Path, max_bytes: int, allowance: Allowance | None = None):
        self.directory = directory
        self.max_bytes = max_bytes
        self.bytes: dict[StoredStream, int] = {"stdout": 0, "stderr": 0, "result": 0, "transcript": 0}
        self.truncated = False
        self._allowance = allowance
        self._activity: deque[str] = deque(maxlen=ACTIVITY_LINES)
        self._stderr_tail = ""
        self._files: dict[StoredStream, int] = {}  # descriptors, appending
        self._folder_made = False
        self.write_error: str | None = None

    def open_streams(self, streams: tuple[StoredStream, ...]) -> None:
        """Make the files of the streams a task that has just started will write."""
        if self.write_error is None:
            try:
                for stream in streams:
                    self._file(stream)
            except (OSError, DataDirError) as exc:
                self._failed(exc)

    def _file(self, stream: StoredStream) -> int:
        descriptor = self._files.get(stream)
        if descriptor is None:
            self._make_folder()
            descriptor = self._files[stream] = open_private_for_append(self.path(stream))
        return descriptor

    def _make_folder(self) -> None:
        if not self._folder_made:
            private_dir(self.directory.parent)
            private_dir(self.directory)
            self._folder_made = True

    def path(self, stream: StoredStream) -> Path:
        return self.directory / f"{stream}.txt"

    def append(self, stream: Literal["stdout", "stderr"], text: str) -> None:
        self._write(stream, text)
        if stream == "stderr":
            self._stderr_tail = (self._stderr_tail + text)[-STDERR_TAIL_CHARS:]

    def note(self, step: str) -> None:
        """One step of the readable transcript."""
        self._write("transcript", step + "\n")

    def remember(self, step: str) -> None:
        """One short line of the latest activity (kept in memory, the last few only)."""
        self._activity.append(step)

    @property
    def activity(self) -> list[str]:
        return list(self._activity)

    def _write(self, stream: StoredStream, text: str) -> None:
        if self.write_error is not None:  # dropped, and counted against no cap or budget
            return
        data = self._allowed(stream, text.encode())
        if data:
            try:
                _write_all(self._file(stream), data)
            except (OSError, DataDirError) as exc:
                self._failed(exc)
                return
            self.bytes[stream] += len(data)

    def _failed(self, exc: Exception) -> None:
        if self.write_error is not None:
            return
        self.write_error, self.truncated = str(exc), True
        log.warning("output not stored", extra={"event": {"folder": str(self.directory), "error": str(exc)}})

    def _allowed(self, stream: StoredStream, data: bytes) -> bytes:
        """As much of `data` as this stream's cap and the disk budget allow (cut at a character boundary)."""
        room = max(self.max_bytes - self.bytes[stream], 0)
        if self._allowance is not None:
            room = self._allowance(min(len(data), room))
        if len(data) > room:
            self.truncated = True
            data = _cut_at_char_boundary(data, room)
        return data

    def set_result(self, text: str) -> None:
        data = self._allowed("result", text.encode())
        try:
            self._make_folder()
            with os.fdopen(open_private_for_append(self.path("result")), "wb") as handle:
                handle.truncate(0)
                handle.write(data)
        except (OSError, DataDirError) as exc:
            self._failed(exc)
            return
        self.bytes["result"] = len(data)

    def close(self) -> None:
        descriptors, self._files = list(self._files.values()), {}
        for descriptor in descriptors:
            with contextlib.suppress(OSError):
                os.close(descriptor)

    @property
    def stderr_tail(self) -> str:
        return self._stderr_tail


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def read_page(path: Path, offset: int, limit: int) -> tuple[str, int, int]:
    """(text, next offset, total bytes) of a page of a stored stream; never splits a UTF-8 character."""
    try:
        total = path.stat().st_size
    except FileNotFoundError:
        return "", offset, 0
    if offset >= total:
        return "", max(offset, total), total
    with open(path, "rb") as handle:
        return _page(handle, total, offset, limit)


def text_page(text: str, offset: int, limit: int) -> tuple[str, int, int]:
    """read_page of a text held in memory (paged as its UTF-8 bytes, like a stored stream)."""
    data = text.encode()
    if offset >= len(data):
        return "", max(offset, len(data)), len(data)
    return _page(io.BytesIO(data), len(data), offset, limit)


def _page(handle: BinaryIO, total: int, offset: int, limit: int) -> tuple[str, int, int]:
    handle.seek(_char_start(handle, offset))
    start = handle.tell()
    data = handle.read(limit + 3)
    page = _cut_at_char_boundary(data, limit)
    if not page and data:  # a limit smaller than one character: still make progress
        page = _cut_at_char_boundary(data, 4)
    return page.decode("utf-8", errors="replace"), start + len(page), total


def remove(directory: Path) -> None:
    """Delete an execution's output folder (never what a symbolic link in its place points to)."""
    shutil.rmtree(directory, ignore_errors=True)


def _cut_at_char_boundary(data: bytes, limit: int) -> bytes:
    """The longest prefix of at most `limit` bytes that does not end inside a UTF-8 character."""
    if len(data) <= limit:
        return data
    end = limit
    while end > 0 and (data[end] & 0xC0) == 0x80:
        end -= 1
    return data[:end]


def _char_start(handle: BinaryIO, offset: int) -> int:
    """Move an offset that points inside a character back to the character's first byte."""
    position = offset
    while position > 0:
        handle.seek(position)
        byte = handle.read(1)
        if not byte or (byte[0] & 0xC0) != 0x80:
            break
        position -= 1
    return position
