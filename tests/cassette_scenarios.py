"""The recorded scenarios: which packs are drafted and what the scripted model answers, in order.

Both the recording script (``python -m tests.record_cassettes``) and the cassette tests read this
table, so a scenario cannot be recorded one way and replayed another. The model's answers are the
hand-written drafts in ``tests/llm_server/drafts/`` served by the local OpenAI-compatible server in
the exact chat-completions wire format; the cassettes hold what the real openai SDK sent and got.

Scenarios whose ``runner`` is ``"openai-batch"`` draft their packs together through the Batch API
(``drafter.openai_batch``): the steps then answer the lines of each batch in file order, round
after round, and the cassette holds the uploads, the batches, the polls and the downloads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drafter.llm import RetryPolicy
from tests.llm_server import completion_step, error_body

ROOT = Path(__file__).resolve().parents[1]
DRAFTS = ROOT / "tests" / "llm_server" / "drafts"
CASSETTES = ROOT / "cassettes"
EXAMPLE_PACKS = tuple(sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "packs").glob("*.json")))
REPORT_DATE = dt.date(2026, 11, 21)
MODEL = "gpt-4.1-mini"
# Retries in tests wait milliseconds, not seconds: the backoff is bounded, the behaviour the same.
FAST_RETRY = RetryPolicy(max_attempts=5, max_seconds=30.0, backoff_max=0.02)


def draft_content(name: str, ranks: Sequence[int] | None = None) -> str:
    """A scripted draft as the model would send it: compact JSON, optionally only some ranks."""
    data = json.loads((DRAFTS / name).read_text(encoding="utf-8"))
    if ranks is not None:
        data["indications"] = [item for item in data["indications"] if item["rank"] in ranks]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def answer(name: str, ranks: Sequence[int] | None = None, **kwargs: Any) -> dict[str, Any]:
    return completion_step(draft_content(name, ranks), **kwargs)


def status(code: int, message: str, kind: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": code, "headers": headers or {}, "json": error_body(message, kind)}


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    packs: tuple[str, ...]
    steps: Callable[[], list[dict[str, Any]]]
    options: dict[str, Any] = field(default_factory=dict)
    runner: str = "draft"  # or "openai-batch": all packs in one run of drafter.openai_batch

    @property
    def cassette(self) -> Path:
        return CASSETTES / f"{self.name}.yaml"


def _examples() -> list[dict[str, Any]]:
    return [answer(Path(p).name) for p in EXAMPLE_PACKS]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("examples", "a clean draft for every example pack, verified on the first attempt",
             EXAMPLE_PACKS, _examples),
    Scenario("repair", "baclofen: the first draft cites a PMID the pack lacks and an unsupported safety term in "
             "rank 2; the repair answer (rank 2 only) verifies",
             ("examples/packs/baclofen.json",),
             lambda: [answer("baclofen.repair-first.json"), answer("baclofen.json", ranks=[2])]),
    Scenario("withheld", "baclofen-uk: every answer makes safety claims without safety data and exceeds the "
             "ceiling; after two repairs both sections are withheld",
             ("examples/packs/baclofen-uk.json",),
             lambda: [answer("baclofen-uk.never-repairs.json")] * 3),
    Scenario("rate-limited", "baclofen-uk: 429 with Retry-After, then the answer",
             ("examples/packs/baclofen-uk.json",),
             lambda: [status(429, "Rate limit reached for requests", "requests", {"retry-after-ms": "20"}),
                      answer("baclofen-uk.json")],
             {"retry": FAST_RETRY}),
    Scenario("unavailable", "baclofen-uk: 503 twice, then the answer",
             ("examples/packs/baclofen-uk.json",),
             lambda: [status(503, "The server is overloaded", "server_error"),
                      status(503, "The server is overloaded", "server_error"),
                      answer("baclofen-uk.json")],
             {"retry": FAST_RETRY}),
    Scenario("refusal", "tizanidine: the model refuses; nothing is drafted and the section is withheld",
             ("examples/packs/tizanidine-gb.json",),
             lambda: [completion_step(None, refusal="I'm sorry, but I can't help with that request.")]),
    Scenario("truncated", "tizanidine: the first answer stops at the length limit mid-JSON; the second is whole",
             ("examples/packs/tizanidine-gb.json",),
             lambda: [completion_step(draft_content("tizanidine-gb.json")[:700], finish_reason="length"),
                      answer("tizanidine-gb.json")]),
    Scenario("injection", "baclofen-uk with an instruction injected into an abstract: the first answer obeys it "
             "and cites a made-up PMID, the verifier rejects it, the repair ignores it",
             ("tests/llm_server/drafts/injection-pack.json",),
             lambda: [answer("injection.json"), answer("injection.clean.json", ranks=[2])]),
)

OPENAI_BATCH_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("openai-batch", "every example pack through the Batch API: one batch, every draft verified",
             EXAMPLE_PACKS, _examples, runner="openai-batch"),
    Scenario("openai-batch-repair", "baclofen and tizanidine through the Batch API: baclofen's first draft fails "
             "verification, so a second batch holds its repair request (rank 2 only), which verifies",
             ("examples/packs/baclofen.json", "examples/packs/tizanidine-gb.json"),
             lambda: [answer("baclofen.repair-first.json"), answer("tizanidine-gb.json"),
                      answer("baclofen.json", ranks=[2])],
             runner="openai-batch"),
    Scenario("openai-batch-line-error", "three packs in one batch; colchicine's line fails with a 500 (error "
             "file), so that pack is failed while the other two verify",
             ("examples/packs/baclofen-uk.json", "examples/packs/colchicine-us.json",
              "examples/packs/tizanidine-gb.json"),
             lambda: [answer("baclofen-uk.json"),
                      status(500, "The server had an error while processing your request. Sorry about that!",
                             "server_error"),
                      answer("tizanidine-gb.json")],
             runner="openai-batch"),
)

SCENARIOS += OPENAI_BATCH_SCENARIOS
BY_NAME = {s.name: s for s in SCENARIOS}
