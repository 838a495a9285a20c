"""Claude Code's permission rule syntax, as allow_rules / deny_rules of a task read it."""

from __future__ import annotations

import pytest

from cc_executor.bridge.permission_rules import Call, Rule, command_parts, first_allow, first_deny, parse_rules

CWD = "/home/me/project"
HOME = "/home/me"


def bash(command: str) -> Call:
    return Call("Bash", {"command": command, "description": "x"}, CWD, HOME)


def edit(tool: str, path: str) -> Call:
    key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    return Call(tool, {key: path, "content": "x"}, CWD, HOME)


def allowed(rules: list[str], call: Call) -> str | None:
    rule = first_allow(parse_rules(rules), call)
    return rule.text if rule else None


def denied(rules: list[str], call: Call) -> str | None:
    rule = first_deny(parse_rules(rules), call)
    return rule.text if rule else None


@pytest.mark.parametrize(
    ("rule", "command", "matches"),
    [
        ("Bash", "anything at all", True),
        ("Bash(npm run test)", "npm run test", True),
        ("Bash(npm run test)", "npm  run   test", True),  # words, not spacing
        ("Bash(npm run test)", "npm run test --watch", False),
        ("Bash(git status:*)", "git status", True),
        ("Bash(git status:*)", "git status --short", True),
        ("Bash(git status:*)", "git statusx", False),  # word by word
        ("Bash(git status:*)", "git stash", False),
        ("Bash(git * main)", "git push origin main", True),
        ("Bash(git * main)", "git push origin dev", False),
        ("Bash(ls *)", "ls -la", True),
        ("Bash(ls *)", "ls", True),
        ("Bash(ls *)", "lsof", False),
        ("Bash(ls*)", "lsof", True),
    ],
)
def test_bash_rules_match_commands_as_claude_code_does(rule: str, command: str, matches: bool) -> None:
    assert (allowed([rule], bash(command)) == rule) is matches
    assert (denied([rule], bash(command)) == rule) is matches


def test_an_allow_rule_must_allow_every_part_of_a_compound_command() -> None:
    rules = ["Bash(git status:*)", "Bash(git diff:*)"]
    assert allowed(rules, bash("git status && git diff HEAD")) == "Bash(git status:*)"
    assert allowed(rules, bash("git status; rm -rf /")) is None
    assert allowed(rules, bash("git status | sh")) is None
    assert allowed(rules, bash("git status\nrm -rf /")) is None
    assert allowed(rules, bash("git status & rm -rf /")) is None


@pytest.mark.parametrize(
    "command",
    [
        "git status $(rm -rf /)",
        "git status `rm -rf /`",
        "git status > /etc/passwd",
        "git status < secrets",
        "(git status)",
        "git status 'unbalanced",
    ],
)
def test_substitutions_redirections_and_subshells_are_never_allowed_by_a_rule(command: str) -> None:
    assert command_parts(command) is None
    assert allowed(["Bash(git status:*)"], bash(command)) is None
    assert allowed(["Bash"], bash(command)) == "Bash", "only a rule for every Bash command allows them"


def test_a_deny_rule_denies_a_compound_command_when_any_part_matches() -> None:
    assert denied(["Bash(rm:*)"], bash("echo hi && rm -rf build")) == "Bash(rm:*)"
    assert denied(["Bash(rm:*)"], bash("echo hi")) is None
    assert denied(["Bash(rm:*)"], bash("rm -rf $(pwd)/build")) == "Bash(rm:*)", "unreadable: its first words decide"


@pytest.mark.parametrize(
    ("rule", "call", "matches"),
    [
        ("Edit(src/**)", edit("Edit", f"{CWD}/src/a/b.py"), True),
        ("Edit(src/**)", edit("Write", f"{CWD}/src/new.py"), True),  # Edit covers every tool that changes files
        ("Edit(src/**)", edit("NotebookEdit", f"{CWD}/src/n.ipynb"), True),
        ("Edit(src/**)", edit("Edit", f"{CWD}/tests/a.py"), False),
        ("Edit(src/**)", edit("Edit", "src/a.py"), True),  # relative to cwd
        ("Edit(/src/*.py)", edit("Edit", f"{CWD}/src/a.py"), True),
        ("Edit(/src/*.py)", edit("Edit", f"{CWD}/src/deep/a.py"), False),  # * stays within a folder
        ("Edit(./docs/**)", edit("Edit", f"{CWD}/docs/x.md"), True),
        ("Edit(*.md)", edit("Edit", f"{CWD}/any/depth/x.md"), True),  # gitignore: no slash, any depth
        ("Edit(//etc/hosts)", edit("Edit", "/etc/hosts"), True),
        ("Edit(~/notes/**)", edit("Write", f"{HOME}/notes/today.md"), True),
        ("Edit(src/**)", edit("Edit", f"{CWD}/../other/src/a.py"), False),  # never outside the base
        ("Write", edit("Write", "/anywhere"), True),
        ("Write", edit("Edit", "/anywhere"), False),
        ("Read(secrets/**)", Call("Grep", {"pattern": "x", "path": "secrets/keys"}, CWD, HOME), True),
        ("Read(secrets/**)", Call("Read", {"file_path": f"{CWD}/secrets/a"}, CWD, HOME), True),
    ],
)
def test_path_rules_use_gitignore_globs(rule: str, call: Call, matches: bool) -> None:
    assert (allowed([rule], call) == rule) is matches


def test_webfetch_domains_and_mcp_servers() -> None:
    fetch = Call("WebFetch", {"url": "https://docs.example.com/a", "prompt": "x"}, CWD)
    assert allowed(["WebFetch(domain:example.com)"], fetch) == "WebFetch(domain:example.com)"
    assert allowed(["WebFetch(domain:docs.example.com)"], fetch) == "WebFetch(domain:docs.example.com)"
    assert allowed(["WebFetch(domain:ample.com)"], fetch) is None
    assert allowed(["WebFetch(domain:example.com.evil)"], fetch) is None
    tool = Call("mcp__github__create_issue", {}, CWD)
    assert allowed(["mcp__github"], tool) == "mcp__github"
    assert allowed(["mcp__github__*"], tool) == "mcp__github__*"
    assert allowed(["mcp__github__create_issue"], tool) == "mcp__github__create_issue"
    assert allowed(["mcp__git"], tool) is None
    assert allowed(["mcp__github__delete_repo"], tool) is None


def test_a_specifier_this_matcher_cannot_read_never_allows() -> None:
    assert allowed(["Task(Explore)"], Call("Task", {"subagent_type": "Explore"}, CWD)) is None
    assert allowed(["WebSearch(anything)"], Call("WebSearch", {"query": "x"}, CWD)) is None


def test_what_is_not_a_rule_is_refused_in_one_sentence() -> None:
    for text in ("Bash(", "(x)", "Bash git", ""):
        with pytest.raises(ValueError, match="is not a permission rule"):
            Rule.parse(text)
