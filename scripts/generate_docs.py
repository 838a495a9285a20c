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
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_generator import build_site, render
from docs_generator.cli_reference import render_configuration

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


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths of files that differ between two trees, or exist in only one."""

    def files(top: Path) -> set[Path]:
        return {p.relative_to(top) for p in top.rglob("*") if p.is_file()} if top.is_dir() else set()

    left_files, right_files = files(left), files(right)
    changed = [str(p) for p in sorted(left_files ^ right_files)]
    changed += [str(p) for p in sorted(left_files & right_files) if not filecmp.cmp(left / p, right / p, shallow=False)]
    return sorted(changed)


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
        stale = differences(fresh, REFERENCE)
        count = sum(1 for p in fresh.rglob("*") if p.is_file())
        if args.check:
            if stale:
                print("docs/reference/ is stale; run `python scripts/generate_docs.py`. Differs:", *stale, sep="\n  ")
                return 1
            print(f"docs/reference/ matches spec/ ({count} files)")
            return 0
        shutil.rmtree(REFERENCE, ignore_errors=True)
        shutil.copytree(fresh, REFERENCE)
        print(f"wrote docs/reference/ ({count} files, {len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
