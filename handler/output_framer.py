"""Turn one stream's raw bytes into process.output pieces (sans-I/O).

Concatenating the pieces' text reproduces the stream exactly (as UTF-8, with
invalid bytes replaced, never splitting a character). A piece ends at a line
boundary when it can, carries as many whole lines as fit in the frame limit, and
a line longer than the limit is cut into numbered pieces. The framer holds at
most one frame's worth of text, so memory stays bounded whatever is written.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutputPiece:
    """The text of one process.output frame and its place in a split line."""

    data: str
    chunk_index: int | None = None
    total_chunks: int | None = None


class OutputFramer:
    """Frames one stream; feed bytes as they arrive, flush when the stream idles."""

    def __init__(self, frame_chars: int = 65536) -> None:
        if frame_chars < 1:
            raise ValueError("frame_chars must be positive")
        self.frame_chars = frame_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._next_chunk: int | None = None  # set while inside a split long line

    @property
    def has_pending(self) -> bool:
        """True when text is held back waiting for the end of its line."""
        return bool(self._pending)

    def feed(self, data: bytes) -> list[OutputPiece]:
        """Take newly read bytes; return the pieces that are ready to send."""
        self._pending += self._decoder.decode(data)
        return self._take_ready()

    def flush(self) -> list[OutputPiece]:
        """Send what is held back (the stream went quiet mid-line)."""
        if not self._pending:
            return []
        text, self._pending = self._pending, ""
        if self._next_chunk is None:
            return [OutputPiece(text)]
        piece = OutputPiece(text, self._next_chunk)
        self._next_chunk += 1
        return [piece]

    def finish(self) -> list[OutputPiece]:
        """The stream ended: return everything left, closing any split line."""
        self._pending += self._decoder.decode(b"", final=True)
        pieces = self._take_ready()
        if self._pending or self._next_chunk is not None:
            pieces.append(self._close_split_line(len(self._pending)))
        return pieces

    def _take_ready(self) -> list[OutputPiece]:
        pieces: list[OutputPiece] = []
        limit = self.frame_chars
        while self._pending:
            window_end = min(len(self._pending), limit)
            if self._next_chunk is not None:
                newline = self._pending.find("\n", 0, window_end)
                if newline >= 0:
                    pieces.append(self._close_split_line(newline + 1))
                elif len(self._pending) >= limit:
                    pieces.append(OutputPiece(self._pending[:limit], self._next_chunk))
                    self._pending = self._pending[limit:]
                    self._next_chunk += 1
                else:
                    break
            else:
                newline = self._pending.rfind("\n", 0, window_end)
                if newline >= 0:
                    pieces.append(OutputPiece(self._pending[: newline + 1]))
                    self._pending = self._pending[newline + 1 :]
                elif len(self._pending) >= limit:
                    pieces.append(OutputPiece(self._pending[:limit], 0))
                    self._pending = self._pending[limit:]
                    self._next_chunk = 1
                else:
                    break
        return pieces

    def _close_split_line(self, end: int) -> OutputPiece:
        """The last piece of a line: of a split line it carries total_chunks."""
        text, self._pending = self._pending[:end], self._pending[end:]
        index = self._next_chunk
        self._next_chunk = None
        if index is None:
            return OutputPiece(text)
        return OutputPiece(text, index, index + 1)
