"""The verifier's test catalogue: faithful and faulty texts, as data, each with the exact findings expected.

Every case lives in ``tests/catalogue/*.json`` (a list of objects, grouped by theme) and is written from a
pharmacist's point of view: a FAITHFUL case is a text a careful reviewer would accept against its pack
(no error; a warning only if the case lists it), a FAULTY case is one the reviewer would reject, with
the exact multiset of finding codes the verifier must produce.

Case fields:

* ``id`` (unique), ``about`` (one line), ``pack`` (path relative to the repository root);
* ``mode``: ``"draft"`` (drafted statements, :func:`drafter.verify`) or ``"markdown"`` (lint mode,
  :func:`drafter.verify_markdown`);
* draft mode: ``rank`` and one of

  - ``statements``: a list of statements (``{"text", "support" = "pack", "keys" = []}``, or a bare string
    for a pack statement without keys) that the runner places in ``conclusion.rationale`` with the
    decision ``decision`` (default ``"Hold"``);
  - ``sections``: a full ``IndicationSections`` object;
  - ``indications``: a list of ``{"rank", "sections" | "statements", "decision"}`` for a whole
    ``ReportDraft`` of several indications;

* markdown mode: ``text`` (a string, or a list of lines joined with newlines);
* ``expect``: the finding codes, as a multiset (order does not matter);
* ``known_gap`` (optional): why the verifier or its vocabulary gets this case wrong today; the case
  is then an expected failure (``xfail(strict=True)``), so it turns into a failure the day it is fixed.

Evidence quotes: a drafted statement may carry ``quotes``. A draft case none of whose statements
carries the field is a case about another claim kind, written before statements had quotes, and
``QUOTE_MISSING`` (a statement that reports its sources without quoting them) is left out of its
comparison; every other code, quote codes included, is compared. ``quotes.json`` holds the cases
about quotes, which set the field.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

import drafter
from drafter import ReportDraft
from drafter.verify import CODES, Severity

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "tests" / "catalogue"
_CASE_KEYS = {"id", "about", "pack", "mode", "rank", "statements", "sections", "indications", "decision", "text",
              "expect", "known_gap"}


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CATALOGUE.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, list), f"{path.name}: expected a list of cases"
        for case in data:
            case = dict(case)
            case["_file"] = path.name
            cases.append(case)
    return cases


CASES = load_cases()


def is_faulty(case: dict[str, Any]) -> bool:
    return any(CODES[code][0] is Severity.ERROR for code in case["expect"] if code in CODES)


@lru_cache(maxsize=None)
def pack_at(relative: str) -> drafter.EvidencePack:
    return drafter.load_pack(ROOT / relative)


def _statement(raw: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = {"text": raw}
    unknown = set(raw) - {"text", "support", "keys", "quotes"}
    assert not unknown, f"unknown statement fields {sorted(unknown)}"
    return {"text": raw["text"], "support": raw.get("support", "pack"), "keys": list(raw.get("keys", [])),
            "quotes": list(raw.get("quotes", []))}


def sets_quotes(case: dict[str, Any]) -> bool:
    """Does any drafted statement of the case carry a ``quotes`` field (see the module docstring)?"""
    return '"quotes"' in json.dumps({k: case.get(k) for k in ("statements", "sections", "indications")})


def _sections(entry: dict[str, Any]) -> dict[str, Any]:
    if "sections" in entry:
        return entry["sections"]
    return {
        "mechanistic_rationale": {"paragraphs": []},
        "conclusion": {"decision": entry.get("decision", "Hold"),
                       "rationale": [_statement(s) for s in entry["statements"]],
                       "next_steps": []},
    }


def build_draft(case: dict[str, Any]) -> ReportDraft:
    if "indications" in case:
        entries = [{"rank": e["rank"], "sections": _sections(e)} for e in case["indications"]]
    else:
        entries = [{"rank": case["rank"], "sections": _sections(case)}]
    return ReportDraft.model_validate({"indications": entries})


def run_case(case: dict[str, Any]) -> drafter.Verification:
    pack = pack_at(case["pack"])
    if case["mode"] == "markdown":
        text = case["text"] if isinstance(case["text"], str) else "\n".join(case["text"])
        return drafter.verify_markdown(pack, text)
    return drafter.verify(pack, build_draft(case))


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case.get("known_gap"):
        marks.append(pytest.mark.xfail(strict=True, reason=case["known_gap"]))
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    result = run_case(case)
    got = sorted(result.codes())
    if case["mode"] == "draft" and not sets_quotes(case):
        got = [code for code in got if code != "QUOTE_MISSING"]
    expected = sorted(case["expect"])
    detail = "\n".join(f"  {f}  [span: {f.span!r}]" for f in result.findings) or "  (no findings)"
    assert got == expected, f"{case['_file']}: {case['id']}: {case['about']}\nfindings:\n{detail}"


# --- the catalogue itself ---------------------------------------------------------------------------


def test_cases_are_well_formed() -> None:
    ids = Counter(c["id"] for c in CASES)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    for case in CASES:
        where = f"{case['_file']}: {case.get('id')}"
        assert set(case) - {"_file"} <= _CASE_KEYS, f"{where}: unknown fields {sorted(set(case) - _CASE_KEYS - {'_file'})}"
        assert case.get("about"), f"{where}: 'about' is required"
        assert (ROOT / case["pack"]).is_file(), f"{where}: no pack at {case['pack']}"
        assert case["mode"] in ("draft", "markdown"), where
        assert all(code in CODES for code in case["expect"]), f"{where}: unknown code in {case['expect']}"
        if case["mode"] == "markdown":
            assert "text" in case, where
        else:
            assert ("indications" in case) != ("rank" in case), f"{where}: give 'rank' or 'indications'"
            if "rank" in case:
                assert ("statements" in case) != ("sections" in case), f"{where}: give 'statements' or 'sections'"
            build_draft(case)  # valid against the draft models


def test_catalogue_is_large_enough() -> None:
    required = [c for c in CASES if not c.get("known_gap")]
    faithful = [c for c in required if not is_faulty(c)]
    faulty = [c for c in required if is_faulty(c)]
    assert len(faithful) >= 40, f"only {len(faithful)} faithful cases"
    assert len(faulty) >= 60, f"only {len(faulty)} faulty cases"


def test_every_code_is_exercised_by_a_faulty_case() -> None:
    exercised = {code for c in CASES if not c.get("known_gap") and is_faulty(c) for code in c["expect"]}
    missing = sorted(set(CODES) - exercised)
    assert not missing, f"codes no faulty case exercises: {missing}"

