"""Verifier speed: a drafted report for a 10-indication pack with 200 citations, and lint of a 15 kB report.

Targets (issue 11, which tightened issue 3's 5 ms and 10 ms): median at most 2 ms for the draft and
5 ms for the lint, on this machine.
Prints figures only; nothing is asserted. Run from the repository root:

    python benchmarks/bench_verify.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import drafter
from drafter.drafts import (
    Conclusion,
    IndicationDraft,
    IndicationSections,
    MechanisticRationale,
    Paragraph,
    ReportDraft,
    Statement,
)

SAFETY = {
    "warnings": [{"text": "Abrupt withdrawal can cause seizures and hallucinations; taper the dose."},
                 {"text": "Drowsiness and sedation are dose related; warn about driving."},
                 {"text": "Respiratory depression with other CNS depressants."}],
    "interactions": [{"interacting": "alcohol", "text": "Additive sedation with alcohol intake."}],
    "adverse_effects": [{"text": "Dizziness, nausea and muscle weakness are common."}],
    "special_populations": [{"population": "renal_impairment", "text": "Accumulates; reduce the dose."}],
}


def build_pack(indications: int = 10, trials: int = 5, articles: int = 15) -> drafter.EvidencePack:
    inds = []
    for i in range(indications):
        inds.append({
            "rank": i + 1, "disease_name": f"Disease number {i + 1}", "score": round(0.99 - i * 0.01, 4),
            "trials": [{"registry_id": f"NCT{10_000_000 + i * 100 + j:08d}", "phase": "phase_2", "status": "completed",
                        "study_type": "interventional", "enrollment": 40 + j, "start_date": "2015-01",
                        "completion_date": "2017-06"} for j in range(trials)],
            "articles": [{"pmid": str(20_000_000 + i * 100 + j), "year": 2010 + j % 10,
                          "publication_types": ["Review"]} for j in range(articles)],
        })
    return drafter.load_pack({"meta": {"pack_id": "bench", "schema_version": "1.0"},
                              "drug": {"inn": "baclofen", "mechanism_of_action": "GABA-B agonist"},
                              "jurisdiction": {"country": "GB"}, "safety": SAFETY, "predicted_indications": inds})


def build_draft(pack: drafter.EvidencePack) -> ReportDraft:
    items = []
    for ind in pack.ranked_indications():
        statements = []
        for t in ind.trials:
            statements.append(Statement(text=f"{t.registry_id} was a completed Phase 2 trial that enrolled "
                                             f"{t.enrollment} participants and ended in 2017.",
                                        support="pack", keys=[t.registry_id]))
        for a in ind.articles:
            statements.append(Statement(text=f"PMID {a.pmid} ({a.year}) reviewed the mechanism.", support="pack",
                                        keys=[a.key]))
        statements.append(Statement(text="Baclofen can cause drowsiness and respiratory depression, so monitoring "
                                         "is needed.", support="pack", keys=["SAFETY:W2", "SAFETY:W3"],
                                    quotes=["Drowsiness and sedation are dose related", "Respiratory depression"]))
        statements.append(Statement(text="GABA-B receptors are widely expressed in the brain.", support="background",
                                    keys=[]))
        # 22 statements: two paragraphs of 7 and a rationale of 8 (the schema's bounds, drafter.drafts.MAX_*)
        sections = IndicationSections(
            mechanistic_rationale=MechanisticRationale(paragraphs=[Paragraph(statements=statements[:7]),
                                                                   Paragraph(statements=statements[7:14])]),
            conclusion=Conclusion(decision="Research Question", rationale=statements[14:22], next_steps=[]),
        )
        items.append(IndicationDraft(rank=ind.rank, sections=sections))
    return ReportDraft(indications=items)


def build_markdown(pack: drafter.EvidencePack, target_bytes: int = 15_000) -> str:
    lines = [f"# {pack.drug.inn}: evaluation report", ""]
    for ind in pack.ranked_indications():
        lines += [f"## {ind.disease_name}", "", "| Item | Content |", "|---|---|",
                  f"| TxGNN Prediction Score | {ind.score:.2%} |", f"| Number of Clinical Trials | {len(ind.trials)} |",
                  f"| Number of Publications | {len(ind.articles)} |", "",
                  "| Trial Number | Phase | Status | Enrolment |", "|---|---|---|---|"]
        lines += [f"| {t.registry_id} | Phase 2 | Completed | {t.enrollment} |" for t in ind.trials]
        lines += ["", "| PMID | Year | Type |", "|---|---|---|"]
        lines += [f"| {a.pmid} | {a.year} | Review |" for a in ind.articles]
        lines += ["", f"The model ranks {ind.disease_name} with a score of {ind.score:.2%}; the pack holds "
                      f"{len(ind.trials)} clinical trials and {len(ind.articles)} publications. "
                      f"{ind.trials[0].registry_id} was a completed Phase 2 trial with {ind.trials[0].enrollment} "
                      "participants. Monitoring for drowsiness is advised.", "",
                  "GABA-B receptors are widely expressed in the brain and spinal cord, and their activation reduces "
                  "the release of excitatory transmitters; whether that helps in this disease is an open question "
                  "that only controlled human studies can answer.", ""]
    text = "\n".join(lines)
    while len(text.encode()) < target_bytes:  # pad with further prose paragraphs to the target size
        text += ("\nThe mechanistic argument rests on animal work and on the drug's known pharmacology; human data "
                 "remain limited and the rationale should be read as a hypothesis for further study.\n")
    return text


def clear_text_caches() -> None:
    """Forget every per-text result the verifier memoises, so a run costs what a new draft costs.

    The verifier caches its readings and extractions by text (a repair loop re-verifies unchanged
    statements for free); a benchmark that repeats one draft would otherwise measure cache hits.
    """
    from drafter import extract
    from drafter.verify import identifiers, lint, numbers, quotes, reading, trial_facts
    from drafter.vocabulary import SafetyVocabulary
    for cached in (reading.normal, extract.fold, extract._find_trial_facts_cached, extract._find_counts_cached,
                   extract._find_numbers_cached, extract._find_decisions_cached, identifiers._id_mentions,
                   numbers.values_in, numbers._figures, SafetyVocabulary._prepared_cached, trial_facts._parentheses,
                   trial_facts._clause_breaks, quotes.normalise, lint.column_kinds):
        cached.cache_clear()


def median_ms(fn, repeat: int, *, cold: bool = True) -> float:
    fn()  # warm caches (vocabulary, rule table)
    times = []
    for _ in range(repeat):
        if cold:
            clear_text_caches()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    pack = build_pack()
    draft = build_draft(pack)
    n_statements = sum(1 for item in draft.indications for _ in item.sections.statements())
    n_citations = sum(len(s.keys) for item in draft.indications for _, s in item.sections.statements())
    result = drafter.verify(pack, draft)
    if result.errors:
        raise SystemExit(f"the benchmark draft should verify cleanly, got: {result.errors[:3]}")
    assessment = drafter.assess_pack(pack)
    t_draft = median_ms(lambda: drafter.verify(pack, draft), args.repeat)
    t_draft_pre = median_ms(lambda: drafter.verify(pack, draft, assessment=assessment), args.repeat)
    print(f"verify draft: 10 indications, {n_statements} statements, {n_citations} citations: "
          f"median {t_draft:.2f} ms ({n_statements / t_draft * 1000:,.0f} statements/s); target <= 2 ms -> "
          f"{t_draft / 2:.1f}x of target")
    print(f"  with the assessment passed in (as the repair loop does): median {t_draft_pre:.2f} ms")
    t_warm = median_ms(lambda: drafter.verify(pack, draft), args.repeat, cold=False)
    print(f"  the same draft verified again (per-text caches warm, as for a repair attempt): median {t_warm:.2f} ms")
    text = build_markdown(pack)
    lint = drafter.verify_markdown(pack, text)
    if lint.errors:
        raise SystemExit(f"the benchmark report should lint cleanly, got: {lint.errors[:3]}")
    n_lines = len([line for line in text.splitlines() if line.strip()])
    t_lint = median_ms(lambda: drafter.verify_markdown(pack, text), args.repeat)
    print(f"lint markdown: {len(text.encode()) / 1000:.1f} kB, {n_lines} non-empty lines: median {t_lint:.2f} ms "
          f"({n_lines / t_lint * 1000:,.0f} lines/s); target <= 5 ms -> {t_lint / 5:.1f}x of target")
    print("(medians with the per-text caches cleared before each run, unless said otherwise)")


if __name__ == "__main__":
    main()
