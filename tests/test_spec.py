"""spec/ checks itself: every schema is valid draft 2020-12, every example fits its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from cc_executor.contract_tests.spec_validation import schema_errors

SPEC = Path(__file__).resolve().parents[1] / "spec"
SCHEMA_FILES = sorted(SPEC.rglob("*.json"))


def examples_of(path: Path) -> list[tuple[str, object]]:
    """(schema ref, example) for the file's root examples and each $defs entry's examples."""
    schema = json.loads(path.read_text())
    relative = path.relative_to(SPEC).as_posix()
    found = [(relative, example) for example in schema.get("examples", [])]
    for name, definition in schema.get("$defs", {}).items():
        found += [(f"{relative}#/$defs/{name}", example) for example in definition.get("examples", [])]
    return found


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SPEC).as_posix())
def test_every_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("title"), "every file has a title (it names the generated class)"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SPEC).as_posix())
def test_every_example_validates(path):
    for ref, example in examples_of(path):
        assert not schema_errors(example, ref), schema_errors(example, ref)


def test_every_message_and_tool_has_examples():
    for path in [*sorted((SPEC / "ws").rglob("*.json")), *sorted((SPEC / "mcp").glob("*_*put.json"))]:
        assert examples_of(path), f"{path.relative_to(SPEC)} has no examples"


def test_a_wrong_example_is_caught():
    """The example check can fail: a frame missing its command does not validate."""
    bad = {"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {}}
    assert schema_errors(bad, "ws/requests/execute.json")


def test_openapi_examples_fit_their_schemas():
    document = yaml.safe_load((SPEC / "http" / "openapi.yaml").read_text())
    health = document["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]
    for example in health["examples"].values():
        assert not schema_errors(example["value"], "http/openapi.yaml#/components/schemas/Health")
