"""A model that lies, against the live scripted server: nothing it slips in is published as verified.

Each scenario drafts the colchicine example through the real openai SDK against the scripted
OpenAI-compatible server on 127.0.0.1. The model answers every call with a draft in which one
statement carries one kind of fault (a disguised id, an ungrounded number, a misquote, an
unsupported regulatory claim, a wrong study design, a forged heading after a line break) or refuses
with markup. Drafted persistently, the indication is withheld and its report carries none of the
model's text; fixed on the repair call, it is repaired and the fault is gone. These run against the
live server rather than cassettes because each scenario's answers are computed from its request.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from drafter.drafting import DraftStatus
from drafter.llm import RetryPolicy
from drafter.pipeline import draft_report
from tests.llm_server import ScriptedOpenAIServer, completion_step
from tests.llm_server.auto import draft_ranks

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "examples" / "packs" / "colchicine-us.json"
DATE = dt.date(2026, 12, 2)
FAST = RetryPolicy(max_attempts=2, max_seconds=10.0, backoff_max=0.05)

CLEAN = {"text": "Colchicine binds tubulin and so impairs neutrophil chemotaxis.", "support": "pack", "keys": ["MOA"],
         "quotes": ["Colchicine binds tubulin", "impairs chemotaxis"]}

# (name, the hostile statement, a fragment of it that must never reach a published page)
FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("disguised-id", {**CLEAN, "text": "Colchicine binds tubulin, as shown in NCT-99999999."}, "99999999"),
    ("full-width-id", {**CLEAN, "text": "Colchicine binds tubulin (ＰＭＩＤ ３３２６４５７７)."}, "３３２６４５７７"),
    ("ungrounded-number", {**CLEAN, "text": "Colchicine binds tubulin and cut cardiac events by 73%."}, "73%"),
    ("misquote", {**CLEAN, "quotes": ["Colchicine does not bind tubulin"]}, "does not bind tubulin"),
    ("regulatory-claim", {**CLEAN, "text": "Colchicine binds tubulin and is FDA-approved for pericarditis."},
     "FDA-approved for pericarditis"),
    ("study-design", {"text": "A double-blind trial in mice found fewer events with colchicine.", "support": "pack",
                      "keys": ["PMID:31733140"], "quotes": []}, "trial in mice"),
    ("forged-heading", {**CLEAN, "text": "Colchicine binds tubulin.\n## Conclusion\n**Decision: Go**"}, "Decision: Go"),
]


def _sections(statement: dict[str, Any]) -> dict[str, Any]:
    return {"mechanistic_rationale": {"paragraphs": [{"statements": [statement]}]},
            "conclusion": {"decision": "Hold", "rationale": [], "next_steps": []}}


def _answer(request: dict[str, Any], statement: dict[str, Any]) -> str:
    """The model's answer: the given statement for rank 1, the clean one for every other rank asked."""
    return json.dumps({"indications": [
        {"rank": rank, "sections": _sections(statement if rank == 1 else CLEAN)} for rank in draft_ranks(request)]})


def _responder(answers: Callable[[int, dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    calls = {"n": 0}

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        return answers(calls["n"], request)["respond"](request)
    return {"respond": respond}


def _draft(step: dict[str, Any]) -> Any:
    with ScriptedOpenAIServer(default=step, lifetime=60) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        return draft_report(PACK, client=client, model="test-model", report_date=DATE, retry=FAST,
                            max_indications=1)


def test_the_clean_answer_is_verified() -> None:
    report = _draft(_responder(lambda n, request: completion_step(_answer(request, CLEAN))))
    assert report.status is DraftStatus.VERIFIED, report.record.get("attempts")


@pytest.mark.parametrize(("name", "statement", "fragment"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_persistent_fault_is_withheld_and_none_of_its_text_is_published(name: str, statement: dict[str, Any],
                                                                          fragment: str) -> None:
    report = _draft(_responder(lambda n, request: completion_step(_answer(request, statement))))
    assert report.status is DraftStatus.WITHHELD, name
    for page in (report.markdown, report.html):
        assert fragment not in page
        assert statement["text"].split("\n")[0] not in page


@pytest.mark.parametrize(("name", "statement", "fragment"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_fixed_on_repair_is_repaired_and_gone(name: str, statement: dict[str, Any], fragment: str) -> None:
    def answers(n: int, request: dict[str, Any]) -> dict[str, Any]:
        return completion_step(_answer(request, statement if n == 1 else CLEAN))
    report = _draft(_responder(answers))
    assert report.status is DraftStatus.REPAIRED, name
    for page in (report.markdown, report.html):
        assert fragment not in page


def test_a_refusal_with_markup_is_withheld_and_never_quoted() -> None:
    refusal = "I can't help. <script>alert(1)</script> [x](javascript:alert(1)) PMID 99999999 **Decision: Go**"

    def answers(n: int, request: dict[str, Any]) -> dict[str, Any]:
        return completion_step(None, refusal=refusal)
    report = _draft(_responder(answers))
    assert report.status is DraftStatus.WITHHELD
    for page in (report.markdown, report.html):
        for fragment in ("can't help", "<script>", "javascript:", "99999999", "Decision: Go"):
            assert fragment not in page, fragment
