"""Reading packs from disk or memory, with one clear line per problem.

A batch of a thousand packs must not stop on one bad file, and the person fixing that file needs to
know exactly where to look. So every problem becomes a :class:`~drafter.errors.PackProblem` with the
file, the JSON path, what was found and what was expected, and nothing here ever lets a traceback
out for bad input: undecodable bytes, broken JSON, absurd nesting and oversized files included.

What is an error and what is a warning:

* errors (the pack is refused): unreadable file, not UTF-8, not JSON, NaN/Infinity, a repeated key
  in one object, nesting deeper than :data:`MAX_DEPTH`, a file over ``max_bytes``, a top level that
  is not an object, a missing required field, a wrong type, a value out of range, a malformed
  identifier, duplicate trial ids / PMIDs / ranks / safety keys, enrolment 0 for a trial that was not
  withdrawn;
* warnings (the pack is used): an unknown field (a newer tool may have written it), scores that do
  not decrease with rank, a ``duplicate_of`` that names a trial not in the indication, and the
  repairs the TxGNN importer made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from drafter.errors import PackError, PackProblem
from drafter.pack.models import EvidencePack, TrialStatus

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
    raw = _read_bytes(Path(file), max_bytes)
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


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise PackError([PackProblem("", "the file does not exist")], file=str(path)) from None
    except OSError as exc:
        raise PackError([PackProblem("", f"the file cannot be read ({exc.strerror})")], file=str(path)) from None
    if path.is_dir():
        raise PackError([PackProblem("", "a pack file", found="a directory")], file=str(path))
    if size > max_bytes:
        raise PackError(
            [PackProblem("", f"at most {max_bytes / 1048576:.0f} MiB per pack (raise max_bytes if this is intended)",
                         found=f"{size / 1048576:.1f} MiB")],
            file=str(path),
        )
    if size == 0:
        raise PackError([PackProblem("", "a JSON object", found="an empty file")], file=str(path))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PackError([PackProblem("", f"the file cannot be read ({exc.strerror})")], file=str(path)) from None


class _Flagged(dict[str, Any]):
    """A parsed JSON object that repeated one of its keys (located after parsing)."""

    repeated: str = ""


class _NonFinite:
    """Stands in for NaN/Infinity during parsing so the value can be located by its JSON path."""

    def __init__(self, name: str) -> None:
        self.name = name


def _parse_json(raw: bytes, file: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PackError(
            [PackProblem(f"byte {exc.start}", "UTF-8 text", found=f"byte 0x{raw[exc.start]:02x}")], file=file
        ) from None
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

    try:
        obj = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=constant_hook)
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
    pack = validate_pack_object(obj, file=file)
    warnings.extend(unknown_fields(EvidencePack, obj))
    problems = consistency_problems(pack)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PackError(errors + [p for p in problems if p.severity == "warning"] + warnings, file=file)
    warnings.extend(problems)
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


def consistency_problems(pack: EvidencePack) -> list[PackProblem]:
    """Checks that span several items: duplicates, ranks, enrolment, score order."""
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
                problems.append(PackProblem(f"{tpath}.registry_id", f"each trial once per indication (already at "
                                            f"trials[{trial_ids[trial.registry_id]}])", found=repr(trial.registry_id)))
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
                problems.append(PackProblem(f"{base}.articles[{j}].pmid", f"each article once per indication "
                                            f"(already at articles[{pmids[article.pmid]}])", found=repr(article.pmid)))
            else:
                pmids[article.pmid] = j
    ordered = pack.ranked_indications()
    for higher, lower in zip(ordered, ordered[1:], strict=False):
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
