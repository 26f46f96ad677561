"""Monitoring plans: what to watch when an indication goes ahead, built by rule from cited safety items.

A decision of Go or Proceed with Guardrails means someone may give the drug for the new indication.
The pharmacist then needs to know what to screen for before starting and what to watch afterwards,
and the report may say only what the evidence pack says. So the plan is not drafted: it is computed
here from the safety items that the indication's verified sections cite, one step per item, with
the item's key so that every step can be checked against its source. The same items give the same
plan, in the same order, on any machine.

Each step says

* an *action* fixed by the kind of item: a contraindication is screened for before starting, an
  interaction is a co-prescription to review, a special population is a patient group to check,
  and a warning or adverse effect is monitored;
* *what* to look at, in the pack's own words: the interacting drug, the population, or the safety
  terms the shared vocabulary finds in the item's text (the words as the item writes them, not the
  vocabulary's labels); an item in which no term is found gives its first sentence;
* *why*: the kind of item and its full text, with its source.

Pure functions, no I/O; the report templates print the steps and escape them like any pack text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drafter.pack.models import (
    AdverseEffect,
    Contraindication,
    EvidencePack,
    Interaction,
    InteractionSeverity,
    SafetyItem,
    SpecialPopulation,
)
from drafter.rules import Decision
from drafter.vocabulary import SafetyVocabulary, load_vocabulary

#: Decisions under which a drug may be given for the indication, so a plan is due.
PLAN_DECISIONS = frozenset({Decision.GO, Decision.PROCEED_WITH_GUARDRAILS})

#: At most this many of an item's safety terms name what to monitor; its full text follows as "why".
MAX_TERMS = 5
#: A first sentence longer than this is cut at a word boundary (the full text is in "why").
MAX_WHAT_CHARS = 120

SCREEN = "Screen before starting"
REVIEW_COMEDICATION = "Review co-medication"
CHECK_POPULATION = "Check the patient group"
MONITOR = "Monitor"

# Steps are ordered by what a prescriber does first: screen, review other medicines, check the
# patient group, then monitor during treatment; within an action, in the order the sections cite them.
_ACTION_ORDER = (SCREEN, REVIEW_COMEDICATION, CHECK_POPULATION, MONITOR)


@dataclass(frozen=True)
class MonitoringStep:
    """One line of a monitoring plan; every field comes from one pack safety item."""

    key: str
    action: str
    what: str
    why: str
    source: str | None


def plan_due(decision: Decision | None) -> bool:
    """Whether an indication with this drafted decision gets a monitoring plan (None: withheld)."""
    return decision in PLAN_DECISIONS


def describe_kind(item: SafetyItem) -> str:
    """'Warning', 'Interaction with opioids (major)', 'Adverse effect (common)': what kind of item it is."""
    if isinstance(item, Interaction):
        severity = "" if item.severity is InteractionSeverity.UNKNOWN else f" ({item.severity.value})"
        return f"Interaction with {item.interacting}{severity}"
    if isinstance(item, SpecialPopulation):
        return f"Special population ({population_label(item)})"
    if isinstance(item, AdverseEffect):
        return f"Adverse effect ({item.frequency})" if item.frequency else "Adverse effect"
    if isinstance(item, Contraindication):
        return "Contraindication"
    return "Warning"


def population_label(item: SpecialPopulation) -> str:
    return item.population.label


def action_for(item: SafetyItem) -> str:
    if isinstance(item, Contraindication):
        return SCREEN
    if isinstance(item, Interaction):
        return REVIEW_COMEDICATION
    if isinstance(item, SpecialPopulation):
        return CHECK_POPULATION
    return MONITOR


#: What a prescriber watches for: effects, warnings and tests. The other vocabulary categories (interacting
#: drugs, patient groups, contraindicating conditions) say when the risk applies, not what to watch.
WATCHED_CATEGORIES = frozenset({"adverse_effect", "warning", "monitoring"})
#: Warning concepts that are instructions to the prescriber ("titrate slowly", "do not drive"), not signs to watch.
INSTRUCTION_CONCEPTS = frozenset({"dose_adjustment", "driving"})


def item_terms(text: str, vocabulary: SafetyVocabulary, categories: frozenset[str] | None = None,
               limit: int = MAX_TERMS) -> list[str]:
    """The safety terms of ``text`` as it writes them, first mention first, each concept once, not negated.

    ``categories`` keeps only concepts of those vocabulary categories (None: every category).
    """
    seen: set[str] = set()
    terms: list[str] = []
    for mention in vocabulary.mentions(text):
        concept = vocabulary.concepts.get(mention.concept)
        if mention.negated or mention.concept in seen:
            continue
        if categories is not None and (concept is None or concept.category not in categories
                                       or concept.id in INSTRUCTION_CONCEPTS):
            continue
        seen.add(mention.concept)
        terms.append(" ".join(mention.text.split()))
        if len(terms) == limit:
            break
    return terms


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_sentence(text: str, limit: int = MAX_WHAT_CHARS) -> str:
    """The first sentence of ``text``, cut at a word boundary with an ellipsis when it is long."""
    sentence = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}\u2026"


def what_to_monitor(item: SafetyItem, vocabulary: SafetyVocabulary) -> str:
    """What to look at, in the item's words (see the module docstring)."""
    if isinstance(item, Contraindication):  # the conditions to screen for, whatever their category
        terms = item_terms(item.text, vocabulary)
    else:
        terms = item_terms(item.text, vocabulary, WATCHED_CATEGORIES)
    if isinstance(item, Interaction):
        subject = f"Co-prescription of {item.interacting}"
        return f"{subject}: {', '.join(terms)}" if terms else subject
    if isinstance(item, SpecialPopulation):
        subject = population_label(item).capitalize()
        return f"{subject}: {', '.join(terms)}" if terms else subject
    if terms:
        text = ", ".join(terms)
        return text[:1].upper() + text[1:]
    return first_sentence(item.text)


def step_for(item: SafetyItem, vocabulary: SafetyVocabulary) -> MonitoringStep:
    return MonitoringStep(key=item.citation_key, action=action_for(item), what=what_to_monitor(item, vocabulary),
                          why=f"{describe_kind(item)}: {item.text}", source=item.source)


def monitoring_plan(pack: EvidencePack, cited_keys: Iterable[str], decision: Decision | None,
                    vocabulary: SafetyVocabulary | None = None) -> list[MonitoringStep]:
    """The plan for one indication: a step per cited safety item, or nothing when no plan is due.

    ``cited_keys`` are the keys the indication's verified sections cite, in reading order; keys
    that are not safety items of the pack (PMIDs, trials, MOA) are skipped, and a key cited twice
    gives one step.
    """
    if not plan_due(decision):
        return []
    items = pack.safety_items()
    vocabulary = vocabulary or load_vocabulary()
    ordered = list(dict.fromkeys(k for k in cited_keys if k in items))
    steps = [step_for(items[key], vocabulary) for key in ordered]
    return sorted(steps, key=lambda step: _ACTION_ORDER.index(step.action))  # stable: citation order kept


def cited_safety_keys(pack: EvidencePack, keys: Sequence[str]) -> list[str]:
    """The safety keys among ``keys``, each once, in the order given."""
    items = pack.safety_items()
    return list(dict.fromkeys(k for k in keys if k in items))
