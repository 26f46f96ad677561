"""Import of the TxGNN pipelines' "v4" drug evidence packs into drafter's :class:`EvidencePack`.

Why this module exists: drafter's users already hold thousands of packs written by the TxGNN report
pipelines (``<drug>_drug_evidence_pack.json``, laid out in ``TXGNN_PACK_FORMAT.md``). That format is
loose: ``"[Data Gap]"`` stands in for missing values, PMIDs and years arrive as strings or numbers,
phases and statuses in four spellings, ``enrollment: 0`` means "unknown", DDI records are free-form
dicts whose keys depend on the DDI source, and ICTRP repeats ClinicalTrials.gov records. drafter's
own models are strict on purpose, so something has to translate, and the translation must never
invent a fact nor hide that it changed one.

How it does it:

* one small pure function per section (meta, drug, jurisdiction, safety, predicted indications)
  and per value kind (score, phase, enrolment, date, year, ...). Each returns drafter-format data
  plus the problems it found; nothing here reads files or keeps state;
* a *repair* (a value converted, a duplicate or an unusable record dropped, an ICTRP record of a
  registry drafter does not know dropped, an unknown word read as "unknown", a missing score read as
  null) is a warning; what cannot be imported without guessing (a malformed NCT id or PMID, a score
  that is not a number or is above 1 without '%', a rank or count in non-ASCII digits, two copies of
  one id stating different facts, a required field missing, a list where an object belongs) is an
  error. Both name the JSON path **in the TxGNN file the user gave**, e.g.
  ``predicted_indications[1].evidence.clinical_trials[3].nct_id``;
* the assembled data is then validated by drafter's own models (``validate_pack_object``) and
  checks (``consistency_problems``), so the importer cannot produce a pack that drafter's loader
  would refuse. Their errors carry drafter paths (``predicted_indications[1].trials[2]``); every
  section records where each drafter object came from (``_Origins``) so those paths are mapped back.

Known limits of the source format, documented rather than guessed around: several forks hard-code
the ``TW-`` candidate-id prefix (an Australian report carries ``TW-DB00181-multi``), so the
jurisdiction derived from the prefix can be wrong; their generator writes ``未上市`` whenever the
regulator lookup found nothing, so "not marketed" with no licence at all is read as unknown.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from drafter.errors import PackError, PackProblem
from drafter.identifiers import (
    IdentifierError,
    fold_identifier_text,
    is_nct,
    normalise_nct,
    normalise_pmid,
    normalise_trial_id,
)
from drafter.pack.load import _describe as _load_describe
from drafter.pack.load import consistency_problems, fold_single_line_fields, validate_pack_object
from drafter.pack.models import (
    DEFAULT_REGULATORS,
    SCHEMA_VERSION,
    EvidencePack,
    InteractionSeverity,
    MarketStatus,
    Phase,
    Relevance,
    TrialStatus,
    parse_phase,
    parse_status,
)

__all__ = ["import_txgnn", "from_txgnn", "GENERATOR"]

GENERATOR = "drafter import-txgnn (TxGNN v4)"
_GAP = "[data gap]"
_UNKNOWN_FIELD = "unknown field, ignored"

# drafter path of an object -> (TxGNN path it came from, {drafter field: TxGNN path}); "*" is the
# fallback for every field (objects built from one TxGNN string, e.g. a safety warning).
_Origins = dict[str, tuple[str, dict[str, str]]]


@dataclass
class _Section:
    """Drafter-format data for one part of the pack, the problems met, and where each object came from."""

    value: Any = None
    problems: list[PackProblem] = field(default_factory=list)
    origins: _Origins = field(default_factory=dict)

    def take(self, other: _Section) -> Any:
        """Absorb a sub-section's problems and origins; return its value."""
        self.problems.extend(other.problems)
        self.origins.update(other.origins)
        return other.value


# --- public interface -------------------------------------------------------------------------------


def import_txgnn(
    obj: dict[str, Any], *, file: str | None = None, country: str | None = None
) -> tuple[EvidencePack, list[PackProblem]]:
    """Convert a TxGNN v4 pack to an :class:`EvidencePack`.

    Returns the pack and one warning per repair made, located by its JSON path in the TxGNN input.
    Raises :class:`PackError` listing every error (and the warnings) when the pack cannot be imported.
    ``country`` (ISO 3166-1 alpha-2) overrides the candidate id's prefix, which some forks leave at
    their parent's "TW-".
    """
    if not isinstance(obj, dict):
        raise PackError([PackProblem("", "a JSON object at the top level", found=_describe(obj))], file=file)
    whole = _Section()
    whole.problems.extend(_unknown_keys(obj, "", _TOP_KEYS))
    candidate_id = obj.get("meta", {}).get("candidate_id") if isinstance(obj.get("meta"), dict) else None
    data = {
        "meta": whole.take(_meta_section(obj)),
        "drug": whole.take(_drug_section(obj.get("drug"))),
        "jurisdiction": whole.take(_jurisdiction_section(candidate_id, obj.get("taiwan_regulatory"), country)),
        "safety": whole.take(_safety_section(obj.get("safety"))),
        "predicted_indications": whole.take(_indications_section(obj)),
    }
    data, folded = fold_single_line_fields(EvidencePack, data)
    whole.problems.extend(PackProblem(_txgnn_path(p.path, whole.origins), p.expected, p.found, p.severity)
                          for p in folded)
    errors = [p for p in whole.problems if p.severity == "error"]
    warnings = [p.located(file) for p in whole.problems if p.severity == "warning"]
    pack: EvidencePack | None = None
    try:
        pack = validate_pack_object(data)
    except PackError as exc:
        errors.extend(_relocated(exc.errors, whole.origins, errors))
    if pack is not None and not errors:
        later = consistency_problems(pack, lenient=True)
        errors.extend(_relocated([p for p in later if p.severity == "error"], whole.origins, errors))
        # record_conflicts' warnings (differing titles of one trial); the loader's own are not repeated
        warnings.extend(p.located(file) for p in _relocated(
            [p for p in later if p.severity == "warning" and "each copy kept as written" in p.expected],
            whole.origins, []))
    if errors or pack is None:
        raise PackError(errors + warnings, file=file)
    return pack, warnings


def from_txgnn(obj: dict[str, Any]) -> EvidencePack:
    """The drafter pack for a TxGNN v4 pack, without the warnings (see :func:`import_txgnn`)."""
    return import_txgnn(obj)[0]


# --- known keys (anything else gets an "unknown field" warning, as drafter's own loader does) --------

_TOP_KEYS = frozenset({"meta", "drug", "taiwan_regulatory", "safety", "predicted_indications", "query_log"})
_META_KEYS = frozenset({"candidate_id", "version", "created_at", "data_cutoff", "inputs_received", "data_gaps"})
_GAP_KEYS = frozenset({"id", "category", "item", "severity", "impact", "remediation"})
_QUERY_KEYS = frozenset({"id", "source", "query_date", "query_params", "result_status", "result_count", "notes"})
_DRUG_KEYS = frozenset({"inn", "drugbank_id", "brand_name_zh", "original_indications", "original_moa"})
_REG_KEYS = frozenset({"market_status", "total_licenses", "licenses", "dosage_forms_by_route"})
_LICENCE_KEYS = frozenset({"license_number", "product_name_zh", "dosage_form", "manufacturer",
                           "approved_indication_text"})
_SAFETY_KEYS = frozenset({"key_warnings", "contraindications", "ddi"})
_DDI_KEYS = frozenset({"query_status", "total_count", "interactions"})
# scoring, repurposing_rationale and route_compatibility are filled by their LLM: ignored. The relevance
# grade of a trial or article (also an LLM's) is kept, because it is the pipeline's only statement of which
# indication an item concerns; its free-text reasoning is not.
_INDICATION_KEYS = frozenset({"rank", "disease_name", "txgnn", "evidence", "scoring", "repurposing_rationale",
                              "route_compatibility"})
_TXGNN_KEYS = frozenset({"score", "rank"})
_EVIDENCE_KEYS = frozenset({"clinical_trials", "ictrp_trials", "literature"})
_TRIAL_KEYS = frozenset({"title", "phase", "status", "enrollment", "start_date", "completion_date",
                         "brief_summary", "relevance"})
_CT_KEYS = _TRIAL_KEYS | {"nct_id"}
_ICTRP_KEYS = _TRIAL_KEYS | {"trial_id", "source_registry"}
_ARTICLE_KEYS = frozenset({"pmid", "title", "authors", "journal", "year", "abstract", "classification", "relevance"})
_CLASSIFICATION_KEYS = frozenset({"study_type", "tier"})


# --- small helpers ----------------------------------------------------------------------------------


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return _load_describe(value)  # repr() of an int over 4,300 digits raises
    text = repr(value[:200] if isinstance(value, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."


_ASCII_WHOLE = re.compile(r"[0-9]{1,18}", re.ASCII)
_ASCII_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)


def _whole_number_text(text: str, path: str, expected: str) -> tuple[int | None, PackProblem | None]:
    """An integer from text written with the ASCII digits 0-9 (at most 18 of them), or an error.

    ``"²".isdigit()`` is true in Python and ``int("٤٤")`` is 44, so digits of other scripts would
    otherwise pass (or raise); a rank or an enrolment in them is refused, as is a 5,000-digit one.
    """
    text = text.strip()
    if _ASCII_WHOLE.fullmatch(text):
        return int(text), None
    if any(ch.isdigit() for ch in text) and not text.isascii():
        return None, _error(path, f"{expected} written with the digits 0-9", text)
    return None, _error(path, expected, text)


def _warn(path: str, expected: str, found: Any = None) -> PackProblem:
    return PackProblem(path, expected, found=None if found is None else _describe(found), severity="warning")


def _error(path: str, expected: str, found: Any = None) -> PackProblem:
    return PackProblem(path, expected, found=None if found is None else _describe(found))


def _missing(path: str) -> PackProblem:
    return PackProblem(path, "required field is missing")


def _from_identifier_error(path: str, exc: IdentifierError) -> PackProblem:
    message = str(exc).removeprefix("expected ")
    expected, _, found = message.partition(", found ")
    return PackProblem(path, expected, found=found or None)


def _is_gap(value: Any) -> bool:
    """True for the ways their packs say "missing": null, "", whitespace, anything containing "[Data Gap]"."""
    return value is None or (isinstance(value, str) and (not value.strip() or _GAP in value.casefold()))


def _unknown_keys(obj: Mapping[str, Any], path: str, known: frozenset[str]) -> list[PackProblem]:
    return [PackProblem(_at(path, key), _UNKNOWN_FIELD, severity="warning") for key in obj if key not in known]


def _object(value: Any, path: str, *, required: bool = False) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    """A JSON object, or None when absent or a Data Gap; anything else is an error."""
    if isinstance(value, dict):
        return value, []
    if _is_gap(value):
        return None, [_missing(path)] if required else []
    return None, [_error(path, "an object", value)]


def _list(value: Any, path: str) -> tuple[list[Any], list[PackProblem]]:
    """A JSON list; null or a Data Gap is an empty list; anything else is an error."""
    if isinstance(value, list):
        return value, []
    if _is_gap(value):
        return [], []
    return [], [_error(path, "a list", value)]


def _text(value: Any, path: str, *, gaps: bool = True) -> tuple[str | None, list[PackProblem]]:
    """Text, None when missing (with ``gaps``, "[Data Gap]" anywhere in it counts as missing)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, []
    if isinstance(value, str):
        return (None, []) if gaps and _is_gap(value) else (value.strip(), [])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), [_warn(path, "text (the number was converted)", value)]
    return None, [_error(path, "a string", value)]


def _text_items(value: Any, path: str) -> tuple[list[tuple[str, str]], list[PackProblem]]:
    """Strings of a list (or a lone string) with their paths, dropping Data Gaps."""
    if isinstance(value, str):
        if _is_gap(value):
            return [], []
        return [(value.strip(), path)], [_warn(path, "a list of strings (the single string was used as one item)",
                                               value)]
    items, problems = _list(value, path)
    out: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        text, item_problems = _text(item, _at(path, i))
        problems.extend(item_problems)
        if text is not None:
            out.append((text, _at(path, i)))
    return out, problems


def _count(value: Any, path: str) -> tuple[int | None, list[PackProblem]]:
    """A count as an int. Negative ints pass through so drafter's model reports them."""
    if _is_gap(value) or (isinstance(value, str) and value.strip().casefold() in {"n/a", "na", "unknown"}):
        return None, []
    if isinstance(value, bool):
        return None, [_warn(path, "a whole number (ignored)", value)]
    if isinstance(value, int):
        return value, []
    if isinstance(value, float) and value.is_integer():
        return int(value), [_warn(path, "a whole number (converted)", value)]
    if isinstance(value, str) and any(ch.isdigit() for ch in value) and not value.isascii():
        return None, [_error(path, "a whole number written with the digits 0-9", value)]
    if isinstance(value, str) and value.strip().isdigit():
        number, problem = _whole_number_text(value, path, "a whole number")
        if problem is not None:
            return None, [problem]
        return number, [_warn(path, "a number (converted from text)", value)]
    return None, [_warn(path, "a whole number (ignored)", value)]


# --- dates ------------------------------------------------------------------------------------------

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")
_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_NUMERIC_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")  # June 2017
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")  # June 30, 2017
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")  # 30 June 2017
_YEAR_MONTH_DAY = re.compile(r"^(\d{4})\s+([A-Za-z]+)\.?(?:\s+(\d{1,2}))?$")  # 2017 Jun 30 (PubMed style)


def _month_number(word: str) -> int | None:
    word = word.casefold()
    if len(word) < 3:
        return None
    for number, name in enumerate(_MONTH_NAMES, start=1):
        if name.startswith(word):
            return number
    return None


def _format_date(year: int, month: int | None, day: int | None) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD if it is a real calendar date, else None."""
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    if month is None:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" if day is None else f"{year:04d}-{month:02d}-{day:02d}"


def _parse_date_text(text: str) -> tuple[str | None, bool]:
    """(partial ISO date or None, whether the text was already in ISO form)."""
    if m := _ISO_PARTIAL.match(text):
        year, month, day = (int(g) if g else None for g in m.groups())
        return _format_date(year or 0, month, day), True
    for pattern in (_ISO_DATETIME, _NUMERIC_YMD):
        if m := pattern.match(text):
            year, month, day = (int(g) if g else None for g in m.groups())
            return _format_date(year or 0, month, day), False
    if m := _MONTH_YEAR.match(text):
        month = _month_number(m.group(1))
        return (_format_date(int(m.group(2)), month, None) if month else None), False
    if m := _MONTH_DAY_YEAR.match(text):
        month = _month_number(m.group(1))
        return (_format_date(int(m.group(3)), month, int(m.group(2))) if month else None), False
    if m := _DAY_MONTH_YEAR.match(text):
        month = _month_number(m.group(2))
        return (_format_date(int(m.group(3)), month, int(m.group(1))) if month else None), False
    if m := _YEAR_MONTH_DAY.match(text):
        month = _month_number(m.group(2))
        day = int(m.group(3)) if m.group(3) else None
        return (_format_date(int(m.group(1)), month, day) if month else None), False
    return None, False


def _partial_date(value: Any, path: str) -> tuple[str | None, list[PackProblem]]:
    """A trial date as YYYY, YYYY-MM or YYYY-MM-DD; unambiguous other spellings converted, the rest dropped."""
    if _is_gap(value) or (isinstance(value, str) and value.strip().casefold() in {"n/a", "na", "unknown"}):
        return None, []
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value), [_warn(path, "a date as text (the year number was converted)", value)]
    if not isinstance(value, str):
        return None, [_warn(path, "a date as YYYY, YYYY-MM or YYYY-MM-DD (dropped)", value)]
    date, iso = _parse_date_text(value.strip())
    if date is None:
        return None, [_warn(path, "a date as YYYY, YYYY-MM or YYYY-MM-DD (dropped)", value)]
    if iso:
        return date, []
    return date, [_warn(path, f"a date as YYYY, YYYY-MM or YYYY-MM-DD (converted to {date!r})", value)]


def _full_date(value: Any, path: str) -> tuple[str | None, list[PackProblem]]:
    """A calendar date (YYYY-MM-DD) for meta and query-log fields; a partial date is dropped."""
    date, problems = _partial_date(value, path)
    if date is not None and len(date) != 10:
        return None, [_warn(path, "a full date as YYYY-MM-DD (dropped)", value)]
    return date, problems


# --- meta -------------------------------------------------------------------------------------------

_PACK_ID_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def _pack_id(candidate_id: Any, path: str) -> tuple[str | None, list[PackProblem]]:
    """meta.candidate_id sanitised to drafter's pack-id alphabet ([A-Za-z0-9._-], starting alphanumeric)."""
    if _is_gap(candidate_id):
        return None, [_missing(path)]
    if not isinstance(candidate_id, str):
        return None, [_error(path, "a string such as 'TW-DB00181-multi'", candidate_id)]
    text = candidate_id.strip()
    clean = _PACK_ID_BAD.sub("-", text)
    clean = re.sub(r"^[^A-Za-z0-9]+", "", clean).rstrip("-")
    if not clean:
        return None, [_error(path, "a candidate id with letters or digits, such as 'TW-DB00181-multi'", candidate_id)]
    if clean != text:
        return clean, [_warn(path, f"letters, digits, '.', '_' and '-' only (pack id imported as {clean!r})",
                             candidate_id)]
    return clean, []


def _query_log_entry(entry: Any, path: str) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    record, problems = _object(entry, path)
    if record is None:
        return None, problems
    problems.extend(_unknown_keys(record, path, _QUERY_KEYS))
    source, more = _text(record.get("source"), _at(path, "source"), gaps=False)
    problems.extend(more)
    if source is None:
        return None, [*problems, _warn(_at(path, "source"), "the source queried (entry dropped)",
                                       record.get("source"))]
    query_date, more = _full_date(record.get("query_date"), _at(path, "query_date"))
    problems.extend(more)
    params = record.get("query_params")
    query: str | None
    if params is None:
        query = None
    elif isinstance(params, str):
        query = params.strip() or None
    else:  # their generator writes a dict; drafter keeps the query as compact JSON text
        query = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
    result_status, more = _text(record.get("result_status"), _at(path, "result_status"), gaps=False)
    problems.extend(more)
    result_count, more = _count(record.get("result_count"), _at(path, "result_count"))
    problems.extend(more)
    if result_count is not None and result_count < 0:
        problems.append(_warn(_at(path, "result_count"), "a count >= 0 (ignored)", result_count))
        result_count = None
    notes, more = _text(record.get("notes"), _at(path, "notes"), gaps=False)
    problems.extend(more)
    return {"source": source, "query_date": query_date, "query": query, "result_status": result_status,
            "result_count": result_count, "notes": notes}, problems


def _data_gap(entry: Any, path: str) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    record, problems = _object(entry, path)
    if record is None:
        return None, problems
    problems.extend(_unknown_keys(record, path, _GAP_KEYS))
    out: dict[str, Any] = {}
    for key in ("id", "category", "item", "severity", "impact"):
        value = record.get(key)
        if key == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        out[key], more = _text(value, _at(path, key), gaps=False)
        problems.extend(more)
    if out["item"] is None:
        return None, [*problems, _warn(_at(path, "item"), "a description of what is missing (data gap dropped)", record.get("item"))]
    return out, problems


def _meta_section(pack: Mapping[str, Any]) -> _Section:
    """meta (+ the top-level query_log) -> drafter's Meta."""
    section = _Section(origins={"meta": ("meta", {"pack_id": "meta.candidate_id", "created": "meta.created_at",
                                                  "generator": "meta.version", "schema_version": "meta.version"}),
                                "meta.query_log": ("query_log", {}),
                                "meta.data_gaps": ("meta.data_gaps", {})})
    meta, section.problems = _object(pack.get("meta"), "meta", required=True)
    if meta is None:
        return section
    section.problems.extend(_unknown_keys(meta, "meta", _META_KEYS))
    pack_id, more = _pack_id(meta.get("candidate_id"), "meta.candidate_id")
    section.problems.extend(more)
    version = meta.get("version")
    if version is not None and version != "v4":
        section.problems.append(_warn("meta.version", "'v4' (read as a v4 pack)", version))
    created, more = _full_date(meta.get("created_at"), "meta.created_at")
    section.problems.extend(more)
    cutoff, more = _full_date(meta.get("data_cutoff"), "meta.data_cutoff")
    section.problems.extend(more)

    query_log: list[dict[str, Any]] = []
    entries, more = _list(pack.get("query_log"), "query_log")
    section.problems.extend(more)
    for j, entry in enumerate(entries):
        converted, more = _query_log_entry(entry, _at("query_log", j))
        section.problems.extend(more)
        if converted is not None:
            section.origins[f"meta.query_log[{len(query_log)}]"] = (
                _at("query_log", j), {"query": _at(_at("query_log", j), "query_params")})
            query_log.append(converted)

    data_gaps: list[dict[str, Any]] = []
    entries, more = _list(meta.get("data_gaps"), "meta.data_gaps")
    section.problems.extend(more)
    for j, entry in enumerate(entries):
        converted, more = _data_gap(entry, _at("meta.data_gaps", j))
        section.problems.extend(more)
        if converted is not None:
            section.origins[f"meta.data_gaps[{len(data_gaps)}]"] = (_at("meta.data_gaps", j), {})
            data_gaps.append(converted)

    section.value = {"pack_id": pack_id, "schema_version": SCHEMA_VERSION, "created": created,
                     "data_cutoff": cutoff, "generator": GENERATOR, "query_log": query_log, "data_gaps": data_gaps}
    return section


# --- drug -------------------------------------------------------------------------------------------


def _drug_section(drug: Any) -> _Section:
    """drug -> drafter's Drug; "[Data Gap]" becomes an absent value, never text."""
    section = _Section(origins={"drug": ("drug", {"brand_names": "drug.brand_name_zh",
                                                  "mechanism_of_action": "drug.original_moa",
                                                  "mechanism_source": "drug.original_moa"})})
    record, section.problems = _object(drug, "drug", required=True)
    if record is None:
        return section
    section.problems.extend(_unknown_keys(record, "drug", _DRUG_KEYS))
    inn, more = _text(record.get("inn"), "drug.inn")
    section.problems.extend(more)
    if inn is None and not more:
        section.problems.append(_missing("drug.inn"))
    drugbank_id, more = _text(record.get("drugbank_id"), "drug.drugbank_id")
    section.problems.extend(more)
    brands, more = _text_items(record.get("brand_name_zh"), "drug.brand_name_zh")
    section.problems.extend(w for w in more if w.severity == "error")  # a lone string is their normal shape
    indications, more = _text_items(record.get("original_indications"), "drug.original_indications")
    section.problems.extend(more)
    moa, more = _text(record.get("original_moa"), "drug.original_moa")
    section.problems.extend(more)
    for i, (_, src) in enumerate(indications):
        section.origins[f"drug.original_indications[{i}]"] = (src, {})
    section.value = {
        "inn": inn,
        "drugbank_id": drugbank_id.upper() if drugbank_id else None,
        "brand_names": [text for text, _ in brands],
        "original_indications": [text for text, _ in indications],
        "mechanism_of_action": moa,
        "mechanism_source": "TxGNN pack: drug.original_moa" if moa else None,
    }
    return section


# --- jurisdiction -----------------------------------------------------------------------------------

_COUNTRY_ALIASES = {"UK": "GB"}
_COUNTRY_PREFIX = re.compile(r"^\s*([A-Za-z]{2})(?=[-_\s])")

_MARKETED_WORDS = frozenset({
    "marketed", "authorised", "authorized", "approved", "licensed", "licenced", "registered", "on market",
    "available", "active", "valid", "yes",
    "上市", "已上市", "有效", "已核准",  # Chinese
    "販売中", "承認済", "承認済み", "発売中",  # Japanese: on sale, approved
    "คงอยู่", "ได้รับอนุญาต", "มีจำหน่าย",  # Thai: registration in force, authorised, on sale
})
_NOT_MARKETED_WORDS = frozenset({
    "not marketed", "not authorised", "not authorized", "not approved", "unlicensed", "not licensed",
    "not registered", "withdrawn", "cancelled", "canceled", "revoked", "discontinued", "no", "none",
    "未上市", "註銷", "已註銷", "注销", "無", "无", "未核准",  # Chinese
    "販売中止", "未承認", "承認取消", "販売終了",  # Japanese: discontinued, not approved, approval withdrawn
    "ยกเลิก", "เพิกถอน", "ไม่มีจำหน่าย",  # Thai: cancelled, revoked, not on sale
})
_UNKNOWN_WORDS = frozenset({"unknown", "n/a", "na", "not found", "not retrieved", "未知", "不明", "pending"})


def _market_status(value: Any, path: str) -> tuple[MarketStatus, list[PackProblem]]:
    """Their local-language market word -> MarketStatus; an unrecognised word is unknown, with a warning."""
    if _is_gap(value):
        return MarketStatus.UNKNOWN, []
    if not isinstance(value, str):
        return MarketStatus.UNKNOWN, [_warn(path, "a market-status word (read as unknown)", value)]
    word = re.sub(r"[\s_\-]+", " ", value.strip().casefold())
    if word in _MARKETED_WORDS:
        return MarketStatus.MARKETED, []
    if word in _NOT_MARKETED_WORDS:
        return MarketStatus.NOT_MARKETED, []
    if word in _UNKNOWN_WORDS:
        return MarketStatus.UNKNOWN, []
    return MarketStatus.UNKNOWN, [_warn(path, "a market status such as 'marketed', '已上市' or '未上市' "
                                              "(read as unknown)", value)]


def _country(candidate_id: Any) -> str | None:
    """ISO country code from the candidate-id prefix ("TW-DB00181-multi" -> TW, "UK-" -> GB)."""
    if not isinstance(candidate_id, str):
        return None
    match = _COUNTRY_PREFIX.match(candidate_id)
    if match is None:
        return None
    code = match.group(1).upper()
    return _COUNTRY_ALIASES.get(code, code)


def _licence(entry: Any, path: str) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    record, problems = _object(entry, path)
    if record is None:
        return None, problems
    problems.extend(_unknown_keys(record, path, _LICENCE_KEYS))
    out: dict[str, Any] = {}
    for ours, theirs in _LICENCE_FIELDS.items():
        out[ours], more = _text(record.get(theirs), _at(path, theirs))
        problems.extend(more)
    return (out if any(v is not None for v in out.values()) else None), problems


_LICENCE_FIELDS = {"number": "license_number", "product": "product_name_zh", "dosage_form": "dosage_form",
                   "holder": "manufacturer", "indication_text": "approved_indication_text"}


def _jurisdiction_section(candidate_id: Any, regulatory: Any, country_override: str | None = None) -> _Section:
    """Country from the candidate-id prefix; taiwan_regulatory (every fork's key) -> Jurisdiction."""
    section = _Section(origins={"jurisdiction": ("taiwan_regulatory", {
        "country": "meta.candidate_id", "regulator": "meta.candidate_id",
        "total_licences": "taiwan_regulatory.total_licenses", "licences": "taiwan_regulatory.licenses"})})
    country = _country(candidate_id)
    if country_override is not None:
        if country is not None and country != country_override:
            section.problems.append(_warn("meta.candidate_id", f"a prefix matching the given country "
                                          f"{country_override} (the prefix says {country}; the given country is used)",
                                          candidate_id))
        country = country_override
    elif country is None and not _is_gap(candidate_id) and isinstance(candidate_id, str):
        section.problems.append(_error("meta.candidate_id", "a candidate id starting with the country code, "
                                       "such as 'TW-DB00181-multi' or 'UK-DB00181-multi'", candidate_id))
    record, more = _object(regulatory, "taiwan_regulatory")
    section.problems.extend(more)
    record = record or {}
    section.problems.extend(_unknown_keys(record, "taiwan_regulatory", _REG_KEYS))
    status, more = _market_status(record.get("market_status"), "taiwan_regulatory.market_status")
    section.problems.extend(more)
    total, more = _count(record.get("total_licenses"), "taiwan_regulatory.total_licenses")
    section.problems.extend(more)
    licences: list[dict[str, Any]] = []
    entries, more = _list(record.get("licenses"), "taiwan_regulatory.licenses")
    section.problems.extend(more)
    for j, entry in enumerate(entries):
        converted, more = _licence(entry, _at("taiwan_regulatory.licenses", j))
        section.problems.extend(more)
        if converted is not None:
            src = _at("taiwan_regulatory.licenses", j)
            section.origins[f"jurisdiction.licences[{len(licences)}]"] = (
                src, {ours: _at(src, theirs) for ours, theirs in _LICENCE_FIELDS.items()})
            licences.append(converted)
    if status is MarketStatus.NOT_MARKETED and not total and not licences:
        # Their generator writes 未上市 and total_licenses 0 whenever the regulator lookup found no record,
        # so "not marketed, 0 licences" cannot be told from "not found": both become unknown.
        status, total = MarketStatus.UNKNOWN, None
        section.problems.append(_warn(
            "taiwan_regulatory.market_status", "a market status backed by licences: 'not marketed' with no licence "
            "listed may only mean the regulator lookup found nothing (status and licence count read as unknown)",
            record.get("market_status")))
    section.value = {"country": country, "regulator": DEFAULT_REGULATORS.get(country or ""),
                     "market_status": status.value, "total_licences": total, "licences": licences}
    return section


# --- safety -----------------------------------------------------------------------------------------

_NAME_KEYS = ("drug", "drug_name", "interacting_drug", "interacting_drug_name", "name", "drug_b", "drug2",
              "object", "target_drug")
_SEVERITY_KEYS = ("severity", "level", "risk", "interaction_level", "risk_level", "risk_rating", "significance")
_TEXT_KEYS = ("description", "desc", "summary", "interaction", "text", "effect", "clinical_effect")
_SOURCE_KEYS = ("source", "database", "ddi_source")

_SEVERITY_WORDS: dict[str, InteractionSeverity] = {
    **dict.fromkeys(("contraindicated", "contraindication", "x", "avoid", "avoid combination", "禁忌", "禁用",
                     "併用禁忌", "并用禁忌", "禁止併用", "禁止合併使用", "ห้ามใช้ร่วมกัน"),
                    InteractionSeverity.CONTRAINDICATED),
    **dict.fromkeys(("major", "severe", "serious", "high", "d", "嚴重", "严重", "重度", "高", "高度", "重大", "รุนแรง"),
                    InteractionSeverity.MAJOR),
    **dict.fromkeys(("moderate", "medium", "c", "中度", "中等", "中", "併用注意", "ปานกลาง"),
                    InteractionSeverity.MODERATE),
    **dict.fromkeys(("minor", "mild", "low", "b", "a", "輕微", "轻微", "輕度", "轻度", "低", "เล็กน้อย"),
                    InteractionSeverity.MINOR),
}
_SEVERITY_NOISE = re.compile(r"\b(?:risk|rating|level|severity|interaction|category|grade)\b[:\s]*")


def _severity(value: Any, path: str) -> tuple[InteractionSeverity, list[PackProblem]]:
    """A DDI source's severity word or letter -> InteractionSeverity (X/D/C/B/A are Lexicomp's risk ratings)."""
    if _is_gap(value):
        return InteractionSeverity.UNKNOWN, []
    if isinstance(value, str):
        word = _SEVERITY_NOISE.sub("", value.strip().casefold()).strip(" :-_")
        if word in _SEVERITY_WORDS:
            return _SEVERITY_WORDS[word], []
        if word in {"unknown", "n/a", "na", "none", ""}:
            return InteractionSeverity.UNKNOWN, []
    return InteractionSeverity.UNKNOWN, [_warn(path, "a severity such as Major, Moderate, Minor, Contraindicated "
                                                     "or a risk letter X/D/C/B/A (read as unknown)", value)]


def _first(record: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    """(key, value) of the first key present with a usable value, also looking into a nested 'details' dict."""
    details = record.get("details")
    for source in (record, details if isinstance(details, dict) else {}):
        for key in keys:
            value = source.get(key)
            if isinstance(value, dict):  # {"drug": {"name": "Oxycodone", ...}}
                value = value.get("name") or value.get("drug_name")
            if not _is_gap(value) and not isinstance(value, list | dict | bool):
                return key, value
    return None, None


def _interaction(entry: Any, path: str) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    """One free-form DDI record -> an Interaction; records without a drug or without any text are skipped."""
    if _is_gap(entry):
        return None, []
    if not isinstance(entry, dict):
        return None, [_error(path, "an object (a drug-interaction record)", entry)]
    _, source = _first(entry, _SOURCE_KEYS)
    if isinstance(source, str) and source.strip().casefold() == "pharmacology":
        return None, [_warn(path, "a drug-drug interaction (this is a Guide to PHARMACOLOGY drug-target record; "
                                  "skipped)")]
    name_key, name = _first(entry, _NAME_KEYS)
    _, text = _first(entry, _TEXT_KEYS)
    _, management = _first(entry, ("management", "recommendation"))
    texts = [str(t).strip() for t in (text, management) if t is not None]
    if len(texts) == 2 and texts[0] != texts[1]:
        body = f"{texts[0]} Management: {texts[1]}"
    else:
        body = texts[0] if texts else None
    if name is None:
        return None, [_warn(path, "the interacting drug under drug, drug_name, interacting_drug, name, drug_b "
                                  "or object (record skipped)")]
    severity_key, severity_value = _first(entry, _SEVERITY_KEYS)
    severity, problems = _severity(severity_value, _at(path, severity_key or "severity"))
    label = str(source).strip() if source is not None else "TxGNN pack: safety.ddi.interactions"
    if body is None:
        # DDInter-style records carry only a drug and a level; keeping them with a plain sentence loses
        # nothing, while skipping them would drop every interaction such a source reported.
        body = (f"An interaction with {str(name).strip()} is listed by {label}"
                + (f" with severity {severity.value}" if severity is not InteractionSeverity.UNKNOWN else "")
                + "; the record gives no description.")
        problems.append(_warn(path, "a description of the interaction under description, desc, summary, "
                                    "interaction, text or management (kept with a generated sentence)"))
    return {"interacting": str(name).strip(), "severity": severity.value, "text": body, "source": label}, problems


def _safety_section(safety: Any) -> _Section:
    """safety -> drafter's Safety, or None when the pack holds no real safety data at all."""
    section = _Section()
    record, section.problems = _object(safety, "safety")
    if record is None:
        return section
    section.problems.extend(_unknown_keys(record, "safety", _SAFETY_KEYS))
    out: dict[str, list[dict[str, Any]]] = {"warnings": [], "contraindications": [], "interactions": []}
    for ours, theirs in (("warnings", "key_warnings"), ("contraindications", "contraindications")):
        items, more = _text_items(record.get(theirs), _at("safety", theirs))
        section.problems.extend(more)
        for text, src in items:
            section.origins[f"safety.{ours}[{len(out[ours])}]"] = (src, {"*": src})
            out[ours].append({"text": text, "source": f"TxGNN pack: safety.{theirs}"})
    ddi, more = _object(record.get("ddi"), "safety.ddi")
    section.problems.extend(more)
    if ddi is not None:
        section.problems.extend(_unknown_keys(ddi, "safety.ddi", _DDI_KEYS))
        entries, more = _list(ddi.get("interactions"), "safety.ddi.interactions")
        section.problems.extend(more)
        for j, entry in enumerate(entries):
            src = _at("safety.ddi.interactions", j)
            converted, more = _interaction(entry, src)
            section.problems.extend(more)
            if converted is not None:
                section.origins[f"safety.interactions[{len(out['interactions'])}]"] = (src, {})
                out["interactions"].append(converted)
    if any(out.values()):
        section.value = out
    return section


# --- predicted indications --------------------------------------------------------------------------


def _score(value: Any, path: str) -> tuple[float | None, list[PackProblem]]:
    """txgnn.score as 0..1. Text with '%' is a percentage ("0.5%" is 0.005); any other value above 1 is
    refused rather than guessed to be one. No score at all is None with a warning: the report then
    says the score is not in the pack.
    """
    expected = "a TxGNN score, a number between 0 and 1 (or a percentage written with '%', up to 100%)"
    if _is_gap(value):
        return None, [_warn(path, "a model score (none in the pack: imported as null, and reports say the "
                                  "score is not in the pack)", value)]
    problems: list[PackProblem] = []
    percent = False
    if isinstance(value, bool):
        return None, [_error(path, expected, value)]
    if isinstance(value, int | float):
        if isinstance(value, int) and value.bit_length() > 64:  # float() of a huge int overflows
            return None, [_error(path, expected, value)]
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        text = text.removesuffix("%").strip()
        if not _ASCII_NUMBER.fullmatch(text):
            return None, [_error(path, expected, value)]
        number = float(text)
        if not percent:
            problems.append(_warn(path, "a number (converted from text)", value))
    else:
        return None, [_error(path, expected, value)]
    if not math.isfinite(number) or number < 0 or number > (100 if percent else 1):
        return None, [_error(path, expected, value)]
    if percent:
        fraction = round(number / 100, 10)
        problems.append(_warn(path, f"a score between 0 and 1 (read as a percentage: {fraction})", value))
        number = fraction
    return number, problems


def _rank(value: Any, fallback: Any, path: str, fallback_path: str) -> tuple[int | None, list[PackProblem]]:
    """The indication's rank; txgnn.rank stands in when the indication has none."""
    if _is_gap(value) and not _is_gap(fallback):
        rank, problems = _rank(fallback, None, fallback_path, fallback_path)
        return rank, [*problems, _warn(path, f"the indication's rank (taken from {fallback_path})")]
    if _is_gap(value):
        return None, [_missing(path)]
    if isinstance(value, int) and not isinstance(value, bool):
        return value, []
    if isinstance(value, float) and value.is_integer():
        return int(value), [_warn(path, "a whole number (converted)", value)]
    if isinstance(value, str) and any(ch.isdigit() for ch in value):
        number, problem = _whole_number_text(value, path, "a rank, a whole number >= 1")
        if problem is not None:
            return None, [problem]
        return number, [_warn(path, "a number (converted from text)", value)]
    return None, [_error(path, "a rank, a whole number >= 1", value)]


def _phase(value: Any, path: str) -> tuple[Phase, list[PackProblem]]:
    """Any of their phase spellings via drafter's parse_phase; an unreadable one is unknown, with a warning."""
    if _is_gap(value):
        return Phase.UNKNOWN, []
    try:
        return parse_phase(value), []
    except ValueError:
        return Phase.UNKNOWN, [_warn(path, "a trial phase such as 'PHASE2', 'PHASE1/PHASE2' or 'N/A' "
                                           "(read as unknown)", value)]


# ICTRP's "Not recruiting" covers trials that are active and trials that ended; EUCTR's long form too.
_ICTRP_AMBIGUOUS_STATUS = frozenset({"not recruiting", "authorised-recruitment may be ongoing or finished"})


def _status(value: Any, path: str, *, ictrp: bool = False) -> tuple[TrialStatus, list[PackProblem]]:
    """Any of their status spellings via drafter's parse_status; an unreadable one is unknown, with a warning."""
    if _is_gap(value):
        return TrialStatus.UNKNOWN, []
    if ictrp and isinstance(value, str) and value.strip().casefold() in _ICTRP_AMBIGUOUS_STATUS:
        return TrialStatus.UNKNOWN, [_warn(path, "a definite status (ICTRP's word covers both ongoing and "
                                                 "finished trials; read as unknown)", value)]
    try:
        return parse_status(value), []
    except ValueError:
        return TrialStatus.UNKNOWN, [_warn(path, "a trial status such as 'COMPLETED' or 'Recruiting' "
                                                 "(read as unknown)", value)]


def _enrollment(value: Any, path: str, status: TrialStatus) -> tuple[int | None, list[PackProblem]]:
    """Participants; their 0 means unknown (None) unless the trial was withdrawn."""
    if _is_gap(value) or (isinstance(value, str) and value.strip().casefold() in {"n/a", "na", "unknown"}):
        return None, []
    count, problems = _count(value, path)
    if count is None:
        return None, problems
    if count < 0:
        return None, [*problems, _warn(path, "a number of participants >= 0 (dropped)", value)]
    if count == 0 and status is not TrialStatus.WITHDRAWN:
        return None, [*problems, _warn(path, "a number of participants; 0 means unknown in TxGNN packs "
                                             "(imported as null)", value)]
    return count, problems


_RELEVANCE_GRADES = {"a": Relevance.DIRECT, "b": Relevance.RELATED, "c": Relevance.UNRELATED,
                     "pending": Relevance.UNKNOWN}


def _relevance(value: Any, path: str) -> tuple[str, list[PackProblem]]:
    """relevance {grade: A|B|C|pending} -> direct/related/unrelated/unknown; anything else is unknown, warned."""
    if _is_gap(value):
        return Relevance.UNKNOWN.value, []
    grade = value.get("grade") if isinstance(value, dict) else value
    if _is_gap(grade):
        return Relevance.UNKNOWN.value, []
    relevance = _RELEVANCE_GRADES.get(str(grade).strip().casefold()) if isinstance(grade, str) else None
    if relevance is None:
        where = _at(path, "grade") if isinstance(value, dict) else path
        return Relevance.UNKNOWN.value, [_warn(where, "a relevance grade A, B, C or pending (imported as unknown)",
                                               grade)]
    return relevance.value, []


def _trial_fields(record: Mapping[str, Any], path: str, *, ictrp: bool) -> tuple[dict[str, Any], list[PackProblem]]:
    """Everything of a trial record but its id."""
    problems: list[PackProblem] = []
    title, more = _text(record.get("title"), _at(path, "title"))
    problems.extend(more)
    phase, more = _phase(record.get("phase"), _at(path, "phase"))
    problems.extend(more)
    status, more = _status(record.get("status"), _at(path, "status"), ictrp=ictrp)
    problems.extend(more)
    enrollment, more = _enrollment(record.get("enrollment"), _at(path, "enrollment"), status)
    problems.extend(more)
    start, more = _partial_date(record.get("start_date"), _at(path, "start_date"))
    problems.extend(more)
    completion, more = _partial_date(record.get("completion_date"), _at(path, "completion_date"))
    problems.extend(more)
    summary, more = _text(record.get("brief_summary"), _at(path, "brief_summary"))
    problems.extend(more)
    relevance, more = _relevance(record.get("relevance"), _at(path, "relevance"))
    problems.extend(more)
    interventional = phase not in (Phase.UNKNOWN, Phase.NOT_APPLICABLE)
    return {"title": title, "phase": phase.value, "status": status.value,
            "study_type": "interventional" if interventional else "unknown", "enrollment": enrollment,
            "start_date": start, "completion_date": completion, "summary": summary,
            "relevance": relevance}, problems


def _trial_origin(src: str, id_key: str) -> tuple[str, dict[str, str]]:
    return src, {"registry_id": _at(src, id_key), "summary": _at(src, "brief_summary"),
                 "study_type": _at(src, "phase"), "duplicate_of": _at(src, "title"),
                 "source_registry": _at(src, "source_registry")}


def _normalised_title(title: str | None) -> str | None:
    """Casefolded words of a title; None when too short to identify a trial (fewer than four words)."""
    if not title:
        return None
    words = re.sub(r"[\W_]+", " ", title.casefold()).split()
    return " ".join(words) if len(words) >= 4 else None


def _registry_records(
    section: _Section, evidence: Mapping[str, Any], base: str, list_key: str, id_key: str,
    known: frozenset[str], normalise: Callable[[Any], str],
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(TxGNN path, record, canonical id) for each usable record of one trial list; problems recorded."""
    records, more = _list(evidence.get(list_key), _at(base, list_key))
    section.problems.extend(more)
    for j, entry in enumerate(records):
        src = _at(_at(base, list_key), j)
        record, more = _object(entry, src)
        section.problems.extend(more)
        if record is None:
            continue
        section.problems.extend(_unknown_keys(record, src, known))
        if _is_gap(record.get(id_key)):
            section.problems.append(_missing(_at(src, id_key)))
            continue
        try:
            canonical = normalise(record.get(id_key))
        except IdentifierError as exc:
            if list_key == "ictrp_trials" and not _looks_like_nct(record.get(id_key)):
                # ICTRP lists registries drafter may not know yet; one such record must not refuse the pack
                section.problems.append(_warn(_at(src, id_key), "a trial id of a registry drafter recognises "
                                              "(NCT, ISRCTN, EUCTR, jRCT, NL, ...; this record dropped)",
                                              record.get(id_key)))
            else:
                section.problems.append(_from_identifier_error(_at(src, id_key), exc))
            continue
        yield src, record, canonical


def _looks_like_nct(value: Any) -> bool:
    return isinstance(value, str) and fold_identifier_text(value).strip().upper().startswith("NCT")


def _trials(evidence: Mapping[str, Any], base: str, dst: str) -> _Section:
    """clinical_trials then ictrp_trials -> trials; duplicates dropped, ICTRP copies of NCT records marked."""
    section = _Section(value=[])
    seen: dict[str, str] = {}  # canonical id -> TxGNN path of the record kept
    kept: dict[str, dict[str, Any]] = {}
    nct_by_title: dict[str, str] = {}

    def keep(trial: dict[str, Any], src: str, id_key: str) -> None:
        section.origins[_at(dst, len(section.value))] = _trial_origin(src, id_key)
        seen[trial["registry_id"]] = src
        kept[trial["registry_id"]] = trial
        section.value.append(trial)

    for src, record, nct in _registry_records(section, evidence, base, "clinical_trials", "nct_id", _CT_KEYS,
                                              normalise_nct):
        fields, more = _trial_fields(record, src, ictrp=False)
        if nct in seen:
            section.problems.append(_repeated(src, "nct_id", nct, nct, seen[nct], kept[nct], fields, "trial id",
                                              _TRIAL_SOURCE_KEYS))
            continue
        section.problems.extend(more)
        title = _normalised_title(fields["title"])
        if title is not None:
            nct_by_title.setdefault(title, nct)
        keep({"registry_id": nct, **fields}, src, "nct_id")

    for src, record, trial_id in _registry_records(section, evidence, base, "ictrp_trials", "trial_id", _ICTRP_KEYS,
                                                   normalise_trial_id):
        fields, more = _trial_fields(record, src, ictrp=True)
        if trial_id in seen:
            # ICTRP repeats registry records with less precise fields; the record already kept is the record
            diff = _differing_field(kept[trial_id], fields)
            note = f"; its {diff} differs" if diff else ""
            section.problems.append(_warn(_at(src, "trial_id"), f"a trial not already listed (the same id as "
                                                                f"{seen[trial_id]}; this ICTRP copy dropped{note})",
                                          record.get("trial_id")))
            continue
        section.problems.extend(more)
        registry, more = _text(record.get("source_registry"), _at(src, "source_registry"))
        section.problems.extend(more)
        trial = {"registry_id": trial_id, **fields, "source_registry": registry}
        title = _normalised_title(fields["title"])
        if not is_nct(trial_id) and title in nct_by_title:
            trial["duplicate_of"] = nct_by_title[title]
            section.problems.append(_warn(_at(src, "title"), f"a trial not already listed (same title as "
                                                             f"{nct_by_title[title]}; kept with duplicate_of "
                                                             f"{nct_by_title[title]})", fields["title"]))
        keep(trial, src, "trial_id")
    return section


# drafter field -> the TxGNN key it is read from, to point an error at the field a person must edit
_TRIAL_SOURCE_KEYS = {"summary": "brief_summary", "study_type": "phase"}
# the facts a report states and the verifier checks; two copies that state them differently conflict
_TRIAL_FACTS = frozenset({"phase", "status", "study_type", "enrollment", "start_date", "completion_date"})
_ARTICLE_FACTS = frozenset({"year", "publication_types"})
_ARTICLE_SOURCE_KEYS = {"publication_types": "classification.study_type"}


def _known(value: Any) -> bool:
    return value not in (None, "", [], {}, "unknown")


def _differing_field(kept: Mapping[str, Any], copy: Mapping[str, Any]) -> str | None:
    """The first field that both records state (neither is a gap) with different values, or None.

    Their packs repeat records with fields missing (an empty brief_summary, an unknown status); a
    gap says less, it does not contradict, so only two stated values that differ are a conflict.
    """
    return next((k for k in copy if k in kept and _known(kept[k]) and _known(copy[k]) and kept[k] != copy[k]),
                None)


def _repeated(src: str, id_key: str, shown_id: Any, canonical: str, first_src: str, kept: Mapping[str, Any],
              copy: Mapping[str, Any], label: str, source_keys: Mapping[str, str]) -> PackProblem:
    """A second record of one id in one list: identical is a warning (copy ignored), different is an error.

    The error names both TxGNN paths and the differing field, because the report could otherwise
    state either copy's fact and the verifier would have no single record to check it against.
    """
    facts = _TRIAL_FACTS if label == "trial id" else _ARTICLE_FACTS
    diff = _differing_field({k: v for k, v in kept.items() if k in facts}, copy)
    if diff is None:
        other = _differing_field(kept, copy)
        note = f"its {source_keys.get(other, other)} differs; " if other else ""
        return _warn(_at(src, id_key), f"each {'trial' if label == 'trial id' else 'article'} once per indication "
                                       f"(the same record as {first_src}; {note}this copy ignored)", shown_id)
    theirs = source_keys.get(diff, diff)
    return _error(_at(src, theirs), f"one record per {label}: {canonical} is also "
                                    f"at {first_src}, whose {theirs} is {_describe(kept[diff])} (make the copies "
                                    f"identical, or keep one)", copy[diff])


def _authors(value: Any, path: str) -> tuple[list[str], list[PackProblem]]:
    """Authors as a list; a string is split on ';', or on ',' when every part looks like 'Surname I'."""
    if isinstance(value, str):
        if _is_gap(value):
            return [], []
        parts = [p.strip() for p in re.split(r";" if ";" in value else r",", value)]
        parts = [p for p in parts if p and p.casefold().rstrip(".") not in {"et al", "and others"}]
        if ";" not in value and any(" " not in p for p in parts):
            return [value.strip()], []  # "Smith, J." style: splitting on commas would cut names
        return parts, []
    items, problems = _text_items(value, path)
    return [text for text, _ in items], problems


def _year(value: Any, path: str) -> tuple[int | None, list[PackProblem]]:
    """Publication year from an int, "2011", "" or a MedlineDate such as "2011 Mar-Apr" (its first four digits)."""
    if _is_gap(value):
        return None, []
    year: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    elif isinstance(value, str) and (match := re.search(r"(?<!\d)(\d{4})(?!\d)", value)):
        year = int(match.group(1))
    if year is None or not 1800 <= year <= 2100:
        return None, [_warn(path, "a publication year (dropped)", value)]
    return year, []


def _publication_types(value: Any, path: str) -> tuple[list[str], list[PackProblem]]:
    """classification.study_type (their LLM's label) as drafter's publication_types; "pending" is no label."""
    if _is_gap(value):
        return [], []
    if isinstance(value, str):
        label = value
        problems: list[PackProblem] = []
    elif isinstance(value, dict):
        problems = _unknown_keys(value, path, _CLASSIFICATION_KEYS)
        label = value.get("study_type")
    else:
        return [], [_warn(path, "an object with study_type (ignored)", value)]
    if _is_gap(label) or not isinstance(label, str) or label.strip().casefold() == "pending":
        return [], problems
    return [label.strip()], problems


def _articles(evidence: Mapping[str, Any], base: str, dst: str) -> _Section:
    """literature -> articles; PMIDs normalised, duplicates dropped, years made ints."""
    section = _Section(value=[])
    seen: dict[str, str] = {}
    kept: dict[str, dict[str, Any]] = {}
    records, more = _list(evidence.get("literature"), _at(base, "literature"))
    section.problems.extend(more)
    for j, entry in enumerate(records):
        src = _at(_at(base, "literature"), j)
        record, more = _object(entry, src)
        section.problems.extend(more)
        if record is None:
            continue
        section.problems.extend(_unknown_keys(record, src, _ARTICLE_KEYS))
        before = len(section.problems)
        if _is_gap(record.get("pmid")):
            section.problems.append(_missing(_at(src, "pmid")))
            continue
        try:
            pmid = normalise_pmid(record.get("pmid"))
        except IdentifierError as exc:
            section.problems.append(_from_identifier_error(_at(src, "pmid"), exc))
            continue
        article: dict[str, Any] = {"pmid": pmid}
        for key in ("title", "journal", "abstract"):
            article[key], more = _text(record.get(key), _at(src, key))
            section.problems.extend(more)
        article["authors"], more = _authors(record.get("authors"), _at(src, "authors"))
        section.problems.extend(more)
        article["year"], more = _year(record.get("year"), _at(src, "year"))
        section.problems.extend(more)
        article["relevance"], more = _relevance(record.get("relevance"), _at(src, "relevance"))
        section.problems.extend(more)
        article["publication_types"], more = _publication_types(record.get("classification"),
                                                                _at(src, "classification"))
        section.problems.extend(more)
        if pmid in seen:
            section.problems = section.problems[:before]
            section.problems.append(_repeated(src, "pmid", record.get("pmid"), pmid, seen[pmid], kept[pmid], article,
                                              "PMID", _ARTICLE_SOURCE_KEYS))
            continue
        kept[pmid] = article
        section.origins[_at(dst, len(section.value))] = (src, {
            "publication_types": _at(src, "classification.study_type"),
            "study_type": _at(src, "classification.study_type")})
        seen[pmid] = src
        section.value.append(article)
    return section


def _indication(entry: Any, i: int) -> _Section:
    """One predicted indication with its trials and articles."""
    path = _at("predicted_indications", i)
    section = _Section()
    record, section.problems = _object(entry, path, required=True)
    if record is None:
        return section
    section.problems.extend(_unknown_keys(record, path, _INDICATION_KEYS))
    txgnn_record, more = _object(record.get("txgnn"), _at(path, "txgnn"), required=True)
    section.problems.extend(more)
    txgnn = txgnn_record or {}
    section.problems.extend(_unknown_keys(txgnn, _at(path, "txgnn"), _TXGNN_KEYS))
    rank, more = _rank(record.get("rank"), txgnn.get("rank"), _at(path, "rank"), _at(path, "txgnn.rank"))
    section.problems.extend(more)
    disease, more = _text(record.get("disease_name"), _at(path, "disease_name"))
    section.problems.extend(more)
    if disease is None and not more:
        section.problems.append(_missing(_at(path, "disease_name")))
    score: float | None = None
    if txgnn_record is not None:
        score, more = _score(txgnn.get("score"), _at(path, "txgnn.score"))
        section.problems.extend(more)
    evidence, more = _object(record.get("evidence"), _at(path, "evidence"))
    section.problems.extend(more)
    evidence = evidence or {}
    section.problems.extend(_unknown_keys(evidence, _at(path, "evidence"), _EVIDENCE_KEYS))
    trials = section.take(_trials(evidence, _at(path, "evidence"), _at(path, "trials")))
    articles = section.take(_articles(evidence, _at(path, "evidence"), _at(path, "articles")))
    section.origins[path] = (path, {"score": _at(path, "txgnn.score"),
                                    "trials": _at(path, "evidence.clinical_trials"),
                                    "articles": _at(path, "evidence.literature")})
    section.value = {"rank": rank, "disease_name": disease, "score": score,
                     "trials": trials, "articles": articles}
    return section


def _indications_section(pack: Mapping[str, Any]) -> _Section:
    """predicted_indications, kept at their TxGNN positions so that drafter paths and theirs agree."""
    section = _Section(value=[])
    value = pack.get("predicted_indications")
    if value is None:
        section.problems.append(PackProblem("predicted_indications", "at least one predicted indication",
                                            found="no predicted_indications"))
        return section
    if not isinstance(value, list):
        section.problems.append(_error("predicted_indications", "a list of predicted indications", value))
        return section
    if not value:
        section.problems.append(PackProblem("predicted_indications", "at least one predicted indication",
                                            found="an empty list"))
        return section
    ranks: dict[int, int] = {}
    for i, entry in enumerate(value):
        converted = section.take(_indication(entry, i))
        section.value.append(converted)
        rank = converted.get("rank") if converted else None
        if isinstance(rank, int):
            if rank in ranks:
                section.problems.append(_error(_at(_at("predicted_indications", i), "rank"),
                                               f"a rank used once (predicted_indications[{ranks[rank]}] has it too)",
                                               rank))
            else:
                ranks[rank] = i
    return section


# --- mapping drafter paths back to TxGNN paths ------------------------------------------------------


def _txgnn_path(path: str, origins: _Origins) -> str:
    """The TxGNN path of a drafter path, through the most specific recorded origin."""
    best = max((k for k in origins if path == k or path.startswith((k + ".", k + "["))), key=len, default=None)
    if best is None:
        return path
    src, renames = origins[best]
    rest = path[len(best):]
    if not rest.startswith("."):
        return src + rest
    head, tail = re.match(r"\.([^.\[]+)(.*)", rest).groups()  # type: ignore[union-attr]
    target = renames.get(head, renames.get("*"))
    return (target if target is not None else _at(src, head)) + tail


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def _relocated(problems: list[PackProblem], origins: _Origins, reported: list[PackProblem]) -> list[PackProblem]:
    """drafter-located problems at their TxGNN paths, minus those at a path already reported."""
    out: list[PackProblem] = []
    for problem in problems:
        path = _txgnn_path(problem.path, origins)
        if any(_overlaps(path, r.path) for r in [*reported, *out]):
            continue
        expected = _DRAFTER_RECORD_PATH.sub(lambda m: _txgnn_path(m.group(0), origins), problem.expected)
        out.append(PackProblem(path, expected, problem.found, problem.severity))
    return out


# a record's drafter path quoted inside a message (record_conflicts names the other copy's path)
_DRAFTER_RECORD_PATH = re.compile(r"predicted_indications\[\d+\]\.(?:trials|articles)\[\d+\]")
