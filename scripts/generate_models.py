#!/usr/bin/env python3
"""Regenerate generated/ from the JSON Schemas in spec/ (the only way generated/ changes).

    python scripts/generate_models.py          # rewrite generated/
    python scripts/generate_models.py --check  # exit 1 if generated/ differs from the spec

The output depends only on spec/ and the pinned datamodel-code-generator and ruff
versions (see pyproject.toml): no timestamps, files in sorted order, ruff-formatted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from drift import check_or_write  # scripts/, this script's own folder

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
GENERATED = ROOT / "generated"

CODEGEN_OPTIONS = [
    "--input-file-type",
    "jsonschema",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--target-python-version",
    "3.11",
    "--disable-timestamp",
    "--use-title-as-name",
    "--use-standard-collections",
    "--use-union-operator",
    "--field-constraints",
    "--use-schema-description",
    "--use-field-description",
    "--enum-field-as-literal",
    "all",
    "--use-double-quotes",
    "--collapse-root-models",
    "--use-annotated",
    "--formatters",
    "ruff-format",
]
HEADER = "Generated from spec/ by scripts/generate_models.py. Do not edit by hand."


def generate(into: Path) -> None:
    """Run datamodel-code-generator over spec/'s JSON files into `into`."""
    with tempfile.TemporaryDirectory() as staging_dir:
        staging = Path(staging_dir) / "spec"
        for schema in sorted(SPEC.rglob("*.json")):
            target = staging / schema.relative_to(SPEC)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(schema, target)
        codegen = Path(sys.executable).with_name("datamodel-codegen")
        command = [
            str(codegen) if codegen.exists() else "datamodel-codegen",
            "--input",
            str(staging),
            "--output",
            str(into),
            "--custom-file-header",
            f"# {HEADER}",
            *CODEGEN_OPTIONS,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, cwd=staging_dir)
        if completed.returncode != 0:
            sys.exit(f"datamodel-codegen failed:\n{completed.stderr}")
    for cache in into.rglob(".ruff_cache"):
        shutil.rmtree(cache)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when generated/ is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        fresh = Path(out_dir) / "generated"
        generate(fresh)
        return check_or_write(
            fresh, GENERATED, check=args.check, name="generated/", command="python scripts/generate_models.py"
        )


if __name__ == "__main__":
    sys.exit(main())
