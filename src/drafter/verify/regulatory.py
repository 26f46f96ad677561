"""Regulatory and market claims in one sentence, checked against the pack's jurisdiction block.

A report that tells a pharmacist a medicine is "MHRA-authorised for spasticity" or "withdrawn from
the US market" is making a factual claim as strong as a trial phase, so it must rest on the pack:
``jurisdiction`` (country, regulator, market status, licence count, licences and their indication
text) and the drug's ``original_indications`` and ``brand_names``. The module is pure: it reads one
sentence and the pack and returns :class:`~drafter.verify.problems.Problem` values whose offsets
point into the sentence as given.

What counts as a claim is decided conservatively, because a false alarm on "regulatory approval
would be needed" teaches reviewers to ignore the verifier:

* hedged, future or requested regulatory acts ("would need a licence variation", "seek approval",
  "confirm current UK product licences") are not claims;
* approvals of something other than the medicine ("the trial was approved by an ethics committee",
  "the FDA-approved dose") are not claims about its market;
* a negative claim for a condition ("not licensed for ADHD", "used off-label in ADHD") is true on the
  pack's own data when no licence indication or listed indication covers that condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from drafter.extract import fold
from drafter.pack.models import EvidencePack, Jurisdiction, MarketStatus
from drafter.verify.problems import Problem

#: code -> (severity, one-line description), for the verifier's code table and the README.
CODES: dict[str, tuple[str, str]] = {
    "REGULATORY_NO_DATA": (
        "error", "A licensing or market claim, but the pack holds no licence or market data for its jurisdiction."),
    "REGULATORY_UNSUPPORTED": (
        "error", "A licensing, market, licence-count or brand claim that the pack's jurisdiction data do not cover."),
    "REGULATORY_MISMATCH": (
        "error", "A licensing, market or licence-count claim that contradicts the pack's jurisdiction data."),
    "REGULATORY_JURISDICTION": (
        "error", "A licensing or market claim about a regulator or country other than the pack's."),
}

# --- jurisdictions: regulators and country names -----------------------------------------------------

# Longest names first so that "Thai FDA" is not read as "FDA".
_REGULATORS: tuple[tuple[str, str], ...] = (
    (r"Medicines and Healthcare products Regulatory Agency", "GB"),
    (r"Commission on Human Medicines", "GB"),
    (r"Food and Drug Administration", "US"),
    (r"European Medicines Agency", "EU"),
    (r"European Commission", "EU"),
    (r"Therapeutic Goods Administration", "AU"),
    (r"Pharmaceuticals and Medical Devices Agency", "JP"),
    (r"Thai FDA", "TH"),
    (r"Taiwan(?:ese)? FDA", "TW"),
    (r"Health Canada", "CA"),
    (r"U\.?S\.? FDA", "US"),
    (r"TFDA", "TW"), (r"MHRA", "GB"), (r"FDA", "US"), (r"EMA", "EU"), (r"CHMP", "EU"), (r"TGA", "AU"),
    (r"PMDA", "JP"), (r"MHLW", "JP"), (r"Medsafe", "NZ"), (r"MFDS", "KR"), (r"NMPA", "CN"), (r"HSA", "SG"),
    (r"CDSCO", "IN"), (r"BfArM", "DE"), (r"ANSM", "FR"), (r"Swissmedic", "CH"), (r"ANVISA", "BR"), (r"HPRA", "IE"),
)
_COUNTRIES: tuple[tuple[str, str], ...] = (
    (r"United Kingdom|Great Britain|Britain|British|England|Scotland|Wales|Northern Ireland|U\.K\.|UK", "GB"),
    (r"United States(?: of America)?|U\.S\.A?\.|USA|US|America", "US"),
    (r"European Union|Europe|EU", "EU"),
    (r"Japan", "JP"), (r"Canada", "CA"), (r"Australia", "AU"), (r"Taiwan", "TW"), (r"Thailand", "TH"),
    (r"New Zealand", "NZ"), (r"South Korea|Korea", "KR"), (r"China", "CN"), (r"Singapore", "SG"), (r"India", "IN"),
    (r"Germany", "DE"), (r"France", "FR"), (r"Switzerland", "CH"), (r"Brazil", "BR"), (r"Ireland", "IE"),
)
_PLACE_NAMES = "|".join(p for p, _ in _COUNTRIES)
_COUNTRY_NAMES = {"GB": "the UK", "US": "the United States", "EU": "the European Union"}

# Case-sensitive: "US" the country, never "us" the pronoun.
_PLACE = re.compile(
    "|".join(rf"(?<![A-Za-z])(?P<r{i}>{p})(?![A-Za-z])" for i, (p, _) in enumerate(_REGULATORS))
    + "|" + "|".join(rf"(?<![A-Za-z])(?P<c{i}>{p})(?![A-Za-z])" for i, (p, _) in enumerate(_COUNTRIES))
)


def _places(text: str) -> list[tuple[str, str, bool]]:
    """(written name, country code, is a regulator) for each regulator or country named in text."""
    found = []
    for match in _PLACE.finditer(text):
        group = match.lastgroup or ""
        table = _REGULATORS if group.startswith("r") else _COUNTRIES
        found.append((match.group(), table[int(group[1:])][1], group.startswith("r")))
    return found


def _same_jurisdiction(code: str, written: str, jurisdiction: Jurisdiction) -> bool:
    if code == jurisdiction.country:
        return True
    return bool(jurisdiction.regulator) and written.lower() == (jurisdiction.regulator or "").lower()


def _jurisdiction_name(jurisdiction: Jurisdiction) -> str:
    country = _COUNTRY_NAMES.get(jurisdiction.country, jurisdiction.country)
    return f"{country} ({jurisdiction.regulator})" if jurisdiction.regulator else country


# --- the gate and the claim patterns -----------------------------------------------------------------

# The cheap gate: lower-cased substrings, about a microsecond for a sentence with none of them.
_GATE_WORDS = ("licen", "authori", "approv", "market", "availab", "withdr", "label", "indicat", "\u00ae", "\u2122",
               "brand", "trade", "sold ", "generic", "remov", "discontinu", "orphan")


def _gate(text: str) -> bool:
    low = text.lower()
    for word in _GATE_WORDS:
        if word in low:
            return True
    return False


_NUMBER_WORDS = {"zero": 0, "no": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_SEVERAL = {"several", "multiple", "numerous", "many", "various"}

_COUNT = re.compile(
    r"(?<![\w.])(?P<n>\d+|zero|no|one|a single|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several"
    r"|multiple|numerous|many|various)\s+(?:[A-Za-z.]+\s+){0,2}?"
    r"(?P<noun>(?:product\s+|marketing\s+|drug\s+)?licen[cs]es|(?:marketing\s+)?authori[sz]ations"
    r"|(?:licen[cs]ed|authori[sz]ed|approved)\s+(?:[A-Za-z]+\s+)?(?:products|preparations|formulations|medicines)"
    r"|(?:products|preparations|formulations)\s+(?:are|were|is)\s+(?:currently\s+)?(?:licen[cs]ed|authori[sz]ed"
    r"|approved))\b",
    re.IGNORECASE,
)

_CLAIM = re.compile(
    r"(?P<neg_licence>\bun(?:licen[cs]ed|authori[sz]ed|approved)\b)"
    r"|(?P<offlabel>\boff[- ]label\b|\boutside (?:of )?(?:its|the) (?:licen[cs]e|marketing authori[sz]ation|label)\b)"
    r"|(?P<licence>\b(?:licen[cs]ed|licen[cs]es?|licensing|authori[sz]ed|authori[sz]ations?|approved|approvals?"
    r"|orphan (?:drug |medicinal product )?(?:designation|status))\b)"
    r"|(?P<indicated>\bindicated (?:for|to treat|in the (?:treatment|management|prophylaxis|prevention) of)\b"
    # 'carries an indication for X in its SmPC', 'is labelled for X': the licence's indication text
    r"|\b(?:carries|carry|has|have|holds?) an? (?:licen[cs]ed |approved |authori[sz]ed )?indication (?:for|in)\b"
    r"|\blabell?ed (?:for|to treat)\b)"
    r"|(?P<withdrawn>\b(?:withdrawn|removed|discontinued) from (?:the )?(?:\w+ )?(?:market|sale)\b"
    r"|\b(?:withdrawn|discontinued) in (?:the )?(?:" + _PLACE_NAMES + r")\b"
    r"|\bmarket withdrawal\b|\bno longer (?:marketed|available|sold)\b)"
    r"|(?P<market>\bmarketed\b|\bgeneric (?:versions?|preparations?|formulations?|products?|forms?|medicines?"
    r"|equivalents?)\b|\b(?:widely|readily) available\b(?=[^.;]{0,60}\b(?:UK|U\.K\.|US|USA|EU|Europe|generic\w*"
    r"|prescription|pharmac\w*|market\w*|worldwide|countries|inexpensive|cheap|low[- ]cost)\b)"
    r"|\bon the (?:\w+ )?market\b|\b(?:commercially|generically) available\b"
    r"|\bavailab(?:le|ility) (?:(?:widely|generically"
    r"|commercially) )?(?:in (?:the )?(?:" + _PLACE_NAMES + r")\b|on (?:the )?(?:NHS|prescription)"
    r"|over the counter|as (?:a )?generic|as (?-i:[A-Z])))"
    r"|(?P<brand>\b(?:brand(?:ed)?(?: names?)?|trade ?names?|proprietary names?|marketed as|sold as"
    r"|sold under(?: the (?:brand|trade) names?)?)\b)"
    r"|(?P<mark>[®™])",
    re.IGNORECASE,
)

# A regulatory act that is wanted, planned or asked about is not a claim that it happened.
_HEDGE_BEFORE = re.compile(
    r"\b(?:would|could|might|may|will|shall|should|must|need(?:s|ed)?|require[sd]?|requiring|seek(?:s|ing)?|sought"
    r"|apply(?:ing)?|applied|application|pursu\w*|obtain\w*|gain(?:s|ing)?|secur\w*|support(?:s|ing)?|toward(?:s)?"
    r"|before|prior to|pending|await\w*|if|whether|unless|until|new|future|potential|possible|eventual|pathway to"
    r"|route to|than|confirm\w*|verif\w*|check\w*|consult\w*|query|queried|search\w*|ask\w*|request\w*|expect\w*"
    r"|hope\w*|plan(?:s|ned|ning)?|intend\w*|aim\w*|towards|regardless|lead to|led to|enable|allow|justify|warrant\w*"
    r"|reach|achieve|wider|broader|additional|further|extended|extension of|expanded|formal|without|in accordance with"
    r"|in line with|subject to|consistent with|submit\w*|submission|fil(?:ed|ing) for|dialogue)\b[^.;]*$",
    re.IGNORECASE,
)
_HEDGE_AFTER = re.compile(
    r"^[\s\-]*(?:\w+[\s\-]+){0,4}?(?:(?:would|will|could|might|may|must|should|shall)\s+(?:still\s+)?(?:be|need"
    r"|require)"
    r"|(?:is|are|be)\s+(?:needed|required|necessary|sought|pending|warranted|expected|unlikely|likely)"
    r"|application|applications|submission|submissions|variation|variations|extension|pathway|route|process"
    r"|procedure|strategy|requirements?|dossier|package|decision|review|timeline|path|status (?:must|should|needs?)"
    r"|database|register|registers|records?|data|details|information|position|landscape|numbers?|status"
    r"|situation|picture|queries|query|search|searches|lookup|check|checks|verification|gap|gaps)\b",
    re.IGNORECASE,
)
# A request for data ("Confirm current UK product licences", "Prescribers should consult the MHRA
# register for approved indications") asserts nothing, wherever in the sentence its claim words are.
_REQUEST = re.compile(
    r"^[\s>*#|\-\d.]*(?:\*\*[^*]{1,60}\*\*\s*:?\s*)?(?:[\w ,/-]{1,40}:\s*)?(?:\*\*)?(?:please\s+)?"
    r"(?:confirm|verify|check|consult|obtain|review|retrieve|query|request|resolve|update|ensure|seek|contact|refer|see"
    r"|engage|establish|clarify|determine|investigate|correct|remediate|re-?run|cross-?check|validate|source)"
    r"\s+(?-i:[a-z(])"
    r"|\b(?:should|must|please|recommend\w*|advised to|need to|needs to)\s+(?:\w+\s+)?(?:consult|confirm|verify"
    r"|check|refer|review|obtain|retrieve|cross-?check|validate)\b",
    re.IGNORECASE,
)
# A sentence about what the pack holds ("no MHRA licences were retrieved in this dataset").
_PACK_META = re.compile(
    r"\b(?:this|the|current|our|its)\s+(?:evidence\s+pack|pack|dataset|data\s?set|system|pipeline|database"
    r"|data(?:\s+source)?|records?|query|search|retrieval)\b|\b(?:retrieved|returned|recorded|captured|on record"
    r"|identified|listed)\b|\bdata gaps?\b",
    re.IGNORECASE,
)
# Approvals of something other than the medicine.
_OTHER_SUBJECT_BEFORE = re.compile(
    r"\b(?:trials?|study|studies|protocols?|investigations?|research|consent|ethics|IRB|committees?|sponsors?"
    r"|funding|grants?|budgets?|amendments?|sites?|centres?|centers?|devices?|tests?|assays?|diagnostics?"
    r"|NCT\d+|EUCTR[\w-]*|ISRCTN\d+|ACTRN\d+|ChiCTR[\w-]*|CTRI[\w/-]*|DRKS\d+|JPRN[\w-]*|PMID)\b[^.;]*$",
    re.IGNORECASE,
)
_OTHER_OBJECT_AFTER = re.compile(
    r"^[\s\-]*(?:by\s+(?:the\s+|an?\s+|its\s+|each\s+|local\s+|all\s+)*(?:\w+\s+){0,2}?"
    r"(?:ethics|IRB|REC|HRA|review boards?|committees?|DSMB|data (?:safety )?monitoring|sponsors?|investigators?"
    r"|universit\w*|hospitals?|institution\w*)"
    r"|(?:\w+[\s\-]+)?(?:doses?|dosing|dosages?|regimens?|strengths?|labels?|labell?ing|prescribing information"
    r"|product information|SmPCs?|summar(?:y|ies) of product characteristics|leaflets?|formulations?|routes?"
    r"|maximum|max|range|protocols?|trials?|studies|study|devices?|tests?|assays?|comparators?|endpoints?"
    r"|outcomes?|biomarkers?|surrogate|warnings?|contraindications?|posology|populations?|guidance|wording|texts?))\b",
    re.IGNORECASE,
)
_NEGATION_BEFORE = re.compile(
    r"\b(?:not|never|no|nor|neither|lacks?|lacking|without)\s+(?:(?:been|yet|currently|formally|ever|officially|an?|any"
    r"|UK|US|EU|marketing|product|specific|current|valid|longer)\s+){0,3}$|\bno longer\s+$",
    re.IGNORECASE,
)

# "for <condition>", possibly after a place or a regulator ("licensed in the UK for spasticity").
_CONDITION = re.compile(
    r"^(?:\s*(?:,\s*)?(?:in (?:the )?[A-Z][\w.]*(?: [A-Z]\w*)?|by (?:the )?[A-Z][\w.]*(?: [A-Z]\w*)?|(?:only|solely"
    r"|specifically|mainly|primarily|there|here|as a medicine|as a treatment|as therapy|as an? \w+|indications?"
    r"|use|treatment))){0,3}\s*(?:,\s*)?(?:(?:for|to treat|in the (?:treatment|management|prophylaxis|prevention) of"
    r"|as a treatment for|as treatment for|in)\s+)(?P<cond>[^,;.()\[\]:]+)",
)
_CONDITION_STOP = re.compile(
    r"\s(?:(?:for|over) (?:decades|years|many|more|several|the past|\d)|in \d{4}|since|until|but|which|where"
    r"|because|although|though|while|whereas|with (?:a|an|the|its|no)|by|under|as"
    r"|in (?:the )?(?:UK|US|EU|USA|United|Europe|Great Britain|Britain|England)|is|are|was|were|has|have|had"
    r"|(?:in|on|according to) (?:its|the) (?:UK |US |EU )?(?:SmPC|SPC|label|labelling|labeling|product information"
    r"|prescribing information|summary of product characteristics|package insert|leaflet)"
    r"|and (?:is|has"
    r"|was|are|have)|so|yet|that|who|through|via|from|at|on|than|rather|although)\b.*$",
)

# Words that carry no condition: a claim "licensed for use in adults" names no indication.
_GENERIC = frozenset("""
a an the of for in on to and or with by as its their this that these those use used using treatment treat treating
management manage prophylaxis prevention preventing prevent reduction reduce reducing risk therapy therapeutic
relief relieve symptom symptoms symptomatic patient patients people adult adults child children adolescent
adolescents aged age year years older over under disease diseases disorder disorders condition conditions
indication indications indicated associated due caused related severe moderate mild chronic acute oral
intrathecal intravenous injection infusion tablet tablets capsule capsules solution administration adjunct adjunctive
first line second established multiple factor factors origin e g eg including include such other certain
various medicine
medicines drug drugs product products uk us eu britain england market clinical long term short only also both either
its it which who whom
""".split())
_ABBREVIATIONS = {
    "adhd": "attention deficit hyperactivity disorder", "fmf": "familial mediterranean fever",
    "ra": "rheumatoid arthritis", "sle": "systemic lupus erythematosus", "mi": "myocardial infarction",
    "ms": "multiple sclerosis", "sci": "spinal cord injury", "oa": "osteoarthritis",
    "als": "amyotrophic lateral sclerosis",
    "cad": "coronary artery disease", "cvd": "cardiovascular disease", "aud": "alcohol use disorder",
    "sps": "stiff person syndrome", "copd": "chronic obstructive pulmonary disease",
    "ibd": "inflammatory bowel disease",
    "covid": "covid 19", "cv": "cardiovascular",
}


def _stem(word: str) -> str:
    """One spelling for British/American and singular/plural variants, applied to both sides."""
    word = word.replace("ae", "e").replace("oe", "e").replace("isation", "ization").replace("ise", "ize")
    word = re.sub(r"our$", "or", word)
    word = re.sub(r"tre$", "ter", word)
    for suffix, repl in (("ies", "y"), ("ses", "s"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)] + repl
    return word


def _content_words(text: str) -> set[str]:
    words: list[str] = []
    for raw in re.findall(r"[A-Za-z0-9]+", fold(text).replace("-", " ")):
        low = raw.lower()
        words.extend(_ABBREVIATIONS.get(low, low).split())
    return {_stem(w) for w in words if w not in _GENERIC and not w.isdigit() and len(w) > 1}


def _condition_parts(condition: str) -> list[set[str]]:
    """A condition phrase split at 'and'/'or'/'/' into the content words of each part."""
    parts = re.split(r"\s+(?:and|or|as well as)\s+|/|&", condition)
    return [words for words in (_content_words(p) for p in parts) if words]


def _covered(words: set[str], indications: Iterable[str]) -> bool:
    """Most of a claimed condition's words occur in one pack indication ('muscle spasm' is not 'muscle spasticity')."""
    for indication in indications:
        have = _content_words(indication)
        hits = len(words & have)
        if hits * 2 > len(words):
            return True
    return False


# --- claims ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    kind: str  # licence, market, withdrawn, count, brand
    start: int
    end: int
    negative: bool = False
    condition: str | None = None
    number: int | None = None  # for counts; -1 means "several"
    brands: tuple[str, ...] = ()
    place: tuple[str, str] | None = None  # (written name, country code) of a foreign jurisdiction
    about_pack: bool = False  # the sentence speaks of what the pack or dataset holds


def _clause_before(text: str, start: int) -> str:
    """The words before a claim in its own clause, at most 70 characters."""
    before = text[max(0, start - 70):start]
    opened = before.rfind("(")
    if opened >= 0 and ")" in before[opened:]:
        opened = -1  # a closed parenthesis ("Burosumab (Crysvita) is ...") stays in the clause
    cut = max(before.rfind(";"), opened, before.rfind(":"), before.rfind(" - "), before.rfind("--"))
    for joiner in (" but ", " while ", " whereas ", " although ", " though ", ", and ", ", so "):
        cut = max(cut, before.rfind(joiner))
    return before[cut + 1:] if cut >= 0 else before


def _clause_after(text: str, end: int) -> str:
    after = text[end:end + 90]
    match = re.search(r"[;()]| - |--|\. |,? (?:but|while|whereas|which|so|although|though) "
                      r"|,? and (?=(?:would|will|could|may|might|should|must|is|are|was|were|has|have|had|it|its)\b)",
                      after)
    return after[:match.start()] if match else after


_ELSEWHERE = re.compile(r"\b(?:in (?:some|several|many|other|certain|various) (?:jurisdictions|countries|markets)"
                        r"|elsewhere|abroad|internationally|worldwide|outside the [A-Z]\w*)\b")


def _foreign_place(before: str, after: str, jurisdiction: Jurisdiction) -> tuple[str, str] | None:
    near = before[-30:] + " " + after[:45]
    elsewhere = _ELSEWHERE.search(after)
    if elsewhere:
        return elsewhere.group(), ""
    for written, code, _ in _places(near):
        if not _same_jurisdiction(code, written, jurisdiction):
            return written, code
    return None


def _brands_after(text: str) -> tuple[tuple[str, ...], int]:
    """The brand names a list at the start of text gives, and the list's length in characters."""
    head = re.match(r"^[\s:,]*(?:(?:include|includes|including|such as|like|of|as|is|are|e\.g\.,?)\s+)*"
                    r"(?P<list>[A-Z][\w\-]+(?:\s*[®™])?(?:\s*(?:,|and|or|/)\s*(?:and\s+"
                    r"|or\s+)?[A-Z][\w\-]+(?:\s*[®™])?)*)",
                    text)
    if not head:
        return (), 0
    return tuple(re.findall(r"[A-Z][\w\-]+", head.group("list"))), head.end()


def _find_claims(text: str, jurisdiction: Jurisdiction, drug_names: set[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    taken: list[tuple[int, int]] = []
    for match in _COUNT.finditer(text):
        before = _clause_before(text, match.start())
        after = _clause_after(text, match.end())
        if _HEDGE_BEFORE.search(before) or _HEDGE_AFTER.match(after):
            continue
        word = match.group("n").lower()
        number = int(word) if word.isdigit() else -1 if word in _SEVERAL else _NUMBER_WORDS[word]
        claims.append(_Claim("count", match.start(), match.end(), number=number,
                             place=_foreign_place(before + match.group(), after, jurisdiction)))
        taken.append((match.start(), match.end()))
    for match in _CLAIM.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        claim = _read_claim(text, match, jurisdiction, drug_names)
        if claim is not None:
            claims.append(claim)
            if claim.kind == "market" and not claim.negative:
                claims.extend(_brands_of_market_claim(text, match.end()))
    seen: set[tuple[str, ...]] = set()
    unique = []
    for claim in claims:  # "marketed under the brand names X, Y" is read twice: as market and as brand wording
        if claim.kind == "brand":
            if claim.brands in seen:
                continue
            seen.add(claim.brands)
        unique.append(claim)
    return unique


def _brands_of_market_claim(text: str, end: int) -> list[_Claim]:
    """"marketed in the UK as Plaquenil and Quinoric": the brands are claims too."""
    after = _clause_after(text, end)
    lead = re.match(r"^\s+(?:in (?:the )?[A-Z][\w.]*\s+)?(?:as|under the (?:brand|trade) names?)\s+", after)
    if not lead and not re.search(r"\bas\s*$", text[max(0, end - 3):end]):
        return []
    start = end + (lead.end() if lead else 0)
    brands, length = _brands_after(text[start:end + len(after)])
    return [_Claim("brand", start, start + length, brands=brands)] if brands else []


def _read_claim(text: str, match: re.Match[str], jurisdiction: Jurisdiction, drug_names: set[str]) -> _Claim | None:
    """The claim a regulatory word makes, or None when the word makes none about this medicine."""
    kind = match.lastgroup or ""
    before = _clause_before(text, match.start())
    after = _clause_after(text, match.end())
    if kind in {"brand", "mark"}:
        return _read_brand(text, match, before, after, drug_names)
    if _not_a_claim(kind, before, after, drug_names):
        return None
    negated = bool(_NEGATION_BEFORE.search(_TRAILING_PLACE.sub("", before)))  # "not FDA-approved"
    negated = negated or bool(_REVOKED_AFTER.match(after))  # "its authorisation was revoked"
    negative = kind in {"neg_licence", "offlabel", "withdrawn"} or negated
    claim_kind = "market" if kind in {"market", "withdrawn"} else "licence"
    condition, end = None, match.end()
    if claim_kind == "licence":
        condition, end = _read_condition(kind, match, after, drug_names)
    return _Claim(claim_kind, _claim_start(text, match.start(), before), end, negative=negative, condition=condition,
                  place=_foreign_place(before, after, jurisdiction))


def _read_brand(text: str, match: re.Match[str], before: str, after: str, drug_names: set[str]) -> _Claim | None:
    """Brands tied to the medicine: "Lioresal®" in a sentence naming it, or "brand names include X and Y"."""
    if match.lastgroup == "mark":
        word = re.search(r"([A-Z][\w\-]+)\s*$", text[:match.start()])
        if not word or not any(name in text.lower() for name in drug_names):
            return None
        return _Claim("brand", word.start(1), match.end(), brands=(word.group(1),))
    if _HEDGE_BEFORE.search(before):
        return None
    brands, length = _brands_after(after)
    return _Claim("brand", match.start(), match.end() + length, brands=brands) if brands else None


_OTHER_PRODUCTS_AFTER = re.compile(
    r"^\s+(?:[\w-]+\s+){0,2}?(?:products?|preparations?|versions?|formulations?|medicines?|drugs?|copies|importation"
    r"|imports?|supply|specials|supplements?|indications?)\b")
_PLURAL_AFTER = re.compile(
    r"^\s+(?:(?!(?:in|on|at|by|for|of|to|as|the|this|that|these|a|an|its|their|and|or|is|are|was|were|has|have|been"
    r"|across|within|under|with|since|from)\b)(?-i:[a-z])[\w-]*\s+){0,2}?((?-i:[a-z])[\w-]*[^s\W]s)\b"
    r"(?!\s+(?:for|of|in|to)\b)")
_HEADING_BEFORE = re.compile(r"\b(?:number|count|list|table|details|types?|status|database|register|records?|sources?"
                             r"|lack)\s+of\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)
_OTHER_TREATMENTS_BEFORE = re.compile(r"\b(?:no|any|other|existing|current|alternative|several|few|only)\s+$",
                                      re.IGNORECASE)
_OTHER_MEDICINE_OF = re.compile(r"^\s+of\s+(?:the\s+|low-dose\s+|high-dose\s+)?([A-Za-z][\w-]*)")


def _not_a_claim(kind: str, before: str, after: str, drug_names: set[str]) -> bool:
    """The rules that keep a regulatory word from being read as a claim about this medicine's licence or market.

    Each rule answers one false alarm found in drafted or published reports: hedged and requested
    acts, approvals of trials, doses or documents, other products and medicines, table headings.
    """
    mentions_drug = any(name in before.lower() for name in drug_names)
    rules = (
        _DATA_GAP_AFTER.match(after),  # "marketing authorisations ... were not retrieved": a data gap, not a claim
        _HEDGE_BEFORE.search(before) or _HEDGE_AFTER.match(after),  # "would be needed", "seek approval"
        _OTHER_OBJECT_AFTER.match(after),  # "approved by the ethics committee", "the FDA-approved dose"
        kind == "neg_licence" and _OTHER_PRODUCTS_AFTER.match(after),  # "unapproved colchicine products"
        re.match(r"^\s+(?-i:[A-Z])[\w-]*\s*\|", after),  # a table header: "| Approved Indication |"
        kind == "licence" and _plural_other_products(after),  # "recently approved anti-CGRP antibodies"
        _HEADING_BEFORE.search(before),  # "Number of Marketing Authorisations"
        kind == "licence" and _OTHER_TREATMENTS_BEFORE.search(before)
        and not re.match(r"^\s*(?:for|in|by|as)\b", after),  # "no approved non-stimulant treatment exists"
        kind != "offlabel" and _other_drug_subject(before, drug_names)
        and not (mentions_drug and _COORDINATED_PREDICATE.search(before)),  # "Atomoxetine is approved for ADHD"
        kind in {"market", "withdrawn"}
        and re.search(r"\b(?:unapproved|unlicen[cs]ed|counterfeit|compounded)\b", before, re.IGNORECASE),
        kind in {"licence", "neg_licence", "offlabel"} and _OTHER_SUBJECT_BEFORE.search(before)
        and not mentions_drug,  # "the trial was approved", "NCT01821560 was authorised"
        # "caution is indicated": only the medicine (or "it is") can be indicated for a condition
        kind == "indicated" and not (mentions_drug or re.search(r"\b(?:it|is|are)\s*$", before)),
        kind in {"licence", "neg_licence"} and _other_medicine_of(after, drug_names),  # "the approval of atomoxetine"
    )
    return any(bool(rule) for rule in rules)


# "Colchicine binds tubulin and is FDA-approved for ...": the drug is the subject of both verbs.
_COORDINATED_PREDICATE = re.compile(r"\band\s+(?:(?:it\s+)?(?:is|was|has\s+been|remains|became)\s+)?(?:\w+[- ])?$",
                                    re.IGNORECASE)


_DATA_GAP_AFTER = re.compile(r"^[^.;]{0,60}?\b(?:(?:was|were|is|are|has been|have been)\s+not|could not be)\s+"
                             r"(?:retrieved|captured|returned|found|recorded|available|obtained|located|queried)\b",
                             re.IGNORECASE)


def _plural_other_products(after: str) -> bool:
    plural = _PLURAL_AFTER.match(after)
    return bool(plural) and plural.group(1).lower() not in _OWN_PLURALS


def _other_medicine_of(after: str, drug_names: set[str]) -> bool:
    other = _OTHER_MEDICINE_OF.match(after)
    return bool(other) and other.group(1).lower() not in drug_names


_REVOKED_AFTER = re.compile(r"^[^.;]{0,40}?\b(?:was|were|has been|have been|had been)\s+(?:later\s+|subsequently\s+)?"
                           r"(?:revoked|rescinded|withdrawn|suspended|cancell?ed|lapsed|refused|rejected)\b",
                           re.IGNORECASE)


def _read_condition(kind: str, match: re.Match[str], after: str, drug_names: set[str]) -> tuple[str | None, int]:
    """The condition a licence claim names ("for spasticity") and where the claim's span ends.

    The active voice names the medicine first: "the FDA approved low-dose colchicine (Lodoco) for ...".
    """
    offset = 0
    subject = re.match(r"^\s+(?:(?:low|high)-dose\s+|oral\s+|intrathecal\s+)?([A-Za-z][\w-]*)(?:\s*[®™])?"
                       r"(?:\s*\([^()]{1,40}\))?(?=\s+(?:for|to treat|in)\b)", after)
    if subject and subject.group(1).lower() in drug_names:
        offset = subject.end()
        after = after[offset:]
    found = _CONDITION.match(after)
    if kind == "indicated":
        found = re.match(r"^\s*(?P<cond>[^,;.()\[\]:]+)", after)
    if kind == "offlabel":
        found = re.match(r"^\s*(?:use|prescribing|treatment)?\s*(?:for|in)\s+(?P<cond>[^,;.()]+)", after) or found
    if not found:
        return None, match.end()
    condition = _CONDITION_STOP.sub("", found.group("cond")).strip() or None
    if condition is None or not _condition_parts(condition) or _names_product(condition, drug_names):
        return None, match.end()
    return condition, match.end() + offset + found.start("cond") + len(condition)


_TRAILING_PLACE = re.compile(r"(?:(?:the\s+)?(?:" + "|".join(p for p, _ in _REGULATORS + _COUNTRIES) + r")[\s-]*)+$")
_LEAD_IN = re.compile(
    r"(?:(?:(?:long|well)[\s-]established|existing|current|valid|full|formal)\s+)*"
    r"(?:(?:[A-Z][\w.]*\s+){0,2}?(?:" + "|".join(p for p, _ in _REGULATORS + _COUNTRIES) + r")[\s-]*)?"
    r"(?:(?:not|never|no)\s+(?:(?:been|yet|currently|formally|an?|any)\s+){0,2})?$"
)


_OWN_PLURALS = frozenset({"indications", "uses", "products", "preparations", "formulations", "medicines", "doses",
                          "strengths", "presentations", "generics", "tablets", "capsules", "injections", "forms",
                          "versions"})
_SUBJECT = re.compile(
    r"(?P<word>[A-Za-z][\w-]*)(?:\s*[®™])?(?:\s*\([^()]{1,60}\))?,?\s+(?:is|are|was|were|has been|have been"
    r"|had been|remains|remained|became|been"
    r"|is not|was not|has not been)\s+(?:(?:\w+ly|currently|also|only|already|now|not|formally|widely|first|still"
    r"|an?|the"
    r"|established|long-established|well-established|fully|originally|initially|since)\s+)*$",
    re.IGNORECASE,
)
_SUBJECT_OK = frozenset("""
it this that which drug medicine medication product products agent brand formulation formulations preparation
preparations tablet tablets capsule capsules injection solution sulfate sulphate hydrochloride sodium base form forms
version versions generic generics compound also
""".split())


def _other_drug_subject(before: str, drug_names: set[str]) -> bool:
    """True when the claim's grammatical subject is a single word that names something other than the drug."""
    lead = _LEAD_IN.search(before)
    head = before[:lead.start()] if lead else before
    match = _SUBJECT.search(head)
    if not match:
        return False
    word = match.group("word").lower()
    return word not in drug_names and word not in _SUBJECT_OK


def _names_product(condition: str, drug_names: set[str]) -> bool:
    """'the licence for Colcrys': the phrase after 'for' is a product, not an indication."""
    words = re.findall(r"[A-Za-z][\w-]*", condition)
    filler = {"the", "its", "tablets", "capsules"}
    return bool(words) and all(w.lower() in drug_names or w.lower() in filler for w in words)


def _claim_start(text: str, start: int, before: str) -> int:
    """Start a claim's span at the words that make it one: "long-established MHRA-authorised", "UK licence"."""
    lead = _LEAD_IN.search(before)
    if lead and lead.group().strip():
        return start - (len(before) - lead.start()) + (len(lead.group()) - len(lead.group().lstrip()))
    return start


# --- judging claims against the pack -----------------------------------------------------------------


def _licence_count(jurisdiction: Jurisdiction) -> int | None:
    if jurisdiction.total_licences is not None:
        return jurisdiction.total_licences
    return len(jurisdiction.licences) if jurisdiction.licences else None


def _no_data(jurisdiction: Jurisdiction) -> bool:
    return jurisdiction.market_status is MarketStatus.UNKNOWN and not jurisdiction.licences \
        and not jurisdiction.total_licences


def _indications(pack: EvidencePack) -> list[str]:
    texts = [lic.indication_text for lic in pack.jurisdiction.licences if lic.indication_text]
    return texts + list(pack.drug.original_indications)


def _quote_list(items: list[str], limit: int = 3) -> str:
    shown = "; ".join(f"'{item}'" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _judge(claim: _Claim, text: str, pack: EvidencePack) -> Problem | None:
    jurisdiction = pack.jurisdiction
    drug = pack.drug.inn
    span = text[claim.start:claim.end]
    where = _jurisdiction_name(jurisdiction)
    if claim.place is not None:
        written, code = claim.place
        other = f"'{written}'" if code else f"other jurisdictions ('{written}')"
        return Problem("REGULATORY_JURISDICTION",
                       f"'{span}' concerns {other}, but this pack's regulatory data cover {where} only, so the "
                       f"claim cannot be checked; state only {where} facts from the pack.",
                       claim.start, claim.end)
    if claim.kind == "brand":
        return _judge_brands(claim, pack)
    if claim.kind == "count":
        return _judge_count(claim, span, pack)
    if claim.kind == "licence" and claim.negative and claim.condition:
        parts = _condition_parts(claim.condition)
        if any(_covered(words, _indications(pack)) for words in parts):
            return Problem("REGULATORY_MISMATCH",
                           f"The sentence says {drug} is not licensed for '{claim.condition}', but the pack lists that "
                           f"among its indications ({_quote_list(_indications(pack))}).", claim.start, claim.end)
        return None
    if claim.kind == "licence" and claim.negative and span.lower().startswith(("off", "outside")):
        return None  # off-label use with no condition named: the pack cannot contradict it
    if claim.negative and claim.about_pack and _no_data(jurisdiction):
        return None  # "no MHRA licences were retrieved in this pack": true of a pack without licence data
    if _no_data(jurisdiction):
        return Problem("REGULATORY_NO_DATA", _no_data_message(span, pack), claim.start, claim.end)
    status = jurisdiction.market_status
    if claim.kind == "market":
        if claim.negative:
            if status is MarketStatus.MARKETED:
                return Problem("REGULATORY_MISMATCH",
                               f"'{span}': the pack records {drug} as marketed in {where}.", claim.start, claim.end)
            if status is MarketStatus.NOT_MARKETED and "withdraw" not in span.lower() and "removed" not in span.lower():
                return None
            return Problem("REGULATORY_UNSUPPORTED",
                           f"'{span}': the pack records the market status in {where} as '{status.value}', which does "
                           f"not say the product was withdrawn or discontinued.", claim.start, claim.end)
        if status is MarketStatus.MARKETED:
            return None
        if status is MarketStatus.NOT_MARKETED:
            return Problem("REGULATORY_MISMATCH",
                           f"'{span}': the pack records {drug} as not marketed in {where}.", claim.start, claim.end)
        return Problem("REGULATORY_UNSUPPORTED",
                       f"'{span}': the pack lists licences in {where} but records the market status as unknown, so "
                       f"it does not say the product is on the market.", claim.start, claim.end)
    # a licence, authorisation or approval
    licensed = status is MarketStatus.MARKETED or bool(jurisdiction.licences) or bool(jurisdiction.total_licences)
    if claim.negative:
        if licensed:
            return Problem("REGULATORY_MISMATCH",
                           f"'{span}': the pack records {drug} as {_licensed_basis(jurisdiction)} in {where}.",
                           claim.start, claim.end)
        return None
    if not licensed:
        return Problem("REGULATORY_MISMATCH" if jurisdiction.total_licences == 0 else "REGULATORY_UNSUPPORTED",
                       f"'{span}': the pack records {drug} as not marketed in {where} and lists no licence there.",
                       claim.start, claim.end)
    if claim.condition:
        indications = _indications(pack)
        for words in _condition_parts(claim.condition):
            if not _covered(words, indications):
                listed = f"they are {_quote_list(indications)}" if indications else "the pack lists none"
                return Problem("REGULATORY_UNSUPPORTED",
                               f"The sentence says {drug} is licensed or approved for '{claim.condition}', but no "
                               f"licence indication or listed indication in the pack covers it ({listed}).",
                               claim.start, claim.end)
    return None


def _licensed_basis(jurisdiction: Jurisdiction) -> str:
    if jurisdiction.licences:
        return f"licensed ({len(jurisdiction.licences)} licence record(s))"
    if jurisdiction.total_licences:
        return f"licensed ({jurisdiction.total_licences} licences)"
    return "marketed"


def _no_data_message(span: str, pack: EvidencePack, several: bool = False) -> str:
    jurisdiction = pack.jurisdiction
    recorded = (f"a licence count of {jurisdiction.total_licences}" if jurisdiction.total_licences is not None
                else "no licence count")
    what = f"{span} are regulatory or market claims" if several else f"'{span}' is a regulatory or market claim"
    return (f"{what}, but the pack's jurisdiction record for "
            f"{_jurisdiction_name(jurisdiction)} has market status 'unknown', lists no licences and gives "
            f"{recorded}, so nothing in the pack supports {'them' if several else 'it'}; remove "
            f"{'them' if several else 'it'} or add the licence data to the pack.")


def _judge_count(claim: _Claim, span: str, pack: EvidencePack) -> Problem | None:
    jurisdiction = pack.jurisdiction
    known = _licence_count(jurisdiction)
    where = _jurisdiction_name(jurisdiction)
    if _no_data(jurisdiction) and claim.number == 0 and (claim.about_pack or known == 0):
        return None  # "0 licences recorded in this dataset"
    if _no_data(jurisdiction) and claim.number != 0:
        return Problem("REGULATORY_NO_DATA", _no_data_message(span, pack), claim.start, claim.end)
    if known is None:
        if _no_data(jurisdiction):
            return Problem("REGULATORY_NO_DATA", _no_data_message(span, pack), claim.start, claim.end)
        return Problem("REGULATORY_UNSUPPORTED",
                       f"'{span}': the pack gives no licence count for {where} and lists no licence records.",
                       claim.start, claim.end)
    number = claim.number if claim.number is not None else 0
    if (number == -1 and known >= 2) or number == known:
        return None
    return Problem("REGULATORY_MISMATCH", f"'{span}': the pack records {known} licence(s) in {where}.",
                   claim.start, claim.end)


def _judge_brands(claim: _Claim, pack: EvidencePack) -> Problem | None:
    known = {name.lower() for name in pack.drug.brand_names}
    known |= {name.lower() for name in pack.drug.synonyms} | {pack.drug.inn.lower()}
    for licence in pack.jurisdiction.licences:
        if licence.product:
            known |= {word.lower() for word in re.findall(r"[A-Za-z][\w\-]+", licence.product)}
    unknown = [brand for brand in claim.brands if brand.lower() not in known]
    if not unknown:
        return None
    drug = pack.drug.inn
    if not pack.drug.brand_names and not pack.jurisdiction.licences:
        message = (f"Brand name {', '.join(unknown)} is tied to {drug} here, but the pack lists no brand names or "
                   f"licensed products for it, so the brand cannot be checked.")
        code = "REGULATORY_NO_DATA" if _no_data(pack.jurisdiction) else "REGULATORY_UNSUPPORTED"
    else:
        message = (f"Brand name {', '.join(unknown)} is not among the pack's brand names or licensed products for "
                   f"{drug} ({', '.join(pack.drug.brand_names) or 'none listed'}).")
        code = "REGULATORY_UNSUPPORTED"
    return Problem(code, message, claim.start, claim.end)


# --- entry point -------------------------------------------------------------------------------------


def regulatory_problems(text: str, pack: EvidencePack) -> list[Problem]:
    """Problems with the regulatory and market claims in one sentence (offsets into ``text``).

    With no jurisdiction data at all, the claims of one sentence are reported as one
    ``REGULATORY_NO_DATA`` problem spanning them, because the reader's fix is one: the pack lacks
    the data, not each claim separately.
    """
    folded = fold(text)
    if not _gate(folded):
        return []
    drug_names = {pack.drug.inn.lower(), *(s.lower() for s in pack.drug.synonyms),
                  *(b.lower() for b in pack.drug.brand_names)}
    for licence in pack.jurisdiction.licences:
        if licence.product:
            drug_names.add(licence.product.split()[0].lower())
    about_pack = bool(_PACK_META.search(folded))
    claims = sorted((replace(c, about_pack=about_pack) for c in _find_claims(folded, pack.jurisdiction, drug_names)
                     if not _REQUEST.search(folded[:c.start])), key=lambda c: c.start)
    problems = [p for p in (_judge(c, folded, pack) for c in claims) if p is not None]
    no_data = [p for p in problems if p.code == "REGULATORY_NO_DATA"]
    if len(no_data) > 1:
        spans = ", ".join(f"'{folded[p.start:p.end]}'" for p in no_data)
        merged = Problem("REGULATORY_NO_DATA", _no_data_message(spans, pack, several=True), no_data[0].start,
                         max(p.end for p in no_data))
        problems = [merged] + [p for p in problems if p.code != "REGULATORY_NO_DATA"]
    return problems


__all__ = ["CODES", "regulatory_problems"]
