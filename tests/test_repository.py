"""Repository-level gates: generated/ matches spec/, style, packaging, the CLI's help."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Test", 1)[1]
    command = section.split("```sh\n", 1)[1].split("\n```", 1)[0].strip()
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines == [command]


def test_generated_models_match_the_spec():
    result = run(sys.executable, "scripts/generate_models.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted_and_lint_free():
    ruff = str(Path(sys.executable).with_name("ruff"))
    lint = run(ruff, "check", ".")
    assert lint.returncode == 0, lint.stdout
    formatting = run(ruff, "format", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout


def test_product_code_passes_mypy_strict():
    result = run(sys.executable, "scripts/typecheck.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_python_package_is_declared_for_installation():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_of = {package: folder for package, folder in config["package-dir"].items()}
    declared = set(config["packages"])
    for package, folder in folder_of.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            name = ".".join([package, *relative.parts])
            assert name in declared, f"{name} ({init.parent}) is missing from [tool.setuptools] packages"


def test_every_library_the_product_imports_is_a_declared_dependency():
    """`pip install .` installs [project] dependencies only: a library the product imports that only a dev tool
    brings along (pathspec came with mypy) works in the test venv and fails for every user."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {
        _normalized(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0])
        for requirement in project["project"]["dependencies"]
    }
    distributions = importlib.metadata.packages_distributions()
    undeclared: dict[str, set[str]] = {}
    for folder in set(project["tool"]["setuptools"]["package-dir"].values()):
        for path in (ROOT / folder).rglob("*.py"):
            for module in _absolute_imports(path):
                if module in sys.stdlib_module_names or module == "cc_executor":
                    continue
                for distribution in distributions.get(module, [module]):
                    if _normalized(distribution) not in declared:
                        undeclared.setdefault(distribution, set()).add(path.relative_to(ROOT).as_posix())
    assert undeclared == {}, f"imported but not in [project] dependencies: {undeclared}"


def _absolute_imports(path: Path) -> set[str]:
    """The top-level names of the modules a file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_no_test_module_ships_in_the_package():
    """pytest modules live under tests/: whatever sits in a package folder is installed with the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = [
        path.relative_to(ROOT).as_posix()
        for folder in set(config["package-dir"].values())
        for pattern in ("test_*.py", "*_test.py", "conftest.py")
        for path in (ROOT / folder).rglob(pattern)
    ]
    assert shipped == []


def test_cli_help_and_version():
    for args in (["--help"], ["handler", "--help"]):
        result = run(sys.executable, "-m", "cc_executor", *args)
        assert result.returncode == 0 and "Usage" in result.stdout, result.stderr
    assert run(sys.executable, "-m", "cc_executor", "--version").stdout.startswith("cc-executor ")
    unknown = run(sys.executable, "-m", "cc_executor", "frobnicate")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
