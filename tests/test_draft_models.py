"""Draft models: valid for OpenAI strict structured outputs, with a per-pack enum of citable keys."""

import json

import pytest
from pydantic import BaseModel, ValidationError

import drafter
from drafter.drafts import (
    MAX_ENUM_VALUES,
    IndicationSections,
    sections_model_for,
    strict_schema,
    strict_schema_problems,
)
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _key_enum(schema: dict) -> list[str] | None:
    keys = schema["$defs"]["Statement"]["properties"]["keys"]["items"]
    return keys.get("enum")


def test_plain_schema_follows_the_strict_rules():
    assert strict_schema_problems(strict_schema(IndicationSections)) == []


def test_per_pack_schema_enumerates_exactly_the_pack_keys():
    pack = drafter.load_pack(ROOT / "examples/packs/baclofen.json")
    keys = sorted(pack.citable_keys())
    model = sections_model_for(keys)
    schema = strict_schema(model)
    assert strict_schema_problems(schema) == []
    assert _key_enum(schema) == keys
    assert "MOA" in keys and "SAFETY:W1" in keys and "NCT01821560" in keys
    good = {"mechanistic_rationale": {"paragraphs": []},
            "conclusion": {"decision": "Hold", "rationale": [], "next_steps": [
                {"text": "x", "support": "pack", "keys": ["NCT01821560"]}]}}
    model.model_validate(good)
    good["conclusion"]["next_steps"][0]["keys"] = ["PMID:99999999"]
    with pytest.raises(ValidationError):
        model.model_validate(good)  # a key outside the pack cannot even be decoded
    IndicationSections.model_validate(good)  # the plain variant accepts it; the verifier then rejects it


def test_large_packs_fall_back_to_plain_strings():
    keys = [f"PMID:{10_000_000 + i}" for i in range(MAX_ENUM_VALUES + 1)]
    assert sections_model_for(keys) is IndicationSections
    assert sections_model_for(keys[:MAX_ENUM_VALUES]) is not IndicationSections


def test_the_checker_catches_each_documented_violation():
    class Loose(BaseModel):
        name: str = "x"
        count: int

    problems = strict_schema_problems(Loose.model_json_schema())
    assert any("additionalProperties must be false" in p for p in problems)
    assert any("every property must be required; not required: name" in p for p in problems)
    assert any("keyword 'default' is not supported" in p for p in problems)
    assert any("root must be an object" in p for p in strict_schema_problems({"anyOf": [{"type": "object"}]}))
    nested = {"type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}, "required": ["a"],
              "additionalProperties": False}
    assert any("'allOf' is not supported" in p for p in strict_schema_problems(nested))
    big_enum = {"type": "object", "properties": {"k": {"type": "string", "enum": [f"{i:0>80}" for i in range(300)]}},
                "required": ["k"], "additionalProperties": False}
    assert any("at most 15000 characters" in p for p in strict_schema_problems(big_enum))


def test_pydantic_ref_with_description_is_inlined_for_strict_mode():
    raw = IndicationSections.model_json_schema()
    assert any("$ref must stand alone" in p for p in strict_schema_problems(raw))
    assert strict_schema_problems(strict_schema(IndicationSections)) == []


def test_schema_by_substitution_equals_the_model_built_schema():
    """drafting sends report_schema_for (fast); it must be exactly what the per-pack model gives."""
    from drafter.drafting import citable_keys_for, select_indications
    from drafter.drafts import report_model_for, report_schema_for, wire_schema

    packs = sorted((ROOT / "examples" / "packs").glob("*.json"))
    for path in packs:
        pack = drafter.load_pack(path)
        ranks = select_indications(pack)
        keys = citable_keys_for(pack, ranks)
        built = wire_schema(strict_schema(report_model_for(keys, ranks)))
        assert report_schema_for(keys, ranks) == built, path.name
        assert list(report_schema_for(keys, ranks)["$defs"]) == list(built["$defs"])
    over = [f"PMID:{10_000_000 + i}" for i in range(MAX_ENUM_VALUES + 1)]
    keys_schema = report_schema_for(over, [1])["$defs"]["Statement"]["properties"]["keys"]
    assert keys_schema["items"] == {"type": "string"}  # above the enum limit: plain strings


def test_the_wire_schema_has_no_descriptions_but_keeps_every_constraint():
    from drafter.drafts import report_schema_for, wire_schema

    wire = report_schema_for(["PMID:1", "MOA"], [1, 2])
    text = json.dumps(wire)
    assert '"description"' not in text
    documented = strict_schema(IndicationSections)
    assert "description" in json.dumps(documented)  # schemas/ keeps them for people
    stripped = wire_schema(documented)
    assert stripped["$defs"]["Statement"]["properties"]["quotes"]["maxItems"] == documented["$defs"]["Statement"][
        "properties"]["quotes"]["maxItems"]
    assert wire_schema({"properties": {"description": {"type": "string", "description": "x"}}}) == {
        "properties": {"description": {"type": "string"}}}  # a property named 'description' survives


def test_quotes_are_required_in_the_strict_schema_and_bounded():
    """Strict mode: the model must always write quotes ([] for none), at most MAX_QUOTES of them."""
    from drafter.drafts import MAX_QUOTES, report_schema_for

    for schema in (strict_schema(IndicationSections), report_schema_for(["PMID:1", "MOA"], [1, 2])):
        statement = schema["$defs"]["Statement"]
        assert "quotes" in statement["required"]
        assert statement["required"] == list(statement["properties"])
        quotes = statement["properties"]["quotes"]
        assert quotes["maxItems"] == MAX_QUOTES and quotes["items"] == {"type": "string"}
        assert "default" not in quotes
        assert strict_schema_problems(schema) == []


def test_quotes_default_to_empty_for_python_callers_and_reject_a_fourth():
    sections = {"mechanistic_rationale": {"paragraphs": []},
                "conclusion": {"decision": "Hold", "rationale": [], "next_steps": [
                    {"text": "x", "support": "pack", "keys": ["MOA"]}]}}
    parsed = IndicationSections.model_validate(sections)
    assert parsed.conclusion.next_steps[0].quotes == []
    sections["conclusion"]["next_steps"][0]["quotes"] = ["a", "b", "c", "d"]
    with pytest.raises(ValidationError, match="at most 3"):
        IndicationSections.model_validate(sections)
