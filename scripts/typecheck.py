"""Type-check the product code with `mypy --strict`, as the installed package `cc_executor` sees it.

The project's top-level folders (handler/, bridge/, generated/, contract_tests/) are the
subpackages cc_executor.handler, cc_executor.bridge, ... once installed (pyproject's
package-dir). A checker run in the checkout cannot see that mapping, so this script lays
the package out under .cache/typecheck/ as symlinks to the real files, checks it there,
and reports every error at its real path in the checkout. Scripts are checked too.

    python scripts/typecheck.py          # exit 0 when there is no error
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ROOT / ".cache" / "typecheck"
PACKAGE = "cc_executor"


def package_dirs() -> dict[str, Path]:
    """{'cc_executor.handler': <root>/handler, ...} from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in config["package-dir"].items()}


def lay_out() -> dict[str, str]:
    """Build the symlinked package; return {path under LAYOUT: path in the checkout} for every module."""
    shutil.rmtree(LAYOUT, ignore_errors=True)
    real_of: dict[str, str] = {}
    for name, folder in sorted(package_dirs().items()):
        target = LAYOUT.joinpath(*name.split("."))
        for source in sorted(folder.rglob("*.py")):
            relative = source.relative_to(folder)
            if "__pycache__" in relative.parts:
                continue
            link = target / relative
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(source)
            real_of[link.relative_to(LAYOUT).as_posix()] = source.relative_to(ROOT).as_posix()
    return real_of


def main() -> int:
    real_of = lay_out()
    scripts = sorted(str(p) for p in (ROOT / "scripts").rglob("*.py") if "__pycache__" not in p.parts)
    environment = {**os.environ, "MYPYPATH": f"{LAYOUT}{os.pathsep}{ROOT / 'scripts'}"}
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(ROOT / ".cache" / "mypy"),
        PACKAGE,
        *scripts,
    ]
    checked = subprocess.run(command, cwd=LAYOUT, env=environment, capture_output=True, text=True)
    for line in (checked.stdout + checked.stderr).splitlines():
        path, colon, rest = line.partition(":")
        if path in real_of:
            path = real_of[path]
        elif path.startswith(str(ROOT) + os.sep):  # the scripts, given by absolute path
            path = os.path.relpath(path, ROOT)
        print(f"{path}{colon}{rest}")
    return checked.returncode


if __name__ == "__main__":
    sys.exit(main())
