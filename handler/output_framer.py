"""Turn one stream's raw bytes into process.output pieces (sans-I/O).

Concatenating the pieces' text reproduces the stream exactly (as UTF-8, with
invalid bytes replaced, never splitting a character). A piece carries as many whole
lines as fit in the frame limit, and a line longer than the limit is cut into pieces
numbered by chunk_index, the last one carrying total_chunks. The framer holds at most
one frame's worth of text, so memory stays bounded whatever is written.

The framing, which the connection's protocol mode chooses, decides what happens to a
half-written line when the stream goes quiet:

* "batched" (protocol 2.0): it is sent (`flush`);
* "line" (protocol 1.0): it waits for its newline or the end of the stream, as the old
  handler's readline did, so that every line reaches the client whole; the protocol
  core then sends each line of a piece in a frame of its own.
"""

from __future__ import annotations

import codecs
from typing import Literal

from .execution_types import OutputPiece

Framing = Literal["batched", "line"]


class OutputFramer:
    """Frames one stream; feed bytes as they arrive, flush when the stream idles."""

    def __init__(self, frame_chars: int = 65536, framing: Framing = "batched") -> None:
        if frame_chars < 1:
            raise ValueError("frame_chars must be positive")
        self.frame_chars = frame_chars
        self.framing: Framing = framing
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._next_chunk: int | None = None  # set while inside a split long line

    @property
    def has_pending(self) -> bool:
        """True when text is held back waiting for the end of its line."""
        return bool(self._pending)

    @property
    def flushes_partial_lines(self) -> bool:
        """Whether a half-written line is sent when the stream goes quiet (batched framing only)."""
        return self.framing == "batched"

    def feed(self, data: bytes) -> list[OutputPiece]:
        """Take newly read bytes; return the pieces that are ready to send."""
        self._pending += self._decoder.decode(data)
        return self._take_ready()

    def flush(self) -> list[OutputPiece]:
        """Send what is held back (the stream went quiet mid-line); nothing in line framing."""
        if not self._pending or not self.flushes_partial_lines:
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
            text, self._pending = self._pending, ""
            pieces.append(self._line_end(text))
        return pieces

    def _take_ready(self) -> list[OutputPiece]:
        pieces: list[OutputPiece] = []
        text, start, limit = self._pending, 0, self.frame_chars
        while start < len(text):
            window_end = min(len(text), start + limit)
            if self._next_chunk is not None:
                newline = text.find("\n", start, window_end)  # the end of the split line
            else:
                newline = text.rfind("\n", start, window_end)  # as many whole lines as fit
            if newline >= 0:
                piece = text[start : newline + 1]
                pieces.append(self._line_end(piece) if self._next_chunk is not None else OutputPiece(piece))
                start = newline + 1
            elif len(text) - start >= limit:
                pieces.append(OutputPiece(text[start : start + limit], self._next_chunk or 0))
                self._next_chunk = (self._next_chunk or 0) + 1
                start += limit
            else:
                break
        self._pending = text[start:]
        return pieces

    def _line_end(self, text: str) -> OutputPiece:
        """The last piece of a line: of a split line it carries total_chunks."""
        index, self._next_chunk = self._next_chunk, None
        if index is None:
            return OutputPiece(text)
        return OutputPiece(text, index, index + 1)
