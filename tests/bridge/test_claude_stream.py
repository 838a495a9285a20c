"""The stream-json parser against the real CLI's recordings, chunking and bad input."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from fixtures import claude_helpers as h
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cc_executor.bridge.claude_stream import (
    ApiRetryEvent,
    AssistantTextEvent,
    ClaudeStreamParser,
    Denial,
    InitEvent,
    PermissionDeniedEvent,
    ResultEvent,
    ToolResultEvent,
    ToolUseEvent,
    TurnEvent,
    summarize_tool_input,
)

REFERENCE = {p.name: p.read_text(encoding="utf-8") for p in h.reference_files()}


def parse(text: str, **limits: int):
    parser = ClaudeStreamParser(**limits)
    events = parser.feed(text)
    events += parser.close()
    return events, parser.finish()


def test_all_reference_files_are_there() -> None:
    assert len(REFERENCE) == 8, sorted(REFERENCE)


# name: (ok, subtype, num_turns, tool_calls, result, words in error_message)
EXPECTED = {
    "real_stream.jsonl": (True, "success", 2, 1, "The answer is 3.", None),
    "real_slow.jsonl": (True, "success", 2, 1, "The answer is 3.", None),
    "real_partial.jsonl": (True, "success", 1, 0, "The answer is 3.", None),
    "real_streamin.jsonl": (True, "success", 1, 0, "The answer is 3.", None),
    "real_maxturns.jsonl": (False, "error_max_turns", 2, 1, None, ["maximum number of turns", "(1)"]),
    "no_credentials.jsonl": (
        False,
        "success",
        1,
        0,
        "Not logged in · Please run /login",
        ["not logged in", "authentication_failed", "/login"],
    ),
    "fake_key_no_network.jsonl": (
        False,
        "success",
        1,
        0,
        "API Error: Can't reach the API server — check your internet or DNS (ENOTFOUND)",
        ["server_error", "ENOTFOUND", "connection_failed"],
    ),
    "sig_SIGINT.jsonl": (False, "error_during_execution", 2, 0, None, ["interrupted"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_outcome(name: str) -> None:
    ok, subtype, turns, tools, result, words = EXPECTED[name]
    _, outcome = parse(REFERENCE[name])
    assert outcome.ok is ok
    assert outcome.is_error is not ok
    assert outcome.saw_result
    assert outcome.subtype == subtype
    assert outcome.num_turns == turns
    assert outcome.tool_calls == tools
    assert outcome.result == result
    assert outcome.malformed_lines == 0
    assert outcome.messages == REFERENCE[name].count("\n")
    first = json.loads(REFERENCE[name].split("\n", 1)[0])
    assert outcome.session_id == first["session_id"]
    assert outcome.model == first["model"]
    last = json.loads(REFERENCE[name].rstrip("\n").rsplit("\n", 1)[-1])
    assert outcome.duration_ms == last["duration_ms"]
    assert outcome.total_cost_usd == pytest.approx(last["total_cost_usd"])
    assert outcome.usage == last["usage"]
    assert outcome.terminal_reason == last["terminal_reason"]
    if words is None:
        assert outcome.error_message is None
    else:
        assert outcome.error_message is not None
        for word in words:
            assert word.lower() in outcome.error_message.lower()


def test_events_of_real_stream() -> None:
    events, _ = parse(REFERENCE["real_stream.jsonl"])
    assert events == [
        InitEvent(
            session_id="11111111-2222-4333-8444-555555555555",
            model="claude-sonnet-5-5",
            tools_count=4,
            mcp_servers=(("bridge", "connected"),),
            permission_mode="default",
            version="2.1.330",
        ),
        TurnEvent(1),
        ToolUseEvent(tool_name="mcp__bridge__add", tool_use_id="toolu_fake0003", input_summary='{"a":1,"b":2}'),
        ToolResultEvent(tool_use_id="toolu_fake0003", preview='{"result":3}', chars=12),
        TurnEvent(2),
        AssistantTextEvent(text="The answer is 3."),
        ResultEvent(subtype="success", is_error=False, num_turns=2, duration_ms=191, total_cost_usd=0.00072),
    ]


def test_auth_failure_names_the_assistant_error() -> None:
    _, outcome = parse(REFERENCE["no_credentials.jsonl"])
    assert outcome.assistant_error == "authentication_failed"
    assert outcome.last_assistant_text == "Not logged in · Please run /login"


def test_sigint_is_recognised() -> None:
    _, outcome = parse(REFERENCE["sig_SIGINT.jsonl"])
    assert outcome.interrupted
    assert outcome.errors == ("[ede_diagnostic] result_type=user last_content_type=n/a stop_reason=null",)


def test_unknown_types_and_subtypes_are_skipped_not_malformed() -> None:
    # real_partial has stream_event lines and a system/status line
    events, outcome = parse(REFERENCE["real_partial.jsonl"])
    assert outcome.malformed_lines == 0
    assert [type(e) for e in events] == [InitEvent, TurnEvent, AssistantTextEvent, ResultEvent]
    future = '{"type":"hologram","x":1}\n{"type":"system","subtype":"quantum"}\n'
    events, outcome = parse(future + REFERENCE["real_streamin.jsonl"])
    assert outcome.ok and outcome.malformed_lines == 0 and outcome.messages == 5


# ---- chunking ---------------------------------------------------------------------

ALL_REFERENCE = "".join(REFERENCE[name] for name in sorted(REFERENCE))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(REFERENCE)),
    cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=40),
)
def test_chunked_text_gives_the_same_result(name: str, cuts: list[float]) -> None:
    text = REFERENCE[name]
    whole_events, whole = parse(text)
    parser = ClaudeStreamParser()
    events = []
    for chunk in h.split_at(text, [int(c * len(text)) for c in cuts]):
        events += parser.feed(chunk)
    events += parser.close()
    assert events == whole_events
    assert parser.finish() == whole


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ALL_REFERENCE.encode())), max_size=60))
def test_chunked_bytes_split_inside_characters(cuts: list[int]) -> None:
    """Raw output cut anywhere, even inside a multi-byte character (· and — are in it)."""
    data = ALL_REFERENCE.encode("utf-8")
    whole_events, whole = parse(ALL_REFERENCE)
    parser = ClaudeStreamParser()
    events = []
    for chunk in h.split_at(data, cuts):
        events += parser.feed_bytes(chunk)
    events += parser.close()
    assert events == whole_events
    assert parser.finish() == whole
    assert whole.messages == ALL_REFERENCE.count("\n")


LINE_PARTS = st.one_of(
    st.sampled_from(ALL_REFERENCE.splitlines(keepends=True)),
    st.text(max_size=30),
    st.sampled_from(["\n", "", "{", "}\n", "[]\n", '{"type":1}\n', "\u2028", '{"type":"result"}\n']),
)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(LINE_PARTS, max_size=30), cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=20))
def test_arbitrary_input_never_raises_and_chunking_does_not_matter(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    whole_events, whole = parse(text, max_line_chars=3000)
    parser = ClaudeStreamParser(max_line_chars=3000)
    events = []
    for chunk in h.split_at(text, [c for c in cuts if c <= len(text)]):
        events += parser.feed(chunk)
    events += parser.close()
    assert events == whole_events
    assert parser.finish() == whole
    assert whole.error_message is None if whole.ok else whole.error_message


def test_raw_line_separators_inside_strings_do_not_split_lines() -> None:
    """JSON.stringify leaves U+2028, U+2029 and U+0085 raw (str.splitlines would split
    there); only \\n ends a line."""
    text = REFERENCE["real_streamin.jsonl"].replace("The answer is 3.", "a\u2028b\u2029c\x85d")
    _, outcome = parse(text)
    assert outcome.ok and outcome.malformed_lines == 0
    assert outcome.result == "a\u2028b\u2029c\x85d"


# ---- bad input --------------------------------------------------------------------


def test_malformed_lines_are_counted_and_kept_for_diagnosis() -> None:
    junk = [
        "",
        "   ",
        "plain text",
        "[1,2]",
        '"just a string"',
        "{not json}",
        '{"no_type":1}',
        '{"type":7}',
        '{"type":"assistant","message":"not an object"}',
        '{"x":' + "[" * 100_000,  # a nesting bomb must not raise RecursionError
    ]
    text = REFERENCE["real_streamin.jsonl"].replace("\n", "\n" + "\n".join(junk) + "\n", 1)
    _, outcome = parse(text)
    assert outcome.ok
    assert outcome.malformed_lines == len(junk)
    assert outcome.malformed_samples[2] == "plain text"
    assert all(len(s) <= 200 for s in outcome.malformed_samples)
    assert len(outcome.malformed_samples) == 5


def test_no_output_at_all() -> None:
    _, outcome = parse("")
    assert not outcome.ok and not outcome.saw_result and outcome.is_error
    assert "no output" in outcome.error_message


def test_output_that_is_not_stream_json() -> None:
    _, outcome = parse("The answer is 3.\n")
    assert not outcome.ok and outcome.malformed_lines == 1
    assert "not stream-json" in outcome.error_message
    assert "--verbose" in outcome.error_message


def test_stream_cut_short_without_result() -> None:
    lines = REFERENCE["real_stream.jsonl"].splitlines(keepends=True)
    text = "".join(lines[:4]) + lines[4][:100]  # dies while writing the result
    _, outcome = parse(text)
    assert not outcome.ok and not outcome.saw_result
    assert outcome.num_turns == 2 and outcome.tool_calls == 1
    assert outcome.last_assistant_text == "The answer is 3."
    msg = outcome.error_message
    assert "without a result" in msg and "2 turn" in msg and "middle of a line" in msg


def test_the_return_code_explains_a_missing_result() -> None:
    text = REFERENCE["real_stream.jsonl"].split("\n", 1)[0] + "\n"
    parser = ClaudeStreamParser()
    parser.feed(text)
    assert "(was killed by SIGKILL)" in parser.finish(-9).error_message
    assert "(exited with code 0)" in parser.finish(0).error_message
    assert "(it crashed, was killed or timed out)" in parser.finish().error_message
    assert parser.finish(-9).returncode == -9
    empty = ClaudeStreamParser()
    assert "no output and exited with code 1" in empty.finish(1).error_message


def test_last_line_without_newline_is_parsed() -> None:
    _, outcome = parse(REFERENCE["real_streamin.jsonl"].rstrip("\n"))
    assert outcome.ok and outcome.malformed_lines == 0


def test_result_with_error_subtype_is_an_error_even_if_is_error_is_false() -> None:
    text = '{"type":"result","subtype":"error_max_budget_usd","is_error":false,"num_turns":3}\n'
    _, outcome = parse(text)
    assert outcome.is_error and not outcome.ok
    assert "spending limit" in outcome.error_message


def test_one_response_in_several_lines_is_one_turn_and_subagents_do_not_count() -> None:
    def assistant(msg_id: str, block: dict, parent: str | None = None) -> str:
        body = {"id": msg_id, "role": "assistant", "content": [block]}
        return json.dumps({"type": "assistant", "message": body, "parent_tool_use_id": parent}) + "\n"

    text = (
        assistant("m1", {"type": "thinking", "thinking": "hmm"})
        + assistant("m1", {"type": "text", "text": "Let me look."})
        + assistant("m1", {"type": "tool_use", "id": "t1", "name": "Task", "input": {}})
        + assistant("s1", {"type": "text", "text": "subagent talk"}, parent="t1")
        + assistant("s1", {"type": "tool_use", "id": "t2", "name": "Read", "input": {}}, parent="t1")
        + assistant("m2", {"type": "text", "text": "Done."})
    )
    events, outcome = parse(text)
    assert [e.num_turns for e in events if isinstance(e, TurnEvent)] == [1, 2]
    assert outcome.num_turns == 2 and outcome.tool_calls == 2
    assert outcome.last_assistant_text == "Done."
    assert ToolUseEvent(tool_name="Read", tool_use_id="t2", subagent=True) in events
    assert "without a result" in outcome.error_message


def test_feed_after_finish_is_a_programming_error() -> None:
    parser = ClaudeStreamParser()
    parser.feed(REFERENCE["real_stream.jsonl"])
    first = parser.finish()
    assert parser.finish() == first
    with pytest.raises(RuntimeError):
        parser.feed("{}\n")


# ---- bounded memory ---------------------------------------------------------------


def _peak_while(feed_all) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        feed_all()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_bounded_on_a_long_stream() -> None:
    """64 MiB of big tool results and texts: nothing accumulates."""
    big = "x" * (256 * 1024)
    tool_result = json.dumps(
        {
            "type": "user",
            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": big}]},
        }
    )
    text = json.dumps({"type": "assistant", "message": {"id": "m", "content": [{"type": "text", "text": big}]}})
    chunk = (tool_result + "\n" + text + "\n") * 2  # ~1 MiB, fed 64 times
    parser = ClaudeStreamParser(max_text_chars=64 * 1024)

    def feed_all() -> None:
        for _ in range(64):
            parser.feed(chunk[:1000])
            parser.feed(chunk[1000:])

    peak = _peak_while(feed_all)
    outcome = parser.finish()
    assert peak < 6 * 1024 * 1024, peak
    assert len(outcome.last_assistant_text) == 64 * 1024
    assert outcome.messages == 256


def test_a_giant_line_is_dropped_without_being_kept() -> None:
    parser = ClaudeStreamParser(max_line_chars=1024 * 1024)
    piece = "y" * (1024 * 1024)

    def feed_all() -> None:
        parser.feed('{"type":"assistant","message":{"content":"')
        for _ in range(64):  # a 64 MiB line, in 1 MiB pieces
            parser.feed(piece)
        parser.feed('"}}\n')

    peak = _peak_while(feed_all)
    parser.feed(REFERENCE["real_streamin.jsonl"])
    outcome = parser.finish()
    assert peak < 4 * 1024 * 1024, peak
    assert outcome.ok and outcome.malformed_lines == 1
    assert "over the 1048576 limit" in outcome.malformed_samples[0]


def test_long_result_text_is_capped_only_where_asked() -> None:
    line = json.dumps({"type": "result", "subtype": "success", "is_error": False, "num_turns": 1, "result": "z" * 5000})
    _, capped = parse(line + "\n", max_result_chars=1000)
    assert capped.ok and capped.result == "z" * 1000 and capped.result_truncated
    _, whole = parse(line + "\n", max_text_chars=1000)  # texts are capped; by default the answer is whole
    assert whole.result == "z" * 5000 and not whole.result_truncated


# ---- what a model must be told: API retries, denials ---------------------------------


def test_api_retries_of_the_no_network_recording_are_counted() -> None:
    events, outcome = parse(REFERENCE["fake_key_no_network.jsonl"])
    retries = [e for e in events if isinstance(e, ApiRetryEvent)]
    assert [r.attempt for r in retries] == list(range(1, 11))
    assert {(r.max_retries, r.error_status, r.error) for r in retries} == {(10, None, "unknown")}
    assert retries[0].retry_delay_ms == 513
    assert outcome.api_retries == 10 and outcome.last_api_retry == retries[-1]


def test_retries_of_an_overloaded_api() -> None:
    """As the real CLI 2.1.330 prints them when the API answers 529 (seen against the stand-in API)."""
    line = {"type": "system", "subtype": "api_retry", "attempt": 1, "max_retries": 10, "retry_delay_ms": 550,
            "error_status": 529, "error": "overloaded", "session_id": "s", "uuid": "u"}  # fmt: skip
    events, outcome = parse(json.dumps(line) + "\n" + REFERENCE["real_streamin.jsonl"])
    assert events[0] == ApiRetryEvent(
        attempt=1, max_retries=10, error_status=529, error="overloaded", retry_delay_ms=550
    )
    assert outcome.ok and outcome.api_retries == 1


DENIED_WRITE = [
    {"type": "assistant", "message": {"id": "m1", "content": [
        {"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": "/p/x.txt", "content": "hello"}}]}},
    {"type": "system", "subtype": "permission_denied", "tool_name": "Write", "tool_use_id": "t1",
     "message": "Claude requested permissions to write to /p/x.txt, but you haven't granted it yet."},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "content": "Claude requested permissions ...", "is_error": True, "tool_use_id": "t1"}]}},
]  # fmt: skip


def test_a_denied_tool_call_is_an_event_with_its_input() -> None:
    """The lines the real CLI 2.1.330 prints when it denies a Write in the default permission mode."""
    events, outcome = parse("".join(json.dumps(m) + "\n" for m in DENIED_WRITE))
    denied = [e for e in events if isinstance(e, PermissionDeniedEvent)]
    assert denied == [
        PermissionDeniedEvent(
            Denial("Write", "/p/x.txt"),
            "t1",
            "Claude requested permissions to write to /p/x.txt, but you haven't granted it yet.",
        )
    ]
    assert outcome.permission_denials == (Denial("Write", "/p/x.txt"),), "without a result, the denials seen"


def test_the_results_permission_denials_are_summarised() -> None:
    result = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 3, "result": "done",
              "permission_denials": [
                  {"tool_name": "Write", "tool_use_id": "t1", "tool_input": {"file_path": "/p/x.txt", "content": "x"}},
                  {"tool_name": "Bash", "tool_use_id": "t2", "tool_input": {"command": "rm -rf /p/y", "description": "d"}},
              ]}  # fmt: skip
    _, outcome = parse("".join(json.dumps(m) + "\n" for m in [*DENIED_WRITE, result]))
    assert outcome.ok
    assert outcome.permission_denials == (Denial("Write", "/p/x.txt"), Denial("Bash", "rm -rf /p/y"))


@pytest.mark.parametrize(
    ("tool_input", "summary"),
    [
        ({"command": "ls  -la\n| head", "description": "list"}, "ls -la | head"),
        ({"file_path": "/a/b.py", "old_string": "x"}, "/a/b.py"),
        ({"pattern": "TODO", "path": "src"}, "TODO"),
        ({"url": "https://example.com", "prompt": "read"}, "https://example.com"),
        ({"a": 1, "b": [2]}, '{"a":1,"b":[2]}'),
        ({"command": "rm " + "x" * 200 + " y.txt"}, "rm " + "x" * 56 + "…" + "x" * 54 + " y.txt"),
        ("not a dict", ""),
    ],
)
def test_a_tool_calls_main_argument_is_its_summary(tool_input: object, summary: str) -> None:
    assert summarize_tool_input(tool_input) == summary
