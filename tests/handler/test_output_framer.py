"""The framer's promise: exact text, bounded frames, line boundaries, numbered pieces of long lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cc_executor.handler.execution_types import OutputPiece
from cc_executor.handler.output_framer import Framing, OutputFramer

ALPHABET = st.sampled_from([b"a", b"bc", b"\n", b"\xc3\xa9", b"\xe2\x9c\x93", b"\xf0\x9f\x98\x80", b"\xff", b"\r\n"])


def frame_all(
    chunks: list[bytes], frame_chars: int, flush_after: set[int] = frozenset(), framing: Framing = "batched"
) -> list[OutputPiece]:
    framer = OutputFramer(frame_chars, framing)
    pieces: list[OutputPiece] = []
    for index, chunk in enumerate(chunks):
        pieces += framer.feed(chunk)
        if index in flush_after:
            pieces += framer.flush()
    return pieces + framer.finish()


@settings(max_examples=400, deadline=None)
@given(
    tokens=st.lists(ALPHABET, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=20),
    frame_chars=st.integers(min_value=1, max_value=12),
    flushes=st.sets(st.integers(min_value=0, max_value=20), max_size=5),
    framing=st.sampled_from(["batched", "line"]),
)
def test_pieces_reassemble_exactly_and_respect_the_limit(tokens, cuts, frame_chars, flushes, framing):
    data = b"".join(tokens)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    pieces = frame_all(chunks, frame_chars, flushes, framing)

    assert "".join(p.data for p in pieces) == data.decode("utf-8", errors="replace")
    assert all(len(p.data) <= frame_chars for p in pieces)
    if framing == "line":  # a half-written line is never sent before its end: whole pieces end with a newline
        whole = [p for p in pieces if p.chunk_index is None]
        assert all(p.data.endswith("\n") for p in whole[:-1])
    # Split lines are numbered 0..n-1 and only the last piece carries total_chunks = n.
    expected_index = 0
    for piece in pieces:
        if piece.chunk_index is None:
            assert piece.total_chunks is None
            assert expected_index == 0, "a split line was interrupted by an unnumbered piece"
            continue
        assert piece.chunk_index == expected_index
        if piece.total_chunks is not None:
            assert piece.total_chunks == piece.chunk_index + 1
            expected_index = 0
        else:
            expected_index += 1
    assert expected_index == 0, "a split line never got its last piece"


def test_batches_whole_lines_and_holds_the_partial_line():
    framer = OutputFramer(100)
    assert framer.feed(b"one\ntwo\nthr") == [OutputPiece("one\ntwo\n")]
    assert framer.has_pending
    assert framer.feed(b"ee\n") == [OutputPiece("three\n")]
    assert not framer.has_pending


def test_a_character_is_never_split_across_pieces():
    framer = OutputFramer(100)
    check = "✓".encode()
    assert framer.feed(check[:1]) == []
    assert framer.flush() == []  # nothing decodable yet: the half character stays inside the decoder
    assert framer.feed(check[1:] + b"\n") == [OutputPiece("✓\n")]


def test_a_long_line_is_numbered_and_closed_by_its_newline():
    framer = OutputFramer(4)
    pieces = framer.feed(b"abcdefghij\nk") + framer.finish()
    assert pieces == [
        OutputPiece("abcd", 0),
        OutputPiece("efgh", 1),
        OutputPiece("ij\n", 2, 3),
        OutputPiece("k"),
    ]


def test_a_long_line_without_newline_is_closed_at_the_end_of_the_stream():
    framer = OutputFramer(4)
    pieces = framer.feed(b"abcdefgh") + framer.finish()
    assert pieces == [OutputPiece("abcd", 0), OutputPiece("efgh", 1), OutputPiece("", 2, 3)]


def test_invalid_utf8_becomes_replacement_characters():
    framer = OutputFramer(100)
    assert framer.feed(b"\xff\xfeok\n") == [OutputPiece("\ufffd\ufffdok\n")]


def test_line_framing_holds_a_half_line_until_its_newline():
    framer = OutputFramer(100, "line")
    assert framer.feed(b"one\ntwo\nthr") == [OutputPiece("one\ntwo\n")]
    assert framer.flush() == [], "a half-written line waits for its newline, as the old handler's readline did"
    assert framer.feed(b"ee\n\n") == [OutputPiece("three\n\n")]
    assert framer.feed(b"end") + framer.finish() == [OutputPiece("end")]


def test_line_framing_numbers_the_pieces_of_a_long_line():
    framer = OutputFramer(4, "line")
    assert framer.feed(b"ab\nabcdefgh\ncd\n") + framer.finish() == [
        OutputPiece("ab\n"),
        OutputPiece("abcd", 0),
        OutputPiece("efgh", 1),
        OutputPiece("\n", 2, 3),
        OutputPiece("cd\n"),
    ]
