"""Study-design claims (drafter.verify.design) against the records of the cited pack items.

Each case names a pack, the keys the sentence cites (as a drafted statement's keys would) and the
sentence, phrased the way GPT-4-class drafts phrase study descriptions. Faithful sentences yield no
problem; faulty ones exactly the codes listed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

import drafter
from drafter.pack.models import Article, Trial
from drafter.verify.design import CODES, design_problems

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def pack(name: str) -> drafter.EvidencePack:
    return drafter.load_pack(ROOT / "examples" / "packs" / f"{name}.json")


def cited(name: str, keys: str) -> list[Article | Trial]:
    items: dict[str, Article | Trial] = {}
    for indication in pack(name).predicted_indications:
        items.update({t.key: t for t in indication.trials})
        items.update({a.key: a for a in indication.articles})
    return [items[key] for key in keys.split()]


FAITHFUL = [
    # baclofen: preclinical animal articles, a systematic review, reviews, a pilot RCT, Phase 2 trials without design
    ("baclofen", "PMID:21300040", "In spontaneously hypertensive rats, baclofen reduced hyperactivity (PMID 21300040)."),
    ("baclofen", "PMID:21300040", "Preclinical work in an animal model of ADHD (PMID 21300040) suggests an effect on "
                                  "hyperactivity."),
    ("baclofen", "PMID:23500668", "In rats, baclofen prevented mecamylamine-precipitated nicotine withdrawal."),
    ("baclofen", "PMID:24553576 PMID:19250803", "Rodent studies consistently show reduced nicotine self-administration "
                                                "(PMID 24553576, PMID 19250803)."),
    ("baclofen", "PMID:25868070", "A pilot randomised trial in smokers with alcohol use disorder (PMID 25868070) "
                                  "reported reduced craving."),
    ("baclofen", "PMID:35345730", "A systematic review (PMID 35345730) summarised randomised and observational studies "
                                  "of GABA-B agents."),
    ("baclofen", "PMID:24295630", "A narrative review (PMID 24295630) discussed preclinical and clinical evidence."),
    ("baclofen", "PMID:26366961", "A review of mood stabilisers in children and adolescents (PMID 26366961) mentions "
                                  "baclofen."),
    ("baclofen", "PMID:21300040", "No randomised trial of baclofen in ADHD has been published; the evidence is "
                                  "preclinical (PMID 21300040)."),
    ("baclofen", "PMID:21300040", "A randomised, placebo-controlled trial is needed to test whether the effect seen in "
                                  "rats (PMID 21300040) translates to patients."),
    ("baclofen", "PMID:21300040", "The absence of any double-blind study leaves the animal data (PMID 21300040) "
                                  "unconfirmed."),
    ("baclofen", "PMID:21300040", "Rather than a case report, the evidence here is an animal study (PMID 21300040)."),
    ("baclofen", "NCT01821560", "NCT01821560 is a Phase 2 trial in cigarette smokers."),
    ("baclofen", "NCT01821560 PMID:24553576", "A completed Phase 2 trial (NCT01821560), multiple independent preclinical "
                                              "self-administration studies and a mechanistic rationale support "
                                              "further work."),
    ("baclofen", "PMID:36258248", "An adaptive Phase 1/2 clinical trial in patients with AUD (PMID 36258248) is under way."),
    ("baclofen", "PMID:21300040", "Baclofen should be used with caution in patients with renal impairment, and the rat "
                                  "data (PMID 21300040) do not address dosing."),
    # colchicine: RCT articles; NCT trials randomised, CONVINCE open label
    ("colchicine-us", "NCT02898610", "CONVINCE (NCT02898610) was a randomised, open-label trial in patients with "
                                     "ischaemic stroke."),
    ("colchicine-us", "PMID:31733140", "In a randomised trial of 4,745 patients after myocardial infarction, colchicine "
                                       "reduced ischaemic events (PMID 31733140)."),
    ("colchicine-us", "PMID:31733140 PMID:32865380", "Two randomised controlled trials (PMID 31733140; PMID 32865380) "
                                                     "found fewer cardiovascular events."),
    ("colchicine-us", "PMID:32865380", "LoDoCo2 randomised patients with chronic coronary disease (PMID 32865380)."),
    ("colchicine-us", "NCT02551094", "COLCOT (NCT02551094) randomised patients within 30 days of myocardial infarction."),
    ("colchicine-us", "PMID:21873705", "In patients with recurrent pericarditis, a randomised trial (PMID 21873705) "
                                       "showed fewer recurrences."),
    ("colchicine-us", "PMID:31733140", "Large observational cohorts are still lacking, so the evidence rests on one "
                                       "randomised trial (PMID 31733140)."),
    ("colchicine-us", "PMID:31733140", "A meta-analysis would be needed to pool these randomised data (PMID 31733140)."),
    # hydroxychloroquine: RECOVERY open label, JOQUER double masking, hand OA trial randomised and double
    ("hydroxychloroquine-gb", "NCT04381936", "RECOVERY (NCT04381936), a large randomised open-label platform trial, "
                                             "found no benefit."),
    ("hydroxychloroquine-gb", "NCT00632866", "JOQUER (NCT00632866) was a randomised, double-blind trial in primary "
                                             "Sjogren syndrome."),
    ("hydroxychloroquine-gb", "ISRCTN91859104", "HERO (ISRCTN91859104) was a randomised, double-blind trial in people "
                                                "with hand osteoarthritis."),
    ("hydroxychloroquine-gb", "ISRCTN50189673", "The RECOVERY trial (ISRCTN50189673) randomised hospitalised patients."),
    ("hydroxychloroquine-gb", "PMID:33031652", "In hospitalised patients, hydroxychloroquine did not reduce 28-day "
                                               "mortality (PMID 33031652)."),
    ("hydroxychloroquine-gb", "PMID:25027140", "Hydroxychloroquine should be used with caution in children "
                                               "(PMID 25027140)."),
    ("hydroxychloroquine-gb", "PMID:25027140", "In a multicentre randomised trial of 120 patients (PMID 25027140), "
                                               "symptoms did not improve."),
    ("hydroxychloroquine-gb", "PMID:33031652", "Unlike double-blind trials, RECOVERY (PMID 33031652) compared usual care "
                                               "with usual care plus a drug."),
    ("hydroxychloroquine-gb", "NCT04381936", "RECOVERY (NCT04381936) was not blinded."),
    ("baclofen", "PMID:25868070", "The literature holds ten publications, most of them preclinical."),
    ("baclofen", "PMID:21300040", "Animal studies (PMID 21300040) cannot show whether baclofen improves attention in "
                                  "people."),
    ("hydroxychloroquine-gb", "NCT00632866", "JOQUER (NCT00632866) compared hydroxychloroquine against placebo in a "
                                             "double-blind design."),
    ("baclofen", "PMID:21300040", "These findings (PMID 21300040) have not yet been replicated in patients."),
    ("baclofen", "PMID:21300040", "Clinical evidence is limited to one animal study (PMID 21300040)."),
    ("baclofen", "PMID:21300040 PMID:25868070", "Both preclinical and early clinical data support further study."),
    ("baclofen", "PMID:24971600", "As reviewed elsewhere (PMID 24971600), rodent studies show reduced nicotine intake."),
    ("baclofen", "PMID:24971600", "A review of GABA-B agents in addiction (PMID 24971600) summarised evidence from animal "
                                  "models and human laboratory studies."),
    ("colchicine-us", "PMID:31733140", "Observational data have been mixed, but the randomised evidence (PMID 31733140) "
                                       "is consistent."),
    ("colchicine-us", "NCT02551094", "COLCOT (NCT02551094) compared colchicine against placebo in a randomised design."),
    ("hydroxychloroquine-gb", "PMID:33031652", "A Cochrane-style systematic review of randomised trials would be needed "
                                               "to pool RECOVERY (PMID 33031652) with other data."),
    # records that state the design since the example packs carry their registry masking and abstracts
    ("colchicine-us", "NCT02551094", "COLCOT (NCT02551094) was a randomised, double-blind, placebo-controlled trial."),
    ("colchicine-us", "PMID:38857611", "An open-label trial in stroke patients (PMID 38857611) found fewer events."),
    ("hydroxychloroquine-gb", "PMID:33031652", "The trial was open-label rather than placebo-controlled (PMID 33031652)."),
]


@pytest.mark.parametrize("name,keys,text", FAITHFUL, ids=[f"{n}:{t[:50]}" for n, _, t in FAITHFUL])
def test_faithful_design_words_pass(name: str, keys: str, text: str) -> None:
    problems = design_problems(text, cited(name, keys))
    assert problems == [], [(p.code, text[p.start:p.end], p.message) for p in problems]


FAULTY = [
    ("baclofen", "PMID:21300040", "In patients with ADHD, baclofen reduced hyperactivity (PMID 21300040).",
     ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:24062084", "Baclofen improved attention in children with ADHD (PMID 24062084).",
     ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:21300040", "A randomised controlled trial (PMID 21300040) showed reduced hyperactivity.",
     ["DESIGN_UNSUPPORTED"]),
    ("baclofen", "PMID:21300040", "A meta-analysis (PMID 21300040) confirmed the effect.", ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:24295630", "A systematic review (PMID 24295630) found consistent benefit.", ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:24295630", "A double-blind trial (PMID 24295630) supports the hypothesis.", ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:35345730", "A meta-analysis (PMID 35345730) pooled data from twelve trials.",
     ["DESIGN_UNSUPPORTED"]),
    ("baclofen", "PMID:25868070", "A double-blind, placebo-controlled pilot trial in smokers (PMID 25868070) found "
                                  "reduced craving.", ["DESIGN_UNSUPPORTED", "DESIGN_UNSUPPORTED"]),
    ("baclofen", "PMID:25868070", "A case series of heavy drinkers who smoke (PMID 25868070) reported less craving.",
     ["DESIGN_MISMATCH"]),
    ("baclofen", "NCT01821560", "NCT01821560 is a randomised, double-blind Phase 2 trial in cigarette smokers.",
     ["DESIGN_UNSUPPORTED", "DESIGN_UNSUPPORTED"]),
    ("baclofen", "NCT01821560", "NCT01821560 is a retrospective cohort study of smokers.", ["DESIGN_MISMATCH"]),
    ("baclofen", "NCT00257894", "In rats, baclofen reduced smoking urge (NCT00257894).", ["DESIGN_MISMATCH"]),
    ("baclofen", "NCT01228994", "NCT01228994 enrolled healthy volunteers.", ["DESIGN_UNSUPPORTED"]),
    ("baclofen", "PMID:21300040", "In vitro, baclofen reduced dopamine release (PMID 21300040).",
     ["DESIGN_UNSUPPORTED"]),
    ("colchicine-us", "NCT02898610", "CONVINCE (NCT02898610) was a randomised, double-blind trial in patients with "
                                     "ischaemic stroke.", ["DESIGN_MISMATCH"]),
    ("colchicine-us", "PMID:31733140", "A retrospective cohort study (PMID 31733140) found fewer events.",
     ["DESIGN_MISMATCH"]),
    ("colchicine-us", "PMID:31733140", "A meta-analysis of randomised trials (PMID 31733140) found fewer events.",
     ["DESIGN_MISMATCH"]),
    ("colchicine-us", "PMID:31733140", "In mice, low-dose colchicine reduced infarct size (PMID 31733140).",
     ["DESIGN_MISMATCH"]),
    ("colchicine-us", "PMID:21873705", "A case report (PMID 21873705) described recurrent pericarditis resolving on "
                                       "colchicine.", ["DESIGN_MISMATCH"]),
    ("colchicine-us", "PMID:31733140 PMID:32865380", "Two non-randomised studies (PMID 31733140; PMID 32865380) "
                                                     "suggested fewer events.", ["DESIGN_MISMATCH"]),
    ("hydroxychloroquine-gb", "NCT04381936", "RECOVERY (NCT04381936), a double-blind placebo-controlled trial, found no "
                                             "benefit.", ["DESIGN_MISMATCH", "DESIGN_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "NCT00632866", "JOQUER (NCT00632866) was an open-label study.", ["DESIGN_MISMATCH"]),
    ("hydroxychloroquine-gb", "PMID:25027140", "In a case series of 12 patients (PMID 25027140), symptoms did not "
                                               "improve.", ["DESIGN_MISMATCH"]),
    ("hydroxychloroquine-gb", "PMID:33031652", "In healthy volunteers, hydroxychloroquine did not reduce mortality "
                                               "(PMID 33031652).", ["DESIGN_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "PMID:33031652", "In a paediatric trial (PMID 33031652), hydroxychloroquine did not "
                                               "reduce mortality.", ["DESIGN_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "NCT00632866", "JOQUER (NCT00632866) was not blinded.", ["DESIGN_MISMATCH"]),
    ("baclofen", "PMID:21300040", "Baclofen improved attention in patients with ADHD in a double-blind crossover study "
                                  "(PMID 21300040).", ["DESIGN_MISMATCH", "DESIGN_UNSUPPORTED"]),
    ("colchicine-us", "PMID:31733140", "Observational data (PMID 31733140) show fewer events.", ["DESIGN_MISMATCH"]),
    # a statement citing two items, the design word written beside the wrong one
    ("baclofen", "PMID:21300040 PMID:25868070", "A randomised trial (PMID 21300040) and an animal study "
                                                "(PMID 25868070) both point the same way.",
     ["DESIGN_UNSUPPORTED", "DESIGN_MISMATCH"]),
]


@pytest.mark.parametrize("name,keys,text,expected", FAULTY, ids=[f"{n}:{t[:50]}" for n, _, t, _ in FAULTY])
def test_faulty_design_words_are_flagged(name: str, keys: str, text: str, expected: list[str]) -> None:
    problems = design_problems(text, cited(name, keys))
    assert sorted(p.code for p in problems) == sorted(expected), \
        [(p.code, text[p.start:p.end], p.message) for p in problems]
    for problem in problems:
        assert 0 <= problem.start < problem.end <= len(text)


def test_mismatch_message_names_the_record() -> None:
    text = "CONVINCE (NCT02898610) was a double-blind trial."
    [problem] = design_problems(text, cited("colchicine-us", "NCT02898610"))
    assert text[problem.start:problem.end] == "double-blind"
    assert "NCT02898610" in problem.message and "none (open label)" in problem.message


def test_unsupported_message_says_what_the_record_holds() -> None:
    [problem] = design_problems("NCT01821560 was double-blind.", cited("baclofen", "NCT01821560"))
    assert problem.code == "DESIGN_UNSUPPORTED"
    assert "no allocation or masking recorded" in problem.message


def test_offsets_survive_typographic_characters() -> None:
    text = "CONVINCE (NCT02898610) \u2014 a randomised, double\u2011blind trial \u2014 enrolled patients."
    [problem] = design_problems(text, cited("colchicine-us", "NCT02898610"))
    assert text[problem.start:problem.end] == "double\u2011blind"


def test_nothing_cited_is_not_checked_here() -> None:
    assert design_problems("A randomised, double-blind trial showed benefit.", []) == []


def test_record_text_supports_a_design_the_fields_do_not_hold() -> None:
    """ISRCTN50189673 has no design block, but its title says 'A randomised trial'."""
    assert design_problems("ISRCTN50189673 is a randomised trial.", cited("hydroxychloroquine-gb", "ISRCTN50189673")) == []


def test_codes_have_severity_and_description() -> None:
    assert set(CODES) == {"DESIGN_MISMATCH", "DESIGN_UNSUPPORTED"}
    for severity, description in CODES.values():
        assert severity == "error" and description.endswith(".")


# --- the catalogue cases waiting for the verifier to wire this module --------------------------------

PENDING = ROOT / "tests" / "catalogue" / "design.json"


def _pending_cases() -> list[dict]:
    import json

    return json.loads(PENDING.read_text(encoding="utf-8"))


def _case_sentences(case: dict) -> list[tuple[str, list[Article | Trial]]]:
    """(sentence, cited items) as the verifier will pass them: a statement's keys, or the ids a line writes."""
    import re

    from drafter.extract import split_sentences

    name = Path(case["pack"]).stem
    by_id: dict[str, Article | Trial] = {}
    for indication in pack(name).predicted_indications:
        for trial in indication.trials:
            by_id[trial.key] = trial
        for article in indication.articles:
            by_id[article.key] = article
            by_id[article.pmid] = article
    if case["mode"] == "markdown":
        lines = case["text"] if isinstance(case["text"], list) else case["text"].splitlines()
        return [(s.text, [by_id[i] for i in re.findall(r"\b(?:\d{8}|NCT\d{8})\b", s.text) if i in by_id])
                for line in lines for s in split_sentences(line)]
    found = []
    for statement in case["statements"]:
        text, keys = (statement, []) if isinstance(statement, str) else (statement["text"], statement.get("keys", []))
        found.extend((s.text, [by_id[k] for k in keys]) for s in split_sentences(text))
    return found


@pytest.mark.parametrize("case", _pending_cases(), ids=[c["id"] for c in _pending_cases()])
def test_pending_catalogue_case_agrees_with_the_module(case: dict) -> None:
    assert case["id"].startswith("design-") and case["about"] and set(case["expect"]) <= set(CODES)
    got = sorted(p.code for text, items in _case_sentences(case) for p in design_problems(text, items))
    assert got == sorted(case["expect"]), case["about"]
