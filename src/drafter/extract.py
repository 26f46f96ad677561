"""Finding checkable claims in prose: identifiers, trial facts, counts, scores, ranks, levels, decisions.

The verifier can only check what it can find, and it must find it the same way every time, so this
module is plain regular expressions over a normalised copy of the text (Unicode dashes, non-breaking
spaces and curly quotes folded to ASCII, character for character, so offsets still point into the
original). Every function is pure and returns spans; deciding whether a claim is true is the
verifier's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from drafter.casefold import compile_lowered, lower_same_length
from drafter.identifiers import REGISTRY_FORMATS, IdentifierError, normalise_trial_id
from drafter.pack.models import Phase, TrialStatus, parse_phase

# --- normalisation ----------------------------------------------------------------------------------

_FOLD = str.maketrans({
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\uff1a": ":", "\uff5c": "|",
})


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Same length as ``text``, with typographic variants folded so one pattern matches them all."""
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


# --- sentences --------------------------------------------------------------------------------------

_ABBREVIATIONS = {"e.g", "i.e", "al", "vs", "approx", "cf", "dr", "fig", "no", "st", "etc", "ca", "resp", "mr", "ms",
                  "prof", "inc", "ltd", "vol", "ref", "refs", "nos", "jr", "sr", "figs", "eq", "viz"}
_SPLIT_CANDIDATE = re.compile(r"[.!?](?=[\"')\]]*\s+[\"'(\[]*[A-Z0-9])")


def split_sentences(text: str) -> list[Span]:
    """Sentences of one line or statement; abbreviations such as 'et al.' and 'e.g.' do not end one."""
    spans: list[Span] = []
    start = 0
    for match in _SPLIT_CANDIDATE.finditer(text):
        end = match.end()
        word = re.search(r"([A-Za-z.]+)$", text[start:match.start()])
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        if word and len(word.group(1)) == 1 and word.group(1).isupper():
            continue  # an initial: "Smith J. Baclofen ..."
        chunk = text[start:end]
        if chunk.strip():
            spans.append(_trimmed(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(_trimmed(text, start, len(text)))
    return spans


def _trimmed(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end, text[start:end])


# --- identifiers ------------------------------------------------------------------------------------

IdKind = Literal["pmid", "trial", "malformed"]


@dataclass(frozen=True)
class IdMention:
    kind: IdKind
    key: str  # PMID:n, a canonical trial id, or the malformed text as written
    start: int
    end: int
    text: str


_PMID_URL = compile_lowered(r"(?:https?://)?(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")
_PMID_LIST = compile_lowered(
    r"\b(?:PMIDs?|PubMed\s+IDs?)(?![A-Za-z])\s*[:#]?\s*(?:\[)?"
    r"(\d{1,9}(?:\s*(?:,|;|/|\band\b|&|,\s*and\b)\s*(?:PMID\s*[:#]?\s*\d{1,9}|(?!(?:19|20)\d\d(?!\d))\d{1,9}))*)",
)  # a later item shaped like a year ('PMID 25027140, 2014') is the year, not another PMID
_DIGITS = re.compile(r"\d{1,9}")
_TRIAL_ID = compile_lowered(
    r"(?<![A-Za-z0-9])(?:"
    + "|".join(f"(?:{fmt.pattern.pattern[1:-1]})" for fmt in REGISTRY_FORMATS).replace("(?P<body>", "(?:")
    + r")(?![A-Za-z0-9]|/\d)",  # '/' + digit continues an id (CTRI/2020/05/...); 'NCT.../' ends one
)
_MALFORMED_NCT = compile_lowered(r"(?<![A-Za-z0-9])NCT[\s-]?(?:\d{1,7}|\d{9,})(?![\d])")


# Cheap gates: most sentences have no digit (so no id, figure or year) or no count noun, and the
# full patterns need not run on them. The verifier calls these extractors on every sentence.
_DIGIT = re.compile(r"\d")
_COUNT_GATE = compile_lowered(r"trial|publication|article|paper|reference|pmid|citation")
_NUMBER_GATE = re.compile(r"%|score|rank|level|L[1-5]|證據|证据", re.IGNORECASE)


def find_ids(text: str) -> list[IdMention]:
    """Every PMID, trial registry id and malformed NCT id written in ``text``, in order."""
    if not _DIGIT.search(text):
        return []
    folded = fold(text)
    low = lower_same_length(folded)  # matched lower-cased (casefold); ids are read from ``folded``
    found: list[IdMention] = []
    taken: list[tuple[int, int]] = []
    for match in _TRIAL_ID.finditer(low):
        try:
            key = normalise_trial_id(folded[match.start():match.end()])
        except IdentifierError:
            continue
        found.append(IdMention("trial", key, match.start(), match.end(), text[match.start():match.end()]))
        taken.append((match.start(), match.end()))
    for match in _MALFORMED_NCT.finditer(low):
        if not any(s <= match.start() < e for s, e in taken):
            found.append(IdMention("malformed", folded[match.start():match.end()], match.start(), match.end(),
                                   text[match.start():match.end()]))
    for match in _PMID_URL.finditer(low):
        found.append(IdMention("pmid", f"PMID:{int(match.group(1))}", match.start(1), match.end(1), match.group(1)))
    for match in _PMID_LIST.finditer(low):
        base = match.start(1)
        for digits in _DIGITS.finditer(match.group(1)):
            start, end = base + digits.start(), base + digits.end()
            found.append(IdMention("pmid", f"PMID:{int(digits.group(0))}", start, end, text[start:end]))
    found.sort(key=lambda m: (m.start, m.end))
    unique: list[IdMention] = []
    for mention in found:
        if not unique or (mention.start, mention.key) != (unique[-1].start, unique[-1].key):
            unique.append(mention)
    return unique


def bare_pmid(cell: str) -> str | None:
    """A table cell that is only a PMID (as in a 'PMID' column), else None."""
    match = re.fullmatch(r"\s*(?:PMID\s*[:#]?\s*)?(?:\[)?(\d{1,9})(?:\])?(?:\([^)]*\))?\s*", fold(cell), re.IGNORECASE)
    return f"PMID:{int(match.group(1))}" if match else None


# --- trial facts ------------------------------------------------------------------------------------

FactKind = Literal["phase", "status", "enrollment", "year"]


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    value: object  # Phase, frozenset[TrialStatus], or int
    start: int
    end: int
    text: str
    # Enrolments only: 'over 850 participants' bounds the figure ('more_than'), 'about 850' makes it
    # approximate; 'totalling 850' (or 'a total of', 'combined') is the sum over the trials it cites.
    bound: Bound | Literal["approximate"] = "exact"
    total: bool = False

    def holds_for(self, actual: int) -> bool:
        """Is this enrolment figure true of a trial (or trials) that enrolled ``actual``?"""
        value = int(self.value)  # type: ignore[call-overload]
        if self.bound == "approximate":
            return abs(actual - value) <= max(5, round(value * 0.1))
        return within_bound(self.bound, value, actual)


_PHASE_NUM = r"(?:[0-4]|iv|i{1,3}|one|two|three|four)[ab]?"
_PHASE = compile_lowered(
    rf"\b(?:early[\s-]+phase[\s-]*(?:1|i|one)\b"
    rf"|phase[\s-]*{_PHASE_NUM}(?:\s*(?:/|-|to|and)\s*(?:phase[\s-]*)?{_PHASE_NUM})?)(?![a-z0-9])",
)
_PHASE_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4"}
_STATUS_WORDS: tuple[tuple[str, frozenset[TrialStatus]], ...] = (
    (r"not\s+yet\s+recruiting", frozenset({TrialStatus.NOT_YET_RECRUITING})),
    (r"active,?\s+not\s+recruiting", frozenset({TrialStatus.ACTIVE_NOT_RECRUITING})),
    (r"enrolling\s+by\s+invitation", frozenset({TrialStatus.ENROLLING_BY_INVITATION})),
    (r"completed|finished", frozenset({TrialStatus.COMPLETED})),
    (r"terminated|stopped\s+early|halted", frozenset({TrialStatus.TERMINATED})),
    (r"withdrawn", frozenset({TrialStatus.WITHDRAWN})),
    (r"suspended", frozenset({TrialStatus.SUSPENDED})),
    (r"(?:no\s+longer|not)\s+(?:recruiting|enrolling)", frozenset({
        TrialStatus.ACTIVE_NOT_RECRUITING, TrialStatus.COMPLETED, TrialStatus.TERMINATED, TrialStatus.SUSPENDED,
        TrialStatus.WITHDRAWN})),
    (r"recruiting|enrolling", frozenset({TrialStatus.RECRUITING, TrialStatus.ENROLLING_BY_INVITATION})),
    (r"ongoing|under\s+way|underway|in\s+progress", frozenset({
        TrialStatus.RECRUITING, TrialStatus.ACTIVE_NOT_RECRUITING, TrialStatus.ENROLLING_BY_INVITATION,
        TrialStatus.NOT_YET_RECRUITING})),
)
_STATUS = compile_lowered(r"\b(?:" + "|".join(f"(?P<s{i}>{p})" for i, (p, _) in enumerate(_STATUS_WORDS)) + r")\b")
_PEOPLE = (r"participants?|patients?|subjects?|smokers?|people|individuals|adults|children|volunteers|women|men|"
           r"persons|cases|enrollees|enrolees")
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_ENROLMENT = compile_lowered(
    rf"(?:\b(?P<a>{_NUMBER})\s*-?\s*(?:{_PEOPLE})\b"
    rf"|\bn\s*=\s*(?P<b>{_NUMBER})\b"
    rf"|\benrol(?:l)?(?:ment|led|ling|ing|s)?\b\s*(?:of|:|was|=|target(?:ed)?)?\s*(?:about\s+)?(?P<c>{_NUMBER})\b)",
)
# An enrolment said of several trials together ('three RCTs (NCT…, NCT…, NCT…) totalling over 850
# participants'): the figure is their sum, not the last id's enrolment.
_TOTAL_BEFORE = compile_lowered(
    r"\b(?:total(?:l)?ing|in\s+total|a\s+total\s+of|(?:a\s+)?combined|altogether|pooled|together|"
    r"collectively|cumulative(?:ly)?)\b(?:\s+(?:enrolment|enrollment|enrolled|enrolling|recruited|randomi[sz]ed|"
    r"of|over|more\s+than|at\s+least|about|approximately|around|nearly|almost|some|roughly|up\s+to|under|"
    r"fewer\s+than|less\s+than|>|~))*\s*$"
)
_TOTAL_AFTER = compile_lowered(rf"\s*(?:(?:{_PEOPLE})\s+)?(?:in\s+total|in\s+all|combined|altogether|"
                               r"between\s+them|overall)\b")
_YEAR = compile_lowered(r"(?<![\d.,/-])(19[5-9]\d|20[0-4]\d)(?![\d%]|\s*(?:" + _PEOPLE + r"))")

# A status word that is not a trial's status: what participants did ("40 participants completed the
# study", "patients who completed treatment") or an action in a time clause ("terminated after
# enrolling 41 participants", "withdrawn before recruiting anyone").
_NOT_A_STATUS_BEFORE = compile_lowered(
    rf"(?:\b(?:{_PEOPLE})\s+(?:who\s+|that\s+)?(?:had\s+|have\s+|has\s+)?(?:all\s+|fully\s+)?"
    rf"|\b(?:after|before|upon|on|by|without|since)\s+)$",
)


def find_trial_facts(text: str) -> list[Fact]:
    return list(_find_trial_facts_cached(text))  # a copy: callers may change their list, never the cached one


@lru_cache(maxsize=8192)
def _find_trial_facts_cached(text: str) -> tuple[Fact, ...]:
    return tuple(_find_trial_facts(text))


def _find_trial_facts(text: str) -> list[Fact]:
    low = lower_same_length(fold(text))  # offsets are the text's (casefold)
    facts: list[Fact] = []
    for match in _PHASE.finditer(low):
        raw = re.sub(r"\b(one|two|three|four)\b", lambda w: _PHASE_WORDS[w.group(1)], match.group(0).lower())
        raw = re.sub(r"(?<=[0-4iv])[ab]\b", "", raw)
        raw = re.sub(r"\s*(?:-|to|and)\s*(?=(?:phase\s*)?(?:[1-4]|iv|i{1,3})\b)", "/", raw)
        try:
            phase = parse_phase(raw.replace("phase 0", "early phase 1"))
        except ValueError:
            continue
        facts.append(Fact("phase", phase, match.start(), match.end(), text[match.start():match.end()]))
    for match in _STATUS.finditer(low):
        if _NOT_A_STATUS_BEFORE.search(low, max(0, match.start() - 60), match.start()):
            continue
        index = next(i for i in range(len(_STATUS_WORDS)) if match.group(f"s{i}"))
        facts.append(Fact("status", _STATUS_WORDS[index][1], match.start(), match.end(),
                          text[match.start():match.end()]))
    for match in _ENROLMENT.finditer(low):
        group = next(g for g in ("a", "b", "c") if match.group(g))
        bound = _bound_of(low, match.start(group))
        total = bool(_TOTAL_BEFORE.search(low, max(0, match.start() - 40), match.start(group))
                     or _TOTAL_AFTER.match(low, match.end()))
        facts.append(Fact("enrollment", int(match.group(group).replace(",", "")), match.start(group),
                          match.end(group), text[match.start():match.end()],
                          bound="approximate" if bound in (None, "skip") else bound, total=total))
    for match in _YEAR.finditer(low):
        facts.append(Fact("year", int(match.group(1)), match.start(), match.end(), match.group(1)))  # digits only
    facts.sort(key=lambda f: f.start)
    return facts


def mentions_trial_fact(text: str) -> bool:
    """Does ``text`` state an enrolment figure about a study (used to keep background sentences clean)?"""
    return bool(_ENROLMENT.search(lower_same_length(fold(text))))


# --- counts, scores, ranks, levels, decisions -------------------------------------------------------

_NUMBER_WORDS = {
    "no": 0, "zero": 0, "none": 0, "one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50,
}
_COUNT_NUMBER = r"(?P<n>\d+|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_TRIAL_COUNT = compile_lowered(
    rf"(?<!phase )(?<!phase)(?<!phase-)(?<!-)\b{_COUNT_NUMBER}\s+(?P<q>(?:[A-Za-z0-9/,-]+\s+){{0,6}}?)(?:clinical\s+)?trials?\b",
)
# Besides phases and statuses, only these words may stand between a number and "trials" for the
# number to be a tally of the pack's trials ("3 registered clinical trials", "2 terminated Phase 2 trials").
_TALLY_WORDS = {"registered", "clinical", "interventional", "human", "and", "or", "of", "which", "in", "total"}
_ARTICLE_COUNT = compile_lowered(
    rf"(?<!phase )(?<!phase)(?<!phase-)(?<!-)\b{_COUNT_NUMBER}\s+(?P<q>(?:(?:published|indexed|pubmed|retrieved|identified|relevant|supporting|"
    rf"related)\s+)*)(?:publications|articles|papers|references|pmids|citations)\b",
)
# Words that make a count about something other than the pack's evidence ("two further trials are needed").
_NOT_A_TALLY = re.compile(r"\b(?:further|more|additional|new|future|larger|planned|proposed|needed|required|"
                          r"randomi[sz]ed|controlled|placebo|pivotal|large|small|animal|preclinical|review)\b",
                          re.IGNORECASE)


@dataclass(frozen=True)
class CountClaim:
    what: Literal["trials", "articles"]
    value: int
    phases: frozenset[Phase]
    statuses: frozenset[TrialStatus] | None
    start: int
    end: int
    text: str
    bound: Bound = "exact"

    def holds_for(self, actual: int) -> bool:
        """Is this claim true of a pack that holds ``actual`` such items?"""
        return within_bound(self.bound, self.value, actual)


Bound = Literal["exact", "at_least", "more_than", "at_most", "less_than"]


def within_bound(bound: Bound, value: int, actual: int) -> bool:
    """Does ``actual`` satisfy a figure ``value`` written with ``bound`` ('at least 3', 'over 850')?"""
    return {"exact": actual == value, "at_least": actual >= value, "more_than": actual > value,
            "at_most": actual <= value, "less_than": actual < value}[bound]
# Words before a count that make it a bound, not an exact figure; 'about', 'nearly' make it no claim.
_BOUNDS: tuple[tuple[re.Pattern[str], Bound | None], ...] = (
    (re.compile(r"(?:\bat\s+least|\bno\s+fewer\s+than|\bminimum\s+of|>=|\u2265)\s*$", re.I), "at_least"),
    (re.compile(r"(?:\bmore\s+than|\bover|\bupwards\s+of|\bin\s+excess\s+of|>)\s*$", re.I), "more_than"),
    (re.compile(r"(?:\bat\s+most|\bup\s+to|\bno\s+more\s+than|\bmaximum\s+of|<=|\u2264)\s*$", re.I), "at_most"),
    (re.compile(r"(?:\bfewer\s+than|\bless\s+than|\bunder|<)\s*$", re.I), "less_than"),
    (re.compile(r"(?:\babout|\baround|\bapproximately|\bapprox\.?|\bnearly|\balmost|\broughly|\bsome|"
                r"\bca\.?|\bestimated|~)\s*$", re.I), None),
)
# 'No trial has directly compared ...' qualifies the evidence; 'no trials have been registered' counts it.
_QUALIFIED_ZERO = re.compile(
    r"\s+(?:has|have|had|was|were|is|are)?\s*(?:yet\s+|ever\s+|so\s+far\s+)?(?:been\s+)?(?:\w+ly\s+)?"
    r"(?!registered|found|identified|retrieved|listed|recorded|located|available|published|indexed|returned)"
    r"(?:[a-z]+ed|specific|dedicated|designed|directly|yet)\b",
    re.I,
)


def _bound_of(folded: str, start: int) -> Bound | None | Literal["skip"]:
    before = folded[max(0, start - 24):start]
    for pattern, bound in _BOUNDS:
        if pattern.search(before):
            return bound if bound is not None else "skip"
    return "exact"


def _count_value(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def find_counts(text: str) -> list[CountClaim]:
    return list(_find_counts_cached(text))  # a copy: callers may change their list, never the cached one


@lru_cache(maxsize=8192)
def _find_counts_cached(text: str) -> tuple[CountClaim, ...]:
    return tuple(_find_counts(text))


def _find_counts(text: str) -> list[CountClaim]:
    low = lower_same_length(text)
    if not _COUNT_GATE.search(low):
        return []
    folded = fold(low)  # lower-cased (casefold): offsets are the text's
    claims: list[CountClaim] = []
    phase_spans = [m.span() for m in _PHASE.finditer(folded)]

    def in_phase(match: re.Match[str]) -> bool:  # the '3' of 'a Phase 2/3 trial' counts nothing
        return any(start <= match.start("n") < end for start, end in phase_spans)

    for match in _TRIAL_COUNT.finditer(folded):
        if in_phase(match):
            continue
        qualifiers = match.group("q") or ""
        after = folded[match.end():match.end() + 25]
        if _NOT_A_TALLY.search(qualifiers) or re.match(r"\s+(?:are|is|would be|will be)\s+(?:needed|required)",
                                                        after, re.IGNORECASE):
            continue
        facts = find_trial_facts(qualifiers)
        rest = qualifiers
        for fact in sorted(facts, key=lambda f: -f.start):
            rest = rest[:fact.start] + " " + rest[fact.end:]
        if any(word not in _TALLY_WORDS for word in re.findall(r"[a-z0-9/]+", rest.lower())):
            continue
        phases = frozenset(f.value for f in facts if f.kind == "phase")
        status_sets = [f.value for f in facts if f.kind == "status"]
        statuses = frozenset().union(*status_sets) if status_sets else None
        bound = _bound_of(folded, match.start())
        value = _count_value(match.group("n"))
        if bound == "skip" or (value == 0 and _QUALIFIED_ZERO.match(folded, match.end())):
            continue
        claims.append(CountClaim("trials", value, phases, statuses,  # type: ignore[arg-type]
                                 match.start(), match.end(), text[match.start():match.end()], bound))
    for match in _ARTICLE_COUNT.finditer(folded):
        if in_phase(match) or _NOT_A_TALLY.search(match.group("q") or ""):
            continue
        bound = _bound_of(folded, match.start())
        value = _count_value(match.group("n"))
        if bound == "skip" or (value == 0 and _QUALIFIED_ZERO.match(folded, match.end())):
            continue
        claims.append(CountClaim("articles", value, frozenset(), None,
                                 match.start(), match.end(), text[match.start():match.end()], bound))
    return claims


@dataclass(frozen=True)
class NumberClaim:
    """A score (as a fraction), a rank, or an evidence level written in the text."""

    kind: Literal["score", "rank", "level"]
    value: float | int | str
    decimals: int
    start: int
    end: int
    text: str
    # A level said of other indications ('the remaining nine predictions are rated L4-L5'): lint sets
    # it aside (its pack may lack them); a drafted statement's level is still checked as its own.
    of_others: bool = False


_SCORE_CUE = re.compile(r"score|txgnn|predict|probabilit|confidence", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.(\d+))?)\s*%")
_FRACTION_SCORE = re.compile(r"score\s*(?:of|:|=|was|is)?\s*(0?\.(\d+)|1\.0+)(?![\d%])", re.IGNORECASE)
_ORDINALS = {"first": 1, "top": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL = r"(?:first|top|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))"
_RANK = re.compile(
    rf"\b(?:rank(?:ed|s)?\s*(?:as\s+)?(?:its\s+|the\s+)?(?:no\.\s*|number\s+|#)?(?P<a>{_ORDINAL}|\d+)\b"
    rf"|(?P<b>{_ORDINAL})[\s-]+rank(?:ed|ing)\b)",
    re.IGNORECASE,
)
_LEVEL = re.compile(r"(?<![A-Za-z0-9])L([1-5])(?![A-Za-z0-9-])")
_LEVEL_CUE = re.compile(r"level|證據等級|证据等级", re.IGNORECASE)
# 'Level 1 evidence', 'evidence level 2', 'level-III evidence': the TxGNN levels written as words.
_LEVEL_WORDS = re.compile(
    r"\b(?:evidence\s+level|level\s+of\s+evidence)\s*(?:is\s+|of\s+|:\s*|=\s*)?(?:(?P<n>[1-5])|(?P<r>IV|V|I{1,3}))(?!\w|\.\d)"
    r"|\blevel[\s-]*(?:(?P<n2>[1-5])|(?P<r2>IV|V|I{1,3}))\s+evidence\b",
    re.IGNORECASE,
)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}
# A level said of other indications ('the remaining nine predictions are rated L4-L5') is not a level
# claimed for the indication in context.
_LEVEL_OF_OTHERS = re.compile(r"\b(?:remaining|other|rest\s+of\s+the)\s+(?:\w+\s+){0,2}(?:predictions|"
                              r"indications|candidates)(?:\s+[\w-]+){0,4}(?:\s+|(?<=-))$", re.IGNORECASE)
# A level named to be set aside is not a claimed level: 'L3 rather than L4', 'short of L2', 'not L1'.
_LEVEL_CONTRAST = re.compile(r"\b(?:rather\s+than|instead\s+of|not|short\s+of|below|above|than|from|to\s+reach|"
                             r"reach|upgrade\s+to|move\s+to|lift\s+it\s+to)\s*(?:evidence\s+)?(?:level\s+)?$",
                             re.IGNORECASE)


_SCORE_WINDOW = 6  # words between a score cue and the percentage it introduces
_SCORE_CHAIN = 4  # words between one score and the next ('at 99.32% and nicotine dependence at 99.19%')
_NOT_A_SCORE_AFTER = re.compile(r"\s*(?:CI\b|(?:confidence|credible)\s+intervals?)", re.IGNORECASE)


def _score_percents(folded: str) -> list[re.Match[str]]:
    """The percentages that are model scores: close to a score cue, or to a score just before them.

    'TxGNN score of 99.19%', '99.32% (TxGNN score)', 'scored ADHD at 99.32% and nicotine dependence at
    99.19%' are scores; in 'a TxGNN score of 99.19%, although only 20% of smokers quit' the 20% is not,
    nor is a '95% confidence interval'.
    """
    cues = [m for m in _SCORE_CUE.finditer(folded) if not re.match(r"\w*\s+intervals?", folded[m.end():])]
    if not cues:
        return []

    def near(left: int, right: int, limit: int) -> bool:
        between = folded[left:right]
        return len(re.findall(r"\w+", between)) <= limit and not re.search(r"[;.!?](?:\s|$)", between)

    scores: list[re.Match[str]] = []
    for match in _PERCENT.finditer(folded):
        if _NOT_A_SCORE_AFTER.match(folded, match.end()):
            continue
        is_score = (any(c.end() <= match.start() and near(c.end(), match.start(), _SCORE_WINDOW) for c in cues)
                    or any(c.start() >= match.end() and near(match.end(), c.start(), 3) for c in cues)
                    or bool(scores) and near(scores[-1].end(), match.start(), _SCORE_CHAIN))
        if is_score:
            scores.append(match)
    return scores


def find_numbers(text: str) -> list[NumberClaim]:
    return list(_find_numbers_cached(text))  # a copy: callers may change their list, never the cached one


@lru_cache(maxsize=8192)
def _find_numbers_cached(text: str) -> tuple[NumberClaim, ...]:
    return tuple(_find_numbers(text))


def _find_numbers(text: str) -> list[NumberClaim]:
    """Scores (only near a score cue), ranks, and evidence levels (only near the word 'level')."""
    if not _NUMBER_GATE.search(text):
        return []
    folded = fold(text)
    claims: list[NumberClaim] = []
    for match in _score_percents(folded):
        decimals = len(match.group(2) or "")
        claims.append(NumberClaim("score", float(match.group(1)) / 100, decimals + 2, match.start(), match.end(),
                                  match.group(0)))
    for match in _FRACTION_SCORE.finditer(folded):
        claims.append(NumberClaim("score", float(match.group(1)), len(match.group(2) or ""), match.start(1),
                                  match.end(1), match.group(1)))
    for match in _RANK.finditer(folded):
        word = (match.group("a") or match.group("b")).lower()
        rank = _ORDINALS.get(word) or int(re.sub(r"\D", "", word))
        claims.append(NumberClaim("rank", rank, 0, match.start(), match.end(), text[match.start():match.end()]))
    if _LEVEL_CUE.search(folded):
        for match in _LEVEL.finditer(folded):
            if not _LEVEL_CONTRAST.search(folded, max(0, match.start() - 25), match.start()):
                others = bool(_LEVEL_OF_OTHERS.search(folded, max(0, match.start() - 80), match.start()))
                claims.append(NumberClaim("level", f"L{match.group(1)}", 0, match.start(), match.end(),
                                          match.group(0), of_others=others))
        for match in _LEVEL_WORDS.finditer(folded):
            if _LEVEL_CONTRAST.search(folded, max(0, match.start() - 25), match.start()):
                continue
            digit = (match.group("n") or match.group("n2")
                     or _ROMAN.get((match.group("r") or match.group("r2") or "").upper()))
            if digit:
                claims.append(NumberClaim("level", f"L{digit}", 0, match.start(), match.end(), match.group(0)))
    return sorted(claims, key=lambda c: c.start)


_DECISION_WORDS = r"(?:Go|Proceed\s+with\s+Guardrails|Research\s+Question|Hold)"
# A decision is claimed when it is labelled ('Decision: Go', 'Recommendation - Hold', a table cell
# under a Decision column), said ('our decision is Go', 'we recommend Proceed with Guardrails',
# 'Go is warranted'), or set in bold as a verdict ('**Proceed with Guardrails** for ADHD'). 'Go' is
# an English verb, so outside a label it counts only when capitalised.
_DECISION_PATTERNS = (
    re.compile(r"(?i:decision|recommendation|recommended\s+action|verdict|overall\s+(?:assessment|recommendation))"
               r"\b[^.\n|]{0,25}?[:|\-]\s*(?:\*\*|__)?\s*(?P<d>(?i:Go|Proceed\s+with\s+Guardrails|Research\s+Question|Hold))\b"),
    re.compile(r"(?i:(?:our|the|my|this|a|final|overall)\s+(?:decision|recommendation|verdict)\s+(?:is|would\s+be|"
               r"remains|of|here\s+is)\s*(?:to\s+)?(?:a\s+|an\s+)?[\"']?)(?P<d>" + _DECISION_WORDS + r")\b"),
    re.compile(r"(?i:\bwe\s+(?:would\s+)?(?:recommend|advise|propose|suggest)(?:\s+(?:a|an|the))?\s+[\"']?)(?P<d>"
               + _DECISION_WORDS + r")\b"),
    re.compile(r"(?i:\b(?:recommend(?:ed|s|ing)?|advise[sd]?)\s+(?:to\s+)?)(?P<d>proceed(?:ing)?\s+with\s+guardrails)\b"),
    re.compile(r"(?:\*\*|__)\s*(?P<d>" + _DECISION_WORDS + r")\s*(?:\*\*|__)"),
    re.compile(r"(?P<d>" + _DECISION_WORDS + r")\s+(?i:is|would\s+be)\s+(?i:(?:therefore\s+|thus\s+)?(?:recommended|"
               r"warranted|justified|appropriate|supported))\b"),
    re.compile(r"(?i:\b(?:warrants?|merits?|supports?|justif(?:y|ies))\s+(?:a|an)\s+[\"']?)(?P<d>" + _DECISION_WORDS
               + r")[\"']?\s+(?i:decision|recommendation|rating)\b"),
)
# A decision named to be set aside is not claimed: 'rather than Go', 'not yet Go', 'short of Go'.
_DECISION_CONTRAST = re.compile(r"(?:\b(?:rather\s+than|instead\s+of|not(?:\s+yet)?|never|short\s+of|below|"
                                r"above|stronger\s+than|weaker\s+than|from|cannot\s+be|not\s+be|no|nor|or)\s*"
                                r"(?:a\s+|an\s+)?[\"'*_]*\s*)$", re.IGNORECASE)


def _decision_value(text: str) -> str:
    words = re.sub(r"\s+", " ", text.strip()).lower()
    if words.startswith("proceed"):
        return "Proceed with Guardrails"
    return {"go": "Go", "research question": "Research Question", "hold": "Hold"}[words]


def find_decisions(text: str) -> list[Span]:
    return list(_find_decisions_cached(text))  # a copy: callers may change their list, never the cached one


@lru_cache(maxsize=8192)
def _find_decisions_cached(text: str) -> tuple[Span, ...]:
    return tuple(_find_decisions(text))


_DECISION_GATE = re.compile(r"\bGo\b|(?i:guardrails|research\s+question|\bhold\b)")


def _find_decisions(text: str) -> list[Span]:
    """Every decision the text claims, as (start, end, canonical decision)."""
    folded = fold(text)
    if not _DECISION_GATE.search(folded):
        return []
    spans: dict[int, Span] = {}
    for pattern in _DECISION_PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span("d")
            if start in spans or _DECISION_CONTRAST.search(folded, max(0, start - 30), start):
                continue
            spans[start] = Span(start, end, _decision_value(match.group("d")))
    return [spans[start] for start in sorted(spans)]
