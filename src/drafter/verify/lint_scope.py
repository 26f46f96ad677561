"""What lint cannot prove or disprove: findings whose evidence the pack itself says it does not have.

A pack rebuilt from a published report (or built by a pipeline that never searched a source) does
not know everything the report's writer knew. When the pack *says so* (no query of that topic ran,
or its data gap declares the content unknown), a claim about that topic is neither supported nor
refuted by the pack: lint reports it as ``unchecked`` instead of ``error``, so that the reader
checks it elsewhere and an error still means a fault.

Only lint (:func:`drafter.verify.lint.verify_text`) calls this module. Drafted statements are
verified without it: a drafted claim the pack cannot support is an error, whatever the pack knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from drafter.extract import find_counts, find_numbers
from drafter.pack.models import EvidencePack, MarketStatus, QueryTopic, Relevance, StudyType
from drafter.rules import Decision, PackAssessment
from drafter.verify.findings import Finding, Severity

# Findings about safety that an empty safety section can only prove when the pack knows it is empty.
_SAFETY_CODES = frozenset({"SAFETY_NO_DATA", "SAFETY_ABSENCE_CLAIM", "SAFETY_NEGATED_RISK"})
_REGULATORY_CODES = frozenset({"REGULATORY_NO_DATA"})
_SAFETY_GAP = re.compile(r"safety|warning|contraindicat|smpc|label|interaction|adverse", re.I)
_UNKNOWN = re.compile(r"^\W*unknown\b|\bnot known\b|\bcannot (?:be )?know|\bunknown whether\b", re.I)


# In a report nobody drafted, a drug class is named for many reasons (its mechanism, a comparator, an
# approved combination); it states an interaction only beside words that say one. The drafting
# contract's wider cue list (verify.vocabulary 'interaction_cue') stays in force for drafted statements.
_INTERACTION_CLAIM = re.compile(
    r"\b(?:interact\w*|concomitant\w*|co-?administ\w*|co-?prescri\w*|caution\w*|contraindicat\w*|"
    # 'avoid' says an interaction when what is avoided is a use ('avoid combining', 'should be avoided'),
    # not in a mechanism ('avoiding competition for the same transporter')
    r"avoid(?:s|ing)?\s+(?:concomitant\w*|co-?(?:administ|prescri|medicat|therap|treat)\w*|combin\w*|use|using|"
    r"taking|giving|prescrib\w*|alcohol|other|with|them|it|this|the\s+(?:use|combination|concomitant))\b|avoided|"
    r"avoid\b(?=\s*[.,;]|\s+(?:in|if|when|unless)\b)|"
    r"not (?:be )?recommended|potentiat\w*|additive|ddis?|drug[- ]drug|risks?|bleed\w*|haemorrhag\w*|"
    r"hemorrhag\w*|toxicity|toxic|monitor\w*|levels?|exposure|concentrations?|plasma|serotonin syndrome|"
    r"adverse|side[- ]effects?|dangerous|harm\w*|unsafe|warn\w*|precaution\w*|should not|must not|do not|"
    r"dose (?:adjust|reduc)\w*|inhibitors? of|induc\w*|enhanc\w*|attenuat\w* (?:the )?(?:[\w-]+ )?effects?)\b", re.I)


# 'Evidence Level: L4', 'case-report level', 'L3 level': the report's grading, not a drug level; nor is
# 'at a cohort level' or 'at the population level', the scale of an analysis.
_GRADE_LEVEL = re.compile(r"\b(?:evidence|case[- ]reports?|study|trial|confidence|certainty|cohort|population|"
                          r"(?:sub)?group|patient|individual|community|national|practice|system|molecular|"
                          r"cellular|genetic)[- ]levels?\b"
                          r"|\blevels?\W{0,4}L[1-5]\b|\bL[1-5]\W{0,3}levels?\b", re.I)


# A class given on purpose with the drug ('augmentation therapy', 'as an adjunct to SSRIs') is a
# treatment partner; 'co-administered' and 'enhances' then describe the intended effect. It is still an
# interaction claim beside a word of harm or of drug levels.
_TREATMENT_PARTNER = re.compile(r"\b(?:augment\w*|adjunct\w*|add-?on)\b", re.I)
_HARM_OR_LEVELS = re.compile(
    r"\b(?:risks?|caution\w*|avoid\w*|contraindicat\w*|not (?:be )?recommended|bleed\w*|ha?emorrhag\w*|toxic\w*|"
    r"serotonin syndrome|adverse|side[- ]effects?|dangerous|harm\w*|unsafe|warn\w*|precaution\w*|should not|"
    r"must not|do not|monitor\w*|levels?|exposure|concentrations?|plasma|inhibitors? of|induc\w*)\b", re.I)


def states_interaction(sentence: str) -> bool:
    """Does ``sentence`` say something an interaction would be (a risk, a caution, raised levels)?"""
    sentence = _GRADE_LEVEL.sub(" ", sentence)
    if _TREATMENT_PARTNER.search(sentence) and not _HARM_OR_LEVELS.search(sentence):
        return False
    return bool(_INTERACTION_CLAIM.search(sentence))


# A population word (children, pregnancy, renal impairment) limits whom a sentence is about; in a report
# nobody drafted it is a safety claim only beside a word of risk, caution or dosing.
_POPULATION_CLAIM = re.compile(
    r"\b(?:risks?|caution\w*|avoid\w*|contraindicat\w*|not (?:be )?recommended|safe\w*|unsafe|dos(?:e|es|ing|age) "
    r"(?:adjust|reduc|modif|titrat|chang)\w*|monitor\w*|adverse|side[- ]effects?|toxic\w*|teratogen\w*|"
    r"embryo\w*|fetal|foetal|harm\w*|warn\w*|precaution\w*|should not|must not|do not|exclud\w*|"
    r"exposure|impair\w* (?:clearance|elimination)|accumulat\w*|prevention programme|contracepti\w*)\b", re.I)

# A line that asks for information (a next step: 'Retrieve the SmPC to document ...', 'Review the
# interaction profile ...') names what to look for; it claims nothing unless it also gives a reason.
_DATA_REQUEST = re.compile(
    r"^\W*(?:\[[ x]\]\W*)?(?:\*\*[^*]{1,80}\*\*\W*)?(?:retrieve|extract|obtain|review|document|request|consult|"
    r"compile|collect|confirm|verify|check|look up|conduct|perform|undertake|commission|carry out)\b", re.I)
# a 'risk-benefit analysis' or a 'risk assessment' to conduct names the work, not a risk
_REQUEST_REASON = re.compile(r"\b(?:given|because|since|as it|known|risks?(?![- ](?:benefit|assessment|analysis))|"
                             r"can|may|causes?|associated|boxed|"
                             r"critical|clinically|important|essential|due to|owing|"
                             # a finite verb states something besides the request ('... is hepatotoxic')
                             r"is|are|was|were|has|have|had|reported|shows?|showed|shown|develop\w*|occur\w*|"
                             r"induc\w*|lead\w*|led|result\w*|increas\w*|raise[sd]?|worsen\w*)\b", re.I)


# An adverse effect or a monitoring test named in a report nobody drafted is a safety claim when the
# sentence says the drug does it, risks it or needs it watched; without such a word it names a symptom
# of the disease, a mechanism or a trial criterion ('elevated platelet count', 'ECG criteria').
_EFFECT_CLAIM = re.compile(
    r"\b(?:risks?|caus\w*|associated|adverse|side[- ]effects?|induc\w*|provok\w*|trigger\w*|precipitat\w*|"
    r"exacerbat\w*|worsen\w*|aggravat\w*|caution\w*|monitor\w*|contraindicat\w*|warn\w*|toxic\w*|safety|"
    r"tolera\w*|avoid\w*|dos(?:e|es|ing|age)|reported|occur\w*|develop\w*|fatal|serious|severe|signals?|"
    # how often it happens is a claim that it happens ('drowsiness was common in the trial')
    r"(?:un)?common(?:ly)?|rare(?:ly)?|often|"
    r"class effects?|withdrawn|reactions?|harm\w*|complications?|concerns?|incidence|frequen\w*|rates? of|"
    r"experienc\w*|suffer\w*|observed|noted|documented|described|seen|had|showed|shown|linked|attributed|"
    r"(?:drug|treatment)[- ]related|due to|resulting|leads?|led|result(?:s|ed)? in|elevat\w* (?:liver|transaminase|ALT|AST)|"
    r"liability|hazard\w*|danger\w*|unsafe|not recommended|should|must|advis\w*|counsel\w*|screen\w*|"
    r"baseline|check\w*|measur\w*|test(?:s|ing)?|assess\w*|management of|confer\w*|produc(?:es|ed|ing)|"
    r"precaution\w*|interaction\w*)\b", re.I)
_HARM_TERM = re.compile(r"toxic|teratogen|drug[- ]induced|adverse|overdos|poison", re.I)


def states_effect(sentence: str, term: str) -> bool:
    """Is ``term`` (an adverse effect or monitoring test) claimed of the drug in ``sentence``?"""
    return bool(_HARM_TERM.search(term)) or bool(_EFFECT_CLAIM.search(sentence))


def drug_names(pack: EvidencePack) -> tuple[str, ...]:
    """The names a text may call the pack's drug by (INN, synonyms, brands; not one- or two-letter codes)."""
    return tuple(n for n in (pack.drug.inn, *pack.drug.synonyms, *pack.drug.brand_names) if n and len(n) > 2)


def drug_named_near(pack: EvidencePack, sentence: str, start: int, end: int, words: int = 8) -> bool:
    """Does the drug's own name stand within ``words`` words of ``sentence[start:end]``, in its clause?

    'Agranulocytosis with baclofen', 'hepatic failure in two patients on baclofen': a safety word
    next to the drug's name is said of the drug, whatever the other words."""
    names = drug_names(pack)
    if not names:
        return False
    clause = r"[;:.]|,\s*(?:and|but|while|whereas|which|so)\b"
    left = re.split(clause, sentence[:start])[-1].split()[-words:]
    right = re.split(clause, sentence[end:])[0].split()[:words]
    near = " ".join(left + right).casefold()
    return any(re.search(rf"\b{re.escape(n.casefold())}\b", near) for n in names)


# Another drug as the subject of a safety cue: 'the selective A2A agonist regadenoson has been
# documented to trigger migraine', 'minoxidil, an antihypertensive that was found to cause hair
# growth'. A class noun followed by a name, or by a relative pronoun, names the agent of the clause.
_OTHER_AGENT = re.compile(
    r"\b(?:agonists?|antagonists?|inhibitors?|blockers?|analogues?|analogs?|antihypertensives?|diuretics?|nsaids?|"
    r"steroids?|opioids?|statins?|antidepressants?|antipsychotics?|vasodilators?|antibiotics?)\s+"
    r"(?:(?:that|which|who)\b|(?!(?:is|are|was|were|has|have|had|can|may|might|could|would|also|itself|class|"
    r"drugs?|agents?|therapy|treatment|use|users?|receptors?|activity|effects?|and|or|in|of|for|with)\b)"
    r"[a-z][a-z-]{3,}\b)", re.I)
_CLAUSE_BEFORE = re.compile(r"[;:.(]|\s[\u2014\u2013]\s|,\s*(?:and|but|while|whereas|which|so)\b")


def said_of_another_drug(pack: EvidencePack, sentence: str, start: int) -> bool:
    """Is the safety cue at ``start`` said of another drug, named in its clause before it, and not of this one?"""
    clause = _CLAUSE_BEFORE.split(sentence[:start])[-1]
    if not _OTHER_AGENT.search(clause):
        return False
    names = [n for n in (pack.drug.inn, *pack.drug.synonyms, *pack.drug.brand_names) if n and len(n) > 2]
    folded = clause.casefold()
    return not any(re.search(rf"\b{re.escape(n.casefold())}\b", folded) for n in names)


def states_population_risk(sentence: str) -> bool:
    """Does ``sentence`` say something about a population's risk, care or dosing?"""
    return bool(_POPULATION_CLAIM.search(sentence))


def requests_data(sentence: str) -> bool:
    """Is ``sentence`` a request for information that gives no reason of its own?"""
    return bool(_DATA_REQUEST.search(sentence)) and not _REQUEST_REASON.search(sentence)


_BLANKED_NAME = re.compile("\x00+")


def name_as_word(blanked: str) -> str:
    """A text whose pack names were blanked, each name now a placeholder word of the same length.

    A blank ends a noun phrase in the vocabulary's reading; in a report nobody drafted the pack's
    names sit inside lists of uses and diseases, so lint reads each as one word of the list.
    """
    return _BLANKED_NAME.sub(lambda m: "q" * len(m.group(0)), blanked)


def _searched(pack: EvidencePack, topics: Iterable[QueryTopic]) -> bool:
    """Did a query of one of ``topics`` run to the end (a search that found nothing counts)?"""
    wanted = set(topics)
    return any(q.resolved_topic in wanted and q.succeeded for q in pack.meta.query_log)


def safety_unknown(pack: EvidencePack) -> bool:
    """The pack holds no safety data and does not know that there is none.

    It knows when a safety or interaction search ran, or when a data gap about safety says what is
    missing without calling it unknown ('no SmPC warnings were available'). A gap whose impact starts
    'Unknown: ...' (a pack rebuilt from a report's tables) or no word on safety at all is ignorance.
    """
    if pack.has_safety_data() or _searched(pack, (QueryTopic.SAFETY, QueryTopic.INTERACTIONS)):
        return False
    gaps = [g for g in pack.meta.data_gaps if _SAFETY_GAP.search(g.item)]
    return not gaps or all(_UNKNOWN.search(g.impact or "") for g in gaps)


def regulatory_unknown(pack: EvidencePack) -> bool:
    """The pack holds no licence or market data and no regulatory search ran."""
    jurisdiction = pack.jurisdiction
    if jurisdiction.licences or jurisdiction.total_licences is not None:
        return False
    if jurisdiction.market_status is not MarketStatus.UNKNOWN:
        return False
    return not _searched(pack, (QueryTopic.REGULATORY,))


# The TxGNN sites publish at most this many rows per evidence table; a pack rebuilt from the tables
# holds at most this many trials or articles per indication, so a larger count may be true.
TABLE_ROW_CAP = 10


def _capped_count(pack: EvidencePack, finding: Finding) -> bool:
    """A count above what the pack holds, for an indication whose list is at the table row cap."""
    claims = find_counts(finding.span)
    if claims:
        if claims[0].bound in ("at_most", "less_than"):
            return False
        what, value = claims[0].what, claims[0].value
    elif finding.span.strip().isdigit():  # a table row: 'Number of Publications | 20'
        what, value = ("articles" if "publications" in finding.message else "trials"), int(finding.span)
    else:
        return False
    named = [i for i in pack.predicted_indications if f"for {i.disease_name}" in finding.message]
    if not named:  # a table row ('Number of Publications | 20') is about the indication in context
        named = [i for i in pack.predicted_indications if i.disease_name == finding.indication]
    lists = [len(i.articles) if what == "articles" else len(i.trials) for i in named]
    return bool(lists) and all(n >= TABLE_ROW_CAP for n in lists) and value > TABLE_ROW_CAP - 1


# Words that make a count a judgement of relevance ('no trials specifically for X', '15 supporting
# publications'): a pack whose items carry no relevance grade cannot check the judgement.
_RELEVANCE_WORDS = re.compile(r"\b(?:specific(?:ally)?|direct(?:ly)?|dedicated|relevant|supporting|supportive|"
                              r"targeting|focused|addressing|evaluating|investigating)\b", re.I)


_RELEVANCE_AFTER = re.compile(r"\b(?:specific(?:ally)?|direct(?:ly)?|dedicated)\b", re.I)


def _relevance_count(pack: EvidencePack, finding: Finding) -> bool:
    """A count qualified by relevance, for indications whose items are all ungraded."""
    at = finding.statement.find(finding.span) if finding.span else -1
    if at < 0:
        return False
    before = finding.statement[max(0, at - 20):at + len(finding.span)]
    after = finding.statement[at + len(finding.span):at + len(finding.span) + 45]
    qualified = bool(_RELEVANCE_WORDS.search(before) or _RELEVANCE_AFTER.search(after))
    named = [i for i in pack.predicted_indications if f"for {i.disease_name}" in finding.message]
    items = [item for i in named for item in (*i.trials, *i.articles)]
    return (qualified and bool(named)
            and all(item.relevance is Relevance.UNKNOWN for item in items))


def _stated_rank(finding: Finding) -> int | None:
    ranks = [n.value for n in find_numbers(finding.span) if n.kind == "rank"]
    return int(ranks[0]) if ranks else None  # type: ignore[call-overload]


def _stated_score(finding: Finding) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*%", finding.span)
    if match:
        return round(float(match.group(1)) / 100, 4)
    match = re.search(r"\b0?\.\d+", finding.span)
    return round(float(match.group(0)), 4) if match else None


def _pack_lacks_indications(pack: EvidencePack, stated_ranks: Iterable[int]) -> bool:
    """The pack's ranks are not 1..n, or the report states a rank the pack does not hold."""
    ranks = {i.rank for i in pack.predicted_indications}
    return ranks != set(range(1, len(ranks) + 1)) or any(r not in ranks for r in stated_ranks)


# '... availability falls': 'falls' after a noun is a verb; the adverse event is 'falls' after 'of',
# 'and', a comma or a verb that takes it ('risk of falls', 'dizziness and falls', 'causes falls').
_FALLS_NOUN_BEFORE = re.compile(r"(?:\b(?:of|and|or|with|including|causing|cause[sd]?|prevent\w*|reduc\w*|"
                                r"increas\w*|recurrent|injurious|more|fewer|for|to|from)|[,;:(*]|^)\s*$", re.I)


_OPEN_QUESTION = re.compile(r"\b(?:whether|if)\b", re.I)


def is_question(sentence: str) -> bool:
    """Does ``sentence`` ask ('Does lowering T4 worsen goitre?')? A question a report leaves open claims nothing."""
    return sentence.rstrip(" \t*_)\"'\u201d\u2019").endswith("?")


def in_open_question(sentence: str, start: int, *, strict: bool = False) -> bool:
    """Is the text at ``start`` inside a 'whether ...' question ('to assess whether X is safe')?

    ``strict`` (drafted statements): only 'whether', in the same comma-free stretch; 'If used at all,
    baclofen is safe in chronic kidney disease' states its claim in the main clause.
    """
    if strict:
        return bool(_WHETHER.search(re.split(r"[;:,]", sentence[max(0, start - 160):start])[-1]))
    clause = re.split(r"[;:]|,\s*(?:and|but|so|yet)\b", sentence[max(0, start - 160):start])[-1]
    return bool(_OPEN_QUESTION.search(clause))


_WHETHER = re.compile(r"\bwhether\b(?!\s+or\s+not\b)", re.I)


def verb_not_event(sentence: str, start: int, term: str) -> bool:
    """Is the safety term at ``start`` the verb 'falls' rather than the adverse event?"""
    return term.casefold() == "falls" and not _FALLS_NOUN_BEFORE.search(sentence[:start])


# 'NCT07375212's withdrawal', 'the reason the study was withdrawn': a registry status, not the
# withdrawal syndrome ('withdrawal symptoms on abrupt cessation').
_TRIAL_BEFORE = re.compile(r"(?:NCT\d{8}|\btrials?|\bstud(?:y|ies)|\brecords?|\bregistration)(?:'s|\u2019s)?"
                           r"(?:\s+(?:was|were|has been|had been|is))?\s*$", re.I)
_TRIAL_AFTER = re.compile(r"^[\s*_]*(?:reasons?[\s*_]+)?(?:of|from|for)\s+(?:the\s+|this\s+|that\s+)?(?:NCT\d{8}|trials?|stud(?:y|ies)|"
                          r"registration)\b", re.I)


_WITHDRAW = re.compile(r"\bwithdraw\w*", re.I)
_SYNDROME_CUE = re.compile(r"\b(?:symptoms?|syndrome|abrupt\w*|cessation|discontinu\w*|taper\w*|rebound|"
                           r"dependence|seizures?|stopp\w*)\b", re.I)


def trial_status_not_event(sentence: str, start: int, end: int, term: str) -> bool:
    """Is 'withdrawal' at ``start`` a trial's registry status rather than the withdrawal syndrome?

    It is when the sentence ties a 'withdraw' word to a trial ('NCT07375212's withdrawal', 'the study
    was withdrawn'; a bold lead such as '**Withdrawal investigation**' then names the same thing) and
    says nothing of the syndrome (symptoms, abrupt cessation, tapering, dependence ...).
    """
    if not term.casefold().startswith("withdraw") or _SYNDROME_CUE.search(sentence):
        return False
    return any(_TRIAL_BEFORE.search(sentence[max(0, m.start() - 60):m.start()]) or _TRIAL_AFTER.search(sentence[m.end():])
               for m in _WITHDRAW.finditer(sentence))


def _range_covers(pack: EvidencePack, finding: Finding) -> bool:
    """A score written as one end of a range ('99.12-99.20%') whose range holds the pack's scores."""
    match = re.search(r"(\d{1,3}(?:\.\d+)?)\s*%?\s*(?:[-\u2013\u2014]|to)\s*(\d{1,3}(?:\.\d+)?)\s*%",
                      finding.statement)
    if not match or finding.span.rstrip("%").strip() not in match.group(0):
        return False
    low, high = sorted(float(g) / 100 for g in match.groups())
    scores = [i.score for i in pack.predicted_indications if i.score is not None]
    return bool(scores) and all(low - 5e-5 <= s <= high + 5e-5 for s in scores)


# 'rank 3', 'ranked 3rd', 'top-ranked', 'highest-ranked': a sentence pointing at an indication by its rank.
_RANK_POINTER = re.compile(r"\b(?:rank(?:ed)?\s*(?:#\s*)?(?P<n>\d{1,3})(?:st|nd|rd|th)?|(?P<top>top|highest)[- ]ranked)\b", re.I)


_CLAUSE_BREAK = re.compile(r"[;:]|\.\s")


def _about_another_rank(pack: EvidencePack, finding: Finding) -> bool:
    """A count, level or score that the sentence says of another indication, named by its rank.

    In a pack that lacks some of the report's indications (a pack rebuilt from the report's tables),
    '(rank 6 of 10; the rank 1 prediction carries zero trial evidence)' states the count of rank 1,
    not of the indication in context: the last rank the sentence names before the figure is one the
    pack does not hold, and the attributed indication is not named after it.
    """
    at = finding.statement.find(finding.span) if finding.span else -1
    if at < 0:
        return False
    before = finding.statement[:at]
    pointers = list(_RANK_POINTER.finditer(before))
    if not pointers:
        return False
    last = pointers[-1]
    rank = 1 if last.group("top") else int(last.group("n"))
    attributed = next((i for i in pack.predicted_indications if i.disease_name == finding.indication), None)
    if attributed is None or rank == attributed.rank:
        return False
    # 'Hereditary Rickets (rank 7, ...), which holds L1': the rank is the attributed indication's own,
    # whatever rank the rebuilt pack gave it; the name stands just before the rank or after it.
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(before, 0, last.start())), default=0)
    return attributed.disease_name.casefold() not in before[clause_start:].casefold()


def _pack_knows_no(pack: EvidencePack, what: str) -> bool:
    """No trial of the pack records ``what`` ('dates', 'design'): the pack's source did not carry it."""
    trials = [t for i in pack.predicted_indications for t in i.trials]
    if what == "dates":
        return bool(trials) and all(t.start_date is None and t.completion_date is None for t in trials)
    return bool(trials) and all(t.design is None for t in trials)


_SAFETY_HEADING = re.compile(r"safety|adverse|warning|contraindicat|precaution|interaction|toxicit", re.I)


def _unchecked(finding: Finding, why: str) -> Finding:
    return replace(finding, severity=Severity.UNCHECKED, message=f"{finding.message} (unchecked: {why})")


def _stage_capped(assessment: PackAssessment, finding: Finding) -> bool:
    """A decision the evidence level allows, forbidden only by the decision stage."""
    quoted = re.match(r"'([^']+)'", finding.message)
    try:
        decision = Decision(quoted.group(1)) if quoted else None
    except ValueError:
        return False
    computed = next((a for a in assessment.indications if a.disease_name == finding.indication), None)
    return (decision is not None and computed is not None and computed.decision_ceiling != computed.level_ceiling
            and decision.allowed_by(computed.level_ceiling))


# The TxGNN pipelines' L2 is 'one completed Phase 2/3 RCT' and their L3 'observational studies or a
# systematic review'. A published randomised trial is completed, but an article records no phase, so
# the pack cannot say whether it meets the pipeline's L2; drafter's own rule, stricter, counts only
# registered trials for L2 (a published trial is L3). A report that gives L2, or the decision L2
# allows, on such a trial is neither confirmed nor refuted by the pack.
_PUBLISHED_TRIALS = frozenset({StudyType.RCT, StudyType.CLINICAL_TRIAL})
_PIPELINE_L2_CEILING = Decision.PROCEED_WITH_GUARDRAILS
_STATED_LEVEL = re.compile(r"evidence level (L[1-5]) is stated")


def _published_trial_reading(pack: EvidencePack, assessment: PackAssessment, finding: Finding) -> str | None:
    """The pipeline level ("L2" or "L1") that published trials may meet where the rules, which count only
    registered trials' phases, compute less: an L2 (or the decision L2 allows) where the rules compute L3
    and the pack holds a published trial; an L1 where they compute L2 or L3 and it holds two published
    randomised trials."""
    if not assessment.rule_table.startswith("txgnn-default "):
        return None  # another rule table's levels need not mean the pipeline's
    if finding.code == "LEVEL_MISMATCH":
        stated = _STATED_LEVEL.match(finding.message)
        if stated is None or stated.group(1) not in ("L1", "L2"):
            return None
        level = stated.group(1)
        computed = next((a for a in assessment.indications
                         if finding.message.endswith(f"the rules compute {a.level_reason}")), None)
    elif finding.code == "DECISION_ABOVE_CEILING":
        level = "L2"
        quoted = re.match(r"'([^']+)'", finding.message)
        try:
            decision = Decision(quoted.group(1)) if quoted else None
        except ValueError:
            return None
        computed = next((a for a in assessment.indications if a.disease_name == finding.indication), None)
        if decision is None or computed is None or computed.decision_ceiling != computed.level_ceiling \
                or not decision.allowed_by(_PIPELINE_L2_CEILING):
            return None  # a stage or a result cap holds the decision down whatever the level
    else:
        return None
    if computed is None or computed.level not in (("L2", "L3") if level == "L1" else ("L3",)):
        return None
    indication = next((i for i in pack.predicted_indications if i.rank == computed.rank), None)
    if indication is None:
        return None
    # L1's trials are randomised: a published 'clinical trial' of unknown design is no reading of it
    kinds = frozenset({StudyType.RCT}) if level == "L1" else _PUBLISHED_TRIALS
    published = sum(a.study_type in kinds and a.relevance is not Relevance.UNRELATED for a in indication.articles)
    return level if published >= (2 if level == "L1" else 1) else None


_PUBLISHED_TRIAL_REASON = {
    "L2": "the pipeline's L2 is one completed Phase 2/3 RCT; the pack holds a published randomised trial for "
          "this indication but records no phase for it",
    "L1": "the pipeline's L1 is two completed Phase 3 RCTs; the pack holds two or more published randomised "
          "trials for this indication but records no phase for them",
}


def scope_findings(pack: EvidencePack, assessment: PackAssessment, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with those the pack cannot decide turned ``unchecked``, in the same order."""
    findings = list(findings)
    safety = safety_unknown(pack)
    regulatory = regulatory_unknown(pack)
    ranks = {i.rank for i in pack.predicted_indications}
    stated = [r for f in findings if f.code == "RANK_MISMATCH" for r in [_stated_rank(f)] if r is not None]
    incomplete = _pack_lacks_indications(pack, stated)
    scores = {round(i.score, 4) for i in pack.predicted_indications if i.score is not None}
    scoped = []
    for finding in findings:
        if finding.code == "SCORE_MISMATCH" and _range_covers(pack, finding):
            continue  # a range of scores across indications, and the pack's scores lie inside it
        if finding.code == "RANK_MISMATCH" and _stated_rank(finding) not in ranks:
            finding = _unchecked(finding, "the pack holds no indication of that rank; the report may name "
                                 "one the pack lacks")
        elif finding.code == "SCORE_MISMATCH" and incomplete and _stated_score(finding) not in scores:
            finding = _unchecked(finding, "the pack lacks indications the report names; the score may be one of theirs")
        elif finding.code == "COUNT_MISMATCH" and _capped_count(pack, finding):
            finding = _unchecked(finding, f"the pack's list is at the {TABLE_ROW_CAP}-row cap of the published "
                                 "tables, so a larger count may be true")
        elif finding.code == "COUNT_MISMATCH" and _relevance_count(pack, finding):
            finding = _unchecked(finding, "the count is a judgement of relevance and the pack's items carry no "
                                 "relevance grade")
        elif (finding.code in ("COUNT_MISMATCH", "LEVEL_MISMATCH", "SCORE_MISMATCH") and incomplete
              and _about_another_rank(pack, finding)):
            finding = _unchecked(finding, "the sentence gives this figure for the indication it names by "
                                 "rank, and the pack lacks indications the report names")
        elif finding.code == "SCORE_MISMATCH" and "holds no model score" in finding.message:
            finding = _unchecked(finding, "the pack holds no model score for this indication, so the stated "
                                 "score can be neither confirmed nor refuted")
        elif finding.code == "TRIAL_FACT_UNKNOWN" and "records no dates" in finding.message \
                and _pack_knows_no(pack, "dates"):
            finding = _unchecked(finding, "no trial in the pack records a date: its source did not carry them")
        elif finding.code == "DESIGN_UNSUPPORTED" and "no allocation or masking recorded" in finding.message \
                and _pack_knows_no(pack, "design"):
            finding = _unchecked(finding, "no trial in the pack records its design: its source did not carry it")
        elif finding.code == "ID_UNKNOWN" and safety and _SAFETY_HEADING.search(finding.section):
            finding = _unchecked(finding, "cited under a safety heading, and the pack says it does not know the "
                                 "drug's safety data or their sources")
        elif finding.code == "LEVEL_CONFLICT" and incomplete:
            finding = _unchecked(finding, "the pack lacks indications the report names; a second level may be one "
                                 "of theirs")
        elif finding.code in ("LEVEL_MISMATCH", "DECISION_ABOVE_CEILING") \
                and (level := _published_trial_reading(pack, assessment, finding)) is not None:
            finding = _unchecked(finding, _PUBLISHED_TRIAL_REASON[level])
        elif finding.code == "REGULATORY_JURISDICTION":
            finding = _unchecked(finding, "lint reads a report against its pack's jurisdiction only")
        elif finding.code == "DECISION_ABOVE_CEILING" and safety and _stage_capped(assessment, finding):
            finding = _unchecked(finding, "the decision stage is capped because the pack does not know the "
                                 "drug's safety data; the evidence level allows the decision")
        elif safety and finding.code in _SAFETY_CODES:
            finding = _unchecked(finding, "the pack says it does not know the drug's safety data")
        elif regulatory and finding.code in _REGULATORY_CODES:
            finding = _unchecked(finding, "no licence or market search is in the pack's query log")
        scoped.append(finding)
    return scoped
