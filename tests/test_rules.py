"""Evidence levels, counts, stages and ceilings are computed by the rule table, and explained."""

import copy
import json

import pytest

from drafter.cli import main
from drafter.errors import UserError
from drafter.pack import load_pack
from drafter.rules import Decision, assess_pack, load_rule_table

BASE = {
    "meta": {"pack_id": "rules-test", "schema_version": "1.0"},
    "drug": {"inn": "testdrug"},
    "jurisdiction": {"country": "GB"},
    "predicted_indications": [{"rank": 1, "disease_name": "Disease A", "score": 0.9}],
}


def trial(tid, phase="Phase 3", status="completed", outcome="met", **extra):
    results = {"results": {"posted": True, "primary_outcome": outcome}} if outcome else {}
    return {"registry_id": tid, "phase": phase, "status": status, "study_type": "interventional",
            "enrollment": 100, **results, **extra}


def article(pmid, types):
    return {"pmid": pmid, "publication_types": types}


def assess(trials=(), articles=(), **pack_extra):
    data = copy.deepcopy(BASE)
    data["predicted_indications"][0]["trials"] = list(trials)
    data["predicted_indications"][0]["articles"] = list(articles)
    data.update(pack_extra)
    return assess_pack(load_pack(data)).indications[0]


FULL_SAFETY = {
    "warnings": [{"text": "Avoid abrupt withdrawal."}],
    "adverse_effects": [{"text": "Drowsiness."}],
    "special_populations": [{"population": "renal_impairment", "text": "Reduce the dose."}],
}


QUERIED_META = {"pack_id": "rules-test", "query_log": [
    {"source": "DailyMed (FDA labels)", "result_status": "success"},
    {"source": "DrugBank", "result_status": "not_found"},
]}
S3_PACK = {"safety": FULL_SAFETY, "drug": {"inn": "testdrug", "mechanism_of_action": "GABA-B agonist"},
           "meta": QUERIED_META}


def test_two_completed_phase_3_trials_are_l1():
    result = assess([trial("NCT00000001"), trial("NCT00000002")])
    assert result.level == "L1"
    assert result.deciding_keys == ("NCT00000001", "NCT00000002")
    assert "NCT00000001 is a completed Phase 3 interventional trial" in result.level_reason
    assert result.level_ceiling is Decision.GO


def test_one_phase_3_trial_is_only_l2():
    result = assess([trial("NCT00000001"), trial("NCT00000002", status="recruiting")])
    assert result.level == "L2"
    assert result.level_reason == "L2: NCT00000001 is a completed Phase 3 interventional trial"


def test_non_randomised_phase_3_trials_do_not_make_l1():
    design = {"design": {"randomised": False}}
    result = assess([trial("NCT00000001", **design), trial("NCT00000002", **design)])
    assert result.level == "L2"


def test_ictrp_copy_of_an_nct_record_is_counted_once():
    result = assess([trial("NCT00000001"), trial("ISRCTN50189673", duplicate_of="NCT00000001")])
    assert result.trial_count == 1
    assert result.level == "L2"


def test_terminated_phase_2_is_l3_and_completed_phase_2_is_l2():
    assert assess([trial("NCT00000001", phase="Phase 2", status="terminated")]).level == "L3"
    assert assess([trial("NCT00000001", phase="Phase 2")]).level == "L2"


def test_systematic_review_is_l3_and_names_the_article():
    result = assess(articles=[article("100", ["Review"]), article("200", ["Systematic Review"])])
    assert result.level == "L3"
    assert result.level_reason == "L3: PMID:200 is a systematic review"



def test_an_item_graded_unrelated_never_counts_toward_the_level():
    # A systematic review found by the search but about another condition (the baclofen/ADHD case).
    off_topic = {**article("200", ["Systematic Review"]), "relevance": "unrelated"}
    assert assess(articles=[off_topic]).level == "L5"
    assert assess(articles=[{**off_topic, "relevance": "related"}]).level == "L3"
    assert assess(articles=[{**off_topic, "relevance": "unknown"}]).level == "L3"
    unrelated_trials = [trial("NCT00000001", relevance="unrelated"), trial("NCT00000002", relevance="unrelated")]
    assert assess(unrelated_trials).level == "L5"
    result = assess([unrelated_trials[0], trial("NCT00000002", relevance="direct")])
    assert result.level == "L2" and result.deciding_keys == ("NCT00000002",)

def test_preclinical_articles_only_are_l4():
    result = assess(articles=[article("100", ["Animal model (preclinical)"]), article("200", ["Review"])])
    assert result.level == "L4"
    assert result.article_count == 2
    assert result.level_ceiling is Decision.RESEARCH_QUESTION


def test_nothing_is_l5_hold():
    result = assess()
    assert result.level == "L5"
    assert "model prediction only" in result.level_reason
    assert result.decision_ceiling is Decision.HOLD


def test_stage_caps_the_ceiling_until_safety_and_mechanism_are_present():
    trials = [trial("NCT00000001"), trial("NCT00000002")]
    bare = assess(trials)
    assert (bare.stage, bare.decision_ceiling) == ("S0", Decision.RESEARCH_QUESTION)
    assert "caps it" in bare.ceiling_reason
    s1 = assess(trials, safety={"warnings": [{"text": "x"}]})
    assert s1.stage == "S1"
    s2 = assess(trials, safety={"warnings": [{"text": "x"}]},
                drug={"inn": "testdrug", "mechanism_of_action": "GABA-B agonist"})
    assert (s2.stage, s2.decision_ceiling) == ("S2", Decision.PROCEED_WITH_GUARDRAILS)
    s3 = assess(trials, safety=FULL_SAFETY, drug={"inn": "testdrug", "mechanism_of_action": "GABA-B agonist"},
                meta=QUERIED_META)
    assert (s3.stage, s3.decision_ceiling) == ("S3", Decision.GO)


def test_trial_breakdown_groups_by_status_and_phase():
    result = assess([trial("NCT00000001", phase="Phase 2"), trial("NCT00000002", phase="Phase 2", status="terminated"),
                     trial("NCT00000003", phase="Phase 2", status="terminated")])
    assert result.trial_breakdown == "2 terminated Phase 2, 1 completed Phase 2"


def test_decision_order():
    assert Decision.HOLD.allowed_by(Decision.RESEARCH_QUESTION)
    assert not Decision.GO.allowed_by(Decision.PROCEED_WITH_GUARDRAILS)
    assert Decision.RESEARCH_QUESTION.allowed_by(Decision.RESEARCH_QUESTION)


def test_a_replacement_rule_table_changes_the_level(tmp_path):
    table = json.loads(load_rule_table().model_dump_json())
    # A stricter house rule: L2 needs a completed Phase 3 trial.
    table["levels"][1]["any_of"][0]["trials"]["phases"] = ["phase_3"]
    path = tmp_path / "house.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    pack = copy.deepcopy(BASE)
    pack["predicted_indications"][0]["trials"] = [trial("NCT00000001", phase="Phase 2")]
    assert assess_pack(load_pack(pack), load_rule_table(path)).indications[0].level == "L3"


def test_a_bad_rule_table_is_a_user_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x", "version": "1", "levels": [{"level": "L1", "label": "x",
                                "ceiling": "Maybe", "any_of": []}], "stages": []}), encoding="utf-8")
    with pytest.raises(UserError, match="bad.json"):
        load_rule_table(path)


def test_rules_command_prints_one_level_per_indication(tmp_path, capsys):
    pack = copy.deepcopy(BASE)
    pack["predicted_indications"].append({"rank": 2, "disease_name": "Disease B", "score": 0.5,
                                          "trials": [trial("NCT00000003", phase="Phase 2")]})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    assert main(["rules", str(path)]) == 0
    out = capsys.readouterr().out
    assert "L5: no trial or article" in out and "L2: NCT00000003 is a completed Phase 2" in out
    assert main(["rules", "--json", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [i["level"] for i in record[0]["indications"]] == ["L5", "L2"]


def test_go_needs_two_phase_3_trials_that_met_their_primary_outcome():
    both = assess([trial("NCT00000001"), trial("NCT00000002")], **S3_PACK)
    assert both.decision_ceiling is Decision.GO and both.result_caps == ()
    unknown = assess([trial("NCT00000001"), trial("NCT00000002", outcome=None)], **S3_PACK)
    assert unknown.level == "L1"  # levels stay the TxGNN levels; only the ceiling reads results
    assert unknown.decision_ceiling is Decision.PROCEED_WITH_GUARDRAILS
    assert ("1 of the 2 counted completed Phase 3 or 4 randomised trials met the primary outcome and 2 must"
            in unknown.ceiling_reason)
    assert "NCT00000002 has no primary-outcome result in the pack" in unknown.ceiling_reason
    mixed = assess([trial("NCT00000001"), trial("NCT00000002", outcome="mixed")], **S3_PACK)
    assert mixed.decision_ceiling is Decision.PROCEED_WITH_GUARDRAILS


def test_completed_trials_that_all_missed_their_primary_outcome_cap_at_research_question():
    # The hydroxychloroquine/COVID-19 case: large completed Phase 3 trials, all negative.
    negative = assess([trial("NCT00000001", outcome="not_met"), trial("NCT00000002", outcome="not_met"),
                       trial("NCT00000003", status="recruiting", outcome=None)], **S3_PACK)
    assert negative.level == "L1"
    assert negative.decision_ceiling is Decision.RESEARCH_QUESTION
    assert "NCT00000001 missed its primary outcome" in negative.ceiling_reason
    assert "no counted completed" in negative.ceiling_reason
    # One positive trial among negative ones: not only negative, so the Go cap (PwG) is what holds.
    split = assess([trial("NCT00000001", outcome="not_met"), trial("NCT00000002")], **S3_PACK)
    assert split.decision_ceiling is Decision.PROCEED_WITH_GUARDRAILS
    # A negative Phase 2 trial alone holds an L2 indication at Research Question.
    phase2 = assess([trial("NCT00000001", phase="Phase 2", outcome="not_met")], **S3_PACK)
    assert (phase2.level, phase2.decision_ceiling) == ("L2", Decision.RESEARCH_QUESTION)
    # Unrelated trials are not read either.
    off_topic = assess([trial("NCT00000001", phase="Phase 2", outcome="not_met", relevance="unrelated"),
                        trial("NCT00000002", phase="Phase 2", outcome=None)], **S3_PACK)
    assert off_topic.decision_ceiling is Decision.PROCEED_WITH_GUARDRAILS


@pytest.mark.parametrize(("query_log", "gap"), [
    ([], "a safety query in the query log (none recorded) and an interaction query in the query log"),
    ([{"source": "DailyMed (FDA labels)", "result_status": "success"},
      {"source": "Drug-drug interaction service", "result_status": "error"}],
     "the interaction query to have succeeded (Drug-drug interaction service: error)"),
    ([{"source": "DailyMed (FDA labels)", "result_status": "success"},
      {"source": "house interaction checker", "result_status": "success"}],  # unknown source, no topic
     "an interaction query in the query log (none recorded)"),
    ([{"source": "DailyMed (FDA labels)"},  # no status: not shown to have run
      {"source": "house interaction checker", "topic": "interactions", "result_status": "success"}],
     "the safety query to have succeeded (DailyMed (FDA labels): no status)"),
])
def test_stage_s3_needs_the_safety_and_interaction_queries_to_have_succeeded(query_log, gap):
    pack = {**S3_PACK, "meta": {"pack_id": "rules-test", "query_log": query_log}}
    result = assess([trial("NCT00000001"), trial("NCT00000002")], **pack)
    assert (result.stage, result.decision_ceiling) == ("S2", Decision.PROCEED_WITH_GUARDRAILS)
    assert f"S3 needs {gap}" in result.ceiling_reason


def test_a_stated_topic_and_a_successful_query_reach_s3():
    pack = {**S3_PACK, "meta": {"pack_id": "rules-test", "query_log": [
        {"source": "house label store", "topic": "safety", "result_status": "success"},
        {"source": "house interaction checker", "topic": "interactions", "result_status": "completed"}]}}
    assert assess([trial("NCT00000001"), trial("NCT00000002")], **pack).stage == "S3"


def test_a_replacement_table_without_result_caps_ignores_results(tmp_path):
    table = json.loads(load_rule_table().model_dump_json())
    table["result_caps"] = []
    path = tmp_path / "levels-only.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(S3_PACK))
    data["predicted_indications"][0]["trials"] = [trial("NCT00000001", outcome="not_met"),
                                                  trial("NCT00000002", outcome="not_met")]
    result = assess_pack(load_pack(data), load_rule_table(path)).indications[0]
    assert result.decision_ceiling is Decision.GO


def test_the_example_packs_show_the_results_aware_ceilings(capsys):
    """Issue 12's cases on the shipped packs: HCQ/COVID-19 is L1 by count but negative, so no Go."""
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples" / "packs"
    hcq = assess_pack(load_pack(examples / "hydroxychloroquine-gb.json")).for_disease("COVID-19")
    assert (hcq.level, hcq.decision_ceiling) == ("L1", Decision.RESEARCH_QUESTION)
    assert "missed its primary outcome" in hcq.ceiling_reason
    assert hcq.stage == "S2" and "Drug-drug interaction service: error" in hcq.stage_gap
    baricitinib = assess_pack(load_pack(examples / "baricitinib-us.json")).for_rank(1)
    assert baricitinib.decision_ceiling is Decision.PROCEED_WITH_GUARDRAILS and baricitinib.stage == "S2"
    assert "interaction query to have succeeded" in baricitinib.ceiling_reason
    colchicine = assess_pack(load_pack(examples / "colchicine-us.json")).for_rank(1)
    assert (colchicine.stage, colchicine.decision_ceiling) == ("S3", Decision.GO)  # two met Phase 3 trials
    assert main(["rules", str(examples / "hydroxychloroquine-gb.json")]) == 0
    assert "ceiling Research Question: evidence level L1 would allow Go, but the completed trials' results are " \
           "negative" in capsys.readouterr().out
