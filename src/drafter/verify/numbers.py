"""Numbers: every figure in a pack statement is found in what it cites, or is one the rules computed.

Deny by default for figures. A trial's enrolment or a count has its own check, but a statement can
state any number ("50% reduction in 28-day mortality", "400 mg twice daily", "halved the relapse
rate"), and a number nobody compared with its source is exactly what a model gets wrong. So every
number in a drafted pack statement (digits or words, percentages, ranges, doses, durations,
p-values, years) must occur among the figures of the items the statement cites (their fields and
their text) or among the figures the rules computed for that indication (counts, score, rank,
level); otherwise it is ``NUMBER_UNGROUNDED``. A background statement states no figure at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from drafter.casefold import compile_lowered, lower_same_length
from drafter.extract import IdMention, find_counts, find_numbers, find_trial_facts
from drafter.pack.models import MOA_KEY, SAFETY_KEY_PREFIX, TrialStatus
from drafter.rules import counted_trials
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.index import PackIndex

_UNITS = (r"mg|mcg|\u00b5g|ug|ng|g|kg|ml|l|iu|u|mmol|\u00b5mol|umol|nmol|mol|mm|cm|m|h|hrs?|hours?|d|wk|wks|mo|yr|yrs|"
          r"y|min|s|ms|mmhg|bpm|x|fold")
_DIGITS = re.compile(
    r"(?<![A-Za-z0-9])(?<![A-Za-z]-)(?<!\d[.,])"
    r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?P<d>\.\d+)?"
    # '44k participants' is 44,000 of them, not 44; '4m patients' four million, where 'm' is no metre
    r"(?P<k>[kK](?![A-Za-z0-9]))?(?P<mn>[mM](?=\s*(?:participants|patients|people|persons|subjects|individuals|"
    r"adults|children|volunteers|smokers|users|cases|women|men)\b))?"
    rf"(?P<pct>\s*(?:%|percent\b|per\s+cent\b))?(?=[^A-Za-z0-9]|$|(?i:{_UNITS})(?![A-Za-z]))"
    r"(?!-[A-Z])",  # '5-HT', '2-AG' name molecules, not figures ('28-day' is a duration)
)
_WORD_VALUES = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12,
    "half": 50, "halved": 50, "halve": 50,
    "halving": 50, "twice": 2, "double": 2, "doubled": 2, "doubling": 2, "thrice": 3, "triple": 3, "tripled": 3,
    "threefold": 3, "twofold": 2, "fourfold": 4, "tenfold": 10,
}
_MEASURE_WORDS = {"half", "halved", "halve", "halving", "twice", "double", "doubled", "doubling", "thrice", "triple",
                  "tripled", "threefold", "twofold", "fourfold", "tenfold"}
_WORDS = compile_lowered(r"\b(?P<w>" + "|".join(sorted(_WORD_VALUES, key=len, reverse=True)) + r")\b"
                         # 'double-blind', 'triple-masked', 'half-life', 'double-dummy' name a design or a quantity, not a figure
                         r"(?![\s-]*(?:blind|dummy|mask|life|lives|maximal|strand|bond|layer|check))")
# Numbers that other checks own or that are no figure: a phase, an evidence level, a rank, an
# ordinal, a receptor or enzyme name ('CYP3A4', 'GABA-B', 'COX-2' are caught by the letter rules).
_NOT_FIGURES = compile_lowered(
    r"\bphase[\s-]*(?:[0-4]|i{1,3}|iv)[ab]?(?:\s*(?:/|-|to|and)\s*(?:phase[\s-]*)?(?:[0-4]|i{1,3}|iv)[ab]?)?\b"
    r"|\bL[1-5]\b|\blevel[\s-]*[1-5]\b|\brank(?:ed|s)?\s*(?:#|no\.?\s*|number\s+)?\d+\b|\b\d+(?:st|nd|rd|th)\b"
    r"|\bstage\s*S?[0-3]\b|\bS[0-3]\b",
)


@dataclass(frozen=True)
class Figure:
    value: float
    decimals: int
    percent: bool
    start: int
    end: int
    text: str
    measure: bool = False  # a dose, duration, frequency or percentage: only a source can state it
    approximate: bool = False  # a fraction in words ('a third'): any source figure within a point matches


# What follows a number that makes it a measurement rather than a tally.
_MEASURE_AFTER = re.compile(
    rf"\s*-?\s*(?:(?i:{_UNITS})\b|(?i:days?|weeks?|months?|years?|daily|times|doses?|tablets?|percent|per\s+cent|"
    r"mg/kg|hours?|minutes?|seconds?|cycles?|courses?|points?|fold|per\s+day|a\s+day|weekly))",
)


def figures_in(text: str) -> list[Figure]:
    """Every figure written in (normalised) ``text``: digits with their decimals and percent sign, and words."""
    return list(_figures(text))


@lru_cache(maxsize=8192)
def _figures(text: str) -> tuple[Figure, ...]:
    low = lower_same_length(text)  # for the word patterns; figures quote ``text`` (casefold)
    if not _DIGIT_OR_WORD.search(low) and not _FRACTIONS.search(low):
        return ()
    blocked = [m.span() for m in _NOT_FIGURES.finditer(low)]
    found: list[Figure] = []
    for match in _DIGITS.finditer(text):
        if any(s <= match.start() < e for s, e in blocked):
            continue
        decimals = len(match.group("d") or "") - (1 if match.group("d") else 0)
        scale = 1000 if match.group("k") else 1_000_000 if match.group("mn") else 1
        value = float(match.group("n").replace(",", "") + (match.group("d") or "")) * scale
        percent = bool(match.group("pct"))
        measure = percent or bool(match.group("d")) or bool(_MEASURE_AFTER.match(text, match.end()))
        found.append(Figure(value, decimals, percent, match.start(), match.end(), match.group(0), measure))
    for match in _WORDS.finditer(low):
        if any(s <= match.start() < e for s, e in blocked):
            continue
        word = match.group("w")
        measure = word in _MEASURE_WORDS or bool(_MEASURE_AFTER.match(text, match.end()))
        found.append(Figure(float(_WORD_VALUES[word]), 0, word.startswith("hal"), match.start(), match.end(),
                            text[match.start():match.end()], measure))
    for match in _FRACTIONS.finditer(low):
        if any(s <= match.start() < e for s, e in blocked):
            continue
        if match.group("part"):
            share = _FRACTION_VALUES[match.group("part").lower().rstrip("s")] * _count_word(match.group("count"))
        else:
            share = 1 / _WORD_VALUES[match.group("of").lower()]
        found = [f for f in found if not (match.start() <= f.start < match.end())]  # 'two thirds': one figure
        found.append(Figure(round(share * 100, 1), 1, True, match.start(), match.end(), text[match.start():match.end()],
                            True, True))
    found.sort(key=lambda f: f.start)
    # The first number of a range is what the second is: '18-60 years', '200 to 400 mg'.
    for i in range(len(found) - 2, -1, -1):
        first, second = found[i], found[i + 1]
        if second.measure and not first.measure and _RANGE_JOIN.fullmatch(text[first.end:second.start]):
            found[i] = replace(first, measure=True)
    return tuple(found)


_FRACTION_VALUES = {"half": 1 / 2, "third": 1 / 3, "quarter": 1 / 4, "fifth": 1 / 5, "tenth": 1 / 10}
# 'a third of participants', 'two-thirds', 'three quarters', 'one in five': shares written in words.
_FRACTIONS = compile_lowered(
    r"\b(?P<count>an?|one|two|three|four)[\s-]+(?P<part>thirds?|quarters?|fifths?|tenths?)\b"
    r"|\b(?P<one>one)\s+in\s+(?P<of>two|three|four|five|six|seven|eight|nine|ten)\b",
)


def _count_word(word: str | None) -> int:
    return {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}.get((word or "one").lower(), 1)


_RANGE_JOIN = re.compile(r"\s*(?:-|to|and|or)\s*", re.IGNORECASE)
_DIGIT_OR_WORD = re.compile(r"\d|" + _WORDS.pattern)  # for lower-cased text, as _WORDS


@lru_cache(maxsize=65536)
def values_in(text: str) -> frozenset[float]:
    """The values a source text states (its figures, as numbers), for grounding."""
    return frozenset(f.value for f in figures_in(text))


def item_source_text(index: PackIndex, key: str, rank: int | None) -> str:
    """What a cited item says, fields and text together: the figures a statement citing it may state."""
    if key == MOA_KEY:
        return index.pack.drug.mechanism_of_action or ""
    if key.startswith(SAFETY_KEY_PREFIX):
        item = index.pack.safety_items().get(key)
        if item is None:
            return ""
        return " ".join(str(v) for v in (item.text, getattr(item, "frequency", None)) if v)
    if key.startswith("PMID:"):
        pmid = key[5:]
        if pmid not in index.articles:
            return ""
        article = index.article(pmid, rank)
        return " ".join(str(v) for v in (article.title, article.journal, article.year, article.abstract,
                                         article.summary, " ".join(article.publication_types)) if v)
    if key not in index.trials:
        return ""
    trial = index.trial(key, rank)
    # The phase is no source of figures: 'Phase 2' is checked as a phase, and must not ground 'twice daily'.
    # The pack's summary of the registered results is the pack's text too (quotes may come from it).
    results = trial.results.summary if trial.results is not None else None
    parts = [trial.title, trial.summary, results, trial.enrollment, trial.start_date, trial.completion_date]
    return " ".join(str(v) for v in parts if v is not None)


def _computed_figures(index: PackIndex, rank: int) -> frozenset[float]:
    """Every figure the rules compute for one indication: counts (overall, by phase, by status), score, rank, level."""
    cached = index.memo.get(("figures", rank))
    if cached is None:
        cached = index.memo[("figures", rank)] = _compute_figures(index, rank)
    return cached  # type: ignore[no-any-return]


def _compute_figures(index: PackIndex, rank: int) -> frozenset[float]:
    indication = index.indications[rank]
    trials = list(counted_trials(indication))
    values: set[float] = {float(len(indication.trials)), float(len(trials)), float(len(indication.articles)),
                          float(rank), float(len(index.indications))}
    phases = {t.phase for t in trials}
    statuses: set[TrialStatus] = {t.status for t in trials}
    for phase in phases:
        values.add(float(sum(1 for t in trials if t.phase is phase)))
        for status in statuses:
            values.add(float(sum(1 for t in trials if t.phase is phase and t.status is status)))
    for status in statuses:
        values.add(float(sum(1 for t in trials if t.status is status)))
    level = index.assessment.for_rank(rank).level
    values.add(float(level[1:]))
    if indication.score is not None:
        values.add(indication.score)
    return frozenset(values)


def _grounded(figure: Figure, sources: frozenset[float], tallies: frozenset[float], score: float | None) -> bool:
    if figure.value in sources or (not figure.measure and figure.value in tallies):
        return True
    if figure.approximate and any(abs(s - figure.value) <= 1.0 for s in sources):
        return True
    if figure.percent and score is not None and round(score * 100, figure.decimals) == figure.value:
        return True
    if figure.decimals and any(round(s, figure.decimals) == figure.value for s in sources):
        return True  # '0.99' for a score of 0.9932, '12.3' for 12.34 in the source
    return False


def check_percentages_beside_ids(findings: Findings, sentence: str, where: Where, ids: Sequence[IdMention]) -> None:
    """Lint: a percentage in a sentence that cites a pack item must be one that item's record states.

    'Baclofen reduced smoking by 80% in NCT01821560' puts a result on a trial whose record may say
    nothing of it. Lint reads reports nobody drafted, so only percentages are held to this (counts,
    scores, ranks and levels have checks of their own; other figures are too often the report's own
    arithmetic), and only beside an id the pack holds.
    """
    known = [m for m in ids if m.kind != "malformed" and findings.index.in_pack(m.key)]
    if not known:
        return
    figures = [f for f in figures_in(sentence) if f.percent and not f.approximate]
    if not figures:
        return
    owned = [(m.start, m.end) for m in ids] + [(n.start, n.end) for n in find_numbers(sentence)]
    owned += [(c.start, c.end) for c in find_counts(sentence)]
    index = findings.index
    values: set[float] = set()
    for mention in known:
        values |= values_in(item_source_text(index, mention.key, where.rank))
    for figure in figures:
        if any(s <= figure.start < e or figure.start <= s < figure.end for s, e in owned):
            continue
        if figure.value not in values:
            findings.add("NUMBER_UNGROUNDED", where, f"'{figure.text}' is stated beside "
                         f"{', '.join(m.key for m in known[:3])}, whose record does not state it", figure.text)


def check_numbers(findings: Findings, sentence: str, where: Where, citing: Citing,
                  ids: Sequence[IdMention] = ()) -> None:
    if citing.lint:
        check_percentages_beside_ids(findings, sentence, where, ids)
        return
    figures = figures_in(sentence)
    if not figures:
        return
    # Digits inside an identifier are no figure; counts, scores, ranks and levels have checks of their own.
    owned = [(m.start, m.end) for m in ids]
    owned += [(c.start, c.end) for c in find_counts(sentence)]
    owned += [(n.start, n.end) for n in find_numbers(sentence)]
    known = [m for m in ids if m.kind != "malformed" and findings.index.in_pack(m.key)]
    if known:  # a fact beside a pack id is checked against that id's record (drafter.verify.trial_facts)
        has_trial = any(m.kind == "trial" for m in known)
        owned += [(f.start, f.end) for f in find_trial_facts(sentence) if f.kind == "year" or has_trial]
    figures = [f for f in figures if not any(s <= f.start < e or f.start <= s < f.end for s, e in owned)]
    if not figures:
        return
    if citing.background:
        already = any(f.code.startswith("BACKGROUND_WITH") and f.location == where.location
                      and f.statement == where.statement for f in findings.items[-3:])
        if not already:
            findings.add("BACKGROUND_WITH_FIGURE", where, f"a background statement states '{figures[0].text}'; "
                         "figures must come from the pack and cite it", figures[0].text)
        return
    index = findings.index
    sources: set[float] = set()
    for key in sorted(citing.keys):
        memo_key = ("item", key, where.rank)
        values = index.memo.get(memo_key)
        if values is None:
            values = index.memo[memo_key] = values_in(item_source_text(index, key, where.rank))
        sources |= values  # type: ignore[arg-type]
    # 'Two completed Phase 3 trials (A and B)': a tally of the items the statement itself cites.
    cited_trials = sum(1 for k in citing.keys if k in index.trials)
    cited_articles = sum(1 for k in citing.keys if k.startswith("PMID:"))
    tallies = {float(cited_trials), float(cited_articles), float(cited_trials + cited_articles)}
    score = None
    if where.rank is not None and where.rank in index.indications:
        tallies |= _computed_figures(index, where.rank)
        score = index.indications[where.rank].score
    frozen, frozen_tallies = frozenset(sources), frozenset(tallies)
    quotes = None
    for figure in figures:
        if not _grounded(figure, frozen, frozen_tallies, score):
            findings.add("NUMBER_UNGROUNDED", where, f"'{figure.text}' is not a figure of the cited items "
                         f"({', '.join(sorted(citing.keys)) or 'none'}) or of the rules' results for this indication",
                         figure.text)
            continue
        if not citing.quotes or not figure.measure:
            continue  # a statement with no quotes at all is QUOTE_MISSING's to report
        quotes = quotes or index.quotes
        number = figure.text.rstrip("% ").strip()
        if not quotes.covered(number, citing.quotes, sorted(citing.keys)):
            findings.add("QUOTE_NOT_COVERING", where, f"'{figure.text}' is in the cited items but in none of the "
                         "statement's quotes; quote the words that state it", figure.text)
