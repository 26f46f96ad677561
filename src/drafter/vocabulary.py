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
and other spaces are one separator class ("QT-prolongation" == "QT prolongation" ==
"QT\u00a0prolongation"), and apostrophe variants (' and the typographic ones) are equivalent and
optional ("St John's wort" == "St John’s wort" == "St Johns wort"). All terms are compiled at load
time into ONE regular expression, shaped as a character trie so that the regex engine tries only the
branches that can match the next character; at each position the longest term wins.

Negation is NegEx-like and deliberately simple: a negation cue governs the first concept mention
that follows it within six words in the same clause (clauses end at ``. ; : ! ?``, line breaks and
terminators such as "but", "however", "which"), and the negation carries along a list ("no sedation,
dizziness or respiratory depression"). Post-negation cues negate a preceding mention ("seizures were
not observed"); pseudo-negations ("should not be used in pregnancy", "not only", "has not been
established") are not negations; a "non-" prefix negates the term it is attached to ("non-sedating").
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

from drafter.errors import UserError

__all__ = [
    "CATEGORIES",
    "AbsenceClaim",
    "Concept",
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
_APOS_RX = "[" + re.escape(_APOSTROPHES) + "]?"
_SEP_RUN = re.compile(_SEP_RX)
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
_NON_PREFIX = re.compile(r"(?<!\w)non[\-\u2010\u2011 ]?$")
_CLAUSE_PUNCTUATION = re.compile(r"[.;:!?](?=[\s\x00]|$)|\n")
# What may stand between two mentions of one list so that a negation carries over:
# "no sedation, dizziness or clinically significant respiratory depression".
_LIST_GLUE = re.compile(
    r"(?:[\s,/()&+\-]|\b(?:and|or|nor|as well as|including|such as|other|any|significant|clinically|"
    r"relevant|serious|severe|major|marked|increased|excessive|notable|new|worsening|symptomatic|"
    r"meaningful|important|overt|frank|the|a|an|of|risk|signs|symptoms|episodes|cases|reports|"
    r"evidence|incidence|drug|induced|related|associated)\b)*"
)
_LIST_GLUE_MAX = 80
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


# --- text helpers ------------------------------------------------------------------------------------


def _lower_same_length(text: str) -> str:
    """``text.lower()``, except that characters whose lower case is longer are left alone.

    Offsets found in the result are then offsets into ``text`` (``"İ".lower()`` has two characters).
    """
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(lc if len(lc := ch.lower()) == 1 else ch for ch in text)


def _lower_pattern(pattern: str) -> str:
    """``pattern`` for lower-cased text: literal characters lower-cased, escapes (``\\W``, ``\\S``,
    ``\\B`` ...) left alone. Matching lower-cased text without re.IGNORECASE lets the regex engine
    use its fast literal checks, several times faster than IGNORECASE."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i].lower())
            i += 1
    return "".join(out)


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
    """One regex matching any of ``phrases`` on word boundaries, longest first, as a character trie.

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
                head = _SEP_RX
            elif sym == _APOS_TOKEN:
                head = _APOS_RX
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
def _mask_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_trie_pattern(phrases))


# --- the vocabulary --------------------------------------------------------------------------------


class SafetyVocabulary:
    """The loaded vocabulary and its compiled matchers. Build it with :func:`load_vocabulary`."""

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
    ) -> None:
        self.version = version
        self.description = description
        self.source = source
        self.concepts = MappingProxyType({c.id: c for c in concepts})
        self._term_concept: dict[str, str] = {}
        for concept in concepts:
            for term in concept.terms:
                self._term_concept.setdefault(_key(term), concept.id)
        self._terms = re.compile(_trie_pattern(t for c in concepts for t in c.terms))
        # Per concept: the exclusion phrases as a zero-width regex whose group 1 is the phrase, so
        # that overlapping occurrences are all found, and the longest phrase length.
        # An exclusion overlapping a match either contains the word before it or the word after it,
        # or lies inside it; so a match whose neighbouring words occur in none of the concept's
        # exclusion phrases needs no regex search (``words`` is None when an exclusion fits inside
        # a term, and then every match is searched).
        self._exclusions: dict[str, _Exclusions] = {}
        for concept in concepts:
            if concept.not_within:
                inner = _trie_pattern(concept.not_within)
                words: frozenset[str] | None = frozenset(
                    w for phrase in concept.not_within for w in _words_key(phrase).split()
                )
                term_words = [_words_key(t) for t in concept.terms]
                if any(_words_key(p) in t for p in concept.not_within for t in term_words):
                    words = None
                self._exclusions[concept.id] = _Exclusions(
                    re.compile(f"(?=({inner}))"), max(len(p) for p in concept.not_within), words
                )
        self._absence_rules = tuple(absence_rules)
        # One scan decides whether any rule can match; most sentences make no absence claim.
        self._any_absence: re.Pattern[str] | None = None
        if absence_rules:
            inner = "|".join(f"(?:{r.body})" for r in absence_rules)
            try:
                self._any_absence = re.compile(r"(?<!\w)(?:" + inner + ")")
            except re.error:  # e.g. two rules use the same group name; then every rule is run
                pass
        # Negation cues, pseudo-negations, post-negations and clause terminators are found by ONE
        # scan, longest phrase first, so "should not" (pseudo) hides its "not" and "not observed"
        # (post) is not also read as "not" (pre).
        self._phrase_kind: dict[str, str] = {}
        for kind, phrases in (
            (_CUE, negation_cues),
            (_PSEUDO, pseudo_negation_cues),
            (_POST, post_negation_cues),
            (_END, negation_terminators),
        ):
            for phrase in phrases:
                self._phrase_kind.setdefault(_key(phrase), kind)
        self._negation_scan = re.compile(
            _trie_pattern([*negation_cues, *pseudo_negation_cues, *post_negation_cues, *negation_terminators])
        )

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

    def mentions(self, text: str, *, mask: Iterable[str] = ()) -> list[SafetyMention]:
        """Every concept mention in ``text``, in order; overlapping terms resolve to the longest.

        ``mask``: phrases (indication names, the subject drug) whose occurrences are blanked out
        before matching, with the same case and separator equivalence as terms.
        """
        if not text:
            return []
        low = _lower_same_length(text)
        if isinstance(mask, str):
            mask = (mask,)
        phrases = tuple(sorted({p.strip() for p in mask if p and p.strip() and _symbols(p.strip())}))
        if phrases:
            low = _mask_regex(phrases).sub(lambda m: _BLANK * (m.end() - m.start()), low)

        found: list[tuple[int, int, str]] = []
        term_concept = self._term_concept
        exclusions = self._exclusions
        for match in self._terms.finditer(low):
            written = match.group()
            concept = term_concept.get(written) or term_concept[_key(written)]
            start, end = match.span()
            if concept in exclusions and self._excluded(concept, low, start, end):
                continue
            found.append((start, end, concept))
        if not found:
            return []
        negated = self._negations(low, found)
        return [
            SafetyMention(concept, text[start:end], start, end, neg)
            for (start, end, concept), neg in zip(found, negated, strict=True)
        ]

    def concepts_in(self, text: str, *, mask: Iterable[str] = ()) -> frozenset[str]:
        """Ids of the concepts mentioned in ``text``, negated or not."""
        return frozenset(m.concept for m in self.mentions(text, mask=mask))

    def absence_claims(self, text: str) -> list[AbsenceClaim]:
        """Statements denying a risk, in order. A claim that is itself negated ("is not well
        tolerated", "cannot be considered safe in pregnancy") is not reported."""
        if not text or not self._absence_rules:
            return []
        low = _lower_same_length(text)
        normal = low.translate(_CLAIM_TRANSLATION)
        if self._any_absence is not None and self._any_absence.search(normal) is None:
            return []
        hits: list[tuple[int, int, _AbsenceRule]] = []
        for rule in self._absence_rules:
            hits.extend((m.start(), m.end(), rule) for m in rule.regex.finditer(normal) if m.end() > m.start())
        if not hits:
            return []
        clause_ends, cue_spans, post_spans = self._scan_negation(low)
        cue_ends = sorted(e for _, e in (*cue_spans, *post_spans))
        claims: list[AbsenceClaim] = []
        seen: set[tuple[int, int, str]] = set()
        for start, end, rule in sorted(hits, key=lambda h: (h[0], -h[1], h[2].id)):
            if (start, end, rule.id) in seen:
                continue
            seen.add((start, end, rule.id))
            k = bisect.bisect_right(cue_ends, start) - 1
            if k >= 0:
                cue_end = cue_ends[k]
                if _same_clause(clause_ends, cue_end, start) and (
                    len(_WORD.findall(low, cue_end, start)) <= CLAIM_NEGATION_WINDOW
                ):
                    continue
            claims.append(AbsenceClaim(rule.id, rule.scope, text[start:end], start, end))
        return claims

    # --- internals -----------------------------------------------------------------------------------

    def _excluded(self, concept: str, low: str, start: int, end: int) -> bool:
        regex, longest, words = self._exclusions[concept]
        if words is not None:
            before = _WORD.findall(low, max(0, start - 32), start)
            after = _WORD.search(low, end, end + 32)
            if (not before or before[-1] not in words) and (after is None or after.group() not in words):
                return False
        lo = max(0, start - longest - 8)
        hi = min(len(low), end + 2 * longest + 16)
        for m in regex.finditer(low, lo, hi):
            if m.start() >= end:
                return False
            if m.end(1) > start:
                return True
        return False

    def _scan_negation(self, low: str) -> tuple[list[int], list[tuple[int, int]], list[tuple[int, int]]]:
        """Clause ends, negation-cue spans and post-negation-cue spans of ``low``."""
        clause_ends = [m.end() for m in _CLAUSE_PUNCTUATION.finditer(low)]
        cues: list[tuple[int, int]] = []
        posts: list[tuple[int, int]] = []
        kinds = self._phrase_kind
        terminated = False
        for m in self._negation_scan.finditer(low):
            phrase = m.group()
            kind = kinds.get(phrase) or kinds.get(_key(phrase))
            if kind == _CUE:
                cues.append(m.span())
            elif kind == _POST:
                posts.append(m.span())
            elif kind == _END:
                clause_ends.append(m.end())
                terminated = True
        if terminated:
            clause_ends.sort()
        return clause_ends, cues, posts

    def _negations(self, low: str, found: list[tuple[int, int, str]]) -> list[bool]:
        n = len(found)
        clause_ends, cue_spans, post_spans = self._scan_negation(low)

        # Post-negation first ("sedation and dizziness were not observed"), right to left.
        post_starts = [s for s, _ in post_spans]
        post = [False] * n
        used_post: set[int] = set()
        for i in range(n - 1, -1, -1):
            end = found[i][1]
            next_start = found[i + 1][0] if i + 1 < n else len(low)
            j = bisect.bisect_left(post_starts, end)
            if j < len(post_spans) and post_starts[j] < next_start:
                cue_start = post_starts[j]
                if _same_clause(clause_ends, end, cue_start) and (
                    len(_WORD.findall(low, end, cue_start)) <= POST_NEGATION_WINDOW
                ):
                    post[i] = True
                    used_post.add(j)
                    continue
            if i + 1 < n and post[i + 1] and self._is_list(low, clause_ends, end, next_start):
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
                if _same_clause(clause_ends, cue_end, start) and (
                    len(_WORD.findall(low, cue_end, start)) <= NEGATION_WINDOW
                ):
                    pre[i] = True
            if not pre[i] and i and pre[i - 1] and self._is_list(low, clause_ends, previous_end, start):
                pre[i] = True
            result[i] = pre[i] or post[i] or _NON_PREFIX.search(low, max(0, start - 4), start) is not None
        return result

    @staticmethod
    def _is_list(low: str, clause_ends: Sequence[int], left_end: int, right_start: int) -> bool:
        return (
            right_start - left_end <= _LIST_GLUE_MAX
            and _same_clause(clause_ends, left_end, right_start)
            and _LIST_GLUE.fullmatch(low, left_end, right_start) is not None
        )


def _same_clause(clause_ends: Sequence[int], left: int, right: int) -> bool:
    """True when no clause boundary ends in (left, right]."""
    return bisect.bisect_right(clause_ends, left) == bisect.bisect_right(clause_ends, right)


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
}
_CONCEPT_KEYS = {"id", "label", "category", "terms", "not_within"}
_CLAIM_KEYS = {"id", "scope", "patterns"}
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

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
        )

    def phrases(self, value: Any, path: str, *, required: bool = False) -> list[str]:
        items = self.strings(value, path, allow_empty=not required)
        for i, item in enumerate(items):
            if not _symbols(item):
                raise self.fail(f"{path}[{i}]", "expected a phrase, found only separators")
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
                raise self.fail(f"{path}.id", f"duplicate absence-claim id {cid!r} (first at absence_claims[{seen[cid]}])")
            seen[cid] = i
            scope = self.string(obj, "scope", path)
            patterns = self.strings(obj.get("patterns"), f"{path}.patterns")
            lowered: list[str] = []
            for j, pattern in enumerate(patterns):
                try:
                    re.compile(pattern, re.IGNORECASE)
                    compiled = re.compile(_lower_pattern(pattern))
                except re.error as exc:
                    raise self.fail(f"{path}.patterns[{j}]", f"invalid regular expression ({exc})") from None
                if compiled.match(""):
                    raise self.fail(f"{path}.patterns[{j}]", "pattern matches the empty string")
                lowered.append(compiled.pattern)
            body = "|".join(f"(?:{p})" for p in lowered)
            rules.append(_AbsenceRule(cid, scope, tuple(patterns), body, re.compile(rf"(?<!\w)(?:{body})(?!\w)")))
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
