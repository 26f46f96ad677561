"""Identifier normalisation for PMIDs, ClinicalTrials.gov ids and WHO ICTRP registry ids.

Every later stage compares identifiers as strings: the verifier checks that an id written in prose
is one the pack holds, the prompt shows the model the pack's keys. That only works if one article or
trial has exactly one spelling, so packs are normalised here on load (``PMID: 21300040``,
``21300040`` and ``21300040.0`` are one PMID; ``nct01821560`` is ``NCT01821560``) and anything that
cannot be normalised is an error, never a guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "IdentifierError",
    "RegistryFormat",
    "REGISTRY_FORMATS",
    "normalise_pmid",
    "normalise_nct",
    "normalise_trial_id",
    "registry_of",
    "pmid_key",
    "is_nct",
]


class IdentifierError(ValueError):
    """An identifier that cannot be normalised; the message says what was expected."""


_PMID_PREFIX = re.compile(r"^\s*pmid\s*[:#]?\s*", re.IGNORECASE)
_PMID_DIGITS = re.compile(r"^[1-9][0-9]{0,8}$")


def normalise_pmid(value: object) -> str:
    """Return the PMID as its digits (no leading zeros), or raise IdentifierError.

    Accepts ints, integral floats (``21300040.0`` is what spreadsheets and pandas write) and strings
    with an optional ``PMID``/``PMID:`` prefix.
    """
    if isinstance(value, bool):
        raise IdentifierError(f"expected a PMID (1-9 digits), found a boolean {value!r}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise IdentifierError(f"expected a PMID (1-9 digits), found {value!r}")
        text = str(int(value))
    elif isinstance(value, str):
        text = _PMID_PREFIX.sub("", value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
    else:
        raise IdentifierError(f"expected a PMID (1-9 digits), found {value!r}")
    if not _PMID_DIGITS.match(text):
        raise IdentifierError(f"expected a PMID (1-9 digits, e.g. 21300040), found {value!r}")
    return text


def pmid_key(pmid: str) -> str:
    """The citation key of an article, as prompts and drafts write it."""
    return f"PMID:{pmid}"


@dataclass(frozen=True)
class RegistryFormat:
    """One trial registry's id shape: the pattern that recognises it and its canonical spelling."""

    registry: str
    pattern: re.Pattern[str]
    prefix: str
    example: str
    lower_body: bool = False

    def canonical(self, match: re.Match[str]) -> str:
        body = match.group("body").replace(" ", "")
        return self.prefix + (body.lower() if self.lower_body else body.upper())


def _fmt(
    registry: str,
    prefix: str,
    body: str,
    example: str,
    *,
    prefix_pattern: str | None = None,
    lower_body: bool = False,
) -> RegistryFormat:
    pp = prefix_pattern if prefix_pattern is not None else re.escape(prefix)
    return RegistryFormat(
        registry=registry,
        pattern=re.compile(rf"^(?:{pp})[\s:_]?(?P<body>{body})$", re.IGNORECASE),
        prefix=prefix,
        example=example,
        lower_body=lower_body,
    )


# Each body is anchored, so overlapping prefixes (JPRN-jRCT, jRCT) cannot steal each other's ids.
REGISTRY_FORMATS: tuple[RegistryFormat, ...] = (
    _fmt("ClinicalTrials.gov", "NCT", r"\d{8}", "NCT01821560"),
    _fmt("ISRCTN", "ISRCTN", r"\d{8}", "ISRCTN32121581"),
    _fmt("EU Clinical Trials Register", "EUCTR", r"\d{4}-\d{6}-\d{2}(?:-[A-Z]{2,3})?", "EUCTR2004-000123-12-GB",
         prefix_pattern=r"EUCTR|EudraCT\s*(?:No\.?|number)?"),
    _fmt("EU Clinical Trials Information System", "CTIS", r"\d{4}-\d{6}-\d{2}-\d{2}", "CTIS2023-501234-12-00"),
    _fmt("Chinese Clinical Trial Registry", "ChiCTR", r"\d{10}|-[A-Z]{2,4}-\d{8}", "ChiCTR2000029308"),
    _fmt("Clinical Trials Registry - India", "CTRI/", r"\d{4}/\d{2,3}/\d{6}", "CTRI/2020/05/025214",
         prefix_pattern=r"CTRI/?"),
    _fmt("Japan Registry of Clinical Trials", "jRCT", r"[sd]?\d{10}", "jRCT2031210012",
         prefix_pattern=r"(?:JPRN-)?jRCT", lower_body=True),
    _fmt("UMIN Clinical Trials Registry", "UMIN", r"\d{9}", "UMIN000012345", prefix_pattern=r"(?:JPRN-)?UMIN"),
    _fmt("Japic Clinical Trials Information", "JapicCTI-", r"\d{6}", "JapicCTI-121234",
         prefix_pattern=r"(?:JPRN-)?JapicCTI-?"),
    _fmt("Australian New Zealand Clinical Trials Registry", "ACTRN", r"\d{14}", "ACTRN12610000123456"),
    _fmt("German Clinical Trials Register", "DRKS", r"\d{8}", "DRKS00012345"),
    _fmt("Netherlands Trial Register", "NTR", r"\d{1,5}", "NTR1234"),
    _fmt("Clinical Research Information Service (Korea)", "KCT", r"\d{7}", "KCT0001234"),
    _fmt("Iranian Registry of Clinical Trials", "IRCT", r"\d{6,14}N\d{1,3}", "IRCT2012071010230N1"),
    _fmt("Pan African Clinical Trials Registry", "PACTR", r"\d{15}", "PACTR201905731234567"),
    _fmt("Brazilian Clinical Trials Registry", "RBR-", r"[0-9a-z]{6,8}", "RBR-7x4bqz",
         prefix_pattern=r"RBR-?", lower_body=True),
    _fmt("Thai Clinical Trials Registry", "TCTR", r"\d{11}", "TCTR20200412003"),
    _fmt("Sri Lanka Clinical Trials Registry", "SLCTR/", r"\d{4}/\d{3}", "SLCTR/2019/012",
         prefix_pattern=r"SLCTR/?"),
    _fmt("Lebanese Clinical Trials Registry", "LBCTR", r"\d{10}", "LBCTR2019101234"),
    _fmt("Cuban Public Registry of Clinical Trials", "RPCEC", r"\d{8}", "RPCEC00000123"),
)


def normalise_trial_id(value: object) -> str:
    """Return the canonical spelling of a ClinicalTrials.gov or WHO ICTRP id, or raise IdentifierError."""
    if not isinstance(value, str):
        raise IdentifierError(f"expected a trial registry id (e.g. NCT01821560), found {value!r}")
    text = value.strip()
    for fmt in REGISTRY_FORMATS:
        match = fmt.pattern.match(text)
        if match:
            return fmt.canonical(match)
    if text.upper().startswith("NCT"):
        raise IdentifierError(f"expected NCT followed by 8 digits (e.g. NCT01821560), found {value!r}")
    raise IdentifierError(
        f"expected a ClinicalTrials.gov id (NCT + 8 digits) or a WHO ICTRP registry id "
        f"(ISRCTN, EUCTR, ChiCTR, CTRI, jRCT, UMIN, ACTRN, DRKS, NTR, KCT, IRCT, ...), found {value!r}"
    )


def normalise_nct(value: object) -> str:
    """Like normalise_trial_id, but only a ClinicalTrials.gov id is acceptable."""
    canonical = normalise_trial_id(value)
    if not is_nct(canonical):
        raise IdentifierError(f"expected NCT followed by 8 digits (e.g. NCT01821560), found {value!r}")
    return canonical


def is_nct(trial_id: str) -> bool:
    return trial_id.startswith("NCT") and len(trial_id) == 11


def registry_of(trial_id: str) -> str:
    """The registry's name for an already-canonical id."""
    for fmt in REGISTRY_FORMATS:
        if fmt.pattern.match(trial_id):
            return fmt.registry
    raise IdentifierError(f"not a known registry id: {trial_id!r}")
