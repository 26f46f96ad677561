"""The evidence pack: everything a report may say, as pydantic v2 models.

The pack is the only source of truth the verifier accepts, so its models are deliberately strict
about what a fact *is*: identifiers are normalised on load, phases and statuses are enums, an
unknown enrolment is ``None`` (never ``0``), and an absent mechanism of action is ``None`` (never
the string ``"[Data Gap]"``). Every citable item exposes a stable *key* (``PMID:21300040``,
``NCT01821560``, ``SAFETY:W1``, ``MOA``) that prompts show the model and drafts cite.

Unknown fields are ignored so that a pack written by a newer tool does not stop a batch; the loader
reports each one as a warning with its JSON path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from drafter.identifiers import (
    IdentifierError,
    fold_identifier_text,
    is_nct,
    normalise_pmid,
    normalise_trial_id,
    pmid_key,
    registry_of,
)

SCHEMA_VERSION = "1.2"
MOA_KEY = "MOA"
SAFETY_KEY_PREFIX = "SAFETY:"


class _PackModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# --- single-line fields -----------------------------------------------------------------------------
#
# Names, titles, journals and licence fields are printed into table cells, headings and prompts, so a
# line break in one of them forges report structure. The models refuse control characters in those
# fields outright; the loader folds them to a space first, with a warning naming the JSON path
# (load.fold_single_line_fields), so a batch goes on and no newline ever reaches a name.

MAX_NAME_CHARS = 1000
"""Longest name or title a pack may hold (real drug, disease and article titles are far shorter)."""
MAX_LONG_LINE_CHARS = 20_000
"""Longest single-line licence text (an approved-indication paragraph)."""
MAX_PACK_ID_CHARS = 100
MAX_RANK = 1_000_000
MAX_ENROLLMENT = 100_000_000
MAX_COUNT = 1_000_000_000  # licences, query results: any bound keeps a 5,000-digit number out of a report

# C0/C1 controls (tab, CR, LF, NEL, ...) and the Unicode line and paragraph separators.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class SingleLine:
    """Marks a str annotation as one line of text; the loader finds these fields by this marker."""

    max_chars: int


def _check_single_line(value: str) -> str:
    match = CONTROL_CHARS.search(value)
    if match:
        raise ValueError(f"one line of text without control characters, found {match.group(0)[:1]!r} "
                         f"at character {match.start()}")
    return value


_ONE_LINE_SCHEMA = Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"})

NameStr = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS),
    AfterValidator(_check_single_line), SingleLine(MAX_NAME_CHARS), _ONE_LINE_SCHEMA,
]
"""A required name (drug, disease, interacting drug): one line, 1 to MAX_NAME_CHARS characters."""
LineStr = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME_CHARS),
    AfterValidator(_check_single_line), SingleLine(MAX_NAME_CHARS), _ONE_LINE_SCHEMA,
]
"""An optional title, journal, author or licence field: one line, at most MAX_NAME_CHARS characters."""
LongLineStr = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_LONG_LINE_CHARS),
    AfterValidator(_check_single_line), SingleLine(MAX_LONG_LINE_CHARS), _ONE_LINE_SCHEMA,
]
"""One line of licence text (an approved-indication paragraph), at most MAX_LONG_LINE_CHARS characters."""


def _check_pmid(value: object) -> str:
    try:
        return normalise_pmid(value)
    except IdentifierError as exc:
        raise ValueError(str(exc)) from None


def _check_trial_id(value: object) -> str:
    try:
        return normalise_trial_id(value)
    except IdentifierError as exc:
        raise ValueError(str(exc)) from None


Pmid = Annotated[
    str,
    BeforeValidator(_check_pmid),
    Field(description="PubMed id, digits only (normalised from 'PMID: 21300040', 21300040.0, ...)",
          json_schema_extra={"pattern": r"^[1-9][0-9]{0,8}$"}),
]
TrialId = Annotated[
    str,
    BeforeValidator(_check_trial_id),
    Field(description="ClinicalTrials.gov id (NCT + 8 digits) or a WHO ICTRP registry id, canonical spelling"),
]

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$", re.ASCII)


def _check_partial_date(value: str) -> str:
    if not _PARTIAL_DATE.match(value):
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, found {value[:40]!r}")
    if len(value) == 10:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a real calendar date as YYYY-MM-DD, found {value!r}") from None
    return value


PartialDate = Annotated[
    str,
    AfterValidator(_check_partial_date),
    Field(description="YYYY, YYYY-MM or YYYY-MM-DD", json_schema_extra={"pattern": _PARTIAL_DATE.pattern}),
]


# --- enums ------------------------------------------------------------------------------------------


class Phase(StrEnum):
    """Trial phase, normalised from every spelling registries and pipelines use."""

    EARLY_PHASE_1 = "early_phase_1"
    PHASE_1 = "phase_1"
    PHASE_1_2 = "phase_1_2"
    PHASE_2 = "phase_2"
    PHASE_2_3 = "phase_2_3"
    PHASE_3 = "phase_3"
    PHASE_4 = "phase_4"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _PHASE_LABELS[self]


_PHASE_LABELS = {
    Phase.EARLY_PHASE_1: "Early Phase 1",
    Phase.PHASE_1: "Phase 1",
    Phase.PHASE_1_2: "Phase 1/2",
    Phase.PHASE_2: "Phase 2",
    Phase.PHASE_2_3: "Phase 2/3",
    Phase.PHASE_3: "Phase 3",
    Phase.PHASE_4: "Phase 4",
    Phase.NOT_APPLICABLE: "Not applicable",
    Phase.UNKNOWN: "Unknown",
}

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def parse_phase(value: object) -> Phase:
    """Map any written phase ("PHASE2, PHASE3", "phase II", "Phase 1/2", "N/A", "") to a Phase."""
    if isinstance(value, Phase):
        return value
    if value is None:
        return Phase.UNKNOWN
    if not isinstance(value, str):
        raise ValueError(f"expected a trial phase such as 'Phase 2', found {value!r}")
    return _parse_phase_text(value)


@lru_cache(maxsize=1024)
def _parse_phase_text(value: str) -> Phase:
    """The spelling-to-enum mapping, cached: the verifier parses the same few spellings thousands of times."""
    text = value.strip().lower().replace("_", " ")
    if text in {p.value for p in Phase}:
        return Phase(text)
    if text in {"", "unknown", "not reported", "[data gap]"}:
        return Phase.UNKNOWN
    if text in {"n/a", "na", "not applicable", "none"}:
        return Phase.NOT_APPLICABLE
    if "early" in text and "1" in text or text in {"phase 0", "phase0", "early phase i"}:
        return Phase.EARLY_PHASE_1
    numbers: list[str] = []
    for token in re.split(r"[\s,/&+\-]+|and", text):
        token = token.replace("phase", "").strip()
        if not token:
            continue
        token = _ROMAN.get(token, token)
        if token in {"1", "2", "3", "4"}:
            numbers.append(token)
        else:
            raise ValueError(f"expected a trial phase such as 'Phase 2' or 'PHASE1/PHASE2', found {value!r}")
    combined = "/".join(sorted(set(numbers)))
    mapping = {"1": Phase.PHASE_1, "2": Phase.PHASE_2, "3": Phase.PHASE_3, "4": Phase.PHASE_4,
               "1/2": Phase.PHASE_1_2, "2/3": Phase.PHASE_2_3}
    if combined not in mapping:
        raise ValueError(f"expected a trial phase such as 'Phase 2' or 'PHASE1/PHASE2', found {value!r}")
    return mapping[combined]


class TrialStatus(StrEnum):
    """Overall recruitment status, normalised from ClinicalTrials.gov's and ICTRP's spellings."""

    NOT_YET_RECRUITING = "not_yet_recruiting"
    RECRUITING = "recruiting"
    ENROLLING_BY_INVITATION = "enrolling_by_invitation"
    ACTIVE_NOT_RECRUITING = "active_not_recruiting"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


_STATUS_SYNONYMS = {
    "active": TrialStatus.ACTIVE_NOT_RECRUITING,
    "active, not recruiting": TrialStatus.ACTIVE_NOT_RECRUITING,
    "ongoing": TrialStatus.ACTIVE_NOT_RECRUITING,
    "pending": TrialStatus.NOT_YET_RECRUITING,
    "not recruiting": TrialStatus.ACTIVE_NOT_RECRUITING,
    "authorised": TrialStatus.NOT_YET_RECRUITING,
    "authorized": TrialStatus.NOT_YET_RECRUITING,
    "complete": TrialStatus.COMPLETED,
    "stopped": TrialStatus.TERMINATED,
    "prematurely ended": TrialStatus.TERMINATED,
    "unknown status": TrialStatus.UNKNOWN,
    "": TrialStatus.UNKNOWN,
    "[data gap]": TrialStatus.UNKNOWN,
}


def parse_status(value: object) -> TrialStatus:
    if isinstance(value, TrialStatus):
        return value
    if value is None:
        return TrialStatus.UNKNOWN
    if not isinstance(value, str):
        raise ValueError(f"expected a trial status such as 'completed', found {value!r}")
    text = value.strip().lower()
    snake = re.sub(r"[\s,\-]+", "_", text)
    if snake in {s.value for s in TrialStatus}:
        return TrialStatus(snake)
    if text in _STATUS_SYNONYMS:
        return _STATUS_SYNONYMS[text]
    allowed = ", ".join(s.value for s in TrialStatus)
    raise ValueError(f"expected a trial status ({allowed}), found {value!r}")


class StudyType(StrEnum):
    """What kind of study an article reports; the evidence rules read this, not free text."""

    RCT = "rct"
    CLINICAL_TRIAL = "clinical_trial"
    META_ANALYSIS = "meta_analysis"
    SYSTEMATIC_REVIEW = "systematic_review"
    OBSERVATIONAL = "observational"
    CASE_SERIES = "case_series"
    CASE_REPORT = "case_report"
    REVIEW = "review"
    PRECLINICAL = "preclinical"
    GUIDELINE = "guideline"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _STUDY_LABELS[self]


_STUDY_LABELS = {
    StudyType.RCT: "Randomised controlled trial",
    StudyType.CLINICAL_TRIAL: "Clinical trial",
    StudyType.META_ANALYSIS: "Meta-analysis",
    StudyType.SYSTEMATIC_REVIEW: "Systematic review",
    StudyType.OBSERVATIONAL: "Observational study",
    StudyType.CASE_SERIES: "Case series",
    StudyType.CASE_REPORT: "Case report",
    StudyType.REVIEW: "Review",
    StudyType.PRECLINICAL: "Preclinical study",
    StudyType.GUIDELINE: "Guideline",
    StudyType.OTHER: "Other",
    StudyType.UNKNOWN: "Unknown",
}

# First match wins, so the most specific study designs come first.
_STUDY_TYPE_CUES: tuple[tuple[StudyType, tuple[str, ...]], ...] = (
    (StudyType.META_ANALYSIS, ("meta-analysis", "meta analysis", "metaanalysis")),
    (StudyType.SYSTEMATIC_REVIEW, ("systematic review",)),
    (StudyType.RCT, ("randomized controlled trial", "randomised controlled trial", "rct")),
    (StudyType.CLINICAL_TRIAL, ("clinical trial", "controlled clinical trial", "pilot study", "adaptive")),
    (StudyType.OBSERVATIONAL, ("observational", "cohort", "case-control", "case control", "cross-sectional",
                               "registry study", "retrospective", "prospective")),
    (StudyType.CASE_SERIES, ("case series", "case-series")),
    (StudyType.CASE_REPORT, ("case report", "case reports")),
    (StudyType.PRECLINICAL, ("animal", "preclinical", "pre-clinical", "in vitro", "rodent", "rat ", "mice",
                             "mouse", "cell line")),
    (StudyType.GUIDELINE, ("guideline", "practice guideline", "consensus")),
    (StudyType.REVIEW, ("review",)),
)


_STUDY_TYPE_PATTERNS = tuple(
    (study_type, re.compile("|".join(rf"(?<![a-z]){re.escape(cue.strip())}(?![a-z])" for cue in cues)))
    for study_type, cues in _STUDY_TYPE_CUES
)


def classify_study_type(publication_types: list[str]) -> StudyType:
    """Derive a StudyType from PubMed publication types or a pipeline's free-text type label."""
    text = " ".join(t.lower() for t in publication_types) + " "
    if not text.strip():
        return StudyType.UNKNOWN
    for study_type, pattern in _STUDY_TYPE_PATTERNS:
        if pattern.search(text):
            return study_type
    return StudyType.OTHER


class MarketStatus(StrEnum):
    MARKETED = "marketed"
    NOT_MARKETED = "not_marketed"
    UNKNOWN = "unknown"


class InteractionSeverity(StrEnum):
    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"


class Population(StrEnum):
    PREGNANCY = "pregnancy"
    LACTATION = "lactation"
    PAEDIATRIC = "paediatric"
    ELDERLY = "elderly"
    RENAL_IMPAIRMENT = "renal_impairment"
    HEPATIC_IMPAIRMENT = "hepatic_impairment"
    OTHER = "other"

    @property
    def label(self) -> str:
        """'renal impairment': the words the prompt, the verifier's field text and the report use."""
        return self.value.replace("_", " ")


# --- meta -------------------------------------------------------------------------------------------


class QueryTopic(StrEnum):
    """What a query looked for; the decision stage S3 needs the safety and interaction queries to have run."""

    PREDICTION = "prediction"
    TRIALS = "trials"
    LITERATURE = "literature"
    REGULATORY = "regulatory"
    SAFETY = "safety"
    INTERACTIONS = "interactions"
    OTHER = "other"


# Source names of the TxGNN pipelines and of common services, folded, mapped to what they are queried for.
# A source not listed here has no topic unless the pack states one: an unknown source proves nothing.
_SOURCE_TOPICS: dict[str, QueryTopic] = {
    "txgnn": QueryTopic.PREDICTION,
    "clinicaltrials": QueryTopic.TRIALS, "clinicaltrials.gov": QueryTopic.TRIALS, "ictrp": QueryTopic.TRIALS,
    "who ictrp": QueryTopic.TRIALS, "euctr": QueryTopic.TRIALS, "isrctn": QueryTopic.TRIALS,
    "pubmed": QueryTopic.LITERATURE, "europe pmc": QueryTopic.LITERATURE,
    "ddi": QueryTopic.INTERACTIONS, "drugbank": QueryTopic.INTERACTIONS,
    "drug-drug interaction service": QueryTopic.INTERACTIONS,
    "dailymed": QueryTopic.SAFETY, "dailymed (fda labels)": QueryTopic.SAFETY, "openfda": QueryTopic.SAFETY,
    "faers": QueryTopic.SAFETY, "tfda_package_insert": QueryTopic.SAFETY,
    "electronic medicines compendium (uk smpc)": QueryTopic.SAFETY, "emc": QueryTopic.SAFETY,
    "tfda": QueryTopic.REGULATORY, "mhra products": QueryTopic.REGULATORY, "fda": QueryTopic.REGULATORY,
    "ema": QueryTopic.REGULATORY, "drugs@fda": QueryTopic.REGULATORY,
}

# Statuses that mean the query ran to the end; "not_found" is a successful search that found nothing.
# Anything else ("error", "timeout", "not_retrieved", or no status at all) is a query that did not run.
QUERY_SUCCESS_STATUSES = frozenset({"success", "completed", "not_found", "ok", "found", "no_results"})


class QueryLogEntry(_PackModel):
    """One query the pack's builder ran, so a reader can tell "not found" from "not searched"."""

    source: NameStr = Field(description="Database or service queried, e.g. 'ClinicalTrials.gov'")
    topic: QueryTopic | None = Field(
        default=None, description="What the query looked for; when absent it is inferred from well-known source names")
    query_date: dt.date | None = None
    query: str | None = Field(default=None, description="The query as sent, in the source's own syntax")
    result_status: str | None = Field(default=None, description="e.g. 'success', 'not_found', 'error'")
    result_count: Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)] | None = None
    notes: str | None = None

    @property
    def resolved_topic(self) -> QueryTopic | None:
        """The stated topic, else the one a well-known source name implies, else None."""
        return self.topic or _SOURCE_TOPICS.get(self.source.strip().casefold())

    @property
    def succeeded(self) -> bool:
        return (self.result_status or "").strip().casefold() in QUERY_SUCCESS_STATUSES


class DataGap(_PackModel):
    """Something the builder looked for and could not get; reports must say it as a gap."""

    id: str | None = None
    category: str | None = None
    item: NonEmptyStr
    severity: str | None = None
    impact: str | None = None


# Device names Windows will not create as files, whatever the extension (drafter writes <pack_id>.md).
_RESERVED_FILE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                                  *(f"lpt{i}" for i in range(10))})


def _check_pack_id(value: str) -> str:
    if value.split(".", 1)[0].casefold() in _RESERVED_FILE_NAMES:
        raise ValueError(f"expected a pack id usable as a file name (not a reserved device name), found {value!r}")
    return value


class Meta(_PackModel):
    pack_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=MAX_PACK_ID_CHARS),
                       AfterValidator(_check_pack_id)] = Field(
        description=f"Stable id of the pack, used as its output file name: letters, digits, '.', '_', '-', "
                    f"at most {MAX_PACK_ID_CHARS} characters"
    )
    schema_version: Annotated[str, StringConstraints(pattern=r"^1\.\d+$")] = Field(
        default=SCHEMA_VERSION, description="Version of the drafter pack schema; 1.x packs are read by this drafter"
    )
    created: dt.date | None = None
    data_cutoff: dt.date | None = None
    generator: str | None = Field(default=None, description="Tool that wrote the pack, e.g. 'drafter import-txgnn'")
    query_log: list[QueryLogEntry] = Field(default_factory=list)
    data_gaps: list[DataGap] = Field(default_factory=list)


# --- drug and jurisdiction --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    text = resources.files("drafter").joinpath("data", "iso3166_alpha2.txt").read_text(encoding="utf-8")
    return frozenset(code for line in text.splitlines() if not line.startswith("#") for code in line.split())


def _check_country(value: str) -> str:
    if value not in _country_codes():
        hint = " ('GB' for the United Kingdom)" if value.upper() == "UK" else ""
        raise ValueError(f"expected an ISO 3166-1 alpha-2 country code{hint}, found {value!r}")
    return value


def _check_drugbank_id(value: str) -> str:
    """DB + 5 ASCII digits; other spellings of the digits (full-width, Arabic-Indic) are folded first."""
    folded = fold_identifier_text(value).strip()
    if not re.fullmatch(r"DB[0-9]{5}", folded):
        raise ValueError(f"expected a DrugBank id such as DB00181, found {value[:40]!r}")
    return folded




class Drug(_PackModel):
    inn: NameStr = Field(description="International non-proprietary name, e.g. 'baclofen'")
    drugbank_id: Annotated[str, AfterValidator(_check_drugbank_id),
                           Field(json_schema_extra={"pattern": r"^DB\d{5}$"})] | None = None
    synonyms: list[NameStr] = Field(default_factory=list)
    brand_names: list[NameStr] = Field(default_factory=list)
    original_indications: list[NameStr] = Field(default_factory=list)
    mechanism_of_action: NonEmptyStr | None = Field(default=None, description="Absent is null, never '[Data Gap]'")
    mechanism_source: str | None = None


class Licence(_PackModel):
    number: LineStr | None = None
    product: LineStr | None = None
    dosage_form: LineStr | None = None
    holder: LineStr | None = None
    indication_text: LongLineStr | None = None


DEFAULT_REGULATORS = {
    "GB": "MHRA", "US": "FDA", "TW": "TFDA", "JP": "PMDA", "TH": "Thai FDA", "EU": "EMA", "CA": "Health Canada",
    "AU": "TGA", "NZ": "Medsafe", "KR": "MFDS", "CN": "NMPA", "SG": "HSA", "IN": "CDSCO", "DE": "BfArM",
    "FR": "ANSM", "CH": "Swissmedic", "BR": "ANVISA", "IE": "HPRA",
}


class Jurisdiction(_PackModel):
    country: Annotated[str, AfterValidator(_check_country)] = Field(
        description="ISO 3166-1 alpha-2 code (GB for the United Kingdom); 'EU' for the European Union",
        json_schema_extra={"pattern": "^[A-Z]{2}$"},
    )
    regulator: LineStr | None = Field(default=None, description="Defaults from the country (GB: MHRA, US: FDA, ...)")
    market_status: MarketStatus = MarketStatus.UNKNOWN
    total_licences: Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)] | None = None
    licences: list[Licence] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_regulator(self) -> Jurisdiction:
        if self.regulator is None:
            self.regulator = DEFAULT_REGULATORS.get(self.country)
        return self


# --- safety -----------------------------------------------------------------------------------------

_SAFETY_KEY = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]


class SafetyItem(_PackModel):
    """One sourced safety statement; its key is what a draft cites (``SAFETY:W1``)."""

    key: _SAFETY_KEY | None = Field(default=None, description="Stable key; assigned (W1, C1, I1, A1, P1, ...) if absent")
    text: NonEmptyStr
    source: LineStr | None = Field(default=None, description="Where the statement comes from, e.g. 'BNF', 'SmPC section 4.4'")

    @property
    def citation_key(self) -> str:
        return f"{SAFETY_KEY_PREFIX}{self.key}"


class SafetyWarning(SafetyItem):
    pass


class Contraindication(SafetyItem):
    pass


class Interaction(SafetyItem):
    interacting: NameStr = Field(description="Interacting drug or drug class, e.g. 'CNS depressants'")
    severity: InteractionSeverity = InteractionSeverity.UNKNOWN


class AdverseEffect(SafetyItem):
    frequency: str | None = Field(default=None, description="e.g. 'very common', 'rare', as the source says it")


class SpecialPopulation(SafetyItem):
    population: Population


class Safety(_PackModel):
    """The pack's safety section. A pack without one has ``safety: null`` (a data gap)."""

    warnings: list[SafetyWarning] = Field(default_factory=list)
    contraindications: list[Contraindication] = Field(default_factory=list)
    interactions: list[Interaction] = Field(default_factory=list)
    adverse_effects: list[AdverseEffect] = Field(default_factory=list)
    special_populations: list[SpecialPopulation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _assign_keys(self) -> Safety:
        for field, prefix in SAFETY_KEY_PREFIXES.items():
            items: list[SafetyItem] = getattr(self, field)
            taken = {item.key for item in items if item.key}
            counter = 0
            for item in items:
                if item.key is None:
                    counter += 1
                    while f"{prefix}{counter}" in taken:
                        counter += 1
                    item.key = f"{prefix}{counter}"
                    taken.add(item.key)
        return self

    def items(self) -> Iterator[tuple[str, SafetyItem]]:
        """(section name, item) for every safety item, in section order."""
        for field in SAFETY_KEY_PREFIXES:
            for item in getattr(self, field):
                yield field, item

    def is_empty(self) -> bool:
        return not any(True for _ in self.items())


SAFETY_KEY_PREFIXES = {
    "warnings": "W",
    "contraindications": "C",
    "interactions": "I",
    "adverse_effects": "A",
    "special_populations": "P",
}


# --- evidence ---------------------------------------------------------------------------------------


class TrialDesign(_PackModel):
    randomised: bool | None = None
    allocation: str | None = Field(default=None, description="e.g. 'randomized', 'non-randomized', 'single group'")
    masking: str | None = Field(default=None, description="e.g. 'none (open label)', 'double', 'quadruple'")


class StudyKind(StrEnum):
    INTERVENTIONAL = "interventional"
    OBSERVATIONAL = "observational"
    EXPANDED_ACCESS = "expanded_access"
    UNKNOWN = "unknown"


class Relevance(StrEnum):
    """Whether the pack's builder judged an item to concern the indication it is filed under.

    TxGNN packs grade relevance A/B/C ("pending" when not graded); drafter names the grades so that a
    rule can say which items count toward an indication's level.
    """

    DIRECT = "direct"  # about this indication (TxGNN grade A)
    RELATED = "related"  # a related condition, population or mechanism (grade B)
    UNRELATED = "unrelated"  # found by the search, about something else (grade C)
    UNKNOWN = "unknown"  # not graded


class OutcomeResult(StrEnum):
    """What a trial's registered results say about its primary outcome."""

    MET = "met"
    NOT_MET = "not_met"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class TrialResults(_PackModel):
    posted: bool | None = Field(default=None, description="Results posted on the registry; null when not known")
    primary_outcome: OutcomeResult = OutcomeResult.UNKNOWN
    summary: str | None = Field(default=None, description="What the results say, in the builder's own words, with the figures the record states")


class Trial(_PackModel):
    registry_id: TrialId
    title: LineStr | None = None
    phase: Annotated[Phase, BeforeValidator(parse_phase)] = Phase.UNKNOWN
    status: Annotated[TrialStatus, BeforeValidator(parse_status)] = TrialStatus.UNKNOWN
    study_type: StudyKind = StudyKind.UNKNOWN
    enrollment: Annotated[int, Field(ge=0, le=MAX_ENROLLMENT, strict=True)] | None = Field(
        default=None, description="Participants; null when unknown (0 only for a withdrawn trial)"
    )
    start_date: PartialDate | None = None
    completion_date: PartialDate | None = None
    summary: str | None = Field(default=None, description="Brief summary in the builder's own words")
    design: TrialDesign | None = None
    source_registry: LineStr | None = Field(default=None, description="Registry the record came from, if not derivable")
    duplicate_of: TrialId | None = Field(
        default=None, description="Registry id of another record of the same trial (ICTRP copies of NCT records)"
    )
    results: TrialResults | None = Field(default=None, description="Registered results; null when the pack does not say")
    relevance: Relevance = Relevance.UNKNOWN

    @property
    def key(self) -> str:
        return self.registry_id

    @property
    def registry(self) -> str:
        return self.source_registry or registry_of(self.registry_id)

    @property
    def is_nct(self) -> bool:
        return is_nct(self.registry_id)

    @property
    def year(self) -> int | None:
        date = self.start_date or self.completion_date
        return int(date[:4]) if date else None


class Article(_PackModel):
    pmid: Pmid
    title: LineStr | None = None
    authors: list[LineStr] = Field(default_factory=list)
    journal: LineStr | None = None
    year: Annotated[int, Field(ge=1800, le=2100, strict=True)] | None = None
    publication_types: list[str] = Field(default_factory=list, description="PubMed publication types or the builder's label")
    study_type: StudyType | None = Field(default=None, description="Derived from publication_types when absent")
    abstract: str | None = None
    summary: str | None = Field(default=None, description="What the article found, in the builder's own words")
    relevance: Relevance = Relevance.UNKNOWN

    @model_validator(mode="after")
    def _derive_study_type(self) -> Article:
        if self.study_type is None:
            self.study_type = classify_study_type(self.publication_types)
        return self

    @property
    def key(self) -> str:
        return pmid_key(self.pmid)


class PredictedIndication(_PackModel):
    rank: Annotated[int, Field(ge=1, le=MAX_RANK, strict=True)]
    disease_name: NameStr
    disease_ids: dict[str, str] = Field(default_factory=dict, description="e.g. {'mondo': 'MONDO:0007743'}")
    score: Annotated[float, Field(ge=0.0, le=1.0, strict=True)] | None = Field(
        default=None, description="Model score, 0..1; null (with a load warning) when the pack holds none",
        json_schema_extra={"minimum": 0.0, "maximum": 1.0})
    trials: list[Trial] = Field(default_factory=list)
    articles: list[Article] = Field(default_factory=list)


class EvidencePack(_PackModel):
    """One drug in one jurisdiction with its ranked predicted indications and their evidence."""

    meta: Meta
    drug: Drug
    jurisdiction: Jurisdiction
    safety: Safety | None = Field(default=None, description="null when the pack holds no safety data")
    predicted_indications: list[PredictedIndication] = Field(min_length=1)

    def ranked_indications(self) -> list[PredictedIndication]:
        return sorted(self.predicted_indications, key=lambda ind: ind.rank)

    def has_safety_data(self) -> bool:
        return self.safety is not None and not self.safety.is_empty()

    def safety_items(self) -> dict[str, SafetyItem]:
        """Citation key -> safety item."""
        if self.safety is None:
            return {}
        return {item.citation_key: item for _, item in self.safety.items()}

    def citable_keys(self) -> set[str]:
        """Every key a draft may cite for this pack."""
        keys: set[str] = set(self.safety_items())
        if self.drug.mechanism_of_action:
            keys.add(MOA_KEY)
        for indication in self.predicted_indications:
            keys.update(t.key for t in indication.trials)
            keys.update(a.key for a in indication.articles)
        return keys


def dump_pack(pack: EvidencePack) -> dict[str, Any]:
    """The pack as JSON-ready data in drafter's own format."""
    return pack.model_dump(mode="json", exclude_none=False, by_alias=True)
