#!/usr/bin/env python3
"""Record the contract scenarios as JSONL transcripts in contract_tests/recordings/.

    python scripts/record_contracts.py                    # a fresh handler of this checkout
    python scripts/record_contracts.py --only echo timeout
    python scripts/record_contracts.py --url ws://127.0.0.1:8003/ws/mcp --token TOKEN

Each scenario is played twice and must normalise to the same frames both times, and
every server frame must conform to spec/, before anything is written: a recording is
a contract, so a flaky or non-conforming one is refused rather than committed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from websockets.exceptions import WebSocketException

from cc_executor.contract_tests.comparison import compare_frames, output_problems
from cc_executor.contract_tests.driver import ScenarioFailed, run_scenario
from cc_executor.contract_tests.frames import Event, received
from cc_executor.contract_tests.live_handler import live_handler
from cc_executor.contract_tests.scenarios import SCENARIOS
from cc_executor.contract_tests.spec_validation import transcript_errors
from cc_executor.contract_tests.steps import Scenario
from cc_executor.contract_tests.transcripts import RECORDINGS_DIR, write_transcript


async def record_one(scenario: Scenario, url: str, token: str | None, local: bool | None) -> list[Event]:
    """Play twice; return the first transcript if both runs agree and it conforms to spec/."""
    first = await run_scenario(scenario, url, token=token, local=local)
    second = await run_scenario(scenario, url, token=token, local=local)
    problems = compare_frames(received(first), received(second))
    problems += transcript_errors(first, closed=True) + output_problems(received(first))
    if problems:
        raise ScenarioFailed(f"{scenario.name}: " + "\n  ".join(problems), first)
    return first


async def record(names: list[str], url: str, token: str | None, out: Path, local: bool | None) -> int:
    failures = 0
    for name in names:
        try:
            events = await record_one(SCENARIOS[name], url, token, local)
        except (ScenarioFailed, OSError, TimeoutError, WebSocketException) as exc:
            failures += 1
            print(f"FAILED {name}: {exc}", file=sys.stderr)
            continue
        path = out / f"{name}.jsonl"
        write_transcript(path, events)
        print(f"recorded {name}: {len(events)} events -> {path}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an external handler's ws:// URL (default: start one of this checkout)")
    parser.add_argument("--token", help="bearer token for --url")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="record only these scenarios")
    parser.add_argument("--out", type=Path, default=RECORDINGS_DIR, help="directory for <scenario>.jsonl")
    parser.add_argument(
        "--remote", action="store_true", help="the --url handler runs elsewhere: skip process-group checks"
    )
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    local = False if args.remote else None
    if args.url:
        failures = asyncio.run(record(names, args.url, args.token, args.out, local))
    else:
        with live_handler() as handler:
            failures = asyncio.run(record(names, handler.url, handler.token, args.out, local))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
