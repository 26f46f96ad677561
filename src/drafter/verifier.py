"""The deterministic verifier: every citation, trial fact, count and safety claim checked against the pack.

This is the library's promise made executable. It is pure (no I/O, no network, no model): the same
pack and the same text give the same findings on any machine. It only *reports*; what to do about a
finding (repair, withhold, warn) is decided elsewhere.

Two entry points share one set of checks:

* :func:`verify` takes drafted sections (statements with their support and keys) and also checks
  that text and keys agree, that background statements carry nothing from the pack, and that the
  decision is within its ceiling;
* :func:`verify_markdown` lints any report (Markdown, or plain text with pipe tables), for the
  thousands of reports that nobody checked; there every safety item of the pack counts as support.

Every finding code is listed in :data:`CODES` (and in the README).
"""

from __future__ import annotations

import re
from functools import lru_cache
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from drafter.drafts import IndicationSections, ReportDraft, Statement, Support
from drafter.extract import (
    Fact,
    IdMention,
    NumberClaim,
    bare_pmid,
    find_counts,
    find_decisions,
    find_ids,
    find_numbers,
    find_trial_facts,
    fold,
    mentions_trial_fact,
    split_sentences,
)
from drafter.identifiers import IdentifierError, normalise_pmid, normalise_trial_id
from drafter.pack.models import (
    MOA_KEY,
    SAFETY_KEY_PREFIX,
    Article,
    EvidencePack,
    Interaction,
    Phase,
    PredictedIndication,
    SafetyItem,
    SpecialPopulation,
    Trial,
    TrialStatus,
)
from drafter.rules import Decision, PackAssessment, assess_pack, counted_trials
from drafter.vocabulary import SafetyVocabulary, load_vocabulary


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, tuple[Severity, str]] = {
    "ID_UNKNOWN": (E, "A PMID or trial registry id is not in the pack."),
    "ID_MALFORMED": (E, "Something written as a trial id is not a valid one (e.g. NCT with 7 digits)."),
    "ID_OUT_OF_SCOPE": (W, "An id in the pack is cited for an indication it does not belong to."),
    "ID_NOT_IN_KEYS": (E, "An id written in a statement's text is missing from the statement's keys."),
    "KEY_UNKNOWN": (E, "A statement's key is not a key of the pack (or is not a key at all)."),
    "PACK_WITHOUT_KEYS": (E, "A statement marked 'pack' cites no pack item."),
    "TRIAL_PHASE_MISMATCH": (E, "A phase written next to a trial id differs from the trial's record."),
    "TRIAL_STATUS_MISMATCH": (E, "A status written next to a trial id differs from the trial's record."),
    "TRIAL_ENROLMENT_MISMATCH": (E, "An enrolment figure written next to a trial id differs from its record."),
    "YEAR_MISMATCH": (E, "A year written next to a trial id or PMID matches none of its record's years."),
    "TRIAL_FACT_UNKNOWN": (E, "A phase, enrolment or year is stated for a trial whose record lacks it."),
    "COUNT_MISMATCH": (E, "A number of trials or publications differs from what the pack holds."),
    "SCORE_MISMATCH": (E, "A model score differs from the pack's score for that indication."),
    "RANK_MISMATCH": (E, "A rank differs from the pack's rank for that indication."),
    "LEVEL_MISMATCH": (E, "An evidence level differs from the level the rules compute."),
    "LEVEL_CONFLICT": (E, "The text states more than one evidence level for one indication."),
    "SAFETY_NO_DATA": (E, "A safety claim is made although the pack holds no safety data."),
    "SAFETY_UNSUPPORTED": (E, "A safety term is not covered by any safety item of the pack."),
    "SAFETY_WRONG_ITEM": (E, "A safety term is covered by a pack item the statement does not cite."),
    "SAFETY_NEGATED_RISK": (E, "A risk is denied ('does not cause drowsiness') without the pack saying so."),
    "SAFETY_ABSENCE_CLAIM": (E, "An absence-of-risk claim ('well tolerated', 'no known interactions') the pack "
                                "does not make."),
    "DECISION_ABOVE_CEILING": (E, "The decision is stronger than the evidence level and stage allow."),
    "BACKGROUND_WITH_KEYS": (E, "A background statement cites pack keys."),
    "BACKGROUND_WITH_ID": (E, "A background statement writes a PMID or trial id."),
    "BACKGROUND_WITH_TRIAL_FACT": (E, "A background statement states a trial or evidence figure."),
    "BACKGROUND_WITH_SAFETY": (E, "A background statement makes a safety claim."),
    "DRAFT_UNKNOWN_INDICATION": (E, "A drafted indication's rank is not in the pack."),
}


@dataclass(frozen=True)
class Finding:
    """One problem, located precisely enough to fix it and worded for a pharmacist."""

    code: str
    severity: Severity
    message: str
    location: str  # "indications[0].conclusion.rationale[1]" or "line 12"
    section: str = ""
    indication: str | None = None
    statement: str = ""
    span: str = ""

    def __str__(self) -> str:
        where = self.location + (f" ({self.indication})" if self.indication else "")
        return f"{where}: {self.severity.value} {self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "message": self.message,
                "location": self.location, "section": self.section, "indication": self.indication,
                "statement": self.statement, "span": self.span}


@dataclass(frozen=True)
class Verification:
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        return sorted(f.code for f in self.findings)

    def summary(self) -> str:
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": len(self.errors), "warnings": len(self.warnings),
                "findings": [f.as_dict() for f in self.findings]}


# --- what the checks need from the pack, computed once ----------------------------------------------


@dataclass
class _PackIndex:
    pack: EvidencePack
    assessment: PackAssessment
    vocabulary: SafetyVocabulary
    trials: dict[str, Trial] = field(default_factory=dict)
    articles: dict[str, Article] = field(default_factory=dict)
    ranks_of_key: dict[str, set[int]] = field(default_factory=dict)
    indications: dict[int, PredictedIndication] = field(default_factory=dict)
    names: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    mask: tuple[str, ...] = ()
    mask_patterns: tuple[re.Pattern[str], ...] = ()
    safety_concepts: dict[str, frozenset[str]] = field(default_factory=dict)
    safety_negated: dict[str, frozenset[str]] = field(default_factory=dict)
    safety_absences: dict[str, frozenset[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    name_concepts: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, pack: EvidencePack, assessment: PackAssessment | None,
              vocabulary: SafetyVocabulary | None) -> _PackIndex:
        index = cls(pack, assessment or assess_pack(pack), vocabulary or load_vocabulary())
        mask: list[str] = [pack.drug.inn, *pack.drug.synonyms, *pack.drug.brand_names, *pack.drug.original_indications]
        for indication in pack.predicted_indications:
            index.indications[indication.rank] = indication
            for trial in indication.trials:
                index.trials.setdefault(trial.registry_id, trial)
                index.ranks_of_key.setdefault(trial.key, set()).add(indication.rank)
            for article in indication.articles:
                index.articles.setdefault(article.pmid, article)
                index.ranks_of_key.setdefault(article.key, set()).add(indication.rank)
            for name in indication_names(indication):
                mask.append(name)
                index.names.append((_name_pattern(name), indication.rank))
        index.mask = tuple(m for m in mask if m)
        for key in index.trials:
            # An EU register record is the EudraCT number plus a country ('EUCTR2011-004300-38-GB'); the
            # EudraCT number alone ('EudraCT 2011-004300-38') names the same trial.
            base = re.fullmatch(r"(EUCTR\d{4}-\d{6}-\d{2})-[A-Z]{2,3}", key)
            if base:
                index.aliases[base.group(1)] = key if base.group(1) not in index.aliases else ""
        index.aliases = {k: v for k, v in index.aliases.items() if v and k not in index.ranks_of_key}
        for rank, indication in index.indications.items():
            # The safety concepts an indication's own name carries ('Chronic insomnia' -> insomnia): in
            # text about that indication, 'insomnia' is the disease, not an adverse effect.
            index.name_concepts[rank] = frozenset(
                m.concept for name in indication_names(indication) for m in index.vocabulary.mentions(name)
                if not m.negated)
        sources = sorted({_name_source(m) for m in index.mask if m.strip()}, key=lambda s: -len(s[0]))
        # One alternation, longest names first, compiled once, instead of one scan per name and spelling.
        index.mask_patterns = (re.compile("|".join(
            f"(?i:{source})" if ignore_case else f"(?:{source})" for source, ignore_case in sources)),
        ) if sources else ()
        for key, item in pack.safety_items().items():
            text = _coverage_text(item)
            mentions = index.vocabulary.mentions(text)
            index.safety_concepts[key] = frozenset(m.concept for m in mentions if not m.negated)
            index.safety_negated[key] = frozenset(m.concept for m in mentions if m.negated)
            index.safety_absences[key] = frozenset(a.id for a in index.vocabulary.absence_claims(text))
        return index

    def named_spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, rank) of every indication name written in ``text``, in order."""
        return sorted((m.start(), m.end(), rank) for pattern, rank in self.names for m in pattern.finditer(fold(text)))

    def named_ranks(self, text: str) -> list[int]:
        """Ranks of the indications whose names appear in ``text``, in order of appearance."""
        hits = [(start, rank) for start, _, rank in self.named_spans(text)]
        ordered: list[int] = []
        for _, rank in hits:
            if rank not in ordered:
                ordered.append(rank)
        return ordered

    def blank_names(self, text: str) -> str:
        """``text`` with the drug's and the indications' names blanked out (same length), in any spelling.

        A disease name is not a safety claim ('ischaemic stroke' as an indication, 'nicotine dependence'),
        and the vocabulary's own mask only knows the names as the pack spells them.
        """
        folded = fold(text)
        spans = [m.span() for pattern in self.mask_patterns for m in pattern.finditer(folded)]
        if not spans:
            return text
        chars = list(text)
        for start, end in spans:
            chars[start:end] = _BLANK * (end - start)
        return "".join(chars)

    def disease(self, rank: int | None) -> str | None:
        return self.indications[rank].disease_name if rank in self.indications else None


def indication_names(indication: PredictedIndication) -> list[str]:
    """The disease name, its synonyms and a derived acronym ('Attention Deficit-Hyperactivity Disorder' -> ADHD)."""
    names = [indication.disease_name, *getattr(indication, "synonyms", [])]
    words = [w for w in re.split(r"[\s\-/]+", indication.disease_name) if w and w[0].isalpha()]
    if len(words) >= 3:
        names.append("".join(w[0].upper() for w in words))
    return names


@lru_cache(maxsize=4096)
def _name_source(name: str) -> tuple[str, bool]:
    """A name as written in any report (the regex source, and whether case is ignored).

    Case, separators, British/American spelling and accents aside: 'Ischemic stroke' also matches
    'ischaemic stroke', 'Oedema' 'edema', 'Sjögren syndrome' 'Sjogren syndrome' and 'Parkinson's
    disease' 'Parkinson disease'. Acronyms (capital letters only) match exactly.
    """
    if name.isupper() and name.isalpha():
        parts = [re.escape(p) for p in re.split(r"[\s\-]+", fold(name).strip()) if p]
        return r"(?<![A-Za-z0-9])" + r"[\s-]+".join(parts) + r"(?![A-Za-z0-9])", False
    parts = [_spelling_tolerant(p) for p in re.split(r"[\s\-]+", fold(name).strip()) if p]
    return r"(?<![A-Za-z0-9])" + r"[\s-]+".join(parts) + r"(?![A-Za-z0-9])", True


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    source, ignore_case = _name_source(name)
    return re.compile(source, re.IGNORECASE if ignore_case else 0)


_VOWELS = set("aeiouy")
_BLANK = "\x00"  # neither a word character nor a separator, so no safety term matches into a blanked name


def _spelling_tolerant(word: str) -> str:
    """A regex for one word of a name that also accepts its other English spelling."""
    stem, possessive = (word[:-2], True) if word.lower().endswith("'s") else (word, False)
    low = stem.lower()
    out: list[str] = []
    i = 0
    while i < len(stem):
        pair = low[i:i + 2]
        if pair == "oe" or (pair == "ae" and i > 0):  # haemorrhage, oedema, oesophagitis (not 'aerobic')
            out.append(f"(?:{re.escape(stem[i:i + 2])}|e)")
            i += 2
            continue
        char = stem[i]
        if low[i] == "e" and i > 0 and low[i - 1].isalpha() and low[i - 1] not in _VOWELS:
            out.append("[ao]?e")  # ischemic -> ischaemic, hemorrhage -> haemorrhage
        elif low[i] == "e" and i == 0 and len(low) > 2 and low[1] in "dst":
            out.append("o?e")  # edema -> oedema, esophagitis -> oesophagitis, estrogen -> oestrogen
        elif pair == "ou" and low[i + 2:] == "r":
            out.append("ou?")  # tumour -> tumor
            i += 2
            continue
        elif low[i] == "o" and low[i + 1:] == "r" and i > 0:
            out.append("ou?")  # tumor -> tumour
        elif low[i] in "sz" and i > 0 and low[i - 1] == "i" and low[i + 1:i + 2] in ("e", "a"):
            out.append("[sz]")  # randomized / randomised
        elif not char.isascii() and unicodedata.normalize("NFKD", char)[0].isascii():
            out.append(f"[{re.escape(char)}{re.escape(unicodedata.normalize('NFKD', char)[0])}]")  # Sjögren
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + ("(?:'s)?" if possessive else "")


_POPULATION_WORDS = {
    "pregnancy": "pregnancy", "lactation": "lactation breastfeeding", "paediatric": "paediatric children",
    "elderly": "elderly", "renal_impairment": "renal impairment", "hepatic_impairment": "hepatic impairment",
    "other": "",
}


def _coverage_text(item: SafetyItem) -> str:
    """The text whose safety concepts an item supports: its statement plus what its fields name."""
    if isinstance(item, Interaction):
        return f"{item.interacting}: {item.text}"
    if isinstance(item, SpecialPopulation):
        return f"{_POPULATION_WORDS[item.population.value]}: {item.text}"
    return item.text


# --- one piece of text, checked -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    location: str
    section: str
    rank: int | None
    statement: str


@dataclass(frozen=True)
class _Citing:
    """How a text cites: a drafted statement's support and keys, or (lint) anything in the pack."""

    support: Support | None  # None in lint mode
    keys: frozenset[str] = frozenset()

    @property
    def lint(self) -> bool:
        return self.support is None


class _Checker:
    def __init__(self, index: _PackIndex) -> None:
        self.index = index
        self.findings: list[Finding] = []
        self.levels_stated: dict[int, list[tuple[str, _Where]]] = {}

    def add(self, code: str, where: _Where, message: str, span: str = "") -> None:
        severity = CODES[code][0]
        self.findings.append(Finding(code, severity, message, where.location, where.section,
                                     self.index.disease(where.rank), where.statement, span))

    # text: ids, trial facts, counts, scores, safety -----------------------------------------------------

    def check_text(self, text: str, where: _Where, citing: _Citing) -> None:
        for sentence in split_sentences(text):
            self.check_sentence(sentence.text, where, citing)

    def check_sentence(self, sentence: str, where: _Where, citing: _Citing) -> None:
        ids = self.find_ids(sentence)
        self.check_ids(ids, where, citing)
        background = citing.support is Support.BACKGROUND
        if background and mentions_trial_fact(sentence):
            self.add("BACKGROUND_WITH_TRIAL_FACT", where, "a background statement states an enrolment figure; "
                     "trial facts must come from the pack and cite it", sentence)
        self.check_trial_facts(sentence, ids, where)
        self.check_figures(sentence, where, background)
        self.check_safety(sentence, where, citing)

    def find_ids(self, text: str) -> list[IdMention]:
        """The ids written in ``text``, with a pack id's other written forms resolved to it."""
        aliases = self.index.aliases
        return [replace(m, key=aliases[m.key]) if m.key in aliases else m for m in find_ids(text)]

    def check_ids(self, ids: Sequence[IdMention], where: _Where, citing: _Citing) -> None:
        seen: set[str] = set()
        for mention in ids:
            if mention.key in seen:
                continue
            seen.add(mention.key)
            if mention.kind == "malformed":
                self.add("ID_MALFORMED", where, f"{mention.text!r} is not a valid trial registry id "
                         "(an NCT id has exactly 8 digits)", mention.text)
                continue
            if citing.support is Support.BACKGROUND:
                self.add("BACKGROUND_WITH_ID", where, f"a background statement writes {mention.key}; a statement "
                         "that cites the pack must be marked 'pack' and list the key", mention.text)
                continue
            if not self.in_pack(mention.key):
                self.add("ID_UNKNOWN", where, f"{mention.key} is not in the evidence pack; nothing supports it",
                         mention.text)
                continue
            self.check_scope(mention.key, where, mention.text)
            if not citing.lint and mention.key not in citing.keys:
                self.add("ID_NOT_IN_KEYS", where, f"the text cites {mention.key} but the statement's keys do not "
                         "list it", mention.text)

    def in_pack(self, key: str) -> bool:
        return key in self.index.ranks_of_key

    def check_scope(self, key: str, where: _Where, span: str) -> None:
        ranks = self.index.ranks_of_key.get(key, set())
        if where.rank is not None and ranks and where.rank not in ranks:
            others = ", ".join(self.index.indications[r].disease_name for r in sorted(ranks))
            self.add("ID_OUT_OF_SCOPE", where, f"{key} belongs to the evidence for {others}, not this indication",
                     span)

    def check_trial_facts(self, sentence: str, ids: Sequence[IdMention], where: _Where) -> None:
        known = [m for m in ids if m.kind != "malformed" and self.in_pack(m.key)]
        if not known:
            return
        for fact in find_trial_facts(sentence):
            if any(m.start < fact.end and fact.start < m.end for m in ids):
                continue  # digits inside an identifier ('EudraCT 2011-004300-38') are not a year
            candidates = _neighbours(fact, known, trials_only=fact.kind != "year")
            if not candidates:
                continue
            verdicts = [self.fact_verdict(fact, mention.key) for mention in candidates]
            if any(v is None for v in verdicts):
                continue
            code, message = verdicts[0]  # type: ignore[misc]
            self.add(code, where, message, fact.text)

    def fact_verdict(self, fact: Fact, key: str) -> tuple[str, str] | None:
        """None when ``fact`` is true of the item ``key``; else (code, message)."""
        if key.startswith("PMID:"):
            article = self.index.articles[key[5:]]
            if article.year is None:
                return "TRIAL_FACT_UNKNOWN", f"the pack records no year for {key}"
            if fact.value == article.year:
                return None
            return "YEAR_MISMATCH", f"{key} was published in {article.year}, not {fact.value}"
        trial = self.index.trials[key]
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
            if fact.value == trial.enrollment:
                return None
            return "TRIAL_ENROLMENT_MISMATCH", f"{key} enrolled {trial.enrollment} in the pack, not {fact.value}"
        years = [int(d[:4]) for d in (trial.start_date, trial.completion_date) if d]
        if not years:
            return "TRIAL_FACT_UNKNOWN", f"the pack records no dates for {key}; the year {fact.value} is unsupported"
        if min(years) <= fact.value <= max(years):  # type: ignore[operator]
            return None
        span = "-".join(str(y) for y in sorted(set(years)))
        return "YEAR_MISMATCH", f"{key} ran {span} in the pack; {fact.value} matches none of its dates"

    def target_ranks(self, sentence: str, where: _Where) -> list[int]:
        """The indications a figure in ``sentence`` may be about: the one in context and any it names."""
        ranks = [where.rank] if where.rank is not None else []
        return ranks + [r for r in self.index.named_ranks(sentence) if r not in ranks]

    def check_figures(self, sentence: str, where: _Where, background: bool) -> None:
        counts = find_counts(sentence)
        numbers = find_numbers(sentence)
        if not counts and not numbers:
            return
        if background:
            stated = counts[0].text if counts else numbers[0].text
            self.add("BACKGROUND_WITH_TRIAL_FACT", where, f"a background statement states '{stated}', a figure "
                     "that only the pack can support", stated)
            return
        ranks = self.target_ranks(sentence, where)
        if not ranks:
            return
        for claim in counts:
            actual = {r: self.count_for(r, claim.what, claim.phases, claim.statuses) for r in ranks}
            if claim.value not in actual.values():
                noun = "trials" if claim.what == "trials" else "publications"
                held = ", ".join(f"{n} {noun} for {self.index.indications[r].disease_name}"
                                 for r, n in actual.items())
                self.add("COUNT_MISMATCH", where, f"'{claim.text}': the pack holds {held}", claim.text)
        levels = [n for n in numbers if n.kind == "level"]
        spans = self.index.named_spans(sentence) if levels else []
        for number in numbers:
            about = ranks
            if number.kind == "level":
                named = _level_subject(sentence, number, levels, spans)
                about = [named] if named is not None else ranks
            self.check_number(number.kind, number.value, number.decimals, number.text, about, where)

    def count_for(self, rank: int, what: str, phases: frozenset[Phase], statuses: frozenset[TrialStatus] | None) -> int:
        indication = self.index.indications[rank]
        if what == "articles":
            return len(indication.articles)
        return sum(1 for t in counted_trials(indication)
                   if (not phases or t.phase in phases) and (statuses is None or t.status in statuses))

    def check_number(self, kind: str, value: object, decimals: int, text: str, ranks: Sequence[int],
                     where: _Where) -> None:
        if kind == "score":
            scored = [r for r in ranks if self.index.indications[r].score is not None]
            if ranks and not scored:  # a score stated for an indication the pack holds no score for
                self.add("SCORE_MISMATCH", where, f"'{text}': the pack holds no model score for this indication", text)
                return
            actual = {r: round(self.index.indications[r].score, decimals) for r in scored}  # type: ignore[arg-type]
            if round(float(value), decimals) not in actual.values():  # type: ignore[arg-type]
                shown = " / ".join(f"{self.index.indications[r].score:.2%}" for r in scored)
                self.add("SCORE_MISMATCH", where, f"'{text}': the pack's score is {shown}", text)
        elif kind == "rank":
            if value not in ranks:
                names = ", ".join(f"{self.index.indications[r].disease_name} is rank {r}" for r in ranks)
                self.add("RANK_MISMATCH", where, f"'{text}': in the pack {names}", text)
        elif kind == "level":
            rank = ranks[0]
            computed = self.index.assessment.for_rank(rank)
            self.levels_stated.setdefault(rank, []).append((str(value), where))
            if value != computed.level:
                subject = "" if rank == where.rank else f" for {computed.disease_name}"
                self.add("LEVEL_MISMATCH", where, f"evidence level {value} is stated{subject}, but the rules compute "
                         f"{computed.level_reason}", text)

    def check_safety(self, sentence: str, where: _Where, citing: _Citing) -> None:
        vocabulary = self.index.vocabulary
        has_data = self.index.pack.has_safety_data()
        for claim in vocabulary.absence_claims(sentence):
            supporting = [k for k, ids in self.index.safety_absences.items() if claim.id in ids
                          and (citing.lint or k in citing.keys)]
            if citing.support is Support.BACKGROUND:
                self.add("BACKGROUND_WITH_SAFETY", where, f"'{claim.text}' is a safety claim; it cannot be "
                         "background", claim.text)
            elif not supporting:
                self.add("SAFETY_ABSENCE_CLAIM", where, f"'{claim.text}' claims an absence of risk that the "
                         "pack's safety data does not state", claim.text)
        reported: set[str] = set()
        for mention in vocabulary.mentions(self.index.blank_names(sentence)):
            if mention.concept in reported:
                continue
            concept = vocabulary.concepts[mention.concept]
            if where.rank is not None and mention.concept in self.index.name_concepts.get(where.rank, ()):
                continue  # 'insomnia' in a statement about chronic insomnia names the disease
            if mention.negated and concept.category == "population":
                # 'enrolled adults, not children', 'is not removed by dialysis': a negated population
                # limits whom a sentence is about; it neither states a risk nor denies one.
                continue
            reported.add(mention.concept)
            label = concept.label
            if citing.support is Support.BACKGROUND:
                self.add("BACKGROUND_WITH_SAFETY", where, f"'{mention.text}' ({label}) is a safety claim; it "
                         "must rest on a cited pack safety item, not background", mention.text)
                continue
            if mention.negated:
                self.check_negated(mention.concept, mention.text, label, where, citing)
                continue
            if not has_data:
                self.add("SAFETY_NO_DATA", where, f"'{mention.text}' ({label}) is a safety claim, but the pack "
                         "holds no safety data to support it", mention.text)
                continue
            covering = [k for k, concepts in self.index.safety_concepts.items() if mention.concept in concepts]
            if citing.lint:
                if not covering:
                    self.add("SAFETY_UNSUPPORTED", where, f"'{mention.text}' ({label}) is not mentioned by any "
                             "safety item of the pack", mention.text)
                continue
            if any(k in citing.keys for k in covering):
                continue
            if covering:
                self.add("SAFETY_WRONG_ITEM", where, f"'{mention.text}' ({label}) is supported by "
                         f"{', '.join(covering[:3])}, which this statement does not cite", mention.text)
            else:
                self.add("SAFETY_UNSUPPORTED", where, f"'{mention.text}' ({label}) is not mentioned by any "
                         "safety item of the pack", mention.text)

    def check_negated(self, concept: str, text: str, label: str, where: _Where, citing: _Citing) -> None:
        affirming = [k for k, c in self.index.safety_concepts.items() if concept in c]
        denying = [k for k, c in self.index.safety_negated.items() if concept in c
                   and (citing.lint or k in citing.keys)]
        if affirming:
            self.add("SAFETY_NEGATED_RISK", where, f"the text denies {label}, but the pack lists it "
                     f"({', '.join(affirming[:3])})", text)
        elif not denying:
            self.add("SAFETY_NEGATED_RISK", where, f"the text denies {label}; no safety item of the pack says so",
                     text)

    # drafted statements -----------------------------------------------------------------------------------

    def check_statement(self, statement: Statement, where: _Where) -> None:
        keys: set[str] = set()
        for raw in statement.keys:
            key = normalise_key(raw)
            key = self.index.aliases.get(key, key) if key else key
            if key is None or not self.is_citable(key):
                self.add("KEY_UNKNOWN", where, f"the key {raw!r} is not a key of this pack", raw)
                continue
            keys.add(key)
            if key in self.index.ranks_of_key:
                self.check_scope(key, where, raw)
        if statement.support is Support.BACKGROUND and statement.keys:
            self.add("BACKGROUND_WITH_KEYS", where, "a background statement lists pack keys; mark it 'pack' if it "
                     "rests on them", ", ".join(statement.keys))
        if statement.support is Support.PACK and not statement.keys:
            self.add("PACK_WITHOUT_KEYS", where, "the statement says it rests on the pack but cites no pack item")
        self.check_text(statement.text, where, _Citing(statement.support, frozenset(keys)))

    def is_citable(self, key: str) -> bool:
        if key == MOA_KEY:
            return self.index.pack.drug.mechanism_of_action is not None
        if key.startswith(SAFETY_KEY_PREFIX):
            return key in self.index.safety_concepts
        return key in self.index.ranks_of_key

    def check_decision(self, decision: Decision, rank: int, where: _Where, span: str) -> None:
        ceiling = self.index.assessment.for_rank(rank)
        if not decision.allowed_by(ceiling.decision_ceiling):
            self.add("DECISION_ABOVE_CEILING", where, f"'{decision.value}' is stronger than the ceiling "
                     f"{ceiling.ceiling_reason}", span)

    def check_level_conflicts(self) -> None:
        for rank, stated in self.levels_stated.items():
            distinct = sorted({level for level, _ in stated})
            if len(distinct) > 1:
                computed = self.index.assessment.for_rank(rank).level
                self.add("LEVEL_CONFLICT", stated[0][1], f"the text states {', '.join(distinct)} for one indication; "
                         f"the rules compute {computed}", ", ".join(distinct))


def _level_subject(sentence: str, level: NumberClaim, levels: Sequence[NumberClaim],
                   spans: Sequence[tuple[int, int, int]]) -> int | None:
    """The indication a level is stated for, when the sentence names one; else None (the context's).

    'L2 for nicotine dependence compares with L3 for ADHD', 'ADHD: level L3; nicotine dependence: L2':
    the closest name in the same clause (up to ';') with no other name or level between the two.
    """
    start = sentence.rfind(";", 0, level.start) + 1
    stop = sentence.find(";", level.end)
    stop = len(sentence) if stop < 0 else stop
    best: tuple[int, int] | None = None
    for name_start, name_end, rank in spans:
        if name_start < start or name_end > stop:
            continue
        left, right = (name_end, level.start) if name_end <= level.start else (level.end, name_start)
        if left > right:
            continue  # overlapping
        if any(left <= other.start < right for other in levels if other is not level):
            continue
        if any(left <= s < right or left < e <= right for s, e, _ in spans if (s, e) != (name_start, name_end)):
            continue
        if best is None or right - left < best[0]:
            best = (right - left, rank)
    return best[1] if best else None


def _neighbours(fact: Fact, ids: Sequence[IdMention], *, trials_only: bool) -> list[IdMention]:
    """The ids on either side of a fact (the fact is taken to be about one of them)."""
    usable = [m for m in ids if not trials_only or m.kind == "trial"]
    before = [m for m in usable if m.end <= fact.start]
    after = [m for m in usable if m.start >= fact.end]
    out = []
    if before:
        out.append(before[-1])
    if after:
        out.append(after[0])
    return out


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


# --- public API ---------------------------------------------------------------------------------------


class Verifier:
    """One pack's verifier: what the checks need from the pack (keys, names, safety coverage,
    compiled patterns) is computed once here, then reused for every draft checked against it, as
    the repair loop does for each indication and each attempt."""

    def __init__(self, pack: EvidencePack, *, assessment: PackAssessment | None = None,
                 vocabulary: SafetyVocabulary | None = None) -> None:
        self._index = _PackIndex.build(pack, assessment, vocabulary)

    def verify(self, draft: ReportDraft | IndicationSections, *, rank: int | None = None) -> Verification:
        return _verify_draft(self._index, draft, rank)

    def verify_markdown(self, text: str) -> Verification:
        return _verify_text(self._index, text)


def verify(
    pack: EvidencePack,
    draft: ReportDraft | IndicationSections,
    *,
    rank: int | None = None,
    assessment: PackAssessment | None = None,
    vocabulary: SafetyVocabulary | None = None,
) -> Verification:
    """Check every drafted statement of ``draft`` against ``pack``.

    ``draft`` is a whole :class:`ReportDraft`, or the sections of one indication (then ``rank``
    says which). To check several drafts against one pack, build a :class:`Verifier` once.
    """
    return Verifier(pack, assessment=assessment, vocabulary=vocabulary).verify(draft, rank=rank)


def _verify_draft(index: _PackIndex, draft: ReportDraft | IndicationSections, rank: int | None) -> Verification:
    checker = _Checker(index)
    if isinstance(draft, IndicationSections):
        if rank is None:
            raise ValueError("verify(pack, sections) needs rank= to know which indication the sections are for")
        drafted: Iterable[tuple[str, int, IndicationSections]] = [("", rank, draft)]
    else:
        drafted = [(f"indications[{i}].", item.rank, item.sections) for i, item in enumerate(draft.indications)]
    for prefix, drafted_rank, sections in drafted:
        if drafted_rank not in index.indications:
            checker.add("DRAFT_UNKNOWN_INDICATION", _Where(f"{prefix}rank", "", None, ""),
                        f"the draft is for rank {drafted_rank}, which the pack does not have")
            continue
        _check_sections(checker, sections, drafted_rank, prefix)
    checker.check_level_conflicts()
    return Verification(tuple(checker.findings))


def _check_sections(checker: _Checker, sections: IndicationSections, rank: int, prefix: str) -> None:
    for location, statement in sections.statements():
        section = location.split(".", 1)[0] if location.startswith("mech") else location.split("[", 1)[0]
        checker.check_statement(statement, _Where(prefix + location, section, rank, statement.text))
    decision = sections.conclusion.decision
    checker.check_decision(decision, rank, _Where(f"{prefix}conclusion.decision", "conclusion", rank, decision.value),
                           decision.value)


# --- lint mode: any report, Markdown or plain text ------------------------------------------------------

_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def _is_heading_like(line: str) -> bool:
    stripped = line.strip()
    if _HEADING.match(line):
        return True
    return 0 < len(stripped) <= 100 and not stripped.endswith((".", ":", ";", ",")) and "|" not in stripped


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


def verify_markdown(
    pack: EvidencePack,
    text: str,
    *,
    assessment: PackAssessment | None = None,
    vocabulary: SafetyVocabulary | None = None,
) -> Verification:
    """Lint a report written by anyone against ``pack``: ids, trial facts, counts, levels, safety."""
    return Verifier(pack, assessment=assessment, vocabulary=vocabulary).verify_markdown(text)


def _verify_text(index: _PackIndex, text: str) -> Verification:
    checker = _Checker(index)
    lint = _Citing(None)
    rank = min(index.indications)
    section = ""
    header: list[str] | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            header = None
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
            if _is_heading_like(line):
                section = (_HEADING.match(line).group(2) if _HEADING.match(line) else line).strip()  # type: ignore[union-attr]
                named = index.named_ranks(line)
                if named:
                    rank = named[-1]
        where = _Where(f"line {number}", section, rank, line.strip())
        if is_row:
            rank = _check_row(checker, _cells(line), header, where, rank)
        else:
            checker.check_text(line, where, lint)
            for decision in find_decisions(line):
                checker.check_decision(Decision(_title_decision(decision.text)), rank, where, decision.text)
    checker.check_level_conflicts()
    return Verification(tuple(checker.findings))


def _title_decision(text: str) -> str:
    for decision in Decision:
        if decision.value.lower() == text.lower():
            return decision.value
    raise ValueError(text)


def _check_row(checker: _Checker, cells: list[str], header: list[str] | None, where: _Where, rank: int) -> int:
    """Check one table row; returns the indication in context afterwards (a row may name it)."""
    lint = _Citing(None)
    index = checker.index
    if header is None or len(cells) == 2:
        label, value = (cells[0], " | ".join(cells[1:])) if len(cells) >= 2 else ("", cells[0] if cells else "")
        kind = next((k for k, pattern in _ROW_LABELS if pattern.search(label)), None)
        if kind == "indication":
            named = index.named_ranks(value)
            if named:
                rank = named[0]
                where = _Where(where.location, where.section, rank, where.statement)
        if kind in ("trial_count", "article_count"):
            match = re.match(r"\s*(\d+)", value)
            if match:
                what = "trials" if kind == "trial_count" else "articles"
                actual = checker.count_for(rank, what, frozenset(), None)
                if int(match.group(1)) != actual:
                    noun = "trials" if what == "trials" else "publications"
                    checker.add("COUNT_MISMATCH", where, f"'{label}: {match.group(1)}': the pack holds {actual} {noun}",
                                match.group(1))
        for cell in cells:
            ids = checker.find_ids(cell)
            checker.check_ids(ids, where, lint)
            checker.check_trial_facts(cell, ids, where)
        labelled = f"{label}: {value}"
        if kind not in ("trial_count", "article_count"):
            checker.check_figures(labelled, where, False)
        for decision in find_decisions(labelled):
            checker.check_decision(Decision(_title_decision(decision.text)), rank, where, decision.text)
        return rank
    columns = {i: next((k for k, p in _COLUMN_KINDS if p.search(h)), None) for i, h in enumerate(header)}
    row_ids: list[IdMention] = []
    for i, cell in enumerate(cells):
        ids = checker.find_ids(cell)
        if columns.get(i) == "pmid" and not ids:
            key = bare_pmid(cell)
            if key:
                ids = [IdMention("pmid", key, 0, len(cell), cell)]
        checker.check_ids(ids, where, lint)
        row_ids.extend(m for m in ids if m.kind != "malformed" and checker.in_pack(m.key))
    primary = row_ids[0] if row_ids else None
    for i, cell in enumerate(cells):
        kind = columns.get(i)
        if primary is None or kind not in ("phase", "status", "enrollment", "year") or not cell.strip():
            continue
        fact = _cell_fact(kind, cell)
        if fact is None or (kind != "year" and primary.kind != "trial"):
            continue
        verdict = checker.fact_verdict(fact, primary.key)
        if verdict is not None:
            checker.add(verdict[0], where, verdict[1], cell)
    return rank


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


__all__ = ["CODES", "Finding", "Severity", "Verification", "Verifier", "verify", "verify_markdown", "indication_names",
           "normalise_key"]


def iter_codes() -> Iterator[tuple[str, Severity, str]]:
    for code, (severity, description) in CODES.items():
        yield code, severity, description
