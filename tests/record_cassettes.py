"""Re-record every cassette: ``python -m tests.record_cassettes [NAME ...] [--real]``.

Default: for each scenario of ``tests/cassette_scenarios.py``, start the scripted OpenAI-compatible
server on 127.0.0.1, run drafter's real pipeline (the real openai SDK) against it, and let vcrpy
record what was sent and received into ``cassettes/NAME.yaml`` (credentials and machine-specific
headers scrubbed). With ``--real``, the same drafting runs against the API in OPENAI_API_KEY /
OPENAI_BASE_URL instead of the scripted server; the answers are then the real model's and the
scenarios' scripted faults do not apply (only ``examples`` makes sense that way).
"""

from __future__ import annotations

import argparse
import os
import sys

import openai

from drafter.pipeline import draft_report
from tests.cassette_scenarios import CASSETTES, MODEL, REPORT_DATE, ROOT, SCENARIOS, Scenario
from tests.llm_server import ScriptedOpenAIServer, make_vcr


def record(scenario: Scenario, *, real: bool = False) -> None:
    recorder = make_vcr(CASSETTES, "all")
    if real:
        client = openai.OpenAI(max_retries=0)
        server = None
    else:
        server = ScriptedOpenAIServer(scenario.steps(), lifetime=120)
        client = openai.OpenAI(base_url=server.base_url, api_key="recording-key", max_retries=0)
    try:
        with recorder.use_cassette(scenario.cassette.name):
            for pack in scenario.packs:
                report = draft_report(ROOT / pack, client=client, model=MODEL, report_date=REPORT_DATE,
                                      **scenario.options)
                print(f"{scenario.name}: {pack}: {report.status.value}, {report.usage.requests} call(s)")
        if server is not None:
            server.assert_drained()
    finally:
        if server is not None:
            server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--real", action="store_true", help="record against the real API (needs OPENAI_API_KEY)")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.names or s.name in args.names]
    if args.real and not os.environ.get("OPENAI_API_KEY"):
        print("--real needs OPENAI_API_KEY", file=sys.stderr)
        return 2
    for scenario in chosen:
        record(scenario, real=args.real)
    return 0


if __name__ == "__main__":
    sys.exit(main())
