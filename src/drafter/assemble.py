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
from drafter.monitoring import describe_kind, monitoring_plan, plan_due
from drafter.pack.models import (
    MOA_KEY,
    SAFETY_KEY_PREFIX,
    Article,
    EvidencePack,
    MarketStatus,
    OutcomeResult,
    QueryLogEntry,
    Relevance,
    Trial,
    dump_pack,
)
from drafter.rules import IndicationAssessment
from drafter.site_formats import SITE_FORMATS, output_name, site_text
from drafter.verify import CODES, Finding, Verification, normalise_key
from drafter.verify.quotes import article_text, quote_in, trial_text

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
    if key.startswith(SAFETY_KEY_PREFIX) or key == MOA_KEY:
        return f"#{item_anchor(key)}"
    return f"https://trialsearch.who.int/Trial2.aspx?TrialID={key}"


# --- anchors: every citation lands on its item ---------------------------------------------------------


def item_anchor(key: str) -> str:
    """The in-page id of a cited item: ``moa``, ``safety-w1``, ``pmid-21300040``, ``nct01821560``.

    Ids are lower-case letters, digits and hyphens only (what :func:`safe_url` lets into a link). A
    safety key of upper-case letters and digits maps to itself in lower case; any other safety key
    (lower-case letters, '_', '.', '-') also gets a short hash of its spelling, so that two keys of
    one pack (``W1`` and ``w1``) never share an anchor. Registry ids are canonical, so their slug is
    unique as it is.
    """
    if key == MOA_KEY:
        return "moa"
    if key.startswith(SAFETY_KEY_PREFIX):
        name = key[len(SAFETY_KEY_PREFIX):]
        if re.fullmatch(r"[A-Z0-9]+", name):
            return f"safety-{name.lower()}"
        return f"safety-{_slug(name)}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    if key.startswith("PMID:"):
        return f"pmid-{_slug(key[5:])}"
    return _slug(key)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


class Anchors:
    """Where each trial and article of the report is listed, so that a citation links to its row.

    An item is listed in the tables of every drafted indication that holds it. Its first row (in
    rank order) gets the plain anchor (``#pmid-21300040``); a later copy under another indication
    gets ``#rank-2-pmid-21300040``, and a statement of that indication links to its own copy. A key
    listed nowhere in the report (an item of an indication that was not drafted) links to its
    registry or PubMed page instead.
    """

    def __init__(self, pack: EvidencePack, ranks: Sequence[int]) -> None:
        self._rows: dict[tuple[int, str], str] = {}
        self._first: dict[str, str] = {}
        by_rank = {i.rank: i for i in pack.predicted_indications}
        for rank in sorted(ranks):
            indication = by_rank[rank]
            for key in [t.key for t in indication.trials] + [a.key for a in indication.articles]:
                if (rank, key) in self._rows:
                    continue
                base = item_anchor(key)
                anchor = base if key not in self._first else f"rank-{rank}-{base}"
                self._first.setdefault(key, anchor)
                self._rows[(rank, key)] = anchor

    def row(self, rank: int, key: str) -> str:
        """The id of ``key``'s row in the tables of indication ``rank``."""
        return self._rows[(rank, key)]

    def cite(self, rank: int, key: str) -> MarkdownSafe | None:
        """The link of a citation of ``key`` in a statement of indication ``rank``."""
        if normalise_key(key) != key:
            return None
        if key.startswith(SAFETY_KEY_PREFIX) or key == MOA_KEY:
            return key_url(key)
        anchor = self._rows.get((rank, key)) or self._first.get(key)
        return safe_url(f"#{anchor}") if anchor else key_url(key)


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


def _statement(statement: Statement, rank: int, anchors: Anchors) -> dict[str, Any]:
    """A statement as the templates print it; its keys in canonical form, each linked to its item's row."""
    keys = [normalise_key(k) or k for k in statement.keys]
    return {"text": statement.text, "background": statement.support is Support.BACKGROUND,
            "cites": [{"key": k, "url": anchors.cite(rank, k)} for k in keys], "quotes": list(statement.quotes)}


def _sections(outcome: IndicationOutcome, anchors: Anchors) -> dict[str, Any] | None:
    if outcome.sections is None:
        return None
    sections, rank = outcome.sections, outcome.rank
    return {
        "paragraphs": [[_statement(s, rank, anchors) for s in p.statements]
                       for p in sections.mechanistic_rationale.paragraphs],
        "decision": sections.conclusion.decision.value,
        "rationale": [_statement(s, rank, anchors) for s in sections.conclusion.rationale],
        "next_steps": [_statement(s, rank, anchors) for s in sections.conclusion.next_steps],
    }


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 trial', '0 trials', '2 searches': a report reads as prose, not as a form with '(s)' in it."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _withheld_summary(assessment: IndicationAssessment) -> str:
    trials = counted(assessment.trial_count, "trial") + (f" ({assessment.trial_breakdown})" if assessment.trial_breakdown
                                                      else "")
    return (f"The evidence pack holds {trials} and {counted(assessment.article_count, 'article')} for this indication. "
            f"Evidence level {assessment.level_reason}. Decision ceiling by rule: "
            f"{assessment.decision_ceiling.value}. No drafted decision is shown.")


# --- evidence tables: title, relevance, results and key finding of every item ---------------------------

RELEVANCE_LABELS = {Relevance.DIRECT: "Direct", Relevance.RELATED: "Related", Relevance.UNRELATED: "Unrelated",
                    Relevance.UNKNOWN: "Not graded"}
OUTCOME_LABELS = {OutcomeResult.MET: "Met", OutcomeResult.NOT_MET: "Not met", OutcomeResult.MIXED: "Mixed",
                  OutcomeResult.UNKNOWN: "Unknown"}
NO_FINDING = "no finding in the pack"


def _verified_keys(outcome: IndicationOutcome | None) -> list[str]:
    """Every key the indication's verified sections cite, canonical, in reading order, each once."""
    if outcome is None or outcome.sections is None:
        return []
    keys = (normalise_key(k) or k for _, s in outcome.sections.statements() for k in s.keys)
    return list(dict.fromkeys(keys))


def _verified_quotes(outcome: IndicationOutcome | None, texts: dict[str, str]) -> dict[str, list[str]]:
    """Key -> the quotes of verified statements that cite it and occur in its own text.

    A statement citing several items may quote any of them, so each quote is given to the cited items
    whose text holds it. Withheld sections are never read: their text failed verification.
    """
    found: dict[str, list[str]] = {}
    if outcome is None or outcome.sections is None:
        return found
    for _, statement in outcome.sections.statements():
        for key in (normalise_key(k) or k for k in statement.keys):
            for quote in statement.quotes:
                if key in texts and quote_in(quote, texts[key]) and quote not in found.get(key, []):
                    found.setdefault(key, []).append(quote)
    return found


def _finding(summary: str | None, quotes: list[str]) -> dict[str, Any]:
    """The pack's own summary of what an item found; else the verified quotes from it; else a plain gap."""
    if summary:
        return {"text": summary, "quotes": [], "from": "pack"}
    if quotes:
        return {"text": None, "quotes": quotes, "from": "quotes"}
    return {"text": NO_FINDING, "quotes": [], "from": None}


def _results(trial: Trial) -> str:
    results = trial.results
    if results is None:
        return "Unknown"
    label = OUTCOME_LABELS[results.primary_outcome]
    posted = {True: "results posted", False: "no results posted", None: ""}[results.posted]
    return f"{label}, {posted}" if posted else label


def _trial_row(trial: Trial, anchor: str, quotes: list[str]) -> dict[str, Any]:
    summary = (trial.results.summary if trial.results and trial.results.summary else None) or trial.summary
    return {"id": trial.registry_id, "anchor": anchor, "url": key_url(trial.registry_id), "phase": trial.phase.label,
            "status": trial.status.label, "enrollment": "unknown" if trial.enrollment is None else str(trial.enrollment),
            "dates": " to ".join(d for d in (trial.start_date, trial.completion_date) if d) or "unknown",
            "title": trial.title or "no title in the pack", "duplicate_of": trial.duplicate_of,
            "relevance": RELEVANCE_LABELS[trial.relevance], "results": _results(trial),
            "finding": _finding(summary, quotes)}


def _article_row(article: Article, anchor: str, quotes: list[str]) -> dict[str, Any]:
    return {"pmid": article.pmid, "anchor": anchor, "url": key_url(article.key), "year": article.year or "",
            "type": article.study_type.label if article.study_type else "", "journal": article.journal or "",
            "title": article.title or "no title in the pack", "relevance": RELEVANCE_LABELS[article.relevance],
            "finding": _finding(article.summary, quotes)}


def _indication(pack: EvidencePack, outcome: IndicationOutcome | None, assessment: IndicationAssessment,
                rank: int, anchors: Anchors | None = None) -> dict[str, Any]:
    indication = next(i for i in pack.predicted_indications if i.rank == rank)
    anchors = anchors or Anchors(pack, [rank])
    texts = {t.key: trial_text(t) for t in indication.trials} | {a.key: article_text(a) for a in indication.articles}
    quotes = _verified_quotes(outcome, texts)
    cited = _verified_keys(outcome)
    decision = outcome.sections.conclusion.decision if outcome and outcome.sections else None
    return {
        "rank": rank,
        "disease": indication.disease_name,
        "score": "not in the pack" if indication.score is None else f"{indication.score:.2%}",
        "assessment": assessment,
        "trials": [_trial_row(t, anchors.row(rank, t.key), quotes.get(t.key, [])) for t in indication.trials],
        "articles": [_article_row(a, anchors.row(rank, a.key), quotes.get(a.key, [])) for a in indication.articles],
        "status": outcome.status.value if outcome else "not drafted",
        "drafted": outcome is not None,
        "withheld": outcome is not None and outcome.status is DraftStatus.WITHHELD,
        "withheld_reason": outcome.withheld_reason if outcome else None,
        "withheld_summary": _withheld_summary(assessment),
        "sections": _sections(outcome, anchors) if outcome else None,
        "accepted_at": outcome.accepted_at if outcome else None,
        "safety_cited": _safety_cited(pack, cited),
        "plan_due": plan_due(decision),
        "monitoring": [vars(step) | {"url": key_url(step.key)} for step in monitoring_plan(pack, cited, decision)],
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


# --- safety, mechanism, searches ---------------------------------------------------------------------


def _safety_item(key: str, pack: EvidencePack) -> dict[str, Any]:
    item = pack.safety_items()[key]
    return {"key": key, "anchor": item_anchor(key), "url": key_url(key), "kind": describe_kind(item),
            "text": item.text, "source": item.source or ""}


def _safety(pack: EvidencePack) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    if pack.safety is not None:
        for section, item in pack.safety.items():
            groups.setdefault(section.replace("_", " ").capitalize(), []).append(
                _safety_item(item.citation_key, pack))
    return {"has_data": pack.has_safety_data(), "groups": groups, "count": sum(len(g) for g in groups.values())}


def _safety_cited(pack: EvidencePack, cited: Sequence[str]) -> list[dict[str, Any]]:
    """The safety items an indication's verified sections cite, in the order they first cite them."""
    items = pack.safety_items()
    return [_safety_item(key, pack) for key in cited if key in items]


def _mechanism(pack: EvidencePack) -> dict[str, Any]:
    return {"text": pack.drug.mechanism_of_action, "source": pack.drug.mechanism_source}


def _status(entry: QueryLogEntry) -> str:
    return " ".join((entry.result_status or "no status recorded").replace("_", " ").split())


def _searches(pack: EvidencePack) -> list[dict[str, Any]]:
    """The query log in one line: per source and topic, how many searches, what they found, which failed.

    Searches of one source for one topic (a registry queried per indication) are one entry, so the line
    stays short; a failure is never folded away: each is counted and its status named.
    """
    groups: dict[tuple[str, str | None], list[QueryLogEntry]] = {}
    for entry in pack.meta.query_log:
        topic = entry.resolved_topic
        groups.setdefault((entry.source, topic.value if topic else None), []).append(entry)
    rows = []
    for (source, topic), entries in groups.items():
        ran = [e for e in entries if e.succeeded]
        failed = [e for e in entries if not e.succeeded]
        parts = [counted(len(entries), "search", "searches")] if len(entries) > 1 else []
        counts = [e.result_count for e in ran if e.result_count is not None]
        if counts:
            parts.append(counted(sum(counts), "result"))
        elif ran and all(_status(e) == "not found" for e in ran):
            parts.append("nothing found")
        elif ran:
            parts.append("ran")
        statuses = ", ".join(dict.fromkeys(_status(e) for e in failed))
        failure = f"{len(failed)} failed ({statuses})" if len(entries) > 1 and failed else (
            f"failed ({statuses})" if failed else None)
        rows.append({"source": source, "topic": topic, "found": ", ".join(parts), "failed": failure})
    return rows


def _data_gaps(pack: EvidencePack) -> list[str]:
    """The pack's data gaps, then one per query that did not run: a failed search is not an empty one."""
    gaps = [gap.item for gap in pack.meta.data_gaps]
    for entry in pack.meta.query_log:
        if not entry.succeeded:
            topic = entry.resolved_topic
            query = " ".join((entry.query or "").split())
            what = f"{entry.source} search" + (f" for \u201c{query}\u201d" if query else "")
            gaps.append(f"The {what}{f' ({topic.value})' if topic else ''} did not complete ({_status(entry)}): "
                        "what it would have found is unknown.")
    return gaps


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
    anchors = Anchors(pack, sorted(outcomes))
    drafted = [_indication(pack, outcomes[r], assessment.for_rank(r), r, anchors) for r in sorted(outcomes)]
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
        "mechanism": _mechanism(pack),
        "data_cutoff": pack.meta.data_cutoff.isoformat() if pack.meta.data_cutoff else None,
        "searches": _searches(pack),
        "data_gaps": _data_gaps(pack),
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


def hex_groups(digest: str, size: int = 4) -> str:
    """A hash prefix in groups of four ('de03 8157 4213 4eb0'), as key fingerprints are printed.

    Easier to compare by eye, and never shaped like an identifier: written whole, a digest that
    starts with letters and goes on with six digits or more ('de03815742134eb0') reads as a
    registry-like id, and the report would fail its own lint.
    """
    return " ".join(digest[i:i + size] for i in range(0, len(digest), size))


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
    env.filters["hexgroups"] = hex_groups
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
    plans = {ind["rank"]: ind["monitoring"] for ind in context["drafted"]}
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
            "monitoring_plan": [{k: step[k] for k in ("key", "action", "what", "why", "source")}
                                for step in plans.get(outcome.rank, [])],
        })
    return {
        "schema": RECORD_SCHEMA,
        "status": result.status.value,
        "date": context["date"],
        "pack": {"pack_id": context["pack_id"], "sha256": context["pack_sha256"], "drug": result.pack.drug.inn,
                 "jurisdiction": result.pack.jurisdiction.country, "data_cutoff": context["data_cutoff"]},
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
