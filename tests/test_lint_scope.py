"""Lint's 'unchecked' findings: what a pack says it does not know is neither proved nor an error.

A pack rebuilt from a published report holds no safety data and says it does not know them (no
safety query ran, its data gap calls the content unknown). Lint then reports a safety claim as
``unchecked``: the verification fails (exit 3) but the claim is not counted as a fault. The same
claim is an error when the pack knows it has no safety data, and always in drafted statements.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import drafter
from drafter.cli import main
from drafter.drafts import ReportDraft
from drafter.pack.models import DataGap, EvidencePack, MarketStatus, QueryLogEntry, Relevance, StudyType
from drafter.verify import Severity
from drafter.verify.lint_scope import regulatory_unknown, safety_unknown

ROOT = Path(__file__).resolve().parent.parent
BACLOFEN = drafter.load_pack(ROOT / "examples" / "packs" / "baclofen.json")
CLAIM = "## Nicotine Dependence\n\nBaclofen causes hepatotoxicity in smokers.\n"


def _without_safety(*, gaps: list[DataGap], queries: list[QueryLogEntry]) -> EvidencePack:
    meta = BACLOFEN.meta.model_copy(update={"data_gaps": gaps, "query_log": queries})
    return BACLOFEN.model_copy(update={"safety": None, "meta": meta})


REBUILT = _without_safety(
    gaps=[DataGap(item="SmPC warnings / contraindications", impact="Unknown: rebuilt from the report's tables")],
    queries=[QueryLogEntry(source="clinicaltrials", result_status="success")])
KNOWN_GAP = _without_safety(
    gaps=[DataGap(item="SmPC warnings / contraindications", impact="No SmPC warnings were available.")],
    queries=[QueryLogEntry(source="clinicaltrials", result_status="success")])
SEARCHED = _without_safety(gaps=[], queries=[QueryLogEntry(source="dailymed", result_status="not_found")])


def test_a_pack_that_says_it_does_not_know_its_safety_data_is_told_apart() -> None:
    assert safety_unknown(REBUILT)
    assert not safety_unknown(KNOWN_GAP)  # the gap says what is missing: the pack knows there is none
    assert not safety_unknown(SEARCHED)  # a safety search ran and found nothing
    assert not safety_unknown(BACLOFEN)  # it holds safety data


def test_lint_of_a_safety_claim_is_unchecked_only_where_the_pack_does_not_know() -> None:
    unknown = drafter.verify_markdown(REBUILT, CLAIM)
    assert [(f.code, f.severity) for f in unknown.findings] == [("SAFETY_NO_DATA", Severity.UNCHECKED)]
    assert not unknown.errors and not unknown.ok and unknown.exit_code == 3
    assert "unchecked" in unknown.findings[0].message
    for pack in (KNOWN_GAP, SEARCHED):
        known = drafter.verify_markdown(pack, CLAIM)
        assert [(f.code, f.severity) for f in known.findings] == [("SAFETY_NO_DATA", Severity.ERROR)]
        assert known.exit_code == 1


def test_a_drafted_safety_claim_is_an_error_even_where_the_pack_does_not_know() -> None:
    statement = {"text": "Baclofen causes hepatotoxicity in smokers.", "support": "pack", "keys": ["MOA"], "quotes": []}
    draft = ReportDraft.model_validate({"indications": [{"rank": 2, "sections": {
        "mechanistic_rationale": {"paragraphs": []},
        "conclusion": {"decision": "Hold", "rationale": [statement], "next_steps": []}}}]})
    result = drafter.verify(REBUILT, draft)
    safety = [f for f in result.findings if f.code.startswith("SAFETY")]
    assert [(f.code, f.severity) for f in safety] == [("SAFETY_NO_DATA", Severity.ERROR)]
    assert not result.unchecked


def test_a_rank_the_pack_does_not_hold_is_unchecked_but_a_wrong_rank_it_holds_is_an_error() -> None:
    missing = drafter.verify_markdown(BACLOFEN, "## Nicotine Dependence\n\nNicotine dependence is ranked 7.\n")
    assert [(f.code, f.severity) for f in missing.findings] == [("RANK_MISMATCH", Severity.UNCHECKED)]
    wrong = drafter.verify_markdown(BACLOFEN, "## Nicotine Dependence\n\nNicotine dependence is ranked 1.\n")
    assert [(f.code, f.severity) for f in wrong.findings] == [("RANK_MISMATCH", Severity.ERROR)]


def test_a_licence_claim_is_unchecked_only_when_no_regulatory_search_ran() -> None:
    text = "## Nicotine Dependence\n\nBaclofen is licensed by the MHRA for nicotine dependence.\n"
    jurisdiction = BACLOFEN.jurisdiction.model_copy(update={"licences": [], "total_licences": None,
                                                            "market_status": MarketStatus.UNKNOWN})
    bare = BACLOFEN.model_copy(update={"jurisdiction": jurisdiction,
                                       "meta": BACLOFEN.meta.model_copy(update={"query_log": []})})
    assert regulatory_unknown(bare)
    found = [f for f in drafter.verify_markdown(bare, text).findings if f.code.startswith("REGULATORY")]
    assert found and all(f.severity is Severity.UNCHECKED for f in found)
    searched = bare.model_copy(update={"meta": bare.meta.model_copy(update={
        "query_log": [QueryLogEntry(source="MHRA products", result_status="not_found")]})})
    assert not regulatory_unknown(searched)
    found = [f for f in drafter.verify_markdown(searched, text).findings if f.code.startswith("REGULATORY")]
    assert found and all(f.severity is Severity.ERROR for f in found)


@pytest.mark.parametrize(("pack", "status"), [(REBUILT, 3), (KNOWN_GAP, 1)])
def test_drafter_verify_exits_3_when_only_unchecked_findings_remain(tmp_path: Path, pack: EvidencePack,
                                                                      status: int) -> None:
    pack_file = tmp_path / "pack.json"
    pack_file.write_text(pack.model_dump_json(), encoding="utf-8")
    report = tmp_path / "report.md"
    report.write_text(CLAIM, encoding="utf-8")
    clean = tmp_path / "clean.md"
    clean.write_text("## Nicotine Dependence\n\nBaclofen acts at GABA-B receptors.\n", encoding="utf-8")
    assert main(["verify", "--pack", str(pack_file), str(clean)]) == 0
    assert main(["verify", "--pack", str(pack_file), str(clean), str(report)]) == status
    assert main(["verify", "--pack", str(pack_file), str(report), str(tmp_path / "missing.md")]) == 2


def test_the_json_record_counts_unchecked_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack_file = tmp_path / "pack.json"
    pack_file.write_text(REBUILT.model_dump_json(), encoding="utf-8")
    report = tmp_path / "report.md"
    report.write_text(CLAIM, encoding="utf-8")
    assert main(["verify", "--json", "--pack", str(pack_file), str(report)]) == 3
    record = json.loads(capsys.readouterr().out)[0]
    assert (record["ok"], record["errors"], record["unchecked"]) == (False, 0, 1)


# A pack rebuilt from a report's tables lacks the indications the report gives no table for.
ONLY_RANK_2 = BACLOFEN.model_copy(update={"predicted_indications": [
    i for i in BACLOFEN.predicted_indications if i.rank == 2]})


def test_a_count_said_of_another_ranked_indication_is_unchecked_in_a_pack_that_lacks_it() -> None:
    other = drafter.verify_markdown(ONLY_RANK_2, "## Nicotine Dependence\n\nBaclofen may treat **Nicotine "
                                    "Dependence** (rank 2 of 10; the rank 1 prediction lacks mechanistic support and "
                                    "carries zero trial evidence), with 3 trials.\n")
    assert [(f.code, f.severity) for f in other.findings if f.code == "COUNT_MISMATCH"] == [
        ("COUNT_MISMATCH", Severity.UNCHECKED)]
    assert not other.errors
    own = drafter.verify_markdown(ONLY_RANK_2, "## Nicotine Dependence\n\nThe rank 1 prediction has no table; "
                                  "nicotine dependence (rank 2) carries zero trials.\n")
    assert [(f.code, f.severity) for f in own.findings if f.code == "COUNT_MISMATCH"] == [
        ("COUNT_MISMATCH", Severity.ERROR)]


def test_a_score_for_an_indication_without_a_model_score_is_unchecked() -> None:
    unscored = BACLOFEN.model_copy(update={"predicted_indications": [
        i.model_copy(update={"score": None}) for i in BACLOFEN.predicted_indications]})
    text = "## Nicotine Dependence\n\nThe TxGNN prediction score for nicotine dependence is 97.5%.\n"
    assert [(f.code, f.severity) for f in drafter.verify_markdown(unscored, text).findings] == [
        ("SCORE_MISMATCH", Severity.UNCHECKED)]
    assert [(f.code, f.severity) for f in drafter.verify_markdown(BACLOFEN, text).findings] == [
        ("SCORE_MISMATCH", Severity.ERROR)]


def test_an_unknown_id_under_a_safety_heading_is_unchecked_only_where_the_pack_does_not_know() -> None:
    text = "## Safety Considerations\n\nSee the case series PMID 11111111 for the background.\n"
    codes = {pack_name: [(f.code, f.severity) for f in drafter.verify_markdown(pack, text).findings
                         if f.code == "ID_UNKNOWN"]
             for pack_name, pack in (("rebuilt", REBUILT), ("known", KNOWN_GAP))}
    assert codes == {"rebuilt": [("ID_UNKNOWN", Severity.UNCHECKED)], "known": [("ID_UNKNOWN", Severity.ERROR)]}
    elsewhere = drafter.verify_markdown(REBUILT, "## Nicotine Dependence\n\nSee PMID 11111111 for the background.\n")
    assert ("ID_UNKNOWN", Severity.ERROR) in [(f.code, f.severity) for f in elsewhere.findings]


def test_a_trials_withdrawal_is_a_registry_status_not_the_withdrawal_syndrome() -> None:
    def safety(text: str) -> list[str]:
        return [f.code for f in drafter.verify_markdown(KNOWN_GAP, f"## Nicotine Dependence\n\n{text}\n").errors
                if f.code.startswith("SAFETY")]

    assert safety("- **Withdrawal investigation**: find out the reason for NCT01821560's withdrawal.") == []
    assert safety("- Ask why the study was withdrawn before it enrolled anyone.") == []
    assert safety("- [ ] **Establish withdrawal reasons** for NCT01821560 with its investigators.") == []
    assert "SAFETY_NO_DATA" in safety("- **Withdrawal**: abrupt cessation after NCT01821560 caused withdrawal symptoms.")
    assert "SAFETY_NO_DATA" in safety("- Baclofen withdrawal can cause seizures.")


def test_an_evidence_level_is_no_drug_level_beside_a_drug_class() -> None:
    def safety(text: str) -> list[str]:
        return [f.code for f in drafter.verify_markdown(KNOWN_GAP, f"## Nicotine Dependence\n\n{text}\n").errors
                if f.code.startswith("SAFETY")]

    assert safety("The evidence is case-report level (Evidence Level: L4); baclofen did worse than warfarin.") == []
    assert safety("Baclofen raises warfarin levels.") == ["SAFETY_NO_DATA"]
    assert safety("Head-to-head data against warfarin would show whether it holds at a cohort level.") == []
    assert safety("Whether it holds at the population level is unknown; warfarin plasma levels rose.") == [
        "SAFETY_NO_DATA"]


def _nicotine_with(study_type: StudyType, relevance: Relevance = Relevance.UNKNOWN, articles: int = 1) -> EvidencePack:
    """Baclofen with nicotine dependence resting on published articles and no registered trial."""
    inds = []
    for ind in BACLOFEN.predicted_indications:
        if ind.rank == 2:
            assert len(ind.articles) >= articles
            kept = [a.model_copy(update={"study_type": study_type, "relevance": relevance})
                    for a in ind.articles[:articles]]
            ind = ind.model_copy(update={"trials": [], "articles": kept})
        inds.append(ind)
    return BACLOFEN.model_copy(update={"predicted_indications": inds})


def _level_and_decision(pack: EvidencePack, level: str, decision: str) -> list[tuple[str, Severity]]:
    text = f"## Nicotine Dependence\n\nThe evidence level is {level}.\n\nDecision: {decision}\n"
    return [(f.code, f.severity) for f in drafter.verify_markdown(pack, text).findings]


def test_l2_on_a_published_rct_is_unchecked_because_the_pipelines_l2_may_admit_it() -> None:
    published_rct = _nicotine_with(StudyType.RCT)
    assert drafter.assess_pack(published_rct).for_rank(2).level == "L3"  # drafter's rule: registered trials only
    assert _level_and_decision(published_rct, "L2", "Proceed with Guardrails") == [
        ("LEVEL_MISMATCH", Severity.UNCHECKED), ("DECISION_ABOVE_CEILING", Severity.UNCHECKED)]
    # beyond what any reading of L2 allows, and without a published trial, they stay errors
    assert _level_and_decision(published_rct, "L1", "Go") == [
        ("LEVEL_MISMATCH", Severity.ERROR), ("DECISION_ABOVE_CEILING", Severity.ERROR)]
    for pack in (_nicotine_with(StudyType.SYSTEMATIC_REVIEW), _nicotine_with(StudyType.RCT, Relevance.UNRELATED)):
        assert _level_and_decision(pack, "L2", "Proceed with Guardrails") == [
            ("LEVEL_MISMATCH", Severity.ERROR), ("DECISION_ABOVE_CEILING", Severity.ERROR)]


def test_l1_on_two_published_rcts_is_unchecked_but_its_go_is_not() -> None:
    two_rcts = _nicotine_with(StudyType.RCT, articles=2)
    assert drafter.assess_pack(two_rcts).for_rank(2).level == "L3"
    assert _level_and_decision(two_rcts, "L1", "Proceed with Guardrails") == [
        ("LEVEL_MISMATCH", Severity.UNCHECKED), ("DECISION_ABOVE_CEILING", Severity.UNCHECKED)]
    # Go needs results the pack does not hold, whatever the reading of L1
    assert ("DECISION_ABOVE_CEILING", Severity.ERROR) in _level_and_decision(two_rcts, "L1", "Go")
    # two published trials of unknown design, or one published RCT, are no reading of the pipeline's L1
    assert _level_and_decision(_nicotine_with(StudyType.CLINICAL_TRIAL, articles=2), "L1",
                               "Proceed with Guardrails")[0] == ("LEVEL_MISMATCH", Severity.ERROR)
    assert _level_and_decision(_nicotine_with(StudyType.RCT), "L1", "Proceed with Guardrails")[0] == (
        "LEVEL_MISMATCH", Severity.ERROR)
