"""JSON Schemas generated from the pydantic models, so that the files in ``schemas/`` cannot drift.

Other tools (the pipelines that write packs, reviewers reading a draft) read these files; the models
are the source of truth, and a test fails when the committed files and the models disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drafter.drafts import IndicationSections, ReportDraft, strict_schema
from drafter.fsio import write_text_atomic
from drafter.pack.models import EvidencePack

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def evidence_pack_schema() -> dict[str, Any]:
    schema = EvidencePack.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": "evidence_pack.schema.json", **schema}


def draft_schemas() -> dict[str, dict[str, Any]]:
    """The drafted sections: what one drafting call returns (strict-mode form) and a whole report's draft."""
    return {
        "indication_sections.schema.json": {"$schema": SCHEMA_DIALECT, "$id": "indication_sections.schema.json",
                                            **strict_schema(IndicationSections)},
        "report_draft.schema.json": {"$schema": SCHEMA_DIALECT, "$id": "report_draft.schema.json",
                                     **ReportDraft.model_json_schema(mode="validation")},
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every schema drafter publishes."""
    return {"evidence_pack.schema.json": evidence_pack_schema(), **draft_schemas()}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    return [write_text_atomic(directory / name, render(schema)) for name, schema in all_schemas().items()]


def stale_schemas(directory: Path) -> list[str]:
    """Names of the schema files in ``directory`` that differ from what the models generate."""
    stale = []
    for name, schema in all_schemas().items():
        target = directory / name
        if not target.is_file() or target.read_text(encoding="utf-8") != render(schema):
            stale.append(name)
    return stale
