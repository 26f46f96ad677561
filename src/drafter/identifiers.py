"""Identifier normalisation for PMIDs, ClinicalTrials.gov ids and WHO ICTRP registry ids.

Every later stage compares identifiers as strings: the verifier checks that an id written in prose
is one the pack holds, the prompt shows the model the pack's keys. That only works if one article or
trial has exactly one spelling, so packs are normalised here on load (``PMID: 21300040``,
``21300040`` and ``21300040.0`` are one PMID; ``nct01821560`` is ``NCT01821560``) and anything that
cannot be normalised is an error, never a guess.

Identifiers are compared, stored and shown in ASCII only. A pack (or a model) can write an id with
full-width or Arabic-Indic digits, a zero-width space inside it, or a Cyrillic 'С' for a Latin 'C';
:func:`fold_identifier_text` turns every such spelling into the ASCII one *before* the id is read,
so ``ＮＣＴ０１８２１５６０`` and ``NСT01821560`` (Cyrillic С) are the same trial as ``NCT01821560``
instead of a second, unverifiable spelling. What is still not ASCII after folding is refused.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "IdentifierError",
    "fold_identifier_text",
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


# Cyrillic and Greek letters that render like Latin ones in common fonts (the ones an id can be
# disguised with: registry prefixes are Latin capitals, jRCT/RBR bodies are lower case). Only
# The pack's identifiers are folded with this table, and so is the verifier's reading of prose
# (drafter.verify.reading), so that an id disguised in a report is the same id as in the pack.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic capitals
    "\u0410": "A", "\u0412": "B", "\u0421": "C", "\u0415": "E", "\u041d": "H", "\u0406": "I", "\u0408": "J",
    "\u041a": "K", "\u041c": "M", "\u041e": "O", "\u0420": "P", "\u0405": "S", "\u0422": "T", "\u0425": "X",
    "\u0423": "Y", "\u04ae": "Y", "\u0417": "3", "\u04c0": "I", "\u051a": "Q", "\u051c": "W",
    # Cyrillic small
    "\u0430": "a", "\u0441": "c", "\u0435": "e", "\u0456": "i", "\u0458": "j", "\u043e": "o", "\u0440": "p",
    "\u0455": "s", "\u0445": "x", "\u0443": "y", "\u04bb": "h", "\u0501": "d", "\u051b": "q", "\u051d": "w",
    # Greek capitals
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I", "\u039a": "K",
    "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X",
    # Greek small
    "\u03bf": "o", "\u03bd": "v", "\u03c1": "p", "\u03b9": "i", "\u03ba": "k", "\u03c4": "t", "\u03c5": "u",
    "\u03c7": "x",
    # Latin-looking letters of other blocks
    "\u0261": "g", "\u04cf": "l",
}
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


def _shown(value: object) -> str:
    """The value as an error message quotes it: repr, cut to 60 characters (a pack can hold a 1 MB "id")."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of {len(str(value)) if value.bit_length() < 14000 else 'more than 4,000'} digits"
    text = repr(value) if not isinstance(value, str) or len(value) <= 200 else repr(value[:200])
    return text if len(text) <= 60 else text[:57] + "..."


def fold_identifier_text(text: str) -> str:
    """The ASCII reading of an identifier as a person sees it: NFKC, no format characters, Latin letters.

    Steps, in order: Unicode NFKC (full-width letters and digits, superscripts, ligatures, NBSP);
    drop format characters (category Cf: zero-width space/joiners, soft hyphen, BOM, bidi marks);
    every decimal digit of any script (Arabic-Indic, Devanagari, ...) to its ASCII digit; dashes and
    the minus sign to '-'; Cyrillic/Greek look-alikes of Latin letters to those letters. Pure and
    deterministic. The result is not guaranteed to be ASCII (other letters stay), and its length can
    differ from the input's (NFKC and dropped characters), so callers that need offsets must fold
    per match, not per text.
    """
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _CONFUSABLES:
            out.append(_CONFUSABLES[ch])
            continue
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        if category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        elif ch in _DASHES or category == "Pd":
            out.append("-")
        else:
            out.append(ch)
    return "".join(out)


_PMID_PREFIX = re.compile(r"^\s*pmid\s*[:#]?\s*", re.IGNORECASE | re.ASCII)
_PMID_DIGITS = re.compile(r"^[1-9][0-9]{0,8}$")


def normalise_pmid(value: object) -> str:
    """Return the PMID as its digits (no leading zeros), or raise IdentifierError.

    Accepts ints, integral floats (``21300040.0`` is what spreadsheets and pandas write) and strings
    with an optional ``PMID``/``PMID:`` prefix.
    """
    if isinstance(value, bool):
        raise IdentifierError(f"expected a PMID (1-9 digits), found a boolean {_shown(value)}")
    if isinstance(value, int):
        if value.bit_length() > 64:  # str() of an int over 4,300 digits raises; no PMID is near this
            raise IdentifierError(f"expected a PMID (1-9 digits), found {_shown(value)}")
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise IdentifierError(f"expected a PMID (1-9 digits), found {_shown(value)}")
        text = str(int(value))
    elif isinstance(value, str):
        text = _PMID_PREFIX.sub("", fold_identifier_text(value)).strip()
        if text.endswith(".0") and text[:-2].isascii() and text[:-2].isdigit():
            text = text[:-2]
    else:
        raise IdentifierError(f"expected a PMID (1-9 digits), found {_shown(value)}")
    if not _PMID_DIGITS.match(text):
        raise IdentifierError(f"expected a PMID (1-9 digits, e.g. 21300040), found {_shown(value)}")
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
        pattern=re.compile(rf"^(?:{pp})[\s:_]?(?P<body>{body})$", re.IGNORECASE | re.ASCII),
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
    # jRCT + 10 digits, or a series letter + 9 digits: jRCTs031180001 (specified clinical trials), jRCTb...
    _fmt("Japan Registry of Clinical Trials", "jRCT", r"\d{10}|[a-z]\d{9}", "jRCT2031210012",
         prefix_pattern=r"(?:JPRN-)?jRCT", lower_body=True),
    _fmt("UMIN Clinical Trials Registry", "UMIN", r"\d{9}", "UMIN000012345", prefix_pattern=r"(?:JPRN-)?UMIN"),
    _fmt("Japic Clinical Trials Information", "JapicCTI-", r"\d{6}", "JapicCTI-121234",
         prefix_pattern=r"(?:JPRN-)?JapicCTI-?"),
    _fmt("Australian New Zealand Clinical Trials Registry", "ACTRN", r"\d{14}", "ACTRN12610000123456"),
    _fmt("German Clinical Trials Register", "DRKS", r"\d{8}", "DRKS00012345"),
    _fmt("Netherlands Trial Register", "NTR", r"\d{1,5}", "NTR1234"),
    # The register's ids since 2018 (NL7517); NL-OMON ids come from its successor, the Overview of
    # Medical Research in the Netherlands. The NL-OMON entry comes first so "NL-OMON123" is not "NL".
    _fmt("Overview of Medical Research in the Netherlands", "NL-OMON", r"\d{1,8}", "NL-OMON50123",
         prefix_pattern=r"NL-?OMON"),
    _fmt("Netherlands Trial Register", "NL", r"\d{1,5}", "NL7517"),
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


# A bare EudraCT number (2011-004300-38) is how EU trials are cited outside ICTRP; it is read as
# EUCTR<number>. Kept out of REGISTRY_FORMATS so prose scanners do not take every such number for an id.
_BARE_EUDRACT = re.compile(r"^(?P<body>\d{4}-\d{6}-\d{2})$", re.ASCII)


def normalise_trial_id(value: object) -> str:
    """Return the canonical spelling of a ClinicalTrials.gov or WHO ICTRP id, or raise IdentifierError.

    The text is folded first (:func:`fold_identifier_text`), so the canonical id is always ASCII.
    """
    if not isinstance(value, str):
        raise IdentifierError(f"expected a trial registry id (e.g. NCT01821560), found {_shown(value)}")
    text = fold_identifier_text(value).strip()
    if not text.isascii():
        raise IdentifierError(f"expected a trial registry id in ASCII letters and digits (e.g. NCT01821560), "
                              f"found {_shown(value)}")
    bare = _BARE_EUDRACT.match(text)
    if bare:
        return "EUCTR" + bare.group("body")
    for fmt in REGISTRY_FORMATS:
        match = fmt.pattern.match(text)
        if match:
            return fmt.canonical(match)
    if text.upper().startswith("NCT"):
        raise IdentifierError(f"expected NCT followed by 8 digits (e.g. NCT01821560), found {_shown(value)}")
    raise IdentifierError(
        f"expected a ClinicalTrials.gov id (NCT + 8 digits) or a WHO ICTRP registry id "
        f"(ISRCTN, EUCTR, ChiCTR, CTRI, jRCT, UMIN, ACTRN, DRKS, NTR, NL, NL-OMON, KCT, IRCT, ...), found {_shown(value)}"
    )


def normalise_nct(value: object) -> str:
    """Like normalise_trial_id, but only a ClinicalTrials.gov id is acceptable."""
    canonical = normalise_trial_id(value)
    if not is_nct(canonical):
        raise IdentifierError(f"expected NCT followed by 8 digits (e.g. NCT01821560), found {_shown(value)}")
    return canonical


def is_nct(trial_id: str) -> bool:
    return trial_id.startswith("NCT") and len(trial_id) == 11


def registry_of(trial_id: str) -> str:
    """The registry's name for an already-canonical id."""
    for fmt in REGISTRY_FORMATS:
        if fmt.pattern.match(trial_id):
            return fmt.registry
    raise IdentifierError(f"not a known registry id: {trial_id!r}")
