#!/usr/bin/env python3
"""Regenerate docs/reference/ (Markdown and a static HTML site) from the spec in spec/.

    python scripts/generate_docs.py          # rewrite docs/reference/
    python scripts/generate_docs.py --check  # exit 1 if docs/reference/ differs from the spec
    python scripts/generate_docs.py --gaps   # also list fields and schemas the spec leaves undescribed

The output depends only on spec/, the CLI's definitions (configuration.md) and the
templates in scripts/docs_generator/: no
timestamps, pages in a fixed order, deterministic JSON. docs/reference/README.md is the
index on a code host; docs/reference/html/index.html opens from disk.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_generator import build_site, render
from docs_generator.cli_reference import render_configuration
from drift import check_or_write

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
REFERENCE = ROOT / "docs" / "reference"


def generate(into: Path) -> list[str]:
    """Write the reference into `into`; return the spec gaps noticed on the way."""
    site, gaps = build_site(SPEC)
    pages = {**render(site), "configuration.md": render_configuration()}
    for relative, text in pages.items():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when docs/reference/ is stale")
    parser.add_argument("--gaps", action="store_true", help="list fields and schemas without a description")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        fresh = Path(out_dir) / "reference"
        gaps = generate(fresh)
        if args.gaps:
            print(f"{len(gaps)} undescribed fields/schemas:", *gaps, sep="\n  ")
        return check_or_write(
            fresh, REFERENCE, check=args.check, name="docs/reference/", command="python scripts/generate_docs.py"
        )


if __name__ == "__main__":
    sys.exit(main())
