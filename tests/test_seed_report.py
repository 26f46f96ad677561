"""The seed report (an unverified LLM report) read by the verifier in lint mode.

The seed file is read from ../shared at test time and never copied into the repository.
"""

from pathlib import Path

import pytest

import drafter
from drafter.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_7ef618eb6fcc5002.txt"

pytestmark = pytest.mark.skipif(
    not SEED.is_file(), reason=f"seed report not found at {SEED} (it is present beside the repository in CI)"
)


def lint(pack_name: str) -> drafter.Verification:
    pack = drafter.load_pack(ROOT / "examples" / "packs" / f"{pack_name}.json")
    return drafter.verify_markdown(pack, SEED.read_text(encoding="utf-8"))


def test_unsupported_safety_claims_in_next_steps_are_errors():
    result = lint("baclofen-uk")
    no_data = {f.span.lower() for f in result.findings if f.code == "SAFETY_NO_DATA"}
    assert {"sedation", "respiratory depression", "withdrawal"} <= no_data
    monitoring_line = [f for f in result.findings if f.code == "SAFETY_NO_DATA" and f.span == "sedation"][0]
    assert "Safety monitoring plan" in monitoring_line.statement
    assert monitoring_line.indication == "Nicotine Dependence"


def test_each_indications_stated_level_is_checked_and_the_page_header_is_no_claim():
    """L3 for nicotine dependence (computed L2) is an error; L4 for ADHD now agrees with the rules.

    ADHD was computed L3 until the pack graded the Tourette and autism papers filed under it (the
    'systematic review' PMID:35345730 among them) unrelated: unrelated items no longer count.

    The header line's L5 comes before the report names any indication: it is the site's page header
    (a drug-level badge the TxGNN sites print from their front matter), and no indication is in
    context before the first is named, so it is neither a level claimed for ADHD nor a conflict.
    """
    result = lint("baclofen-uk")
    stated = {(f.indication, f.span) for f in result.findings if f.code == "LEVEL_MISMATCH"}
    assert stated == {("Nicotine Dependence", "L3")}
    adhd = drafter.assess_pack(drafter.load_pack(ROOT / "examples" / "packs" / "baclofen-uk.json")).for_rank(1)
    assert adhd.level == "L4"
    assert not [f for f in result.findings if f.code == "LEVEL_CONFLICT"]


def test_no_false_alarm_on_the_citations_shared_with_the_pack():
    result = lint("baclofen-uk")
    citation_codes = {"ID_UNKNOWN", "ID_MALFORMED", "ID_OUT_OF_SCOPE", "TRIAL_PHASE_MISMATCH",
                      "TRIAL_STATUS_MISMATCH", "TRIAL_ENROLMENT_MISMATCH", "YEAR_MISMATCH", "TRIAL_FACT_UNKNOWN"}
    assert [str(f) for f in result.findings if f.code in citation_codes] == []


def test_the_count_the_report_inflates_is_caught():
    result = lint("baclofen-uk")
    counts = [f for f in result.findings if f.code == "COUNT_MISMATCH"]
    assert {f.span for f in counts} == {"20 publications", "20"}  # the pack holds 10 for nicotine dependence


def test_the_full_baclofen_pack_supports_the_safety_claims():
    without_safety = lint("baclofen-uk")
    with_safety = lint("baclofen")
    gone = {(f.code, f.location, f.span) for f in without_safety.findings} - {
        (f.code, f.location, f.span) for f in with_safety.findings}
    assert {code for code, _, _ in gone if code.startswith("SAFETY_")} == {"SAFETY_NO_DATA"}
    assert {span.lower() for code, _, span in gone if code == "SAFETY_NO_DATA"} >= {
        "sedation", "respiratory depression", "withdrawal"}
    assert not [f for f in with_safety.findings if f.code.startswith("SAFETY_")]
    # what remains is about the evidence and the market, which the safety section does not change
    assert {f.code for f in with_safety.findings} == {"LEVEL_MISMATCH", "COUNT_MISMATCH", "REGULATORY_UNSUPPORTED"}


def test_both_mhra_licence_claims_are_flagged_against_a_pack_without_uk_licence_data():
    """'long-established MHRA-authorised medicine' and 'existing UK licence for spasticity': the UK pack's
    jurisdiction record has market status unknown, no licences and a licence count of 0."""
    result = lint("baclofen-uk")
    regulatory = [f for f in result.findings if f.code.startswith("REGULATORY_")]
    flagged = " ".join(f.message for f in regulatory)
    assert "long-established MHRA-authorised" in flagged
    assert "existing UK licence for spasticity" in flagged
    assert {f.code for f in regulatory} == {"REGULATORY_NO_DATA"}


def test_verify_command_exits_1_and_lists_the_findings(capsys):
    assert main(["verify", "--pack", str(ROOT / "examples/packs/baclofen-uk.json"), str(SEED)]) == 1
    out = capsys.readouterr().out
    assert "SAFETY_NO_DATA: 'respiratory depression'" in out
    assert "LEVEL_MISMATCH: evidence level L3" in out
    assert out.strip().splitlines()[-1].endswith("against " + str(ROOT / "examples/packs/baclofen-uk.json"))
