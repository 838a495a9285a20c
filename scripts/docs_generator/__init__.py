"""Reference documentation generated from spec/: one intermediate model, rendered as Markdown and HTML.

    site, gaps = build_site(Path("spec"))
    files = render(site)  # {path relative to docs/reference: text}

`pages` reads the spec (JSON Schema files, tools.yaml, asyncapi.yaml, openapi.yaml) into
`model` pages; `markdown` and `html` render them. The output depends only on spec/.
"""

from __future__ import annotations

from .html import render_html
from .markdown import render_markdown
from .model import Site
from .pages import build_site


def render(site: Site) -> dict[str, str]:
    """Every file of docs/reference, keyed by its path relative to docs/reference, in sorted order."""
    files = {**render_markdown(site), **render_html(site)}
    return dict(sorted(files.items()))


__all__ = ["build_site", "render"]
