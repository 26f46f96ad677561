"""Drafted statements: keys that exist, support that is honest, text that is plain, decisions within ceiling.

A drafted statement is checked as a whole (its keys and support) and then sentence by sentence
(:mod:`drafter.verify.sentences`), with the statement's keys as the only citations it may make.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from drafter.casefold import compile_lowered, lower_same_length
from drafter.drafts import IndicationSections, ReportDraft, Statement, Support
from drafter.extract import find_counts, find_numbers
from drafter.identifiers import IdentifierError, normalise_pmid, normalise_trial_id
from drafter.pack.models import MOA_KEY, SAFETY_KEY_PREFIX
from drafter.rules import Decision
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.findings import Verification
from drafter.verify.identifiers import check_scope
from drafter.verify.index import PackIndex
from drafter.verify.levels import check_decision, check_level_conflicts
from drafter.verify.numbers import figures_in
from drafter.verify.reading import normal
from drafter.verify.sentences import check_text


def verify_draft(index: PackIndex, draft: ReportDraft | IndicationSections, rank: int | None) -> Verification:
    findings = Findings(index)
    if isinstance(draft, IndicationSections):
        if rank is None:
            raise ValueError("verify(pack, sections) needs rank= to know which indication the sections are for")
        drafted: Iterable[tuple[str, int, IndicationSections]] = [("", rank, draft)]
    else:
        drafted = [(f"indications[{i}].", item.rank, item.sections) for i, item in enumerate(draft.indications)]
    for prefix, drafted_rank, sections in drafted:
        if drafted_rank not in index.indications:
            findings.add("DRAFT_UNKNOWN_INDICATION", Where(f"{prefix}rank", "", None, ""),
                         f"the draft is for rank {drafted_rank}, which the pack does not have")
            continue
        check_sections(findings, sections, drafted_rank, prefix)
    check_level_conflicts(findings)
    return Verification(tuple(findings.items))


def check_sections(findings: Findings, sections: IndicationSections, rank: int, prefix: str) -> None:
    for location, statement in sections.statements():
        section = location.split(".", 1)[0] if location.startswith("mech") else location.split("[", 1)[0]
        check_statement(findings, statement, Where(prefix + location, section, rank, statement.text),
                        sections.conclusion.decision)
    decision = sections.conclusion.decision
    check_decision(findings, decision, rank, Where(f"{prefix}conclusion.decision", "conclusion", rank, decision.value),
                   decision.value)


def check_statement(findings: Findings, statement: Statement, where: Where, decision: Decision | None = None) -> None:
    index = findings.index
    keys: set[str] = set()
    for position, raw in enumerate(statement.keys):
        key = normalise_key(raw)
        key = index.aliases.get(key, key) if key else key
        if key is None or not is_citable(index, key):
            # The message names the key by position; the span (the raw key, model text) only locates it and
            # stays in the JSON record, never in a report.
            findings.add("KEY_UNKNOWN", where, f"keys[{position}] is not a key of this pack", raw)
            continue
        keys.add(key)
        if key in index.ranks_of_key:
            check_scope(findings, key, where, key)
    if statement.support is Support.BACKGROUND and statement.keys:
        findings.add("BACKGROUND_WITH_KEYS", where, "a background statement lists pack keys; mark it 'pack' if it "
                     "rests on them", ", ".join(sorted(keys)))
    if statement.support is Support.PACK and not statement.keys:
        findings.add("PACK_WITHOUT_KEYS", where, "the statement says it rests on the pack but cites no pack item")
    check_plain_text(findings, statement.text, where)
    citing = Citing(statement.support, frozenset(keys), decision, tuple(statement.quotes))
    if statement.support is Support.PACK:
        check_quotes(findings, statement, where, sorted(keys))
    elif statement.quotes:
        findings.add("QUOTE_NOT_FOUND", where, "a background statement carries quotes; quotes come from cited pack "
                     "items, so mark it 'pack' and cite them, or drop the quotes")
    check_text(findings, statement.text, where, citing)


def check_quotes(findings: Findings, statement: Statement, where: Where, keys: list[str]) -> None:
    # Counts, scores, ranks and levels are the rules' figures, and tallies need no source words: they are
    # blanked before deciding whether the statement reports what a source says.
    text = normal(statement.text)
    spans = [(c.start, c.end) for c in find_counts(text)] + [(n.start, n.end) for n in find_numbers(text)]
    spans += [(f.start, f.end) for f in figures_in(text) if not f.measure]
    blanked = list(text)
    for start, end in spans:
        blanked[start:end] = " " * (end - start)
    # The indication's and the drug's own names are no safety terms ('pericarditis' in a pericarditis section).
    cue_text = findings.index.blank_names("".join(blanked))
    for problem in findings.index.quotes.problems(cue_text, statement.quotes, keys):
        findings.add(problem.code, where, problem.message, text[problem.start:problem.end])


# Anything a Markdown or HTML renderer would read as structure. A statement is one or two plain
# sentences; the assembler escapes everything anyway, but a statement that tries this is not clean.
_MARKUP = compile_lowered(  # searched in the lower-cased copy (casefold)
    r"[\r\n\u2028\u2029\x0b\x0c\x85]"  # line breaks of any kind
    r"|<\s*/?\s*[A-Za-z!?]"  # an HTML tag, comment or declaration
    r"|&(?:#\d+|#x[0-9a-f]+|[a-z]+);"  # an HTML entity
    r"|!?\[[^\]]*\]\s*[(\[]"  # a Markdown link or image
    r"|\]\s*:"  # a link reference definition
    r"|(?:https?|javascript|data|vbscript|file):"  # a URL scheme
    r"|`|\*\*|__|~~|\|"  # code, strong emphasis, strikethrough, table cells
    r"|^\s*(?:#{1,6}\s|>|[-*+]\s|\d+[.)]\s|={3,}|-{3,})",  # headings, quotes, list items, rules
)


def check_plain_text(findings: Findings, text: str, where: Where) -> None:
    match = _MARKUP.search(lower_same_length(text))
    if match:
        findings.add("STATEMENT_MARKUP", where, "the statement contains markup or a line break "
                     f"(at character {match.start()}); a statement must be plain text in one paragraph")


def is_citable(index: PackIndex, key: str) -> bool:
    if key == MOA_KEY:
        return index.pack.drug.mechanism_of_action is not None
    if key.startswith(SAFETY_KEY_PREFIX):
        return key in index.safety_concepts
    return key in index.ranks_of_key


def normalise_key(raw: str) -> str | None:
    """A statement key in canonical form, or None if it is no key at all."""
    text = raw.strip()
    upper = text.upper()
    if upper == MOA_KEY:
        return MOA_KEY
    if upper.startswith(SAFETY_KEY_PREFIX):
        return SAFETY_KEY_PREFIX + text[len(SAFETY_KEY_PREFIX):].strip()
    if upper.startswith("PMID"):
        try:
            return f"PMID:{normalise_pmid(text)}"
        except IdentifierError:
            return None
    try:
        return normalise_trial_id(text)
    except IdentifierError:
        return None
