"""Counts, scores and ranks: each figure equals what the rules computed from the pack.

Evidence levels written beside them are handed to :mod:`drafter.verify.levels`.
"""

from __future__ import annotations

from collections.abc import Sequence

from drafter.extract import find_counts, find_numbers
from drafter.pack.models import Phase, TrialStatus
from drafter.rules import counted_trials
from drafter.verify.context import Findings, Where
from drafter.verify.index import PackIndex
from drafter.verify.levels import check_level, level_subject


def target_ranks(index: PackIndex, sentence: str, where: Where) -> list[int]:
    """The indications a figure in ``sentence`` may be about: the one in context and any it names."""
    ranks = [where.rank] if where.rank is not None else []
    return ranks + [r for r in index.named_ranks(sentence) if r not in ranks]


def check_figures(findings: Findings, sentence: str, where: Where, background: bool, lint: bool = False) -> None:
    counts = find_counts(sentence)
    numbers = [n for n in find_numbers(sentence) if not (lint and n.of_others)]
    if not counts and not numbers:
        return
    if background:
        stated = counts[0].text if counts else numbers[0].text
        findings.add("BACKGROUND_WITH_TRIAL_FACT", where, f"a background statement states '{stated}', a figure "
                 "that only the pack can support", stated)
        return
    ranks = target_ranks(findings.index, sentence, where)
    if not ranks:
        return
    for claim in counts:
        actual = {r: count_for(findings.index, r, claim.what, claim.phases, claim.statuses) for r in ranks}
        wider = {r: count_for(findings.index, r, claim.what, _with_combined(claim.phases), claim.statuses)
                 for r in ranks} if claim.phases else actual
        if not any(claim.holds_for(n) for r in ranks for n in range(actual[r], wider[r] + 1)):
            noun = "trials" if claim.what == "trials" else "publications"
            held = ", ".join(f"{n} {noun} for {findings.index.indications[r].disease_name}"
                             for r, n in actual.items())
            findings.add("COUNT_MISMATCH", where, f"'{claim.text}': the pack holds {held}", claim.text)
    levels = [n for n in numbers if n.kind == "level"]
    spans = findings.index.named_spans(sentence) if levels else []
    for number in numbers:
        about = ranks
        if number.kind == "level":
            named = level_subject(sentence, number, levels, spans)
            about = [named] if named is not None else ranks
        check_number(findings, number.kind, number.value, number.decimals, number.text, about, where)


# A combined-phase trial is also a trial of each of its phases: 'two Phase 1 trials' may count a
# Phase 1/2 trial. A count holds if it holds with none, some or all of the combined phases counted.
_COMBINED_PHASES = {Phase.PHASE_1: (Phase.PHASE_1_2,), Phase.PHASE_2: (Phase.PHASE_1_2, Phase.PHASE_2_3),
                    Phase.PHASE_3: (Phase.PHASE_2_3,)}


def _with_combined(phases: frozenset[Phase]) -> frozenset[Phase]:
    return phases.union(*(_COMBINED_PHASES.get(p, ()) for p in phases))


def count_for(index: PackIndex, rank: int, what: str, phases: frozenset[Phase],
              statuses: frozenset[TrialStatus] | None) -> int:
    indication = index.indications[rank]
    if what == "articles":
        return len(indication.articles)
    return sum(1 for t in counted_trials(indication)
               if (not phases or t.phase in phases) and (statuses is None or t.status in statuses))


def check_number(findings: Findings, kind: str, value: object, decimals: int, text: str, ranks: Sequence[int],
                 where: Where) -> None:
    index = findings.index
    if kind == "score":
        scored = [r for r in ranks if index.indications[r].score is not None]
        if ranks and not scored:  # a score stated for an indication the pack holds no score for
            findings.add("SCORE_MISMATCH", where, f"'{text}': the pack holds no model score for this indication", text)
            return
        actual = {r: round(index.indications[r].score, decimals) for r in scored}  # type: ignore[arg-type]
        if round(float(value), decimals) not in actual.values():  # type: ignore[arg-type]
            shown = " / ".join(f"{index.indications[r].score:.2%}" for r in scored)
            findings.add("SCORE_MISMATCH", where, f"'{text}': the pack's score is {shown}", text)
    elif kind == "rank":
        if value not in ranks:
            names = ", ".join(f"{index.indications[r].disease_name} is rank {r}" for r in ranks)
            findings.add("RANK_MISMATCH", where, f"'{text}': in the pack {names}", text)
    elif kind == "level":
        check_level(findings, str(value), ranks[0], where, text)
