"""One sentence, read once and checked by every claim module.

The sentence is normalised once (:mod:`drafter.verify.reading`); every module reads that copy, so an
identifier in full-width digits or with a zero-width space inside is the same identifier to all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from drafter.extract import IdMention, mentions_trial_fact, split_sentences
from drafter.pack.models import Article, Trial
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.counts import check_figures
from drafter.verify.design import design_problems
from drafter.verify.identifiers import check_ids, ids_in
from drafter.verify.levels import check_decisions_claimed
from drafter.verify.numbers import check_numbers
from drafter.verify.reading import normal
from drafter.verify.regulatory import regulatory_problems
from drafter.verify.safety import check_cue_claims, check_safety
from drafter.verify.trial_facts import (PLAN_OR_CONDITION, about_a_planned_trial, check_trial_facts,
                                        check_trial_results)


def check_text(findings: Findings, text: str, where: Where, citing: Citing) -> None:
    for sentence in split_sentences(normal(text)):
        check_sentence(findings, sentence.text, where, citing)


# A study and what it found, in one sentence: 'a randomised trial showed', 'studies have reported', 'in a
# cohort of smokers, baclofen reduced'. General knowledge ('GABA-B agonists reduce dopamine release') is not.
_STUDY_FINDING = re.compile(
    r"\b(?:trials?|stud(?:y|ies)|meta-analys[ie]s|systematic\s+reviews?|cohorts?|case\s+(?:reports?|series)|"
    r"rcts?|experiments?|investigators|researchers)\b[^.;]{0,80}?\b(?:found|find|finds|showed|shown|shows|show|"
    r"demonstrated|demonstrates|reported|reports|observed|reduced|improved|increased|decreased|lowered|failed|"
    r"was\s+associated|were\s+associated|confirmed|suggested|suggests|halved|doubled)\b",
    re.IGNORECASE,
)


def check_sentence(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    """Check one normalised sentence."""
    ids = ids_in(findings.index, sentence)
    check_ids(findings, ids, where, citing)
    if citing.background and mentions_trial_fact(sentence):
        findings.add("BACKGROUND_WITH_TRIAL_FACT", where, "a background statement states an enrolment figure; "
                     "trial facts must come from the pack and cite it", sentence)
    elif citing.background and (finding := _STUDY_FINDING.search(sentence)) \
            and not PLAN_OR_CONDITION.search(finding.group(0)) \
            and not about_a_planned_trial(sentence, finding.start(), finding.end()):
        findings.add("BACKGROUND_WITH_TRIAL_FACT", where, f"a background statement reports what a study found "
                     f"('{finding.group(0)}'); study results must come from the pack and cite it", finding.group(0))
    check_trial_facts(findings, sentence, ids, where, citing)
    check_figures(findings, sentence, where, citing.background, citing.lint)
    check_safety(findings, sentence, where, citing)
    check_cue_claims(findings, sentence, where, citing)
    check_decisions_claimed(findings, sentence, where, citing)
    check_numbers(findings, sentence, where, citing, ids)
    check_regulatory(findings, sentence, where)
    check_design(findings, sentence, where, citing, ids)


def check_regulatory(findings: Findings, sentence: str, where: Where) -> None:
    for problem in regulatory_problems(sentence, findings.index.pack):
        findings.add(problem.code, where, problem.message, sentence[problem.start:problem.end])


def check_design(findings: Findings, sentence: str, where: Where, citing: Citing, ids: Sequence[IdMention]) -> None:
    """Design words about the items the sentence is about: its keys in a draft, the ids it writes in lint."""
    index = findings.index
    keys = [m.key for m in ids if m.kind != "malformed" and index.in_pack(m.key)] if citing.lint else sorted(citing.keys)
    cited: list[Article | Trial] = []
    for key in dict.fromkeys(keys):
        if key.startswith("PMID:") and key[5:] in index.articles:
            cited.append(index.article(key[5:], where.rank))
        elif key in index.trials:
            cited.append(index.trial(key, where.rank))
    if not cited:
        return
    for problem in design_problems(sentence, cited):
        findings.add(problem.code, where, problem.message, sentence[problem.start:problem.end])
    check_trial_results(findings, sentence, where, [item for item in cited if isinstance(item, Trial)])
