"""What the verifier reports: finding codes, located findings, and the verification of one text.

Every code is listed in :data:`CODES` with its severity and a one-line description (the README's
table is checked against it), so that a code means the same thing in every report and every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding weighs.

    ``unchecked`` is lint's: a claim the pack can neither prove nor disprove because the pack itself
    says it does not know (safety or licences never searched, a table cut at its row cap). It is
    reported and makes a verification fail, but it is not an error: the reader must check it
    elsewhere, and a count of errors stays a count of faults. Drafted statements never get it.
    """

    ERROR = "error"
    WARNING = "warning"
    UNCHECKED = "unchecked"


E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, tuple[Severity, str]] = {
    "ID_UNKNOWN": (E, "A PMID or trial registry id is not in the pack."),
    "ID_MALFORMED": (E, "Something written like an identifier (a registry prefix or PMID with digits, an evidence "
                        "URL) is not a valid one, so nothing can support it."),
    "ID_OUT_OF_SCOPE": (W, "An id in the pack is cited for an indication it does not belong to."),
    "ID_NOT_IN_KEYS": (E, "An id written in a statement's text is missing from the statement's keys."),
    "KEY_UNKNOWN": (E, "A statement's key is not a key of the pack (or is not a key at all)."),
    "PACK_WITHOUT_KEYS": (E, "A statement marked 'pack' cites no pack item."),
    "TRIAL_PHASE_MISMATCH": (E, "A phase written next to a trial id differs from the trial's record."),
    "TRIAL_STATUS_MISMATCH": (E, "A status written next to a trial id differs from the trial's record."),
    "TRIAL_ENROLMENT_MISMATCH": (E, "An enrolment figure written next to a trial id differs from its record."),
    "TRIAL_RESULT_MISMATCH": (E, "A primary outcome is said to be met (or missed) by a trial whose registered result "
                                 "says otherwise."),
    "YEAR_MISMATCH": (E, "A year written next to a trial id or PMID matches none of its record's years."),
    "TRIAL_FACT_UNKNOWN": (E, "A phase, enrolment or year is stated for a trial whose record lacks it."),
    "COUNT_MISMATCH": (E, "A number of trials or publications differs from what the pack holds."),
    "SCORE_MISMATCH": (E, "A model score differs from the pack's score for that indication."),
    "RANK_MISMATCH": (E, "A rank differs from the pack's rank for that indication."),
    "LEVEL_MISMATCH": (E, "An evidence level differs from the level the rules compute."),
    "LEVEL_CONFLICT": (E, "The text states more than one evidence level for one indication."),
    "SAFETY_NO_DATA": (E, "A safety claim is made although the pack holds no safety data."),
    "SAFETY_UNSUPPORTED": (E, "A safety term is not covered by any safety item of the pack."),
    "SAFETY_WRONG_ITEM": (E, "A safety term is covered by a pack item the statement does not cite."),
    "SAFETY_NEGATED_RISK": (E, "A risk is denied ('does not cause drowsiness', 'protects against seizures') without the pack saying so."),
    "SAFETY_MINIMISED": (E, "A risk is called rarer, milder or narrower ('rare', 'mild', 'only at high doses') than "
                            "the safety item that states it says."),
    "SAFETY_ABSENCE_CLAIM": (E, "An absence-of-risk claim ('well tolerated', 'no known interactions') the pack "
                                "does not make."),
    "DECISION_ABOVE_CEILING": (E, "The decision is stronger than the evidence level and stage allow."),
    "DECISION_CONFLICT": (E, "A statement writes a decision other than the drafted decision."),
    "BACKGROUND_WITH_KEYS": (E, "A background statement cites pack keys."),
    "BACKGROUND_WITH_ID": (E, "A background statement writes a PMID or trial id."),
    "BACKGROUND_WITH_TRIAL_FACT": (E, "A background statement states a trial or evidence figure."),
    "BACKGROUND_WITH_FIGURE": (E, "A background statement states a measurement, dose, count, percentage or date."),
    "NUMBER_UNGROUNDED": (E, "A number in a pack statement is in none of the cited items and is no figure the "
                             "rules computed for the indication."),
    "BACKGROUND_WITH_SAFETY": (E, "A background statement makes a safety claim."),
    "DRAFT_UNKNOWN_INDICATION": (E, "A drafted indication's rank is not in the pack."),
    "REPORT_NOT_ENGLISH": (E, "Lint read a report that is not in English; nothing in it was checked."),
    "REGULATORY_NO_DATA": (E, "A licensing or market claim, but the pack holds no licence or market data for its "
                              "jurisdiction."),
    "REGULATORY_UNSUPPORTED": (E, "A licensing, market, licence-count or brand claim that the pack's jurisdiction "
                                  "data do not cover."),
    "REGULATORY_MISMATCH": (E, "A licensing, market or licence-count claim that contradicts the pack's jurisdiction "
                               "data."),
    "REGULATORY_JURISDICTION": (E, "A licensing or market claim about a regulator or country other than the pack's."),
    "DESIGN_MISMATCH": (E, "A study-design or population word contradicts the cited item's study type or trial design."),
    "DESIGN_UNSUPPORTED": (E, "A study-design or population word that the cited item's record does not state."),
    "QUOTE_NOT_FOUND": (E, "A quote occurs in the text of none of the statement's cited items."),
    "QUOTE_MISSING": (E, "A statement reports what a cited item with text says, but carries no quote."),
    "QUOTE_TOO_LONG": (E, "A quote is longer than the drafting contract allows."),
    "FINDING_UNRECORDED": (E, "A statement reports what its sources found, but no cited item has text (or a "
                              "registered result) that could say it."),
    "QUOTE_NOT_COVERING": (E, "A figure the statement states is in neither its quotes nor the cited items' fields."),
    "STATEMENT_MARKUP": (E, "A drafted statement contains markup, a URL or a line break; statements are plain text."),
}


@dataclass(frozen=True)
class Finding:
    """One problem, located precisely enough to fix it and worded for a pharmacist."""

    code: str
    severity: Severity
    message: str
    location: str  # "indications[0].conclusion.rationale[1]" or "line 12"
    section: str = ""
    indication: str | None = None
    statement: str = ""
    span: str = ""

    def __str__(self) -> str:
        where = self.location + (f" ({self.indication})" if self.indication else "")
        return f"{where}: {self.severity.value} {self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "message": self.message,
                "location": self.location, "section": self.section, "indication": self.indication,
                "statement": self.statement, "span": self.span}


@dataclass(frozen=True)
class Verification:
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def unchecked(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.UNCHECKED]

    @property
    def ok(self) -> bool:
        """Verified: no error and nothing left unchecked (an unchecked claim is not a verified one)."""
        return not self.errors and not self.unchecked

    @property
    def exit_code(self) -> int:
        """``drafter verify``'s status for this text: 1 errors, 3 only unchecked findings, 0 verified."""
        return 1 if self.errors else 3 if self.unchecked else 0

    def codes(self) -> list[str]:
        return sorted(f.code for f in self.findings)

    def summary(self) -> str:
        unchecked = f", {len(self.unchecked)} unchecked" if self.unchecked else ""
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s){unchecked}"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": len(self.errors), "warnings": len(self.warnings),
                "unchecked": len(self.unchecked), "findings": [f.as_dict() for f in self.findings]}


def iter_codes() -> Iterator[tuple[str, Severity, str]]:
    for code, (severity, description) in CODES.items():
        yield code, severity, description
