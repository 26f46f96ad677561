"""The committed JSON Schemas must be exactly what the models generate."""

import json
from pathlib import Path

from drafter.cli import main
from drafter.schemas import all_schemas, render, stale_schemas

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_committed_schemas_match_the_models():
    stale = stale_schemas(SCHEMAS)
    assert stale == [], f"run 'drafter schema' to regenerate: {stale}"


def test_check_mode_detects_drift(tmp_path, capsys):
    for name, schema in all_schemas().items():
        drifted = dict(schema, title="edited by hand")
        (tmp_path / name).write_text(render(drifted), encoding="utf-8")
    assert main(["schema", "--out-dir", str(tmp_path), "--check"]) == 1
    assert "differs from the models" in capsys.readouterr().err
    assert main(["schema", "--out-dir", str(tmp_path)]) == 0
    assert main(["schema", "--out-dir", str(tmp_path), "--check"]) == 0


def test_pack_schema_describes_identifiers_and_ranges():
    schema = json.loads((SCHEMAS / "evidence_pack.schema.json").read_text(encoding="utf-8"))
    indication = schema["$defs"]["PredictedIndication"]["properties"]
    assert indication["score"]["maximum"] == 1.0
    assert set(schema["required"]) == {"meta", "drug", "jurisdiction", "predicted_indications"}
    phase = schema["$defs"]["Phase"]["enum"]
    assert "phase_2_3" in phase and "unknown" in phase
