"""Evidence levels and decisions: one level per indication, the computed one; no decision above its ceiling."""

from __future__ import annotations

from collections.abc import Sequence

from drafter.extract import NumberClaim, find_decisions
from drafter.rules import Decision
from drafter.verify.context import Citing, Findings, Where


def check_decision(findings: Findings, decision: Decision, rank: int, where: Where, span: str) -> None:
    ceiling = findings.index.assessment.for_rank(rank)
    if not decision.allowed_by(ceiling.decision_ceiling):
        findings.add("DECISION_ABOVE_CEILING", where, f"'{decision.value}' is stronger than the ceiling "
                 f"{ceiling.ceiling_reason}", span)



def check_decisions_claimed(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    """Decisions written in prose: within the ceiling, and the same as the drafted decision."""
    if where.rank is None:
        return
    for claim in find_decisions(sentence):
        decision = Decision(claim.text)
        check_decision(findings, decision, where.rank, where, claim.text)
        if citing.decision is not None and decision is not citing.decision:
            findings.add("DECISION_CONFLICT", where, f"the text states '{decision.value}' but the drafted decision "
                         f"is '{citing.decision.value}'", claim.text)


def check_level(findings: Findings, level: str, rank: int, where: Where, text: str) -> None:
    computed = findings.index.assessment.for_rank(rank)
    findings.levels_stated.setdefault(rank, []).append((level, where))
    if level != computed.level:
        subject = "" if rank == where.rank else f" for {computed.disease_name}"
        findings.add("LEVEL_MISMATCH", where, f"evidence level {level} is stated{subject}, but the rules compute "
                     f"{computed.level_reason}", text)


def check_level_conflicts(findings: Findings) -> None:
    for rank, stated in findings.levels_stated.items():
        distinct = sorted({level for level, _ in stated})
        if len(distinct) > 1:
            computed = findings.index.assessment.for_rank(rank).level
            findings.add("LEVEL_CONFLICT", stated[0][1], f"the text states {', '.join(distinct)} for one indication; "
                     f"the rules compute {computed}", ", ".join(distinct))


def level_subject(sentence: str, level: NumberClaim, levels: Sequence[NumberClaim],
                   spans: Sequence[tuple[int, int, int]]) -> int | None:
    """The indication a level is stated for, when the sentence names one; else None (the context's).

    'L2 for nicotine dependence compares with L3 for ADHD', 'ADHD: level L3; nicotine dependence: L2':
    the closest name in the same clause (up to ';') with no other name or level between the two.
    """
    start = sentence.rfind(";", 0, level.start) + 1
    stop = sentence.find(";", level.end)
    stop = len(sentence) if stop < 0 else stop
    best: tuple[int, int] | None = None
    for name_start, name_end, rank in spans:
        if name_start < start or name_end > stop:
            continue
        left, right = (name_end, level.start) if name_end <= level.start else (level.end, name_start)
        if left > right:
            continue  # overlapping
        if any(left <= other.start < right for other in levels if other is not level):
            continue
        if any(left <= s < right or left < e <= right for s, e, _ in spans if (s, e) != (name_start, name_end)):
            continue
        if best is None or right - left < best[0]:
            best = (right - left, rank)
    return best[1] if best else None
