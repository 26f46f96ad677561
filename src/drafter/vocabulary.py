"""Safety vocabulary: deterministic, data-driven detection of safety claims in drafted text.

Why this exists
---------------
The verifier must decide, sentence by sentence, whether a drafted report says something about
safety ("causes sedation", "avoid alcohol intake", "no known interactions", "safe in pregnancy") so
that each such claim can be checked against the evidence pack. An LLM cannot be asked to do that
check: it has to be deterministic and reproducible, so it is done with a vocabulary.

The vocabulary is *data* (``drafter/data/safety_vocabulary.json``, versioned), not a list in code, so
that a reviewer can read and extend it without touching the matcher. It holds

* **concepts** (sedation, QT prolongation, CYP3A4 inhibitors, pregnancy, liver function tests ...),
  each with its synonyms, inflections and British/American spellings as explicit terms;
* **absence claims**: regular expressions for statements that deny a risk ("well tolerated",
  "no dose adjustment is needed in renal impairment"), which need the strongest support of all;
* **negation cues** (and pseudo-negations, post-negations, scope terminators), so that
  "does not cause sedation" is told apart from "causes sedation".

False alarms matter as much as misses. Drug-repurposing reports are *about* diseases whose names
contain safety words: "nicotine withdrawal", "alcohol use disorder", "opioid dependence". Two
mechanisms keep those from being read as safety claims:

* a concept's ``not_within`` phrases: a term match that overlaps one of them is not a mention of
  that concept ("attenuates nicotine withdrawal" has no withdrawal mention, "baclofen withdrawal
  syndrome" has one);
* the ``mask`` argument of :meth:`SafetyVocabulary.mentions`: phrases the caller knows to be
  indication names (from the evidence pack, e.g. "Epilepsy", "Nicotine Dependence") are blanked
  out before matching. Callers should also mask the subject drug's own names when it belongs to an
  interacting class (a report on lithium is not full of lithium interaction warnings).

Generic words that only name a section ("safety", "adverse events", "side effects", "warnings",
"contraindications", "interactions", "tolerability") are deliberately not concepts; they appear only
inside absence-claim patterns.

Matching
--------
Terms are matched case-insensitively on word boundaries. Hyphen, the Unicode dashes, non-breaking
and other spaces are one separator class ("QT-prolongation" == "QT prolongation" == "QT–prolongation",
also with a non-breaking space), and apostrophe variants (' and the typographic ones) are equivalent
and optional ("St John's wort" == "St John’s wort" == "St Johns wort"). All terms, together with the
negation phrases, are compiled at load time into ONE regular expression, shaped as a character trie
so that the regex engine tries only the branches that can match the next character; at each
position the longest phrase wins, and one pass over a sentence finds everything.

Claims found by their cue
-------------------------
A claim need not use a known term: "may cause X", "risk of X", "X has been reported", "side effects
include X", "X adverse events", "(X) toxicity", "adverse drug reaction", "contraindicated in X",
"caution in X", "monitor for X", "interacts with X", "avoid (use) with X", "should not be combined
with X" are claims whatever X is. :meth:`SafetyVocabulary.cue_claims` finds them (``claim_cues`` in
the data, one compiled alternation), takes X as the noun phrase the cue governs (to the clause's end;
one claim per item of a list), gives X's concept when the vocabulary knows it and None otherwise, and
drops objects that are benefits or mechanisms ("improved survival", "apoptosis", "signalling
pathways"; ``cue_objects`` in the data). :meth:`SafetyVocabulary.object_supported` says whether a
supporting text covers X: through the concept, or through X's content words after folding case,
British/American spelling, plurals and simple inflections. :meth:`SafetyVocabulary.covered_concepts`
reads a supporting text with the ``support_terms`` too: phrasings that cover a concept in a pack
("Use with caution in epilepsy" covers "patients with epilepsy") without being claims in a report.

Context
-------
Safety words are often not claims: an outcome list ("the primary endpoint was ... myocardial
infarction"), a benefit ("reduced the risk of stroke"), a trial's qualifying event ("participants
after myocardial infarction"), an indication of use ("the treatment of peptic ulcer disease"), a
data request ("confirm safety in pregnant women"), a population inside a disease name ("paediatric
neuroblastoma"), a study title in Title Case, and a drug class named as a class ("is a
benzodiazepine", or in a sentence with no interaction cue at all). ``context_masks`` in the data
blank these out before matching, in :meth:`~SafetyVocabulary.mentions` (``context=True``, the
default) and in :meth:`~SafetyVocabulary.cue_claims`.

Negation is NegEx-like and deliberately simple: a negation cue governs the first concept mention
that follows it within six words in the same clause (clauses end at ``. ; : ! ?``, line breaks and
terminators such as "but", "however", "which"), and the negation carries along a list ("no sedation,
dizziness or respiratory depression"). Post-negation cues negate a preceding mention ("seizures were
not observed"); pseudo-negations ("should not be used in pregnancy", "not only", "has not been
established") are not negations; a "non-" prefix negates the term it is attached to ("non-sedating"). A
negation governs only its own phrase: a preposition between the cue and the mention ends it ("no
specific antidote for overdose", "no difference with respect to bleeding"), and instructions
("advised not to drive") and "non-major bleeding" are not denials.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple

from drafter.alternation import GatedAlternation, rule_starts, starts_trie
from drafter.casefold import lower_pattern, lower_same_length
from drafter.errors import UserError

__all__ = [
    "CATEGORIES",
    "AbsenceClaim",
    "Concept",
    "CueClaim",
    "SupportProfile",
    "SafetyMention",
    "SafetyVocabulary",
    "VocabularyError",
    "load_vocabulary",
]

DEFAULT_VOCABULARY_RESOURCE = "safety_vocabulary.json"

#: The categories a concept may have.
CATEGORIES: frozenset[str] = frozenset(
    {"adverse_effect", "warning", "interaction", "population", "contraindication", "monitoring"}
)

#: Words between a negation cue and the mention it governs, at most (NegEx uses about five).
NEGATION_WINDOW = 6
#: Words between a mention and a post-negation cue ("sedation was not observed"), at most.
POST_NEGATION_WINDOW = 4
#: Words between a negation cue and an absence claim that the cue cancels ("is not well tolerated").
CLAIM_NEGATION_WINDOW = 3

# Separator characters inside a term: whitespace (\s covers NBSP, narrow NBSP, thin space ...),
# hyphen-minus, the Unicode hyphens and dashes U+2010..U+2015, and the minus sign U+2212.
_SEP_CLASS = r"\s\-\u2010-\u2015\u2212"
_SEP_RX = f"[{_SEP_CLASS}]+"
_APOSTROPHES = "'\u2019\u2018\u02bc\u2032`\u00b4"
_SEP_RUN = re.compile(_SEP_RX)
# Text is matched "flattened": lower-cased, and with every separator character a space and every
# apostrophe "'" (one character for one, so offsets stay valid). The compiled patterns then need
# only " +" and "'?" where a term has a separator or an apostrophe, which keeps the big regex quick
# to compile and to run.
_WHITESPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_FLATTEN = str.maketrans(
    {ch: " " for ch in _WHITESPACE}
    | {ch: " " for ch in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
    | {ch: "'" for ch in _APOSTROPHES if ch != "'"}
)
_DELETE_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)
_NON_WORD_RUN = re.compile(r"[\W_]+")
# One-to-one normalisation for absence-claim patterns, so offsets stay valid: every dash becomes
# "-", every non-ASCII space " ", every apostrophe "'".
_CLAIM_TRANSLATION = str.maketrans(
    {
        **{chr(c): "-" for c in range(0x2010, 0x2016)},
        "\u2212": "-",
        **{ch: " " for ch in "\u00a0\u2007\u2009\u200a\u202f\u205f\u3000\t\r\n\f\v"},
        **{ch: "'" for ch in _APOSTROPHES if ch != "'"},
    }
)

_WORD = re.compile(r"\w+")
# A preposition between a negation cue and a mention ends the cue's phrase: "no specific antidote
# for overdose", "no difference with respect to bleeding" deny the antidote or the difference, not
# the risk. ("of", "in" and "with" do not: "no evidence of sedation", "no increase in seizures",
# "no patients with epilepsy were enrolled".)
_SCOPE_BREAK = re.compile(
    r"(?<!\w)(?:for|after|during|on|at|against|regarding|between|versus|vs|than|compared|with respect to|"
    r"with regard to|in terms of)(?!\w)"
)
# A title written in Title Case ("Effects of Varenicline on Smoking Urge and Withdrawal"): five or
# more capitalised words joined by at least two lower-case function words. Its words name a study,
# not a claim.
_TITLE_RUN = re.compile(
    r"(?<![\w\-])(?:[A-Z][\w'\u2019\-]*(?:[ \t]+|(?=[^\w]|$))|(?:of|on|and|in|for|with|versus|vs|the|a|an|to|by|at|"
    r"after|among|from|or)[ \t]+)+"
)
_TITLE_FUNCTION = re.compile(r"(?<!\S)(?:of|on|and|in|for|with|versus|vs|the|a|an|to|by|at|after|among|from|or)(?!\S)")
_TITLE_CAPITAL = re.compile(r"(?<![\w\-])[A-Z]")


_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n|\|")
# A label ("- **Warfarin:** raised INR", a pack item's "Alcohol: ...") states an interaction by itself.
_LABEL_AFTER = re.compile(r"[\s*_]*:")


def _uncued_sentences(normal: str, cues: Sequence[int], exceptions: frozenset[str]) -> list[tuple[Any, ...]]:
    """Sentences (as ``(-1, start, end, exceptions)``) that hold no interaction cue; ``exceptions``
    are the interaction concepts that are claims even there (alcohol, grapefruit juice ...)."""
    out: list[tuple[Any, ...]] = []
    start = 0
    ends = [m.end() for m in _SENTENCE_END.finditer(normal)] + [len(normal)]
    k = 0
    for end in ends:
        while k < len(cues) and cues[k] < start:
            k += 1
        if not (k < len(cues) and cues[k] < end) and ":" not in normal[start:end]:
            out.append((-1, start, end, exceptions))
        start = end
    return out


def _title_spans(text: str) -> list[tuple[int, int]]:
    """Spans of Title-Case runs that read as the title of a study or trial (see ``_TITLE_RUN``)."""
    spans = []
    for m in _TITLE_RUN.finditer(text):
        run = m.group().rstrip()
        if len(run) < 30:
            continue
        if len(_TITLE_CAPITAL.findall(run)) >= 5 and len(_TITLE_FUNCTION.findall(run)) >= 2:
            spans.append((m.start(), m.start() + len(run)))
    return spans
_NON_PREFIX = re.compile(r"(?<!\w)non ?$")  # in flattened text, where "non-" is "non "
_CLAUSE_PUNCTUATION = re.compile(r"[.;:!?](?=[\s\x00]|$)|\n")
# Where a clause mask ('unclear whether ...', a work request) ends: at a clause's punctuation, or where
# a conjunction opens a new clause that may state a claim of its own ('it is unclear whether sedation
# occurs, and respiratory depression is common').
_MASKED_CLAUSE_END = re.compile(
    r"[.;:!?](?=[\s\x00]|$)|\n|,\s+(?:but|while|whereas|yet|although|though)\b|\s+(?:but|whereas|although)\s+"
    # ', and' ends it only before a clause with its own verb, not before the last item of a list
    r"|,\s+(?:and|so)\s+(?=(?:[\w'-]+\s+){0,4}(?:is|are|was|were|may|can|could|will|would|has|have|had|causes?|"
    r"caused|occurs?|occurred|remains?|becomes?|develops?|developed)\b)")
# What may stand between two mentions of one list so that a negation carries over:
# "no sedation, dizziness or clinically significant respiratory depression".
_LIST_GLUE = re.compile(
    r"(?:[\s,/()&+\-]|\b(?:and|or|nor|as well as|including|such as|other|any|significant|clinically|"
    r"relevant|serious|severe|major|marked|increased|excessive|notable|new|worsening|symptomatic|"
    r"meaningful|important|overt|frank|the|a|an|of|risk|signs|symptoms|episodes|cases|reports|"
    r"evidence|incidence|drug|induced|related|associated)\b)*"
)
_LIST_GLUE_MAX = 80
# Characters per word assumed when a gap is too long to be worth counting its words.
_MAX_WORD_CHARS = 40
# Where a mask hit is blanked: not a word character and not a separator, so no term can match
# across or into it.
_BLANK = "\x00"

# Kinds of negation phrase, and the name of the clause-punctuation group of the negation scan.
_CUE, _PSEUDO, _POST, _END = "cue", "pseudo", "post", "end"

_SEP_TOKEN = "\x01sep"
_APOS_TOKEN = "\x01apos"
_TERMINAL = ""


class VocabularyError(UserError, ValueError):
    """The vocabulary file is malformed; the message names the file and the JSON path."""


@dataclass(frozen=True)
class Concept:
    """One safety concept and the ways of writing it."""

    id: str
    label: str
    category: str
    terms: tuple[str, ...]
    not_within: tuple[str, ...]


@dataclass(frozen=True)
class SafetyMention:
    """One mention of a concept in a text; offsets refer to the text as passed in."""

    concept: str
    text: str
    start: int
    end: int
    negated: bool


@dataclass(frozen=True)
class AbsenceClaim:
    """A statement that denies a risk ("no known interactions", "safe in pregnancy")."""

    id: str
    scope: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class CueClaim:
    """A safety claim found by its cue ("may cause X", "risk of X", "X has been reported",
    "contraindicated in X", "interacts with X" ...), whether or not the vocabulary knows X.

    ``start``/``end`` is the cue, ``object_start``/``object_end`` the item X it governs (one claim
    per item of a list: "may cause nausea, vasculitis and alopecia" gives three), all offsets into
    the text as passed in. ``concept`` is the vocabulary concept of X, or None when X is a term the
    vocabulary does not know (it is still a claim: the supporting text must then contain its
    words). ``negated`` is True when the cue is denied ("does not cause X", "no risk of X",
    "X has not been reported"). For a cue that is its own object ("toxicity", "adverse drug
    reaction" with nothing named) the object span is the cue's.
    """

    start: int
    end: int
    cue: str
    object_start: int
    object_end: int
    object_text: str
    concept: str | None
    negated: bool = False


@dataclass(frozen=True)
class SupportProfile:
    """What a supporting safety text covers, computed once per pack item: the concepts it affirms
    (terms and support-only phrasings) and its content words, spelling-normalised and stemmed."""

    concepts: frozenset[str]
    words: frozenset[str]


@dataclass(frozen=True)
class _CueRule:
    id: str
    object: str  # "after", "before" or "self"
    patterns: tuple[str, ...]
    body: str
    negatable: bool = True
    known_only: bool = False
    max_words: int = 6
    self_if_empty: bool = False


@dataclass(frozen=True)
class _ContextRule:
    id: str
    mask: str  # "match", "after", "before", "clause", "class" or "interaction_cue"
    patterns: tuple[str, ...]
    body: str
    except_concepts: frozenset[str] = frozenset()  # "class" only: concepts that stay claims
    lint_only: bool = False  # read only in published reports (lint), never in drafted statements


@dataclass(frozen=True)
class _CueObjects:
    stop_words: frozenset[str] = frozenset()
    verb_stops: frozenset[str] = frozenset()
    generic_words: frozenset[str] = frozenset()
    population_words: frozenset[str] = frozenset()
    population_links: frozenset[str] = frozenset()
    non_safety_heads: frozenset[str] = frozenset()
    non_safety_tails: frozenset[str] = frozenset()
    end_words: frozenset[str] = frozenset()


class _Exclusions(NamedTuple):
    regex: re.Pattern[str]  # zero-width; group 1 is the phrase, so overlapping phrases are all found
    longest: int
    words: frozenset[str] | None  # every word of every phrase, for the quick test


@dataclass(frozen=True)
class _AbsenceRule:
    id: str
    scope: str
    patterns: tuple[str, ...]
    body: str  # the patterns lower-cased, as one alternation
    regex: re.Pattern[str]
    fallback: bool = False  # a catch-all, reported only where no named rule claims the same words


# --- text helpers ------------------------------------------------------------------------------------


def _key(phrase: str) -> str:
    """The identity of a term: lower case, apostrophes dropped, separator runs as one space."""
    return _SEP_RUN.sub(" ", phrase.lower().translate(_DELETE_APOSTROPHES)).strip()


def _words_key(phrase: str) -> str:
    """Lower-case words joined by single spaces, for checking that one phrase contains another."""
    return " " + _NON_WORD_RUN.sub(" ", phrase.lower()).strip() + " "


def _symbols(phrase: str) -> list[str]:
    """A phrase as trie symbols: characters, plus one symbol per separator run and per apostrophe."""
    symbols: list[str] = []
    for ch in phrase.lower().strip(" \t\n-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00a0"):
        if ch.isspace() or ch == "-" or "\u2010" <= ch <= "\u2015" or ch == "\u2212":
            if symbols and symbols[-1] != _SEP_TOKEN:
                symbols.append(_SEP_TOKEN)
        elif ch in _APOSTROPHES:
            symbols.append(_APOS_TOKEN)
        else:
            symbols.append(ch)
    return symbols


def _trie_pattern(phrases: Iterable[str]) -> str:
    """One regex matching any of ``phrases`` in flattened text on word boundaries, longest first,
    as a character trie.

    A plain alternation of hundreds of terms makes the engine try every alternative at every
    position; the trie lets it reject a position after one character comparison.
    """
    root: dict[str, Any] = {}
    for phrase in phrases:
        node = root
        for sym in _symbols(phrase):
            node = node.setdefault(sym, {})
        node[_TERMINAL] = True

    def emit(node: dict[str, Any]) -> str:
        alternatives = []
        for sym in sorted(k for k in node if k != _TERMINAL):
            if sym == _SEP_TOKEN:
                head = " +"
            elif sym == _APOS_TOKEN:
                head = "'?"
            else:
                head = re.escape(sym)
            alternatives.append(head + emit(node[sym]))
        if _TERMINAL in node:  # last, so that longer terms are tried first
            alternatives.append(r"(?!\w)")
        if not alternatives:
            return "(?!)"  # no phrases: match nothing
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return r"(?<!\w)" + emit(root)


@functools.lru_cache(maxsize=256)
def _mask_regex(mask: tuple[str, ...]) -> re.Pattern[str] | None:
    """The regex of a mask, cached: a verifier passes the same indication names with every sentence."""
    phrases = [p for p in mask if isinstance(p, str) and _symbols(p)]
    return re.compile(_trie_pattern(phrases)) if phrases else None


def _blank(match: re.Match[str]) -> str:
    return _BLANK * (match.end() - match.start())


def _blank_spans(text: str, spans: Iterable[tuple[int, int]], filler: str = "") -> str:
    """``text`` with every span replaced by blanks of the same length; with ``filler``, a span of
    three or more characters becomes one placeholder word between two blanks (no term matches it)."""
    chars = list(text)
    for start, end in spans:
        n = end - start
        if filler and n >= 3:
            chars[start:end] = _BLANK + filler * (n - 2) + _BLANK
        else:
            chars[start:end] = _BLANK * n
    return "".join(chars)


def _copy_blanks(source: str, target: str) -> str:
    """``target`` with a blank wherever ``source`` (of the same length) has one."""
    return _blank_spans(target, (m.span() for m in re.finditer(_BLANK + "+", source)))


# --- words, for matching a claim's object against a supporting text ---------------------------------

# A token of claim text: a word (with inner hyphens and apostrophes), or one other character.
_OBJ_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*|[^\w\s]|_")
# Markup and quotes that neither end nor belong to a noun phrase ("may cause **severe hypotension**").
_TRANSPARENT = frozenset("*_`\"\u201c\u201d\u00ab\u00bb")
_LIST_WORDS = frozenset({"and", "or", "nor", "and/or"})
_LIST_MARKS = frozenset({",", "/", "&"})
_APPOSITION = frozenset({"a", "an", "the", "its", "their", "this", "these", "which", "who"})
_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:no|not|never|without|nor|neither|cannot|unlikely to|none of|absence of|lack of|free of|free from|"
    r"n't)\b)(?:[\s\-]+[\w\-']+){0,3}[\s\-]*\Z"
)
_NEGATION_INSIDE = re.compile(r"\b(?:not|never|no)\b")
# British -> American spellings and simple inflections, applied to both sides of a comparison.
_SPELLING = (
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe"), "e"),
    (re.compile(r"is(ation|e|ed|es|ing)\b"), r"iz\1"),
    (re.compile(r"ys(e|ed|es|ing)\b"), r"yz\1"),
    (re.compile(r"our(?=s?\b)"), "or"),
    (re.compile(r"(?<=[a-z])tre\b"), "ter"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ll"), "l"),
)


@functools.lru_cache(maxsize=8192)
def normalise_word(word: str) -> str:
    """A word in the one spelling used to compare a claim with its support: lower case, without
    apostrophes and hyphens, American spelling ("amenorrhoea" -> "amenorrhea", "haemorrhage" ->
    "hemorrhage", "tumour" -> "tumor"), and a crude stem for plurals and simple inflections
    ("transaminases" ~ "transaminase", "monitored" ~ "monitor", "raised" ~ "raise")."""
    w = word.lower().translate(_DELETE_APOSTROPHES).replace("-", "")
    for rx, repl in _SPELLING:
        w = rx.sub(repl, w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith(("ses", "xes", "ches", "shes", "zes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "is", "us")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def _close_words(a: str, b: str) -> bool:
    """Normalised words that are one word: equal, or sharing all but the last letter of the shorter
    and at least seven letters ("vasculitic" ~ "vasculitis", "hemorrhagic" ~ "hemorrhag")."""
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 7:
        return False
    k = 0
    while k < short and a[k] == b[k]:
        k += 1
    return k >= 7 and k >= short - 1


# --- the vocabulary --------------------------------------------------------------------------------


class SafetyVocabulary:
    """The loaded vocabulary and its matchers, compiled once. Build it with :func:`load_vocabulary`
    (or :meth:`from_dict`); it is immutable and safe to share between threads."""

    version: str
    description: str
    source: str
    concepts: Mapping[str, Concept]

    def __init__(
        self,
        *,
        version: str,
        description: str,
        concepts: Sequence[Concept],
        absence_rules: Sequence[_AbsenceRule],
        negation_cues: Sequence[str],
        pseudo_negation_cues: Sequence[str] = (),
        post_negation_cues: Sequence[str] = (),
        negation_terminators: Sequence[str] = (),
        source: str = "<vocabulary>",
        support_terms: Mapping[str, Sequence[str]] | None = None,
        claim_cues: Sequence[_CueRule] = (),
        cue_objects: _CueObjects | None = None,
        context_rules: Sequence[_ContextRule] = (),
    ) -> None:
        self.version = version
        self.description = description
        self.source = source
        self.concepts = MappingProxyType({c.id: c for c in concepts})
        self._term_concept: dict[str, str] = {}
        for concept in concepts:
            for term in concept.terms:
                self._term_concept.setdefault(_key(term), concept.id)
        self._term_list = tuple(t for c in concepts for t in c.terms)
        # Per concept, its not_within phrases. An exclusion that overlaps a match contains the word
        # before it or the word after it, or lies inside it; so a match whose neighbouring words
        # occur in none of the phrases needs no regex search (``words`` is None when a phrase fits
        # inside a term of the concept, and then every match is searched).
        self._exclusions: dict[str, _Exclusions] = {}
        for concept in concepts:
            if concept.not_within:
                inner = _trie_pattern(concept.not_within)
                words: frozenset[str] | None = frozenset(
                    w for phrase in concept.not_within for w in _words_key(phrase).split()
                )
                term_words = [_words_key(t) for t in concept.terms]
                phrase_words = [_words_key(p) for p in concept.not_within]
                if any(p in t for p in phrase_words for t in term_words):
                    words = None
                self._exclusions[concept.id] = _Exclusions(
                    re.compile(f"(?=({inner}))"), max(len(p) for p in concept.not_within), words
                )
        self._absence_rules = tuple(absence_rules)
        # Absence rules are tried only where a word starts as one of their patterns can start
        # ("no", "well", "safe", "does" ...; drafter.alternation reads the starts off each pattern):
        # one light scan instead of running every rule over the whole text. Every rule may match at
        # a position (unlike a cue alternation, where the first wins), so each is tried on its own.
        # If some pattern's start cannot be listed, every rule is run.
        self._claim_starts: re.Pattern[str] | None = None
        self._rules_by_initial: dict[str, list[tuple[tuple[str, ...], _AbsenceRule]]] = {}
        leading = {rule.id: rule_starts(rule.body) for rule in absence_rules}
        if absence_rules and all(starts and "" not in starts for starts in leading.values()):
            for rule in absence_rules:
                starts = leading[rule.id] or frozenset()
                for initial in sorted({w[0] for w in starts}):
                    mine = tuple(sorted(w for w in starts if w[0] == initial))
                    self._rules_by_initial.setdefault(initial, []).append((mine, rule))
            every = {w for ws in leading.values() for w in ws or ()}
            self._claim_starts = re.compile(r"(?<!\w)(?=" + starts_trie(every) + ")")
        # Terms and negation phrases (cues, pseudo-negations, post-negations, clause terminators)
        # are found by ONE scan, longest phrase first: "should not" (pseudo) hides its "not",
        # "not observed" (post) is not also read as "not", and a term that contains a cue ("lack of
        # coordination") is a term. A phrase that may hide the start of a term ("no dose
        # adjustment", "no increase in" + "weight") is looked into (see ``_scan``).
        self._phrase_kind: dict[str, str] = {}
        for kind, phrases in (
            (_CUE, negation_cues),
            (_PSEUDO, pseudo_negation_cues),
            (_POST, post_negation_cues),
            (_END, negation_terminators),
        ):
            for phrase in phrases:
                self._phrase_kind.setdefault(_key(phrase), kind)
        all_phrases = [*negation_cues, *pseudo_negation_cues, *post_negation_cues, *negation_terminators]
        self._scanner = re.compile(_trie_pattern([*(t for c in concepts for t in c.terms), *all_phrases]))
        term_keys = sorted(self._term_concept)
        self._hides_terms = frozenset(
            key for key in self._phrase_kind if _may_hide_a_term(key, self._term_concept, term_keys)
        )
        # Support-only phrasings: what a pack's safety text may say for a concept without the phrase
        # being a claim when a report says it ("Use with caution in epilepsy" covers "patients with
        # epilepsy"). Matched only in supporting texts, by their own compiled trie.
        self._support_concept: dict[str, str] = {}
        for cid, phrases in (support_terms or {}).items():
            for phrase in phrases:
                self._support_concept.setdefault(_key(phrase), cid)
        self._support_regex = (
            re.compile(_trie_pattern([p for ps in (support_terms or {}).values() for p in ps]))
            if self._support_concept else None
        )
        # Claim cues and context masks: each ONE alternation of named groups, one pass per text.
        self._cue_rules = tuple(claim_cues)
        self._cue_regex = (
            GatedAlternation([r.body for r in claim_cues], head=r"(?<![\w\-])", tail=r"(?!\w)")
            if claim_cues else None
        )
        self._objects = cue_objects or _CueObjects()
        self._non_safety = frozenset(normalise_word(w) for w in self._objects.non_safety_heads)
        self._non_safety_tails = frozenset(normalise_word(w) for w in self._objects.non_safety_tails)
        self._not_content = self._objects.generic_words | self._objects.stop_words
        # Two readings of the context masks: every mask for a published report (lint), and the shared
        # ones only for a drafted statement, so that a mask written for real prose can never hide a
        # drafted claim. Each is ONE alternation.
        self._context_rules = tuple(context_rules)
        self._needs_interaction_cue = any(r.mask == "interaction_cue" for r in context_rules)
        self._context_regex = (
            GatedAlternation([r.body for r in context_rules], head=r"(?<![\w\-])") if context_rules else None
        )
        shared = tuple(r for r in context_rules if not r.lint_only)
        self._shared_context: tuple[tuple[_ContextRule, ...], GatedAlternation | None] = (
            (self._context_rules, self._context_regex) if len(shared) == len(context_rules) else
            (shared, GatedAlternation([r.body for r in shared], head=r"(?<![\w\-])") if shared else None))

    @functools.cached_property
    def _terms(self) -> re.Pattern[str]:
        """Terms only; needed for the rare look into a negation phrase, so compiled on first use."""
        return re.compile(_trie_pattern(self._term_list))

    def __repr__(self) -> str:
        return (
            f"SafetyVocabulary(version={self.version!r}, concepts={len(self.concepts)}, "
            f"terms={self.term_count()}, source={self.source!r})"
        )

    # --- building from data -----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<vocabulary>") -> SafetyVocabulary:
        """Validate parsed JSON and build the vocabulary; problems raise :class:`VocabularyError`."""
        return _Parser(source).parse(data)

    # --- queries -------------------------------------------------------------------------------------

    def term_count(self) -> int:
        """Distinct terms across all concepts (spelling variants that differ only in separators or
        apostrophes count once)."""
        return len(self._term_concept)

    def concept_of(self, term: str) -> str | None:
        """The id of the concept that lists ``term``, or None."""
        return self._term_concept.get(_key(term))

    def mentions(self, text: str, *, mask: Iterable[str] = (), context: bool = True,
                 lint: bool = False) -> list[SafetyMention]:
        """Every concept mention in ``text``, in order; overlapping terms resolve to the longest.

        ``mask``: phrases (indication names, the subject drug) whose occurrences are blanked out
        before matching, with the same case and separator equivalence as terms.
        ``context``: apply the vocabulary's context masks (outcome lists, "reduces the risk of X",
        data requests, a population inside a disease name, a drug class named as a class), which
        say where a safety word is not a safety claim. Pass False for a supporting text, where every
        word counts. ``lint``: the text is a published report, not a drafted statement: the masks
        marked ``lint_only`` apply too.
        """
        if not text or self._terms.search(lower_same_length(text).translate(_FLATTEN)) is None:
            return []  # masks and exclusions only remove mentions: with no term at all, none can remain
        return self._mentions(text, mask, context, lint)

    def _mentions(self, text: str, mask: Iterable[str], context: bool, lint: bool = False) -> list[SafetyMention]:
        """:meth:`mentions` without its shortcut for a text with no term."""
        low, _, flat, class_spans = self._prepared(text, mask, context, lint)
        found, cues, posts, ends = self._scan(flat)
        if class_spans and found:
            found = self._drop_class_names(found, class_spans)
        if not found:
            return []
        negated = self._negations(flat, low, found, cues, posts, ends)
        return [
            SafetyMention(concept, text[start:end], start, end, neg)
            for (start, end, concept), neg in zip(found, negated, strict=True)
        ]

    def concepts_in(self, text: str, *, mask: Iterable[str] = (), context: bool = True,
                    lint: bool = False) -> frozenset[str]:
        """Ids of the concepts mentioned in ``text``, negated or not (``context``, ``lint`` as in :meth:`mentions`)."""
        return frozenset(m.concept for m in self.mentions(text, mask=mask, context=context, lint=lint))

    def absence_claims(self, text: str) -> list[AbsenceClaim]:
        """Statements denying a risk, in order. A claim that is itself negated ("is not well
        tolerated", "cannot be considered safe in pregnancy") is not reported."""
        if not text or not self._absence_rules:
            return []
        low = lower_same_length(text)
        normal = low.translate(_CLAIM_TRANSLATION)
        hits: list[tuple[int, int, _AbsenceRule]] = []
        if self._claim_starts is None:
            for rule in self._absence_rules:
                hits.extend((m.start(), m.end(), rule) for m in rule.regex.finditer(normal) if m.end() > m.start())
        else:
            by_initial = self._rules_by_initial
            for candidate in self._claim_starts.finditer(normal):
                pos = candidate.start()
                for words, rule in by_initial.get(normal[pos], ()):
                    if normal.startswith(words, pos):
                        m = rule.regex.match(normal, pos)
                        if m is not None and m.end() > pos:
                            hits.append((pos, m.end(), rule))
        if not hits:
            return []
        _, cue_spans, post_spans, ends = self._scan(low.translate(_FLATTEN))
        cue_ends = sorted(e for _, e in (*cue_spans, *post_spans))
        clause_ends = _clause_ends(low, ends) if cue_ends else []
        claims: list[AbsenceClaim] = []
        last_end: dict[str, int] = {}  # per claim id: one claim per stretch of text
        named = [(start, end) for start, end, rule in hits if not rule.fallback]
        for start, end, rule in sorted(hits, key=lambda h: (h[0], -h[1], h[2].id)):
            if start < last_end.get(rule.id, -1):
                continue
            if rule.fallback and any(s < end and start < e for s, e in named):
                continue  # 'safe in children' is safe_in_children's claim, not also the catch-all's
            last_end[rule.id] = end
            k = bisect.bisect_right(cue_ends, start) - 1
            if k >= 0:
                cue_end = cue_ends[k]
                if _within(low, clause_ends, cue_end, start, CLAIM_NEGATION_WINDOW):
                    continue
            claims.append(AbsenceClaim(rule.id, rule.scope, text[start:end], start, end))
        return claims

    def covered_concepts(self, text: str, *, mask: Iterable[str] = ()) -> frozenset[str]:
        """The concepts a *supporting* text affirms: its non-negated mentions (no context masks) and
        the support-only phrasings of the vocabulary ("in epilepsy" covers ``seizure_history``,
        "Diabetes mellitus" covers ``diabetes_population``, "blood glucose" ``glucose_monitoring``)."""
        if not text:
            return frozenset()
        covered = {m.concept for m in self.mentions(text, mask=mask, context=False) if not m.negated}
        if self._support_regex is not None:
            flat = lower_same_length(text).translate(_FLATTEN)
            for m in self._support_regex.finditer(flat):
                concept = self._support_concept.get(m.group()) or self._support_concept.get(_key(m.group()))
                if concept is not None:
                    covered.add(concept)
        return frozenset(covered)

    def support_profile(self, text: str) -> SupportProfile:
        """What ``text`` (a pack safety item) covers; compute it once per item and pass it to
        :meth:`object_supported` for every claim."""
        words = frozenset(
            normalise_word(t) for t in _OBJ_TOKEN.findall(lower_same_length(text or "")) if t[:1].isalnum()
        )
        return SupportProfile(self.covered_concepts(text or ""), words)

    def object_supported(self, claim: CueClaim, support: str | SupportProfile) -> bool:
        """Whether a supporting safety text covers the object X of ``claim``.

        A known concept is covered when the text affirms the concept (any of its terms or support
        phrasings) or holds every content word of X. An unknown X is covered when every content word
        of X is in the text, after folding case, British/American spelling, plurals and simple
        inflections ("amenorrhoea" ~ "amenorrhea", "vasculitic" ~ "vasculitis"). A cue that is its
        own object and names nothing ("toxicity", "adverse drug reaction") is covered by any
        non-empty safety text.
        """
        profile = support if isinstance(support, SupportProfile) else self.support_profile(support)
        if claim.concept is not None and claim.concept in profile.concepts:
            return True
        words = self.content_words(claim.object_text)
        if not words:
            return bool(profile.words)
        if claim.concept is not None:  # the concept is the judge; words only if all are there verbatim
            return all(w in profile.words for w in words)
        return all(w in profile.words or any(_close_words(w, s) for s in profile.words) for w in words)

    def content_words(self, phrase: str) -> list[str]:
        """The normalised content words of ``phrase``: without function words, generic modifiers
        ("serious", "signs of", "patients") and section words ("adverse", "effects")."""
        skip = self._not_content
        return [
            normalise_word(t)
            for t in _OBJ_TOKEN.findall(lower_same_length(phrase))
            if t[:1].isalnum() and t not in skip
        ]

    def cue_claims(self, text: str, *, mask: Iterable[str] = (), lint: bool = False) -> list[CueClaim]:
        """Safety claims found by their cue, in order of their objects: "may cause X", "can lead to X",
        "risk of X", "X has been reported", "side effects include X", "X adverse events",
        "(X) toxicity", "adverse drug reaction", "contraindicated in X", "caution in X", "monitor for
        X", "interacts with X", "avoid (use) with X", "should not be combined with X".

        X is the noun phrase the cue governs, up to the end of its clause; an 'and'/'or'/comma list
        gives one claim per item. ``concept`` is X's vocabulary concept, or None when the vocabulary
        does not know X (the claim stands: :meth:`object_supported` then compares words). A cue
        inside an absence claim ("no known interactions with X") is left to :meth:`absence_claims`.
        Objects
        that are benefits or mechanisms ("may lead to improved survival", "can induce apoptosis")
        are not claims, nor is anything inside ``mask`` or the vocabulary's context masks.
        """
        if not text or self._cue_regex is None:
            return []
        if self._cue_regex.pattern.search(lower_same_length(text).translate(_CLAIM_TRANSLATION)) is None:
            # No cue in the text as written: blanking masks out of it does not create one (the cues'
            # look-arounds read the next or previous word only, and no mask starts or ends there;
            # tests/test_vocabulary.py compares this shortcut with the full reading on every corpus line).
            return []
        return self._cue_claims(text, mask, lint)

    def _cue_claims(self, text: str, mask: Iterable[str], lint: bool = False) -> list[CueClaim]:
        """:meth:`cue_claims` without its shortcut for a text with no cue."""
        low, normal, flat, class_spans = self._prepared(text, mask, True, lint)
        found = self._scan(flat)[0]
        if class_spans and found:
            found = self._drop_class_names(found, class_spans)
        clause_starts = [m.end() for m in _CLAUSE_PUNCTUATION.finditer(low)]
        claims: list[CueClaim] = []
        taken: list[tuple[int, int]] = []
        for which, match in self._cue_regex.finditer(normal):
            rule = self._cue_rules[which]
            if rule.object == "after":
                items = self._object_after(normal, match.end(), rule.max_words)
            elif rule.object == "before":
                items = self._object_before(normal, match.start(), rule.max_words)
            else:
                items = []
            own = not items and (rule.object == "self" or rule.self_if_empty)
            if own:
                items = [(match.start(), match.end())]
            if not items:
                continue
            negated = False
            if rule.negatable:
                anchor = items[0][0] if rule.object == "before" and not own else match.start()
                k = bisect.bisect_right(clause_starts, anchor) - 1
                lo = max(clause_starts[k] if k >= 0 else 0, anchor - 80)
                negated = bool(_NEGATION_INSIDE.search(normal, match.start(), match.end())) or bool(
                    _NEGATION_BEFORE.search(normal[lo:anchor])
                )
            for start, end in items:
                concept = None
                for m_start, m_end, m_concept in found:
                    if m_start < end and m_end > start:
                        concept = m_concept
                        start, end = min(start, m_start), max(end, m_end)
                        break
                    if m_start >= end:
                        break
                if concept is None and not own:
                    words = self.content_words(text[start:end])
                    if (not words or words[0] in self._non_safety or words[-1] in self._non_safety_tails
                            or rule.known_only):
                        continue
                if any(s < end and e > start for s, e in taken):
                    continue
                taken.append((start, end))
                claims.append(CueClaim(match.start(), match.end(), rule.id, start, end, text[start:end], concept,
                                       negated))
        if claims:
            # A cue inside an absence claim ("no known interactions with X") is that claim's, not a
            # second one: the absence claim is what a verifier reports.
            denials = [(a.start, a.end) for a in self.absence_claims(text)]
            if denials:
                claims = [c for c in claims if not any(s < c.end and c.start < e for s, e in denials)]
        claims.sort(key=lambda c: (c.object_start, c.start))
        return claims

    # --- internals -----------------------------------------------------------------------------------

    def _prepared(self, text: str, mask: Iterable[str], context: bool,
                  lint: bool = False) -> tuple[str, str, str, list[tuple[Any, ...]]]:
        mask = (mask,) if isinstance(mask, str) else tuple(mask)
        low, normal, flat, class_spans = self._prepared_cached(text, mask, context, lint)
        return low, normal, flat, list(class_spans)  # a copy: the cached spans are shared

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one vocabulary per process; the cache is what it reads
    def _prepared_cached(self, text: str, mask: tuple[str, ...], context: bool, lint: bool = False
                         ) -> tuple[str, str, str, tuple[tuple[Any, ...], ...]]:
        """Mentions and cue claims read the same sentence: it is prepared once for both.

        ``text`` lower-cased (``low``), normalised for claim patterns (``normal``: dashes '-',
        spaces ' ', apostrophes "'") and flattened for the term scan (``flat``), with the mask and,
        if ``context``, the context masks blanked out in both; plus the spans after which a drug
        class is only named."""
        low = lower_same_length(text)
        flat = low.translate(_FLATTEN)
        normal = low.translate(_CLAIM_TRANSLATION)
        if mask:
            masker = _mask_regex((mask,) if isinstance(mask, str) else tuple(mask))
            if masker is not None:
                flat = masker.sub(_blank, flat)
                if _BLANK in flat:
                    normal = _copy_blanks(flat, normal)
        class_spans: list[tuple[Any, ...]] = []
        rules, regex = (self._context_rules, self._context_regex) if lint else self._shared_context
        if context and regex is not None:
            spans: list[tuple[int, int]] = _title_spans(text) if len(text) >= 30 else []
            interaction_cues: list[int] = []
            cue_exceptions: frozenset[str] = frozenset(
                c for r in rules if r.mask == "interaction_cue" for c in r.except_concepts
            )
            for which, match in regex.finditer(normal):
                rule = rules[which]
                if rule.mask == "class":
                    class_spans.append((match.start(), match.end(), rule.except_concepts))
                elif rule.mask == "interaction_cue":
                    interaction_cues.append(match.start())
                    cue_exceptions = rule.except_concepts
                elif rule.mask == "after":
                    items = self._object_after(normal, match.end(), 6)
                    spans.append((match.start(), items[-1][1] if items else match.end()))
                elif rule.mask == "clause":
                    stop = _MASKED_CLAUSE_END.search(normal, match.end())
                    spans.append((match.start(), stop.start() if stop else len(normal)))
                elif rule.mask == "before":
                    items = self._object_before(normal, match.start(), 6)
                    spans.append((items[0][0] if items else match.start(), match.end()))
                elif match.end() > match.start():
                    spans.append(match.span())
            if self._needs_interaction_cue:
                # Marks the sentences with no interaction cue: a drug class named there is not a claim.
                class_spans.extend(_uncued_sentences(normal, interaction_cues, cue_exceptions))
            if spans:
                # In the scanned text a masked phrase still counts as one word, so that a negation
                # does not reach further across it than across the words it replaces.
                flat = _blank_spans(flat, spans, filler="x")
                normal = _blank_spans(normal, spans)
        return low, normal, flat, tuple(class_spans)

    def _drop_class_names(
        self, found: list[tuple[int, int, str]], class_spans: list[tuple[Any, ...]]
    ) -> list[tuple[int, int, str]]:
        """Interaction-class mentions that only name a class ("is a benzodiazepine", "like other
        NSAIDs", "Class: opioids") are not claims."""
        kept = []
        for start, end, concept in found:
            if self.concepts[concept].category == "interaction":
                if any(
                    span[0] >= 0 and span[0] + 2 <= start <= span[1] + 1 and concept not in span[2]
                    for span in class_spans
                ):
                    continue
                if any(span[0] == -1 and span[1] <= start < span[2] and concept not in span[3] for span in class_spans):
                    continue  # no interaction cue in its sentence ("compared with non-selective NSAIDs")
            kept.append((start, end, concept))
        return kept

    def _object_after(self, normal: str, pos: int, max_words: int) -> list[tuple[int, int]]:
        """The items of the noun phrase that starts at ``pos``: words up to the clause's end, a stop
        word (preposition, conjunction, verb) or punctuation; commas, 'and', 'or' separate items."""
        obj = self._objects
        items: list[tuple[int, int]] = []
        cur: list[int] | None = None
        n_words = total = 0
        after_separator = after_comma = skipped_population = False
        for m in _OBJ_TOKEN.finditer(normal, pos, min(len(normal), pos + 400)):
            tok = m.group()
            if tok in _TRANSPARENT:
                continue
            if tok in _LIST_MARKS or tok in _LIST_WORDS:
                if cur is not None:
                    items.append((cur[0], cur[1]))
                    cur = None
                n_words = 0
                after_separator = True
                after_comma = tok == ","
                continue
            if after_comma and cur is None and tok in _APPOSITION:
                break  # "rifampicin, a potent inducer": an apposition, not another item
            if not tok[0].isalnum():
                break
            if cur is None and skipped_population and tok in obj.population_links:
                continue
            if tok in obj.stop_words or (cur is not None and tok in obj.end_words):
                if tok in obj.verb_stops and after_separator and cur is not None:
                    cur = None  # "sedation, patients should ...": a new clause, not an item
                break
            if cur is None:
                if tok in obj.population_words:
                    skipped_population = True
                    continue
                if tok in obj.generic_words:
                    continue
                cur = [m.start(), m.end()]
                n_words = 1
            else:
                n_words += 1
                if n_words > max_words:
                    break
                cur[1] = m.end()
            total += 1
            if total > 24:
                break
        if cur is not None:
            items.append((cur[0], cur[1]))
        return items

    def _object_before(self, normal: str, pos: int, max_words: int) -> list[tuple[int, int]]:
        """The items of the noun phrase that ends at ``pos`` ("nausea, vomiting and vasculitis |have
        been reported"); a comma continues the list only once an 'and'/'or' has been passed, a generic
        modifier ("serious", "a") ends the phrase on its left, and "of" joins two nouns ("swelling of
        the extremities") unless the left one is generic ("cases of hepatitis")."""
        obj = self._objects
        tokens = [m for m in _OBJ_TOKEN.finditer(normal, max(0, pos - 240), pos) if m.group() not in _TRANSPARENT]
        items: list[tuple[int, int]] = []
        cur: list[int] | None = None
        n_words = 0
        seen_and = closed_by_generic = False
        k = len(tokens)
        while k > 0:
            k -= 1
            m = tokens[k]
            tok = m.group()
            if tok in _LIST_WORDS or tok in ("/", "&", ","):
                if cur is None and not items:
                    break  # nothing named next to the cue: "efficacy outcomes, and adverse events"
                if cur is not None:
                    items.append((cur[0], cur[1]))
                    cur = None
                if tok == ",":
                    if not seen_and:
                        break
                else:
                    seen_and = True
                n_words, closed_by_generic = 0, False
                continue
            if tok in ("of", "the") and cur is not None:
                j = k - 1
                while j >= 0 and tokens[j].group() in ("of", "the"):
                    j -= 1
                left = tokens[j].group() if j >= 0 else ""
                if left[:1].isalnum() and left not in obj.generic_words and left not in obj.stop_words and (
                    left not in obj.population_words
                ):
                    k = j + 1  # "swelling of the extremities": keep walking through "of the"
                    continue
                break
            if not tok[0].isalnum() or tok in obj.stop_words or tok == "of":
                break
            if tok in obj.generic_words or tok in obj.population_words or tok in obj.end_words:
                if cur is not None:
                    items.append((cur[0], cur[1]))
                    cur = None
                closed_by_generic = True
                continue
            if closed_by_generic:
                break
            if cur is None:
                cur = [m.start(), m.end()]
                n_words = 1
            else:
                n_words += 1
                if n_words > max_words:
                    break
                cur[0] = m.start()
        if cur is not None:
            items.append((cur[0], cur[1]))
        return sorted(items)


    def _excluded(self, concept: str, flat: str, start: int, end: int) -> bool:
        regex, longest, words = self._exclusions[concept]
        if words is not None:
            before = _WORD.findall(flat, max(0, start - 32), start)
            after = _WORD.search(flat, end, end + 32)
            if (not before or before[-1] not in words) and (after is None or after.group() not in words):
                return False
        lo = max(0, start - longest - 8)
        hi = min(len(flat), end + 2 * longest + 16)
        for m in regex.finditer(flat, lo, hi):
            if m.start() >= end:
                return False
            if m.end(1) > start:
                return True
        return False

    def _scan(
        self, flat: str
    ) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]], list[tuple[int, int]], list[int]]:
        """One pass over the flattened text: concept mentions (start, end, concept id), negation-cue spans,
        post-negation-cue spans and the ends of clause terminators."""
        found: list[tuple[int, int, str]] = []
        cues: list[tuple[int, int]] = []
        posts: list[tuple[int, int]] = []
        ends: list[int] = []
        term_concept = self._term_concept
        kinds = self._phrase_kind
        covered = -1  # end of a term found inside a negation phrase; later matches inside it are skipped
        for match in self._scanner.finditer(flat):
            start, end = match.span()
            if start < covered:
                continue
            written = match.group()
            concept = term_concept.get(written)
            if concept is None and written not in kinds:
                written = _key(written)
                concept = term_concept.get(written)
            if concept is not None:
                if not (concept in self._exclusions and self._excluded(concept, flat, start, end)):
                    found.append((start, end, concept))
                continue
            kind = kinds.get(written)
            if kind == _CUE:
                cues.append((start, end))
            elif kind == _POST:
                posts.append((start, end))
            elif kind == _END:
                ends.append(end)
            if written in self._hides_terms:
                hidden = self._terms.search(flat, start + 1)
                if hidden is not None and hidden.start() < end:
                    h_start, h_end = hidden.span()
                    concept = term_concept.get(hidden.group()) or term_concept[_key(hidden.group())]
                    if not (concept in self._exclusions and self._excluded(concept, flat, h_start, h_end)):
                        found.append((h_start, h_end, concept))
                        covered = h_end
                        # The phrase now ends where the term starts ("no increase in weight": the
                        # cue "no" negates "increase in weight").
                        if kind == _CUE:
                            cues[-1] = (start, h_start)
                        elif kind == _POST:
                            posts[-1] = (start, h_start)
                        elif kind == _END:
                            ends[-1] = h_start
        return found, cues, posts, ends

    def _negations(
        self,
        flat: str,
        low: str,
        found: list[tuple[int, int, str]],
        cue_spans: list[tuple[int, int]],
        post_spans: list[tuple[int, int]],
        ends: list[int],
    ) -> list[bool]:
        """Whether each mention is negated. ``flat`` is the text as scanned; ``low`` the same text
        before flattening, which still has its line breaks (clause ends)."""
        n = len(found)
        if not cue_spans and not post_spans:
            return [_NON_PREFIX.search(flat, max(0, start - 4), start) is not None for start, _, _ in found]
        clause_ends = _clause_ends(low, ends)

        # Post-negation first ("sedation and dizziness were not observed"), right to left.
        post_starts = [s for s, _ in post_spans]
        post = [False] * n
        used_post: set[int] = set()
        for i in range(n - 1, -1, -1):
            end = found[i][1]
            next_start = found[i + 1][0] if i + 1 < n else len(flat)
            j = bisect.bisect_left(post_starts, end)
            if j < len(post_spans) and post_starts[j] < next_start:
                cue_start = post_starts[j]
                if _within(flat, clause_ends, end, cue_start, POST_NEGATION_WINDOW):
                    post[i] = True
                    used_post.add(j)
                    continue
            if i + 1 < n and post[i + 1] and self._is_list(flat, clause_ends, end, next_start):
                post[i] = True

        # Pre-negation ("does not cause sedation, dizziness or ..."), left to right. A post-negation
        # cue that negated nothing before it still negates what follows ("has not been reported to
        # cause seizures").
        if used_post != set(range(len(post_spans))):
            cue_spans = sorted([*cue_spans, *(span for j, span in enumerate(post_spans) if j not in used_post)])
        cue_ends = [e for _, e in cue_spans]
        pre = [False] * n
        result = [False] * n
        for i in range(n):
            start = found[i][0]
            previous_end = found[i - 1][1] if i else 0
            k = bisect.bisect_right(cue_ends, start) - 1
            if k >= 0 and cue_ends[k] >= previous_end:
                cue_end = cue_ends[k]
                if _within(flat, clause_ends, cue_end, start, NEGATION_WINDOW) and not _SCOPE_BREAK.search(
                    flat, cue_end, start
                ):
                    pre[i] = True
            if not pre[i] and i and pre[i - 1] and self._is_list(flat, clause_ends, previous_end, start):
                pre[i] = True
            result[i] = pre[i] or post[i] or _NON_PREFIX.search(flat, max(0, start - 4), start) is not None
        return result

    @staticmethod
    def _is_list(flat: str, clause_ends: Sequence[int], left_end: int, right_start: int) -> bool:
        return (
            right_start - left_end <= _LIST_GLUE_MAX
            and _same_clause(clause_ends, left_end, right_start)
            and _LIST_GLUE.fullmatch(flat, left_end, right_start) is not None
        )


def _clause_ends(low: str, terminator_ends: list[int]) -> list[int]:
    """Sorted ends of clause punctuation and of clause terminators ("but", "however" ...)."""
    ends = [m.end() for m in _CLAUSE_PUNCTUATION.finditer(low)]
    if terminator_ends:
        ends = sorted(ends + terminator_ends)
    return ends


def _may_hide_a_term(phrase_key: str, term_concept: Mapping[str, str], sorted_term_keys: Sequence[str]) -> bool:
    """True when a term may start inside the phrase after its first word ("no dose adjustment"
    holds "dose adjustment"; "no increase in" may go on as "increase in weight")."""
    words = phrase_key.split(" ")
    for k in range(1, len(words)):
        suffix = " ".join(words[k:])
        if any(" ".join(words[k:j]) in term_concept for j in range(k + 1, len(words) + 1)):
            return True
        i = bisect.bisect_left(sorted_term_keys, suffix)
        if i < len(sorted_term_keys) and sorted_term_keys[i].startswith(suffix):
            return True
    return False


def _same_clause(clause_ends: Sequence[int], left: int, right: int) -> bool:
    """True when no clause boundary ends in (left, right]."""
    return bisect.bisect_right(clause_ends, left) == bisect.bisect_right(clause_ends, right)


def _within(low: str, clause_ends: Sequence[int], left: int, right: int, words: int) -> bool:
    """True when ``low[left:right]`` is in one clause and holds at most ``words`` words."""
    return (
        right - left <= _MAX_WORD_CHARS * (words + 1)
        and _same_clause(clause_ends, left, right)
        and len(_WORD.findall(low, left, right)) <= words
    )


# --- validation -------------------------------------------------------------------------------------

_TOP_KEYS = {
    "version",
    "description",
    "concepts",
    "absence_claims",
    "negation_cues",
    "pseudo_negation_cues",
    "post_negation_cues",
    "negation_terminators",
    "support_terms",
    "claim_cues",
    "cue_objects",
    "context_masks",
}
_CUE_KEYS = {"id", "object", "patterns", "negatable", "known_only", "max_words", "self_if_empty"}
_CONTEXT_KEYS = {"id", "mask", "patterns", "except_concepts", "lint_only"}
_CUE_OBJECT_KEYS = {"stop_words", "verb_stops", "generic_words", "population_words", "population_links",
                    "non_safety_heads", "non_safety_tails", "end_words"}
_CONCEPT_KEYS = {"id", "label", "category", "terms", "not_within"}
_CLAIM_KEYS = {"id", "scope", "patterns", "fallback"}
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


class _Parser:
    """Validates the parsed JSON; every error names the file and the JSON path of the problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.negation_phrases: dict[str, str] = {}  # key -> JSON path where first listed
        self.term_paths: dict[str, str] = {}  # term key -> JSON path

    def fail(self, path: str, message: str) -> VocabularyError:
        return VocabularyError(f"{self.source}: {path}: {message}")

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{path}.{key}" if path else key, "expected a non-empty string")
        return value

    def strings(self, value: Any, path: str, *, allow_empty: bool = False) -> list[str]:
        wanted = "a list of strings" if allow_empty else "a non-empty list of strings"
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(path, f"expected {wanted}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{path}[{i}]", "expected a non-empty string")
        return value

    def keys(self, obj: Any, allowed: set[str], path: str) -> Mapping[str, Any]:
        if not isinstance(obj, dict):
            raise self.fail(path or "$", "expected an object")
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}" if path else unknown[0], "unknown key")
        return obj

    def parse(self, data: Any) -> SafetyVocabulary:
        data = self.keys(data, _TOP_KEYS, "")
        version = self.string(data, "version", "")
        description = self.string(data, "description", "", required=False)
        concepts = self.concepts(data.get("concepts"))
        rules = self.absence_claims(data.get("absence_claims", []))
        cues = self.phrases(data.get("negation_cues"), "negation_cues", required=True)
        return SafetyVocabulary(
            version=version,
            description=description,
            concepts=concepts,
            absence_rules=rules,
            negation_cues=cues,
            pseudo_negation_cues=self.phrases(data.get("pseudo_negation_cues", []), "pseudo_negation_cues"),
            post_negation_cues=self.phrases(data.get("post_negation_cues", []), "post_negation_cues"),
            negation_terminators=self.phrases(data.get("negation_terminators", []), "negation_terminators"),
            source=self.source,
            support_terms=self.support_terms(data.get("support_terms", {}), {c.id for c in concepts}),
            claim_cues=self.claim_cues(data.get("claim_cues", [])),
            cue_objects=self.cue_objects(data.get("cue_objects", {})),
            context_rules=self.context_masks(data.get("context_masks", [])),
        )

    def regex_body(self, patterns: Sequence[str], path: str) -> str:
        """The patterns, validated and lower-cased, as one non-capturing alternation."""
        lowered: list[str] = []
        for j, pattern in enumerate(patterns):
            try:
                re.compile(pattern, re.IGNORECASE)
                compiled = re.compile(lower_pattern(pattern))
            except re.error as exc:
                raise self.fail(f"{path}[{j}]", f"invalid regular expression ({exc})") from None
            if compiled.groups:
                raise self.fail(f"{path}[{j}]", "use non-capturing groups (?:...) only")
            if compiled.match(""):
                raise self.fail(f"{path}[{j}]", "pattern matches the empty string")
            lowered.append(compiled.pattern)
        return "|".join(f"(?:{p})" for p in lowered)

    def rule_id(self, obj: Mapping[str, Any], path: str, seen: dict[str, int], what: str) -> str:
        rid = self.string(obj, "id", path)
        if not _ID.match(rid):
            raise self.fail(f"{path}.id", f"{rid!r} is not a lower-case identifier")
        if rid in seen:
            raise self.fail(f"{path}.id", f"duplicate {what} id {rid!r} (first at index {seen[rid]})")
        seen[rid] = len(seen)
        return rid

    def flag(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "expected true or false")
        return value

    def support_terms(self, value: Any, concept_ids: set[str]) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            raise self.fail("support_terms", "expected an object mapping concept ids to lists of phrases")
        out: dict[str, list[str]] = {}
        for cid, phrases in value.items():
            path = f"support_terms.{cid}"
            if cid not in concept_ids:
                raise self.fail(path, f"{cid!r} is not a concept id")
            items = self.strings(phrases, path)
            for j, phrase in enumerate(items):
                if not _symbols(phrase):
                    raise self.fail(f"{path}[{j}]", "expected a phrase, found only separators")
            out[cid] = items
        return out

    def claim_cues(self, value: Any) -> list[_CueRule]:
        if not isinstance(value, list):
            raise self.fail("claim_cues", "expected a list of claim-cue objects")
        rules: list[_CueRule] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(value):
            path = f"claim_cues[{i}]"
            obj = self.keys(raw, _CUE_KEYS, path)
            rid = self.rule_id(obj, path, seen, "claim-cue")
            where = self.string(obj, "object", path)
            if where not in ("after", "before", "self"):
                raise self.fail(f"{path}.object", f"{where!r} is not one of after, before, self")
            patterns = self.strings(obj.get("patterns"), f"{path}.patterns")
            max_words = obj.get("max_words", 6)
            if not isinstance(max_words, int) or isinstance(max_words, bool) or not 1 <= max_words <= 12:
                raise self.fail(f"{path}.max_words", "expected an integer from 1 to 12")
            rules.append(_CueRule(
                rid, where, tuple(patterns), self.regex_body(patterns, f"{path}.patterns"),
                negatable=self.flag(obj, "negatable", path, True),
                known_only=self.flag(obj, "known_only", path, False),
                max_words=max_words,
                self_if_empty=self.flag(obj, "self_if_empty", path, False),
            ))
        return rules

    def cue_objects(self, value: Any) -> _CueObjects:
        obj = self.keys(value, _CUE_OBJECT_KEYS, "cue_objects")
        lists = {
            key: frozenset(w.lower() for w in self.strings(obj.get(key, []), f"cue_objects.{key}", allow_empty=True))
            for key in _CUE_OBJECT_KEYS
        }
        return _CueObjects(**lists)

    def context_masks(self, value: Any) -> list[_ContextRule]:
        if not isinstance(value, list):
            raise self.fail("context_masks", "expected a list of context-mask objects")
        rules: list[_ContextRule] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(value):
            path = f"context_masks[{i}]"
            obj = self.keys(raw, _CONTEXT_KEYS, path)
            rid = self.rule_id(obj, path, seen, "context-mask")
            mode = self.string(obj, "mask", path)
            if mode not in ("match", "after", "before", "clause", "class", "interaction_cue"):
                raise self.fail(
                    f"{path}.mask", f"{mode!r} is not one of match, after, before, clause, class, interaction_cue"
                )
            patterns = self.strings(obj.get("patterns"), f"{path}.patterns")
            excepted = self.strings(obj.get("except_concepts", []), f"{path}.except_concepts", allow_empty=True)
            lint_only = obj.get("lint_only", False)
            if not isinstance(lint_only, bool):
                raise self.fail(f"{path}.lint_only", f"expected true or false, found {lint_only!r}")
            rules.append(_ContextRule(rid, mode, tuple(patterns), self.regex_body(patterns, f"{path}.patterns"),
                                      frozenset(excepted), lint_only))
        return rules

    def phrases(self, value: Any, path: str, *, required: bool = False) -> list[str]:
        items = self.strings(value, path, allow_empty=not required)
        for i, item in enumerate(items):
            if not _symbols(item):
                raise self.fail(f"{path}[{i}]", "expected a phrase, found only separators")
            # One phrase has one role: the negation scan reads each occurrence as one kind.
            key = _key(item)
            if key in self.term_paths:
                raise self.fail(f"{path}[{i}]", f"{item!r} is a concept term ({self.term_paths[key]})")
            if key in self.negation_phrases:
                raise self.fail(f"{path}[{i}]", f"{item!r} is already listed at {self.negation_phrases[key]}")
            self.negation_phrases[key] = f"{path}[{i}]"
        return items

    def concepts(self, value: Any) -> list[Concept]:
        if not isinstance(value, list) or not value:
            raise self.fail("concepts", "expected a non-empty list of concept objects")
        concepts: list[Concept] = []
        where_id: dict[str, int] = {}
        where_term: dict[str, tuple[str, str]] = {}
        for i, raw in enumerate(value):
            path = f"concepts[{i}]"
            obj = self.keys(raw, _CONCEPT_KEYS, path)
            cid = self.string(obj, "id", path)
            if not _ID.match(cid):
                raise self.fail(f"{path}.id", f"{cid!r} is not a lower-case identifier")
            if cid in where_id:
                raise self.fail(f"{path}.id", f"duplicate concept id {cid!r} (first at concepts[{where_id[cid]}])")
            where_id[cid] = i
            label = self.string(obj, "label", path)
            category = self.string(obj, "category", path)
            if category not in CATEGORIES:
                raise self.fail(f"{path}.category", f"{category!r} is not one of {', '.join(sorted(CATEGORIES))}")
            terms = self.strings(obj.get("terms"), f"{path}.terms")
            own: set[str] = set()
            for j, term in enumerate(terms):
                tpath = f"{path}.terms[{j}]"
                stripped = term.strip()
                if not (stripped[0].isalnum() and stripped[-1].isalnum()):
                    raise self.fail(tpath, f"term {term!r} must begin and end with a letter or digit")
                key = _key(term)
                if key in where_term:
                    owner, owner_path = where_term[key]
                    if owner == cid:
                        raise self.fail(tpath, f"term {term!r} is listed twice (first at {owner_path})")
                    raise self.fail(tpath, f"term {term!r} is already listed under concept {owner!r} ({owner_path})")
                where_term[key] = (cid, tpath)
                self.term_paths[key] = tpath
                own.add(key)
            not_within = self.strings(obj.get("not_within", []), f"{path}.not_within", allow_empty=True)
            seen_exclusions: set[str] = set()
            term_words = [_words_key(t) for t in terms]
            for j, phrase in enumerate(not_within):
                xpath = f"{path}.not_within[{j}]"
                key = _key(phrase)
                if not key:
                    raise self.fail(xpath, "expected a phrase, found only separators")
                if key in own:
                    raise self.fail(xpath, f"{phrase!r} is a term of this concept; it would exclude itself")
                if key in seen_exclusions:
                    raise self.fail(xpath, f"{phrase!r} is listed twice")
                seen_exclusions.add(key)
                words = _words_key(phrase)
                if not any(t in words for t in term_words):
                    raise self.fail(xpath, f"{phrase!r} contains no term of concept {cid!r}, so it excludes nothing")
            concepts.append(Concept(cid, label, category, tuple(terms), tuple(not_within)))
        return concepts

    def absence_claims(self, value: Any) -> list[_AbsenceRule]:
        if not isinstance(value, list):
            raise self.fail("absence_claims", "expected a list of absence-claim objects")
        rules: list[_AbsenceRule] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(value):
            path = f"absence_claims[{i}]"
            obj = self.keys(raw, _CLAIM_KEYS, path)
            cid = self.string(obj, "id", path)
            if not _ID.match(cid):
                raise self.fail(f"{path}.id", f"{cid!r} is not a lower-case identifier")
            if cid in seen:
                raise self.fail(
                    f"{path}.id", f"duplicate absence-claim id {cid!r} (first at absence_claims[{seen[cid]}])"
                )
            seen[cid] = i
            scope = self.string(obj, "scope", path)
            patterns = self.strings(obj.get("patterns"), f"{path}.patterns")
            lowered: list[str] = []
            for j, pattern in enumerate(patterns):
                try:
                    re.compile(pattern, re.IGNORECASE)
                    compiled = re.compile(lower_pattern(pattern))
                except re.error as exc:
                    raise self.fail(f"{path}.patterns[{j}]", f"invalid regular expression ({exc})") from None
                if compiled.match(""):
                    raise self.fail(f"{path}.patterns[{j}]", "pattern matches the empty string")
                lowered.append(compiled.pattern)
            fallback = obj.get("fallback", False)
            if not isinstance(fallback, bool):
                raise self.fail(f"{path}.fallback", f"expected true or false, found {fallback!r}")
            body = "|".join(f"(?:{p})" for p in lowered)
            rules.append(_AbsenceRule(cid, scope, tuple(patterns), body, re.compile(rf"(?<!\w)(?:{body})(?!\w)"),
                                      fallback))
        return rules


# --- loading ----------------------------------------------------------------------------------------


def load_vocabulary(path: str | os.PathLike[str] | None = None) -> SafetyVocabulary:
    """Load a vocabulary file; ``None`` loads the packaged default (cached).

    A malformed file raises :class:`VocabularyError` (a ``ValueError``) naming the file and the JSON
    path of the problem, e.g. ``concepts[3].terms: expected a non-empty list of strings``.
    """
    if path is None:
        return _default_vocabulary()
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise VocabularyError(f"{name}: not UTF-8 text ({exc})") from None
    return _parse_text(text, name)


@functools.lru_cache(maxsize=1)
def _default_vocabulary() -> SafetyVocabulary:
    resource = resources.files("drafter").joinpath("data").joinpath(DEFAULT_VOCABULARY_RESOURCE)
    return _parse_text(resource.read_text(encoding="utf-8"), f"drafter/data/{DEFAULT_VOCABULARY_RESOURCE}")


def _parse_text(text: str, source: str) -> SafetyVocabulary:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocabularyError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return SafetyVocabulary.from_dict(data, source=source)
