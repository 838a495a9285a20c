"""Building the reference's pages from the files in spec/."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .model import (
    Block,
    CodeBlock,
    Facts,
    Heading,
    Link,
    NavGroup,
    Page,
    Paragraph,
    Rich,
    SchemaSection,
    Section,
    Segment,
    Site,
    Table,
    plain,
)
from .schemas import Loc, PageSchemas, Resolved, SpecStore, join
from .text import first_sentence, json_text, paragraphs, since, slug

SITE_TITLE = "cc-executor protocol reference"
MCP_SINCE = "2.0"
TOOLS_FILE = "mcp/tools.yaml"
ASYNCAPI_FILE = "ws/asyncapi.yaml"
INDEX, WEBSOCKET, HTTP, BRIDGE_HTTP = "index", "websocket", "http", "bridge-http"
TO_INDEX = (("Reference", INDEX),)
TO_WEBSOCKET = (("Reference", INDEX), ("WebSocket API", WEBSOCKET))


@dataclass(frozen=True)
class OpenApiPage:
    """An OpenAPI document of spec/http and the page that documents it."""

    file: str
    label: str
    floor: str  # the version its endpoints appeared in


OPENAPI_PAGES = {
    HTTP: OpenApiPage("http/openapi.yaml", "HTTP endpoints", "1.0"),
    BRIDGE_HTTP: OpenApiPage("http/bridge-openapi.yaml", "MCP over HTTP", MCP_SINCE),
}

HINT_MEANINGS = {
    "readOnlyHint": "true: the tool does not change its environment.",
    "destructiveHint": "true: the tool may change or destroy things (meaningful when it is not read-only).",
    "idempotentHint": "true: calling it again with the same arguments has no further effect.",
    "openWorldHint": "true: the tool reaches outside the bridge (Claude Code and whatever it touches).",
}


def home(file: str) -> str:
    """The id of the page that documents a spec file (relative to spec/)."""
    stem = posixpath.splitext(file)[0]
    if file == ASYNCAPI_FILE:
        return WEBSOCKET
    for page_id, openapi in OPENAPI_PAGES.items():
        if file == openapi.file:
            return page_id
    if file == TOOLS_FILE:
        return INDEX
    if file.startswith("mcp/") and stem != "mcp/common":
        for suffix in ("_input", "_output"):
            if stem.endswith(suffix):
                return stem.removesuffix(suffix)
    return stem


def spec_link(file: str) -> Segment:
    return Segment(f"spec/{file}", Link(file=f"spec/{file}"))


def sections(made: Iterable[Section], level: int = 3) -> list[Block]:
    return [SchemaSection(section, level) for section in made]


def without_root_description(made: list[Section]) -> list[Section]:
    """The page already shows the root schema's description above its facts."""
    return [replace(made[0], description=""), *made[1:]] if made else made


def description_blocks(text: str) -> list[Block]:
    return [Paragraph(plain(chunk)) for chunk in paragraphs(text)]


class SiteBuilder:
    """Reads spec/ and makes every page; `gaps` collects what the spec leaves undescribed."""

    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.store = SpecStore(spec)
        self.gaps: list[str] = []

    def files(self, folder: str) -> list[str]:
        return sorted(path.relative_to(self.spec).as_posix() for path in (self.spec / folder).glob("*.json"))

    def schemas(self, page_id: str, floor: str) -> PageSchemas:
        return PageSchemas(self.store, page_id, home, floor, self.gaps)

    def tools(self) -> list[dict[str, Any]]:
        return list(self.store.document(TOOLS_FILE)["tools"])

    # -- WebSocket messages ----------------------------------------------------------------------

    def message_page(self, file: str) -> Page:
        doc = self.store.document(file)
        method = doc["properties"]["method"]["const"]
        is_request = file.startswith("ws/requests/")
        page_id, page_since = home(file), since(doc.get("description", ""))
        schemas = self.schemas(page_id, page_since)
        for heading in ("Request", "Response", "Notification", "Other definitions"):
            schemas.reserve(slug(heading))
        direction = (
            "client → handler: a JSON-RPC request, answered with one response carrying its `id`"
            if is_request
            else "handler → client: a JSON-RPC notification (no `id`, no reply)"
        )
        blocks: list[Block] = [
            *description_blocks(doc.get("description", "")),
            Facts(
                (
                    ("Direction", plain(direction)),
                    ("Since", plain(f"protocol {page_since}")),
                    ("Schema", (spec_link(file),)),
                )
            ),
            Heading(2, "Request" if is_request else "Notification"),
            *sections(without_root_description(schemas.expand((Loc(file), None)))),
        ]
        if is_request:
            blocks += self.response_blocks(file, doc, schemas)
        leftovers = [Loc(file).child("$defs", key) for key in doc.get("$defs", {})]
        rest = schemas.expand(*((loc, None) for loc in leftovers if not schemas.contains(loc)))
        if rest:
            blocks += [Heading(2, "Other definitions"), *sections(rest)]
        kind = "request" if is_request else "notification"
        return Page(page_id, f"`{method}` {kind}", tuple(blocks), (file,), TO_WEBSOCKET, f"`{method}`")

    def response_blocks(self, file: str, doc: dict[str, Any], schemas: PageSchemas) -> list[Block]:
        jsonrpc = "common/jsonrpc.json"
        success = Segment("SuccessResponse", Link(home(jsonrpc), "successresponse"))
        failure = Segment("ErrorResponse", Link(home(jsonrpc), "errorresponse"))
        codes = Segment("error codes", Link(home("common/errors.json"), "errorcode"))
        results = [key for key in doc.get("$defs", {}) if key.endswith("Result")]
        blocks: list[Block] = [Heading(2, "Response")]
        if not results:
            blocks.append(Paragraph((Segment("Answered with a "), success, Segment(" or an "), failure, Segment("."))))
            return blocks
        result_loc = Loc(file).child("$defs", results[0])
        made = schemas.expand((result_loc, None))
        result_name = self.store.resolve(result_loc).schema.get("title", results[0])
        blocks.append(
            Paragraph(
                (
                    Segment("On success the handler answers with a "),
                    success,
                    Segment(" whose `result` is "),
                    Segment(result_name, schemas.link_to(result_loc)),
                    Segment("; otherwise with an "),
                    failure,
                    Segment(" (see the "),
                    codes,
                    Segment(")."),
                )
            )
        )
        request_id = next((example.get("id") for example in doc.get("examples", ()) if "id" in example), 1)
        for example in self.store.at(result_loc).get("examples", ()):
            frame = {"jsonrpc": "2.0", "result": example, "id": request_id}
            blocks.append(
                CodeBlock(json_text(frame, indent=2), caption=f"Example response (the {result_name} example)")
            )
        return blocks + sections(made)

    # -- shared definitions ----------------------------------------------------------------------

    def definitions_page(self, file: str, floor: str, breadcrumb: tuple[tuple[str, str], ...]) -> Page:
        doc = self.store.document(file)
        page_id = home(file)
        schemas = self.schemas(page_id, floor)
        schemas.reserve(slug("Definitions"))
        defs = [(Loc(file).child("$defs", key), None) for key in doc.get("$defs", {})]
        blocks: list[Block] = [
            *description_blocks(doc.get("description", "")),
            Facts((("Schema", (spec_link(file),)),)),
            Heading(2, "Definitions"),
            *sections(schemas.expand(*defs)),
        ]
        title = doc.get("title", page_id)
        return Page(page_id, f"Shared definitions: {title}", tuple(blocks), (file,), breadcrumb, title)

    # -- MCP tools -------------------------------------------------------------------------------

    def tool_page(self, tool: dict[str, Any]) -> Page:
        input_file, output_file = f"mcp/{tool['input']}", f"mcp/{tool['output']}"
        page_id = home(input_file)
        schemas = self.schemas(page_id, MCP_SINCE)
        for heading in ("Annotations", "Input", "Output"):
            schemas.reserve(slug(heading))
        hints = tool.get("annotations", {})
        blocks: list[Block] = [
            Paragraph(plain(tool["title"])),
            *description_blocks(tool.get("description", "")),
            Facts(
                (
                    ("Since", plain(f"cc-executor {MCP_SINCE} (every MCP tool)")),
                    ("Input schema", (spec_link(input_file),)),
                    ("Output schema", (spec_link(output_file),)),
                    ("Listed in", (spec_link(TOOLS_FILE),)),
                )
            ),
            Heading(2, "Annotations"),
            Table(
                ("Hint", "Value", "Meaning"),
                tuple(
                    (plain(f"`{name}`"), plain(f"`{json_text(value)}`"), plain(HINT_MEANINGS.get(name, "")))
                    for name, value in hints.items()
                ),
            ),
            Heading(2, "Input"),
            *sections(schemas.expand((Loc(input_file), None))),
            Heading(2, "Output"),
            *sections(schemas.expand((Loc(output_file), None))),
        ]
        name = f"`{tool['name']}`"
        return Page(page_id, f"{name} tool", tuple(blocks), (input_file, output_file), TO_INDEX, name)

    # -- AsyncAPI: the WebSocket overview --------------------------------------------------------

    def message_links(self, message_ref: Loc) -> tuple[str, Link, list[Segment]]:
        """A message's name, the page that best documents its payload, and links to each payload $ref."""
        message = self.store.resolve(message_ref).schema
        payload = message.get("payload", {})
        schema = payload.get("schema", payload) if isinstance(payload, dict) else payload
        refs = sorted(set(collect_refs(schema)), key=lambda ref: (not ref.startswith("./"), ref))
        links = []
        for ref in refs:
            target = SpecStore.ref_target(ref, Loc(ASYNCAPI_FILE))
            anchor = slug(self.store.resolve(target).schema.get("title", target.key)) if target.pointer else ""
            links.append(Segment(f"`{ref}`", Link(home(target.file), anchor)))
        primary = links[0].link if links and links[0].link else Link(WEBSOCKET)
        return message.get("name", message_ref.key), primary, links

    def websocket_page(self) -> Page:
        doc = self.store.document(ASYNCAPI_FILE)
        info, servers, channels = doc["info"], doc.get("servers", {}), doc.get("channels", {})
        urls = [
            f"`{server['protocol']}://{server['host']}{channel['address']}`"
            for channel in channels.values()
            for server in servers.values()
        ]
        blocks: list[Block] = [
            *description_blocks(info.get("description", "")),
            Facts(
                (
                    ("URL", plain(", ".join(urls))),
                    ("API version", plain(str(info.get("version", "")))),
                    ("AsyncAPI document", (spec_link(ASYNCAPI_FILE),)),
                )
            ),
            Heading(2, "Servers"),
            Table(("Server", "Host", "Protocol", "Security", "Description"), self.server_rows(servers)),
            Heading(2, "Security"),
            Table(("Scheme", "Type", "Description"), security_rows(doc)),
            Heading(2, "Channels"),
            Table(("Channel", "Address", "Description"), channel_rows(channels)),
            Heading(2, "Operations"),
            Paragraph(
                plain(
                    "The document describes the handler, so `receive` operations are what a client sends and "
                    "`send` operations are what the handler sends."
                )
            ),
            Table(("Operation", "Direction", "Message", "Reply", "Summary"), self.operation_rows(doc)),
            Heading(2, "Messages"),
            Table(("Message", "Payload", "Summary"), self.message_rows(doc)),
        ]
        return Page(WEBSOCKET, info["title"], tuple(blocks), (ASYNCAPI_FILE,), TO_INDEX, "WebSocket API")

    def server_rows(self, servers: dict[str, Any]) -> tuple[tuple[Rich, ...], ...]:
        return tuple(
            (
                plain(f"`{name}`"),
                plain(f"`{server['host']}`"),
                plain(server["protocol"]),
                plain(", ".join(self.scheme_label(ref) for ref in server.get("security", ())) or "none"),
                plain(server.get("description", "")),
            )
            for name, server in servers.items()
        )

    def scheme_label(self, ref: dict[str, str]) -> str:
        target = SpecStore.ref_target(ref["$ref"], Loc(ASYNCAPI_FILE)) if "$ref" in ref else None
        return f"`{target.key}`" if target else ", ".join(f"`{name}`" for name in ref)

    def linked_messages(self, refs: Iterable[dict[str, str]]) -> Rich:
        parts: list[tuple[Segment, ...]] = []
        for ref in refs:
            name, link, _ = self.message_links(SpecStore.ref_target(ref["$ref"], Loc(ASYNCAPI_FILE)))
            parts.append((Segment(f"`{name}`", link),))
        return join(parts, ", ")

    def operation_rows(self, doc: dict[str, Any]) -> tuple[tuple[Rich, ...], ...]:
        rows = []
        for name, operation in doc.get("operations", {}).items():
            direction = "client → handler" if operation["action"] == "receive" else "handler → client"
            reply = operation.get("reply", {}).get("messages", ())
            rows.append(
                (
                    plain(f"`{name}`"),
                    plain(direction),
                    self.linked_messages(operation.get("messages", ())),
                    self.linked_messages(reply) if reply else plain("—"),
                    plain(operation.get("summary", "")),
                )
            )
        return tuple(rows)

    def message_rows(self, doc: dict[str, Any]) -> tuple[tuple[Rich, ...], ...]:
        rows = []
        for key in doc.get("components", {}).get("messages", {}):
            loc = Loc(ASYNCAPI_FILE).child("components", "messages", key)
            name, link, payload = self.message_links(loc)
            separated = join([(segment,) for segment in payload], " + ")
            rows.append(
                (
                    (Segment(f"`{name}`", link),),
                    separated,
                    plain(self.store.resolve(loc).schema.get("summary", "")),
                )
            )
        return tuple(rows)

    # -- OpenAPI: the HTTP endpoints -------------------------------------------------------------

    def http_page(self, page_id: str) -> Page:
        openapi = OPENAPI_PAGES[page_id]
        doc = self.store.document(openapi.file)
        schemas = self.schemas(page_id, openapi.floor)
        blocks: list[Block] = [
            *description_blocks(doc["info"].get("description", "")),
            Facts(
                (
                    ("Servers", plain(", ".join(f"`{server['url']}`" for server in doc.get("servers", ())))),
                    ("API version", plain(str(doc["info"].get("version", "")))),
                    ("OpenAPI document", (spec_link(openapi.file),)),
                )
            ),
        ]
        for path, operations in doc.get("paths", {}).items():
            for method in operations:
                heading = f"`{method.upper()} {path}`"
                schemas.reserve(slug(heading))
                blocks += self.endpoint_blocks(openapi, heading, path, method, schemas)
        schemas.reserve(slug("Schemas"))
        defs = [(Loc(openapi.file).child("components", "schemas", key), None) for key in self.openapi_schemas(doc)]
        rest = schemas.expand(*((loc, name) for loc, name in defs if not schemas.contains(loc)))
        if rest:
            blocks += [Heading(2, "Schemas"), *sections(rest)]
        return Page(page_id, doc["info"]["title"], tuple(blocks), (openapi.file,), TO_INDEX, openapi.label)

    @staticmethod
    def openapi_schemas(doc: dict[str, Any]) -> list[str]:
        return list(doc.get("components", {}).get("schemas", {}))

    def endpoint_blocks(
        self, openapi: OpenApiPage, heading: str, path: str, method: str, schemas: PageSchemas
    ) -> list[Block]:
        doc = self.store.document(openapi.file)
        operation_loc = Loc(openapi.file).child("paths", path, method)
        operation = self.store.at(operation_loc)
        security = operation.get("security", doc.get("security"))
        auth = ", ".join(f"`{name}`" for requirement in security or () for name in requirement) or "none"
        facts: list[tuple[str, Rich]] = [
            ("Operation id", plain(f"`{operation.get('operationId', '')}`")),
            ("Authentication", plain(auth)),
            (
                "Since",
                plain(since(f"{operation.get('summary', '')} {operation.get('description', '')}", openapi.floor)),
            ),
        ]
        examples: list[Block] = []
        if "requestBody" in operation:
            media, examples = self.content(self.store.resolve(operation_loc.child("requestBody")), "request", schemas)
            facts.append(("Request body", media))
        rows: list[tuple[Rich, ...]] = []
        for status in operation.get("responses", {}):
            response = self.store.resolve(operation_loc.child("responses", status))
            media, response_examples = self.content(response, f"`{status}` response", schemas)
            examples += response_examples
            rows.append((plain(f"`{status}`"), plain(response.schema.get("description", "")), media or plain("—")))
        made = schemas.expand()
        return [
            Heading(2, heading),
            *description_blocks(" ".join(filter(None, (operation.get("summary"), operation.get("description"))))),
            Facts(tuple(facts)),
            Table(("Status", "Description", "Content"), tuple(rows)),
            *examples,
            *sections(made),
        ]

    def content(self, body: Resolved, what: str, schemas: PageSchemas) -> tuple[Rich, list[Block]]:
        """The media types of a request body or response with their schemas, and its examples."""
        media: list[Segment] = []
        examples: list[Block] = []
        for media_type, entry in body.schema.get("content", {}).items():
            media += [Segment(", ")] if media else []
            media.append(Segment(f"`{media_type}`"))
            if "schema" in entry:
                schema_loc = body.origins["content"].child("content", media_type, "schema")
                media += [Segment(": "), *schemas.type_of(schema_loc, hint=what)]
            for name, example in entry.get("examples", {}).items():
                examples.append(
                    CodeBlock(json_text(example.get("value"), indent=2), caption=f"Example {what} ({name})")
                )
            if "example" in entry:
                examples.append(CodeBlock(json_text(entry["example"], indent=2), caption=f"Example {what}"))
        return tuple(media), examples

    # -- the index -------------------------------------------------------------------------------

    def index_page(self, requests: list[str], notifications: list[str], commons: list[str]) -> Page:
        def message_row(file: str) -> tuple[Rich, ...]:
            doc = self.store.document(file)
            name = doc["properties"]["method"]["const"]
            description = doc.get("description", "")
            return (
                (Segment(f"`{name}`", Link(home(file))),),
                plain(first_sentence(description)),
                plain(since(description)),
            )

        def common_row(file: str) -> tuple[Rich, ...]:
            doc = self.store.document(file)
            return (
                (Segment(doc.get("title", file), Link(home(file))),),
                plain(first_sentence(doc.get("description", ""))),
            )

        def endpoints(page_id: str) -> Table:
            paths = self.store.document(OPENAPI_PAGES[page_id].file).get("paths", {})
            return Table(
                ("Endpoint", "Summary"),
                tuple(
                    (
                        (Segment(f"`{method.upper()} {path}`", Link(page_id, slug(f"`{method.upper()} {path}`"))),),
                        plain(operation.get("summary", "")),
                    )
                    for path, operations in paths.items()
                    for method, operation in operations.items()
                ),
            )

        tools = tuple(
            (
                (Segment(f"`{tool['name']}`", Link(home(f"mcp/{tool['input']}"))),),
                plain(tool["title"]),
                plain(", ".join(hint_words(tool.get("annotations", {})))),
            )
            for tool in self.tools()
        )
        mcp_common = "mcp/common.json"
        blocks: list[Block] = [
            Paragraph(
                plain(
                    "Everything a client of cc-executor sends or receives: the handler's WebSocket protocol "
                    "(JSON-RPC 2.0), the bridge's MCP tools and its HTTP transport, and the handler's HTTP "
                    "endpoints. These pages are "
                    "generated from the JSON Schemas in `spec/`, the single source of truth; do not edit them, "
                    "change the spec and run `python scripts/generate_docs.py`."
                )
            ),
            Paragraph(
                plain(
                    "Since: the protocol version a message or field first appeared in. Within a major version "
                    "changes are additive: fields added in 2.0 are optional for clients to read. Every MCP tool "
                    "is 2.0."
                )
            ),
            Facts(
                (
                    ("Markdown", (Segment("docs/reference/README.md", Link(file="docs/reference/README.md")),)),
                    ("HTML", (Segment("docs/reference/html/index.html", Link(file="docs/reference/html/index.html")),)),
                    ("Spec", (Segment("spec/README.md", Link(file="spec/README.md")),)),
                )
            ),
            Heading(2, "WebSocket API (handler)"),
            Paragraph(
                (
                    Segment("The "),
                    Segment("WebSocket overview", Link(WEBSOCKET)),
                    Segment(" has the URL, authentication, and who sends what (from "),
                    spec_link(ASYNCAPI_FILE),
                    Segment(")."),
                )
            ),
            Heading(3, "Requests (client → handler)"),
            Table(("Method", "Summary", "Since"), tuple(message_row(file) for file in requests)),
            Heading(3, "Notifications (handler → client)"),
            Table(("Method", "Summary", "Since"), tuple(message_row(file) for file in notifications)),
            Heading(3, "Shared definitions"),
            Table(("Definitions", "Summary"), tuple(common_row(file) for file in commons)),
            Heading(2, "MCP tools (bridge)"),
            Paragraph((Segment("The tools the bridge lists, as "), spec_link(TOOLS_FILE), Segment(" defines them."))),
            Table(("Tool", "Title", "Hints"), tools),
            Paragraph(
                (
                    Segment("Definitions shared by the tools: "),
                    Segment(self.store.document(mcp_common).get("title", "McpCommon"), Link(home(mcp_common))),
                    Segment("."),
                )
            ),
            Heading(2, "HTTP endpoints (handler)"),
            endpoints(HTTP),
            Heading(2, "MCP over HTTP (bridge)"),
            Paragraph(
                plain("`cc-executor mcp --transport http` serves the tools with MCP's streamable HTTP transport.")
            ),
            endpoints(BRIDGE_HTTP),
        ]
        return Page(INDEX, SITE_TITLE, tuple(blocks), (TOOLS_FILE,), (), "Index")

    # -- the whole site --------------------------------------------------------------------------

    def build(self) -> Site:
        requests, notifications = self.files("ws/requests"), self.files("ws/notifications")
        commons = self.files("common")
        pages = [
            self.websocket_page(),
            *(self.message_page(file) for file in requests),
            *(self.message_page(file) for file in notifications),
            *(self.definitions_page(file, "1.0", TO_WEBSOCKET) for file in commons),
            *(self.tool_page(tool) for tool in self.tools()),
            self.definitions_page("mcp/common.json", MCP_SINCE, TO_INDEX),
            *(self.http_page(page_id) for page_id in OPENAPI_PAGES),
        ]
        pages.insert(0, self.index_page(requests, notifications, commons))
        labels = {page.id: page.label for page in pages}

        def group(title: str, ids: Iterable[str]) -> NavGroup:
            return NavGroup(title, tuple((labels[page_id], page_id) for page_id in ids))

        nav = (
            group("Overview", (INDEX, WEBSOCKET, *OPENAPI_PAGES)),
            group("Requests", (home(file) for file in requests)),
            group("Notifications", (home(file) for file in notifications)),
            group("Shared definitions", (home(file) for file in commons)),
            group("MCP tools", [*(home(f"mcp/{tool['input']}") for tool in self.tools()), "mcp/common"]),
        )
        return Site(SITE_TITLE, tuple(pages), nav)


def security_rows(doc: dict[str, Any]) -> tuple[tuple[Rich, ...], ...]:
    schemes = doc.get("components", {}).get("securitySchemes", {})
    return tuple(
        (
            plain(f"`{name}`"),
            plain(" ".join(str(scheme[key]) for key in ("type", "scheme") if key in scheme)),
            plain(scheme.get("description", "")),
        )
        for name, scheme in schemes.items()
    )


def channel_rows(channels: dict[str, Any]) -> tuple[tuple[Rich, ...], ...]:
    return tuple(
        (plain(f"`{name}`"), plain(f"`{channel['address']}`"), plain(channel.get("description", "")))
        for name, channel in channels.items()
    )


def hint_words(hints: dict[str, bool]) -> list[str]:
    words = {"readOnlyHint": "read-only", "destructiveHint": "destructive", "idempotentHint": "idempotent"}
    found = [word for key, word in words.items() if hints.get(key)]
    if hints.get("openWorldHint"):
        found.append("open world")
    return found


def collect_refs(node: Any) -> list[str]:
    """Every $ref string in a JSON/YAML tree."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for key, value in node.items() if key != "$ref" for ref in collect_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in collect_refs(item)]
    return []


def build_site(spec: Path) -> tuple[Site, list[str]]:
    """The reference for the spec in `spec`, and the gaps noticed (undescribed fields and schemas)."""
    builder = SiteBuilder(spec)
    site = builder.build()
    return site, sorted(set(builder.gaps))
