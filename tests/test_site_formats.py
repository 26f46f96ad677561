"""The outputs the TxGNN sites publish (issue 12, part 4): a Jekyll page and a FHIR R5 Bundle.

Every example pack is drafted on the recorded example answers through the command line, with all
five formats; each Jekyll page's front matter must parse, agree with its body and with the JSON
record, and each Bundle must validate against the R5 models of ``fhir.resources``. Withheld
indications and hostile pack text get their own tests.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from fhir.resources.bundle import Bundle
from fhir.resources.clinicalusedefinition import ClinicalUseDefinition
from fhir.resources.medicationknowledge import MedicationKnowledge
from pydantic import ValidationError

import drafter
from drafter import assemble, cli
from drafter.cli import main
from drafter.drafting import DraftStatus
from drafter.site_formats import EXTENSION_BASE, front_matter, render_fhir, render_jekyll
from tests.cassette_scenarios import BY_NAME, CASSETTES, DRAFTS, EXAMPLE_PACKS, MODEL, REPORT_DATE, ROOT
from tests.llm_server import ScriptedOpenAIServer, assert_all_played, auto_draft_step, make_vcr
from tests.synthetic_packs import synthetic_pack

STEMS = [Path(p).stem for p in EXAMPLE_PACKS]
# Jekyll's front matter pattern (jekyll/lib/jekyll/document.rb, YAML_FRONT_MATTER_REGEXP), in Python.
JEKYLL_FRONT_MATTER = re.compile(r"\A(---\s*\n.*?\n?)^((---|\.\.\.)\s*$\n?)", re.MULTILINE | re.DOTALL)
FRONT_MATTER_KEYS = ["layout", "title", "parent", "evidence_level", "indication_count", "drug", "drugbank_id",
                     "jurisdiction", "date", "status", "decision", "pack_id", "pack_sha256", "indications"]


def split_page(page: str) -> tuple[dict[str, Any], str]:
    """Front matter and body, cut where Jekyll cuts them."""
    match = JEKYLL_FRONT_MATTER.match(page)
    assert match, page[:200]
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data, page[match.end():]


def extensions(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's drafter extensions by short name, each with its one value."""
    found = {}
    for ext in resource.get("extension", []):
        assert ext["url"].startswith(EXTENSION_BASE), ext
        (value,) = [v for k, v in ext.items() if k.startswith("value")]
        found[ext["url"].removeprefix(EXTENSION_BASE)] = value
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example pack, drafted once on the recorded example answers, in every format."""
    out = tmp_path_factory.mktemp("site")
    code = main(["draft", *(str(ROOT / p) for p in EXAMPLE_PACKS), "-o", str(out), "--model", MODEL,
                 "--date", REPORT_DATE.isoformat(), "--replay", str(CASSETTES / "examples.yaml"),
                 "--format", "md,json,html,jekyll,fhir"])
    assert code == 0
    return out


def test_the_command_line_and_the_assembler_accept_the_same_formats() -> None:
    assert cli.FORMATS == assemble.OUTPUT_FORMATS == ("md", "json", "html", "jekyll", "fhir")


@pytest.mark.parametrize("stem", STEMS)
def test_jekyll_front_matter_is_computed_and_agrees_with_the_body(outputs: Path, stem: str) -> None:
    data, body = split_page((outputs / f"{stem}.jekyll.md").read_text(encoding="utf-8"))
    record = json.loads((outputs / f"{stem}.json").read_text(encoding="utf-8"))
    pack = drafter.load_pack(ROOT / "examples" / "packs" / f"{stem}.json")
    assert list(data) == FRONT_MATTER_KEYS
    # The body is the verified Markdown report, unchanged (no example has a brace to make inert).
    assert body == (outputs / f"{stem}.md").read_text(encoding="utf-8")  # Jekyll's pattern eats the blank line
    assert data["layout"] == "default" and data["title"].lower() == pack.drug.inn.lower()
    assert data["indication_count"] == len(pack.predicted_indications)
    assert data["date"] == REPORT_DATE and REPORT_DATE.isoformat() in body
    assert data["status"] == record["status"] and data["pack_sha256"] == record["pack"]["sha256"]
    assert [i["rank"] for i in data["indications"]] == [i["rank"] for i in record["indications"]]
    for item, entry in zip(data["indications"], record["indications"], strict=True):
        evidence = entry["evidence"]
        assert (item["evidence_level"], item["decision_ceiling"]) == (evidence["level"], evidence["decision_ceiling"])
        assert (item["trials"], item["articles"]) == (evidence["trials"], evidence["articles"])
        assert item["decision"] == entry["sections"]["conclusion"]["decision"]
        assert item["name"] == entry["disease"] and item["name"] in body
        assert re.search(rf"\b{item['evidence_level']}\b", body) and item["decision"] in body
    top = data["indications"][0]
    assert (data["evidence_level"], data["decision"]) == (top["evidence_level"], top["decision"])
    assert data["parent"] == f"Evidence level {top['evidence_level']}"


@pytest.mark.parametrize("stem", STEMS)
def test_fhir_bundle_validates_as_r5_and_carries_the_computed_values(outputs: Path, stem: str) -> None:
    text = (outputs / f"{stem}.fhir.json").read_text(encoding="utf-8")
    bundle = Bundle.model_validate_json(text)  # R5 models: unknown or misshapen elements are errors
    data = json.loads(text)
    record = json.loads((outputs / f"{stem}.json").read_text(encoding="utf-8"))
    pack = drafter.load_pack(ROOT / "examples" / "packs" / f"{stem}.json")
    assert bundle.type == "collection"
    medication, *uses = [e["resource"] for e in data["entry"]]
    assert isinstance(bundle.entry[0].resource, MedicationKnowledge)
    assert all(isinstance(e.resource, ClinicalUseDefinition) for e in bundle.entry[1:])
    assert medication["code"]["text"] == pack.drug.inn
    assert medication["intendedJurisdiction"][0]["coding"][0]["code"] == pack.jurisdiction.country
    assert [r["reference"] for r in medication["clinicalUseIssue"]] == [e["fullUrl"] for e in data["entry"][1:]]
    assert len(uses) == len(record["indications"])
    for use, entry in zip(uses, record["indications"], strict=True):
        ext = extensions(use)
        assert use["type"] == "indication"
        assert use["indication"]["diseaseSymptomProcedure"]["concept"]["text"] == entry["disease"]
        assert ext["evidence-level"] == entry["evidence"]["level"]
        assert ext["decision-ceiling"] == entry["evidence"]["decision_ceiling"]
        assert ext["decision"] == entry["sections"]["conclusion"]["decision"]
        assert ext["draft-status"] == entry["status"] and ext["txgnn-rank"] == entry["rank"]
        assert ext["report"] == f"{stem}.html" and (outputs / ext["report"]).is_file()
        assert ext["report-date"] == REPORT_DATE.isoformat() and ext["research-only"] is True
        if pack.drug.drugbank_id:
            assert use["subject"][0]["identifier"]["value"] == pack.drug.drugbank_id


def test_the_r5_validator_rejects_the_r4_shape_the_sites_use(outputs: Path) -> None:
    """The validation above can fail: the sites' own R4B-style ``diseaseSymptomProcedure.coding`` is refused."""
    data = json.loads((outputs / "baclofen.fhir.json").read_text(encoding="utf-8"))
    use = data["entry"][1]["resource"]
    use["indication"]["diseaseSymptomProcedure"] = {"coding": [{"code": "x"}], "text": "x"}
    with pytest.raises(ValidationError):
        ClinicalUseDefinition.model_validate(use)


def test_the_fhir_link_follows_the_formats_written(tmp_path: Path) -> None:
    pack = ROOT / "examples" / "packs" / "baclofen.json"
    assert main(["draft", str(pack), "-o", str(tmp_path), "--model", MODEL, "--date", REPORT_DATE.isoformat(),
                 "--replay", str(CASSETTES / "examples.yaml"), "--format", "md,fhir"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baclofen.fhir.json", "baclofen.md"]
    bundle = json.loads((tmp_path / "baclofen.fhir.json").read_text(encoding="utf-8"))
    assert {extensions(e["resource"]).get("report") for e in bundle["entry"][1:]} == {"baclofen.md"}


def test_site_outputs_are_byte_identical_across_runs(outputs: Path, tmp_path: Path) -> None:
    assert main(["draft", str(ROOT / "examples" / "packs" / "colchicine-us.json"), "-o", str(tmp_path), "--model",
                 MODEL, "--date", REPORT_DATE.isoformat(), "--replay", str(CASSETTES / "examples.yaml"),
                 "--format", "md,json,html,jekyll,fhir"]) == 0
    for name in ("colchicine-us.jekyll.md", "colchicine-us.fhir.json"):
        assert (tmp_path / name).read_bytes() == (outputs / name).read_bytes()


# --- withheld -----------------------------------------------------------------------------------------


def _withheld_report() -> drafter.Report:
    scenario = BY_NAME["withheld"]
    client = openai.OpenAI(api_key="replay", base_url="https://api.openai.com/v1", max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette(scenario.cassette.name) as cassette:
        report = drafter.draft_report(ROOT / "examples" / "packs" / "baclofen-uk.json", client=client, model=MODEL,
                                      report_date=REPORT_DATE, **scenario.options)
    assert_all_played(cassette)
    return report


def test_a_withheld_indication_keeps_its_computed_values_and_loses_every_drafted_word() -> None:
    """Decision: what the rules computed stays (level, ceiling, counts, status 'withheld'); the model's
    decision and text go, in both formats, as in the Markdown report."""
    report = _withheld_report()
    assert all(o.status is DraftStatus.WITHHELD for o in report.result.outcomes)
    page, bundle_text = render_jekyll(report), render_fhir(report, link="baclofen-uk.html")
    data, body = split_page(page)
    assert data["status"] == "withheld" and data["decision"] is None
    for item, outcome in zip(data["indications"], report.result.outcomes, strict=True):
        assessment = report.result.assessment.for_rank(outcome.rank)
        assert item["status"] == "withheld" and item["decision"] is None
        assert item["evidence_level"] == assessment.level
        assert item["decision_ceiling"] == assessment.decision_ceiling.value
    Bundle.model_validate_json(bundle_text)
    uses = [e["resource"] for e in json.loads(bundle_text)["entry"][1:]]
    assert len(uses) == len(report.result.outcomes)
    for use, outcome in zip(uses, report.result.outcomes, strict=True):
        ext = extensions(use)
        assert ext["draft-status"] == "withheld" and "decision" not in ext
        assert ext["evidence-level"] == report.result.assessment.for_rank(outcome.rank).level
    failed = drafter.ReportDraft.model_validate_json((DRAFTS / "baclofen-uk.never-repairs.json").read_text())
    decisions = {item.sections.conclusion.decision.value for item in failed.indications}
    sentences = [s.text for item in failed.indications for _, s in item.sections.statements()]
    for text in (page, bundle_text):
        for sentence in sentences:
            for piece in re.split(r"[;,:.]", sentence):
                assert len(piece.strip()) < 40 or piece.strip() not in text, piece
    # The failed drafts decided above the ceiling; that word appears in neither output's decision.
    assert decisions and not decisions & {i["decision"] for i in data["indications"]}
    assert "Drafted text withheld" in body


# --- hostile pack text --------------------------------------------------------------------------------

HOSTILE_NAMES = [
    'evil" ---  layout: hacked',
    "--- ... \u00a0x: y",
    "x: y\ttitle: forged",
    "' # not a comment: [1, 2] {a: b}",
    "{% endraw %}{{ site.github }}{::nomarkdown}<script>alert(1)</script>{:/}",
    "&#123;% raw %&#125; *bold* | cell |",
]


def _hostile_report(tmp_path: Path, name: str) -> drafter.Report:
    pack = synthetic_pack(1)
    pack["drug"]["inn"] = name
    pack["predicted_indications"][0]["disease_name"] = f"{name} disease"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        return drafter.draft_report(path, client=client, model=MODEL, report_date=REPORT_DATE, max_indications=1)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_drug_name_cannot_add_keys_end_the_front_matter_or_reach_liquid(tmp_path: Path, name: str) -> None:
    report = _hostile_report(tmp_path, name)
    assert " ".join(report.result.pack.drug.inn.split()) == " ".join(name.split())  # the pack kept the name
    page = render_jekyll(report)
    data, body = split_page(page)
    assert list(data) == FRONT_MATTER_KEYS  # no key added, none lost: the block ended where drafter ended it
    one_line = " ".join(name.split())  # whitespace runs fold to one space, as in the report
    assert data["drug"] == one_line and data["layout"] == "default"
    assert data["indications"][0]["name"] == f"{one_line} disease"
    # No brace reaches Jekyll's Liquid or kramdown's extensions; the text survives as references.
    assert "{" not in body and "}" not in body
    if "{" in name:
        assert "&#123;" in body
    Bundle.model_validate_json(render_fhir(report, link="hostile.html"))


def test_defence_in_depth_a_name_that_skipped_validation_is_still_one_line(tmp_path: Path) -> None:
    """The pack model already refuses a line break in a name; a pack built without validation must
    still not be able to write its own front matter lines."""
    report = _hostile_report(tmp_path, "plain")
    drug = report.result.pack.drug.model_copy(update={"inn": "x\n---\nlayout: hacked\n..."})
    pack = report.result.pack.model_copy(update={"drug": drug})
    forged = dataclasses.replace(report, result=dataclasses.replace(report.result, pack=pack))
    data, _ = split_page(render_jekyll(forged))
    assert list(data) == FRONT_MATTER_KEYS and data["layout"] == "default"
    assert data["drug"] == "x --- layout: hacked ..."
    assert front_matter(forged)["drug"] == data["drug"]


def test_batch_writes_the_site_formats_and_a_rerun_keeps_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Batch drafting uses the same output names, so its manifests list the site files and a rerun skips them."""
    args = ["batch", str(ROOT / "examples" / "packs" / "tizanidine-gb.json"), "-o", str(tmp_path), "--model", MODEL,
            "--date", REPORT_DATE.isoformat(), "--replay", str(CASSETTES / "examples.yaml"), "--format", "jekyll,fhir"]
    assert main(args) == 0
    written = sorted(p.name for p in tmp_path.iterdir() if p.is_file() and p.name.startswith("tizanidine"))
    assert written == ["tizanidine-gb.fhir.json", "tizanidine-gb.jekyll.md"]
    before = {name: (tmp_path / name).read_bytes() for name in written}
    capsys.readouterr()
    assert main(args) == 0
    assert "skipped" in capsys.readouterr().out
    assert {name: (tmp_path / name).read_bytes() for name in written} == before
