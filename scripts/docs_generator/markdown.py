"""Rendering pages as Markdown (GitHub-flavoured) for reading on a code host."""

from __future__ import annotations

import re

from .links import MARKDOWN
from .model import (
    Block,
    CodeBlock,
    Facts,
    FieldRow,
    Heading,
    Link,
    Page,
    Paragraph,
    Rich,
    SchemaSection,
    Section,
    Site,
    Table,
)
from .text import split_code

HEADER = "<!-- Generated from spec/ by scripts/generate_docs.py. Do not edit by hand. -->"


def escape(text: str, in_table: bool) -> str:
    """Plain text made literal: no emphasis, links or HTML; pipes escaped inside tables."""
    text = re.sub(r"([\\*\[\]<>])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    return text.replace("|", r"\|") if in_table else text


def inline(text: str, in_table: bool = False) -> str:
    """Inline text (backtick spans are code) as Markdown."""
    text = re.sub(r"\s+", " ", text) if in_table else text
    parts = []
    for piece, is_code in split_code(text):
        if is_code:
            parts.append("`" + (piece.replace("|", r"\|") if in_table else piece) + "`")
        else:
            parts.append(escape(piece, in_table))
    return "".join(parts)


def closed_note(section: Section) -> str:
    if not section.closed:
        return ""
    return " (closed: no other fields)" if section.fields else " (no fields allowed)"


class MarkdownRenderer:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.page_id = ""

    def rich(self, content: Rich, in_table: bool = False) -> str:
        out = []
        for segment in content:
            text = inline(segment.text, in_table)
            out.append(f"[{text}]({MARKDOWN.href(segment.link, self.page_id)})" if segment.link else text)
        return "".join(out)

    def page(self, page: Page) -> str:
        self.page_id = page.id
        lines = [HEADER, ""]
        if page.breadcrumb:
            crumbs = [
                f"[{inline(label)}]({MARKDOWN.href(Link(page_id), page.id)})" for label, page_id in page.breadcrumb
            ]
            lines += [" › ".join(crumbs), ""]
        lines += [f"# {inline(page.title)}", ""]
        for block in page.blocks:
            lines += self.block(block)
        while lines and lines[-1] == "":
            lines.pop()
        return "\n".join(lines) + "\n"

    def block(self, block: Block) -> list[str]:
        if isinstance(block, Heading):
            return [f"{'#' * block.level} {inline(block.text)}", ""]
        if isinstance(block, Paragraph):
            return [self.rich(block.content), ""]
        if isinstance(block, Facts):
            return [*(f"- **{label}:** {self.rich(value)}" for label, value in block.rows), ""]
        if isinstance(block, Table):
            return self.table(block.header, [[self.rich(cell, True) for cell in row] for row in block.rows])
        if isinstance(block, CodeBlock):
            return self.code(block)
        if isinstance(block, SchemaSection):
            return self.section(block.section, block.level)
        raise TypeError(f"unknown block {block!r}")

    @staticmethod
    def table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
        return [*lines, ""]

    @staticmethod
    def code(block: CodeBlock) -> list[str]:
        fence = "```"
        while fence in block.code:
            fence += "`"
        caption = [inline(block.caption) + ":", ""] if block.caption else []
        return [*caption, fence + block.language, block.code, fence, ""]

    def section(self, section: Section, level: int) -> list[str]:
        lines = [f"{'#' * level} {inline(section.name)}", ""]
        if section.description:
            lines += [inline(section.description), ""]
        meta = [f"Type: {self.rich(section.type)}" + closed_note(section)]
        meta.append(f"Since: {section.since}")
        if section.defined_in:
            target = self.site.page(section.defined_in.page)
            meta.append(f"Defined in: [{inline(target.title)}]({MARKDOWN.href(section.defined_in, self.page_id)})")
        lines += [" · ".join(meta), ""]
        details = self.details(section.values, section.default, section.constraints)
        lines += [*(f"- {detail}" for detail in details), ""] if details else []
        if section.fields:
            rows = [self.field(row) for row in section.fields]
            lines += self.table(("Field", "Type", "Required", "Since", "Description"), rows)
        for index, example in enumerate(section.examples):
            label = "Example" if len(section.examples) == 1 else f"Example {index + 1}"
            lines += self.code(CodeBlock(example, caption=label))
        return lines

    def field(self, row: FieldRow) -> list[str]:
        parts = [inline(row.description, True)] if row.description else []
        parts += self.details(row.values, row.default, row.constraints, in_table=True)
        return [
            f"`{row.name}`",
            self.rich(row.type, True),
            "required" if row.required else "optional",
            row.since,
            "<br>".join(parts),
        ]

    @staticmethod
    def details(
        values: tuple[str, ...], default: str | None, limits: tuple[str, ...], in_table: bool = False
    ) -> list[str]:
        def code(text: str) -> str:
            return inline(f"`{text}`", in_table)

        found = []
        if len(values) == 1:
            found.append(f"Value: {code(values[0])}")
        elif values:
            found.append("Values: " + ", ".join(code(value) for value in values))
        if default is not None:
            found.append(f"Default: {code(default)}")
        if limits:
            found.append("Constraints: " + ", ".join(inline(limit, in_table) for limit in limits))
        return found


def render_markdown(site: Site) -> dict[str, str]:
    """Every page as Markdown, keyed by its path relative to docs/reference."""
    renderer = MarkdownRenderer(site)
    return {MARKDOWN.path(page.id): renderer.page(page) for page in site.pages}
