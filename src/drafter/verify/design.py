"""Study-design claims in one sentence, checked against the records of the items it cites.

"A randomised, double-blind trial (NCT04381936)" tells a pharmacist how much weight the result
bears, so the design words must be what the cited record says: an article's ``study_type`` and
``publication_types`` (and its title or abstract), a trial's ``design`` (allocation, masking),
``study_type`` and its title or summary. Animal and in-vitro work written up as evidence "in
patients" is the worst case, so the population words (patients, people, healthy volunteers,
children against rats, mice, animals, in vitro, preclinical) are design claims too.

Each design word is attached to the cited items whose identifiers stand nearest to it in the
sentence (all cited items when the sentence writes none). It is

* supported when one attached record states it (a field or the record's own text);
* a ``DESIGN_MISMATCH`` when every attached record contradicts it (an RCT called a cohort study, an
  open-label trial called double-blind, an animal study said to be in patients);
* a ``DESIGN_UNSUPPORTED`` otherwise: the records do not say.

Design words that are not claims about the cited item are skipped: absent or wanted studies ("no
randomised trial exists", "a randomised trial is needed"), comparisons ("rather than a case
report"), and the studies that a review or meta-analysis includes ("a meta-analysis of randomised
trials"). The module is pure and returns :class:`~drafter.verify.problems.Problem` values with
offsets into the sentence as given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from drafter.extract import fold
from drafter.pack.models import Article, StudyKind, StudyType, Trial
from drafter.verify.problems import Problem

#: code -> (severity, one-line description), for the verifier's code table and the README.
CODES: dict[str, tuple[str, str]] = {
    "DESIGN_MISMATCH": ("error",
                        "A study-design or population word contradicts the cited item's study type or trial design."),
    "DESIGN_UNSUPPORTED": ("error", "A study-design or population word that the cited item's record does not state."),
}

# --- design features and the words that claim them ---------------------------------------------------

RANDOMISED, NON_RANDOMISED, PLACEBO, DOUBLE_BLIND, SINGLE_BLIND, OPEN_LABEL = (
    "randomised", "non-randomised", "placebo-controlled", "double-blind", "single-blind", "open-label")
META, SR, COHORT, CASE_REPORT, CASE_SERIES = ("meta-analysis", "systematic review", "observational/cohort",
                                              "case report", "case series")
HUMAN, HEALTHY, CHILDREN, ANIMAL, IN_VITRO, PRECLINICAL = (
    "in humans", "in healthy volunteers", "in children", "in animals", "in vitro", "preclinical")

_POP = r"(?:\d[\d,]*\s+)?(?:[\w-]+\s+){0,3}?"
_FEATURE_PATTERNS: tuple[tuple[str, str], ...] = (
    (NON_RANDOMISED, r"\bnon-?randomi[sz]ed\b|\bnot randomi[sz]ed\b|\bun-?randomi[sz]ed\b|\bsingle[- ](?:arm|group)\b"),
    (RANDOMISED, r"\brandomi[sz]ed\b|\brandomi[sz]ation\b|\bRCTs?\b"),
    (PLACEBO, r"\bplacebo[- ]controlled\b|\b(?:versus|vs\.?|against) placebo\b|\bcompared (?:with|to) placebo\b"
              r"|\bplacebo (?:arm|group)\b"),
    (DOUBLE_BLIND, r"\b(?:double|triple|quadruple)[- ](?:blind(?:ed)?|mask(?:ed|ing))\b"),
    (SINGLE_BLIND, r"\bsingle[- ](?:blind(?:ed)?|mask(?:ed|ing))\b"),
    (OPEN_LABEL, r"\bopen[- ]label(?:led)?\b|\bun-?blinded\b|\bnon-?blinded\b|\bnot blinded\b"),
    (META, r"\bmeta-?analys[ie]s\b|\bmeta-?analytic\b|\bpooled analys[ie]s\b"),
    (SR, r"\b(?:systematic(?:ally)?|cochrane) review(?:ed|s)?\b"),
    (COHORT, r"\bcohort (?:study|studies|analysis|analyses|design)\b|\b(?:prospective|retrospective|population-based"
             r"|registry-based) (?:cohort|study|studies|analysis)\b|\bobservational\b|\bcase-control\b"),
    (CASE_SERIES, r"\bcase[- ]series\b"),
    (CASE_REPORT, r"\bcase reports?\b|\bsingle[- ]patient report\b"),
    (HEALTHY, r"\b(?:(?:in|among|involving|enrolling|recruiting)\s+(?:\d[\d,]*\s+)?)?healthy (?:adult |male "
              r"|female )?(?:volunteers|subjects|participants|individuals|adults|men|women)\b"),
    (CHILDREN, rf"\b(?:in|among|involving|enrolling|recruiting)\s+{_POP}(?:children|adolescents|infants|neonates|boys"
               r"|girls)\b|\b(?:paediatric|pediatric) (?:study|studies|trials?|patients|population|cohort)\b"),
    (ANIMAL, rf"\bin\s+{_POP}(?:rats?|mice|mouse|rodents?|animals?|primates|monkeys|dogs|pigs|zebrafish)\b"
             r"|\b(?:animal|rodent|rat|mouse|murine) (?:study|studies|models?|data|experiments?|work|research"
             r"|evidence)\b"
             r"|\bin (?:an? )?(?:\w+ )?(?:animal|rodent|rat|mouse|murine) models?\b"),
    (IN_VITRO, r"\bin vitro\b|\bex vivo\b|\bcell[- ]culture\b|\bcell lines?\b"),
    (PRECLINICAL, r"\bpre-?clinical\b"),
    (HUMAN, rf"\b(?:in|among|involving|enrolling|recruiting)\s+{_POP}(?:patients|people|humans|participants|subjects"
            r"|adults|individuals|smokers|volunteers|men|women)\b|\bhuman (?:study|studies|subjects|participants|data"
            r"|trials?|evidence)\b|\bclinical (?:trials?|study|studies|data|evidence)\b"),
)
_FEATURE_RE = re.compile("|".join(f"(?P<f{i}>{p})" for i, (_, p) in enumerate(_FEATURE_PATTERNS)), re.IGNORECASE)
# The cheap gate: lower-cased substrings (a loop of ``in`` tests costs about a microsecond; one
# case-insensitive alternation costs twenty). The population words are common, so they open the
# gate only when a cited item is preclinical, the one case where "in patients" can be wrong.
_GATE_WORDS = ("randomi", "rct", "placebo", "blind", "mask", "label", "analy", "pooled", "systematic", "cohort",
               "observational", "case", "cochrane", "healthy", "child", "adolesc", "infant", "neonat", "paediatric", "pediatric",
               "rat", "mice", "mouse", "rodent", "animal", "primate", "monkey", "dog", "pig", "zebrafish", "murine",
               "vitro", "vivo", "cell", "single")
_POPULATION_WORDS = ("clinical", "patient", "people", "human", "participant", "subject", "adult", "individual",
                     "smoker", "volunteer", "men")


def _gate(text: str, population: bool) -> bool:
    low = text.lower()
    for word in _GATE_WORDS:
        if word in low:
            return True
    if population:
        for word in _POPULATION_WORDS:
            if word in low:
                return True
    return False


# Supported by: a record stating any of these features supports the claimed one.
_IMPLIED_BY = {HUMAN: {HUMAN, HEALTHY, CHILDREN}, PRECLINICAL: {PRECLINICAL, ANIMAL, IN_VITRO}}
# Population and species words that a review's record cannot settle either way.
_SCOPE = {CHILDREN, HEALTHY, ANIMAL, IN_VITRO, PRECLINICAL}
# Claims that are only errors when contradicted: "in patients" on a review is not worth a finding.
_LENIENT = {HUMAN}

# --- what is not a claim about the cited item --------------------------------------------------------

_HEDGE_BEFORE = re.compile(
    r"\b(?:no|not an?|never|without|lack(?:s|ing)?(?: of)?|absence of|absent|none|neither|nor|future|need(?:s|ed)?"
    r"(?: for)?|require[sd]?|requiring|would|should|could|must|propos\w*|recommend\w*|call(?:s|ed)? for|rather than"
    r"|instead of|unlike|in contrast to|as opposed to|than|await\w*|yet to|pending|if|whether|warrant\w*|design\w*"
    r"|before|until|any|absent|planning|to conduct|to run|to test|to establish|to confirm|lacked)\b[^.;]*$",
    re.IGNORECASE,
)
_HEDGE_AFTER = re.compile(
    r"^[^.;]{0,50}?\b(?:(?:is|are|would be|will be|remains?|were) (?:still )?(?:needed|required|necessary|warranted"
    r"|lacking|missing|absent|awaited|unavailable|not available|yet to)|(?:has|have) (?:not|yet to|never)"
    r"|(?:is|are|was|were|remains?) (?:limited|restricted|confined) to|(?:does|do) not exist|(?:would|should|could"
    r"|might|will) (?:be|help|clarify|establish|confirm|determine"
    r"|test|address|resolve|answer|strengthen|provide))\b",
    re.IGNORECASE,
)
# "a meta-analysis of randomised trials", "a review summarising preclinical data": the included studies.
_CONSTITUENT = re.compile(
    r"\b(?:meta-?analys[ie]s|systematic reviews?|reviews?|overviews?|pooled analys[ie]s|umbrella review|synthes[ie]s)"
    r"\s+(?:\([^)]*\)\s+)?(?:of|including|includ\w*|pooling|across|covering)\b[^.;]*$"
    r"|\b(?:review\w*|summari[sz]\w*|discuss\w*|survey\w*|synthesi[sz]\w*|pool\w*|includ\w*|cit\w*|draw\w* on"
    r"|describ\w*|compil\w*|catalogu\w*|collat\w*)\s+(?:[\w-]+\s+){0,4}$",
    re.IGNORECASE,
)
# "20 publications, most of them preclinical": a share of a body of work, not the cited item's design.
_PROPORTION = re.compile(
    r"\b(?:most|many|some|several|half|all|few|none|majority|minority|mostly|largely|predominantly|mainly|chiefly"
    r"|primarily)(?:\s+of\s+(?:them|these|those|which|the\s+\w+))?\s+(?:(?:are|were|being|is)\s+)?$",
    re.IGNORECASE,
)
# "use with caution in patients with renal impairment": a safety statement, not a study population.
_SAFETY_CONTEXT = re.compile(
    r"\b(?:caution|contraindicated|avoid\w*|reduce|reduction|monitor\w*|not recommended|care|risk|adjust\w*|dose"
    r"|dosing|titrat\w*|prescrib\w*|toxicity|accumulat\w*)\b[^.;]*$",
    re.IGNORECASE,
)


_UNTESTED = re.compile(
    r"\b(?:not|never|no|cannot|can't|unable|yet to|untested|unexplored|unknown|uncertain|unclear|remains? to|has to"
    r"|have to|translat\w*"
    r"|extrapolat\w*|replicat\w*|confirm\w*|relevance|applicab\w*|generali[sz]\w*)\b[^.;]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cue:
    feature: str
    start: int
    end: int


def _find_cues(text: str) -> list[_Cue]:
    cues = []
    for match in _FEATURE_RE.finditer(text):
        feature = _FEATURE_PATTERNS[int((match.lastgroup or "f0")[1:])][0]
        cues.append(_Cue(feature, match.start(), match.end()))
    return cues


def _clause_before(text: str, start: int) -> str:
    before = text[max(0, start - 80):start]
    cut = max(before.rfind(";"), before.rfind(". "))
    for joiner in (", but ", " but ", " while ", " whereas ", " although ", ", and "):
        cut = max(cut, before.rfind(joiner) + len(joiner) - 1 if joiner in before else -1)
    return before[cut + 1:] if cut >= 0 else before


def _is_claim(text: str, cue: _Cue) -> bool:
    word = text[cue.start:cue.end]
    if " " in word and word.istitle() and re.search(r"(?-i:[A-Z])\w*\s+(?:of\s+)?$|[&]\s*$", text[:cue.start]) \
            and not re.search(r"(?:^|[.!?|]\s*)$", text[:cue.start]):
        return False  # part of a name: "Cochrane Database of Systematic Reviews", "BMJ Case Reports"
    cell_start, cell_end = text.rfind("|", 0, cue.start), text.find("|", cue.end)
    if cell_start >= 0 and cell_end >= 0 and cell_end - cell_start <= 32:
        return False  # a short table cell ("| Observational |") is a column value, read by the table checks
    before = _clause_before(text, cue.start)
    after = text[cue.end:cue.end + 80]
    if _HEDGE_BEFORE.search(before) or _HEDGE_AFTER.match(after):
        return False
    if _CONSTITUENT.search(before) or _PROPORTION.search(before):
        return False
    if cue.feature in {HUMAN, CHILDREN, HEALTHY} and _SAFETY_CONTEXT.search(before):
        return False
    if cue.feature in {HUMAN, CHILDREN, HEALTHY, ANIMAL, IN_VITRO} and _UNTESTED.search(before):
        return False  # "not yet replicated in patients": a population the evidence lacks
    return True


# --- what the cited records say ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    key: str
    supports: frozenset[str]
    contradicts: frozenset[str]
    description: str
    secondary: bool = False  # a review, meta-analysis or guideline: reports other studies' populations


_TRIAL_FREE = {ANIMAL, IN_VITRO, PRECLINICAL, META, SR, CASE_REPORT, CASE_SERIES}
_BLINDING = {PLACEBO, DOUBLE_BLIND, SINGLE_BLIND}
_ARTICLE_PROFILES: dict[StudyType, tuple[set[str], set[str]]] = {
    StudyType.RCT: ({RANDOMISED, HUMAN}, {NON_RANDOMISED, META, SR, COHORT, CASE_REPORT, CASE_SERIES, ANIMAL, IN_VITRO,
                                          PRECLINICAL}),
    StudyType.CLINICAL_TRIAL: ({HUMAN}, {META, SR, COHORT, CASE_REPORT, CASE_SERIES, ANIMAL, IN_VITRO, PRECLINICAL}),
    StudyType.META_ANALYSIS: ({META}, {CASE_REPORT, CASE_SERIES}),
    StudyType.SYSTEMATIC_REVIEW: ({SR}, {CASE_REPORT, CASE_SERIES}),
    StudyType.OBSERVATIONAL: ({COHORT, HUMAN}, {RANDOMISED, META, SR, CASE_REPORT, CASE_SERIES, ANIMAL, IN_VITRO,
                                                PRECLINICAL} | _BLINDING),
    StudyType.CASE_SERIES: ({CASE_SERIES, HUMAN},
                             {RANDOMISED, META, SR, COHORT, ANIMAL, IN_VITRO, PRECLINICAL} | _BLINDING),
    StudyType.CASE_REPORT: ({CASE_REPORT, HUMAN},
                             {RANDOMISED, META, SR, COHORT, ANIMAL, IN_VITRO, PRECLINICAL} | _BLINDING),
    StudyType.REVIEW: (set(), {RANDOMISED, NON_RANDOMISED, OPEN_LABEL, META, SR, COHORT, CASE_REPORT, CASE_SERIES}
                       | _BLINDING),
    StudyType.PRECLINICAL: ({PRECLINICAL}, {HUMAN, HEALTHY, CHILDREN, META, SR, COHORT, CASE_REPORT, CASE_SERIES}),
}


def _text_features(text: str) -> set[str]:
    """Design features a record's own words state (title, abstract, summary, publication types)."""
    if not text or not _gate(text, population=True):
        return set()
    features = {cue.feature for cue in _find_cues(text)}
    if re.search(r"\bplacebo\b", text, re.IGNORECASE):
        features.add(PLACEBO)  # "comparison of hydroxychloroquine with placebo": a record names its comparator
    if re.search(r"\bclinical\b|\bpatients?\b|\bhuman\b|\bpilot\b", text, re.IGNORECASE):
        features.add(HUMAN)
    return features


def _article_record(article: Article) -> _Record:
    study_type = article.study_type or StudyType.UNKNOWN
    supports, contradicts = (set(s) for s in _ARTICLE_PROFILES.get(study_type, (set(), set())))
    types_text = " ".join(article.publication_types)
    supports |= _text_features(" ".join(filter(None, [types_text, article.title, article.abstract])))
    if re.search(r"systematic|cochrane", types_text, re.IGNORECASE):
        supports.add(SR)  # "Systematic Case Review", "Cochrane Review"
    if study_type is StudyType.PRECLINICAL and re.search(r"animal|rats?\b|mice|mouse|rodent|murine", types_text + " "
                                                          + (article.title or ""), re.IGNORECASE):
        supports.add(ANIMAL)
    described = study_type.label.lower()
    if article.publication_types:
        described += f" (publication type: {', '.join(article.publication_types)})"
    secondary = study_type in {StudyType.REVIEW, StudyType.SYSTEMATIC_REVIEW, StudyType.META_ANALYSIS,
                               StudyType.GUIDELINE}
    return _Record(article.key, frozenset(supports), frozenset(contradicts - supports), described, secondary)


def _trial_record(trial: Trial) -> _Record:
    supports, contradicts = {HUMAN}, set(_TRIAL_FREE)
    if trial.study_type is StudyKind.INTERVENTIONAL:
        contradicts.add(COHORT)
    elif trial.study_type is StudyKind.OBSERVATIONAL:
        supports.add(COHORT)
        contradicts |= {RANDOMISED, OPEN_LABEL} | _BLINDING
    design = trial.design
    parts = [trial.study_type.value.replace("_", " ")]
    if design is not None:
        allocation = (design.allocation or "").lower()
        if design.randomised is True or ("randomi" in allocation and "non" not in allocation):
            supports.add(RANDOMISED)
            contradicts.add(NON_RANDOMISED)
        elif design.randomised is False or "non" in allocation or "single" in allocation:
            supports.add(NON_RANDOMISED)
            contradicts.add(RANDOMISED)
        masking = (design.masking or "").lower()
        if masking.startswith("none") or "open" in masking:
            supports.add(OPEN_LABEL)
            contradicts |= {DOUBLE_BLIND, SINGLE_BLIND}
        elif masking.startswith("single"):
            supports.add(SINGLE_BLIND)
            contradicts |= {DOUBLE_BLIND, OPEN_LABEL}
        elif re.match(r"(?:double|triple|quadruple)", masking):
            supports.add(DOUBLE_BLIND)
            contradicts.add(OPEN_LABEL)
        if design.allocation:
            parts.append(f"allocation: {design.allocation}")
        if design.masking:
            parts.append(f"masking: {design.masking}")
    if len(parts) == 1:
        parts.append("no allocation or masking recorded")
    supports |= _text_features(" ".join(filter(None, [trial.title, trial.summary])))
    return _Record(trial.key, frozenset(supports), frozenset(contradicts - supports), "; ".join(parts))


_RECORDS: dict[tuple[object, ...], _Record] = {}


def _record(item: Article | Trial) -> _Record:
    """The item's design profile, memoised on its content so a verifier pass reads each abstract once."""
    if isinstance(item, Article):
        key: tuple[object, ...] = ("a", item.pmid, item.study_type, tuple(item.publication_types), item.title,
                                   item.abstract)
    else:
        design = item.design
        key = ("t", item.registry_id, item.study_type, item.title, item.summary,
               None if design is None else (design.randomised, design.allocation, design.masking))
    record = _RECORDS.get(key)
    if record is None:
        if len(_RECORDS) > 4096:
            _RECORDS.clear()
        record = _article_record(item) if isinstance(item, Article) else _trial_record(item)
        _RECORDS[key] = record
    return record


# --- attaching a design word to the items it describes -----------------------------------------------


def _mentions(text: str, records: Sequence[tuple[Article | Trial, _Record]]) -> list[tuple[int, int, int]]:
    """(start, end, record index) of each cited item's identifier written in the sentence."""
    found: list[tuple[int, int, int]] = []
    for index, (item, _) in enumerate(records):
        ident = item.pmid if isinstance(item, Article) else item.registry_id
        if ident.isdigit():
            pattern = rf"(?<!\d){re.escape(ident)}(?!\d)"
        else:
            pattern = rf"(?<![A-Za-z0-9]){re.escape(ident)}(?![0-9])"
        found.extend((m.start(), m.end(), index) for m in re.finditer(pattern, text, re.IGNORECASE))
    return sorted(found)


_GAP = re.compile(r"^[\s,;:()\[\]/&#-]*(?:(?:and|or|PMIDs?|PubMed|refs?\.?)[\s,;:()\[\]/&#-]*)*$", re.IGNORECASE)


# Between a design word and an id, a new list item or clause means the id is not the word's study:
# "preclinical studies, and a randomised trial (NCT...)", "a Phase 2 trial (NCT...), multiple preclinical studies".
_SEPARATE = re.compile(r";|\b(?:and|or|while|whereas|but|plus|alongside|with)\s+(?:a|an|the|one|two|three|four|several"
                       r"|multiple|many|other|some|further|additional|various|numerous|recent|newer|later|subsequent"
                       r"|earlier|older|larger|more|\d+)\b|,\s+(?:and\s+)?(?:multiple|several|many|numerous|other"
                       r"|further"
                       r"|additional|various|some|two|three|four|\d+)\b|,\s+(?:while|whereas|but)\b"
                       r"|\b(?:multiple|several|numerous|many|various)\s+(?:\w+\s+){0,2}?(?:studies|trials|reviews"
                       r"|analyses"
                       r"|reports|publications|papers|cohorts)\b|\bper\b|\b(?:based on|building on|informed by)\b",
                       re.IGNORECASE)


def _attached(cue: _Cue, text: str, mentions: list[tuple[int, int, int]], count: int) -> set[int]:
    """Indices of the cited items a design word describes: the nearest group of written ids after it, else before.

    With no id written in the sentence, every cited item; with ids that belong to another clause or
    list item, none (the word then describes uncited studies and is not checked here).
    """
    if not mentions:
        return set(range(count))
    after = [m for m in mentions if m[0] >= cue.end]
    if after and not _SEPARATE.search(text[cue.end:after[0][0]]):
        group = [after[0]]
        for mention in after[1:]:
            if not _GAP.match(text[group[-1][1]:mention[0]]):
                break
            group.append(mention)
        return {m[2] for m in group}
    before = [m for m in mentions if m[1] <= cue.start]
    if not before or _SEPARATE.search(text[before[-1][1]:cue.end]):
        return set()
    group = [before[-1]]
    for mention in reversed(before[:-1]):
        if not _GAP.match(text[mention[1]:group[-1][0]]):
            break
        group.append(mention)
    return {m[2] for m in group}


# --- entry point -------------------------------------------------------------------------------------


def design_problems(text: str, cited: Sequence[Article | Trial]) -> list[Problem]:
    """Problems with the study-design and population words of one sentence, given the items it cites.

    A sentence that cites no article or trial makes no checkable design claim here (whether it
    should cite one is the caller's rule), so it yields no problem.
    """
    if not cited:
        return []
    folded = fold(text)
    preclinical = any(isinstance(item, Article) and item.study_type is StudyType.PRECLINICAL for item in cited)
    if not _gate(folded, population=preclinical):
        return []
    cues = [cue for cue in _find_cues(folded) if _is_claim(folded, cue)]
    if not cues:
        return []
    records = [(item, _record(item)) for item in cited]
    mentions = _mentions(folded, records)
    problems: list[Problem] = []
    for cue in cues:
        attached = [records[i][1] for i in sorted(_attached(cue, folded, mentions, len(records)))]
        if not attached:
            continue
        if cue.feature in _SCOPE and any(r.secondary for r in attached):
            continue  # a review's scope (species, ages) is not recorded; only a primary study's can be wrong
        accepted = _IMPLIED_BY.get(cue.feature, {cue.feature})
        if any(record.supports & accepted for record in attached):
            continue
        word = text[cue.start:cue.end]
        if all(cue.feature in record.contradicts for record in attached):
            described = "; ".join(f"{r.key} as {r.description}" for r in attached)
            problems.append(Problem("DESIGN_MISMATCH",
                                    f"'{word}' does not fit the cited record: the pack records {described}.",
                                    cue.start, cue.end))
        elif cue.feature not in _LENIENT:
            described = "; ".join(f"{r.key}: {r.description}" for r in attached)
            claimed = f"'{word}'" if word.lower() == cue.feature else f"'{word}' ({cue.feature})"
            problems.append(Problem("DESIGN_UNSUPPORTED",
                                    f"{claimed} is not stated by the cited record ({described}); "
                                    f"describe the study only as its record does.", cue.start, cue.end))
    return problems


__all__ = ["CODES", "design_problems"]
