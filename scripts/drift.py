"""Shared by the generators: compare a freshly generated tree with the committed one, or replace it."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths of files that differ between two trees, or exist in only one."""

    def files(top: Path) -> set[Path]:
        found = (p.relative_to(top) for p in top.rglob("*") if p.is_file()) if top.is_dir() else ()
        return {p for p in found if "__pycache__" not in p.parts}

    left_files, right_files = files(left), files(right)
    changed = [str(p) for p in sorted(left_files ^ right_files)]
    changed += [str(p) for p in sorted(left_files & right_files) if not filecmp.cmp(left / p, right / p, shallow=False)]
    return sorted(changed)


def check_or_write(fresh: Path, committed: Path, *, check: bool, name: str, command: str) -> int:
    """--check: exit status 1 and the stale files when `committed` differs from `fresh`; else replace it."""
    stale = differences(fresh, committed)
    count = sum(1 for p in fresh.rglob("*") if p.is_file())
    if check:
        if stale:
            print(f"{name} is stale; run `{command}`. Differs:", *stale, sep="\n  ")
            return 1
        print(f"{name} is current ({count} files)")
        return 0
    shutil.rmtree(committed, ignore_errors=True)
    shutil.copytree(fresh, committed)
    print(f"wrote {name} ({count} files, {len(stale)} changed)")
    return 0
