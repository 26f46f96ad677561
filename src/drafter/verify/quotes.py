"""Evidence quotes: a drafted statement shows the words of its sources, and they must be there.

A statement that reports what a source says (a finding, an outcome, a design, a safety fact)
carries up to three short quotes copied from the items it cites (``Statement.quotes``). Three things
are checked here, all pure functions of text:

* every quote occurs in the text of one of the statement's cited items (``QUOTE_NOT_FOUND``),
  after both sides are normalised for what a model changes without meaning to (case, whitespace,
  curly quotes, dashes and hyphens, ellipses, thousands separators, Unicode compatibility forms),
  but never for a word or a digit: a changed number or a dropped "not" fails;
* a statement that reports what a source says, and cites an item that has text, carries a quote
  (``QUOTE_MISSING``). "Reports what a source says" is a deterministic rule: the statement contains
  a number, a finding or outcome word, a study-design word or a safety term (see
  :func:`reporting_cues`) that the cited items' *fields* (phase, status, enrolment, year, study
  type, publication types, trial design) do not already state. What the fields say needs no quote;
* a statement that reports a finding while none of its cited items has text to quote
  (``FINDING_UNRECORDED``): nothing in the pack can have said it, unless the fields do (a
  registered primary-outcome result is a field).

:func:`covered_by_quotes` lets other checks ask whether a term of the statement (a number, a
safety term, a design word) is covered by its quotes or by the cited items' fields.

The quotable text of an item (:func:`quotable_texts`) is what the prompt shows the model (an
article's title and abstract, a trial's title and summary, a safety item's text, the mechanism of
action) plus the pack's own summaries of what an article or a trial's results found
(``Article.summary``, ``TrialResults.summary``), which a report shows beside the item: a quote from
them is a quote from the pack. An item's fields are rendered as text by :func:`item_fields_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from drafter.drafts import MAX_QUOTE_CHARS
from drafter.pack.models import (
    MOA_KEY,
    AdverseEffect,
    Article,
    EvidencePack,
    Interaction,
    OutcomeResult,
    SafetyItem,
    SpecialPopulation,
    Trial,
)
from drafter.verify.problems import Problem
from drafter.verify.reading import normal
from drafter.vocabulary import SafetyVocabulary, load_vocabulary

QUOTE_CODES: dict[str, tuple[str, str]] = {
    "QUOTE_NOT_FOUND": ("error", "A quote occurs in the text of none of the statement's cited items."),
    "QUOTE_MISSING": ("error", "A statement reports what a cited item with text says, but carries no quote."),
    "QUOTE_TOO_LONG": ("error", f"A quote is longer than {MAX_QUOTE_CHARS} characters."),
    "FINDING_UNRECORDED": ("error", "A statement reports what its sources found, but no cited item has text (or a "
                                    "registered result) that could say it."),
}


@dataclass(frozen=True)
class QuoteProblem(Problem):
    """A :class:`Problem` about one quote; ``quote_index`` says which (None: about the statement).

    ``start``/``end`` point into the statement text (the cue that made a quote due) for
    QUOTE_MISSING, and are 0 for a problem with a quote, whose position is ``quote_index``.
    """

    quote_index: int | None = None


# --- normalisation ----------------------------------------------------------------------------------

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035`\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
# The prompt's data filter shows '<' and '>' as single angle quotation marks; a model quotes what it saw.
_TYPOGRAPHY = str.maketrans({**{c: "'" for c in _SINGLE_QUOTES}, **{c: '"' for c in _DOUBLE_QUOTES},
                             **{c: "-" for c in _DASHES}, "\u2039": "<", "\u203a": ">"})
_SPACES = re.compile(r"\s+")
_HYPHEN_DIGIT_SPACING = re.compile(r"(?<=\d) ?- ?(?=\d)|(?<= )- (?=\d)")
_WORD_HYPHEN = re.compile(r"(?<=[^\W\d_]) ?- ?(?=[^\W\d_])")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ELLIPSIS = re.compile(r"\.{3,}")
_EDGE = re.compile(r"^[\s\"'.,;:!?()\[\]]+|[\s\"'.,;:!?()\[\]]+$")


@lru_cache(maxsize=2048)
def normalise(text: str) -> str:
    """``text`` in the form quotes are compared in: typography folded, letters and digits kept.

    Cached: an item's text is normalised for every quote and every statement that cites it, and
    again when the report is assembled; abstracts are long and the same few recur.

    The verifier's one reading of text (:func:`drafter.verify.reading.normal`: NFKC, format
    characters removed, typography folded), then: curly and angle quotes straight, every dash a
    hyphen, a hyphen between letters the same as a space ("double-blind" = "double blind"), spaces
    around a hyphen between digits dropped ("200 – 400" = "200-400"), thousands separators dropped
    ("3,154" = "3154"), runs of whitespace one space, case folded.
    """
    text = normal(text).translate(_TYPOGRAPHY)  # the verifier's reading, then what only quotes need
    text = _ELLIPSIS.sub("...", text)
    text = _SPACES.sub(" ", text).strip()
    text = _HYPHEN_DIGIT_SPACING.sub("-", text)
    text = _WORD_HYPHEN.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    return text.casefold()


def quote_core(quote: str) -> str:
    """A normalised quote without what frames it: quote marks, a leading or trailing ellipsis,
    edge punctuation. An ellipsis *inside* a quote stays: a quote is one passage, not a collage."""
    core = normalise(quote)
    previous = None
    while core != previous:
        previous = core
        core = _EDGE.sub("", core)
        core = core.removeprefix("...").removesuffix("...")
    return core


def _occurs(needle: str, haystack: str) -> bool:
    """``needle`` occurs in ``haystack`` at word boundaries (a quote "10 mg" is not in "110 mg")."""
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        left_ok = not needle[0].isalnum() or start == 0 or not haystack[start - 1].isalnum()
        right_ok = not needle[-1].isalnum() or end == len(haystack) or not haystack[end].isalnum()
        if left_ok and right_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def quote_in(quote: str, text: str) -> bool:
    """Whether ``quote`` occurs in ``text`` once both are normalised."""
    return _occurs(quote_core(quote), normalise(text))


# British and American spellings of the same word, folded alike on both sides of a coverage test
# (a statement may say "randomised" of a trial whose record says "randomized"). Quotes themselves
# are not folded this way: a quote is the source's own spelling.
_SPELLING = (
    (re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations)\b"), r"iz\1"),
    (re.compile(r"(?<=\w{2})ys(e|ed|es|ing)\b"), r"yz\1"),
    (re.compile(r"ae|oe"), "e"),
    (re.compile(r"(?<=\w{2})our(s?)\b"), r"or\1"),
    (re.compile(r"(?<=\w{2})tre(s?)\b"), r"ter\1"),
    (re.compile(r"(?<=[aeiou])ll(?=ed\b|ing\b)"), "l"),
)


def _spelling_fold(text: str) -> str:
    for pattern, replacement in _SPELLING:
        text = pattern.sub(replacement, text)
    return text


def covered_by_quotes(term: str, quotes: Sequence[str], fields_text: str) -> bool:
    """Whether ``term`` (a number, a safety term, a design word of a statement) is covered.

    Covered means: it occurs, at word boundaries, in one of the statement's quotes or in
    ``fields_text`` (the cited items' fields, :func:`item_fields_text`), after normalisation and a
    fold of British and American spellings. "5" is not covered by "50", nor "reduced" by "reduce".
    """
    needle = _spelling_fold(quote_core(term))
    if not needle:
        return True
    haystacks = [*(quote_core(q) for q in quotes), normalise(fields_text)]
    return any(_occurs(needle, _spelling_fold(h)) for h in haystacks)


# --- when a quote is due ----------------------------------------------------------------------------

# Digits that belong to a name ("alpha-2", "IL-1", "COVID-19", "CYP3A4") are not a figure.
_NUMBER = r"(?<![\w.])(?<![^\W\d_]-)\d+(?:[.,]\d+)*(?:\s?%)?"
_NUMBER_WORDS = (r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                 r"hundred|thousand|half|halved|third|quarter|twice|doubled|tripled)\b")
_FINDING = (r"\b(?:found|finds?|show(?:s|ed|n)?|demonstrat\w*|reported|reports|conclud\w*|reduc\w*|lower(?:s|ed)?|"
            r"decreas\w*|increas\w*|improv\w*|worsen\w*|prevent\w*|benefit\w*|effective|effectiveness|efficacy|"
            r"efficacious|superior\w*|inferior\w*|non-inferior\w*|significant\w*|associated|association|"
            r"no difference|did not|failed|fails|negative|positive|outcomes?|end-?points?|mortality|survival|"
            r"deaths?|events?|remission|relapse\w*|respon(?:se|ses|ders?)|hazard ratio|odds ratio|relative risk|"
            r"confidence interval|futil\w*|interim analys[ie]s|"
            r"(?:slow|poor|low|insufficient) (?:recruitment|accrual|enrol\w*)|"
            r"lack of funding)\b|\bp\s?[<=>]")
_DESIGN = (r"\b(?:randomi[sz]\w*|placebo\w*|double[- ]blind\w*|single[- ]blind\w*|triple[- ]blind\w*|blinded|masked|"
           r"open[- ]label|controlled|cross-?over|factorial|cohort|case[- ]control|case reports?|case series|"
           r"meta-?analys[ie]s|systematic reviews?|pilot|multi-?cent(?:re|er|ric)|observational|prospective|"
           r"retrospective|in vitro|in vivo|animals?|mice|mouse|rats?|rodents?|preclinical|healthy volunteers|"
           r"platform|adaptive|phase)\b")
_SAFETY = (r"\b(?:adverse|side[- ]effects?|toxic\w*|contraindicat\w*|caution\w*|warning\w*|monitor\w*|"
           r"interact\w*|risks?|withdrawal|overdos\w*|tolerat\w*|safe|safety|safely|harm\w*)\b")
_CUES = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in (
    ("number", _NUMBER), ("number", _NUMBER_WORDS), ("finding", _FINDING), ("design", _DESIGN),
    ("safety", _SAFETY)))


_CUE_KINDS = {"number": "a figure", "finding": "a finding or outcome word", "design": "a study-design word",
              "safety": "a safety term"}


@dataclass(frozen=True)
class Cue:
    """A word of a statement that makes it report what a source says; offsets into the statement."""

    kind: str  # number | finding | design | safety
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _vocabulary() -> SafetyVocabulary:
    return load_vocabulary()


def reporting_cues(statement_text: str, fields_text: str = "") -> list[Cue]:
    """The words that make ``statement_text`` report what a source says, minus those its fields state.

    A number (digits or a number word), a finding or outcome word ("found", "reduced", "no
    difference", "mortality"), a study-design word ("randomised", "placebo", "open-label",
    "cohort", "in mice"), a safety cue ("risk", "monitor", "adverse") or a term of the safety
    vocabulary. A cue that ``fields_text`` covers (a phase, an enrolment figure, "randomized" from
    the trial's design) is dropped: what the fields say needs no quote. In text order.
    """
    found: dict[tuple[int, int], Cue] = {}
    for kind, pattern in _CUES:
        for match in pattern.finditer(statement_text):
            found.setdefault((match.start(), match.end()), Cue(kind, match.group(), match.start(), match.end()))
    for mention in _vocabulary().mentions(statement_text):
        found.setdefault((mention.start, mention.end), Cue("safety", mention.text, mention.start, mention.end))
    cues = sorted(found.values(), key=lambda c: (c.start, c.end))
    return [c for c in cues if not (fields_text and covered_by_quotes(c.text, (), fields_text))]


_FINDING_CUE = next(pattern for kind, pattern in _CUES if kind == "finding")


def finding_cues(statement_text: str, fields_text: str = "") -> list[Cue]:
    """The finding and outcome words of :func:`reporting_cues` only (no safety scan: it costs the most)."""
    cues = [Cue("finding", m.group(), m.start(), m.end()) for m in _FINDING_CUE.finditer(statement_text)]
    return [c for c in cues if not (fields_text and covered_by_quotes(c.text, (), fields_text))]


# --- the check --------------------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def quote_problems(
    statement_text: str,
    quotes: Sequence[str],
    cited_texts: Mapping[str, str],
    *,
    fields_text: str = "",
    other_texts: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem with a statement's quotes.

    ``cited_texts``: key -> quotable text of each item the statement cites (empty or missing for
    an item without text); ``fields_text``: the cited items' fields as text
    (:func:`item_fields_text`), so that what the fields state needs no quote; ``other_texts``: the
    quotable texts of the pack's other items, only to say in a message which uncited item a quote
    came from (the finding is QUOTE_NOT_FOUND either way: a quote must come from a cited item).
    """
    problems: list[Problem] = []
    texts = {key: normalise(text) for key, text in cited_texts.items() if text and text.strip()}
    for index, quote in enumerate(quotes):
        label = f"quote {index + 1} ('{_short(quote)}')"
        if len(quote.strip()) > MAX_QUOTE_CHARS:
            problems.append(QuoteProblem(
                "QUOTE_TOO_LONG", f"{label} has {len(quote.strip())} characters; quote at most {MAX_QUOTE_CHARS} "
                "characters, the words that show what the statement reports", quote_index=index))
        core = quote_core(quote)
        if not core:
            problems.append(QuoteProblem("QUOTE_NOT_FOUND", f"quote {index + 1} is empty; remove it",
                                         quote_index=index))
            continue
        if any(_occurs(core, text) for text in texts.values()):
            continue
        problems.append(QuoteProblem("QUOTE_NOT_FOUND", _not_found_message(label, core, texts, other_texts or {},
                                                                           cited_texts), quote_index=index))
    if not quotes and texts:
        problems += _unquoted_report("QUOTE_MISSING", reporting_cues(statement_text, fields_text),
                                     f"but carries no quote; quote 1 to 3 short passages copied exactly from the "
                                     f"text of {', '.join(sorted(texts))}, or say only what the items' fields say")
    elif not texts and cited_texts:
        # Deny by default: an item with no title, abstract or summary records no finding, so a
        # finding reported from it ('PMID 25868070 confirmed efficacy') has nothing behind it.
        # Figures, design words and safety terms have checks of their own (trial facts, study design,
        # safety); what only this check can see is a finding.
        problems += _unquoted_report("FINDING_UNRECORDED", finding_cues(statement_text, fields_text),
                                     f"but {', '.join(sorted(cited_texts))} record(s) no finding: no title, abstract, "
                                     "summary or registered result; say only what the fields say (type, year, "
                                     "journal, phase, status, enrolment)")
    return problems


def _unquoted_report(code: str, cues: Sequence[Cue], why: str) -> list[Problem]:
    """One problem at the first cue of a statement that reports its sources without their words."""
    if not cues:
        return []
    first = cues[0]
    return [QuoteProblem(code, f"the statement reports what its sources say ('{first.text}', "
                               f"{_CUE_KINDS[first.kind]}) {why}", first.start, first.end)]


def _not_found_message(label: str, core: str, texts: Mapping[str, str], other_texts: Mapping[str, str],
                       cited_texts: Mapping[str, str]) -> str:
    if not texts:
        cited = ", ".join(sorted(cited_texts)) or "nothing"
        return (f"{label} cannot come from the cited items: the statement cites {cited}, and none of them has text "
                "to quote; remove the quote")
    elsewhere = sorted(key for key, text in other_texts.items() if key not in texts and quote_in(core, text))
    if elsewhere:
        return (f"{label} is from {', '.join(elsewhere)}, which the statement does not cite; cite it or quote "
                f"{', '.join(sorted(texts))}")
    hint = " (quote one passage: an ellipsis inside a quote joins passages)" if "..." in core else ""
    return (f"{label} occurs in the text of none of the cited items ({', '.join(sorted(texts))}); copy the words "
            f"exactly as the item writes them{hint}")


# --- what an item offers ----------------------------------------------------------------------------


def trial_text(trial: Trial) -> str:
    """A trial's quotable text: its title, its summary and the summary of its registered results.

    The results summary states what the trial found (the primary outcome's figures), which is what
    a statement about the trial most often reports, so a quote from it is a quote from the trial.
    """
    results = trial.results.summary if trial.results is not None else None
    return "\n".join(part for part in (trial.title, trial.summary, results) if part)


def article_text(article: Article) -> str:
    """An article's quotable text: its title, its abstract and the pack's summary of its finding."""
    return "\n".join(part for part in (article.title, article.abstract, article.summary) if part)


def quotable_texts(pack: EvidencePack) -> dict[str, str]:
    """Key -> the text a statement citing that key may quote, for every item of the pack that has text.

    A trial or PMID listed under several indications keeps its first record's text (a pack with
    conflicting copies is refused elsewhere).
    """
    texts: dict[str, str] = {}
    if pack.drug.mechanism_of_action:
        texts[MOA_KEY] = pack.drug.mechanism_of_action
    for key, item in pack.safety_items().items():
        texts[key] = item.text
    for indication in pack.ranked_indications():
        for trial in indication.trials:
            if (text := trial_text(trial)) and trial.key not in texts:
                texts[trial.key] = text
        for article in indication.articles:
            if (text := article_text(article)) and article.key not in texts:
                texts[article.key] = text
    return texts


def _trial_fields(trial: Trial) -> Iterable[str]:
    yield f"{trial.phase.label}; {trial.status.label}; {trial.study_type.value.replace('_', ' ')}"
    if trial.enrollment is not None:
        yield f"enrolment {trial.enrollment}; {trial.enrollment} participants"
    for date in (trial.start_date, trial.completion_date):
        if date:
            yield date
    design = trial.design
    if design is not None:
        if design.randomised is True:
            yield "randomised"
        elif design.randomised is False:
            yield "non-randomised"
        if design.allocation:
            yield design.allocation
        masking = (design.masking or "").casefold()
        if masking:
            yield design.masking or ""
            if "open" in masking or masking.startswith("none"):
                yield "open-label"
            elif any(word in masking for word in ("single", "double", "triple", "quadruple")):
                yield "blinded; masked; " + ("single-blind" if "single" in masking else "double-blind")
    if trial.results is not None and trial.results.primary_outcome in _OUTCOME_FIELDS:
        yield _OUTCOME_FIELDS[trial.results.primary_outcome]


# A registered result is a field: 'met its primary outcome' needs no quote when the record says so.
_OUTCOME_FIELDS = {
    OutcomeResult.MET: "met its primary outcome; primary endpoint met; positive",
    OutcomeResult.NOT_MET: "did not meet its primary outcome; failed to meet its primary endpoint; missed; negative",
    OutcomeResult.MIXED: "mixed primary outcome results",
}


def _article_fields(article: Article) -> Iterable[str]:
    if article.study_type is not None:
        yield article.study_type.label
    yield from article.publication_types
    if article.year is not None:
        yield str(article.year)
    if article.journal:
        yield article.journal


def _safety_fields(section: str, item: SafetyItem) -> Iterable[str]:
    yield section.replace("_", " ")
    if isinstance(item, Interaction):
        yield f"interaction with {item.interacting}"
    if isinstance(item, AdverseEffect) and item.frequency:
        yield item.frequency
    if isinstance(item, SpecialPopulation):
        yield item.population.label


def item_fields_text(pack: EvidencePack) -> dict[str, str]:
    """Key -> the item's fields written out ("Phase 2; Completed; interventional; enrolment 12; ...").

    Pass the cited items' values, joined, as ``fields_text``: a statement may say what they say
    without a quote. The mechanism of action has no fields.
    """
    fields: dict[str, str] = {}
    if pack.safety is not None:
        for section, item in pack.safety.items():
            fields[item.citation_key] = "; ".join(_safety_fields(section, item))
    for indication in pack.ranked_indications():
        for trial in indication.trials:
            fields.setdefault(trial.key, "; ".join(_trial_fields(trial)))
        for article in indication.articles:
            fields.setdefault(article.key, "; ".join(_article_fields(article)))
    return fields


@dataclass(frozen=True)
class QuoteIndex:
    """What the quote checks need from one pack, built once (the verifier checks many statements).

    ``QuoteIndex.build(pack).problems(statement.text, statement.quotes, statement.keys)`` is
    :func:`quote_problems` with the cited texts, the cited items' fields and the other items' texts
    filled in from the pack.
    """

    texts: Mapping[str, str]
    fields: Mapping[str, str]

    @classmethod
    def build(cls, pack: EvidencePack) -> QuoteIndex:
        return cls(quotable_texts(pack), item_fields_text(pack))

    def fields_text(self, keys: Iterable[str]) -> str:
        """The fields of the items ``keys`` as one text, for :func:`covered_by_quotes`."""
        return "; ".join(self.fields.get(key, "") for key in keys)

    def problems(self, statement_text: str, quotes: Sequence[str], keys: Iterable[str]) -> list[Problem]:
        keys = list(keys)
        return quote_problems(statement_text, quotes, {key: self.texts.get(key, "") for key in keys},
                              fields_text=self.fields_text(keys), other_texts=self.texts)

    def covered(self, term: str, quotes: Sequence[str], keys: Iterable[str]) -> bool:
        """Whether a term of a statement citing ``keys`` is covered by its quotes or those items' fields."""
        return covered_by_quotes(term, quotes, self.fields_text(keys))
