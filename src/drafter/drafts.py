"""The drafted sections, as the model must return them: statements with their support and keys.

A report's prose is the only part a model writes, and the only part the verifier cannot compute. So
the model does not write prose freely: it returns *statements*, each with its text, whether it rests
on the pack or is background knowledge, and the keys of the pack items it rests on. The verifier
then checks each statement on its own.

A statement that reports what a cited item says (a finding, an outcome, a design, a safety fact)
also carries up to three short verbatim ``quotes`` from the cited items' text, which the verifier
finds in that text (:mod:`drafter.verify.quotes`) and the report shows the reader. Statements carry
no identifiers in their text: citations are rendered from ``keys``, so any id-shaped token in a
drafted statement can be treated as an error without asking whether it matches a key.

Two schema variants exist. :class:`IndicationSections` takes keys as plain strings. For a pack
small enough for the provider's enum limits, :func:`sections_model_for` builds a variant whose key
field is an enum of that pack's keys, so a structured citation outside the pack cannot even be
decoded. Both are valid for OpenAI strict structured outputs (:func:`strict_schema_problems`
checks the documented rules).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from drafter.rules import Decision


#: A statement carries at most this many quotes (``maxItems`` in the schema) ...
MAX_QUOTES = 3
#: ... each at most this long. Strict mode has no ``maxLength``, so the verifier checks it (QUOTE_TOO_LONG).
MAX_QUOTE_CHARS = 200
#: Bounds on the answer's shape (``maxItems``), so that no reply can be longer than a report needs:
#: keys per statement, statements per paragraph or list, paragraphs per rationale, indications per draft.
MAX_KEYS = 12
MAX_STATEMENTS = 8
MAX_PARAGRAPHS = 6
MAX_INDICATIONS = 50


class Support(StrEnum):
    PACK = "pack"
    BACKGROUND = "background"


class _DraftModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Statement(_DraftModel):
    # Descriptions are short: the schema goes out with every request (its characters are traffic,
    # ``benchmarks/tokens.py``) and the system prompt states the rules in full.
    text: str = Field(description="One or two plain sentences; no Markdown, no identifiers")
    support: Support = Field(description="'background': general knowledge, no keys, no quotes")
    keys: list[str] = Field(max_length=MAX_KEYS)
    # A default so that Python callers and lenient providers may leave it out (the verifier then
    # reports QUOTE_MISSING where a quote is due); the schema sent to the model still requires it.
    quotes: list[str] = Field(
        default_factory=list, max_length=MAX_QUOTES,
        description=f"Passages of at most {MAX_QUOTE_CHARS} characters copied exactly from the cited items' text",
    )


class Paragraph(_DraftModel):
    statements: list[Statement] = Field(max_length=MAX_STATEMENTS)


class MechanisticRationale(_DraftModel):
    paragraphs: list[Paragraph] = Field(max_length=MAX_PARAGRAPHS)


class Conclusion(_DraftModel):
    decision: Decision = Field(description="Not stronger than the decision ceiling")
    rationale: list[Statement] = Field(max_length=MAX_STATEMENTS)
    next_steps: list[Statement] = Field(max_length=MAX_STATEMENTS)


class IndicationSections(_DraftModel):
    """What one drafting call returns for one predicted indication."""

    mechanistic_rationale: MechanisticRationale
    conclusion: Conclusion

    def statements(self) -> Iterator[tuple[str, Statement]]:
        """(location within the sections, statement) in reading order."""
        for p, paragraph in enumerate(self.mechanistic_rationale.paragraphs):
            for s, statement in enumerate(paragraph.statements):
                yield f"mechanistic_rationale.paragraphs[{p}].statements[{s}]", statement
        for s, statement in enumerate(self.conclusion.rationale):
            yield f"conclusion.rationale[{s}]", statement
        for s, statement in enumerate(self.conclusion.next_steps):
            yield f"conclusion.next_steps[{s}]", statement


class IndicationDraft(_DraftModel):
    rank: int = Field(ge=1, description="The predicted indication's rank in the pack")
    sections: IndicationSections


class ReportDraft(_DraftModel):
    """The drafted sections of one report: one entry per drafted indication."""

    indications: list[IndicationDraft] = Field(max_length=MAX_INDICATIONS)


# --- per-pack enum variant --------------------------------------------------------------------------

# OpenAI documents at most 1,000 enum values per schema (older models refused more than 500) and,
# for a string enum of more than 250 values, at most 15,000 characters in total. Stay under both.
MAX_ENUM_VALUES = 500
MAX_ENUM_CHARS = 15_000


def enum_fits(keys: Sequence[str]) -> bool:
    return 0 < len(keys) <= MAX_ENUM_VALUES and (len(keys) <= 250 or sum(map(len, keys)) <= MAX_ENUM_CHARS)


def sections_model_for(keys: Sequence[str]) -> type[IndicationSections]:
    """The response model for one drafting call: keys as an enum of ``keys`` when that fits, else strings."""
    ordered = sorted(set(keys))
    if not enum_fits(ordered):
        return IndicationSections
    key_type: Any = Literal[tuple(ordered)]  # type: ignore[valid-type]
    statement = create_model(
        "Statement", __base__=Statement,
        keys=(list[key_type], Field(max_length=MAX_KEYS)),
    )
    paragraph = create_model("Paragraph", __base__=Paragraph,
                             statements=(list[statement], Field(max_length=MAX_STATEMENTS)))
    rationale = create_model("MechanisticRationale", __base__=MechanisticRationale,
                             paragraphs=(list[paragraph], Field(max_length=MAX_PARAGRAPHS)))
    conclusion = create_model("Conclusion", __base__=Conclusion,
                              rationale=(list[statement], Field(max_length=MAX_STATEMENTS)),
                              next_steps=(list[statement], Field(max_length=MAX_STATEMENTS)))
    return create_model(  # type: ignore[no-any-return]
        "IndicationSections", __base__=IndicationSections,
        mechanistic_rationale=(rationale, ...), conclusion=(conclusion, ...),
    )


def report_model_for(keys: Sequence[str], ranks: Sequence[int]) -> type[ReportDraft]:
    """The response model of one drafting call: the ranks drafted, and keys as an enum where it fits."""
    sections = sections_model_for(keys)
    rank_type: Any = Literal[tuple(sorted(set(ranks)))]  # type: ignore[valid-type]
    indication = create_model(
        "IndicationDraft", __base__=IndicationDraft,
        rank=(rank_type, Field(description=RANK_DESCRIPTION)),
        sections=(sections, ...),
    )
    return create_model("ReportDraft", __base__=ReportDraft,  # type: ignore[no-any-return]
                        indications=(list[indication], Field(max_length=MAX_INDICATIONS)))


RANK_DESCRIPTION = "The indication's rank"


@lru_cache(maxsize=1)
def _generic_report_schema() -> str:
    return json.dumps(wire_schema(strict_schema(report_model_for(["PMID:1", "PMID:2"], [1, 2]))))


def wire_schema(schema: Any) -> Any:
    """``schema`` without its descriptions: the form sent with every drafting call.

    Strict structured outputs send the schema with each request, so it is traffic (about 3 kB a call).
    Every rule a description states is also a numbered rule of the system prompt, which the model
    reads once and a provider can cache; the descriptions stay in ``schemas/`` for people.
    """
    if isinstance(schema, dict):
        return {k: (({name: wire_schema(sub) for name, sub in v.items()} if k == "properties" and isinstance(v, dict)
                     else wire_schema(v)))
                for k, v in schema.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(schema, list):
        return [wire_schema(item) for item in schema]
    return schema


def report_schema_for(keys: Sequence[str], ranks: Sequence[int]) -> dict[str, Any]:
    """The strict schema of :func:`report_model_for` without building a model per pack.

    Building a pydantic model for every pack dominated a batch's CPU time. The schema only differs
    between packs in two enums (the citable keys, the ranks), so they are put into one cached schema;
    a test checks that the result equals the model-built schema exactly (cassettes match on it).
    """
    schema: dict[str, Any] = json.loads(_generic_report_schema())
    defs = schema["$defs"]
    ordered = sorted(set(keys))
    key_items: dict[str, Any] = {"enum": ordered, "type": "string"} if enum_fits(ordered) else {"type": "string"}
    defs["Statement"]["properties"]["keys"]["items"] = key_items
    rank_values = sorted(set(ranks))
    defs["IndicationDraft"]["properties"]["rank"] = (
        {"const": rank_values[0], "type": "integer"} if len(rank_values) == 1
        else {"enum": rank_values, "type": "integer"})
    return schema


# --- OpenAI strict-mode schema rules ----------------------------------------------------------------

_SUPPORTED = {
    "common": {"type", "description", "enum", "const", "anyOf", "$ref", "$defs", "title"},
    "string": {"pattern", "format"},
    "number": {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"},
    "integer": {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"},
    "array": {"items", "minItems", "maxItems"},
    "object": {"properties", "required", "additionalProperties"},
}
MAX_OBJECT_PROPERTIES = 5000
MAX_NESTING = 10


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a draft model in the form strict structured outputs accept.

    pydantic already emits ``additionalProperties: false`` (``extra="forbid"``) and lists every
    field without a default in ``required``. Strict mode wants every property required and knows no
    ``default``, so a field with a default (``Statement.quotes``, defaulted only for Python callers)
    is made required and its default dropped: the model must always write it, ``[]`` for none.
    Titles are dropped: they cost tokens and tell the model nothing the property names do not. A
    ``$ref`` with sibling keywords (pydantic puts a field's description beside the reference) is
    inlined, because strict mode wants a reference to stand alone.
    """
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    tidy: dict[str, Any] = _tidy(schema, defs)
    if "$defs" in tidy:  # definitions inlined everywhere they were used are dead weight on the wire
        text = json.dumps({k: v for k, v in tidy.items() if k != "$defs"}) + json.dumps(tidy["$defs"])
        tidy["$defs"] = {name: d for name, d in tidy["$defs"].items() if f'"#/$defs/{name}"' in text}
    return tidy


def _tidy(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node and len(node) > 1:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings}
        tidy = {k: _tidy(v, defs) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
        properties = tidy.get("properties")
        if tidy.get("type") == "object" and isinstance(properties, dict):
            tidy["properties"] = {name: {k: v for k, v in sub.items() if k != "default"}
                                  for name, sub in properties.items()}
            tidy["required"] = list(properties)
        return tidy
    if isinstance(node, list):
        return [_tidy(v, defs) for v in node]
    return node


def strict_schema_problems(schema: dict[str, Any]) -> list[str]:
    """Every way ``schema`` breaks the documented rules of OpenAI strict structured outputs."""
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("$: the root must be an object, not anyOf")
    counters = {"properties": 0, "enum_values": 0, "chars": 0}

    def walk(node: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node and len(node) > 1:
            problems.append(f"{path}: a $ref must stand alone, found beside {sorted(set(node) - {'$ref'})}")
        kind = node.get("type")
        allowed = set(_SUPPORTED["common"])
        kinds = kind if isinstance(kind, list) else [kind]
        for k in kinds:
            allowed |= _SUPPORTED.get(str(k), set())
        for keyword in node:
            if keyword not in allowed:
                problems.append(f"{path}: keyword {keyword!r} is not supported in strict mode")
        if "enum" in node:
            values = node["enum"]
            counters["enum_values"] += len(values)
            counters["chars"] += sum(len(str(v)) for v in values)
            if len(values) > 250 and sum(len(str(v)) for v in values) > MAX_ENUM_CHARS:
                problems.append(f"{path}: an enum of more than 250 values may total at most {MAX_ENUM_CHARS} characters")
        if "object" in kinds:
            depth += 1
            if depth > MAX_NESTING:
                problems.append(f"{path}: more than {MAX_NESTING} levels of object nesting")
            properties = node.get("properties", {})
            counters["properties"] += len(properties)
            counters["chars"] += sum(len(name) for name in properties)
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties must be false")
            missing = sorted(set(properties) - set(node.get("required", [])))
            if missing:
                problems.append(f"{path}: every property must be required; not required: {', '.join(missing)}")
            for name, sub in properties.items():
                walk(sub, f"{path}.properties.{name}", depth)
        if "items" in node:
            walk(node["items"], f"{path}.items", depth)
        for i, sub in enumerate(node.get("anyOf", [])):
            walk(sub, f"{path}.anyOf[{i}]", depth)
        for name, sub in node.get("$defs", {}).items():
            counters["chars"] += len(name)
            walk(sub, f"$defs.{name}", 0)

    walk(schema, "$", 0)
    if counters["properties"] > MAX_OBJECT_PROPERTIES:
        problems.append(f"$: more than {MAX_OBJECT_PROPERTIES} object properties")
    if counters["enum_values"] > 1000:
        problems.append("$: more than 1000 enum values in total")
    if counters["chars"] > 120_000:
        problems.append("$: more than 120,000 characters of property names, definition names and enum values")
    return problems
