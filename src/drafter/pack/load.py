"""Reading packs from disk or memory, with one clear line per problem.

A batch of a thousand packs must not stop on one bad file, and the person fixing that file needs to
know exactly where to look. So every problem becomes a :class:`~drafter.errors.PackProblem` with the
file, the JSON path, what was found and what was expected, and nothing here ever lets a traceback
out for bad input: undecodable bytes, broken JSON, absurd nesting and oversized files included.

What is an error and what is a warning:

* errors (the pack is refused): unreadable file, not a regular file (directory, FIFO, device,
  /proc or /sys pseudo-file), not UTF-8 (UTF-16/32 named as such), not JSON, NaN/Infinity, an
  integer of more than 4,300 digits, a repeated key in one object, nesting deeper than
  :data:`MAX_DEPTH`, a file over ``max_bytes`` (enforced while reading), a top level that is not an
  object, a missing required field, a wrong type, a value out of range or over its length limit, a
  malformed identifier, an impossible date, two copies of one trial id / PMID with different facts
  (both paths named), duplicate ranks / safety keys, enrolment 0 for a trial that was not withdrawn;
* warnings (the pack is used): an unknown field (a newer tool may have written it), a control
  character folded out of a single-line field, an identical copy of a record in one indication
  (dropped), an indication without a model score, scores that do not decrease with rank, a
  ``duplicate_of`` that names a trial not in the indication, and the repairs the TxGNN importer made.

:func:`read_input_text` is the bounded reader every command uses for a user's file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from drafter.errors import PackError, PackProblem
from drafter.pack.models import CONTROL_CHARS, Article, EvidencePack, SingleLine, Trial, TrialStatus

MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

SourceFormat = Literal["drafter", "txgnn-v4"]
PackSource = str | os.PathLike[str] | Mapping[str, Any]


@dataclass(frozen=True)
class LoadedPack:
    """A validated pack with what the loader learned on the way."""

    pack: EvidencePack
    source_format: SourceFormat
    warnings: list[PackProblem] = field(default_factory=list)
    file: str | None = None
    sha256: str | None = None


def load_pack(source: PackSource, *, max_bytes: int = DEFAULT_MAX_BYTES) -> EvidencePack:
    """Load and validate a pack (drafter's format or the TxGNN pipelines', detected).

    Raises :class:`~drafter.errors.PackError` listing every problem. Use :func:`read_pack` to get the
    warnings and the detected format too.
    """
    return read_pack(source, max_bytes=max_bytes).pack


def read_pack(source: PackSource, *, max_bytes: int = DEFAULT_MAX_BYTES, country: str | None = None) -> LoadedPack:
    """Like :func:`load_pack`, returning the warnings, the detected format and the file's sha256.

    ``country`` only applies to TxGNN packs, whose candidate-id prefix is not always the country.
    """
    if isinstance(source, Mapping):
        return _from_object(dict(source), file=None, sha256=None, country=country)
    file = os.fspath(source)
    raw = read_input_bytes(file, limit_bytes=max_bytes, what="a pack file", empty="a JSON object")
    obj = _parse_json(raw, file)
    return _from_object(obj, file=file, sha256=hashlib.sha256(raw).hexdigest(), country=country)


def detect_format(obj: Mapping[str, Any]) -> SourceFormat:
    """Tell drafter's own packs from the TxGNN pipelines' "v4" packs by their distinctive fields."""
    meta = obj.get("meta")
    if isinstance(meta, Mapping) and "schema_version" in meta:
        return "drafter"
    if "taiwan_regulatory" in obj:
        return "txgnn-v4"
    if isinstance(meta, Mapping) and ("candidate_id" in meta or str(meta.get("version", "")).startswith("v")):
        return "txgnn-v4"
    indications = obj.get("predicted_indications")
    if isinstance(indications, list) and indications and isinstance(indications[0], Mapping):
        if "txgnn" in indications[0] or "evidence" in indications[0]:
            return "txgnn-v4"
    return "drafter"


# --- bytes and JSON ---------------------------------------------------------------------------------


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), which could be read forever"
    if stat.S_ISCHR(mode):
        return "a character device (such as /dev/zero), which could be read forever"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


_PSEUDO_FILE_SYSTEMS = ("/proc/", "/sys/")  # devices under /dev are caught by their mode


def read_input_bytes(path: str | os.PathLike[str], *, limit_bytes: int, what: str, empty: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit_bytes``, or a one-line :class:`PackError`.

    Why not ``Path.read_bytes()``: a FIFO, ``/dev/zero`` or a ``/proc`` file reports a size of 0 and
    then never ends (or ends with something that is not what the user meant), so the kind of file is
    checked first and the limit is enforced *while* reading, whatever the file claims its size is.
    ``what`` names what the file should have been ("a pack file", "a report file") in the message;
    ``empty`` is what to say is expected when the file is empty (default: ``what``).
    """
    name = os.fspath(path)
    noun = what.removeprefix("a ").removeprefix("an ").removesuffix(" file") or "file"

    def refuse(expected: str, found: str | None = None) -> PackError:
        return PackError([PackProblem("", expected, found=found)], file=name)

    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise refuse("the file does not exist") from None
    except OSError as exc:
        raise refuse(f"the file cannot be read ({exc.strerror})") from None
    kind = _file_kind(info.st_mode)
    if kind is not None:
        raise refuse(what, found=kind)
    real = os.path.realpath(name)
    if real.startswith(_PSEUDO_FILE_SYSTEMS):
        raise refuse(what, found=f"a kernel pseudo-file under /{real.split('/')[1]} ({real})")
    if info.st_size > limit_bytes:
        raise refuse(f"at most {_mib(limit_bytes)} MiB per {noun} (raise max_bytes if this is intended)",
                     found=f"{info.st_size / 1048576:.1f} MiB")
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, open() does not hang.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise refuse(f"the file cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        kind = _file_kind(os.fstat(handle.fileno()).st_mode)
        if kind is not None:
            raise refuse(what, found=kind)
        chunks: list[bytes] = []
        total = 0
        try:
            while chunk := handle.read(min(1 << 20, limit_bytes + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > limit_bytes:
                    raise refuse(f"at most {_mib(limit_bytes)} MiB per {noun} (raise max_bytes if this is intended)",
                                 found=f"more than {_mib(limit_bytes)} MiB")
        except OSError as exc:
            raise refuse(f"the file cannot be read ({exc.strerror})") from None
    raw = b"".join(chunks)
    if not raw:
        raise refuse(empty or what, found="an empty file")
    return raw


def _mib(limit: int) -> str:
    value = limit / 1048576
    return f"{value:.0f}" if value >= 1 and value == int(value) else f"{value:.2g}"


_UTF_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
             (codecs.BOM_UTF16_BE, "UTF-16"))


def decode_input_text(raw: bytes, file: str) -> str:
    """UTF-8 text (a UTF-8 BOM is dropped); UTF-16/32 and other bytes get an error that says what they are."""
    for bom, encoding in _UTF_BOMS:
        if raw.startswith(bom):
            raise PackError([PackProblem("", "UTF-8 text (save the file as UTF-8)",
                                         found=f"a {encoding} file (byte-order mark {bom.hex(' ')})")], file=file)
    head = raw[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        raise PackError([PackProblem("", "UTF-8 text (save the file as UTF-8)",
                                     found="UTF-16 or UTF-32 text without a byte-order mark (NUL bytes between "
                                           "characters)")], file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PackError(
            [PackProblem(f"byte {exc.start}", "UTF-8 text", found=f"byte 0x{raw[exc.start]:02x}")], file=file
        ) from None


def read_input_text(path: str | os.PathLike[str], *, limit_bytes: int = DEFAULT_MAX_BYTES, what: str) -> str:
    """The UTF-8 text of a regular file of at most ``limit_bytes``; anything else is a one-line PackError.

    For every file drafter reads from a user (packs, reports to verify): see :func:`read_input_bytes`
    for the file checks and :func:`decode_input_text` for the encoding checks.
    """
    name = os.fspath(path)
    return decode_input_text(read_input_bytes(name, limit_bytes=limit_bytes, what=what), name)


class _Flagged(dict[str, Any]):
    """A parsed JSON object that repeated one of its keys (located after parsing)."""

    repeated: str = ""


class _NonFinite:
    """Stands in for NaN/Infinity during parsing so the value can be located by its JSON path."""

    def __init__(self, name: str) -> None:
        self.name = name


class _HugeInt:
    """Stands in for an integer too long for Python's int() (over 4,300 digits) so it can be located."""

    def __init__(self, digits: str) -> None:
        self.digits = len(digits.lstrip("-"))


_MAX_INT_DIGITS = 4300


def _parse_json(raw: bytes, file: str) -> Any:
    text = decode_input_text(raw, file)
    if not text.strip():
        raise PackError([PackProblem("", "a JSON object", found="only whitespace")], file=file)
    suspicious: list[bool] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        flagged = _Flagged(obj)
        seen: set[str] = set()
        flagged.repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        suspicious.append(True)
        return flagged

    def constant_hook(name: str) -> _NonFinite:
        suspicious.append(True)
        return _NonFinite(name)

    def int_hook(digits: str) -> int | _HugeInt:
        if len(digits) <= _MAX_INT_DIGITS:
            return int(digits)
        suspicious.append(True)
        return _HugeInt(digits)

    try:
        obj = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=constant_hook, parse_int=int_hook)
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = "the file ends early (truncated?)" if ends_early else exc.msg
        raise PackError(
            [PackProblem(f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {hint}")], file=file
        ) from None
    except RecursionError:
        raise PackError([PackProblem("", f"nesting of at most {MAX_DEPTH} levels", found="nesting too deep to read")],
                        file=file) from None
    if suspicious:
        problems = list(_suspicious_values(obj))
        if problems:
            raise PackError(problems, file=file)
    return obj


def _suspicious_values(obj: Any, path: str = "", depth: int = 0) -> Iterator[PackProblem]:
    """Repeated keys and NaN/Infinity, located by JSON path (only walked when the parser saw one)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(obj, _NonFinite):
        yield PackProblem(path, "a finite number (NaN and Infinity are not JSON)", found=obj.name)
    elif isinstance(obj, _HugeInt):
        yield PackProblem(path, "a number of a sensible size", found=f"an integer of {obj.digits:,} digits")
    elif isinstance(obj, dict):
        if isinstance(obj, _Flagged):
            yield PackProblem(path, "each key once per object (the later value would silently win)",
                              found=f"the key {obj.repeated!r} twice")
        for key, value in obj.items():
            yield from _suspicious_values(value, _join(path, key), depth + 1)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _suspicious_values(value, f"{path}[{i}]", depth + 1)


def _too_deep(obj: Any) -> str | None:
    """The JSON path of the first value nested deeper than MAX_DEPTH, or None."""
    stack: list[tuple[Any, str, int]] = [(obj, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack.extend((v, _join(path, k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
    return None


# --- validation -------------------------------------------------------------------------------------


def _from_object(obj: Any, *, file: str | None, sha256: str | None, country: str | None = None) -> LoadedPack:
    if not isinstance(obj, dict):
        raise PackError([PackProblem("", "a JSON object at the top level", found=_describe(obj))], file=file)
    deep = _too_deep(obj)
    if deep is not None:
        raise PackError([PackProblem(deep, f"nesting of at most {MAX_DEPTH} levels", found="deeper nesting")], file=file)
    source_format = detect_format(obj)
    warnings: list[PackProblem] = []
    if source_format == "txgnn-v4":
        from drafter.pack.txgnn import import_txgnn

        # The importer runs the consistency checks itself and reports them at TxGNN paths.
        pack, import_warnings = import_txgnn(obj, file=file, country=country)
        return LoadedPack(pack=pack, source_format=source_format, warnings=[w.located(file) for w in import_warnings],
                          file=file, sha256=sha256)
    obj, folded = fold_single_line_fields(EvidencePack, obj)
    pack = validate_pack_object(obj, file=file)
    warnings.extend(unknown_fields(EvidencePack, obj))
    warnings.extend(folded)
    problems = consistency_problems(pack)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PackError(errors + [p for p in problems if p.severity == "warning"] + warnings, file=file)
    warnings.extend(problems)
    drop_identical_copies(pack)
    return LoadedPack(
        pack=pack,
        source_format=source_format,
        warnings=[w.located(file) for w in warnings],
        file=file,
        sha256=sha256,
    )


def validate_pack_object(obj: Mapping[str, Any], *, file: str | None = None) -> EvidencePack:
    """Validate drafter-format data, turning pydantic's errors into located one-line problems."""
    try:
        return EvidencePack.model_validate(obj)
    except ValidationError as exc:
        raise PackError(validation_problems(exc), file=file) from None


def validation_problems(exc: ValidationError) -> list[PackProblem]:
    """pydantic's errors as located one-line problems (used for packs and for drafts alike)."""
    return [_problem_from_pydantic(err) for err in exc.errors(include_url=False)]


def _problem_from_pydantic(err: ErrorDetails) -> PackProblem:
    path = _loc_to_path(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return PackProblem(path, "required field is missing")
    expected = _EXPECTED.get(kind)
    if expected is None:
        if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
            op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
            bound = next(iter(ctx.values()), "?")
            expected = f"a number {op} {bound}"
        elif kind == "enum":
            expected = f"one of {ctx.get('expected', '')}"
        elif kind == "string_too_long":
            expected = f"at most {ctx.get('max_length', '?')} characters"
            value = err.get("input")
            found = f"{len(value):,} characters" if isinstance(value, str) else _describe(value)
            return PackProblem(path, expected, found=found)
        elif kind == "string_pattern_mismatch":
            expected = f"text matching {ctx.get('pattern', '')}"
        elif kind == "too_short":
            if isinstance(err.get("input"), list) and not err.get("input"):
                return PackProblem(path, f"at least {ctx.get('min_length', 1)} item(s)", found="an empty list")
            expected = f"at least {ctx.get('min_length', 1)} item(s)"
        elif kind == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
            found_split = message.split(", found ", 1)
            if len(found_split) == 2:
                return PackProblem(path, found_split[0].removeprefix("expected "), found=found_split[1])
            expected = message.removeprefix("expected ")
        else:
            expected = str(err["msg"]).lower()
    return PackProblem(path, expected, found=_describe(err.get("input")))


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "date_type": "a date as YYYY-MM-DD",
    "date_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "a date as YYYY-MM-DD",
    "finite_number": "a finite number",
    "string_too_short": "a non-empty string",
}


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith(("function-", "constrained-")):
            continue  # pydantic's names for validator wrappers are not JSON keys
        else:
            path = _join(path, str(part))
    return path


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _join(path: str, key: str) -> str:
    """Append a key to a JSON path; unusual keys are quoted so the path stays one unambiguous line."""
    if not _PLAIN_KEY.match(key):
        return f"{path}[{json.dumps(key, ensure_ascii=True)}]"
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 200:
        # repr() of an int over 4,300 digits raises; nobody wants 4,000 digits in an error line anyway
        digits = f"{len(str(value)):,}" if value.bit_length() < 14_000 else "more than 4,000"
        return f"an integer of {digits} digits"
    if isinstance(value, str) and len(value) > 200:
        value = value[:200]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- unknown fields ---------------------------------------------------------------------------------


def unknown_fields(model: type[BaseModel], data: Any, path: str = "") -> list[PackProblem]:
    """Warnings for keys the models do not know, with their JSON paths (they are ignored on load)."""
    problems: list[PackProblem] = []
    if not isinstance(data, Mapping):
        return problems
    known = _field_models(model)
    for key, value in data.items():
        if key not in known:
            problems.append(PackProblem(_join(path, key), "unknown field, ignored", severity="warning"))
            continue
        sub_model = known[key]
        if sub_model is None:
            continue
        sub_path = _join(path, key)
        if isinstance(value, list):
            for i, item in enumerate(value):
                problems.extend(unknown_fields(sub_model, item, f"{sub_path}[{i}]"))
        else:
            problems.extend(unknown_fields(sub_model, value, sub_path))
    return problems


@lru_cache(maxsize=None)
def _field_models(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Field name (and alias) -> the nested model inside its annotation, if any."""
    out: dict[str, type[BaseModel] | None] = {}
    for name, info in model.model_fields.items():
        nested = next(_models_in(info.annotation), None)
        out[name] = nested
        if info.alias:
            out[info.alias] = nested
    return out


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models_in(typing.get_args(annotation)[0])
    elif origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


# --- cross-field consistency ------------------------------------------------------------------------


def consistency_problems(pack: EvidencePack, *, lenient: bool = False) -> list[PackProblem]:
    """Checks that span several items: duplicates, one record per id, ranks, enrolment, scores."""
    problems: list[PackProblem] = []
    ranks: dict[int, int] = {}
    for i, indication in enumerate(pack.predicted_indications):
        base = f"predicted_indications[{i}]"
        if indication.rank in ranks:
            problems.append(PackProblem(f"{base}.rank", f"a rank used once (predicted_indications[{ranks[indication.rank]}] "
                                        "has it too)", found=str(indication.rank)))
        else:
            ranks[indication.rank] = i
        trial_ids: dict[str, int] = {}
        for j, trial in enumerate(indication.trials):
            tpath = f"{base}.trials[{j}]"
            if trial.registry_id in trial_ids:
                if _first_difference(indication.trials[trial_ids[trial.registry_id]], trial) is None:
                    problems.append(PackProblem(f"{tpath}.registry_id", f"each trial once per indication (identical "
                                                f"to trials[{trial_ids[trial.registry_id]}]; this copy ignored)",
                                                found=repr(trial.registry_id), severity="warning"))
            else:
                trial_ids[trial.registry_id] = j
            if trial.enrollment == 0 and trial.status is not TrialStatus.WITHDRAWN:
                problems.append(PackProblem(f"{tpath}.enrollment", "null for an unknown enrolment (0 is only "
                                            "valid for a withdrawn trial)", found="0"))
        for j, trial in enumerate(indication.trials):
            if trial.duplicate_of is not None and trial.duplicate_of not in trial_ids:
                problems.append(PackProblem(f"{base}.trials[{j}].duplicate_of", "the id of another trial in this "
                                            "indication", found=repr(trial.duplicate_of), severity="warning"))
        pmids: dict[str, int] = {}
        for j, article in enumerate(indication.articles):
            if article.pmid in pmids:
                if _first_difference(indication.articles[pmids[article.pmid]], article) is None:
                    problems.append(PackProblem(f"{base}.articles[{j}].pmid", f"each article once per indication "
                                                f"(identical to articles[{pmids[article.pmid]}]; this copy ignored)",
                                                found=repr(article.pmid), severity="warning"))
            else:
                pmids[article.pmid] = j
    problems.extend(record_conflicts(pack, lenient=lenient))
    for i, indication in enumerate(pack.predicted_indications):
        if indication.score is None:
            problems.append(PackProblem(f"predicted_indications[{i}].score", "a model score (none in the pack: "
                                        "reports say the score is not in the pack)", severity="warning"))
    ordered = [ind for ind in pack.ranked_indications() if ind.score is not None]
    for higher, lower in zip(ordered, ordered[1:], strict=False):
        assert higher.score is not None and lower.score is not None
        if lower.score > higher.score:
            index = pack.predicted_indications.index(lower)
            problems.append(PackProblem(
                f"predicted_indications[{index}].score",
                f"scores that do not increase with rank (rank {higher.rank} has {higher.score})",
                found=str(lower.score), severity="warning"))
            break
    if pack.safety is not None:
        seen: dict[str, str] = {}
        for section, items in ((s, getattr(pack.safety, s)) for s in type(pack.safety).model_fields):
            for j, item in enumerate(items):
                where = f"safety.{section}[{j}].key"
                if item.key in seen:
                    problems.append(PackProblem(where, f"a safety key used once (also at {seen[item.key]})",
                                                found=repr(item.key)))
                else:
                    seen[item.key] = where
    return problems


# --- single-line fields -----------------------------------------------------------------------------


def fold_single_line_fields(model: type[BaseModel], data: Any, path: str = "") -> tuple[Any, list[PackProblem]]:
    """``data`` with control characters in single-line fields folded to one space, and a warning per field.

    Policy (why fold rather than refuse): a tab or a line break in a drug or disease name is almost
    always an artefact of copying from a PDF or a spreadsheet, and refusing it would stop a batch over
    nothing; but a line break carried into a report forges a heading or a table row, so it never
    survives loading. Which fields are single-line is read from the models (the :class:`SingleLine`
    marker). ``data`` is not modified: changed containers are copied.
    """
    if not isinstance(data, Mapping):
        return data, []
    fields = _single_line_fields(model)
    nested = _field_models(model)
    out: dict[str, Any] | None = None
    problems: list[PackProblem] = []
    for key, value in data.items():
        sub_path = _join(path, key)
        new = value
        if key in fields:
            new, more = _fold_value(value, sub_path)
            problems.extend(more)
        elif nested.get(key) is not None:
            sub_model = nested[key]
            assert sub_model is not None
            if isinstance(value, list):
                items = []
                for i, item in enumerate(value):
                    folded, more = fold_single_line_fields(sub_model, item, f"{sub_path}[{i}]")
                    items.append(folded)
                    problems.extend(more)
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    new = items
            else:
                new, more = fold_single_line_fields(sub_model, value, sub_path)
                problems.extend(more)
        if new is not value:
            if out is None:
                out = dict(data)
            out[key] = new
    return (data if out is None else out), problems


def _fold_value(value: Any, path: str) -> tuple[Any, list[PackProblem]]:
    if isinstance(value, str):
        if not CONTROL_CHARS.search(value):
            return value, []
        folded = CONTROL_CHARS.sub(" ", value).strip()
        return folded, [PackProblem(path, "one line of text (line breaks and control characters folded to "
                                          "spaces)", found=_describe(value), severity="warning")]
    if isinstance(value, list):
        problems: list[PackProblem] = []
        items = []
        for i, item in enumerate(value):
            folded, more = _fold_value(item, f"{path}[{i}]") if isinstance(item, str) else (item, [])
            items.append(folded)
            problems.extend(more)
        return (items if problems else value), problems
    return value, []


@lru_cache(maxsize=None)
def _single_line_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names (and aliases) of the fields whose text, or whose list items, are marked SingleLine."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        if any(isinstance(m, SingleLine) for m in info.metadata) or _has_single_line(info.annotation):
            names.add(name)
            if info.alias:
                names.add(info.alias)
    return frozenset(names)


def _has_single_line(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        if any(isinstance(m, SingleLine) for m in typing.get_args(annotation)[1:]):
            return True
    return any(_has_single_line(arg) for arg in typing.get_args(annotation))


# --- one record per fact ----------------------------------------------------------------------------


_GAPS = (None, "", [], {}, "unknown")
# The facts a report states about a record and the verifier checks (phase, status, enrolment, year,
# study design); the other fields (titles, summaries, authors) are descriptive.
_FACTS = {Trial: frozenset({"registry_id", "phase", "status", "study_type", "enrollment", "start_date",
                            "completion_date", "duplicate_of"}),
          Article: frozenset({"pmid", "year", "study_type"})}


def _first_difference(a: BaseModel, b: BaseModel, *, lenient: bool = False) -> tuple[str, Any, Any] | None:
    """(field, value in a, value in b) of the first field where two records differ, or None if identical.

    ``lenient`` (the TxGNN importer): a field that one copy leaves empty (null, "", [], "unknown") is
    no conflict, because their sources repeat records with fields missing.
    """
    left, right = a.model_dump(mode="json"), b.model_dump(mode="json")
    for name in left:
        if left[name] != right.get(name):
            if lenient and (left[name] in _GAPS or right.get(name) in _GAPS):
                continue
            return name, left[name], right.get(name)
    return None


def record_conflicts(pack: EvidencePack, *, lenient: bool = False) -> list[PackProblem]:
    """Errors for every trial id or PMID held twice with different facts, naming both JSON paths.

    Ids are compared after normalisation (which folds Unicode digits and look-alike letters), so
    ``NCT01821560`` and ``ＮＣＴ０１８２１５６０`` are one trial. The first copy in pack order is the
    reference; each later copy that differs gets one problem at the first differing field. Identical
    copies are fine: the same trial may support two indications. In drafter's own format any
    difference is an error. ``lenient`` (the TxGNN importer, whose titles and summaries are written
    per indication by their LLM): gaps are no conflict, and a difference outside the facts a report
    states (phase, status, enrolment, dates, year, study type) is a warning, each copy kept as written.
    """
    problems: list[PackProblem] = []
    first: dict[str, tuple[str, Trial | Article]] = {}
    for i, indication in enumerate(pack.predicted_indications):
        base = f"predicted_indications[{i}]"
        records: list[tuple[str, str, Trial | Article, str]] = [
            *((t.registry_id, f"{base}.trials[{j}]", t, "trial id") for j, t in enumerate(indication.trials)),
            *((a.key, f"{base}.articles[{j}]", a, "PMID") for j, a in enumerate(indication.articles)),
        ]
        for key, where, record, label in records:
            if key not in first:
                first[key] = (where, record)
                continue
            other_where, other = first[key]
            diff = _first_difference(other, record, lenient=lenient)
            if diff is None:
                continue
            name, theirs, ours = diff
            if lenient and name not in _FACTS[type(record)]:
                problems.append(PackProblem(
                    f"{where}.{name}", f"the same {name} as the other copy of {key.removeprefix('PMID:')} at "
                    f"{other_where} (each copy kept as written)", found=_describe(ours), severity="warning"))
                continue
            problems.append(PackProblem(
                f"{where}.{name}",
                f"one record per {label}: {key.removeprefix('PMID:')} is also at {other_where}, whose {name} is "
                f"{_describe(theirs)} (make the copies identical, or keep one)",
                found=_describe(ours)))
    return problems


def drop_identical_copies(pack: EvidencePack) -> None:
    """Remove later identical copies of a trial or article within one indication (the loader warned)."""
    for indication in pack.predicted_indications:
        seen: set[str] = set()
        indication.trials = [t for t in indication.trials if not (t.registry_id in seen or seen.add(t.registry_id))]
        seen = set()
        indication.articles = [a for a in indication.articles if not (a.pmid in seen or seen.add(a.pmid))]
