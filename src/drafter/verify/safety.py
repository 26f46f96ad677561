"""Safety claims: every safety term rests on a pack safety item that covers it; no unsupported absence of risk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from drafter.drafts import Support
from drafter.pack.models import SAFETY_KEY_PREFIX
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.lint_scope import (drug_named_near, drug_names, in_open_question, is_question, name_as_word,
                                       requests_data, said_of_another_drug, states_effect, states_interaction,
                                       states_population_risk, trial_status_not_event, verb_not_event)
from drafter.vocabulary import SafetyMention


def _named(findings: Findings, sentence: str, citing: Citing) -> str:
    """``sentence`` with the pack's names blanked; in lint, a blanked name still reads as a word
    (lint_scope.name_as_word), so 'used for <name>, angina and arrhythmias' stays one list of uses."""
    blanked = findings.index.blank_names(sentence)
    return name_as_word(blanked) if citing.lint else blanked


def check_safety(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    if citing.lint and is_question(sentence):
        return  # lint: 'does it worsen goitre?' asks (lint_scope); a drafted statement asks nothing
    vocabulary = findings.index.vocabulary
    has_data = findings.index.pack.has_safety_data()
    for claim in vocabulary.absence_claims(sentence):
        supporting = [k for k, ids in findings.index.safety_absences.items() if claim.id in ids
                      and (citing.lint or k in citing.keys)]
        if in_open_question(sentence, claim.start, strict=not citing.lint):
            continue  # 'data to assess whether levels are reachable without toxicity' asks; it claims nothing
        if citing.support is Support.BACKGROUND:
            findings.add("BACKGROUND_WITH_SAFETY", where, f"'{claim.text}' is a safety claim; it cannot be "
                     "background", claim.text)
        elif not supporting:
            findings.add("SAFETY_ABSENCE_CLAIM", where, f"'{claim.text}' claims an absence of risk that the "
                     "pack's safety data does not state", claim.text)
    if citing.lint and requests_data(sentence):
        return  # lint: a next step asking for the SmPC's warnings names them; it does not state them
    check_protective_claims(findings, sentence, where, citing)
    reported: set[str] = set()
    named = _named(findings, sentence, citing)
    mentions = vocabulary.mentions(named, lint=citing.lint)
    for at, mention in enumerate(mentions):
        if mention.concept in reported:
            continue
        concept = vocabulary.concepts[mention.concept]
        if where.rank is not None and mention.concept in findings.index.name_concepts.get(where.rank, ()):
            continue  # 'insomnia' in a statement about chronic insomnia names the disease
        if mention.negated and concept.category == "population":
            # 'enrolled adults, not children', 'is not removed by dialysis': a negated population
            # limits whom a sentence is about; it neither states a risk nor denies one.
            continue
        if citing.lint and concept.category == "interaction" and not states_interaction(f"{sentence} {where.lead}"):
            continue  # lint: a class named for its mechanism, as a comparator or a partner (lint_scope)
        if citing.lint and verb_not_event(named, mention.start, mention.text):
            continue  # lint: 'availability falls' (lint_scope)
        if citing.lint and trial_status_not_event(named, mention.start, mention.end, mention.text):
            continue  # lint: 'the trial's withdrawal' is a registry status (lint_scope)
        if (citing.lint and concept.category in ("adverse_effect", "monitoring")
                and not states_effect(f"{sentence} {where.lead}", mention.text)
                and not (concept.category == "adverse_effect"
                         and drug_named_near(findings.index.pack, sentence, mention.start, mention.end))):
            continue  # lint: a symptom of the disease, a mechanism, a trial criterion (lint_scope)
        if citing.lint and concept.category == "population" and not states_population_risk(f"{sentence} {where.lead}"):
            continue  # lint: 'a paediatric case report', 'approved in adults and children' (lint_scope)
        reported.add(mention.concept)
        label = concept.label
        if citing.support is Support.BACKGROUND:
            findings.add("BACKGROUND_WITH_SAFETY", where, f"'{mention.text}' ({label}) is a safety claim; it "
                     "must rest on a cited pack safety item, not background", mention.text)
            continue
        if mention.negated:
            check_negated(findings, mention.concept, mention.text, label, where, citing)
            continue
        if not has_data:
            findings.add("SAFETY_NO_DATA", where, f"'{mention.text}' ({label}) is a safety claim, but the pack "
                     "holds no safety data to support it", mention.text)
            continue
        covering = [k for k, concepts in findings.index.safety_concepts.items() if mention.concept in concepts]
        if citing.lint:
            if not covering:
                findings.add("SAFETY_UNSUPPORTED", where, f"'{mention.text}' ({label}) is not mentioned by any "
                         "safety item of the pack", mention.text)
            else:
                check_minimised(findings, named, mentions, at, concept.category, covering, where)
            continue
        cited = [k for k in covering if k in citing.keys]
        if cited:
            check_minimised(findings, named, mentions, at, concept.category, cited, where)
            continue
        if covering:
            findings.add("SAFETY_WRONG_ITEM", where, f"'{mention.text}' ({label}) is supported by "
                     f"{', '.join(covering[:3])}, which this statement does not cite", mention.text)
        else:
            findings.add("SAFETY_UNSUPPORTED", where, f"'{mention.text}' ({label}) is not mentioned by any "
                     "safety item of the pack", mention.text)



# Words that make a risk rarer, milder or narrower than its safety item may say. An item that calls
# a reaction rare, or limits it to intrathecal use, supports them; an item that calls drowsiness
# dose-related does not, and 'drowsiness is rare' citing it understates the warning a prescriber reads.
# 'only' narrows a risk when it sets a condition ('only at high doses', 'only after intrathecal use');
# 'for spasticity only' limits something else.
_MINIMISER = re.compile(r"\b(?<!not )(?<!no )(?:(rare|uncommon|infrequent|seldom|occasional|mild|minor|slight|"
                        r"transient|"
                        r"temporar(?=y|ily)|self[- ]limit(?=ing|ed)|short[- ]lived|negligible|minimal|unlikely|"
                        r"exclusive|benign|trivial|insignificant|resolv|subsid)\w*|(only)(?= (?:at|after|in|with|"
                        r"when|if|above|below|during|on|under|over|beyond|from|once|until)\b)"
                        r"|(never)(?= (?:severe|serious|dangerous|harmful|significant|clinically))"
                        r"|(wears? off|goes away|disappears|hardly ever|almost never|only a few|few patients|"
                        r"little (?:clinical )?(?:concern|significance|relevance)|manageable|well[- ]managed))", re.I)
# 'but' ends the clause unless what follows it makes the same risk smaller ('common but mild').
_CLAUSE_EDGE = re.compile(r"[;:()]|,\s*(?:and|which|so|while)\b|\b(?:whereas|although|though|while)\b"
                          r"|\bbut\b(?!\s+(?:(?:usually|generally|mostly|typically|often|always|is|are|was|were)\s+)?"
                          r"(?:rare|mild|transient|never|minor|uncommon|self[- ]limit|short[- ]lived|temporar|benign))",
                          re.I)
_NEXT_ITEM_BEFORE = re.compile(r"(?:,|\band\b|\bor\b)\s*$", re.I)
MINIMISER_REACH = 60  # characters either side of the safety term, within its clause
# Whom a sentence is about, and what to measure, are not risks that can be understated.
_NOT_A_RISK = frozenset({"population", "monitoring"})


def check_minimised(findings: Findings, sentence: str, mentions: Sequence[SafetyMention], at: int, category: str,
                    keys: Sequence[str], where: Where) -> None:
    """A risk made smaller ('rare', 'mild', 'only at high doses') must be made so by its item too.

    A minimiser belongs to the nearest risk: 'raised liver enzymes and, rarely, severe skin
    reactions' says nothing of how often the enzymes rise.
    """
    if category in _NOT_A_RISK:
        return
    mention = mentions[at]
    before = mentions[at - 1].end if at > 0 else 0
    after = mentions[at + 1].start if at + 1 < len(mentions) else len(sentence)
    left = _CLAUSE_EDGE.split(sentence[max(before, mention.start - MINIMISER_REACH):mention.start])[-1]
    right = _CLAUSE_EDGE.split(sentence[mention.end:min(after, mention.end + MINIMISER_REACH)])[0]
    texts = [findings.index.safety_texts.get(k, "").replace(" ", "-") for k in keys]
    label = findings.index.vocabulary.concepts[mention.concept].label
    for after_term, side in ((False, left), (True, right)):
        for word in _MINIMISER.finditer(side):
            if after_term and _NEXT_ITEM_BEFORE.search(side, 0, word.start()) and side[word.end():].startswith(","):
                continue  # 'raised liver enzymes and, rarely, severe skin reactions': the next item's
            root = next(g for g in word.groups() if g).lower().replace(" ", "-")
            if any(re.search(rf"\b{re.escape(root)}", text) for text in texts):
                continue
            findings.add("SAFETY_MINIMISED", where, f"'{word.group(0)}' makes {label} rarer, milder or narrower "
                         f"than {', '.join(keys[:3])} says", word.group(0))
            return


# 'Baclofen protects against seizures', 'it reduces the risk of respiratory depression': the drug said to
# prevent a harm that the pack lists as one of its risks. A benefit mask may blank the harm (it is often
# an outcome), but said of the drug against its own safety items it denies the risk they state.
_PROTECTS = re.compile(
    r"\b(?:prevents?|prevented|protects?|protected|is\s+protective|guards?|averts?|averted|reduces?|reduced|"
    r"lowers?|lowered|decreases?|decreased|minimi[sz]es?|minimi[sz]ed)\b(?:\s+(?:against|from))?"
    r"(?:\s+(?:the|a|its|their))?(?:\s+(?:risk|rate|incidence|likelihood|occurrence|frequency|chance|odds)s?\s+of)?"
    r"\s+(?=\S)", re.IGNORECASE)
# What may stand between the drug and that verb: 'baclofen may also', 'it has been shown to', 'may help'.
_BETWEEN = r"(?:(?:\w+ly|may|can|could|might|does|did|will|would|also|is|was|be|been|has|have|had|shown\s+to|" \
           r"found\s+to|known\s+to|thought\s+to|reported\s+to|proven\s+to|appears?\s+to|seems?\s+to|" \
           r"help(?:s|ed)?(?:\s+to)?)\s+)*"


@lru_cache(maxsize=256)
def _drug_as_subject(names: tuple[str, ...]) -> re.Pattern[str]:
    """The drug (or 'it', 'the drug') closing a clause just before a verb: compiled once per drug."""
    subjects = [r"it", r"this\s+drug", r"the\s+drug", r"this\s+medicine", r"the\s+medicine",
                *(re.escape(n) for n in names)]
    return re.compile(rf"\b(?:{'|'.join(subjects)})\s+{_BETWEEN}$", re.IGNORECASE)


def check_protective_claims(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    """The drug said to prevent or reduce a harm its pack lists as a risk: the text denies that risk.

    A drafted statement that cites only safety items for a harm none of them names ('baclofen reduces
    the risk of agranulocytosis', citing the drowsiness warning) has nothing behind it either; cited
    with a trial or an article it is an efficacy claim, which the quote checks hold to its source."""
    index = findings.index
    if not index.pack.has_safety_data():
        return
    subject: re.Pattern[str] | None = None
    mentions: list[SafetyMention] | None = None
    for match in _PROTECTS.finditer(sentence):
        subject = subject or _drug_as_subject(drug_names(index.pack))
        if not subject.search(re.split(r"[;:.(]|,\s", sentence[:match.start()])[-1]):
            continue  # 'taper the dose to prevent withdrawal seizures' is advice, not a claim of the drug
        if mentions is None:
            mentions = index.vocabulary.mentions(sentence, context=False)  # only where the verb was found
        mention = next((m for m in mentions if match.end() <= m.start <= match.end() + 30), None)
        if mention is None or mention.negated:
            continue
        concept = index.vocabulary.concepts[mention.concept]
        if concept.category != "adverse_effect":
            continue
        if where.rank is not None and mention.concept in index.name_concepts.get(where.rank, ()):
            continue  # the indication itself: 'it prevents migraine' in a migraine section
        listing = [k for k, concepts in index.safety_concepts.items() if mention.concept in concepts]
        if listing:
            findings.add("SAFETY_NEGATED_RISK", where, f"the text says the drug prevents or reduces {concept.label}, "
                         f"but the pack lists it as a risk ({', '.join(listing[:3])})", mention.text)
        elif not citing.lint and citing.keys and all(k.startswith(SAFETY_KEY_PREFIX) for k in citing.keys):
            findings.add("SAFETY_UNSUPPORTED", where, f"the text says the drug prevents or reduces {concept.label}, "
                         f"which none of the cited safety items ({', '.join(sorted(citing.keys)[:3])}) names",
                         mention.text)


def check_negated(findings: Findings, concept: str, text: str, label: str, where: Where, citing: Citing) -> None:
    affirming = [k for k, c in findings.index.safety_concepts.items() if concept in c]
    denying = [k for k, c in findings.index.safety_negated.items() if concept in c
               and (citing.lint or k in citing.keys)]
    if affirming:
        findings.add("SAFETY_NEGATED_RISK", where, f"the text denies {label}, but the pack lists it "
                 f"({', '.join(affirming[:3])})", text)
    elif not denying:
        findings.add("SAFETY_NEGATED_RISK", where, f"the text denies {label}; no safety item of the pack says so",
                 text)

# drafted statements -----------------------------------------------------------------------------------



# What 'is documented' or 'has been reported' says of a use ('the use of H2-blockers in mastocytosis is
# documented') is the use: the disease after 'in' is where the drug was used, not a harm it did.
_A_USE_BEFORE = re.compile(r"\b(?:use|uses|role|value|utility|efficacy|effectiveness|benefits?)\s+of\s+"
                           r"(?:[\w/-]+\s+){1,5}(?:in|for)\s+$", re.I)


def check_cue_claims(findings: Findings, sentence: str, where: Where, citing: Citing) -> None:
    """Safety claims found by their cue ('may cause X', 'risk of X', 'contraindicated in X', 'monitor for X').

    The vocabulary's concepts are checked by :func:`check_safety`; here the claims whose X it does not
    know: an unknown X is still a claim, and must be found in the supporting safety text.
    """
    index = findings.index
    claims = [c for c in index.vocabulary.cue_claims(index.blank_names(sentence), lint=citing.lint)
              if c.concept is None]
    if not claims or (citing.lint and (requests_data(sentence) or is_question(sentence))):
        return
    has_data = index.pack.has_safety_data()
    for claim in claims:
        if claim.object_end <= claim.start and _A_USE_BEFORE.search(sentence, 0, claim.object_start):
            continue  # 'the use of H2-blockers in mastocytosis is documented': a use, not a harm
        if citing.lint and said_of_another_drug(index.pack, sentence, min(claim.start, claim.object_start)):
            continue  # lint: 'regadenoson has been documented to trigger migraine' (lint_scope)
        # the cue and its object, in the order written ('X has been reported' puts the object first)
        said = sentence[min(claim.start, claim.object_start):max(claim.end, claim.object_end)]
        if citing.background:
            findings.add("BACKGROUND_WITH_SAFETY", where, f"'{said}' is a safety claim; it must rest on a cited pack "
                         "safety item, not background", said)
            continue
        if claim.negated:
            findings.add("SAFETY_NEGATED_RISK", where, f"'{said}' denies a risk that no safety item of the pack "
                         "denies", said)
            continue
        if not has_data:
            findings.add("SAFETY_NO_DATA", where, f"'{said}' is a safety claim, but the pack holds no safety data to "
                         "support it", said)
            continue
        supporting = [k for k, profile in index.safety_profiles.items()
                      if index.vocabulary.object_supported(claim, profile)]
        if citing.lint:
            if not supporting:
                findings.add("SAFETY_UNSUPPORTED", where, f"'{said}': no safety item of the pack mentions "
                             f"'{claim.object_text}'", said)
            continue
        if any(k in citing.keys for k in supporting):
            continue
        if supporting:
            findings.add("SAFETY_WRONG_ITEM", where, f"'{said}' is supported by {', '.join(supporting[:3])}, which "
                         "this statement does not cite", said)
        else:
            findings.add("SAFETY_UNSUPPORTED", where, f"'{said}': no safety item of the pack mentions "
                         f"'{claim.object_text}'", said)
