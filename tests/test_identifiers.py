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


# --- Unicode spellings: one ASCII id, or refused -------------------------------------------------------

from drafter.identifiers import fold_identifier_text  # noqa: E402


@pytest.mark.parametrize(("raw", "folded"), [
    ("\uff2e\uff23\uff34\uff10\uff11", "NCT01"),  # full-width letters and digits (NFKC)
    ("NCT\u0660\u0661\u0668", "NCT018"),  # Arabic-Indic digits
    ("NCT\u06f0\u06f1", "NCT01"),  # Extended Arabic-Indic (Persian) digits
    ("NCT\u0966\u0967", "NCT01"),  # Devanagari digits
    ("N\u0421T", "NCT"), ("\u0422\u0421\u0422R", "TCTR"), ("\u041dTR", "HTR"),  # Cyrillic С, Т, Н
    ("\u039d\u03a4R", "NTR"), ("IS\u03a1CTN", "ISPCTN"),  # Greek Ν, Τ, Ρ
    ("NCT\u200b0182\u200d1560\ufeff", "NCT01821560"),  # zero-width space/joiner, BOM
    ("2011\u2011004300\u201338", "2011-004300-38"),  # non-breaking hyphen, en dash
    ("\u00b2\u00b3", "23"),  # superscripts (NFKC)
    ("NCT01821560", "NCT01821560"),
])
def test_fold_identifier_text(raw: str, folded: str) -> None:
    assert fold_identifier_text(raw) == folded


@pytest.mark.parametrize("raw", [
    "\uff2e\uff23\uff34\uff10\uff11\uff18\uff12\uff11\uff15\uff16\uff10", "NCT\u0660\u0661\u0668\u0662\u0661\u0665\u0666\u0660",
    "N\u0421\u042201821560", "\u039d\u0421\u03a401821560", "NCT01821\u200b560", "n\u0441t01821560",
])
def test_unicode_spellings_of_an_nct_id_are_the_ascii_id(raw: str) -> None:
    canonical = normalise_trial_id(raw)
    assert canonical == "NCT01821560" and canonical.isascii()


@pytest.mark.parametrize("raw", ["\uff12\uff11\uff13\uff10\uff10\uff10\uff14\uff10", "\u0662\u0661\u0663\u0660\u0660\u0660\u0664\u0660",
                                 "PMID:\u00a021300040", "2130\u200b0040"])
def test_unicode_spellings_of_a_pmid_are_the_ascii_pmid(raw: str) -> None:
    assert normalise_pmid(raw) == "21300040"


@pytest.mark.parametrize("raw", ["NCT0182156\u4e00", "NC\u0416\u041601821560", "NCT01821560\u0301x"])
def test_ids_that_stay_non_ascii_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError):
        normalise_trial_id(raw)


@pytest.mark.parametrize(
    ("raw", "canonical", "registry"),
    [
        ("jRCTs031180001", "jRCTs031180001", "Japan Registry of Clinical Trials"),
        ("JPRN-jRCTs031180001", "jRCTs031180001", "Japan Registry of Clinical Trials"),
        ("jRCTb030190001", "jRCTb030190001", "Japan Registry of Clinical Trials"),
        ("NL7517", "NL7517", "Netherlands Trial Register"),
        ("nl 7517", "NL7517", "Netherlands Trial Register"),
        ("NL-OMON50123", "NL-OMON50123", "Overview of Medical Research in the Netherlands"),
        ("2011-004300-38", "EUCTR2011-004300-38", "EU Clinical Trials Register"),
        (" 2011\u2013004300\u201338 ", "EUCTR2011-004300-38", "EU Clinical Trials Register"),
    ],
)
def test_real_registry_ids_are_accepted(raw: str, canonical: str, registry: str) -> None:
    assert normalise_trial_id(raw) == canonical
    assert registry_of(canonical) == registry


def test_a_megabyte_id_gives_a_short_message() -> None:
    with pytest.raises(IdentifierError) as info:
        normalise_trial_id("NCT" + "9" * 1_000_000)
    assert len(str(info.value)) < 200


def test_a_report_digest_is_not_read_as_an_identifier_but_a_capitalised_lookalike_is():
    from drafter.verify.identifiers import find_id_mentions

    assert find_id_mentions("evidence pack `p` sha256 `de03815742134eb0`; fingerprint `ab12345678901234`") == []
    kinds = [(m.kind, m.key) for m in find_id_mentions("DE03815742134 and de0381574 and de03815742134xyz")]
    assert kinds == [("malformed", "DE03815742134"), ("malformed", "de0381574"), ("malformed", "de03815742134")]
