"""docs/tool-results.md shows real tool results as a model receives them: each still fits its tool's outputSchema
(a schema change that breaks one fails here, so the page is refreshed), and each size it states is its size."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator

from cc_executor.bridge.tool_specs import load_tools

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tool-results.md"
BLOCK = re.compile(r"<!-- tool-result: (\w+)(, error)?, (\d+) characters -->\n```(json|text)\n(.*?)\n```", re.S)


def test_every_shown_result_fits_its_schema_and_has_the_size_it_states():
    blocks = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6, "the page shows results"
    tools = load_tools()
    for tool, error, size, kind, content in blocks:
        assert len(content) == int(size), (tool, size, len(content))
        if error:  # Claude Code gives the model an error result's text: it says the status and what to try
            assert kind == "text" and content.startswith("Task ") and "\nError: " in content and "\nNext: " in content
            continue
        assert kind == "json"
        data = json.loads(content)
        assert content == json.dumps(data, ensure_ascii=False, separators=(",", ":")), (
            "compact, as Claude Code sends it"
        )
        assert list(Draft202012Validator(tools[tool].tool.output_schema).iter_errors(data)) == [], (tool, content)


def test_the_sizes_the_page_quotes_are_those_of_its_results():
    text = PAGE.read_text(encoding="utf-8")
    short = BLOCK.search(text)
    assert short is not None and short.group(1) == "execute_task"
    assert f"## A short answer: {short.group(3)} characters" in text
    assert int(short.group(3)) <= 500
