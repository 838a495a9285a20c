"""The intermediate model of the reference: pages made of blocks, rendered to Markdown and to HTML.

Text in the model is "inline text": plain text in which backtick spans are code, nothing else
is markup. Each renderer escapes it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .text import slug


@dataclass(frozen=True)
class Link:
    """A link to a page of the reference (and a section on it), or to a file of the repository."""

    page: str = ""  # page id, e.g. "ws/requests/execute"
    anchor: str = ""  # section anchor on that page
    file: str = ""  # repository-relative path, for links to spec files


@dataclass(frozen=True)
class Segment:
    """A run of inline text, linked or not."""

    text: str
    link: Link | None = None


Rich = tuple[Segment, ...]


def plain(text: str) -> Rich:
    return (Segment(text),)


@dataclass(frozen=True)
class FieldRow:
    """One property of an object schema."""

    name: str
    type: Rich
    required: bool
    since: str
    description: str
    values: tuple[str, ...] = ()  # allowed values (enum/const) as JSON text
    default: str | None = None  # JSON text
    constraints: tuple[str, ...] = ()  # inline text, e.g. "max length 128"


@dataclass(frozen=True)
class Section:
    """One schema: an object with its fields, or a named value type (scalar, enum, union)."""

    name: str
    anchor: str
    since: str
    description: str
    type: Rich
    fields: tuple[FieldRow, ...] = ()
    is_object: bool = False
    closed: bool = False
    values: tuple[str, ...] = ()
    default: str | None = None
    constraints: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()  # JSON text, pretty-printed
    defined_in: Link | None = None  # where the schema lives, when not on this page's own file


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # inline text

    @property
    def anchor(self) -> str:
        return slug(self.text)


@dataclass(frozen=True)
class Paragraph:
    content: Rich


@dataclass(frozen=True)
class Facts:
    """Label/value pairs shown near the top of a page."""

    rows: tuple[tuple[str, Rich], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Rich, ...], ...]


@dataclass(frozen=True)
class CodeBlock:
    code: str
    language: str = "json"
    caption: str = ""  # inline text shown above the block


@dataclass(frozen=True)
class SchemaSection:
    section: Section
    level: int = 3


Block = Heading | Paragraph | Facts | Table | CodeBlock | SchemaSection


@dataclass(frozen=True)
class Page:
    id: str  # "index", "websocket", "ws/requests/execute", ...
    title: str  # inline text
    blocks: tuple[Block, ...]
    sources: tuple[str, ...] = ()  # spec files (relative to spec/) the page documents
    breadcrumb: tuple[tuple[str, str], ...] = ()  # (label, page id) from the index down to the parent
    nav_label: str = ""  # short name in navigation; the title when empty

    @property
    def label(self) -> str:
        return self.nav_label or self.title


@dataclass(frozen=True)
class NavGroup:
    title: str
    pages: tuple[tuple[str, str], ...]  # (label, page id)


@dataclass(frozen=True)
class Site:
    title: str
    pages: tuple[Page, ...]
    nav: tuple[NavGroup, ...] = field(default=())

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)
