"""The recorded scenarios: which packs are drafted and what the scripted model answers, in order.

Both the recording script (``python -m tests.record_cassettes``) and the cassette tests read this
table, so a scenario cannot be recorded one way and replayed another. The model's answers are the
hand-written drafts in ``tests/llm_server/drafts/`` served by the local OpenAI-compatible server in
the exact chat-completions wire format; the cassettes hold what the real openai SDK sent and got.
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

BY_NAME = {s.name: s for s in SCENARIOS}
