"""Trial facts: a phase, status, enrolment or year written about a trial or article matches its record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from drafter.casefold import compile_lowered, lower_same_length
from drafter.extract import Fact, IdMention, find_trial_facts
from drafter.pack.models import OutcomeResult, Phase, Trial, TrialStatus
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.index import PackIndex


def check_trial_facts(findings: Findings, sentence: str, ids: Sequence[IdMention], where: Where,
                      citing: Citing | None = None) -> None:
    known = [m for m in ids if m.kind != "malformed" and findings.index.in_pack(m.key)]
    if not known:
        if citing is not None and not citing.lint and not citing.background:
            check_facts_against_keys(findings, sentence, where, citing)
        return
    for fact in find_trial_facts(sentence):
        if any(m.start < fact.end and fact.start < m.end for m in ids):
            continue  # digits inside an identifier ('EudraCT 2011-004300-38') are not a year
        use = year_use(sentence, fact) if fact.kind == "year" else "date"
        if use == "bound":
            continue
        candidates = owners(sentence, fact, known, trials_only=fact.kind != "year" or use == "range")
        if not candidates:
            continue
        if fact.total:
            summed = total_owners(sentence, fact, known)
            if len(summed) > 1:
                check_total_enrolment(findings, where, fact, [m.key for m in summed])
                continue
        verdicts = [fact_verdict(findings.index, fact, mention.key, where.rank) for mention in candidates]
        if any(v is None for v in verdicts):
            continue
        code, message = verdicts[0]  # type: ignore[misc]
        findings.add(code, where, message, fact.text)



# A study or trial named as a plan, a need or a condition ('a confirmatory Phase 3 trial is needed',
# 'do not plan further study unless a trial shows ...'): nothing in the sentence is about a cited one.
# 'As planned' and 'than planned' look back at a trial's own plan.
PLAN_OR_CONDITION = re.compile(
    r"\b(?:needed|needs?|should|would|could|must|might|may|unless|if|whether|next\s+steps?|future|further|"
    r"larger|new|confirmatory|(?<!as\s)(?<!than\s)plan\w*|propos\w*|recommend\w*|warrant\w*|"
    r"design(?:ed|ing)?\s+a)\b",
    re.IGNORECASE,
)
# After a fact, only a verb of need makes its trial a plan ('a Phase 3 trial is needed'); 'this completed
# Phase 3 trial should reassure prescribers' states the phase and status of a cited trial.
_PLAN_AFTER = re.compile(
    r"^[^;:,]*?\b(?:(?:is|are|was|were|be|been)\s+(?:\w+\s+)?(?:needed|required|warranted|planned|proposed|"
    r"recommended)|(?:would|should|could|must|might|may)\s+(?:be\s+)?(?:needed|required|warranted|planned|"
    r"proposed|conducted|run|designed))\b", re.IGNORECASE)
_CLAUSE_EDGE_FOR_PLANS = re.compile(r"[;:,]|\b(?:that|which|who|because|although|though|while|whereas|but|so)\b",
                                    re.IGNORECASE)


def about_a_planned_trial(sentence: str, start: int, end: int) -> bool:
    """Is the fact at ``start:end`` said of a trial its clause proposes, needs or imagines?

    Only the fact's own clause counts: a modal verb elsewhere in the sentence ('... that may support
    approval') does not make a cited trial's phase or status a plan.
    """
    before = _CLAUSE_EDGE_FOR_PLANS.split(sentence[:start])[-1]
    after = _CLAUSE_EDGE_FOR_PLANS.split(sentence[end:])[0]
    return bool(PLAN_OR_CONDITION.search(before) or _PLAN_AFTER.search(after))


# A status word is a trial's status when it is said of a study ('the trial was terminated', 'it is still
# recruiting') or qualifies one ('the completed study'), not when it qualifies something else.
_PREDICATED_OF_A_STUDY = re.compile(r"\b(?:trials?|stud(?:y|ies)|it|which|that|was|were|is|are|has\s+been|"
                                    r"have\s+been|had\s+been|remains?|still)\s+(?:\w+\s+)?$", re.IGNORECASE)
_STUDY_AFTER = re.compile(r"\s+(?:\w+\s+)?(?:trials?|stud(?:y|ies)|RCTs?)\b", re.IGNORECASE)


def check_facts_against_keys(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    """A drafted statement writes no ids: its phases, statuses and enrolments are about the trials it cites.

    Each fact must be true of one of them. A phase stated while no trial is cited is unsupported
    (deny by default): nothing in the statement says whose phase it is. A status word with no trial
    cited is left alone ('ongoing research' is no trial status).
    """
    index = findings.index
    trials = [key for key in sorted(citing.keys) if key in index.trials]
    for fact in find_trial_facts(sentence):
        if fact.kind == "year":
            continue  # a year is a figure: drafter.verify.numbers grounds it in the cited items
        if about_a_planned_trial(sentence, fact.start, fact.end):
            continue  # a trial proposed as a next step is no cited trial ('a confirmatory Phase 3 trial is needed')
        if fact.kind == "status" and not _PREDICATED_OF_A_STUDY.search(sentence, max(0, fact.start - 30), fact.start) \
                and not _STUDY_AFTER.match(sentence, fact.end):
            continue  # 'with ongoing exposure', 'completed treatment': not the status of a trial
        if not trials:
            if fact.kind == "phase":
                findings.add("TRIAL_FACT_UNKNOWN", where, f"'{fact.text}' states a trial phase, but the statement "
                             "cites no trial; cite the trial whose phase it is", fact.text)
            continue
        verdicts = [fact_verdict(index, fact, key, where.rank) for key in trials]
        if fact.kind in ("phase", "status") and len(trials) > 1 \
                and _PREDICATED.search(lower_same_length(sentence), 0, fact.start):
            quantified = quantifier_before(sentence, fact.start)
            if quantified is not None:
                check_quantified(findings, where, fact, quantified, trials, verdicts)
                continue
        if any(v is None for v in verdicts):
            continue
        code, message = verdicts[0]  # type: ignore[misc]
        findings.add(code, where, message, fact.text)


# How many of the cited trials a phase or status is said of: 'all three trials were completed',
# 'both were Phase 2', 'none of the trials was terminated', 'most trials', 'two of the three trials'.
# Without such a word, a fact need only be true of one cited trial ('the completed trial').
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10}
_QUANTIFIER = compile_lowered(
    r"\b(?:(?P<all>all|both|every|each)|(?P<none>none|neither|no(?=\s+(?:[\w-]+\s+){0,2}(?:trials?|stud(?:y|ies)|"
    r"rcts?)\b))|(?P<most>most|the\s+majority)"
    r"|(?P<n>one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+of\s+(?:the|these|those|them|its|their|"
    r"all)\b)(?![^;:.]*\b(?:all|both|every|each|none|neither|most)\b)[^;:.]*$")
QUANTIFIER_REACH = 70  # characters before the fact, within its clause
# The fact is what the trials are ('were all completed', 'were Phase 2 trials'), not a word that picks
# some of them out ('both terminated trials were Phase 2': 'terminated' selects, 'Phase 2' is said).
_PREDICATED = compile_lowered(r"\b(?:was|were|is|are|been|be|remain(?:s|ed)?)\s+(?:(?:all|both|each|also|still|"
                              r"subsequently|later|eventually|prematurely|early|then)\s+)*(?:an?\s+)?$")


def quantifier_before(sentence: str, start: int) -> tuple[str, int] | None:
    """('all' | 'none' | 'most' | 'count', n) said of the fact at ``start``, if its clause says how many."""
    left = lower_same_length(sentence[max(0, start - QUANTIFIER_REACH):start])
    left = re.split(r"[;:]|,\s*(?:and|but|whereas|while)\b|\b(?:but|whereas|while)\b", left)[-1]
    match = _QUANTIFIER.search(left)
    if match is None:
        return None
    if match.group("n"):
        word = match.group("n")
        return "count", int(word) if word.isdigit() else _COUNT_WORDS[word]
    kind = "all" if match.group("all") else "none" if match.group("none") else "most"
    return kind, 0


def check_quantified(findings: Findings, where: Where, fact: Fact, quantified: tuple[str, int], trials: Sequence[str],
                     verdicts: Sequence[tuple[str, str] | None]) -> None:
    """A fact said of all, none, most or N of the cited trials holds for that many of them."""
    kind, n = quantified
    holds = [key for key, verdict in zip(trials, verdicts) if verdict is None]
    code = "TRIAL_PHASE_MISMATCH" if fact.kind == "phase" else "TRIAL_STATUS_MISMATCH"
    said = f"'{fact.text}'"
    if kind == "all" and len(holds) < len(trials):
        record_code, record = next(v for v in verdicts if v is not None)
        findings.add(record_code, where, f"{said} is said of every cited trial, but {record}", fact.text)
    elif kind == "none" and holds:
        findings.add(code, where, f"{said} is denied of every cited trial, but it is true of {', '.join(holds)} "
                     "in the pack", fact.text)
    elif kind == "most" and len(holds) * 2 <= len(trials):
        findings.add(code, where, f"{said} is said of most cited trials, but holds for {len(holds)} of "
                     f"{len(trials)} in the pack", fact.text)
    elif kind == "count" and len(holds) != n:
        findings.add(code, where, f"{said} is said of {n} of the cited trials, but holds for {len(holds)} of "
                     f"{len(trials)} in the pack", fact.text)


def total_owners(sentence: str, fact: Fact, ids: Sequence[IdMention]) -> list[IdMention]:
    """The trials a total enrolment sums over: every trial id of the fact's clause cited before it."""
    start, _ = _clause(sentence, fact.start, _parentheses(sentence))
    return [m for m in ids if m.kind == "trial" and start <= m.start and m.end <= fact.start]


def check_total_enrolment(findings: Findings, where: Where, fact: Fact, keys: Sequence[str]) -> None:
    """'Three RCTs (…) totalling over 850 participants' holds when the cited trials' enrolments sum so."""
    unique = list(dict.fromkeys(keys))
    trials = [findings.index.trial(key, where.rank) for key in unique]
    unknown = [key for key, t in zip(unique, trials) if t.enrollment is None]
    if unknown:
        findings.add("TRIAL_FACT_UNKNOWN", where, f"the pack records no enrolment for {', '.join(unknown)}; "
                     f"the total '{fact.text}' is unsupported", fact.text)
        return
    total = sum(t.enrollment or 0 for t in trials)
    if not fact.holds_for(total):
        findings.add("TRIAL_ENROLMENT_MISMATCH", where, f"{', '.join(unique)} enrolled {total} in all "
                     f"in the pack, not {_said(fact)}", fact.text)


def _said(fact: Fact) -> str:
    """The figure as the text bounds it: 'over 850', 'about 850', '850'."""
    words = {"at_least": "at least ", "more_than": "over ", "at_most": "at most ", "less_than": "under ",
             "approximate": "about "}
    return f"{words.get(fact.bound, '')}{fact.value}"


def fact_verdict(index: PackIndex, fact: Fact, key: str, rank: int | None = None) -> tuple[str, str] | None:
    """None when ``fact`` is true of the item ``key``; else (code, message)."""
    if key.startswith("PMID:"):
        article = index.article(key[5:], rank)
        if article.year is None:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no year for {key}"
        if fact.value == article.year:
            return None
        return "YEAR_MISMATCH", f"{key} was published in {article.year}, not {fact.value}"
    trial = index.trial(key, rank)
    if fact.kind == "phase":
        if trial.phase in (Phase.UNKNOWN, Phase.NOT_APPLICABLE):
            return "TRIAL_FACT_UNKNOWN", f"the pack records no phase for {key}; '{fact.text}' is unsupported"
        if fact.value == trial.phase:
            return None
        return "TRIAL_PHASE_MISMATCH", f"{key} is a {trial.phase.label} trial in the pack, not {fact.text}"
    if fact.kind == "status":
        if trial.status in fact.value:  # type: ignore[operator]
            return None
        if trial.status is TrialStatus.UNKNOWN:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no status for {key}; '{fact.text}' is unsupported"
        return "TRIAL_STATUS_MISMATCH", f"{key} is {trial.status.label.lower()} in the pack, not {fact.text}"
    if fact.kind == "enrollment":
        if trial.enrollment is None:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no enrolment for {key}; '{fact.text}' is unsupported"
        if fact.holds_for(trial.enrollment):
            return None
        return "TRIAL_ENROLMENT_MISMATCH", f"{key} enrolled {trial.enrollment} in the pack, not {_said(fact)}"
    years = [int(d[:4]) for d in (trial.start_date, trial.completion_date) if d]
    if not years:
        return "TRIAL_FACT_UNKNOWN", f"the pack records no dates for {key}; the year {fact.value} is unsupported"
    if min(years) <= fact.value <= max(years):  # type: ignore[operator]
        return None
    span = "-".join(str(y) for y in sorted(set(years)))
    return "YEAR_MISMATCH", f"{key} ran {span} in the pack; {fact.value} matches none of its dates"



# Where one clause ends and another begins, for attributing a fact to an id: a semicolon, or a
# conjunction that introduces other studies ('..., supported by Phase 2/3 and Phase 4 studies',
# '... (NCT...) and two terminated ones', 'whereas ...').
_CLAUSE_BREAK = compile_lowered(
    r";|,?\s+(?:supported\s+by|alongside|while|whereas|but|although|though|plus|as\s+well\s+as|"
    r"compared\s+with|in\s+addition\s+to|besides|and|or|with)\s+",
)
# Years that do not date a study: a range it covers ('cases from 1988 to 2018', '1990-2010'), or a bound
# ('post-2000 publications', 'since 2015', 'before 2010').
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s*(?:-|to|until|and|through)\s*(?:19|20)\d\d", re.IGNORECASE)
_YEAR_BOUND_BEFORE = re.compile(r"(?:\b(?:post|pre|since|after|before|until|by|from|between|spanning|through|"
                                r"up\s+to|as\s+of|mid|late|early)\s*-?\s*)$", re.IGNORECASE)


_BRACKET = re.compile(r"[()\[\]]")


@lru_cache(maxsize=4096)
def _parentheses(sentence: str) -> tuple[tuple[int, int], ...]:
    """The outermost bracketed spans; read once per sentence, though every fact of it asks."""
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    for match in _BRACKET.finditer(sentence):
        i = match.start()
        if match.group() in "([":
            stack.append(i)
        elif stack:
            start = stack.pop()
            if not stack:
                spans.append((start, i + 1))
    return tuple(spans)



def _clause(sentence: str, position: int, parens: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The clause around ``position``: between the clause breaks before and after it, outside parentheses."""
    start, end = 0, len(sentence)
    for break_start, break_end in _clause_breaks(sentence):
        if any(s <= break_start < e for s, e in parens):
            continue
        if break_end <= position:
            start = break_end
        elif break_start >= position:
            end = break_start
            break
    return start, end


@lru_cache(maxsize=4096)
def _clause_breaks(sentence: str) -> tuple[tuple[int, int], ...]:
    """Where the sentence's clauses break; found once per sentence, though every fact of it asks."""
    return tuple(m.span() for m in _CLAUSE_BREAK.finditer(lower_same_length(sentence)))


def owners(sentence: str, fact: Fact, ids: Sequence[IdMention], *, trials_only: bool) -> list[IdMention]:
    """The ids a fact is about: those of its own parenthesis or clause, never a neighbour's.

    'a Phase 3 RCT (NCT…)': the parenthesised id owns the phrase before it; 'NCT… (Phase 2, completed)':
    the id before a parenthesis owns the facts inside it; otherwise the ids of the fact's clause.
    """
    usable = [m for m in ids if not trials_only or m.kind == "trial"]
    if not usable:
        return []
    parens = _parentheses(sentence)
    inside = next(((s, e) for s, e in parens if s < fact.start and fact.end <= e), None)
    if inside is not None:
        # A semicolon separates clauses inside a parenthesis too: '(Phase 4 study NCT…; multiple Phase 3
        # trials)' says nothing of the NCT id's phase in its second clause.
        low = max(inside[0], sentence.rfind(";", inside[0], fact.start))
        high = sentence.find(";", fact.end, inside[1])
        high = inside[1] if high < 0 else high
        held = [m for m in usable if low < m.start and m.end <= high]
        if held:
            return held
        if any(inside[0] < m.start and m.end <= inside[1] for m in usable):
            return []  # the parenthesis cites ids, none of them in the fact's clause
        before = [m for m in usable if m.end <= inside[0] and not sentence[m.end:inside[0]].strip()]
        return before[-1:]
    start, end = _clause(sentence, fact.start, parens)
    in_clause = [m for m in usable if start <= m.start and m.end <= end]
    # Ids in a parenthesis right after the fact's phrase own it ('a Phase 3 RCT (NCT…)').
    following = [m for m in in_clause if m.start >= fact.end
                 and any(s <= m.start < e and s >= fact.end for s, e in parens)]
    if following:
        first_paren = next(s for s, e in parens if s <= following[0].start < e)
        return [m for m in following if first_paren <= m.start]
    before = [m for m in in_clause if m.end <= fact.start]
    after = [m for m in in_clause if m.start >= fact.end]
    return before[-1:] + after[:1]


def year_use(sentence: str, fact: Fact) -> str:
    """How a year is used: 'bound' ('post-2000', 'since 2015'), 'range' ('1988 to 2018') or 'date'.

    A bound dates nothing; a range dates a trial ('ran from 2005 to 2008') but not an article (a
    review's '348 cases spanning 1988 to 2018' is not its publication year).
    """
    if _YEAR_BOUND_BEFORE.search(sentence, max(0, fact.start - 14), fact.start) and not _YEAR_RANGE.match(
            sentence, fact.start):
        return "bound"
    if any(m.start() <= fact.start < m.end() for m in _YEAR_RANGE.finditer(sentence)):
        return "range"
    return "date"


# --- a trial's primary-outcome result ---------------------------------------------------------------

# 'met its primary endpoint', 'the primary outcome was met' / 'did not meet its primary outcome',
# 'missed its primary endpoint'. Said of the trials the sentence is about, it must be their registered
# result where the pack records one: a model that turns a negative trial into a positive one is caught
# by its words, whatever passage it quotes.
_PRIMARY = r"(?:co-?)?primary\s+(?:efficacy\s+|composite\s+)?(?:outcomes?|end-?\s?points?)"
_RESULT_MET = compile_lowered(
    rf"\b(?:met|meets|achieved|achieves|reached|reaches)\s+(?:its|their|the|both)\s+(?:own\s+)?{_PRIMARY}"
    rf"|\b{_PRIMARY}\s+(?:was|were|has\s+been|had\s+been)\s+(?:met|achieved|reached)\b")
_RESULT_NOT_MET = compile_lowered(
    rf"\b(?:did\s+not|didn't|does\s+not|do\s+not|failed\s+to|fails\s+to|fail\s+to)\s+(?:meet|achieve|reach)\s+"
    rf"(?:its|their|the)\s+(?:own\s+)?{_PRIMARY}|\bmiss(?:ed|es)\s+(?:its|their|the)\s+{_PRIMARY}"
    rf"|\b{_PRIMARY}\s+(?:was|were|has\s+been|had\s+been)\s+not\s+(?:met|achieved|reached)\b")
_RESULT_WORDS = {OutcomeResult.MET: "met", OutcomeResult.NOT_MET: "not met", OutcomeResult.MIXED: "mixed"}


def check_trial_results(findings: Findings, sentence: str, where: Where, trials: Sequence[Trial]) -> None:
    """A primary outcome said to be met (or missed) by trials whose registered results say otherwise."""
    if not trials:
        return
    low = lower_same_length(sentence)
    met, missed = _RESULT_MET.search(low), _RESULT_NOT_MET.search(low)
    claim = met or missed
    if claim is None or (met and missed):
        return  # no result said, or both, of two trials the sentence tells apart
    if about_a_planned_trial(low, claim.start(), claim.end()):
        return  # 'a confirmatory trial would need to meet its primary endpoint': a plan, not a record
    said = OutcomeResult.MET if met else OutcomeResult.NOT_MET
    known = [t for t in trials if t.results is not None and t.results.primary_outcome is not OutcomeResult.UNKNOWN]
    # One trial with that result is enough: 'COLCOT met its primary endpoint, CLEAR SYNERGY did not'
    # cites both and says 'met' of one of them.
    if known and all(t.results.primary_outcome is not said for t in known):  # type: ignore[union-attr]
        records = ", ".join(f"{t.registry_id}: {_RESULT_WORDS[t.results.primary_outcome]}"  # type: ignore[union-attr]
                            for t in known[:3])
        findings.add("TRIAL_RESULT_MISMATCH", where, f"'{sentence[claim.start():claim.end()]}' is not the registered "
                     f"primary-outcome result ({records})", sentence[claim.start():claim.end()])
