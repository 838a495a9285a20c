"""The reference docs (docs/reference, made from spec/) and the AsyncAPI document spec/ws/asyncapi.yaml.

- docs/reference is what scripts/generate_docs.py makes from spec/ today;
- every spec file has its page, and every link of both formats lands on a file and an anchor;
- the HTML site needs nothing but the files (no server, no external assets);
- every $ref of asyncapi.yaml resolves, and every WebSocket message file is in it;
- the official AsyncAPI CLI (installed by scripts/install_test_tools.py) finds it valid.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from cc_executor.handler.protocol_mode import MODES

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
REFERENCE = ROOT / "docs" / "reference"
HTML = REFERENCE / "html"
ASYNCAPI = SPEC / "ws" / "asyncapi.yaml"
INSTALL_HINT = "run `.venv/bin/python scripts/install_test_tools.py` (CI runs it before pytest)"


# -- the docs are current and complete ------------------------------------------------------------


def test_docs_match_the_spec():
    result = subprocess.run(
        [sys.executable, "scripts/generate_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def pages_for(spec_file: str) -> list[str]:
    """The page ids that document a spec file (relative to spec/), by the generator's conventions."""
    stem = posixpath.splitext(spec_file)[0]
    if spec_file == "ws/asyncapi.yaml":
        return ["websocket"]
    if spec_file == "http/openapi.yaml":
        return ["http"]
    if spec_file == "http/bridge-openapi.yaml":
        return ["bridge-http"]
    if spec_file == "mcp/tools.yaml":
        tools = yaml.safe_load((SPEC / spec_file).read_text(encoding="utf-8"))["tools"]
        return ["index", *(f"mcp/{tool['name']}" for tool in tools)]
    if re.fullmatch(r"(ws/requests|ws/notifications|common)/[^/]+\.json|mcp/common\.json", spec_file):
        return [stem]
    if match := re.fullmatch(r"mcp/(.+)_(input|output)\.json", spec_file):
        return [f"mcp/{match[1]}"]
    pytest.fail(f"spec/{spec_file} is a new kind of spec file: teach scripts/docs_generator (and this test) its page")


def spec_files() -> list[str]:
    return sorted(
        path.relative_to(SPEC).as_posix() for path in SPEC.rglob("*") if path.suffix in (".json", ".yaml", ".yml")
    )


@pytest.mark.parametrize("spec_file", spec_files())
def test_every_spec_file_has_a_page_in_both_formats(spec_file):
    for page in pages_for(spec_file):
        markdown = REFERENCE / ("README.md" if page == "index" else f"{page}.md")
        html = HTML / f"{page}.html"
        assert markdown.is_file(), f"spec/{spec_file}: {markdown.relative_to(ROOT)} is missing"
        assert html.is_file(), f"spec/{spec_file}: {html.relative_to(ROOT)} is missing"
        assert f"spec/{spec_file}" in markdown.read_text(encoding="utf-8"), f"{markdown} does not cite spec/{spec_file}"


def test_the_index_lists_every_method_and_tool():
    index = (REFERENCE / "README.md").read_text(encoding="utf-8")
    for path in sorted((SPEC / "ws").glob("*/*.json")):
        method = json.loads(path.read_text(encoding="utf-8"))["properties"]["method"]["const"]
        assert f"[`{method}`]" in index, method
    for tool in yaml.safe_load((SPEC / "mcp" / "tools.yaml").read_text(encoding="utf-8"))["tools"]:
        assert f"[`{tool['name']}`]" in index, tool["name"]


# -- links ----------------------------------------------------------------------------------------


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag in ("script", "link", "img", "iframe") or "src" in values:
            self.external.append(f"<{tag} {values}>")


def parse_html(path: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def heading_anchors(markdown: str) -> set[str]:
    """The anchors a code host gives the headings of a Markdown page."""
    anchors = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            text = match[1].replace("`", "").replace("\\", "").strip().lower()
            anchors.add("".join(ch for ch in text if ch.isalnum() or ch in " -_").replace(" ", "-"))
    return anchors


def broken_links(page: Path, hrefs: list[str], anchors_of) -> list[str]:
    broken = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            broken.append(f"{href} (external)")
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.is_file():
            broken.append(f"{href} (no such file)")
        elif parts.fragment and parts.fragment not in anchors_of(target):
            broken.append(f"{href} (no such anchor)")
    return broken


def test_html_site_links_resolve_to_files_and_anchors():
    pages = sorted(HTML.rglob("*.html"))
    assert HTML / "index.html" in pages
    parsed = {page: parse_html(page) for page in pages}

    def anchors(target: Path) -> set[str]:
        return parsed[target].ids if target in parsed else set()

    problems = [
        f"{page.relative_to(ROOT)}: {bad}" for page in pages for bad in broken_links(page, parsed[page].links, anchors)
    ]
    assert not problems, "\n".join(problems)
    reachable = {(HTML / "index.html").parent / unquote(urlsplit(h).path) for h in parsed[HTML / "index.html"].links}
    assert {page.resolve() for page in pages} <= {path.resolve() for path in reachable}, (
        "a page is not linked from the index"
    )


def test_html_site_needs_no_server_and_no_external_assets():
    for page in sorted(HTML.rglob("*.html")):
        parser = parse_html(page)
        assert not parser.external, f"{page.relative_to(ROOT)} loads {parser.external}"
        assert "<style>" in page.read_text(encoding="utf-8"), f"{page.relative_to(ROOT)} has no inline CSS"


def test_markdown_links_resolve_to_files_and_anchors():
    pages = sorted(p for p in REFERENCE.rglob("*.md"))
    texts = {page: page.read_text(encoding="utf-8") for page in pages}

    def anchors(target: Path) -> set[str]:
        return heading_anchors(texts[target]) if target in texts else set()

    problems = []
    for page, text in texts.items():
        prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        hrefs = re.findall(r"\]\(([^)\s]+)\)", prose)
        problems += [f"{page.relative_to(ROOT)}: {bad}" for bad in broken_links(page, hrefs, anchors)]
    assert not problems, "\n".join(problems)


# -- AsyncAPI ------------------------------------------------------------------------------------


def asyncapi() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs_in(item)]
    return []


def follow_pointer(document: Any, pointer: str) -> Any:
    node = document
    for token in filter(None, pointer.split("/")):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def test_every_asyncapi_ref_resolves():
    document = asyncapi()
    refs = refs_in(document)
    assert refs
    for ref in refs:
        file_part, _, pointer = ref.partition("#")
        if file_part:
            assert not urlsplit(file_part).scheme, f"{ref}: refs must be relative paths"
            target = (ASYNCAPI.parent / file_part).resolve()
            assert target.is_file(), f"{ref}: {target} does not exist"
            assert SPEC.resolve() in target.parents, f"{ref} points outside spec/"
            content = (
                json.loads(target.read_text(encoding="utf-8"))
                if target.suffix == ".json"
                else yaml.safe_load(target.read_text(encoding="utf-8"))
            )
        else:
            content = document
        try:
            follow_pointer(content, pointer)
        except (KeyError, IndexError, ValueError) as exc:
            pytest.fail(f"{ref}: the pointer does not resolve ({exc!r})")


def whole_file_payloads(document: dict[str, Any]) -> dict[Path, dict[str, Any]]:
    """Message file → the AsyncAPI message whose payload is that whole file."""
    found = {}
    for message in document["components"]["messages"].values():
        payload = message["payload"]
        schema = payload.get("schema", payload)
        if "$ref" in schema and "#" not in schema["$ref"]:
            found[(ASYNCAPI.parent / schema["$ref"]).resolve()] = message
    return found


def test_every_websocket_message_file_is_in_asyncapi():
    document = asyncapi()
    payloads = whole_file_payloads(document)
    files = sorted((SPEC / "ws").glob("*/*.json"))
    assert files
    for path in files:
        assert path.resolve() in payloads, f"{path.relative_to(ROOT)} is not a message payload in spec/ws/asyncapi.yaml"
        method = json.loads(path.read_text(encoding="utf-8"))["properties"]["method"]["const"]
        assert payloads[path.resolve()]["name"] == method, f"{path.relative_to(ROOT)}: message name is not {method!r}"


def test_asyncapi_operations_match_message_directions():
    """Requests are operations the handler receives and answers; notifications are ones it sends."""
    document = asyncapi()
    kinds = sorted((path.parent.name, message["name"]) for path, message in whole_file_payloads(document).items())

    def message_of(ref: str) -> dict[str, Any]:
        node = follow_pointer(document, ref.removeprefix("#"))
        return follow_pointer(document, node["$ref"].removeprefix("#")) if "$ref" in node else node

    actions: dict[str, set[str]] = {}
    replies: dict[str, bool] = {}
    for operation in document["operations"].values():
        for ref in operation["messages"]:
            name = message_of(ref["$ref"]).get("name", "")
            actions.setdefault(name, set()).add(operation["action"])
            replies[name] = replies.get(name, False) or bool(operation.get("reply", {}).get("messages"))
    assert kinds
    for folder, name in kinds:
        if folder == "requests":
            answered = not any(name in mode.silent_methods for mode in MODES)  # e.g. pong: accepted, never answered
            assert actions.get(name) == {"receive"} and replies[name] == answered, (
                f"request {name} needs a receive operation" + (" with a reply" if answered else " without a reply")
            )
        else:
            assert actions.get(name) == {"send"}, f"notification {name} needs a send operation"


def asyncapi_parser_prefix() -> Path:
    """Where scripts/install_test_tools.py put the pinned @asyncapi/parser."""
    import install_test_tools as tools  # scripts/, on the path through tests/conftest.py

    problem = tools.ASYNCAPI_PARSER.problem()
    if problem is not None:
        pytest.fail(f"the AsyncAPI parser is not usable: {problem}; {INSTALL_HINT}", pytrace=False)
    return tools.ASYNCAPI_PARSER.prefix


def validate_asyncapi(document: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is not installed"
    return subprocess.run(
        [node, str(ROOT / "scripts" / "validate_asyncapi.mjs"), str(asyncapi_parser_prefix()), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_asyncapi_document_is_valid_for_the_official_parser():
    result = validate_asyncapi(ASYNCAPI)
    assert result.returncode == 0 and "valid:" in result.stdout, result.stdout + result.stderr


def test_the_official_parser_catches_a_broken_document(tmp_path):
    copy = tmp_path / "spec"
    shutil.copytree(SPEC, copy)
    broken = copy / "ws" / "asyncapi.yaml"
    broken.write_text(broken.read_text().replace("./requests/execute.json", "./requests/missing.json"))
    result = validate_asyncapi(broken)
    assert result.returncode == 1 and "missing.json" in result.stdout, result.stdout


def test_no_doc_installs_from_a_package_index():
    """cc-executor is not published: an install line that names it on a package index fails for every reader."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    index_install = re.compile(r"\b(pip|pipx|uv tool|uv pip) install (-\S+ )*cc[-_]executor\b")
    offending = [
        f"{page.relative_to(ROOT)}: {m.group()}" for page in pages for m in index_install.finditer(page.read_text())
    ]
    assert offending == []
