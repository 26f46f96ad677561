"""The two outputs the TxGNN sites publish: a Jekyll page and a FHIR R5 Bundle.

Both are views of a finished :class:`drafter.assemble.Report`: every value is read from the pack,
the rule assessment and the *verified* sections at render time, so nothing here can go stale or
say what the Markdown does not. A withheld indication keeps what the rules computed (level, decision
ceiling, counts) and loses what the model wrote: neither format carries a decision that did not
verify, and neither carries any drafted text at all beyond the decision word.

- ``jekyll``: ``<stem>.jekyll.md``, the Markdown report under YAML front matter with the fields the
  sites' pages read (``layout``, ``title``, ``parent``, ``evidence_level``, ``indication_count``)
  plus the drug, date, status and one entry per drafted indication. The YAML comes from PyYAML's
  ``safe_dump`` (pack text is hostile: a name must not add a key or end the front matter), and the
  body has its braces written as character references so that neither Liquid (``{{ }}``, ``{% %}``)
  nor kramdown (``{::nomarkdown}``, ``{: attr}``) can read pack or model text as markup.
- ``fhir``: ``<stem>.fhir.json``, a ``collection`` Bundle holding one ``MedicationKnowledge`` for
  the drug and one ``ClinicalUseDefinition`` (type ``indication``) per drafted indication, with the
  level, decision ceiling, decision, draft status, rank, score and report link as extensions.
  The sites' own files put a ``MedicationKnowledge`` in ``ClinicalUseDefinition.subject``, which
  R5 does not allow; here the drug links its indications through
  ``MedicationKnowledge.clinicalUseIssue`` and each indication names the drug by DrugBank identifier.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

from drafter.drafting import DraftStatus, IndicationOutcome
from drafter.markdown_text import fold_lines
from drafter.rules import IndicationAssessment

if TYPE_CHECKING:
    from drafter.assemble import Report

__all__ = ["SITE_FORMATS", "EXTENSION_BASE", "output_name", "report_link", "front_matter", "render_jekyll",
           "render_fhir", "site_text"]

SITE_FORMATS = ("jekyll", "fhir")
# Both end in a suffix their readers know (.md for Jekyll, .json for a FHIR server's loader) and
# neither collides with the plain <stem>.md / <stem>.json written beside them.
_SUFFIXES = {"jekyll": ".jekyll.md", "fhir": ".fhir.json"}
# The human-readable report a FHIR resource links to: the first of these that the run writes.
_LINK_PREFERENCE = ("html", "md", "jekyll")

# Extension URLs of drafter's own StructureDefinitions. No such definitions are published: the
# ``.invalid`` host (RFC 2606) says so, and a site that publishes them replaces this base.
EXTENSION_BASE = "https://drafter-txgnn.invalid/fhir/StructureDefinition/"
DRUGBANK_SYSTEM = "https://www.drugbank.ca"  # the system the TxGNN sites' MedicationKnowledge files use
MONDO_SYSTEM = "http://purl.obolibrary.org/obo/mondo.owl"
COUNTRY_SYSTEM = "urn:iso:std:iso:3166"
_MONDO_ID = re.compile(r"^MONDO:\d{7}$")
_FHIR_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
# Jekyll's own front matter pattern: the block ends at the first line that is --- or ... alone.
FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)\s*$", re.MULTILINE)


def output_name(stem: str, fmt: str) -> str:
    """The file a format is written to: ``<stem>.<fmt>`` for md/json/html, a two-part suffix for the site formats."""
    return stem + _SUFFIXES.get(fmt, f".{fmt}")


def report_link(stem: str, formats: Sequence[str]) -> str:
    """The report page the FHIR resources point at, relative to the Bundle (written beside it):
    the HTML if the run writes it, else the Markdown or the Jekyll page; the HTML's name if none is."""
    fmt = next((f for f in _LINK_PREFERENCE if f in formats), "html")
    return output_name(stem, fmt)


# --- what both formats say about an indication ------------------------------------------------------


def _decision(outcome: IndicationOutcome) -> str | None:
    """The drafted decision, only if it verified: a withheld draft's decision is the model's unverified word."""
    if outcome.status is DraftStatus.WITHHELD or outcome.sections is None:
        return None
    return outcome.sections.conclusion.decision.value


def _drafted(report: Report) -> list[tuple[IndicationOutcome, IndicationAssessment]]:
    result = report.result
    return [(o, result.assessment.for_rank(o.rank)) for o in sorted(result.outcomes, key=lambda o: o.rank)]


def _report_date(report: Report) -> dt.date:
    return dt.date.fromisoformat(report.record["date"])


def _title(inn: str) -> str:
    return inn[:1].upper() + inn[1:]  # as the report's own heading writes it


# --- jekyll -------------------------------------------------------------------------------------------


def front_matter(report: Report) -> dict[str, Any]:
    """The page's front matter as data. The first five keys are the ones the TxGNN sites' pages use;
    ``nav_order`` is not written, since it is a drug's place among all of a site's drugs, which one
    report cannot know. ``evidence_level`` and ``decision`` are the top drafted indication's, the one
    the report's title and quick overview are about. ``parent`` is ``Evidence level L<n>``: the sites
    file each drug under a page per level, and a site names those pages to match."""
    pack = report.result.pack
    drafted = _drafted(report)
    indications = [{
        "rank": outcome.rank,
        "name": fold_lines(assessment.disease_name),
        "score": assessment.score,
        "evidence_level": assessment.level,
        "decision_ceiling": assessment.decision_ceiling.value,
        "decision": _decision(outcome),
        "status": outcome.status.value,
        "trials": assessment.trial_count,
        "articles": assessment.article_count,
    } for outcome, assessment in drafted]
    top_level = drafted[0][1].level if drafted else report.result.assessment.indications[0].level
    return {
        "layout": "default",
        "title": fold_lines(_title(pack.drug.inn)),
        "parent": f"Evidence level {top_level}",
        "evidence_level": top_level,
        "indication_count": len(pack.predicted_indications),
        "drug": fold_lines(pack.drug.inn),
        "drugbank_id": pack.drug.drugbank_id,
        "jurisdiction": pack.jurisdiction.country,
        "date": _report_date(report),
        "status": report.status.value,
        "decision": indications[0]["decision"] if indications else None,
        "pack_id": pack.meta.pack_id,
        "pack_sha256": report.record["pack"]["sha256"],
        "indications": indications,
    }


def dump_front_matter(data: dict[str, Any]) -> str:
    """YAML by ``safe_dump`` (every string quoted as YAML needs, no Python tags), one value per line.

    Strings were folded to one line first, and the result is checked against Jekyll's end-of-block
    pattern anyway: a value that could end the front matter is a bug to stop on, not a page to publish.
    """
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=2**31 - 1)
    if FRONT_MATTER_END.search(text):
        raise ValueError("front matter would end early")  # unreachable: a top-level mapping starts lines with keys
    return f"---\n{text}---\n"


def inert_braces(markdown: str) -> str:
    """Braces as character references: Jekyll runs Liquid on a page with front matter and kramdown reads
    ``{:...}`` and ``{::...}`` as attributes and raw blocks, so a brace in pack or model text would be
    markup there. The report's own Markdown has none (the goldens prove it), so nothing else changes."""
    return markdown.replace("{", "&#123;").replace("}", "&#125;")


def render_jekyll(report: Report) -> str:
    """The Jekyll page: computed front matter, then the report's Markdown with its braces made inert."""
    return dump_front_matter(front_matter(report)) + "\n" + inert_braces(report.markdown)


# --- fhir ---------------------------------------------------------------------------------------------


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from a pack id: other characters become '-'."""
    return (_FHIR_ID_UNSAFE.sub("-", text).strip("-.") or "drafter")[:64]


def _full_url(pack_sha256: str, part: str) -> str:
    """A stable urn:uuid per resource: the same pack and report give the same Bundle, byte for byte."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'drafter-txgnn:{pack_sha256}:{part}')}"


def _ext(name: str, kind: str, value: object) -> dict[str, Any]:
    return {"url": EXTENSION_BASE + name, f"value{kind}": value}


def _clinical_use(report: Report, outcome: IndicationOutcome, assessment: IndicationAssessment, *,
                  resource_id: str, link: str) -> dict[str, Any]:
    pack = report.result.pack
    indication = next(i for i in pack.predicted_indications if i.rank == outcome.rank)
    concept: dict[str, Any] = {"text": fold_lines(indication.disease_name)}
    mondo = indication.disease_ids.get("mondo")
    if mondo and _MONDO_ID.match(mondo):
        concept["coding"] = [{"system": MONDO_SYSTEM, "code": mondo, "display": concept["text"]}]
    extensions = [
        _ext("txgnn-rank", "Integer", outcome.rank),
        *([_ext("txgnn-score", "Decimal", assessment.score)] if assessment.score is not None else []),
        _ext("evidence-level", "Code", assessment.level),
        _ext("decision-ceiling", "String", assessment.decision_ceiling.value),
        _ext("draft-status", "Code", outcome.status.value),
        *([_ext("decision", "String", d)] if (d := _decision(outcome)) else []),
        _ext("report", "Url", link),
        _ext("report-date", "Date", report.record["date"]),
        _ext("research-only", "Boolean", True),
    ]
    drug = pack.drug
    subject: dict[str, Any] = {"display": fold_lines(drug.inn)}
    if drug.drugbank_id:
        subject["identifier"] = {"system": DRUGBANK_SYSTEM, "value": drug.drugbank_id}
    return {
        "resourceType": "ClinicalUseDefinition",
        "id": resource_id,
        "extension": extensions,
        "type": "indication",
        "subject": [subject],
        "indication": {"diseaseSymptomProcedure": {"concept": concept}},
    }


def _medication(report: Report, resource_id: str, uses: list[str]) -> dict[str, Any]:
    drug = report.result.pack.drug
    country = report.result.pack.jurisdiction.country
    code: dict[str, Any] = {"text": fold_lines(drug.inn)}
    if drug.drugbank_id:
        code["coding"] = [{"system": DRUGBANK_SYSTEM, "code": drug.drugbank_id, "display": code["text"]}]
    names = list(dict.fromkeys(fold_lines(n) for n in (drug.inn, *drug.brand_names)))
    return {
        "resourceType": "MedicationKnowledge",
        "id": resource_id,
        "code": code,
        "status": "active",
        "name": names,
        "intendedJurisdiction": [{"coding": [{"system": COUNTRY_SYSTEM, "code": country}]}],
        "clinicalUseIssue": [{"reference": url} for url in uses],
    }


def fhir_bundle(report: Report, *, link: str) -> dict[str, Any]:
    """The Bundle as data: the drug first, then its drafted indications by rank."""
    sha = report.record["pack"]["sha256"]
    base = _fhir_id(report.result.pack.meta.pack_id)
    drafted = _drafted(report)
    uses = [(_full_url(sha, f"indication-{o.rank}"), _fhir_id(f"{base[:48]}-rank-{o.rank}"), o, a) for o, a in drafted]
    med_url = _full_url(sha, "drug")
    entries = [{"fullUrl": med_url, "resource": _medication(report, base, [u for u, *_ in uses])}]
    entries += [{"fullUrl": url, "resource": _clinical_use(report, o, a, resource_id=rid, link=link)}
                for url, rid, o, a in uses]
    return {"resourceType": "Bundle", "id": _fhir_id(f"{base[:56]}-bundle"), "type": "collection", "entry": entries}


def render_fhir(report: Report, *, link: str) -> str:
    return json.dumps(fhir_bundle(report, link=link), indent=2, ensure_ascii=False) + "\n"


def site_text(report: Report, fmt: str, stem: str, formats: Sequence[str]) -> str:
    """The text of one site format for a report written as ``stem`` together with ``formats``."""
    if fmt == "jekyll":
        return render_jekyll(report)
    if fmt == "fhir":
        return render_fhir(report, link=report_link(stem, formats))
    raise ValueError(f"not a site format: {fmt!r}")
