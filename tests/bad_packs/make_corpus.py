"""The bad-pack corpus: every case derived from ``_valid_base.json``, with what the loader must say.

Each case is one file ``<name>.json`` in this folder, written by this script, plus the problem line(s)
the loader must report for it: the JSON path (or the location, for a byte-level problem) and
fragments the message must contain. ``tests/test_bad_packs.py`` runs the loader on every file and
checks that the committed files are exactly what this script writes, so to add or change a case
edit ``CASES`` below and run::

    python tests/bad_packs/make_corpus.py          # rewrite the corpus
    python tests/bad_packs/make_corpus.py --check  # exit 1 if a committed file is stale or missing

Structural cases are a JSON-patch-like list of operations on the valid base (``replace``/``add``/
``remove`` with an RFC 6901 pointer; ``-`` appends to a list). Byte-level cases (empty file, broken
JSON, bad UTF-8, NaN, repeated keys, ...) build their bytes from the base's text instead, because
they cannot be written as JSON. Two cases are generated at test time and never committed: nesting
100,000 lists deep and a 50 MB pack.

This file needs only the standard library, not drafter or pytest.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

HERE = Path(__file__).resolve().parent
BASE_NAME = "_valid_base.json"
BASE_BYTES = (HERE / BASE_NAME).read_bytes()
BASE: dict[str, Any] = json.loads(BASE_BYTES)

# (op, RFC 6901 pointer, value); remove takes no value.
Op = tuple[str, str] | tuple[str, str, Any]


@dataclass(frozen=True)
class Expect:
    """One problem line the loader must report.

    ``where`` is the exact JSON path (or location such as ``line 61 column 1``) that must follow the
    file name in the line; ``None`` means the loader reports no location for this problem and the
    message follows the file name directly. ``fragments`` must all occur in the line.
    """

    where: str | None
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    name: str
    about: str
    expect: tuple[Expect, ...]
    patch: tuple[Op, ...] = ()
    raw: Callable[[bytes], bytes] | None = None  # byte-level cases: base bytes -> file bytes
    severity: Literal["error", "warning"] = "error"
    xfail: str | None = None  # set when load.py/models.py is known to get this case wrong
    absent: tuple[str, ...] = field(default=())  # text that must NOT be in the line(s)

    @property
    def filename(self) -> str:
        return f"{self.name}.json"

    def render(self) -> bytes:
        if self.raw is not None:
            return self.raw(BASE_BYTES)
        return dump(apply_patch(BASE, self.patch))


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- a small JSON patch ------------------------------------------------------------------------------


def _tokens(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def apply_patch(doc: Any, ops: tuple[Op, ...]) -> Any:
    """Apply replace/add/remove operations to a deep copy of ``doc``; a pointer that misses raises."""
    doc = copy.deepcopy(doc)
    for op, pointer, *rest in ops:
        *parents, last = _tokens(pointer)
        parent = doc
        for token in parents:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        value = copy.deepcopy(rest[0]) if rest else None
        if isinstance(parent, list):
            if op == "add":
                parent.insert(len(parent) if last == "-" else int(last), value)
            elif op == "replace":
                parent[int(last)] = value
            elif op == "remove":
                del parent[int(last)]
            else:
                raise ValueError(f"unknown op {op!r}")
        else:
            if op == "add":
                if last in parent:
                    raise KeyError(f"add: {pointer} exists already (use replace)")
                parent[last] = value
            elif op == "replace":
                if last not in parent:
                    raise KeyError(f"replace: {pointer} does not exist (use add)")
                parent[last] = value
            elif op == "remove":
                del parent[last]
            else:
                raise ValueError(f"unknown op {op!r}")
    return doc


# --- byte-level helpers ------------------------------------------------------------------------------


def _replace_once(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def build(base: bytes) -> bytes:
        if base.count(old) != 1:
            raise ValueError(f"{old!r} must occur exactly once in the base pack")
        return base.replace(old, new)

    return build


def _first_lines(n: int) -> Callable[[bytes], bytes]:
    return lambda base: b"".join(base.splitlines(keepends=True)[:n])


def _cut_inside(marker: bytes, keep: int) -> Callable[[bytes], bytes]:
    """Cut the file ``keep`` bytes into the first occurrence of ``marker`` (inside a string)."""
    return lambda base: base[: base.index(marker) + keep]


_INN_LINE = b'"inn": "baclofen"'
_INVALID_UTF8_AT = BASE_BYTES.index(_INN_LINE) + len(b'"inn": "baclof')

T0 = "/predicted_indications/0/trials/0"
A0 = "/predicted_indications/0/articles/0"
I0 = "/predicted_indications/0"
PI0 = "predicted_indications[0]"

_FIRST_TRIAL = BASE["predicted_indications"][0]["trials"][0]
_FIRST_ARTICLE = BASE["predicted_indications"][0]["articles"][0]


def _one(where: str | None, *fragments: str) -> tuple[Expect, ...]:
    return (Expect(where, fragments),)


# --- the cases ---------------------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    # bytes and syntax
    Case("syntax_empty_file", "a zero-byte file", raw=lambda base: b"",
         expect=_one(None, "found an empty file; expected a JSON object")),
    Case("syntax_whitespace_only", "only blank lines", raw=lambda base: b"\n  \n\t\n",
         expect=_one(None, "found only whitespace; expected a JSON object")),
    Case("syntax_bom_only", "a UTF-8 byte-order mark and nothing else", raw=lambda base: b"\xef\xbb\xbf",
         expect=_one(None, "expected a JSON object")),
    Case("syntax_not_json", "prose instead of JSON", raw=lambda base: b"baclofen, GB, 2 indications\n",
         expect=_one("line 1 column 1", "not valid JSON")),
    Case("syntax_truncated", "the first 60 lines of the base (a cut-off download)", raw=_first_lines(60),
         expect=_one("line 61 column 1", "not valid JSON: the file ends early (truncated?)")),
    Case("syntax_truncated_mid_string", "the base cut off inside a trial title",
         raw=_cut_inside(b'"Baclofen for alcohol use disorder"', 12),
         expect=_one(None, "not valid JSON", "ends early")),
    Case("syntax_invalid_utf8", "a Latin-1 e-acute (0xe9) inside drug.inn",
         raw=_replace_once(_INN_LINE, b'"inn": "baclof\xe9n"'),
         expect=_one(f"byte {_INVALID_UTF8_AT}", "found byte 0xe9; expected UTF-8 text")),
    Case("syntax_utf16", "the base saved as UTF-16 (what some Windows editors write)",
         raw=lambda base: base.decode("utf-8").encode("utf-16"),
         expect=_one(None, "found a UTF-16 file (byte-order mark ff fe); expected UTF-8 text")),
    Case("syntax_utf16_no_bom", "the base saved as UTF-16 big-endian without a byte-order mark",
         raw=lambda base: base.decode("utf-8").encode("utf-16-be"),
         expect=_one(None, "found UTF-16 or UTF-32 text without a byte-order mark", "expected UTF-8 text")),
    Case("syntax_huge_int_rank", "a rank of 5,001 digits (Python's int() refuses more than 4,300)",
         raw=_replace_once(b'"rank": 1,', b'"rank": 1' + b"0" * 5000 + b","),
         expect=_one(f"{PI0}.rank", "found an integer of 5,001 digits; expected a number of a sensible size")),
    Case("syntax_huge_int_enrollment", "an enrolment of 10,000 digits",
         raw=_replace_once(b'"enrollment": 41,', b'"enrollment": ' + b"9" * 10_000 + b","),
         expect=_one(f"{PI0}.trials[1].enrollment", "found an integer of 10,000 digits")),
    Case("syntax_nan_score", "NaN as a score (Python's json writes it, JSON does not allow it)",
         raw=_replace_once(b'"score": 0.93', b'"score": NaN'),
         expect=_one(None, "found NaN", "NaN and Infinity are not JSON")),
    Case("syntax_infinity_score", "Infinity as a score",
         raw=_replace_once(b'"score": 0.71', b'"score": Infinity'),
         expect=_one(None, "found Infinity", "NaN and Infinity are not JSON")),
    Case("syntax_duplicate_key", "enrollment written twice in one trial object (the later 0 would win)",
         raw=_replace_once(b'"enrollment": 44,', b'"enrollment": 44,\n          "enrollment": 0,'),
         expect=_one(f"{PI0}.trials[0]", "found the key 'enrollment' twice", "each key once")),
    Case("syntax_top_level_list", "the pack wrapped in a list",
         raw=lambda base: b"[\n" + base + b"]\n",
         expect=_one(None, "found a list; expected a JSON object at the top level")),
    Case("syntax_top_level_string", "a JSON string instead of a pack",
         raw=lambda base: b'"baclofen"\n',
         expect=_one(None, "found 'baclofen'; expected a JSON object at the top level")),

    # wrong types
    Case("type_score_string", "score as a word", patch=(("replace", f"{I0}/score", "high"),),
         expect=_one(f"{PI0}.score", "found 'high'; expected a number")),
    Case("type_score_boolean", "score true (a boolean is not a number)", patch=(("replace", f"{I0}/score", True),),
         expect=_one(f"{PI0}.score", "found true; expected a number")),
    Case("type_rank_string", "rank as a string", patch=(("replace", f"{I0}/rank", "1"),),
         expect=_one(f"{PI0}.rank", "found '1'; expected an integer")),
    Case("type_rank_superscript", "rank written as a superscript two", patch=(("replace", f"{I0}/rank", "\u00b2"),),
         expect=_one(f"{PI0}.rank", "found '\u00b2'; expected an integer")),
    Case("type_enrollment_arabic_indic", "enrolment in Arabic-Indic digits",
         patch=(("replace", f"{T0}/enrollment", "\u0664\u0664"),),
         expect=_one(f"{PI0}.trials[0].enrollment", "expected an integer")),
    Case("type_enrollment_string", "enrollment as a string", patch=(("replace", f"{T0}/enrollment", "44"),),
         expect=_one(f"{PI0}.trials[0].enrollment", "found '44'; expected an integer")),
    Case("type_year_string", "article year as a string (drafter format)", patch=(("replace", f"{A0}/year", "2011"),),
         expect=_one(f"{PI0}.articles[0].year", "found '2011'; expected an integer")),
    Case("type_trials_object", "trials keyed by id instead of a list",
         patch=(("replace", f"{I0}/trials", {"NCT01821560": _FIRST_TRIAL}),),
         expect=_one(f"{PI0}.trials", "found an object; expected a list")),
    Case("type_meta_null", "meta null", patch=(("replace", "/meta", None),),
         expect=_one("meta", "found null; expected an object")),

    # missing required fields
    Case("missing_meta", "no meta section", patch=(("remove", "/meta"),),
         expect=_one("meta", "required field is missing")),
    Case("missing_drug_inn", "drug without its INN", patch=(("remove", "/drug/inn"),),
         expect=_one("drug.inn", "required field is missing")),
    Case("missing_predicted_indications", "no predicted_indications", patch=(("remove", "/predicted_indications"),),
         expect=_one("predicted_indications", "required field is missing")),
    Case("missing_disease_name", "second indication without disease_name",
         patch=(("remove", "/predicted_indications/1/disease_name"),),
         expect=_one("predicted_indications[1].disease_name", "required field is missing")),
    Case("missing_safety_text", "a safety warning without text", patch=(("remove", "/safety/warnings/0/text"),),
         expect=_one("safety.warnings[0].text", "required field is missing")),

    # values out of range or malformed
    Case("range_score_above_one", "score 1.7", patch=(("replace", f"{I0}/score", 1.7),),
         expect=_one(f"{PI0}.score", "found 1.7; expected a number <= 1")),
    Case("range_score_negative", "score -0.2", patch=(("replace", f"{I0}/score", -0.2),),
         expect=_one(f"{PI0}.score", "found -0.2; expected a number >= 0")),
    Case("range_rank_zero", "rank 0 (ranks start at 1)", patch=(("replace", f"{I0}/rank", 0),),
         expect=_one(f"{PI0}.rank", "found 0; expected a number >= 1")),
    Case("range_rank_absurd", "rank 10**50", patch=(("replace", f"{I0}/rank", 10**50),),
         expect=_one(f"{PI0}.rank", "expected a number <= 1000000")),
    Case("range_enrollment_absurd", "enrolment of a billion participants",
         patch=(("replace", f"{T0}/enrollment", 1_000_000_000),),
         expect=_one(f"{PI0}.trials[0].enrollment", "found 1000000000; expected a number <= 100000000")),
    Case("range_pack_id_300_chars", "a 300-character pack id (the report file name would be too long)",
         patch=(("replace", "/meta/pack_id", "p" * 300),),
         expect=_one("meta.pack_id", "expected at most 100 characters")),
    Case("format_pack_id_device_name", "pack id 'NUL.gb' (a device name on Windows)",
         patch=(("replace", "/meta/pack_id", "NUL.gb"),),
         expect=_one("meta.pack_id", "found 'NUL.gb'; expected a pack id usable as a file name")),
    Case("range_disease_name_long", "a disease name of 5,000 characters",
         patch=(("replace", f"{I0}/disease_name", "alcohol " * 625),),
         expect=_one(f"{PI0}.disease_name", "expected at most 1000 characters")),
    Case("range_title_long", "an article title of 1,001 characters",
         patch=(("replace", f"{A0}/title", "t" * 1001),),
         expect=_one(f"{PI0}.articles[0].title", "expected at most 1000 characters")),
    Case("range_year_1700", "article year 1700", patch=(("replace", f"{A0}/year", 1700),),
         expect=_one(f"{PI0}.articles[0].year", "found 1700; expected a number >= 1800")),
    Case("range_enrollment_zero_completed", "enrollment 0 on a completed trial (unknown must be null)",
         patch=(("replace", f"{T0}/enrollment", 0),),
         expect=_one(f"{PI0}.trials[0].enrollment", "found 0; expected null for an unknown enrolment",
                     "only valid for a withdrawn trial")),
    Case("range_predicted_indications_empty", "an empty predicted_indications list",
         patch=(("replace", "/predicted_indications", []),),
         expect=_one("predicted_indications", "expected at least 1 item")),
    Case("range_safety_text_blank", "a safety warning whose text is blanks",
         patch=(("replace", "/safety/warnings/0/text", "   "),),
         expect=_one("safety.warnings[0].text", "found '   '; expected"),
         absent=("expected string should",)),
    Case("enum_phase_7", "phase 'Phase 7'", patch=(("replace", f"{T0}/phase", "Phase 7"),),
         expect=_one(f"{PI0}.trials[0].phase", "found 'Phase 7'; expected a trial phase such as 'Phase 2'")),
    Case("enum_status_unknown_word", "status 'finished-ish'", patch=(("replace", f"{T0}/status", "finished-ish"),),
         expect=_one(f"{PI0}.trials[0].status", "found 'finished-ish'; expected a trial status (", "completed")),
    Case("format_date_feb_30", "start_date 2026-02-30 (no such day)", patch=(("replace", f"{T0}/start_date", "2026-02-30"),),
         expect=_one(f"{PI0}.trials[0].start_date", "found '2026-02-30'; expected a real calendar date")),
    Case("format_date_feb_29_2023", "completion_date 2023-02-29 (2023 is not a leap year)",
         patch=(("replace", f"{T0}/completion_date", "2023-02-29"),),
         expect=_one(f"{PI0}.trials[0].completion_date", "found '2023-02-29'; expected a real calendar date")),
    Case("format_date_month_13", "start_date 2017-13", patch=(("replace", f"{T0}/start_date", "2017-13"),),
         expect=_one(f"{PI0}.trials[0].start_date", "found '2017-13'; expected a date as YYYY, YYYY-MM or YYYY-MM-DD")),
    Case("format_country_uk", "country 'UK' (ISO 3166-1 alpha-2 for the United Kingdom is GB)",
         patch=(("replace", "/jurisdiction/country", "UK"),),
         expect=_one("jurisdiction.country", "found 'UK'", "GB")),
    Case("format_drugbank_id_short", "drugbank_id 'DB1'", patch=(("replace", "/drug/drugbank_id", "DB1"),),
         expect=_one("drug.drugbank_id", "found 'DB1'; expected a DrugBank id such as DB00181")),

    # identifiers
    Case("id_nct_too_short", "registry_id NCT123", patch=(("replace", f"{T0}/registry_id", "NCT123"),),
         expect=_one(f"{PI0}.trials[0].registry_id", "found 'NCT123'; expected NCT followed by 8 digits")),
    Case("id_nct_nine_digits", "registry_id NCT + 9 digits", patch=(("replace", f"{T0}/registry_id", "NCT018215601"),),
         expect=_one(f"{PI0}.trials[0].registry_id", "found 'NCT018215601'; expected NCT followed by 8 digits")),
    Case("id_registry_unknown", "registry_id XYZ123 (no registry writes ids like that)",
         patch=(("replace", f"{T0}/registry_id", "XYZ123"),),
         expect=_one(f"{PI0}.trials[0].registry_id", "found 'XYZ123'; expected a ClinicalTrials.gov id (NCT + 8 digits)",
                     "WHO ICTRP registry id")),
    Case("id_pmid_letters", "pmid 'abc'", patch=(("replace", f"{A0}/pmid", "abc"),),
         expect=_one(f"{PI0}.articles[0].pmid", "found 'abc'; expected a PMID (1-9 digits")),
    Case("id_pmid_zero", "pmid 0", patch=(("replace", f"{A0}/pmid", 0),),
         expect=_one(f"{PI0}.articles[0].pmid", "found 0; expected a PMID (1-9 digits")),
    Case("id_pmid_negative", "pmid -21300040", patch=(("replace", f"{A0}/pmid", -21300040),),
         expect=_one(f"{PI0}.articles[0].pmid", "found -21300040; expected a PMID (1-9 digits")),

    # one record per fact: ids compared after normalisation (Unicode digits, look-alike letters), so
    # differently spelt copies are one record; conflicting copies are errors naming both paths
    Case("dup_trial_id", "the first trial again, spelt 'nct01821560', with another enrolment",
         patch=(("add", f"{I0}/trials/-", {**_FIRST_TRIAL, "registry_id": "nct01821560", "enrollment": 45}),),
         expect=_one(f"{PI0}.trials[2].enrollment", "found 45; expected one record per trial id: NCT01821560 is "
                     f"also at {PI0}.trials[0], whose enrollment is 44")),
    Case("dup_pmid", "the first article again, spelt 'PMID: 21300040', with another year",
         patch=(("add", f"{I0}/articles/-", {**_FIRST_ARTICLE, "pmid": "PMID: 21300040", "year": 2012}),),
         expect=_one(f"{PI0}.articles[1].year", "found 2012; expected one record per PMID: 21300040 is also at "
                     f"{PI0}.articles[0], whose year is 2011")),
    Case("dup_trial_conflict_fullwidth", "the first trial again in full-width digits, with another phase",
         patch=(("add", f"{I0}/trials/-", {**_FIRST_TRIAL, "registry_id": "\uff2e\uff23\uff34\uff10\uff11\uff18\uff12"
                                           "\uff11\uff15\uff16\uff10", "phase": "Phase 3"}),),
         expect=_one(f"{PI0}.trials[2].phase", "found 'phase_3'", "one record per trial id: NCT01821560 is also at "
                     f"{PI0}.trials[0], whose phase is 'phase_2'")),
    Case("dup_trial_conflict_cyrillic", "the first trial in the second indication, 'С' Cyrillic, enrolment 45",
         patch=(("add", "/predicted_indications/1/trials/-",
                 {**_FIRST_TRIAL, "registry_id": "N\u0421T01821560", "enrollment": 45}),),
         expect=_one("predicted_indications[1].trials[0].enrollment", "found 45",
                     f"NCT01821560 is also at {PI0}.trials[0], whose enrollment is 44")),
    Case("dup_pmid_conflict_arabic_indic", "the first article in the second indication, Arabic-Indic digits, year 2012",
         patch=(("add", "/predicted_indications/1/articles/-",
                 {**_FIRST_ARTICLE, "pmid": "\u0662\u0661\u0663\u0660\u0660\u0660\u0664\u0660", "year": 2012}),),
         expect=_one("predicted_indications[1].articles[1].year", "found 2012",
                     f"one record per PMID: 21300040 is also at {PI0}.articles[0], whose year is 2011")),
    Case("dup_pmid_conflict_zero_width", "the first article again with a zero-width space in its PMID and a new title",
         patch=(("add", f"{I0}/articles/-", {**_FIRST_ARTICLE, "pmid": "2130\u200b0040", "title": "Another title"}),),
         expect=_one(f"{PI0}.articles[1].title", "found 'Another title'", f"also at {PI0}.articles[0]")),
    Case("dup_rank", "both indications ranked 1", patch=(("replace", "/predicted_indications/1/rank", 1),),
         expect=_one("predicted_indications[1].rank", "found 1; expected a rank used once",
                     "predicted_indications[0] has it too")),
    Case("dup_safety_key", "a contraindication keyed W1 like the first warning",
         patch=(("replace", "/safety/contraindications/0/key", "W1"),),
         expect=_one("safety.contraindications[0].key", "found 'W1'; expected a safety key used once",
                     "also at safety.warnings[0].key")),

    # JSON paths with unusual keys
    Case("path_key_with_newline", "a disease_ids key containing a newline, with a wrong-typed value",
         patch=(("replace", f"{I0}/disease_ids", {"mondo\nid": 7}),),
         expect=_one(None, f"{PI0}.disease_ids", "found 7; expected a string")),
    Case("path_key_with_bracket", "a disease_ids key containing '[', with a wrong-typed value",
         patch=(("replace", f"{I0}/disease_ids", {"orphanet[1]": 7}),),
         expect=_one(None, f"{PI0}.disease_ids", "orphanet[1]", "found 7; expected a string")),

    # several problems: one line each
    Case("multiple_problems", "three independent mistakes in one pack",
         patch=(("remove", "/drug/inn"), ("replace", f"{I0}/score", "high"),
                ("replace", f"{T0}/registry_id", "NCT123")),
         expect=(Expect("drug.inn", ("required field is missing",)),
                 Expect(f"{PI0}.score", ("found 'high'; expected a number",)),
                 Expect(f"{PI0}.trials[0].registry_id", ("found 'NCT123'; expected NCT followed by 8 digits",)))),

    # warnings: the pack loads, the warning names the path
    Case("warn_identical_trial_copy", "the first trial again, spelt 'nct01821560' (an identical copy)", severity="warning",
         patch=(("add", f"{I0}/trials/-", {**_FIRST_TRIAL, "registry_id": "nct01821560"}),),
         expect=_one(f"{PI0}.trials[2].registry_id", "warning: found 'NCT01821560'",
                     "each trial once per indication (identical to trials[0]; this copy ignored)")),
    Case("warn_identical_pmid_copy", "the first article again, spelt 'PMID: 21300040' (an identical copy)",
         severity="warning",
         patch=(("add", f"{I0}/articles/-", {**_FIRST_ARTICLE, "pmid": "PMID: 21300040"}),),
         expect=_one(f"{PI0}.articles[1].pmid", "warning: found '21300040'",
                     "each article once per indication (identical to articles[0]; this copy ignored)")),
    Case("warn_missing_score", "indication without a model score (score becomes null)", severity="warning",
         patch=(("remove", f"{I0}/score"),),
         expect=_one(f"{PI0}.score", "warning: a model score (none in the pack")),
    Case("warn_newline_in_disease_name", "a line break and a forged heading in a disease name", severity="warning",
         patch=(("replace", f"{I0}/disease_name", "alcohol use disorder\n## Verified"),),
         expect=_one(f"{PI0}.disease_name", "warning: found 'alcohol use disorder\\n## Verified'",
                     "folded to spaces")),
    Case("warn_tab_in_brand_name", "a tab inside a brand name", severity="warning",
         patch=(("replace", "/drug/brand_names/0", "Lio\tresal"),),
         expect=_one("drug.brand_names[0]", "warning: found 'Lio\\tresal'", "one line of text")),
    Case("warn_line_separator_in_interacting", "U+2028 inside an interacting drug", severity="warning",
         patch=(("replace", "/safety/interactions/0/interacting", "CNS\u2028depressants"),),
         expect=_one("safety.interactions[0].interacting", "warning: found", "folded to spaces")),
    Case("warn_unknown_field_top_level", "an unknown top-level section", severity="warning",
         patch=(("add", "/pipeline_extras", {"run_id": "2024-01-15T10:00:00Z"}),),
         expect=_one("pipeline_extras", "warning: unknown field, ignored")),
    Case("warn_unknown_field_in_trial", "an unknown field inside the second trial", severity="warning",
         patch=(("add", "/predicted_indications/0/trials/1/sponsor", "Example University"),),
         expect=_one(f"{PI0}.trials[1].sponsor", "warning: unknown field, ignored")),
    Case("warn_duplicate_of_elsewhere", "duplicate_of names a trial that is not in the indication",
         severity="warning", patch=(("add", f"{T0}/duplicate_of", "NCT99999999"),),
         expect=_one(f"{PI0}.trials[0].duplicate_of", "warning: found 'NCT99999999'",
                     "expected the id of another trial in this indication")),
    Case("warn_score_increases_with_rank", "rank 2 scored above rank 1", severity="warning",
         patch=(("replace", "/predicted_indications/1/score", 0.99),),
         expect=_one("predicted_indications[1].score", "warning: found 0.99",
                     "scores that do not increase with rank (rank 1 has 0.93)")),
)


def expected_files() -> dict[str, bytes]:
    """File name -> the bytes this script writes for it."""
    names = [case.filename for case in CASES]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"case names used twice: {sorted(duplicates)}")
    return {case.filename: case.render() for case in CASES}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, data in expected_files().items():
        path = HERE / name
        if path.exists() and path.read_bytes() == data:
            continue
        if check:
            stale.append(name)
        else:
            path.write_bytes(data)
            print(f"wrote {path}")
    for name in stale:
        print(f"{HERE / name}: stale or missing; run {Path(__file__).name} without --check", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
