#!/usr/bin/env python3
"""Install the external tools the end-to-end tests need, into the git-ignored .cache/.

    python scripts/install_test_tools.py            # install what is missing (CI runs this before pytest)
    python scripts/install_test_tools.py --check    # install nothing; exit 1 if a tool is missing
    python scripts/install_test_tools.py --force    # reinstall even what is in place
    python scripts/install_test_tools.py --only claude-cli

Each tool is one small step with a pinned version and a project-local home, so the
tests never depend on what a machine happens to have and nothing is fetched at test
time. A step that finds its tool installed at the pinned version (and working) does
nothing. Steps today:

    claude-cli      @anthropic-ai/claude-code (the real `claude`, a native binary
                    shipped in the npm package) in .cache/claude-cli
    mcp-inspector   @modelcontextprotocol/inspector (its --cli mode drives the
                    bridge as an MCP client) in .cache/mcp-inspector

To add a tool, write a Step (name, is_installed, install) and append it to STEPS.
The tests import this file for the paths and pins (CLAUDE_CLI, MCP_INSPECTOR).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
INSTALL_TIMEOUT_S = 600


class StepFailed(Exception):
    """A tool could not be installed; the message says why and what to do."""


@dataclass(frozen=True)
class NpmTool:
    """An npm package installed with `npm install --prefix <prefix>`, pinned to one version."""

    name: str  # the step's name
    package: str
    version: str
    prefix: Path
    bin_name: str | None  # in node_modules/.bin; None for a library
    version_args: tuple[str, ...] = ("--version",)
    #: the --version output must contain this (None: the command only has to succeed)
    version_marker: str | None = None

    @property
    def bin(self) -> Path:
        assert self.bin_name is not None, f"{self.package} is a library"
        return self.prefix / "node_modules" / ".bin" / self.bin_name

    @property
    def package_dir(self) -> Path:
        return self.prefix / "node_modules" / Path(*self.package.split("/"))

    def installed_version(self) -> str | None:
        try:
            version = json.loads((self.package_dir / "package.json").read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            return None
        return version if isinstance(version, str) else None

    def probe(self) -> tuple[bool, str]:
        """(works, what it printed): run the installed executable's version command."""
        if self.bin_name is None:
            return True, f"{self.package} {self.installed_version()}"
        if not self.bin.exists():
            return False, f"{self.bin} does not exist"
        try:
            done = subprocess.run(
                [str(self.bin), *self.version_args],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"{self.bin} {' '.join(self.version_args)} failed: {exc}"
        output = (done.stdout + done.stderr).strip()
        if done.returncode != 0:
            return False, f"{self.bin} {' '.join(self.version_args)} exited {done.returncode}: {output[-500:]}"
        if self.version_marker and self.version_marker not in output:
            return False, f"{self.bin} {' '.join(self.version_args)} printed {output[-200:]!r}"
        return True, output.splitlines()[-1] if output else ""

    def problem(self) -> str | None:
        """Why this tool is not usable as pinned, or None when it is."""
        version = self.installed_version()
        if version is None:
            return f"{self.package} is not installed in {self.prefix.relative_to(ROOT)}"
        if version != self.version:
            return f"{self.package} {version} is installed in {self.prefix.relative_to(ROOT)}, not {self.version}"
        works, output = self.probe()
        return None if works else output


CLAUDE_CLI = NpmTool(
    name="claude-cli",
    package="@anthropic-ai/claude-code",
    version="2.1.330",
    prefix=CACHE / "claude-cli",
    bin_name="claude",
    version_marker="2.1.330",
)
MCP_INSPECTOR = NpmTool(
    name="mcp-inspector",
    package="@modelcontextprotocol/inspector",
    version="2.12.0",
    prefix=CACHE / "mcp-inspector",
    bin_name="mcp-inspector",
    version_args=("--cli", "--version"),
)

#: The official AsyncAPI parser, for scripts/validate_asyncapi.mjs (the whole @asyncapi/cli is 1.5 GB).
ASYNCAPI_PARSER = NpmTool(
    name="asyncapi-parser",
    package="@asyncapi/parser",
    version="3.6.6",
    prefix=CACHE / "asyncapi-parser",
    bin_name=None,
)


def npm_executable() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise StepFailed(
            "npm was not found on PATH; the end-to-end tests need Node.js and npm "
            "(Debian: apt-get install nodejs npm), then run this script again"
        )
    return npm


def npm_install(tool: NpmTool) -> None:
    """`npm install --prefix` the pinned version; raises StepFailed with npm's output on failure."""
    npm = npm_executable()
    tool.prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(tool.prefix), "--no-audit", "--no-fund", "--no-save"]
    command += ["--loglevel=error", f"{tool.package}@{tool.version}"]
    print(f"  $ {' '.join(command)}", flush=True)
    try:
        done = subprocess.run(
            command,
            cwd=tool.prefix,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"npm install of {tool.package}@{tool.version} took over {INSTALL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise StepFailed(f"npm install of {tool.package}@{tool.version} exited {done.returncode}:\n{output[-3000:]}")


def claude_postinstall(tool: NpmTool) -> None:
    """The claude package's own postinstall (install.cjs) puts the native binary at bin/claude.exe.
    npm runs it today; should an npm refuse install scripts, run it here, as npm would."""
    if tool.probe()[0]:
        return
    script = tool.package_dir / "install.cjs"
    node = shutil.which("node")
    if not script.exists() or node is None:
        return
    print(f"  running {tool.package}'s postinstall (install.cjs), which npm did not run", flush=True)
    subprocess.run([node, str(script)], cwd=tool.package_dir, timeout=120, check=False, stdin=subprocess.DEVNULL)


# -- steps ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    describe: str
    problem: Callable[[], str | None]  # None when the tool is in place and works
    install: Callable[[], None]


def npm_step(tool: NpmTool, after_install: Callable[[NpmTool], None] | None = None) -> Step:
    def install() -> None:
        npm_install(tool)
        if after_install:
            after_install(tool)

    return Step(tool.name, f"{tool.package}@{tool.version} in {tool.prefix.relative_to(ROOT)}", tool.problem, install)


def chromium_problem() -> str | None:
    return None if shutil.which("chromium") else "chromium is not installed (Debian package chromium)"


def install_chromium() -> None:
    """Debian's chromium, for the hostile-browser tests (the probe runs it headless, no sandbox)."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise StepFailed("installing chromium needs root and apt-get: run `apt-get install chromium` as root")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        print(f"  $ {' '.join(command)}", flush=True)
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            env=environment,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise StepFailed(f"{' '.join(command)} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")


STEPS: list[Step] = [
    npm_step(CLAUDE_CLI, claude_postinstall),
    npm_step(MCP_INSPECTOR),
    npm_step(ASYNCAPI_PARSER),
    Step("chromium", "Debian's chromium (headless browser tests)", chromium_problem, install_chromium),
]


def run_step(step: Step, *, force: bool, check_only: bool) -> bool:
    """True when the tool is in place afterwards."""
    problem = step.problem()
    if problem is None and not force:
        print(f"{step.name}: already installed ({step.describe})", flush=True)
        return True
    if check_only:
        print(f"{step.name}: MISSING: {problem}", flush=True)
        return False
    print(f"{step.name}: installing {step.describe}" + (f" ({problem})" if problem else " (--force)"), flush=True)
    try:
        step.install()
    except StepFailed as exc:
        print(f"{step.name}: FAILED: {exc}", file=sys.stderr, flush=True)
        return False
    problem = step.problem()
    if problem is not None:
        print(f"{step.name}: FAILED: installed, but it does not work: {problem}", file=sys.stderr, flush=True)
        return False
    print(f"{step.name}: installed ({step.describe})", flush=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install the end-to-end tests' external tools into .cache/.")
    parser.add_argument("--check", action="store_true", help="install nothing; exit 1 if a tool is missing")
    parser.add_argument("--force", action="store_true", help="reinstall tools that are already in place")
    parser.add_argument("--only", action="append", choices=[s.name for s in STEPS], help="run only this step")
    args = parser.parse_args(argv)
    steps = [s for s in STEPS if not args.only or s.name in args.only]
    failed = [s.name for s in steps if not run_step(s, force=args.force, check_only=args.check)]
    if failed:
        verb = "missing" if args.check else "failed"
        print(f"install_test_tools: {verb}: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
