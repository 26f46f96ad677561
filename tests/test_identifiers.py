import pytest

from drafter.identifiers import IdentifierError, normalise_nct, normalise_pmid, normalise_trial_id, registry_of


@pytest.mark.parametrize("raw", ["21300040", 21300040, 21300040.0, "21300040.0", "PMID: 21300040", "pmid21300040",
                                 " PMID 21300040 "])
def test_pmid_spellings_are_one_pmid(raw):
    assert normalise_pmid(raw) == "21300040"


@pytest.mark.parametrize("raw", ["abc", "", "0", -5, 1.5, "2130-0040", True, None, "1234567890"])
def test_malformed_pmids_are_errors(raw):
    with pytest.raises(IdentifierError, match="expected a PMID"):
        normalise_pmid(raw)


@pytest.mark.parametrize("raw", ["NCT01821560", "nct01821560", "NCT 01821560", " NCT01821560 ", "NCT:01821560"])
def test_nct_spellings(raw):
    assert normalise_nct(raw) == "NCT01821560"


@pytest.mark.parametrize("raw", ["NCT123", "NCT018215601", "NCT0182156O"])
def test_malformed_nct(raw):
    with pytest.raises(IdentifierError, match="NCT followed by 8 digits"):
        normalise_trial_id(raw)


@pytest.mark.parametrize(
    ("raw", "canonical", "registry"),
    [
        ("isrctn50189673", "ISRCTN50189673", "ISRCTN"),
        ("EUCTR2004-000123-12-GB", "EUCTR2004-000123-12-GB", "EU Clinical Trials Register"),
        ("EudraCT 2004-000123-12", "EUCTR2004-000123-12", "EU Clinical Trials Register"),
        ("ChiCTR2000029559", "ChiCTR2000029559", "Chinese Clinical Trial Registry"),
        ("chictr-trc-12002345", "ChiCTR-TRC-12002345", "Chinese Clinical Trial Registry"),
        ("CTRI/2020/05/025214", "CTRI/2020/05/025214", "Clinical Trials Registry - India"),
        ("JPRN-jRCT2031210012", "jRCT2031210012", "Japan Registry of Clinical Trials"),
        ("JPRN-UMIN000012345", "UMIN000012345", "UMIN Clinical Trials Registry"),
        ("ACTRN12614000093684", "ACTRN12614000093684", "Australian New Zealand Clinical Trials Registry"),
        ("DRKS00012345", "DRKS00012345", "German Clinical Trials Register"),
        ("NTR1234", "NTR1234", "Netherlands Trial Register"),
        ("KCT0001234", "KCT0001234", "Clinical Research Information Service (Korea)"),
        ("IRCT2012071010230N1", "IRCT2012071010230N1", "Iranian Registry of Clinical Trials"),
    ],
)
def test_ictrp_families(raw, canonical, registry):
    assert normalise_trial_id(raw) == canonical
    assert registry_of(canonical) == registry


def test_unknown_registry_names_what_is_accepted():
    with pytest.raises(IdentifierError, match="WHO ICTRP registry id"):
        normalise_trial_id("XYZ123")


def test_nct_only_rejects_ictrp_ids():
    with pytest.raises(IdentifierError):
        normalise_nct("ISRCTN50189673")
