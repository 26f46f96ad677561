"""Re-record every cassette: ``python -m tests.record_cassettes [NAME ...] [--real] [--no-golden]``.

After recording, the golden reports (``tests/golden/*.md``) are regenerated from the new cassettes
(``DRAFTER_UPDATE_GOLDEN=1 pytest tests/test_drafting.py``, run as a subprocess with this
interpreter), so one command brings cassettes and golden files back in step after a change to the
prompts, the draft models, the scripted drafts or the verifier. ``--no-golden`` skips that step.

Default: for each scenario of ``tests/cassette_scenarios.py``, start the scripted OpenAI-compatible
server on 127.0.0.1, run drafter's real pipeline (the real openai SDK) against it, and let vcrpy
record what was sent and received into ``cassettes/NAME.yaml`` (credentials and machine-specific
headers scrubbed). With ``--real``, the same drafting runs against the API in OPENAI_API_KEY /
OPENAI_BASE_URL instead of the scripted server; the answers are then the real model's and the
scenarios' scripted faults do not apply (only ``examples`` makes sense that way).

Batch API scenarios (``runner="openai-batch"``) run ``drafter.openai_batch.run_openai_batch`` over
all their packs at once, into a temporary output folder, polling without waiting (every 30 s with
``--real``). Uploads are multipart, so every recorder here goes through ``with_multipart_support``:
it fixes the random boundary (a no-op for every other request) and matches uploads field by field.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import openai

from drafter.openai_batch import run_openai_batch
from drafter.pipeline import draft_report
from tests.cassette_scenarios import CASSETTES, MODEL, REPORT_DATE, ROOT, SCENARIOS, Scenario
from tests.llm_server import ScriptedOpenAIServer, make_vcr, with_multipart_support


def _draft_each(scenario: Scenario, client: openai.OpenAI) -> None:
    for pack in scenario.packs:
        report = draft_report(ROOT / pack, client=client, model=MODEL, report_date=REPORT_DATE, **scenario.options)
        print(f"{scenario.name}: {pack}: {report.status.value}, {report.usage.requests} call(s)")


def _openai_batch(scenario: Scenario, client: openai.OpenAI, *, real: bool) -> None:
    with tempfile.TemporaryDirectory() as out:
        result = run_openai_batch([ROOT / pack for pack in scenario.packs], out, client=client, model=MODEL,
                                  report_date=REPORT_DATE, poll_interval=30.0 if real else 0.0, **scenario.options)
    for outcome in result.outcomes:
        print(f"{scenario.name}: {outcome.pack}: {outcome.status}, {outcome.calls} call(s)")


def record(scenario: Scenario, *, real: bool = False, cassette_dir: Path = CASSETTES) -> None:
    recorder = with_multipart_support(make_vcr(cassette_dir, "all"))
    if real:
        client = openai.OpenAI(max_retries=0)
        server = None
    else:
        server = ScriptedOpenAIServer(scenario.steps(), lifetime=120)
        client = openai.OpenAI(base_url=server.base_url, api_key="recording-key", max_retries=0)
    try:
        with recorder.use_cassette(scenario.cassette.name):
            if scenario.runner == "openai-batch":
                _openai_batch(scenario, client, real=real)
            else:
                _draft_each(scenario, client)
        if server is not None:
            server.assert_drained()
    finally:
        if server is not None:
            server.close()


def refresh_golden() -> int:
    """Regenerate the golden reports from the cassettes just recorded; the pytest exit code."""
    env = {**os.environ, "DRAFTER_UPDATE_GOLDEN": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_drafting.py")]
    print("refreshing golden reports:", " ".join(command[1:]))
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--real", action="store_true", help="record against the real API (needs OPENAI_API_KEY)")
    parser.add_argument("--no-golden", action="store_true", help="do not regenerate tests/golden/*.md afterwards")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.names or s.name in args.names]
    if args.real and not os.environ.get("OPENAI_API_KEY"):
        print("--real needs OPENAI_API_KEY", file=sys.stderr)
        return 2
    for scenario in chosen:
        record(scenario, real=args.real)
    if args.no_golden:
        return 0
    return refresh_golden()


if __name__ == "__main__":
    sys.exit(main())
