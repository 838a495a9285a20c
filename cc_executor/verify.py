"""`cc-executor verify URL`: replay the contract scenarios against any handler and report each difference.

The scenarios and recordings are the project's own contract tests
(contract_tests/), so a handler that passes here behaves as ours does on the wire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from cc_executor.client import HandlerClient
from cc_executor.contract_tests.scenarios import read_transcript, recording_paths, replay_against


@dataclass(frozen=True)
class Verdict:
    scenario: str
    problems: list[str]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.problems


async def verify(
    url: str, token: str | None, *, strict: bool, only: list[str] | None = None, limit_s: float = 60.0
) -> list[Verdict]:
    """One verdict per recorded scenario (all, or those named in `only`), in name order."""
    paths = recording_paths()
    if only:
        unknown = sorted(set(only) - {path.stem for path in paths})
        if unknown:
            raise ValueError(f"no such scenario: {', '.join(unknown)} (known: {', '.join(p.stem for p in paths)})")
        paths = [path for path in paths if path.stem in only]
    async with await HandlerClient.connect(url, token):  # fails fast, and clearly, on a wrong URL or token
        pass
    verdicts = []
    for path in paths:
        started = time.monotonic()
        try:
            _, problems = await replay_against(
                path.stem, read_transcript(path), url, token=token, additive=not strict, limit_s=limit_s
            )
        except Exception as exc:  # e.g. the handler went away mid-run: a failed scenario, not a crash
            problems = [f"could not run the scenario: {type(exc).__name__}: {exc}"]
        verdicts.append(Verdict(path.stem, problems, round(time.monotonic() - started, 3)))
    return verdicts


def print_table(console: Console, url: str, verdicts: list[Verdict]) -> None:
    table = Table(title=f"contract scenarios against {url}")
    table.add_column("scenario", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("differences")
    for verdict in verdicts:
        result = "[green]pass[/green]" if verdict.passed else "[red]FAIL[/red]"
        shown = verdict.problems[:5] + (
            [f"… and {len(verdict.problems) - 5} more"] if len(verdict.problems) > 5 else []
        )
        table.add_row(verdict.scenario, result, f"{verdict.seconds:.2f} s", "\n".join(shown))
    console.print(table)
    failed = sum(1 for verdict in verdicts if not verdict.passed)
    console.print(f"{len(verdicts) - failed} passed, {failed} failed")


def write_junit(path: Path, url: str, verdicts: list[Verdict]) -> None:
    suite = ElementTree.Element(
        "testsuite",
        name="cc-executor contract",
        tests=str(len(verdicts)),
        failures=str(sum(1 for v in verdicts if not v.passed)),
        time=f"{sum(v.seconds for v in verdicts):.3f}",
    )
    ElementTree.SubElement(ElementTree.SubElement(suite, "properties"), "property", name="url", value=url)
    for verdict in verdicts:
        case = ElementTree.SubElement(
            suite, "testcase", classname="contract", name=verdict.scenario, time=f"{verdict.seconds:.3f}"
        )
        if not verdict.passed:
            failure = ElementTree.SubElement(case, "failure", message=verdict.problems[0][:500])
            failure.text = "\n".join(verdict.problems)
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
