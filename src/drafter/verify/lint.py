"""Lint mode: any report (Markdown, or plain text with pipe tables) read line by line against a pack.

This module reads a report's structure (headings, tables and their columns, which indication is in
context); the claim modules do the checking. In lint mode there are no keys: any pack item may be
what a sentence means.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from drafter.extract import Fact, IdMention, bare_pmid, find_decisions, find_trial_facts, fold
from drafter.rules import Decision
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.counts import check_figures, count_for
from drafter.verify.findings import Verification
from drafter.verify.identifiers import check_ids, ids_in
from drafter.verify.index import PackIndex
from drafter.verify.quotes import quote_in
from drafter.verify.page import is_english, language_hint, report_text
from drafter.verify.reading import normal
from drafter.verify.lint_scope import scope_findings
from drafter.verify.levels import check_decision, check_level_conflicts
from drafter.verify.sentences import check_text
from drafter.verify.trial_facts import check_trial_facts, fact_verdict

_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")


_LANGUAGE_SAMPLE = 6000
_BLOCKQUOTE = re.compile(r"^(?:\s{0,3}>)+")
_LIST_ITEM = re.compile(r"^(?:\s{0,3}>)*\s*(?:[-*+]|\d{1,2}[.)])\s+")
_SOURCE_QUOTE = re.compile(r"^\s*>\s*Source text:")
_QUOTED = re.compile(r'"([^"]*)"')
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_\[\]<>|~#=+\-.!()])")


def _quotes_the_pack(index: PackIndex, line: str) -> bool:
    """Is ``line`` one of drafter's '> Source text: "…" · "…"' lines, quoting only the pack's own text?"""
    label = _SOURCE_QUOTE.match(line)
    if not label:
        return False
    rest = line[label.end():]
    quotes = _QUOTED.findall(rest)
    if not quotes or _QUOTED.sub("", rest).replace("\u00b7", "").strip():
        return False
    sources = index.quotes.texts.values()
    return all(any(quote_in(_MARKDOWN_ESCAPE.sub(r"\1", quote), text) for text in sources) for quote in quotes)


_COLUMN_KINDS = (
    ("pmid", re.compile(r"\bpmid\b", re.I)),
    ("trial", re.compile(r"\b(?:trial|nct|registry|registration)\b", re.I)),
    ("phase", re.compile(r"\bphase\b", re.I)),
    ("status", re.compile(r"\bstatus\b", re.I)),
    ("enrollment", re.compile(r"\benrol|^n$|participants|sample", re.I)),
    ("year", re.compile(r"\byear\b", re.I)),
)
_ROW_LABELS = (
    ("trial_count", re.compile(r"number of (?:registered )?(?:clinical )?trials", re.I)),
    ("article_count", re.compile(r"number of (?:publications|articles|papers)", re.I)),
    ("indication", re.compile(r"indication", re.I)),
)


# A character reference is the character to whoever reads the rendered page: 'N&#67;T09999999' shows
# as NCT09999999 and must be read as one. A reference to a line break or a control reads as a space,
# so the line numbers of findings stay those of the file.
_REFERENCE = re.compile(r"(?<!\\)&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_references(text: str) -> str:
    """``text`` with every HTML character reference replaced by the character it names."""
    if "&" not in text:
        return text
    return _REFERENCE.sub(_decoded_reference, text)


def _decoded_reference(match: re.Match[str]) -> str:
    decoded = html.unescape(match.group(0))
    return "".join(" " if (c.isspace() or not c.isprintable()) else c for c in decoded)


def verify_text(index: PackIndex, text: str) -> Verification:
    findings = Findings(index)
    text = decode_references(report_text(text))  # the report, not the page template (same line numbers)
    sample = text[:_LANGUAGE_SAMPLE]  # a report's language shows in its first pages; reading them all costs ms
    if not is_english(sample):
        language = language_hint(sample) or "unknown"
        findings.add("REPORT_NOT_ENGLISH", Where("line 1", "", None, ""), f"the report reads as {language}, not "
                     "English; lint checks English prose only, so nothing in it was verified")
        return Verification(tuple(findings.items))
    lint = Citing(None)
    # No indication is in context until the report names one, unless the pack has only one.
    rank: int | None = min(index.indications) if len(index.indications) == 1 else None
    section = ""
    lead = ""  # the paragraph line a list item hangs from
    header: list[str] | None = None
    lines = normal(text).splitlines()
    # drafter's own reports quote each statement's sources beneath it: those words are the pack's, not
    # claims. Only a line whose every quote is in the pack is skipped, so the label hides nothing else.
    lines = ["" if _quotes_the_pack(index, line) else line for line in lines]
    # A report exported as plain text has lost its heading marks: its headings are its short title lines.
    plain = not any(_HEADING.match(line) for line in lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            header = None
            lead = ""
            continue
        if _TABLE_SEPARATOR.match(line):
            continue
        is_row = line.count("|") >= 2 or line.strip().startswith("|")
        next_is_separator = number < len(lines) and bool(_TABLE_SEPARATOR.match(lines[number]))
        if is_row and next_is_separator:
            header = _cells(line)
            continue
        if not is_row:
            header = None
            if _is_heading(line, lines[number] if number < len(lines) else "", plain):
                section = (_HEADING.match(line).group(2) if _HEADING.match(line) else line).strip()  # type: ignore[union-attr]
                named = index.named_ranks(line)
                if named:
                    rank = named[-1]
        is_item = bool(_LIST_ITEM.match(line))
        if not is_row and not is_item:
            lead = line.strip()
        where = Where(f"line {number}", section, rank, line.strip(), f"{section}. {lead if is_item else ''}")
        if is_row:
            rank = check_row(findings, _cells(line), header, where, rank)
        else:
            # A blockquote's '>' is markup: read as prose it would make '> No registered trials' a bound.
            check_text(findings, _BLOCKQUOTE.sub(lambda m: " " * len(m.group(0)), line), where, lint)
    check_level_conflicts(findings)
    return Verification(tuple(scope_findings(index.pack, index.assessment, findings.items)))


def check_row(findings: Findings, cells: list[str], header: list[str] | None, where: Where,
              rank: int | None) -> int | None:
    """Check one table row; returns the indication in context afterwards (a row may name it)."""
    lint = Citing(None)
    index = findings.index
    if header is None or len(cells) == 2:
        label, value = (cells[0], " | ".join(cells[1:])) if len(cells) >= 2 else ("", cells[0] if cells else "")
        kind = next((k for k, pattern in _ROW_LABELS if pattern.search(label)), None)
        if kind == "indication":
            named = index.named_ranks(value)
            if named:
                rank = named[0]
                where = Where(where.location, where.section, rank, where.statement)
        if kind in ("trial_count", "article_count") and rank is not None:
            match = re.match(r"\s*(\d+)", value)
            if match:
                what = "trials" if kind == "trial_count" else "articles"
                actual = count_for(findings.index, rank, what, frozenset(), None)
                if int(match.group(1)) != actual:
                    noun = "trials" if what == "trials" else "publications"
                    findings.add("COUNT_MISMATCH", where, f"'{label}: {match.group(1)}': the pack holds {actual} {noun}",
                                match.group(1))
        for cell in cells:
            ids = ids_in(findings.index, cell)
            check_ids(findings, ids, where, lint)
            check_trial_facts(findings, cell, ids, where)
        labelled = f"{label}: {value}"
        if kind not in ("trial_count", "article_count"):
            check_figures(findings, labelled, where, False, lint=True)
        for decision in find_decisions(labelled) if rank is not None else ():
            check_decision(findings, Decision(decision.text), rank, where, decision.text)
        return rank
    columns = column_kinds(tuple(header))
    row_ids: list[IdMention] = []
    for i, cell in enumerate(cells):
        ids = ids_in(findings.index, cell)
        if columns.get(i) == "pmid" and not ids:
            key = bare_pmid(cell)
            if key:
                ids = [IdMention("pmid", key, 0, len(cell), cell)]
        check_ids(findings, ids, where, lint)
        row_ids.extend(m for m in ids if m.kind != "malformed" and findings.index.in_pack(m.key))
    primary = row_ids[0] if row_ids else None
    for i, cell in enumerate(cells):
        kind = columns.get(i)
        if primary is None or kind not in ("phase", "status", "enrollment", "year") or not cell.strip():
            continue
        fact = _cell_fact(kind, cell)
        if fact is None or (kind != "year" and primary.kind != "trial"):
            continue
        verdict = fact_verdict(findings.index, fact, primary.key, rank)
        if verdict is not None:
            findings.add(verdict[0], where, verdict[1], cell)
    return rank


@lru_cache(maxsize=256)
def column_kinds(header: tuple[str, ...]) -> Mapping[int, str | None]:
    """What each column of a table holds (pmid, phase, status ...), read once per header, not per row."""
    return MappingProxyType({i: next((k for k, p in _COLUMN_KINDS if p.search(h)), None) for i, h in enumerate(header)})


def _cell_fact(kind: str, cell: str) -> Fact | None:
    if kind == "enrollment":
        match = re.match(r"\s*(\d{1,3}(?:,\d{3})+|\d+)\s*$", fold(cell))
        return Fact("enrollment", int(match.group(1).replace(",", "")), 0, len(cell), cell) if match else None
    if kind == "year":
        match = re.match(r"\s*((?:19|20)\d\d)\b", cell)
        return Fact("year", int(match.group(1)), 0, len(cell), cell) if match else None
    facts = [f for f in find_trial_facts(cell if kind == "status" or "phase" in cell.lower() else f"Phase {cell}")
             if f.kind == kind]
    return facts[0] if facts else None


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def _is_heading(line: str, next_line: str, plain: bool) -> bool:
    """A Markdown heading: ATX ('## Nicotine Dependence') or setext (a line underlined with = or -).

    A short bold line ('**Decision: Go**', '**Rationale:**') is emphasis inside a section, not a heading,
    so it neither starts a section nor changes the indication in context. In a report exported as plain
    text (no heading marks anywhere), a short line without closing punctuation is a heading.
    """
    if _HEADING.match(line):
        return True
    stripped = line.strip()
    if not stripped or "|" in line:
        return False
    if _SETEXT.match(next_line):
        return True
    return (plain and len(stripped) <= 100 and not stripped.endswith((".", ":", ";", ","))
            and not stripped.startswith(("**", "__", "- ", "* ")))


_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
