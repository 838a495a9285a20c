"""Where pages are written and how one page links to another, for each output format."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from .model import Link

DOCS_ROOT = "docs/reference"  # relative to the repository root


@dataclass(frozen=True)
class Layout:
    """File names of a format: `folder` under docs/reference, page extension, name of the index page."""

    folder: str
    extension: str
    index_name: str

    def path(self, page_id: str) -> str:
        """Path of a page relative to docs/reference."""
        name = self.index_name if page_id == "index" else f"{page_id}{self.extension}"
        return posixpath.join(self.folder, name) if self.folder else name

    def repo_path(self, page_id: str) -> str:
        return posixpath.join(DOCS_ROOT, self.path(page_id))

    def href(self, link: Link, current: str) -> str:
        """A relative URL from page `current` to `link`."""
        here = posixpath.dirname(self.repo_path(current))
        if link.file:
            return posixpath.relpath(link.file, here)
        fragment = f"#{link.anchor}" if link.anchor else ""
        if link.page == current and fragment:
            return fragment
        return posixpath.relpath(self.repo_path(link.page), here) + fragment


MARKDOWN = Layout(folder="", extension=".md", index_name="README.md")
HTML = Layout(folder="html", extension=".html", index_name="index.html")
