"""Claude Code's permission rules (allow_rules / deny_rules of a task), matched against the calls Claude asks about.

The syntax is Claude Code's own (its settings' `permissions.allow` / `deny`):

* `Tool` matches every call of the tool; `mcp__server` (or `mcp__server__*`) every tool of an MCP server.
* `Bash(npm run test)` matches that command exactly, `Bash(git status:*)` the command and its
  longer forms (word by word), `Bash(git * main)` a glob (`*` any text; a trailing ` *` also
  the bare command). A command joined with `&&`, `||`, `;`, `|`, `&` is split into its
  parts: an allow rule allows it only when every part is allowed, a deny rule denies it when
  any part matches. A command with a substitution (`$(...)`, backticks), a redirection or a
  subshell is never allowed by a rule (someone is asked), whatever its first words.
* `Edit(path)` and `Read(path)` take gitignore-style globs (pathspec): relative to the task's
  cwd (also `./x` and `/x`), `//abs/path` for an absolute one, `~/x` under the home
  directory; `*` stays within a folder, `**` crosses folders. Edit covers every tool that
  changes files (Edit, MultiEdit, Write, NotebookEdit), Read those that read (Read, Grep, Glob).
* `WebFetch(domain:example.com)` matches fetches of that host and its subdomains.

Anything else with a specifier matches nothing: a rule this module cannot read safely never
allows a call.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pathspec

EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit"})
READ_TOOLS = frozenset({"Read", "Grep", "Glob"})
FAMILIES = {"Edit": EDIT_TOOLS, "Read": READ_TOOLS}
PATH_KEYS = ("file_path", "notebook_path", "path")
#: Shell tokens after which the words that follow are not the command a rule names.
SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "|&"})
RULE = re.compile(r"^(?P<tool>[A-Za-z_][A-Za-z0-9_*-]*)(?:\((?P<specifier>.*)\))?$", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str
    specifier: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        """ValueError, in one sentence, for what is not a rule."""
        match = RULE.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a permission rule (Tool or Tool(specifier), e.g. 'Bash(git status:*)')")
        specifier = match["specifier"]
        return cls(text, match["tool"], specifier.strip() if specifier is not None else None)

    def names(self, tool: str) -> bool:
        """Whether the rule is about this tool (specifier aside)."""
        if self.tool in FAMILIES:
            return tool in FAMILIES[self.tool] or tool == self.tool
        if self.tool.startswith("mcp__") and self.tool.count("__") == 1:  # mcp__server: all its tools
            return tool.startswith(self.tool + "__")
        return fnmatch.fnmatchcase(tool, self.tool) if "*" in self.tool else tool == self.tool


@dataclass(frozen=True)
class Call:
    """A tool call Claude asks about, where it would run."""

    tool: str
    input: dict[str, Any]
    cwd: str
    home: str = os.path.expanduser("~")


def parse_rules(texts: list[str] | None) -> tuple[Rule, ...]:
    return tuple(Rule.parse(text) for text in texts or ())


def first_deny(rules: tuple[Rule, ...], call: Call) -> Rule | None:
    """The first deny rule that matches (a shell command: any of its parts)."""
    for rule in rules:
        if rule.names(call.tool) and _matches(rule, call, every_part=False):
            return rule
    return None


def first_allow(rules: tuple[Rule, ...], call: Call) -> Rule | None:
    """The first allow rule that matches; a shell command needs every part allowed (by one rule or several)."""
    named = [rule for rule in rules if rule.names(call.tool)]
    if call.tool == "Bash" and named:
        parts = command_parts(str(call.input.get("command", "")))
        if parts is None:
            return next((rule for rule in named if rule.specifier is None), None)
        chosen: Rule | None = None
        for part in parts:
            rule = next(
                (rule for rule in named if rule.specifier is None or _command_matches(rule.specifier, part)), None
            )
            if rule is None:
                return None
            chosen = chosen or rule
        return chosen
    return next((rule for rule in named if _matches(rule, call, every_part=True)), None)


def _matches(rule: Rule, call: Call, every_part: bool) -> bool:
    if rule.specifier is None or rule.specifier in ("", "*"):
        return True
    if call.tool == "Bash":
        command = str(call.input.get("command", ""))
        parts = command_parts(command)
        if parts is None:  # unreadable: a deny rule still sees the words it names
            return not every_part and " ".join(command.split()).startswith(_prefix(rule.specifier))
        checks = [_command_matches(rule.specifier, part) for part in parts]
        return all(checks) if every_part else any(checks)
    if rule.tool in FAMILIES:
        return _path_matches(rule.specifier, call)
    if call.tool == "WebFetch" and rule.specifier.startswith("domain:"):
        host = (urlsplit(str(call.input.get("url", ""))).hostname or "").lower()
        domain = rule.specifier.removeprefix("domain:").strip().lower()
        return bool(domain) and (host == domain or host.endswith("." + domain))
    return False


def command_parts(command: str) -> list[str] | None:
    """The simple commands of a shell command line, each as normalized words; None when it has substitutions,
    redirections or subshells (or cannot be read), which no rule may allow."""
    if "$(" in command or "`" in command or "<(" in command or ">(" in command:
        return None
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in SEPARATORS:
            parts.append([])
        elif token and all(char in "();<>|&" for char in token):
            return None  # a redirection or a subshell
        else:
            parts[-1].append(token)
    return [" ".join(part) for part in parts if part]


def _command_matches(specifier: str, part: str) -> bool:
    if specifier.endswith(":*"):
        prefix = " ".join(specifier[:-2].split())
        return part == prefix or part.startswith(prefix + " ")
    spec = " ".join(specifier.split())
    if "*" not in spec:
        return part == spec
    if spec.endswith(" *") and part == spec[:-2]:
        return True
    pattern = "".join(".*" if piece == "*" else re.escape(piece) for piece in re.split(r"(\*)", spec))
    return re.fullmatch(pattern, part, re.DOTALL) is not None


def _prefix(specifier: str) -> str:
    head = specifier[:-2] if specifier.endswith(":*") else specifier.split("*", 1)[0]
    return " ".join(head.split())


def _path_matches(specifier: str, call: Call) -> bool:
    raw = next((call.input[key] for key in PATH_KEYS if isinstance(call.input.get(key), str)), None)
    target = os.path.normpath(os.path.join(call.cwd, os.path.expanduser(raw) if raw else "."))
    if specifier.startswith("//"):
        base, pattern = "/", specifier[2:]
    elif specifier.startswith("~/"):
        base, pattern = call.home, specifier[2:]
    elif specifier.startswith("./"):
        base, pattern = call.cwd, specifier[2:]
    elif specifier.startswith("/"):
        base, pattern = call.cwd, specifier[1:]
    else:
        base, pattern = call.cwd, specifier
    relative = os.path.relpath(target, base)
    if relative == ".." or relative.startswith("../") or not pattern:
        return False
    return pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(relative)
