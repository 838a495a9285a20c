"""Rendering pages as a static HTML site that opens from disk: inline CSS, relative links, no scripts."""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .links import HTML
from .markdown import closed_note
from .model import Block, Link, Page, Rich, Site
from .text import split_code

TEMPLATES = Path(__file__).resolve().parent / "templates"


def inline(text: str) -> Markup:
    """Inline text (backtick spans are code) as HTML."""
    parts = []
    for piece, is_code in split_code(text):
        parts.append(f"<code>{escape(piece)}</code>" if is_code else escape(piece))
    return Markup("".join(parts))


def block_kind(block: Block) -> str:
    return type(block).__name__


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["inline"] = inline
    env.filters["kind"] = block_kind
    env.filters["closed_note"] = closed_note
    return env


def render_page(env: Environment, site: Site, page: Page, css: str) -> str:
    def href(link_page: str = "", anchor: str = "", file: str = "") -> str:
        return HTML.href(Link(link_page, anchor, file), page.id)

    def rich(content: Rich) -> Markup:
        out = []
        for segment in content:
            text = inline(segment.text)
            if segment.link:
                out.append(Markup('<a href="{}">{}</a>').format(HTML.href(segment.link, page.id), text))
            else:
                out.append(text)
        return Markup("").join(out)

    html = env.get_template("page.html.j2").render(
        site=site, page=page, css=Markup(css), href=href, rich=rich, current=page.id
    )
    check_unique_ids(page.id, html)
    return html


def check_unique_ids(page_id: str, html: str) -> None:
    """Fail loudly when two elements of a page share an id (a link would land on the wrong one)."""
    counts = Counter(re.findall(r'\sid="([^"]+)"', html))
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise ValueError(f"page {page_id}: duplicate ids {duplicates}")


def render_html(site: Site) -> dict[str, str]:
    """Every page as HTML, keyed by its path relative to docs/reference."""
    env = environment()
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    return {HTML.path(page.id): render_page(env, site, page, css) for page in site.pages}
