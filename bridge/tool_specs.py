"""The MCP tools as spec/mcp defines them: metadata from tools.yaml, schemas with their $refs inlined.

What `tools/list` advertises is built here from the spec files and nothing else,
so the schemas clients see cannot drift from spec/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import mcp_types as types
import yaml
from jsonschema import Draft202012Validator

from cc_executor.spec_files import SPEC_DIR


def bundle(path: Path, pointer: str = "") -> dict[str, Any]:
    """The schema at `pointer` in `path` (JSON, or YAML such as an OpenAPI document), every $ref inlined."""
    documents: dict[Path, Any] = {}

    def load(file: Path) -> Any:
        if file not in documents:
            text = file.read_text(encoding="utf-8")
            documents[file] = yaml.safe_load(text) if file.suffix in (".yaml", ".yml") else json.loads(text)
        return documents[file]

    def resolve(ref: str, base: Path) -> tuple[Any, Path]:
        file_part, _, pointer = ref.partition("#")
        file = (base.parent / file_part).resolve() if file_part else base
        target = load(file)
        for token in filter(None, pointer.split("/")):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        return target, file

    def inline(node: Any, base: Path) -> Any:
        if isinstance(node, list):
            return [inline(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target, file = resolve(node["$ref"], base)
            siblings = {key: inline(value, base) for key, value in node.items() if key != "$ref"}
            return {**inline(target, file), **siblings}
        return {key: inline(value, base) for key, value in node.items() if key != "$defs"}

    root = path.resolve()
    schema: dict[str, Any] = flatten_all_of(inline(resolve(f"#{pointer}", root)[0], root))
    return schema


#: Keys a member of allOf may carry and still be merged into its parent.
_MERGEABLE = {"type", "title", "description", "properties", "required", "examples"}


def flatten_all_of(node: Any) -> Any:
    """Merge `allOf` of plain object schemas into one object, `unevaluatedProperties: false` into
    `additionalProperties: false`, so clients see one flat object for a composed schema (the spec
    composes tool inputs from TaskFields; many MCP clients and models read flat objects best).
    A schema the merge would change the meaning of is left as it is."""
    if isinstance(node, list):
        return [flatten_all_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: flatten_all_of(value) for key, value in node.items()}
    members = node.get("allOf")
    if not isinstance(members, list) or not all(_mergeable(member) for member in members):
        return node
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in [*members, node]:
        for name, schema in part.get("properties", {}).items():
            if name in properties and properties[name] != schema:
                return node  # the same field twice, differently: keep allOf, which means both
            properties[name] = schema
        required += [name for name in part.get("required", []) if name not in required]
    merged = {key: value for key, value in node.items() if key not in ("allOf", "unevaluatedProperties")}
    merged["type"] = "object"
    merged["properties"] = properties
    if required:
        merged["required"] = required
    if node.get("unevaluatedProperties") is False:
        merged["additionalProperties"] = False
    return merged


def _mergeable(member: Any) -> bool:
    return (
        isinstance(member, dict)
        and member.get("type", "object") == "object"
        and set(member) <= _MERGEABLE
        and isinstance(member.get("properties", {}), dict)
    )


@dataclass(frozen=True)
class ToolSpec:
    tool: types.Tool
    input_validator: Draft202012Validator

    @property
    def name(self) -> str:
        return self.tool.name

    def argument_errors(self, arguments: dict[str, Any]) -> list[str]:
        """Readable problems with the arguments, each naming the field; empty when they are valid."""
        return _problems(self.input_validator, arguments)


def _problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        field = ".".join(str(part) for part in error.absolute_path)
        message = error.message
        if error.validator in ("pattern", "format") and isinstance(error.schema, dict):
            # "'src' does not match '^/'" says little; the field's description says what is wanted
            wanted = str(error.schema.get("description", "")).split(". ")[0].rstrip(".")
            message += f" ({wanted})" if wanted else ""
        problems.append(f"{field}: {message}" if field else message)
    return problems


@cache
def load_tools() -> dict[str, ToolSpec]:
    folder = SPEC_DIR / "mcp"
    manifest = yaml.safe_load((folder / "tools.yaml").read_text(encoding="utf-8"))
    catalog = {}
    for entry in manifest["tools"]:
        input_schema, output_schema = bundle(folder / entry["input"]), bundle(folder / entry["output"])
        hints = entry["annotations"]
        tool = types.Tool(
            name=entry["name"],
            title=entry["title"],
            description=entry["description"],
            input_schema=input_schema,
            output_schema=output_schema,
            annotations=types.ToolAnnotations(
                title=entry["title"],
                read_only_hint=hints["readOnlyHint"],
                destructive_hint=hints["destructiveHint"],
                idempotent_hint=hints["idempotentHint"],
                open_world_hint=hints["openWorldHint"],
            ),
        )
        catalog[tool.name] = ToolSpec(tool, Draft202012Validator(input_schema))
    return catalog
