"""What the checks need from one pack, computed once per pack.

The repair loop verifies every indication of every attempt against the same pack, and lint checks
every line against it: keys, names, safety coverage and the compiled name patterns are built here
once and then only read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from drafter.casefold import lower_same_length
from drafter.extract import fold
from drafter.pack.models import (
    Article,
    EvidencePack,
    Interaction,
    PredictedIndication,
    SafetyItem,
    SpecialPopulation,
    Trial,
)
from drafter.rules import PackAssessment, assess_pack
from drafter.verify.quotes import QuoteIndex
from drafter.vocabulary import SafetyVocabulary, SupportProfile, load_vocabulary


@dataclass
class PackIndex:
    pack: EvidencePack
    assessment: PackAssessment
    vocabulary: SafetyVocabulary
    trials: dict[str, Trial] = field(default_factory=dict)
    articles: dict[str, Article] = field(default_factory=dict)
    # The record each indication holds, for a statement about that indication (a trial listed under two
    # indications is checked against the record of the one the statement is about).
    trial_records: dict[tuple[int, str], Trial] = field(default_factory=dict)
    article_records: dict[tuple[int, str], Article] = field(default_factory=dict)
    ranks_of_key: dict[str, set[int]] = field(default_factory=dict)
    indications: dict[int, PredictedIndication] = field(default_factory=dict)
    names: list[tuple[re.Pattern[str], int, bool]] = field(default_factory=list)  # pattern, rank, lowered
    mask: tuple[str, ...] = ()
    mask_patterns: tuple[tuple[re.Pattern[str], bool], ...] = ()  # (alternation, reads the lowered text)
    safety_concepts: dict[str, frozenset[str]] = field(default_factory=dict)
    safety_negated: dict[str, frozenset[str]] = field(default_factory=dict)
    safety_absences: dict[str, frozenset[str]] = field(default_factory=dict)
    safety_profiles: dict[str, SupportProfile] = field(default_factory=dict)
    safety_texts: dict[str, str] = field(default_factory=dict)  # per safety key, its text lower-cased
    aliases: dict[str, str] = field(default_factory=dict)
    name_concepts: dict[int, frozenset[str]] = field(default_factory=dict)
    # Derived values the checks compute on first use (figures per cited item, per indication).
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)
    blanked: dict[str, str] = field(default_factory=dict)  # sentences with names blanked (read by two checks)
    _quotes: QuoteIndex | None = None

    @classmethod
    def build(cls, pack: EvidencePack, assessment: PackAssessment | None,
              vocabulary: SafetyVocabulary | None) -> PackIndex:
        index = cls(pack, assessment or assess_pack(pack), vocabulary or load_vocabulary())
        mask: list[str] = [pack.drug.inn, *pack.drug.synonyms, *pack.drug.brand_names, *pack.drug.original_indications]
        for indication in pack.predicted_indications:
            index.indications[indication.rank] = indication
            for trial in indication.trials:
                index.trials.setdefault(trial.registry_id, trial)
                index.trial_records.setdefault((indication.rank, trial.registry_id), trial)
                index.ranks_of_key.setdefault(trial.key, set()).add(indication.rank)
            for article in indication.articles:
                index.articles.setdefault(article.pmid, article)
                index.article_records.setdefault((indication.rank, article.pmid), article)
                index.ranks_of_key.setdefault(article.key, set()).add(indication.rank)
            for name in indication_names(indication):
                mask.append(name)
                index.names.append((_name_pattern(name), indication.rank, _name_source(name)[1]))
        for rank, name in _unqualified_names(pack.predicted_indications):
            mask.append(name)
            index.names.append((_name_pattern(name), rank, _name_source(name)[1]))
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
        # Two alternations (names in the lower-cased text, acronyms as written), longest names first,
        # compiled once, instead of one scan per name and spelling.
        index.mask_patterns = tuple(
            (re.compile("|".join(f"(?:{source})" for source, lower in sources if lower is lowered)), lowered)
            for lowered in (True, False) if any(lower is lowered for _, lower in sources))
        for key, item in pack.safety_items().items():
            text = _coverage_text(item)
            # Pack text is read without the context masks meant for report prose, and with the phrasings
            # that only support a claim ('in epilepsy' supports 'patients with epilepsy').
            mentions = index.vocabulary.mentions(text, context=False)
            profile = index.safety_profiles[key] = index.vocabulary.support_profile(text)
            index.safety_concepts[key] = profile.concepts  # covered_concepts(text), read once for both
            index.safety_negated[key] = frozenset(m.concept for m in mentions if m.negated)
            index.safety_absences[key] = frozenset(a.id for a in index.vocabulary.absence_claims(text))
            # what the item says of how often or how badly, its frequency and severity fields included
            severity = getattr(item, "severity", None)
            said = " ".join(str(v) for v in (text, getattr(item, "frequency", None),
                                              getattr(severity, "value", severity)) if v)
            index.safety_texts[key] = lower_same_length(said)
        return index

    def named_spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, rank) of every indication name written in ``text``, in order."""
        folded = fold(text)
        lowered = lower_same_length(folded)
        return sorted((m.start(), m.end(), rank) for pattern, rank, lower in self.names
                      for m in pattern.finditer(lowered if lower else folded))

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
        cached = self.blanked.get(text)
        if cached is not None:
            return cached
        if len(self.blanked) > 20_000:  # a long-lived verifier keeps only recent sentences
            self.blanked.clear()
        folded = fold(text)
        lowered = lower_same_length(folded)
        spans = [m.span() for pattern, lower in self.mask_patterns for m in pattern.finditer(lowered if lower else folded)]
        if not spans:
            self.blanked[text] = text
            return text
        chars = list(text)
        for start, end in spans:
            chars[start:end] = _BLANK * (end - start)
        blanked = self.blanked[text] = "".join(chars)
        return blanked

    @property
    def quotes(self) -> QuoteIndex:
        """The quotable text and fields of every item, built on first use (only drafted statements quote)."""
        if self._quotes is None:
            self._quotes = QuoteIndex.build(self.pack)
        return self._quotes

    def trial(self, key: str, rank: int | None) -> Trial:
        return self.trial_records.get((rank, key)) or self.trials[key]  # type: ignore[arg-type]

    def article(self, pmid: str, rank: int | None) -> Article:
        return self.article_records.get((rank, pmid)) or self.articles[pmid]  # type: ignore[arg-type]

    def in_pack(self, key: str) -> bool:
        return key in self.ranks_of_key

    def disease(self, rank: int | None) -> str | None:
        return self.indications[rank].disease_name if rank in self.indications else None


def indication_names(indication: PredictedIndication) -> list[str]:
    """The disease name, its synonyms and a derived acronym ('Attention Deficit-Hyperactivity Disorder' -> ADHD)."""
    names = [indication.disease_name, *getattr(indication, "synonyms", [])]
    words = [w for w in re.split(r"[\s\-/]+", indication.disease_name) if w and w[0].isalpha()]
    if len(words) >= 3:
        names.append("".join(w[0].upper() for w in words))
    return names


# Words of course or severity that reports drop when they name a disease again ('Active Peptic Ulcer
# Disease' is 'peptic ulcer disease' two paragraphs on).
_COURSE_WORDS = frozenset("active acute chronic smouldering smoldering severe mild moderate refractory recurrent "
                          "relapsing advanced early late idiopathic hereditary familial congenital persistent".split())


def _unqualified_names(indications: Sequence[PredictedIndication]) -> list[tuple[int, str]]:
    """(rank, name without its leading course word) for names of three words or more, unless that
    shorter name is also another indication's (then it would not say which one is meant)."""
    shorter: dict[str, list[tuple[int, str]]] = {}
    for indication in indications:
        words = indication.disease_name.split()
        if len(words) >= 3 and words[0].casefold() in _COURSE_WORDS:
            name = " ".join(words[1:])
            shorter.setdefault(name.casefold(), []).append((indication.rank, name))
    full = {name.casefold() for i in indications for name in indication_names(i)}
    return [entries[0] for key, entries in shorter.items() if len(entries) == 1 and key not in full]


@lru_cache(maxsize=4096)
def _name_source(name: str) -> tuple[str, bool]:
    """A name as written in any report (the regex source, and whether it reads the lower-cased text).

    Case, separators, British/American spelling and accents aside: 'Ischemic stroke' also matches
    'ischaemic stroke', 'Oedema' 'edema', 'Sjögren syndrome' 'Sjogren syndrome' and 'Parkinson's
    disease' 'Parkinson disease'. Acronyms (capital letters only) match exactly. Case is ignored by
    matching a lower-cased source against lower-cased text, not by re.IGNORECASE: a pack's names are
    compiled for every new pack, and IGNORECASE makes that compile three times slower (and the scan slower).
    """
    if name.isupper() and name.isalpha():
        parts = [re.escape(p) for p in re.split(r"[\s\-]+", fold(name).strip()) if p]
        return r"(?<![A-Za-z0-9])" + r"[\s-]+".join(parts) + r"(?![A-Za-z0-9])", False
    parts = [_spelling_tolerant(p) for p in re.split(r"[\s\-]+", lower_same_length(fold(name)).strip()) if p]
    return r"(?<![A-Za-z0-9])" + r"[\s-]+".join(parts) + r"(?![A-Za-z0-9])", True


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(_name_source(name)[0])


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
