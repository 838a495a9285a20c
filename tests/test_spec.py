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


OPENAPI_FILES = sorted((SPEC / "http").glob("*.yaml"))


def media_examples(document: dict) -> list[tuple[str, str, object]]:
    """(where, schema $ref, example) for every example of a request body or response in an OpenAPI document."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for body in [operation.get("requestBody", {}), *operation.get("responses", {}).values()]:
                for media_type, media in body.get("content", {}).items():
                    for name, example in media.get("examples", {}).items():
                        found.append(
                            (f"{method.upper()} {path} {media_type} {name}", media["schema"]["$ref"], example["value"])
                        )
    return found


@pytest.mark.parametrize("path", OPENAPI_FILES, ids=lambda p: p.relative_to(SPEC).as_posix())
def test_openapi_schemas_are_valid_and_examples_fit_them(path):
    document = yaml.safe_load(path.read_text())
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # OpenAPI 3.1 schema objects are JSON Schema 2020-12
    examples = media_examples(document)
    assert examples, f"{path.name} has no examples"
    for where, ref, value in examples:
        errors = schema_errors(value, f"{path.relative_to(SPEC).as_posix()}{ref}")
        assert not errors, (where, errors)
