"""Trial facts: a phase, status, enrolment or year written about a trial or article matches its record."""

from __future__ import annotations

from collections.abc import Sequence

from drafter.extract import Fact, IdMention, find_trial_facts
from drafter.pack.models import Phase, TrialStatus
from drafter.verify.context import Findings, Where
from drafter.verify.index import PackIndex


def check_trial_facts(findings: Findings, sentence: str, ids: Sequence[IdMention], where: Where) -> None:
    known = [m for m in ids if m.kind != "malformed" and findings.index.in_pack(m.key)]
    if not known:
        return
    for fact in find_trial_facts(sentence):
        if any(m.start < fact.end and fact.start < m.end for m in ids):
            continue  # digits inside an identifier ('EudraCT 2011-004300-38') are not a year
        candidates = _neighbours(fact, known, trials_only=fact.kind != "year")
        if not candidates:
            continue
        verdicts = [fact_verdict(findings.index, fact, mention.key, where.rank) for mention in candidates]
        if any(v is None for v in verdicts):
            continue
        code, message = verdicts[0]  # type: ignore[misc]
        findings.add(code, where, message, fact.text)



def fact_verdict(index: PackIndex, fact: Fact, key: str, rank: int | None = None) -> tuple[str, str] | None:
    """None when ``fact`` is true of the item ``key``; else (code, message)."""
    if key.startswith("PMID:"):
        article = index.article(key[5:], rank)
        if article.year is None:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no year for {key}"
        if fact.value == article.year:
            return None
        return "YEAR_MISMATCH", f"{key} was published in {article.year}, not {fact.value}"
    trial = index.trial(key, rank)
    if fact.kind == "phase":
        if trial.phase in (Phase.UNKNOWN, Phase.NOT_APPLICABLE):
            return "TRIAL_FACT_UNKNOWN", f"the pack records no phase for {key}; '{fact.text}' is unsupported"
        if fact.value == trial.phase:
            return None
        return "TRIAL_PHASE_MISMATCH", f"{key} is a {trial.phase.label} trial in the pack, not {fact.text}"
    if fact.kind == "status":
        if trial.status in fact.value:  # type: ignore[operator]
            return None
        if trial.status is TrialStatus.UNKNOWN:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no status for {key}; '{fact.text}' is unsupported"
        return "TRIAL_STATUS_MISMATCH", f"{key} is {trial.status.label.lower()} in the pack, not {fact.text}"
    if fact.kind == "enrollment":
        if trial.enrollment is None:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no enrolment for {key}; '{fact.text}' is unsupported"
        if fact.value == trial.enrollment:
            return None
        return "TRIAL_ENROLMENT_MISMATCH", f"{key} enrolled {trial.enrollment} in the pack, not {fact.value}"
    years = [int(d[:4]) for d in (trial.start_date, trial.completion_date) if d]
    if not years:
        return "TRIAL_FACT_UNKNOWN", f"the pack records no dates for {key}; the year {fact.value} is unsupported"
    if min(years) <= fact.value <= max(years):  # type: ignore[operator]
        return None
    span = "-".join(str(y) for y in sorted(set(years)))
    return "YEAR_MISMATCH", f"{key} ran {span} in the pack; {fact.value} matches none of its dates"



def _neighbours(fact: Fact, ids: Sequence[IdMention], *, trials_only: bool) -> list[IdMention]:
    """The ids on either side of a fact (the fact is taken to be about one of them)."""
    usable = [m for m in ids if not trials_only or m.kind == "trial"]
    before = [m for m in usable if m.end <= fact.start]
    after = [m for m in usable if m.start >= fact.end]
    out = []
    if before:
        out.append(before[-1])
    if after:
        out.append(after[0])
    return out
