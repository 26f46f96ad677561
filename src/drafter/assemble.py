"""Assembly: the report as Markdown, a JSON record with provenance, and a self-contained HTML page.

Every table and figure comes from the pack and the rules; only the statements of the drafted
sections come from the model, and only once they verified. A withheld indication is shown as a
deterministic summary of its evidence with a visible notice, and none of its failed text. The same
pack, the same model responses and the same date give byte-identical outputs: there is no clock,
no randomness and no unordered iteration in here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from drafter.drafting import DraftResult, DraftStatus, IndicationOutcome
from drafter.drafts import IndicationSections, Statement, Support
from drafter.fsio import write_text_atomic
from drafter.llm import Usage
from drafter.markdown_text import MarkdownSafe, md_cell, md_code, md_finalize, safe_url
from drafter.pack.models import MOA_KEY, SAFETY_KEY_PREFIX, EvidencePack, MarketStatus, dump_pack
from drafter.prompts import safety_lines
from drafter.rules import IndicationAssessment
from drafter.site_formats import SITE_FORMATS, output_name, site_text
from drafter.verify import CODES, Finding, Verification, normalise_key

RECORD_SCHEMA = "drafter.report/1"
DISCLAIMER = (
    "This report is for research and evaluation only. It is not medical advice, a prescribing recommendation "
    "or a regulatory opinion. Every repurposing candidate needs prospective clinical validation. The ranking "
    "comes from the TxGNN model; the drafted sections were checked by drafter's deterministic verifier against "
    "the evidence pack, which can only be as complete as the pack itself."
)
CHECKS = (
    "every PMID and trial id exists in the pack and belongs to the indication",
    "ids written in a statement are among its cited keys",
    "phases, statuses, enrolment figures and years next to an id match the pack",
    "counts, scores, ranks and evidence levels match the rules",
    "every safety term is covered by a cited safety item; no unsupported absence-of-risk claim",
    "each decision is within the ceiling its evidence level and stage allow",
    "background statements carry no ids, trial facts or safety claims",
)


def pack_fingerprint(pack: EvidencePack) -> str:
    """sha256 of the pack's canonical JSON (the same for a TxGNN pack and its imported copy)."""
    canonical = json.dumps(dump_pack(pack), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_url(key: str) -> MarkdownSafe | None:
    """Where a reader checks a cited item: PubMed, ClinicalTrials.gov, ICTRP, or the report's own section.

    Only a canonical key gets a URL, and the URL is marked safe for the Markdown link it goes into
    only if it cannot break out of that link (see :func:`drafter.markdown_text.safe_url`); anything
    else gets None and is printed as escaped text without a link.
    """
    return safe_url(_key_url(key)) if normalise_key(key) == key else None


def _key_url(key: str) -> str:
    if key.startswith("PMID:"):
        return f"https://pubmed.ncbi.nlm.nih.gov/{key[5:]}/"
    if key.startswith("NCT"):
        return f"https://clinicaltrials.gov/study/{key}"
    if key.startswith(SAFETY_KEY_PREFIX):
        return "#safety-considerations"
    if key == MOA_KEY:
        return "#why-is-this-prediction-reasonable"
    return f"https://trialsearch.who.int/Trial2.aspx?TrialID={key}"


@dataclass(frozen=True)
class Report:
    """One assembled report and everything needed to audit it."""

    status: DraftStatus
    markdown: str
    html: str
    record: dict[str, Any]
    verification: Verification
    usage: Usage
    result: DraftResult

    @property
    def record_json(self) -> str:
        return json.dumps(self.record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


# --- context: everything the templates print, computed once ------------------------------------------


@lru_cache(maxsize=1)
def _jurisdictions() -> dict[str, Any]:
    text = resources.files("drafter").joinpath("data", "jurisdictions.json").read_text(encoding="utf-8")
    return json.loads(text)["jurisdictions"]  # type: ignore[no-any-return]


def _statement(statement: Statement) -> dict[str, Any]:
    """A statement as the templates print it; its keys in canonical form, so each links by its id."""
    keys = [normalise_key(k) or k for k in statement.keys]
    return {"text": statement.text, "background": statement.support is Support.BACKGROUND,
            "cites": [{"key": k, "url": key_url(k)} for k in keys], "quotes": list(statement.quotes)}


def _sections(outcome: IndicationOutcome) -> dict[str, Any] | None:
    if outcome.sections is None:
        return None
    sections = outcome.sections
    return {
        "paragraphs": [[_statement(s) for s in p.statements] for p in sections.mechanistic_rationale.paragraphs],
        "decision": sections.conclusion.decision.value,
        "rationale": [_statement(s) for s in sections.conclusion.rationale],
        "next_steps": [_statement(s) for s in sections.conclusion.next_steps],
    }


def counted(count: int, noun: str) -> str:
    """'1 trial', '0 trials': a report reads as prose, not as a form with '(s)' in it."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _withheld_summary(assessment: IndicationAssessment) -> str:
    trials = counted(assessment.trial_count, "trial") + (f" ({assessment.trial_breakdown})" if assessment.trial_breakdown
                                                      else "")
    return (f"The evidence pack holds {trials} and {counted(assessment.article_count, 'article')} for this indication. "
            f"Evidence level {assessment.level_reason}. Decision ceiling by rule: "
            f"{assessment.decision_ceiling.value}. No drafted decision is shown.")


def _indication(pack: EvidencePack, outcome: IndicationOutcome | None, assessment: IndicationAssessment,
                rank: int) -> dict[str, Any]:
    indication = next(i for i in pack.predicted_indications if i.rank == rank)
    return {
        "rank": rank,
        "disease": indication.disease_name,
        "score": "not in the pack" if indication.score is None else f"{indication.score:.2%}",
        "assessment": assessment,
        "trials": [{"id": t.registry_id, "url": key_url(t.registry_id), "phase": t.phase.label,
                    "status": t.status.label, "enrollment": "unknown" if t.enrollment is None else str(t.enrollment),
                    "dates": " to ".join(d for d in (t.start_date, t.completion_date) if d) or "unknown",
                    "title": t.title or "", "duplicate_of": t.duplicate_of} for t in indication.trials],
        "articles": [{"pmid": a.pmid, "url": key_url(a.key), "year": a.year or "", "type": a.study_type.label
                      if a.study_type else "", "journal": a.journal or "", "title": a.title or ""}
                     for a in indication.articles],
        "status": outcome.status.value if outcome else "not drafted",
        "drafted": outcome is not None,
        "withheld": outcome is not None and outcome.status is DraftStatus.WITHHELD,
        "withheld_reason": outcome.withheld_reason if outcome else None,
        "withheld_summary": _withheld_summary(assessment),
        "sections": _sections(outcome) if outcome else None,
        "accepted_at": outcome.accepted_at if outcome else None,
    }


def _market(pack: EvidencePack) -> dict[str, Any]:
    jurisdiction = pack.jurisdiction
    info = _jurisdictions().get(jurisdiction.country, {})
    regulator = jurisdiction.regulator or info.get("regulator") or "the national regulator"
    status = {MarketStatus.MARKETED: "marketed", MarketStatus.NOT_MARKETED: "not marketed",
              MarketStatus.UNKNOWN: None}[jurisdiction.market_status]
    return {
        "country": info.get("name", jurisdiction.country),
        "regulator": regulator,
        "status": status,
        "total_licences": jurisdiction.total_licences,
        "licences": [lic.model_dump() for lic in jurisdiction.licences],
        "sources": info.get("sources", []),
        "reporting": info.get("reporting"),
    }


def _safety(pack: EvidencePack) -> dict[str, Any]:
    groups: dict[str, list[dict[str, str]]] = {}
    if pack.safety is not None:
        for (section, item), line in zip(pack.safety.items(), safety_lines(pack), strict=True):
            groups.setdefault(section.replace("_", " ").capitalize(), []).append(
                {"key": line.key, "kind": line.section, "text": item.text, "source": item.source or ""})
    return {"has_data": pack.has_safety_data(), "groups": groups}


def finding_position(finding: Finding, sections: IndicationSections | None) -> str:
    """Where a finding is, said without quoting it: the statement's location, then which key
    (``keys[1]``) or which characters of its text (``text[12:20]``) the offending span is."""
    statement = next((s for loc, s in sections.statements() if loc == finding.location), None) if sections else None
    if statement is None or not finding.span:
        return finding.location
    if finding.span in statement.keys:
        return f"{finding.location} keys[{statement.keys.index(finding.span)}]"
    start = statement.text.find(finding.span)
    if start >= 0:
        return f"{finding.location} text[{start}:{start + len(finding.span)}]"
    return finding.location


WITHHELD_FINDING_FALLBACK = "See the JSON record for this finding."


def _findings(outcomes: list[IndicationOutcome]) -> list[dict[str, Any]]:
    """Findings for the appendix: warnings of accepted sections, errors of withheld ones.

    A withheld draft's text is the model's and failed verification, so its findings are shown by
    code, position and the code's fixed description; their messages (which quote the offending
    key or span) stay in the JSON record. An accepted section's warnings keep their message: what
    they quote is the published, verified statement.
    """
    rows = []
    for outcome in outcomes:
        withheld = outcome.status is DraftStatus.WITHHELD
        for finding in outcome.verification.findings:
            if withheld:
                location = finding_position(finding, outcome.rejected_sections)
                message = CODES[finding.code][1] if finding.code in CODES else WITHHELD_FINDING_FALLBACK
            else:
                location, message = finding.location, finding.message
            rows.append({"rank": outcome.rank, "code": finding.code, "severity": finding.severity.value,
                         "location": location, "message": message})
    return rows


def build_context(result: DraftResult, *, report_date: dt.date, pack_sha256: str | None = None,
                  replayed_from: str | None = None) -> dict[str, Any]:
    pack, assessment = result.pack, result.assessment
    outcomes = {o.rank: o for o in result.outcomes}
    drafted = [_indication(pack, outcomes[r], assessment.for_rank(r), r) for r in sorted(outcomes)]
    further = [_indication(pack, None, a, a.rank) for a in assessment.indications if a.rank not in outcomes]
    top = drafted[0] if drafted else _indication(pack, None, assessment.indications[0], assessment.indications[0].rank)
    original = "; ".join(pack.drug.original_indications) or "its licensed indications"
    first = pack.drug.original_indications[0] if pack.drug.original_indications else "its licensed indications"
    original_short = re.split(r",|;|\(| e\.g\.| such as", first, maxsplit=1)[0].strip()
    return {
        "drug": pack.drug,
        "drug_name": pack.drug.inn[:1].upper() + pack.drug.inn[1:],
        "original": original,
        "original_short": original_short[:1].upper() + original_short[1:],
        "top": top,
        "drafted": drafted,
        "further": further,
        "indication_count": len(pack.predicted_indications),
        "market": _market(pack),
        "safety": _safety(pack),
        "data_gaps": [gap.item for gap in pack.meta.data_gaps],
        "status": result.status.value,
        "findings": _findings(result.outcomes),
        "checks": CHECKS,
        "codes": CODES,
        "model": result.model,
        "replayed_from": Path(replayed_from).name if replayed_from else None,
        "prompt_versions": result.prompts.versions,
        "prompt_fingerprint": result.prompts.fingerprint,
        "pack_id": pack.meta.pack_id,
        "pack_sha256": pack_sha256 or pack_fingerprint(pack),
        "rule_table": assessment.rule_table,
        "usage": result.usage.response_dict(),
        "attempts": len(result.attempts),
        "date": report_date.isoformat(),
        "disclaimer": DISCLAIMER,
    }


# --- rendering ----------------------------------------------------------------------------------------


def _sentence(text: object) -> str:
    return str(text)[:1].upper() + str(text)[1:]


@lru_cache(maxsize=2)
def _environment(markdown: bool) -> jinja2.Environment:
    """The report environments; both escape every value they print, each for its own language.

    HTML: jinja2's autoescape. Markdown: autoescape too (so macro output is Markup and is not escaped
    twice), with a ``finalize`` that Markdown-escapes every value that is not already Markup or
    marked :class:`MarkdownSafe`; the ``cell`` filter is kept for the tables' sake and the ``code``
    filter prints a value as a code span.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("drafter", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        finalize=md_finalize if markdown else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run; checking the file on every render cost ~1 ms
    )
    if markdown:
        env.filters["cell"] = md_cell
        env.filters["code"] = md_code
    env.filters["sentence"] = _sentence
    env.filters["counted"] = counted
    return env


def render_markdown(context: dict[str, Any]) -> str:
    return str(_environment(True).get_template("report.md.j2").render(**context))


def render_html(context: dict[str, Any]) -> str:
    return _environment(False).get_template("report.html.j2").render(**context)


def build_record(result: DraftResult, context: dict[str, Any]) -> dict[str, Any]:
    """Everything above as data, plus provenance: pack hash, model, prompts, findings, attempts, usage.

    Unlike the Markdown and HTML, the record is for audit and keeps what the model sent: each
    attempt's raw output and problems (a refusal's own words included) and each finding's message
    and span. Only the report pages withhold model text.
    """
    indications = []
    for outcome in result.outcomes:
        a = result.assessment.for_rank(outcome.rank)
        indications.append({
            "rank": outcome.rank, "disease": outcome.disease_name, "status": outcome.status.value,
            "accepted_at_attempt": outcome.accepted_at, "withheld_reason": outcome.withheld_reason,
            "evidence": {"level": a.level, "reason": a.level_reason, "deciding_keys": list(a.deciding_keys),
                         "trials": a.trial_count, "articles": a.article_count, "stage": a.stage,
                         "decision_ceiling": a.decision_ceiling.value},
            "sections": outcome.sections.model_dump(mode="json") if outcome.sections else None,
            "findings": [f.as_dict() for f in outcome.verification.findings
                         if outcome.status is not DraftStatus.WITHHELD or f.severity.value == "error"],
        })
    return {
        "schema": RECORD_SCHEMA,
        "status": result.status.value,
        "date": context["date"],
        "pack": {"pack_id": context["pack_id"], "sha256": context["pack_sha256"], "drug": result.pack.drug.inn,
                 "jurisdiction": result.pack.jurisdiction.country},
        "model": result.model,
        "prompts": {"versions": result.prompts.versions, "fingerprint": result.prompts.fingerprint},
        "rule_table": context["rule_table"],
        "indications": indications,
        "further_predictions": [{"rank": f["rank"], "disease": f["disease"], "level": f["assessment"].level}
                                for f in context["further"]],
        "attempts": [a.as_dict() for a in result.attempts],
        "usage": {**result.usage.response_dict(), "calls": len(result.attempts)},
        **({"provenance_note": f"replayed from {context['replayed_from']}"} if context["replayed_from"] else {}),
    }


def combined_verification(result: DraftResult) -> Verification:
    findings: list[Finding] = []
    for outcome in result.outcomes:
        findings.extend(outcome.verification.findings)
    return Verification(tuple(findings))


REPORT_FORMATS = ("md", "json", "html")
OUTPUT_FORMATS = REPORT_FORMATS + SITE_FORMATS  # what --format accepts; the site formats are opt-in


def report_outputs(report: Report, out_dir: Path, stem: str, formats: Sequence[str]) -> dict[Path, str]:
    """Each requested format's file and text; the site formats (Jekyll, FHIR) are rendered only when asked for."""
    texts = {"md": lambda: report.markdown, "json": lambda: report.record_json, "html": lambda: report.html}
    return {out_dir / output_name(stem, fmt): texts[fmt]() if fmt in texts else site_text(report, fmt, stem, formats)
            for fmt in formats}


def write_report(report: Report, out_dir: Path, stem: str, formats: Sequence[str] = REPORT_FORMATS) -> list[Path]:
    """Each output written to a temporary file and renamed: a killed run never leaves half a report."""
    return [write_text_atomic(path, text) for path, text in report_outputs(report, out_dir, stem, formats).items()]


def assemble(result: DraftResult, *, report_date: dt.date, pack_sha256: str | None = None,
             replayed_from: str | None = None) -> Report:
    """The report in every format. ``replayed_from`` names the cassette whose recorded answers were served
    (the reader must not take a replay for a live model's work, nor its token figures for a real cost)."""
    context = build_context(result, report_date=report_date, pack_sha256=pack_sha256, replayed_from=replayed_from)
    return Report(
        status=result.status,
        markdown=render_markdown(context),
        html=render_html(context),
        record=build_record(result, context),
        verification=combined_verification(result),
        usage=result.usage,
        result=result,
    )
