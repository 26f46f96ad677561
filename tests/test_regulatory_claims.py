"""Regulatory and market claims (drafter.verify.regulatory) against the example packs' jurisdictions.

The sentences are written the way GPT-4-class drafts write them (long appositions, "has been
approved by the MHRA for the management of ...", hedged next steps), not only in this module's own
phrasing. Faithful sentences must yield no problem; faulty ones exactly the codes listed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

import drafter
from drafter.extract import split_sentences
from drafter.verify.regulatory import CODES, regulatory_problems

ROOT = Path(__file__).resolve().parents[1]
# Beside the repository (CI, /work/main) or two levels up (a git worktree under /work/wt).
SEED = next((base / "shared" / "seeds" / "000_7ef618eb6fcc5002.txt" for base in (ROOT.parent, ROOT.parent.parent)
             if (base / "shared" / "seeds" / "000_7ef618eb6fcc5002.txt").is_file()),
            ROOT.parent / "shared" / "seeds" / "000_7ef618eb6fcc5002.txt")


@lru_cache(maxsize=None)
def pack(name: str) -> drafter.EvidencePack:
    return drafter.load_pack(ROOT / "examples" / "packs" / f"{name}.json")


def codes(name: str, text: str) -> list[str]:
    return sorted(p.code for p in regulatory_problems(text, pack(name)))


# --- faithful: each is true on its pack, or is no claim at all ---------------------------------------

FAITHFUL = [
    # baclofen.json: GB, MHRA, marketed, no licence records; indication "Muscle spasticity, e.g. in MS and SCI"
    ("baclofen", "Baclofen is licensed in the UK for the treatment of spasticity."),
    ("baclofen", "Baclofen, a GABA-B receptor agonist, has been approved by the MHRA for the management of spasticity "
                 "resulting from multiple sclerosis and spinal cord injuries."),
    ("baclofen", "Baclofen is approved for spasticity associated with multiple sclerosis."),
    ("baclofen", "In the UK, baclofen holds marketing authorisations for the relief of spasticity."),
    ("baclofen", "Baclofen has been marketed in the UK for decades and is widely prescribed."),
    ("baclofen", "Baclofen, marketed in the UK as Lioresal, is an established antispastic agent."),
    ("baclofen", "As an established, widely available generic medicine in the UK, baclofen could be repurposed at low cost."),
    ("baclofen", "Baclofen is currently unlicensed for nicotine dependence, so prescribing would be off-label."),
    ("baclofen", "Use in ADHD would constitute off-label prescribing and should be restricted to a research setting."),
    ("baclofen", "Baclofen is not approved for ADHD."),
    ("baclofen", "A licensed indication for ADHD would require new randomised trials."),
    ("baclofen", "Regulatory approval for smoking cessation would be needed before routine use."),
    ("baclofen", "Any repurposing would require a Type II variation to the existing marketing authorisation."),
    ("baclofen", "The sponsor should seek MHRA scientific advice on the regulatory pathway."),
    ("baclofen", "If approved for smoking cessation, baclofen would compete with varenicline."),
    ("baclofen", "The FDA-approved dose of baclofen is up to 80 mg daily."),
    ("baclofen", "Within the licensed dose range, baclofen is titrated slowly to limit sedation."),
    ("baclofen", "The trial was approved by the local research ethics committee."),
    ("baclofen", "NCT01821560 was approved by the institutional review board before enrolment began."),
    ("baclofen", "The protocol was approved by the IRB at each site."),
    ("baclofen", "Please provide the MHRA licence records for baclofen."),
    ("baclofen", "Licensing data should be confirmed against the MHRA Products database."),
    ("baclofen", "Pharmacists should check the SmPC for licensed doses."),
    ("baclofen", "No approved non-stimulant treatment exists for this subgroup."),
    ("baclofen", "Atomoxetine is approved for ADHD in the UK, whereas baclofen has only preclinical data."),
    ("baclofen", "Varenicline is licensed for smoking cessation, whereas baclofen is not."),
    ("baclofen", "Evidence available to date is limited to animal models."),
    ("baclofen", "The abstract is not available in the pack."),
    ("baclofen", "Market research suggests demand for non-stimulant ADHD treatments."),
    ("baclofen", "Baclofen reduced nicotine self-administration in rats."),
    ("baclofen", "Brand names include Lioresal and Kemstro."),
    # colchicine-us.json: US, FDA, marketed, three licences (Colcrys, Mitigare, Lodoco)
    ("colchicine-us", "Colchicine is FDA-approved for the prophylaxis and treatment of gout flares and for familial "
                      "Mediterranean fever."),
    ("colchicine-us", "Lodoco (colchicine 0.5 mg) was approved by the FDA to reduce the risk of myocardial infarction, "
                      "stroke and cardiovascular death in adults with atherosclerotic disease."),
    ("colchicine-us", "Colchicine received FDA approval for familial Mediterranean fever."),
    ("colchicine-us", "Three colchicine products are licensed in the US: Colcrys, Mitigare and Lodoco."),
    ("colchicine-us", "The pack lists three licences for colchicine in the United States."),
    ("colchicine-us", "Colchicine is marketed in the US under the brand names Colcrys, Mitigare and Gloperba."),
    ("colchicine-us", "Use of colchicine in pericarditis is off-label in the US."),
    ("colchicine-us", "Colchicine is not FDA-approved for pericarditis, so use there is off-label."),
    ("colchicine-us", "Colchicine is commercially available in the United States as tablets and capsules."),
    ("colchicine-us", "Colcrys® is indicated for the prophylaxis and treatment of gout flares in adults."),
    ("colchicine-us", "Unapproved colchicine products were removed from the US market by the FDA in 2010."),
    ("colchicine-us", "Mitigare is licensed for prophylaxis of gout flares in adults."),
    ("colchicine-us", "Takeda holds the licence for Colcrys."),
    # hydroxychloroquine-gb.json: GB, marketed, indications RA, lupus, photosensitive skin conditions
    ("hydroxychloroquine-gb", "Hydroxychloroquine (Plaquenil) is licensed in the UK for rheumatoid arthritis and lupus."),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is licensed for the treatment of discoid and systemic lupus "
                              "erythematosus."),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is not authorised for COVID-19 in the UK."),
    ("hydroxychloroquine-gb", "Using hydroxychloroquine for COVID-19 is off-label."),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is available in the UK on prescription."),
    ("hydroxychloroquine-gb", "Plaquenil is marketed in the UK by Sanofi."),
    ("hydroxychloroquine-gb", "Hydroxychloroquine has long been licensed in the UK for rheumatoid arthritis."),
    # tizanidine-gb.json: GB, marketed, indication spasticity with MS or spinal cord injury or disease
    ("tizanidine-gb", "Tizanidine is licensed in the UK for spasticity associated with multiple sclerosis."),
    ("tizanidine-gb", "Tizanidine, a centrally acting alpha-2 agonist, is marketed in the UK as Zanaflex."),
    ("tizanidine-gb", "Its use in stiff-person syndrome would be off-label."),
    ("tizanidine-gb", "Tizanidine is not licensed for stiff-person syndrome in the UK."),
    # baclofen-uk.json: no jurisdiction data; sentences that make no regulatory claim
    ("baclofen-uk", "The evidence pack returns zero UK marketing authorisations for baclofen."),
    ("baclofen-uk", "Regulatory status must be verified directly via the MHRA Products database before any decision."),
    ("baclofen-uk", "Baclofen is not licensed for ADHD in the UK, so any use would be off-label."),
    ("baclofen-uk", "Regulatory approval would be needed before baclofen could be used for nicotine dependence."),
    ("baclofen-uk", "Confirm current UK product licences with the MHRA."),
    ("baclofen-uk", "Report suspected adverse reactions via the Yellow Card Scheme at https://yellowcard.mhra.gov.uk/."),
    ("baclofen-uk", "| Number of Marketing Authorisations | 0 (data gap) |"),
    ("baclofen-uk", "No MHRA marketing authorisation records were retrieved for baclofen in this evidence pack."),
    ("baclofen-uk", "The absence of licence data in this pack likely reflects an upstream retrieval gap."),
    ("baclofen-uk", "Prescribers should consult the MHRA register for up-to-date authorisation details and approved "
                    "indications."),
    ("baclofen-uk", "- **Regulatory verification**: Confirm current MHRA authorisation status and licensed indications."),
    ("baclofen-uk", "| Marketing Authorisation Number | Product Name | Dosage Form | Approved Indication |"),
    ("baclofen-uk", "Pharmacists should compare it with currently approved non-stimulant medicines such as atomoxetine."),
    ("baclofen-uk", "All prescribing decisions must follow current guidelines, in accordance with MHRA authorisations."),
    ("baclofen", "The approval of atomoxetine in 2004 provided a non-stimulant option."),
    ("baclofen", "Clinicians know baclofen well because it has been approved for spasticity for decades."),
    ("baclofen", "Baclofen is indicated for the relief of spasticity of voluntary muscle."),
    ("baclofen", "The approval of baclofen for spasticity dates from the 1970s."),
    ("baclofen", "Burosumab (Crysvita) is separately licensed by the MHRA for XLH."),
    ("baclofen", "Dose reduction is indicated in renal impairment."),
    ("baclofen", "The approved SmPC lists drowsiness as very common."),
    ("colchicine-us", "In 2023, the FDA approved low-dose colchicine (Lodoco) for cardiovascular risk reduction."),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is marketed in the UK as Plaquenil."),
    ("hydroxychloroquine-gb", "An emergency use authorisation for COVID-19 was revoked in June 2020."),
    ("baclofen", "Baclofen, licensed since the 1970s, is available as Lioresal and Lyvispah."),
]


@pytest.mark.parametrize("name,text", FAITHFUL, ids=[f"{n}:{t[:50]}" for n, t in FAITHFUL])
def test_faithful_sentences_pass(name: str, text: str) -> None:
    problems = regulatory_problems(text, pack(name))
    assert problems == [], [(p.code, text[p.start:p.end], p.message) for p in problems]


# --- faulty: the codes each sentence must produce -----------------------------------------------------

FAULTY = [
    ("baclofen-uk", "Baclofen is licensed for spasticity.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Baclofen has been marketed since 1977.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Baclofen is an approved drug with a long safety record.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Baclofen holds a marketing authorisation in the UK.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Baclofen is available in the UK as Lioresal and as generic tablets.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Brand names include Lioresal and Lyflex.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "There are 12 licensed baclofen products in the UK.", ["REGULATORY_NO_DATA"]),
    ("baclofen-uk", "Baclofen was approved by the FDA in 1977.", ["REGULATORY_JURISDICTION"]),
    ("baclofen", "Baclofen is MHRA-approved for ADHD.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "Baclofen is licensed for the treatment of alcohol dependence.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "The drug is approved for muscle spasms.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "Baclofen is licensed for spasticity and for nicotine dependence.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "Baclofen is FDA-approved for spasticity.", ["REGULATORY_JURISDICTION"]),
    ("baclofen", "Baclofen is licensed for alcohol dependence in France.", ["REGULATORY_JURISDICTION"]),
    ("baclofen", "Baclofen was withdrawn from the UK market in 2019.", ["REGULATORY_MISMATCH"]),
    ("baclofen", "Baclofen is not licensed for spasticity in the UK.", ["REGULATORY_MISMATCH"]),
    ("baclofen", "Baclofen is no longer marketed in the UK.", ["REGULATORY_MISMATCH"]),
    ("baclofen", "There are 12 licensed baclofen products in the UK.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "Baclofen is sold under the brand name Baclosal.", ["REGULATORY_UNSUPPORTED"]),
    ("colchicine-us", "Colchicine is approved for recurrent pericarditis in the US.", ["REGULATORY_UNSUPPORTED"]),
    ("colchicine-us", "Colchicine is not approved for gout.", ["REGULATORY_MISMATCH"]),
    ("colchicine-us", "Colchicine was withdrawn from the US market.", ["REGULATORY_MISMATCH"]),
    ("colchicine-us", "Colchicine is licensed by the MHRA for gout.", ["REGULATORY_JURISDICTION"]),
    ("colchicine-us", "Five colchicine products are licensed in the US.", ["REGULATORY_MISMATCH"]),
    ("colchicine-us", "Colchicine has 12 US licences.", ["REGULATORY_MISMATCH"]),
    ("colchicine-us", "Colchicine is marketed in the US under the brand names Colcrys, Mitigare and Zyloprim.",
     ["REGULATORY_UNSUPPORTED"]),
    ("colchicine-us", "In Europe, colchicine is authorised by the EMA for gout.", ["REGULATORY_JURISDICTION"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is licensed in the UK for malaria.", ["REGULATORY_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is licensed for COVID-19 in the UK.", ["REGULATORY_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine has 25 UK licences.", ["REGULATORY_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is approved for juvenile idiopathic arthritis.",
     ["REGULATORY_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "The FDA revoked its emergency use authorisation for hydroxychloroquine in COVID-19.",
     ["REGULATORY_JURISDICTION"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is not licensed for rheumatoid arthritis.", ["REGULATORY_MISMATCH"]),
    ("tizanidine-gb", "Tizanidine is licensed for stiff-person syndrome in the UK.", ["REGULATORY_UNSUPPORTED"]),
    ("tizanidine-gb", "Tizanidine was discontinued from the UK market.", ["REGULATORY_MISMATCH"]),
    ("baclofen", "Baclofen is indicated in the treatment of alcohol use disorder.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen", "High-dose baclofen was approved for alcohol dependence in France in 2018.",
     ["REGULATORY_JURISDICTION"]),
    ("baclofen", "Baclofen is approved for alcohol use disorder in some jurisdictions.", ["REGULATORY_JURISDICTION"]),
    ("baclofen-uk", "Baclofen is not marketed in the UK.", ["REGULATORY_NO_DATA"]),
    ("baclofen", "Baclofen has been discontinued in the UK.", ["REGULATORY_MISMATCH"]),
    ("colchicine-us", "The FDA approved colchicine for pericarditis in 2015.", ["REGULATORY_UNSUPPORTED"]),
    ("hydroxychloroquine-gb", "Hydroxychloroquine is marketed as Plaquenil and Quinoric in the UK.",
     ["REGULATORY_UNSUPPORTED"]),
    ("colchicine-us", "Colchicine is also FDA-approved for Behcet's disease.", ["REGULATORY_UNSUPPORTED"]),
    ("baclofen-uk", "As a licensed medicine with decades of post-marketing experience, baclofen is a good candidate.",
     ["REGULATORY_NO_DATA"]),
]


@pytest.mark.parametrize("name,text,expected", FAULTY, ids=[f"{n}:{t[:50]}" for n, t, _ in FAULTY])
def test_faulty_sentences_are_flagged(name: str, text: str, expected: list[str]) -> None:
    problems = regulatory_problems(text, pack(name))
    got = sorted(p.code for p in problems)
    assert got == sorted(expected), [(p.code, text[p.start:p.end], p.message) for p in problems]
    for problem in problems:
        assert 0 <= problem.start < problem.end <= len(text)
        assert problem.message and "\n" not in problem.message


# --- the seed report ---------------------------------------------------------------------------------

needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"seed report not found at {SEED}")


def seed_problems() -> list[tuple[str, str, str]]:
    """(code, span, message) for every regulatory problem in the seed report, sentence by sentence."""
    found = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        for sentence in split_sentences(line):
            for problem in regulatory_problems(sentence.text, pack("baclofen-uk")):
                found.append((problem.code, sentence.text[problem.start:problem.end], problem.message))
    return found


@needs_seed
def test_both_seed_licence_claims_are_flagged_against_baclofen_uk() -> None:
    """baclofen-uk's jurisdiction is GB/MHRA with market status unknown, no licences and a count of 0.

    "long-established MHRA-authorised medicine" and "existing UK licence for spasticity" are claims
    about UK licensing that nothing in that block supports; the drug's original indication
    (spasticity) says what baclofen treats, not that a UK licence exists.
    """
    found = seed_problems()
    spans = [span for code, span, _ in found if code == "REGULATORY_NO_DATA"]
    assert any("MHRA-authorised" in span for span in spans), found
    assert any(span == "existing UK licence for spasticity" for span in spans), found
    for code, _, message in found:
        if code == "REGULATORY_NO_DATA":
            assert "market status 'unknown'" in message and "licence count of 0" in message


@needs_seed
def test_seed_report_regulatory_findings_are_the_known_ones() -> None:
    """Every regulatory finding in the seed is a real unsupported claim; the data-gap sentences pass."""
    spans = sorted(span for _, span, _ in seed_problems())
    assert len(spans) == 4, spans
    assert any("availability in the UK" in s for s in spans)  # "the drug's known availability in the UK"
    assert any("approved for AUD in some jurisdictions" in s for s in spans)  # a claim about other countries


# --- mechanics ---------------------------------------------------------------------------------------


def test_offsets_point_into_the_original_text_with_typographic_characters() -> None:
    text = "Baclofen\u2019s \u201cexisting UK licence for spasticity\u201d \u2014 long\u2011established \u2014 is cited."
    problems = regulatory_problems(text, pack("baclofen-uk"))
    assert [p.code for p in problems] == ["REGULATORY_NO_DATA"]
    assert text[problems[0].start:problems[0].end].startswith("existing UK licence")


def test_several_claims_without_data_in_one_sentence_are_one_problem() -> None:
    text = "Baclofen is licensed in the UK, marketed as Lioresal and widely available in the UK."
    problems = regulatory_problems(text, pack("baclofen-uk"))
    assert [p.code for p in problems] == ["REGULATORY_NO_DATA"]
    assert "are regulatory or market claims" in problems[0].message


def test_unsupported_condition_message_lists_what_the_pack_holds() -> None:
    [problem] = regulatory_problems("Colchicine is approved for pericarditis.", pack("colchicine-us"))
    assert "Prophylaxis and treatment of gout flares" in problem.message
    assert "pericarditis" in problem.message


def test_sentences_without_regulatory_words_are_gated_out() -> None:
    assert regulatory_problems("Baclofen reduced craving in a Phase 2 trial (NCT01821560).", pack("baclofen-uk")) == []


def test_codes_have_severity_and_description() -> None:
    assert set(CODES) == {"REGULATORY_NO_DATA", "REGULATORY_UNSUPPORTED", "REGULATORY_MISMATCH",
                          "REGULATORY_JURISDICTION"}
    for severity, description in CODES.values():
        assert severity in {"error", "warning"} and description.endswith(".")


# --- the catalogue cases waiting for the verifier to wire this module --------------------------------

PENDING = ROOT / "tests" / "catalogue" / "regulatory.json"


def _pending_cases() -> list[dict]:
    import json

    return json.loads(PENDING.read_text(encoding="utf-8"))


def _case_texts(case: dict) -> list[str]:
    if case["mode"] == "markdown":
        lines = case["text"] if isinstance(case["text"], list) else case["text"].splitlines()
    else:
        lines = [s if isinstance(s, str) else s["text"] for s in case["statements"]]
    return [s.text for line in lines for s in split_sentences(line)]


@pytest.mark.parametrize("case", _pending_cases(), ids=[c["id"] for c in _pending_cases()])
def test_pending_catalogue_case_agrees_with_the_module(case: dict) -> None:
    assert case["id"].startswith("regulatory-") and case["about"] and set(case["expect"]) <= set(CODES)
    name = Path(case["pack"]).stem
    got = sorted(p.code for text in _case_texts(case) for p in regulatory_problems(text, pack(name)))
    assert got == sorted(case["expect"]), case["about"]


@pytest.mark.parametrize("name", ["baclofen", "colchicine-us", "hydroxychloroquine-gb", "tizanidine-gb", "baclofen-uk"])
def test_messages_never_call_present_data_missing(name: str) -> None:
    """Over every sentence of this file: 'no data' is said only of a pack that lacks it."""
    current = pack(name)
    jurisdiction = current.jurisdiction
    for text in [t for _, t in FAITHFUL] + [t for _, t, _ in FAULTY]:
        for problem in regulatory_problems(text, current):
            if problem.code == "REGULATORY_NO_DATA":
                assert jurisdiction.market_status.value == "unknown" and not jurisdiction.licences, (text, name)
            if "lists no licence" in problem.message:
                assert not jurisdiction.licences, (text, name, problem.message)
            if "lists no brand names" in problem.message:
                assert not current.drug.brand_names, (text, name, problem.message)
            if "gives no licence count" in problem.message:
                assert jurisdiction.total_licences is None, (text, name, problem.message)


def test_a_data_gap_about_licences_is_no_claim_but_a_retrieved_licence_is() -> None:
    """The assembled report lists the pack's data gaps ('marketing authorisations ... were not retrieved'):
    lint reading drafter's own report must not take a gap for a claim, and must still read the claim."""
    baclofen_uk = pack("baclofen-uk")
    gap = "UK market status and marketing authorisations for baclofen were not retrieved from the MHRA."
    claim = "Baclofen holds UK marketing authorisations that were retrieved from the MHRA."
    assert regulatory_problems(gap, baclofen_uk) == []
    assert [p.code for p in regulatory_problems(claim, baclofen_uk)] == ["REGULATORY_NO_DATA"]
