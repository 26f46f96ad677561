"""Fabricated identifiers in disguise: every spelling is an error, in lint mode and in drafted statements.

The corpus is generated from a few fabricated ids and the ways a model or an editor disguises one
(punctuation between prefix and digits, full-width and Arabic-Indic digits, zero-width characters,
soft hyphens, Cyrillic look-alikes, URLs, brackets, bare digits). The same spellings of ids that ARE
in the pack must resolve to them, so the corpus also shows that normalisation reads, not just rejects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import drafter
from drafter import IndicationSections

ROOT = Path(__file__).resolve().parents[1]
PACK = drafter.load_pack(ROOT / "examples" / "packs" / "baclofen.json")
VERIFIER = drafter.Verifier(PACK)
ID_ERRORS = {"ID_UNKNOWN", "ID_MALFORMED", "ID_NOT_IN_KEYS", "STATEMENT_MARKUP"}

_FULL_WIDTH = str.maketrans("0123456789NCTPMID", "０１２３４５６７８９ＮＣＴＰＭＩＤ")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def nct_spellings(digits: str) -> list[str]:
    return [
        f"NCT{digits}", f"NCT-{digits}", f"NCT#{digits}", f"NCT.{digits}", f"NCT:{digits}", f"NCT_{digits}",
        f"NCT {digits}", f"NCT/{digits}", f"NCT–{digits}", f"nct{digits}", f"Nct-{digits}",
        f"NCT{digits}".translate(_FULL_WIDTH), f"NCT{digits.translate(_ARABIC_INDIC)}",
        f"NCT{digits[:4]}\u200b{digits[4:]}", f"NCT{digits[:4]}\u00ad{digits[4:]}", f"N\u200dCT{digits}",
        f"\u041dCT{digits}", f"N\u0421T{digits}", f"NC\u0422{digits}", f"N C T{digits}",
        f"N.C.T.{digits}", f"(NCT{digits})", f"[NCT{digits}]", f"NCT\u00a0{digits}", f"NCT\ufeff{digits}",
        f"https://clinicaltrials.gov/study/NCT{digits}", f"clinicaltrials.gov/ct2/show/NCT{digits}",
        f"www.clinicaltrials.gov/ct2/show/NCT{digits}?term=x",
        *nct_references(digits),
    ]


def nct_references(digits: str) -> list[str]:
    """Character references a rendered page shows as the characters they name."""
    return [f"N&#67;T{digits}", f"&#x4E;CT{digits}", f"NCT{digits[:3]}&#{ord(digits[3])};{digits[4:]}"]


def pmid_spellings(digits: str) -> list[str]:
    return [
        f"PMID {digits}", f"PMID:{digits}", f"PMID-{digits}", f"PMID={digits}", f"PMID#{digits}", f"PMID_{digits}",
        f"pmid{digits}", f"PMIDs {digits}", f"PubMed {digits}", f"PubMed: {digits}", f"PubMed ID {digits}",
        f"PubMed-ID: {digits}", f"P.M.I.D. {digits}", f"PMID {digits}".translate(_FULL_WIDTH),
        f"PMID {digits.translate(_ARABIC_INDIC)}", f"PMID {digits[:4]}\u200b{digits[4:]}",
        f"PMID {digits[:4]}\u00ad{digits[4:]}", f"P\u041cID {digits}", f"[{digits}]", f"[ {digits} ]", f"{digits}",
        f"https://pubmed.ncbi.nlm.nih.gov/{digits}/", f"https://pubmed.ncbi.nlm.nih.gov/?term={digits}",
        f"pubmed.ncbi.nlm.nih.gov/{digits}", f"https://www.ncbi.nlm.nih.gov/pubmed/{digits}",
        f"www.ncbi.nlm.nih.gov/pubmed/?term={digits}", f"P&#77;ID {digits}",
    ]


OTHER_FABRICATIONS = ["NCT-9999999", "NCT123456789", "NTC01821560", "HCT01821560", "PMC1234567", "PMCID: PMC7654321",
                      "ISRCTN-99999999", "ISRCTN 9999999", "EUCTR2099-999999-99", "ChiCTR-9999999999",
                      "ACTRN-99999999999999", "DRKS-99999999", "jRCT-9999999999"]

FABRICATED = nct_spellings("99999999") + pmid_spellings("99999999") + OTHER_FABRICATIONS


def test_the_corpus_is_large_enough() -> None:
    assert len(set(FABRICATED)) >= 60


@pytest.mark.parametrize("spelling", FABRICATED)
def test_fabricated_id_is_an_error_in_lint_mode(spelling: str) -> None:
    result = VERIFIER.verify_markdown(f"Baclofen reduced craving in {spelling}, a randomised study.")
    assert ID_ERRORS & {f.code for f in result.errors}, result.findings


# A registry-shaped id dressed as a compound code named with its drug: the bracketed name does not
# make a mistyped NCT id, or a bracket that names a citation, a compound code.
DRESSED_AS_COMPOUND_CODES = ["NTC01821560 (baclofen)", "NCT9999999 (baclofen)", "NCT-99999999 (baclofen)",
                             "XYZ99999999 (trial)", "ABC12345678 (Study)", "ISRTCN99999999 (baclofen)",
                             "NXX01821560 (baclofen)", "QQ99999999 (baclofen)", "NTC1821560 (baclofen)",
                             "XYZ1234567 (pubmed)"]


@pytest.mark.parametrize("spelling", DRESSED_AS_COMPOUND_CODES)
def test_a_fabricated_id_before_a_bracketed_name_is_still_an_error(spelling: str) -> None:
    result = VERIFIER.verify_markdown(f"Baclofen reduced craving in {spelling}, a randomised study.")
    assert ID_ERRORS & {f.code for f in result.errors}, result.findings


@pytest.mark.parametrize("code", ["GSK548470 (besifovir)", "LY2189265 (dulaglutide)", "AZD123456 (Osimertinib)"])
def test_a_development_code_named_with_its_drug_is_no_citation(code: str) -> None:
    result = VERIFIER.verify_markdown(f"Entecavir was compared with {code} in treatment-naive patients.")
    assert not ID_ERRORS & {f.code for f in result.errors}, result.findings


def sections_saying(text: str, keys: list[str]) -> IndicationSections:
    """One drafted pack statement in the mechanistic rationale, and a conclusion that cites nothing."""
    return IndicationSections.model_validate({
        "mechanistic_rationale": {"paragraphs": [{"statements": [{"text": text, "support": "pack", "keys": keys}]}]},
        "conclusion": {"decision": "Hold", "rationale": [], "next_steps": []},
    })


@pytest.mark.parametrize("spelling", FABRICATED)
def test_fabricated_id_is_an_error_in_a_drafted_statement(spelling: str) -> None:
    result = VERIFIER.verify(sections_saying(f"GABA-B agonism is described in {spelling} and elsewhere.", ["MOA"]), rank=2)
    assert ID_ERRORS & {f.code for f in result.errors}, result.findings


# A Cyrillic 'Н' reads as Latin 'H' ('HCT…' is no registry id), so that spelling is an error, not a resolution.
@pytest.mark.parametrize("spelling", [s for s in nct_spellings("01821560")[:25] if "\u041d" not in s]
                         + pmid_spellings("25868070")[:21])
def test_a_pack_id_in_any_spelling_resolves_to_the_pack_id(spelling: str) -> None:
    """Normalisation reads the disguise: the pack's own ids in the same spellings are recognised, not errors."""
    result = VERIFIER.verify_markdown(f"For nicotine dependence, see {spelling}.")
    assert not {f.code for f in result.errors} & {"ID_UNKNOWN", "ID_MALFORMED"}, result.findings


@pytest.mark.parametrize("spelling", nct_references("01821560"))
def test_a_pack_id_written_with_character_references_resolves_in_lint(spelling: str) -> None:
    # Read as the pack's trial, not merely ignored: its record's phase is checked (Phase 2, not 3).
    result = VERIFIER.verify_markdown(f"For nicotine dependence, {spelling} was a Phase 3 trial.")
    assert [f.code for f in result.errors] == ["TRIAL_PHASE_MISMATCH"], result.findings

