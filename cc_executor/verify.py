"""`cc-executor verify URL`: replay the contract scenarios against any handler and report each difference.

The scenarios and recordings are the project's own contract tests
(contract_tests/), so a handler that passes here behaves as ours does on the wire, in both
protocol modes: the recordings of old clients (no subprotocol, protocol 1.0) and of v2
clients (cc-executor.v2, protocol 2.0; their names start with v2_).
Each difference is labelled "known: <row of spec/README.md>" when it is one of the old
handler's documented differences (contract_tests/known_differences.py), else "unexpected".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from cc_executor.client import HandlerClient
from cc_executor.contract_tests.frames import Event, subprotocol_of
from cc_executor.contract_tests.known_differences import Difference, label_problems
from cc_executor.contract_tests.replay import replay_against
from cc_executor.contract_tests.transcripts import read_transcript, recording_paths
from cc_executor.terminal_text import literal

SHOWN = 6  # differences listed per scenario in the table (all of them go to --junit)


@dataclass(frozen=True)
class Verdict:
    scenario: str
    differences: list[Difference]  # unexpected ones first
    seconds: float
    protocol: str = "1.0"  # the mode the recording's client asked for

    @property
    def passed(self) -> bool:
        return not self.differences

    @property
    def unexpected(self) -> int:
        return sum(1 for difference in self.differences if not difference.known)

    def failed(self, allow_known: bool = False) -> bool:
        return bool(self.unexpected if allow_known else self.differences)

    @property
    def problems(self) -> list[str]:
        return [str(difference) for difference in self.differences]


PROTOCOLS = ("1.0", "2.0")


async def verify(
    url: str,
    token: str | None,
    *,
    strict: bool,
    only: list[str] | None = None,
    protocols: tuple[str, ...] = PROTOCOLS,
    limit_s: float = 60.0,
) -> list[Verdict]:
    """One verdict per recorded scenario (all, or those named in `only`, of the given protocols), in name order."""
    unknown_protocols = sorted(set(protocols) - set(PROTOCOLS))
    if unknown_protocols:
        raise ValueError(f"no such protocol: {', '.join(unknown_protocols)} (known: {', '.join(PROTOCOLS)})")
    paths = [path for path in recording_paths() if recorded_protocol(read_transcript(path)) in protocols]
    if only:
        unknown = sorted(set(only) - {path.stem for path in paths})
        if unknown:
            raise ValueError(f"no such scenario: {', '.join(unknown)} (known: {', '.join(p.stem for p in paths)})")
        paths = [path for path in paths if path.stem in only]
    async with await HandlerClient.connect(url, token):  # fails fast, and clearly, on a wrong URL or token
        pass
    verdicts = []
    for path in paths:
        started, recorded = time.monotonic(), read_transcript(path)
        try:
            live, problems = await replay_against(
                path.stem, recorded, url, token=token, additive=not strict, limit_s=limit_s
            )
            differences = label_problems(recorded, live, problems, additive=not strict)
        except Exception as exc:  # e.g. the handler went away mid-run: a failed scenario, not a crash
            differences = [Difference(f"could not run the scenario: {type(exc).__name__}: {exc}")]
        verdicts.append(
            Verdict(path.stem, differences, round(time.monotonic() - started, 3), recorded_protocol(recorded))
        )
    return verdicts


def recorded_protocol(events: list[Event]) -> str:
    """The protocol a recording's client asked for: 2.0 with cc-executor.v2, else 1.0."""
    return "2.0" if subprotocol_of(events) else "1.0"


def summary(verdicts: list[Verdict], allow_known: bool = False) -> str:
    """E.g. "5 passed, 2 failed (2 with known differences only); differences: 9 known, 0 unexpected"."""
    known_only = sum(1 for v in verdicts if not v.passed and not v.unexpected)
    failed = sum(1 for v in verdicts if v.failed(allow_known))
    passed = len(verdicts) - failed
    counts = f"{passed} passed, {failed} failed"
    if known_only:
        counts = (
            f"{passed} passed ({known_only} with known differences only), {failed} failed"
            if allow_known
            else f"{counts} ({known_only} with known differences only)"
        )
    unexpected = sum(v.unexpected for v in verdicts)
    known = sum(len(v.differences) for v in verdicts) - unexpected
    return f"{counts}; differences: {known} known, {unexpected} unexpected"


def print_table(console: Console, url: str, verdicts: list[Verdict], allow_known: bool = False) -> None:
    table = Table(title=f"contract scenarios against {url}")
    table.add_column("scenario", no_wrap=True)
    table.add_column("protocol", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("differences")
    for verdict in verdicts:
        if verdict.passed:
            result = "[green]pass[/green]"
        elif verdict.unexpected:
            result = "[red]FAIL[/red]"
        else:
            result = "[yellow]known[/yellow]" if allow_known else "[red]FAIL[/red] (known)"
        lines = verdict.problems
        shown = lines[:SHOWN] + ([f"… and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else [])
        table.add_row(
            literal(verdict.scenario), verdict.protocol, result, f"{verdict.seconds:.2f} s", literal("\n".join(shown))
        )
    console.print(table)
    console.print(literal(summary(verdicts, allow_known)))


def write_junit(path: Path, url: str, verdicts: list[Verdict], allow_known: bool = False) -> None:
    suite = ElementTree.Element(
        "testsuite",
        name="cc-executor contract",
        tests=str(len(verdicts)),
        failures=str(sum(1 for v in verdicts if v.failed(allow_known))),
        time=f"{sum(v.seconds for v in verdicts):.3f}",
    )
    ElementTree.SubElement(ElementTree.SubElement(suite, "properties"), "property", name="url", value=url)
    for verdict in verdicts:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"contract.protocol-{verdict.protocol}",
            name=verdict.scenario,
            time=f"{verdict.seconds:.3f}",
        )
        if verdict.failed(allow_known):
            failure = ElementTree.SubElement(case, "failure", message=verdict.problems[0][:500])
            failure.text = "\n".join(verdict.problems)
        elif not verdict.passed:  # known differences only, allowed: on record, not a failure
            ElementTree.SubElement(case, "system-out").text = "\n".join(verdict.problems)
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
