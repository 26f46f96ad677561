"""Identifiers: every PMID and registry id written anywhere is in the pack, in scope, and cited.

Deny by default: besides the ids the extractor recognises in their usual spellings, any token that
is *shaped* like an identifier is read as one (a registry prefix or ``PMID``/``PubMed`` followed by
digits through any punctuation, a PubMed or registry URL, a bracketed number, a bare run of six or
more digits). Such a token either resolves to a canonical id, which is then checked like any other,
or is an error: an id the verifier cannot read is an id nobody checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from drafter.casefold import compile_lowered, lower_same_length
from drafter.extract import IdMention, find_ids
from drafter.identifiers import IdentifierError, normalise_trial_id
from drafter.verify.context import Citing, Findings, Where
from drafter.verify.index import PackIndex

_REGISTRY_PREFIXES = (r"NCT|ISRCTN|EUCTR|EudraCT|CTIS|ChiCTR|CTRI|jRCT[sdb]?|JPRN|UMIN|JapicCTI|ACTRN|ANZCTR|DRKS|NTR|"
                      r"KCT|IRCT|PACTR|RBR|TCTR|SLCTR|LBCTR|RPCEC|NL-OMON")
_REGISTRY_PREFIX_LIST = tuple(p.replace("[sdb]?", "") for p in _REGISTRY_PREFIXES.split("|"))
# The shared look-behind is tested once per position, not once per shape: inside a word (most
# positions) the scan fails at once. A URL is tried first, as before; a bracketed number and a bare
# run of digits cannot start at the same character, so their order does not matter.
_ID_SHAPED = compile_lowered(  # matched in lower-cased text (casefold); tokens are read from the text
    r"(?P<url>(?:https?://|www\.)[^\s<>()\]]+)"
    r"|(?<![A-Za-z0-9])(?:"
    rf"(?P<registry>(?:{_REGISTRY_PREFIXES})(?:[^A-Za-z0-9\s]{{1,3}}|\s?)\d[\dA-Za-z/.\-]*)"
    r"|(?P<spaced>N[^A-Za-z0-9]{0,2}C[^A-Za-z0-9]{0,2}T[^A-Za-z0-9]{0,3}\d+)"
    r"|(?P<pubmed>(?:PMIDs?|P[^A-Za-z0-9]{1,2}M[^A-Za-z0-9]{0,2}I[^A-Za-z0-9]{0,2}D|PubMed(?:[^A-Za-z0-9]{0,2}IDs?)?)"
    r"(?:[^A-Za-z0-9]{0,4})(?P<pmdigits>\d+))"
    r"|(?P<pmc>PMC(?:ID)?[^A-Za-z0-9]{0,3}\d+)"
    r"|(?P<doi>(?:doi\s*:?\s*)?10\.\d{4,9}/[^\s\]),;]+)"
    r"|(?P<prefixed>[A-Z]{2,6}[^A-Za-z0-9\s]?\d{6,}(?![\d]))"
    r"|(?P<bare>(?<!\w)(?<!\d[.,])\d{6,}(?![\w%]|[.,]\d))"
    r")"
    r"|(?P<bracket>\[\s*(?P<brdigits>\d{1,9})\s*\])",
)
_DIGIT = re.compile(r"\d")
_HEX_RUN = re.compile(r"[0-9a-f]+")


def _is_hex_digest(text: str, start: int) -> bool:
    """A whole lower-case hex word of 12+ characters ('de03815742134eb0', a report's sha256 prefix).

    Registry ids are written in capitals; a digest that happens to start with letters and digits is not
    one, and reading it as one made drafter's own provenance line fail its lint about one time in a hundred.
    """
    run = _HEX_RUN.match(text, start)
    return (run is not None and run.end() - start >= 12
            and (run.end() == len(text) or not text[run.end()].isalnum()))
# A drug's development code, named with its INN: 'GSK548470 (besifovir)', 'LY2189265 (dulaglutide)'.
# The bracketed word must not be one a citation uses ('XYZ99999999 (trial)' is still an id of no registry).
_NAMED_AFTER = re.compile(r"\s*\(\s*(?!(?i:trials?|stud(?:y|ies)|registr\w*|pubmed|pmid|articles?|records?|papers?|"
                          r"reviews?|phase|reference|citation|doi|nct)\b)[A-Za-z][a-z]{3,}(?:\s+[a-z]+)?\s*\)")
# Two to five letters and six or seven digits ('GSK548470', 'LY2189265'): eight digits is the shape of an
# NCT, ISRCTN or DRKS number, whatever letters stand before it ('NXX01821560 (baclofen)' stays an error).
_CODE_SHAPE = re.compile(r"([A-Za-z]{2,5})-?\d{6,7}")


def _development_code(text: str, token: str, end: int) -> bool:
    """A compound code followed by the drug's name in brackets is no citation, unless its letters are
    one edit from a registry's prefix ('NTC1821560 (baclofen)' is still a mistyped NCT id)."""
    shape = _CODE_SHAPE.fullmatch(token)
    return (shape is not None and _NAMED_AFTER.match(text, end) is not None
            and not any(_one_edit(shape.group(1).upper(), p.upper()) for p in _REGISTRY_PREFIX_LIST))


def _one_edit(a: str, b: str) -> bool:
    """``a`` equals ``b`` or differs from it by one substitution, insertion, deletion or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


_URL_PMID = re.compile(r"(?:pubmed|ncbi\.nlm\.nih\.gov)\S*?(?:/|term=|[?&]id=)(\d{1,9})\b", re.IGNORECASE)
_URL_TRIAL = re.compile(rf"(?:{_REGISTRY_PREFIXES})[^A-Za-z0-9\s]{{0,3}}\d[\dA-Za-z/\-]*", re.IGNORECASE)
_EVIDENCE_HOSTS = re.compile(r"pubmed|ncbi\.nlm\.nih\.gov|clinicaltrials\.gov|isrctn|trialsearch\.who\.int|"
                             r"clinicaltrialsregister\.eu|euclinicaltrials|anzctr|chictr|ctri\.nic|drks|jrct|umin|"
                             r"doi\.org|europepmc", re.IGNORECASE)


def _trial_mention(token: str, start: int, end: int, written: str) -> IdMention:
    """A registry-shaped token read as the id it spells, or as malformed."""
    prefix = re.match(rf"(?:{_REGISTRY_PREFIXES})", token, re.IGNORECASE)
    candidates = [token]
    if prefix:
        rest = token[prefix.end():]
        squeezed = re.sub(r"^[^A-Za-z0-9]{1,3}", "", rest)
        candidates += [token[:prefix.end()] + squeezed, token[:prefix.end()] + squeezed.rstrip(".-/")]
    for candidate in candidates:
        try:
            return IdMention("trial", normalise_trial_id(candidate), start, end, written)
        except IdentifierError:
            continue
    return IdMention("malformed", token, start, end, written)


def find_id_mentions(text: str) -> list[IdMention]:
    """Every identifier written in (normalised) ``text``, recognised or merely id-shaped, in order."""
    if not _DIGIT.search(text):
        return []  # every identifier shape, URL ones included, needs a digit
    return list(_id_mentions(text))


@lru_cache(maxsize=8192)
def _id_mentions(text: str) -> tuple[IdMention, ...]:
    known = find_ids(text)
    taken = [(m.start, m.end) for m in known]
    found = list(known)
    for match in _ID_SHAPED.finditer(lower_same_length(text)):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        token = text[start:end]
        if match.group("url"):
            pmid = _URL_PMID.search(token)
            trial = _URL_TRIAL.search(token)
            if pmid:
                found.append(IdMention("pmid", f"PMID:{int(pmid.group(1))}", start, end, token))
            elif trial:
                found.append(_trial_mention(trial.group(0), start, end, token))
            elif _EVIDENCE_HOSTS.search(token):
                found.append(IdMention("malformed", token, start, end, token))
            continue
        if match.group("registry"):
            found.append(_trial_mention(token, start, end, token))
        elif match.group("spaced"):
            found.append(_trial_mention("NCT" + re.sub(r"^\D+", "", token), start, end, token))
        elif match.group("prefixed") and (_is_hex_digest(text, start) or _development_code(text, token, end)):
            continue
        elif match.group("pmc") or match.group("prefixed") or match.group("doi"):
            # A PubMed Central id is not a PMID, a DOI is no key of a pack, and letters glued to six or more
            # digits ('NTC01234567', 'HCT12345678') are an id of no registry the pack can hold.
            found.append(IdMention("malformed", token, start, end, token))
        elif match.group("pubmed"):
            digits = match.group("pmdigits")
            kind = "pmid" if 1 <= len(digits.lstrip("0")) <= 9 else "malformed"
            key = f"PMID:{int(digits)}" if kind == "pmid" else token
            found.append(IdMention(kind, key, start, end, token))  # type: ignore[arg-type]
        elif match.group("bracket"):
            digits = match.group("brdigits")
            if len(digits) >= 6:  # "[12]" is a reference and "[2019]" a year; "[33264577]" is a PMID
                found.append(IdMention("pmid", f"PMID:{int(digits)}", start, end, token))
        elif match.group("bare"):
            if len(token) <= 9:
                found.append(IdMention("pmid", f"PMID:{int(token)}", start, end, token))
            else:
                found.append(IdMention("malformed", token, start, end, token))
        taken.append((start, end))
    found.sort(key=lambda m: (m.start, m.end))
    return tuple(found)


def resolve_aliases(index: PackIndex, mentions: Sequence[IdMention]) -> list[IdMention]:
    """A pack id's other written forms ('EudraCT 2011-004300-38') resolved to the pack's key."""
    aliases = index.aliases
    return [replace(m, key=aliases[m.key]) if m.key in aliases else m for m in mentions]


def ids_in(index: PackIndex, text: str) -> list[IdMention]:
    return resolve_aliases(index, find_id_mentions(text))


def check_ids(findings: Findings, ids: Sequence[IdMention], where: Where, citing: Citing) -> None:
    seen: set[str] = set()
    index = findings.index
    for mention in ids:
        if mention.key in seen:
            continue
        seen.add(mention.key)
        if mention.kind == "malformed":
            findings.add("ID_MALFORMED", where, f"{mention.text!r} is written like an identifier but is not a "
                         "valid PMID or trial registry id, so nothing can support it", mention.text)
            continue
        if citing.background:
            findings.add("BACKGROUND_WITH_ID", where, f"a background statement writes {mention.key}; a statement "
                         "that cites the pack must be marked 'pack' and list the key", mention.text)
            continue
        if not index.in_pack(mention.key):
            findings.add("ID_UNKNOWN", where, f"{mention.key} is not in the evidence pack; nothing supports it",
                         mention.text)
            continue
        check_scope(findings, mention.key, where, mention.text)
        if not citing.lint and mention.key not in citing.keys:
            findings.add("ID_NOT_IN_KEYS", where, f"the text cites {mention.key} but the statement's keys do not "
                         "list it", mention.text)


def check_scope(findings: Findings, key: str, where: Where, span: str) -> None:
    index = findings.index
    ranks = index.ranks_of_key.get(key, set())
    if where.rank is not None and ranks and where.rank not in ranks:
        others = ", ".join(index.indications[r].disease_name for r in sorted(ranks))
        findings.add("ID_OUT_OF_SCOPE", where, f"{key} belongs to the evidence for {others}, not this indication",
                     span)
