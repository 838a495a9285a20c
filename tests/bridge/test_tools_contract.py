"""What the bridge advertises is spec/mcp, exactly: names, titles, annotations and the bundled schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures import bridge_helpers as b
from jsonschema import Draft202012Validator

from cc_executor.bridge.executions import BridgeSettings
from cc_executor.bridge.tool_specs import bundle

SPEC_MCP = Path(__file__).resolve().parents[2] / "spec" / "mcp"
MANIFEST = yaml.safe_load((SPEC_MCP / "tools.yaml").read_text(encoding="utf-8"))["tools"]
SCHEMA_FILES = sorted(SPEC_MCP.glob("*_input.json")) + sorted(SPEC_MCP.glob("*_output.json"))


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs_in(item)]
    return []


async def list_tools(data_dir: Path, mode: str):
    async with b.in_memory_bridge(BridgeSettings(data_dir=data_dir, backend="local"), mode) as (client, _):
        return (await client.list_tools()).tools


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_list_advertises_exactly_the_tools_of_tools_yaml(tmp_path, mode):
    listed = await list_tools(tmp_path, mode)
    assert [tool.name for tool in listed] == [entry["name"] for entry in MANIFEST]
    for tool, entry in zip(listed, MANIFEST, strict=True):
        assert tool.title == entry["title"]
        assert tool.description == entry["description"]
        hints = tool.annotations.model_dump(by_alias=True, exclude_none=True)
        assert hints == {"title": entry["title"], **entry["annotations"]}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_list_advertises_the_bundled_schemas_unchanged(tmp_path, mode):
    listed = await list_tools(tmp_path, mode)
    for tool, entry in zip(listed, MANIFEST, strict=True):
        assert tool.input_schema == bundle(SPEC_MCP / entry["input"]), tool.name
        assert tool.output_schema == bundle(SPEC_MCP / entry["output"]), tool.name


def test_every_schema_file_is_named_in_tools_yaml():
    named = {entry[key] for entry in MANIFEST for key in ("input", "output")}
    assert named == {path.name for path in SCHEMA_FILES}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_each_bundled_schema_is_valid_self_contained_and_an_object(path):
    schema = bundle(path)
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object", "MCP requires an object root in both protocol eras"
    assert refs_in(schema) == [], "every $ref is inlined"
    assert "$defs" not in json.dumps(schema)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_example_validates_against_its_bundled_schema(path):
    examples = json.loads(path.read_text(encoding="utf-8")).get("examples", [])
    if path.name != "get_hook_status_input.json":
        assert examples, f"{path.name} has no examples"
    validator = Draft202012Validator(bundle(path), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for number, example in enumerate(examples):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
        assert not errors, f"{path.name} example {number}: {errors}"
