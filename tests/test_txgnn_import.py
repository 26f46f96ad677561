"""The TxGNN v4 importer: every quirk of their packs becomes a drafter value or a located problem.

Inputs live in ``tests/data/txgnn/``: a clean pack, a messy one exercising every quirk at once and
three broken ones; ``examples/txgnn/baclofen_drug_evidence_pack.json`` is the realistic Taiwan pack
for seed 000. Facts in them are real (baclofen, DB00181, the seed's trials and PMIDs, BACLAD's
NCT01266655 / EUCTR2010-021861-62 and NCT05617118 from public registry records). Value-level
parsers (dates, years, phases, severities, ...) are also tested directly, with format-only inputs
that are not tied to any identifier.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

import drafter
from drafter.errors import PackError, PackProblem
from drafter.pack import (
    EvidencePack,
    InteractionSeverity,
    MarketStatus,
    Phase,
    Relevance,
    StudyKind,
    StudyType,
    TrialStatus,
    dump_pack,
    from_txgnn,
    import_txgnn,
)
from drafter.pack import txgnn

DATA = Path(__file__).resolve().parent / "data" / "txgnn"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "txgnn" / "baclofen_drug_evidence_pack.json"


def _obj(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _by_path(problems: list[PackProblem], path: str) -> list[PackProblem]:
    return [p for p in problems if p.path == path]


def _one(problems: list[PackProblem], path: str) -> PackProblem:
    found = _by_path(problems, path)
    assert len(found) == 1, f"expected one problem at {path}, got {[str(p) for p in problems]}"
    return found[0]


def _errors(obj: dict[str, Any]) -> list[PackProblem]:
    with pytest.raises(PackError) as info:
        import_txgnn(obj)
    return info.value.errors


# --- the clean pack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean() -> tuple[EvidencePack, list[PackProblem]]:
    return import_txgnn(_obj("clean_pack.json"))


def test_clean_pack_imports_without_any_warning(clean: tuple[EvidencePack, list[PackProblem]]) -> None:
    _, warnings = clean
    assert warnings == []


def test_clean_pack_meta_and_jurisdiction(clean: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, _ = clean
    assert pack.meta.pack_id == "UK-DB00181-multi"
    assert pack.meta.schema_version == drafter.pack.SCHEMA_VERSION
    assert pack.meta.generator == "drafter import-txgnn (TxGNN v4)"
    assert pack.meta.created == dt.date(2026, 4, 5)
    assert pack.meta.query_log[0].query == '{"drug":"baclofen","disease":"Nicotine Dependence"}'
    assert pack.meta.query_log[0].result_count == 3 and pack.meta.query_log[0].notes is None
    assert (pack.jurisdiction.country, pack.jurisdiction.regulator) == ("GB", "MHRA")  # "UK-" prefix
    assert pack.jurisdiction.market_status is MarketStatus.MARKETED
    assert pack.jurisdiction.total_licences is None


def test_clean_pack_drug_and_safety(clean: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, _ = clean
    assert pack.drug.inn == "Baclofen" and pack.drug.drugbank_id == "DB00181"
    assert pack.drug.brand_names == ["Lioresal"]
    assert pack.drug.mechanism_of_action is not None and pack.drug.mechanism_of_action.startswith("Agonist at GABA-B")
    assert pack.drug.mechanism_source == "TxGNN pack: drug.original_moa"
    assert pack.safety is not None
    warning = pack.safety.warnings[0]
    assert (warning.key, warning.source) == ("W1", "TxGNN pack: safety.key_warnings")
    assert pack.safety.contraindications[0].text == "Hypersensitivity to baclofen"
    interaction = pack.safety.interactions[0]
    assert (interaction.interacting, interaction.severity) == ("Oxycodone", InteractionSeverity.MAJOR)
    assert interaction.source == "TxGNN pack: safety.ddi.interactions"


def test_clean_pack_evidence(clean: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, _ = clean
    adhd, nicotine = pack.predicted_indications
    assert (adhd.rank, adhd.score, nicotine.rank, nicotine.score) == (1, 0.9932, 2, 0.9919)
    trials = {t.registry_id: t for t in nicotine.trials}
    assert list(trials) == ["NCT01821560", "NCT00257894", "NCT01228994"]
    assert {t.phase for t in trials.values()} == {Phase.PHASE_2}
    assert {t.study_type for t in trials.values()} == {StudyKind.INTERVENTIONAL}
    assert [t.status for t in trials.values()] == [TrialStatus.COMPLETED, TrialStatus.TERMINATED,
                                                   TrialStatus.TERMINATED]
    assert [t.enrollment for t in trials.values()] == [44, 41, 6]
    assert (trials["NCT01821560"].start_date, trials["NCT01821560"].completion_date) == ("2013-03", "2017-06")
    assert trials["NCT01228994"].start_date is None  # "" is missing
    articles = {a.pmid: a for a in adhd.articles + nicotine.articles}
    assert articles["21300040"].year == 2011 and articles["21300040"].study_type is StudyType.PRECLINICAL
    assert articles["35345730"].study_type is StudyType.SYSTEMATIC_REVIEW
    assert articles["25868070"].study_type is StudyType.RCT
    assert articles["21300040"].title is None and articles["21300040"].abstract is None


def test_import_does_not_modify_its_input_and_from_txgnn_agrees() -> None:
    obj = _obj("messy_pack.json")
    before = copy.deepcopy(obj)
    pack, _ = import_txgnn(obj)
    assert obj == before
    assert from_txgnn(obj) == pack


# --- the messy pack: every quirk at once ------------------------------------------------------------


@pytest.fixture(scope="module")
def messy() -> tuple[EvidencePack, list[PackProblem]]:
    return import_txgnn(_obj("messy_pack.json"))


def test_messy_warnings_name_txgnn_paths_never_drafter_ones(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    _, warnings = messy
    assert warnings and all(w.severity == "warning" for w in warnings)
    for w in warnings:
        assert not re.search(r"\.trials\[|\.articles\[|^jurisdiction|registry_id|total_licences", w.path), str(w)


def test_messy_meta_repairs(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    assert pack.meta.pack_id == "TW-DB00181-multi"
    assert "'TW-DB00181-multi'" in _one(warnings, "meta.candidate_id").expected
    assert pack.meta.created == dt.date(2026, 4, 5)
    assert "2026-04-05T09:12:44" in str(_one(warnings, "meta.created_at"))
    assert [g.id for g in pack.meta.data_gaps] == ["DG001", "DG002"]  # DG003 has no item
    assert "dropped" in _one(warnings, "meta.data_gaps[2].item").expected
    log = pack.meta.query_log
    assert (log[1].result_count, log[1].query_date) == (8, dt.date(2026, 4, 5))
    _one(warnings, "query_log[1].result_count")
    assert log[2].query_date is None and not _by_path(warnings, "query_log[2].query_date")


def test_messy_unknown_fields_warned_llm_fields_ignored(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    _, warnings = messy
    unknown = {w.path for w in warnings if w.expected == "unknown field, ignored"}
    assert unknown == {
        "report_language",
        "meta.pipeline_run",
        "predicted_indications[0].evidence.literature[0].url",
        "predicted_indications[1].evidence.clinical_trials[0].url",
    }
    for name in ("scoring", "repurposing_rationale", "route_compatibility", "relevance", "remediation",
                 "inputs_received", "dosage_forms_by_route", "tier"):
        assert not [w for w in warnings if name in w.path], name


def test_messy_data_gaps_never_survive_as_text(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, _ = messy
    assert pack.drug.mechanism_of_action is None and pack.drug.mechanism_source is None
    assert pack.drug.brand_names == [] and pack.drug.original_indications == []
    assert "data gap" not in json.dumps(dump_pack(pack), ensure_ascii=False).casefold()
    assert "MOA" not in pack.citable_keys()


def test_messy_not_marketed_without_licences_is_unknown(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    assert (pack.jurisdiction.country, pack.jurisdiction.regulator) == ("TW", "TFDA")
    assert pack.jurisdiction.market_status is MarketStatus.UNKNOWN
    assert pack.jurisdiction.total_licences is None and pack.jurisdiction.licences == []
    assert "未上市" in str(_one(warnings, "taiwan_regulatory.market_status"))


def test_messy_interactions_from_differently_keyed_records(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    assert pack.safety is not None
    assert pack.safety.warnings == []  # ["[Data Gap]"]
    assert [c.text for c in pack.safety.contraindications] == ["Hypersensitivity to baclofen"]
    got = [(i.key, i.interacting, i.severity, i.source) for i in pack.safety.interactions]
    default = "TxGNN pack: safety.ddi.interactions"
    assert got == [
        ("I1", "Oxycodone", InteractionSeverity.MAJOR, default),  # drug_name / risk "D" / summary
        ("I2", "Ethanol", InteractionSeverity.MODERATE, default),  # name / level 中度 / desc
        ("I3", "Morphine", InteractionSeverity.MAJOR, default),  # object / interaction_level / management
        ("I4", "Levodopa", InteractionSeverity.UNKNOWN, "SmPC section 4.5"),  # drug_b / interaction / source
        ("I5", "Tizanidine", InteractionSeverity.UNKNOWN, "ddinter"),  # DDInter: drug and level only
    ]
    assert pack.safety.interactions[1].text == "併用可能加重中樞神經抑制。"
    assert pack.safety.interactions[2].text == "Monitor for sedation and respiratory depression."
    assert "see label" in str(_one(warnings, "safety.ddi.interactions[3].severity"))
    # DDInter records carry no description: kept, with a sentence that says only what the record says
    assert "kept with a generated sentence" in _one(warnings, "safety.ddi.interactions[4]").expected
    assert pack.safety.interactions[4].text == ("An interaction with Tizanidine is listed by ddinter; "
                                               "the record gives no description.")
    assert "record skipped" in _one(warnings, "safety.ddi.interactions[5]").expected  # no drug
    assert not _by_path(warnings, "safety.ddi.interactions[6]")  # "[Data Gap]": silently dropped
    assert "PHARMACOLOGY" in _one(warnings, "safety.ddi.interactions[7]").expected  # a target, not a DDI


def test_messy_scores_and_ranks(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    assert [(i.rank, i.score) for i in pack.predicted_indications] == [(1, 0.9932), (2, 0.9919), (4, 0.9887)]
    percentage = _by_path(warnings, "predicted_indications[0].txgnn.score")
    assert any("percentage" in w.expected for w in percentage)
    assert "percentage" not in _one(warnings, "predicted_indications[2].txgnn.score").expected
    _one(warnings, "predicted_indications[1].rank")


def test_messy_literature(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    adhd = pack.predicted_indications[0]
    assert [a.pmid for a in adhd.articles] == ["21300040", "24496320", "24062084", "24103016", "35345730",
                                               "24295630", "10342599", "26366961", "11393328", "30122296"]
    years = {a.pmid: a.year for a in adhd.articles}
    assert (years["21300040"], years["24496320"], years["24062084"], years["24103016"]) == (2011, 2014, 2014, None)
    types = {a.pmid: a.study_type for a in adhd.articles}
    assert types["24496320"] is StudyType.UNKNOWN  # classification "pending"
    assert types["35345730"] is StudyType.SYSTEMATIC_REVIEW  # classification given as a bare string
    assert {a.pmid: a.abstract for a in adhd.articles}["24295630"] is None
    assert {a.pmid: a.title for a in adhd.articles}["30122296"] is None
    assert "literature[2]" in _one(warnings, "predicted_indications[0].evidence.literature[10].pmid").expected
    nicotine = pack.predicted_indications[1]
    assert len(nicotine.articles) == 10 and "19250803" in {a.pmid for a in nicotine.articles}
    _one(warnings, "predicted_indications[1].evidence.literature[10].pmid")  # "PMID 18682277" again


def test_messy_trials(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    base = "predicted_indications[1].evidence."
    trials = {t.registry_id: t for t in pack.predicted_indications[1].trials}
    assert list(trials) == ["NCT01821560", "NCT00257894", "NCT01228994", "NCT01266655", "EUCTR2010-021861-62-DE"]
    assert trials["NCT01266655"].phase is Phase.PHASE_2_3  # "PHASE2, PHASE3"
    assert trials["NCT00257894"].phase is Phase.PHASE_2 and trials["NCT00257894"].status is TrialStatus.TERMINATED
    assert [trials[i].enrollment for i in ("NCT01821560", "NCT00257894", "NCT01228994", "NCT01266655")] == \
        [44, 41, None, None]
    assert "0 means unknown" in _one(warnings, base + "clinical_trials[4].enrollment").expected
    assert not _by_path(warnings, base + "clinical_trials[2].enrollment")  # "N/A" needs no warning
    assert _by_path(warnings, base + "clinical_trials[1].enrollment")  # "41" converted from text
    assert (trials["NCT01821560"].start_date, trials["NCT01821560"].completion_date) == ("2013-03", "2017-06")
    assert trials["NCT00257894"].start_date == "2005-12"
    assert trials["NCT01228994"].summary is None  # "[Data Gap]"
    assert "clinical_trials[0]" in _one(warnings, base + "clinical_trials[3].nct_id").expected  # lower-case copy
    myofascial = pack.predicted_indications[2].trials[0]
    assert (myofascial.phase, myofascial.status, myofascial.study_type) == (
        Phase.NOT_APPLICABLE, TrialStatus.UNKNOWN, StudyKind.UNKNOWN)


def test_messy_ictrp_duplicates(messy: tuple[EvidencePack, list[PackProblem]]) -> None:
    pack, warnings = messy
    base = "predicted_indications[1].evidence."
    trials = {t.registry_id: t for t in pack.predicted_indications[1].trials}
    # the same NCT id listed by ICTRP: dropped, and the warning says which record it copies
    dropped = _one(warnings, base + "ictrp_trials[0].trial_id")
    assert "dropped" in dropped.expected and "clinical_trials[1]" in dropped.expected
    # same title under its EU register id: kept, marked as a duplicate of the NCT record
    euctr = trials["EUCTR2010-021861-62-DE"]
    assert euctr.duplicate_of == "NCT01266655"
    assert euctr.source_registry == "EU Clinical Trials Register"
    assert "duplicate_of NCT01266655" in _one(warnings, base + "ictrp_trials[1].title").expected
    assert euctr.status is TrialStatus.UNKNOWN  # ICTRP's "Not Recruiting" is ambiguous
    _one(warnings, base + "ictrp_trials[1].status")


def test_loader_detects_txgnn_and_locates_warnings_in_the_file() -> None:
    path = DATA / "messy_pack.json"
    loaded = drafter.read_pack(path)
    assert loaded.source_format == "txgnn-v4"
    assert loaded.file == str(path) and loaded.sha256
    assert loaded.warnings and all(w.file == str(path) for w in loaded.warnings)
    assert str(_one(loaded.warnings, "meta.candidate_id")).startswith(f"{path}: meta.candidate_id: warning: ")
    assert drafter.load_pack(path) == loaded.pack
    assert drafter.read_pack(_obj("clean_pack.json")).source_format == "txgnn-v4"


# --- the example pack -------------------------------------------------------------------------------


def test_example_pack_imports_with_the_seed_evidence() -> None:
    loaded = drafter.read_pack(EXAMPLE)
    assert loaded.source_format == "txgnn-v4"
    pack = loaded.pack
    assert pack.meta.pack_id == "TW-DB00181-multi"
    assert (pack.jurisdiction.country, pack.jurisdiction.regulator) == ("TW", "TFDA")
    assert [(i.rank, i.disease_name, i.score) for i in pack.predicted_indications] == [
        (1, "Attention Deficit-Hyperactivity Disorder", 0.9932), (2, "Nicotine Dependence", 0.9919)]
    trials = {t.registry_id: (t.phase, t.status, t.enrollment) for i in pack.predicted_indications for t in i.trials}
    assert trials == {
        "NCT01821560": (Phase.PHASE_2, TrialStatus.COMPLETED, 44),
        "NCT00257894": (Phase.PHASE_2, TrialStatus.TERMINATED, 41),
        "NCT01228994": (Phase.PHASE_2, TrialStatus.TERMINATED, 6),
    }
    pmids = [a.pmid for i in pack.predicted_indications for a in i.articles]
    assert len(pmids) == len(set(pmids)) == 20
    assert [len(i.articles) for i in pack.predicted_indications] == [10, 10]
    assert pack.safety is None and not pack.has_safety_data()  # every safety field is a data gap
    assert pack.drug.mechanism_of_action is None
    assert pack.jurisdiction.market_status is MarketStatus.UNKNOWN
    assert [w.path for w in loaded.warnings] == ["taiwan_regulatory.market_status"]
    assert len(pack.meta.query_log) == 10 and len(pack.meta.data_gaps) == 2


# --- broken inputs: errors name the TxGNN path and what was expected --------------------------------


def test_bad_ids_are_errors_at_their_txgnn_paths() -> None:
    path = DATA / "broken_bad_ids.json"
    with pytest.raises(PackError) as info:
        drafter.load_pack(path)
    message = str(info.value)
    assert len(info.value.errors) == 2  # both reported at once
    assert (f"{path}: predicted_indications[1].evidence.clinical_trials[3].nct_id: found 'NCT123'; "
            "expected NCT followed by 8 digits") in message
    assert f"{path}: predicted_indications[0].evidence.literature[1].pmid: found 'abc'; expected a PMID" in message


def test_text_score_is_an_error() -> None:
    path = DATA / "broken_score_text.json"
    with pytest.raises(PackError) as info:
        drafter.load_pack(path)
    assert str(info.value) == (f"{path}: predicted_indications[0].txgnn.score: found 'high'; "
                               "expected a TxGNN score, a number between 0 and 1 (or a percentage written with '%', up to 100%)")


def test_missing_predicted_indications_is_an_error() -> None:
    path = DATA / "broken_no_indications.json"
    with pytest.raises(PackError) as info:
        drafter.read_pack(path)
    assert str(info.value) == (f"{path}: predicted_indications: found no predicted_indications; "
                               "expected at least one predicted indication")


@pytest.mark.parametrize(
    ("edit", "path", "expected"),
    [
        (lambda o: o.update(predicted_indications=[]), "predicted_indications", "at least one predicted indication"),
        (lambda o: o.update(meta=["TW-DB00181-multi"]), "meta", "an object"),
        (lambda o: o["predicted_indications"].__setitem__(1, "Nicotine Dependence"), "predicted_indications[1]",
         "an object"),
        (lambda o: o["predicted_indications"][1].update(evidence=[]), "predicted_indications[1].evidence",
         "an object"),
        (lambda o: o["predicted_indications"][1]["evidence"]["clinical_trials"].__setitem__(0, "NCT01821560"),
         "predicted_indications[1].evidence.clinical_trials[0]", "an object"),
        (lambda o: o["safety"]["ddi"]["interactions"].__setitem__(0, "Oxycodone: additive CNS depression"),
         "safety.ddi.interactions[0]", "an object"),
        (lambda o: o["predicted_indications"][0].pop("txgnn"), "predicted_indications[0].txgnn",
         "required field is missing"),
        (lambda o: o["predicted_indications"][1].update(rank=1), "predicted_indications[1].rank", "a rank used once"),
        (lambda o: o["drug"].update(inn="[Data Gap]"), "drug.inn", "required field is missing"),
        (lambda o: o["meta"].update(candidate_id="DB00181-multi"), "meta.candidate_id", "country code"),
        (lambda o: o["predicted_indications"][0]["txgnn"].update(score=150), "predicted_indications[0].txgnn.score",
         "between 0 and 1"),
        # caught by drafter's own models, reported at the TxGNN path (drafter says jurisdiction.total_licences)
        (lambda o: o["taiwan_regulatory"].update(total_licenses=-1), "taiwan_regulatory.total_licenses", ">= 0"),
        (lambda o: o["drug"].update(drugbank_id="DB181"), "drug.drugbank_id", "DB"),
        (lambda o: o["predicted_indications"][0].update(rank=0), "predicted_indications[0].rank", ">= 1"),
    ],
)
def test_broken_structures_are_located_errors(edit: Any, path: str, expected: str) -> None:
    obj = _obj("clean_pack.json")
    edit(obj)
    errors = _errors(obj)
    assert [e.path for e in errors] == [path], [str(e) for e in errors]
    assert expected in errors[0].expected


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(PackError) as info:
        import_txgnn([])  # type: ignore[arg-type]
    assert "a JSON object at the top level" in str(info.value)


def test_unrecognised_market_word_is_unknown_with_a_warning() -> None:
    obj = _obj("clean_pack.json")
    obj["taiwan_regulatory"]["market_status"] = "審查中"
    pack, warnings = import_txgnn(obj)
    assert pack.jurisdiction.market_status is MarketStatus.UNKNOWN
    assert "'審查中'" in str(_one(warnings, "taiwan_regulatory.market_status"))


def test_no_real_safety_data_means_safety_none() -> None:
    obj = _obj("clean_pack.json")
    obj["safety"] = {"key_warnings": ["[Data Gap]"], "contraindications": [],
                     "ddi": {"query_status": "not_found", "total_count": 0, "interactions": []}}
    pack, warnings = import_txgnn(obj)
    assert pack.safety is None and warnings == []


# --- value parsers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [
        ("PHASE2, PHASE3", Phase.PHASE_2_3, False), ("EARLY_PHASE1", Phase.EARLY_PHASE_1, False),
        ("PHASE1/PHASE2", Phase.PHASE_1_2, False), ("Phase 2", Phase.PHASE_2, False),
        ("PHASE4", Phase.PHASE_4, False), ("N/A", Phase.NOT_APPLICABLE, False), ("", Phase.UNKNOWN, False),
        (None, Phase.UNKNOWN, False), ("PHASE9", Phase.UNKNOWN, True), (2, Phase.UNKNOWN, True),
    ],
)
def test_phase(value: Any, expected: Phase, warns: bool) -> None:
    phase, problems = txgnn._phase(value, "p")
    assert phase is expected and bool(problems) is warns
    assert all(p.severity == "warning" for p in problems)


@pytest.mark.parametrize(
    ("value", "ictrp", "expected", "warns"),
    [
        ("COMPLETED", False, TrialStatus.COMPLETED, False),
        ("ACTIVE_NOT_RECRUITING", False, TrialStatus.ACTIVE_NOT_RECRUITING, False),
        ("Completed", False, TrialStatus.COMPLETED, False), ("Recruiting", True, TrialStatus.RECRUITING, False),
        ("Not recruiting", True, TrialStatus.UNKNOWN, True), ("", False, TrialStatus.UNKNOWN, False),
        ("Authorised-recruitment may be ongoing or finished", True, TrialStatus.UNKNOWN, True),
        ("paused for audit", False, TrialStatus.UNKNOWN, True),
    ],
)
def test_status(value: str, ictrp: bool, expected: TrialStatus, warns: bool) -> None:
    status, problems = txgnn._status(value, "s", ictrp=ictrp)
    assert status is expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "status", "expected", "warns"),
    [
        (52, TrialStatus.UNKNOWN, 52, False), (0, TrialStatus.COMPLETED, None, True),
        (0, TrialStatus.WITHDRAWN, 0, False), ("N/A", TrialStatus.COMPLETED, None, False),
        ("", TrialStatus.COMPLETED, None, False), ("44", TrialStatus.COMPLETED, 44, True),
        (44.0, TrialStatus.COMPLETED, 44, True), ("about forty", TrialStatus.COMPLETED, None, True),
        (-3, TrialStatus.COMPLETED, None, True),
    ],
)
def test_enrollment(value: Any, status: TrialStatus, expected: int | None, warns: bool) -> None:
    enrollment, problems = txgnn._enrollment(value, "e", status)
    assert enrollment == expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [
        ("2017", "2017", False), ("2017-06", "2017-06", False), ("2017-06-30", "2017-06-30", False),
        ("June 2017", "2017-06", True), ("Sept 2017", "2017-09", True), ("2017-06-30T00:00", "2017-06-30", True),
        ("2017-06-30T00:00:00Z", "2017-06-30", True), ("June 30, 2017", "2017-06-30", True),
        ("30 June 2017", "2017-06-30", True), ("2017 Jun 30", "2017-06-30", True), ("2017/6", "2017-06", True),
        ("06/07/2017", None, True), ("2017-13", None, True), ("2017-02-30", None, True),
        ("Juin 2017", None, True), ("", None, False), ("[Data Gap]", None, False), (None, None, False),
    ],
)
def test_partial_date(value: Any, expected: str | None, warns: bool) -> None:
    date, problems = txgnn._partial_date(value, "d")
    assert date == expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [
        (2011, 2011, False), ("2011", 2011, False), ("", None, False), ("2011 Mar-Apr", 2011, False),
        (2011.0, 2011, False), ("n.d.", None, True), (3011, None, True), (True, None, True),
    ],
)
def test_year(value: Any, expected: int | None, warns: bool) -> None:
    year, problems = txgnn._year(value, "y")
    assert year == expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [
        ("Major", InteractionSeverity.MAJOR, False), ("moderate", InteractionSeverity.MODERATE, False),
        ("Minor", InteractionSeverity.MINOR, False), ("Contraindicated", InteractionSeverity.CONTRAINDICATED, False),
        ("X", InteractionSeverity.CONTRAINDICATED, False), ("Risk X", InteractionSeverity.CONTRAINDICATED, False),
        ("D", InteractionSeverity.MAJOR, False), ("C", InteractionSeverity.MODERATE, False),
        ("B", InteractionSeverity.MINOR, False), ("A", InteractionSeverity.MINOR, False),
        ("嚴重", InteractionSeverity.MAJOR, False), ("中度", InteractionSeverity.MODERATE, False),
        ("輕微", InteractionSeverity.MINOR, False), ("併用禁忌", InteractionSeverity.CONTRAINDICATED, False),
        ("Major interaction", InteractionSeverity.MAJOR, False), ("Unknown", InteractionSeverity.UNKNOWN, False),
        (None, InteractionSeverity.UNKNOWN, False), ("see label", InteractionSeverity.UNKNOWN, True),
        (3, InteractionSeverity.UNKNOWN, True),
    ],
)
def test_severity(value: Any, expected: InteractionSeverity, warns: bool) -> None:
    severity, problems = txgnn._severity(value, "s")
    assert severity is expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [
        ("上市", MarketStatus.MARKETED, False), ("已上市", MarketStatus.MARKETED, False),
        ("有效", MarketStatus.MARKETED, False), ("未上市", MarketStatus.NOT_MARKETED, False),
        ("註銷", MarketStatus.NOT_MARKETED, False), ("無", MarketStatus.NOT_MARKETED, False),
        ("Marketed", MarketStatus.MARKETED, False), ("authorised", MarketStatus.MARKETED, False),
        ("Not marketed", MarketStatus.NOT_MARKETED, False), ("not_marketed", MarketStatus.NOT_MARKETED, False),
        ("販売中", MarketStatus.MARKETED, False), ("販売中止", MarketStatus.NOT_MARKETED, False),
        ("ยกเลิก", MarketStatus.NOT_MARKETED, False), ("[Data Gap]", MarketStatus.UNKNOWN, False),
        ("審查中", MarketStatus.UNKNOWN, True),
    ],
)
def test_market_status_words(value: str, expected: MarketStatus, warns: bool) -> None:
    status, problems = txgnn._market_status(value, "m")
    assert status is expected and bool(problems) is warns


@pytest.mark.parametrize(
    ("value", "expected", "severity"),
    [
        (0.9932, 0.9932, None), ("0.9932", 0.9932, "warning"), ("99.32%", 0.9932, "warning"),
        (1, 1.0, None), (0, 0.0, None), ("high", None, "error"),
        (-0.1, None, "error"), (150, None, "error"), (True, None, "error"),
        # a percentage is a percentage: "0.5%" is 0.005, not 0.5; a number above 1 without '%' is refused
        ("0.5%", 0.005, "warning"), ("1%", 0.01, "warning"), (" 100 % ", 1.0, "warning"),
        (99.32, None, "error"), (1.7, None, "error"), ("1.7", None, "error"), ("101%", None, "error"),
        ("\u0660.\u0665", None, "error"), ("0.\uff19", None, "error"), ("1e999", None, "error"),
        # no score: loads with a warning, score None (issue 9 item 6)
        (None, None, "warning"), ("[Data Gap]", None, "warning"), ("", None, "warning"),
    ],
)
def test_score(value: Any, expected: float | None, severity: str | None) -> None:
    score, problems = txgnn._score(value, "s")
    assert score == expected
    assert {p.severity for p in problems} == ({severity} if severity else set())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Smith J, Doe A", ["Smith J", "Doe A"]), ("Smith J; Doe A; et al.", ["Smith J", "Doe A"]),
        ("Smith, J.", ["Smith, J."]), (["Smith J", "[Data Gap]", ""], ["Smith J"]), ("", []), (None, []),
    ],
)
def test_authors(value: Any, expected: list[str]) -> None:
    assert txgnn._authors(value, "a")[0] == expected


def test_drafter_paths_map_back_to_txgnn_paths() -> None:
    origins = {
        "predicted_indications[1]": ("predicted_indications[1]", {"score": "predicted_indications[1].txgnn.score"}),
        "predicted_indications[1].trials[4]": txgnn._trial_origin(
            "predicted_indications[1].evidence.ictrp_trials[1]", "trial_id"),
        "safety.warnings[0]": ("safety.key_warnings[2]", {"*": "safety.key_warnings[2]"}),
    }
    assert txgnn._txgnn_path("predicted_indications[1].trials[4].registry_id", origins) == \
        "predicted_indications[1].evidence.ictrp_trials[1].trial_id"
    assert txgnn._txgnn_path("predicted_indications[1].trials[4].summary", origins) == \
        "predicted_indications[1].evidence.ictrp_trials[1].brief_summary"
    assert txgnn._txgnn_path("predicted_indications[1].score", origins) == "predicted_indications[1].txgnn.score"
    assert txgnn._txgnn_path("predicted_indications[1].disease_name", origins) == \
        "predicted_indications[1].disease_name"
    assert txgnn._txgnn_path("safety.warnings[0].text", origins) == "safety.key_warnings[2]"


def test_country_argument_overrides_a_wrong_candidate_prefix() -> None:
    obj = json.loads((EXAMPLE).read_text(encoding="utf-8"))
    loaded = drafter.read_pack(obj, country="AU")
    assert (loaded.pack.jurisdiction.country, loaded.pack.jurisdiction.regulator) == ("AU", "TGA")
    assert any(w.path == "meta.candidate_id" and "prefix says TW" in w.expected for w in loaded.warnings)


def test_relevance_grades_become_named_relevance_and_garbage_is_warned_unknown() -> None:
    obj = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    evidence = obj["predicted_indications"][1]["evidence"]
    trial, article = evidence["clinical_trials"][0], evidence["literature"][0]
    trial["relevance"] = {"grade": "A", "reasoning": "same condition"}
    article["relevance"] = {"grade": "maybe"}
    pack, problems = import_txgnn(obj)
    second = next(ind for ind in pack.predicted_indications if ind.rank == 2)
    assert second.trials[0].relevance is Relevance.DIRECT
    assert second.articles[0].relevance is Relevance.UNKNOWN
    warning = _one(problems, "predicted_indications[1].evidence.literature[0].relevance.grade")
    assert warning.severity == "warning" and "A, B, C or pending" in warning.expected
    for grade, expected in [("b", Relevance.RELATED), (" C ", Relevance.UNRELATED), ("pending", Relevance.UNKNOWN)]:
        article["relevance"] = {"grade": grade}
        reimported = import_txgnn(obj)[0]
        assert next(i for i in reimported.predicted_indications if i.rank == 2).articles[0].relevance is expected


def test_the_txgnn_query_log_names_what_each_source_searched_for():
    """S3 reads the safety and interaction queries; the TxGNN source names must resolve to those topics."""
    from drafter.pack import QueryTopic
    from drafter.rules import safety_queries

    pack = drafter.load_pack(EXAMPLE)
    topics = {q.source: q.resolved_topic for q in pack.meta.query_log}
    assert topics["ddi"] is QueryTopic.INTERACTIONS and topics["tfda_package_insert"] is QueryTopic.SAFETY
    assert topics["clinicaltrials"] is QueryTopic.TRIALS and topics["pubmed"] is QueryTopic.LITERATURE
    assert safety_queries(pack) == (True, "")  # 'not_found' is a search that ran and found nothing
