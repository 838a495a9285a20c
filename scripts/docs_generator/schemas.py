"""Reading the spec's schema files and turning schemas into sections (field tables) for one page."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import FieldRow, Link, Rich, Section, Segment
from .text import json_text, latest, since, slug, versions_in

Schema = dict[str, Any]


@dataclass(frozen=True, order=True)
class Loc:
    """Where a schema sits: a spec file (relative to spec/, POSIX) and a JSON pointer into it."""

    file: str
    pointer: str = ""

    def child(self, *tokens: str | int) -> Loc:
        escaped = (str(token).replace("~", "~0").replace("/", "~1") for token in tokens)
        return Loc(self.file, "/".join([self.pointer, *escaped]))

    @property
    def key(self) -> str:
        """The last token of the pointer (a $defs key, a property name), or the file's stem at the root."""
        if not self.pointer:
            return posixpath.splitext(posixpath.basename(self.file))[0]
        return self.pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


@dataclass(frozen=True)
class Resolved:
    """A schema with its $ref chain followed: the target merged with the referring objects' other keys."""

    loc: Loc  # where the final (non-$ref) schema sits
    schema: Schema  # merged: referring objects' keys win over the target's
    target: Schema  # the final schema itself
    origins: dict[str, Loc]  # for each key of `schema`, the location of the object it came from
    via_ref: bool


class SpecStore:
    """The files under spec/, loaded once; $refs are relative to the file they appear in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[str, Any] = {}

    def document(self, file: str) -> Any:
        if file not in self._documents:
            text = (self.root / file).read_text(encoding="utf-8")
            self._documents[file] = json.loads(text) if file.endswith(".json") else yaml.safe_load(text)
        return self._documents[file]

    def at(self, loc: Loc) -> Any:
        node = self.document(loc.file)
        for token in filter(None, loc.pointer.split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    @staticmethod
    def ref_target(ref: str, base: Loc) -> Loc:
        file_part, _, pointer = ref.partition("#")
        file = posixpath.normpath(posixpath.join(posixpath.dirname(base.file), file_part)) if file_part else base.file
        return Loc(file, pointer)

    def resolve(self, loc: Loc) -> Resolved:
        schema, current, via_ref = self.at(loc), loc, False
        overrides: Schema = {}
        origins: dict[str, Loc] = {}
        while isinstance(schema, dict) and "$ref" in schema:
            for key, value in schema.items():
                if key != "$ref" and key not in overrides:
                    overrides[key], origins[key] = value, current
            current, via_ref = self.ref_target(schema["$ref"], current), True
            schema = self.at(current)
        merged = {**schema, **overrides}
        origins = {**{key: current for key in schema}, **origins}
        return Resolved(current, merged, schema, origins, via_ref)


def schema_name(resolved: Resolved) -> str:
    """How a schema is called in headings and type columns: its title, else its key."""
    return resolved.schema.get("title") or resolved.loc.key


def has_fields(schema: Schema) -> bool:
    return bool(schema.get("properties"))


_CONSTRAINTS = (
    ("minLength", "min length {}"),
    ("maxLength", "max length {}"),
    ("minimum", "minimum {}"),
    ("exclusiveMinimum", "greater than {}"),
    ("maximum", "maximum {}"),
    ("exclusiveMaximum", "less than {}"),
    ("multipleOf", "multiple of {}"),
    ("minItems", "min items {}"),
    ("maxItems", "max items {}"),
    ("minProperties", "min properties {}"),
    ("maxProperties", "max properties {}"),
    ("format", "format `{}`"),
    ("pattern", "pattern `{}`"),
)


def constraints(schema: Schema) -> tuple[str, ...]:
    """The validation keywords of a schema as short inline texts."""
    found = [text.format(schema[key]) for key, text in _CONSTRAINTS if key in schema]
    if schema.get("uniqueItems"):
        found.append("unique items")
    items = schema.get("items")
    if isinstance(items, dict) and "$ref" not in items:
        found += [f"each item: {text}" for text in constraints(items)]
    return tuple(found)


def allowed_values(schema: Schema) -> tuple[str, ...]:
    if "const" in schema:
        return (json_text(schema["const"]),)
    return tuple(json_text(value) for value in schema.get("enum", ()))


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}.get(
        type(value), "object" if isinstance(value, dict) else "array"
    )


def join(parts: list[Rich], separator: str = " | ") -> Rich:
    """Rich texts one after another, with `separator` between them."""
    joined: list[Segment] = []
    for index, part in enumerate(parts):
        if index:
            joined.append(Segment(separator))
        joined.extend(part)
    return tuple(joined)


def flatten(rich: Rich) -> str:
    return "".join(segment.text for segment in rich)


@dataclass
class PageSchemas:
    """Builds the schema sections of one page.

    Objects reachable from the page's schemas are expanded on the page (each once, in
    breadth-first order); named non-object schemas (a titled enum or union) link to the
    page that defines them. `home` says which page documents a spec file.
    """

    store: SpecStore
    page_id: str
    home: Callable[[str], str]
    floor: str = "1.0"
    gaps: list[str] = field(default_factory=list)
    _names: dict[Loc, str] = field(default_factory=dict)  # schema on the page -> its section's name
    _entries: dict[Loc, Loc] = field(default_factory=dict)  # schema -> where it was first reached from
    _anchors: set[str] = field(default_factory=set)
    _queue: list[Loc] = field(default_factory=list)  # claimed, section not made yet

    def reserve(self, anchor: str) -> None:
        """Keep an anchor used by a heading of the page away from sections."""
        self._anchors.add(anchor)

    def expand(self, *roots: tuple[Loc, str | None]) -> list[Section]:
        """Sections for `roots` (with an optional display name) and the objects they reach, not yet on the page."""
        for loc, name in roots:
            resolved = self.store.resolve(loc)
            self._claim(resolved.loc, name or schema_name(resolved), loc)
        made: list[Section] = []
        while self._queue:
            made.append(self._section(self._queue.pop(0)))
        return made

    def contains(self, loc: Loc) -> bool:
        return self.store.resolve(loc).loc in self._names

    def link_to(self, loc: Loc) -> Link:
        """Where a schema is documented: its section on this page, else on its home page."""
        target = self.store.resolve(loc)
        if target.loc in self._names:
            return Link(self.page_id, slug(self._names[target.loc]))
        return Link(self.home(target.loc.file), slug(schema_name(target)))

    # -- internals -------------------------------------------------------------------------------

    def _claim(self, target: Loc, name: str, entry: Loc | None = None) -> Link:
        if target not in self._names:
            unique, counter = name, 2
            while slug(unique) in self._anchors:
                unique, counter = f"{name} ({counter})", counter + 1
            self._names[target] = unique
            self._anchors.add(slug(unique))
            self._entries[target] = entry or target
            self._queue.append(target)
        return Link(self.page_id, slug(self._names[target]))

    def _section(self, target: Loc) -> Section:
        resolved = self.store.resolve(self._entries[target])
        schema, name = resolved.schema, self._names[target]
        description = schema.get("description", "")
        section_since = since(description, self.floor)
        home = self.home(resolved.loc.file)
        own_name = resolved.target.get("title") or resolved.loc.key
        defined_in = Link(home, slug(own_name)) if home != self.page_id else None
        examples = tuple(json_text(example, indent=2) for example in schema.get("examples", ()))
        if not description:
            self.gaps.append(f"{resolved.loc.file}#{resolved.loc.pointer}: {name} has no description")
        sources = self._field_sources(resolved)
        if sources:
            required = {name for _, part in sources for name in part.get("required", ())}
            rows = tuple(
                self._field(base.child("properties", prop), prop, prop in required, section_since)
                for base, part in sources
                for prop in part.get("properties", {})
            )
            return Section(
                name=name,
                anchor=slug(name),
                since=section_since,
                description=description,
                type=(Segment("object"),),
                fields=rows,
                is_object=True,
                closed=schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False,
                examples=examples,
                defined_in=defined_in,
            )
        return Section(
            name=name,
            anchor=slug(name),
            since=section_since,
            description=description,
            type=self._structure(resolved, name),
            closed=schema.get("additionalProperties") is False,
            values=allowed_values(schema),
            default=json_text(schema["default"]) if "default" in schema else None,
            constraints=constraints(schema),
            examples=examples,
            defined_in=defined_in,
        )

    def _field_sources(self, resolved: Resolved) -> list[tuple[Loc, Schema]]:
        """Where an object's fields are defined: the members of its allOf (a composed schema), then its own."""
        sources: list[tuple[Loc, Schema]] = []
        for index, _ in enumerate(resolved.schema.get("allOf", ())):
            member = self.store.resolve(resolved.origins["allOf"].child("allOf", index))
            sources += self._field_sources(member)
        if has_fields(resolved.schema):
            sources.append((resolved.origins["properties"], resolved.schema))
        return sources

    def _field(self, loc: Loc, name: str, required: bool, floor: str) -> FieldRow:
        resolved = self.store.resolve(loc)
        schema = resolved.schema
        description = schema.get("description", "")
        versions = versions_in(description) + versions_in(resolved.target.get("description", ""))
        type_ = self.type_of(loc, hint=name)
        if not description and "const" not in schema and not any(seg.link for seg in type_):
            self.gaps.append(f"{loc.file}#{loc.pointer}: field {name} has no description")
        return FieldRow(
            name=name,
            type=type_,
            required=required,
            since=latest(floor, *versions),
            description=description,
            values=allowed_values(schema),
            default=json_text(schema["default"]) if "default" in schema else None,
            constraints=constraints(schema),
        )

    def type_of(self, loc: Loc, hint: str = "") -> Rich:
        """The type column for the schema at `loc`: base types, linked names of objects and named types."""
        resolved = self.store.resolve(loc)
        schema = resolved.schema
        if has_fields(schema):
            name = schema_name(resolved) if resolved.via_ref else schema.get("title") or hint or loc.key
            return (Segment(name, self._claim(resolved.loc, name)),)
        if resolved.via_ref and resolved.target.get("title"):
            name = resolved.target["title"]
            if self.home(resolved.loc.file) == self.page_id:
                link = self._claim(resolved.loc, name)
            else:
                link = Link(self.home(resolved.loc.file), slug(name))
            return (Segment(name, link), Segment(f" ({flatten(self._structure(resolved, hint))})"))
        return self._structure(resolved, hint)

    def _structure(self, resolved: Resolved, hint: str) -> Rich:
        """The shape of a schema without naming it: union alternatives, array items, base types."""
        schema = resolved.schema
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                base = resolved.origins[keyword]
                return join([self.type_of(base.child(keyword, i), hint) for i in range(len(schema[keyword]))])
        types = schema.get("type")
        if types is None:
            values = [schema["const"]] if "const" in schema else list(schema.get("enum", ()))
            types = sorted({_json_type(value) for value in values}) or ["any"]
        elif isinstance(types, str):
            types = [types]
        parts: list[Rich] = []
        for type_name in types:
            if type_name == "array" and isinstance(schema.get("items"), dict):
                items = self.type_of(resolved.origins["items"].child("items"), hint)
                parts.append((Segment("array of "), *items))
            else:
                parts.append((Segment(type_name),))
        return join(parts)
