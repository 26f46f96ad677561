"""The deterministic verifier: every citation, trial fact, count and safety claim checked against the pack.

This is the library's promise made executable. It is pure (no I/O, no network, no model): the same
pack and the same text give the same findings on any machine. It only *reports*; what to do about a
finding (repair, withhold, warn) is decided elsewhere.

The package reads as the checks it makes:

* :mod:`~drafter.verify.reading`: one normalised reading of a text, shared by every check;
* claim modules, one per kind of claim: :mod:`~drafter.verify.identifiers`,
  :mod:`~drafter.verify.trial_facts`, :mod:`~drafter.verify.counts` (counts, scores, ranks),
  :mod:`~drafter.verify.levels` (levels and decisions), :mod:`~drafter.verify.safety`;
* :mod:`~drafter.verify.statements`: drafted statements (keys, support, plain text), and
  :mod:`~drafter.verify.lint`: any report, read line by line (headings, tables, context);
* :mod:`~drafter.verify.index`: what the checks need from one pack, computed once.

Two entry points share one set of checks: :func:`verify` takes drafted sections, and
:func:`verify_markdown` lints a report written by anyone. Every finding code is listed in
:data:`CODES` (and in the README).
"""

from __future__ import annotations

from drafter.drafts import IndicationSections, ReportDraft
from drafter.pack.models import EvidencePack
from drafter.rules import PackAssessment
from drafter.verify.findings import CODES, Finding, Severity, Verification, iter_codes
from drafter.verify.index import PackIndex, indication_names
from drafter.verify.lint import verify_text
from drafter.verify.statements import normalise_key, verify_draft
from drafter.vocabulary import SafetyVocabulary


class Verifier:
    """One pack's verifier: what the checks need from the pack (keys, names, safety coverage,
    compiled patterns) is computed once here, then reused for every draft checked against it, as
    the repair loop does for each indication and each attempt."""

    def __init__(self, pack: EvidencePack, *, assessment: PackAssessment | None = None,
                 vocabulary: SafetyVocabulary | None = None) -> None:
        self._index = PackIndex.build(pack, assessment, vocabulary)

    def verify(self, draft: ReportDraft | IndicationSections, *, rank: int | None = None) -> Verification:
        return verify_draft(self._index, draft, rank)

    def verify_markdown(self, text: str) -> Verification:
        return verify_text(self._index, text)


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


def verify_markdown(
    pack: EvidencePack,
    text: str,
    *,
    assessment: PackAssessment | None = None,
    vocabulary: SafetyVocabulary | None = None,
) -> Verification:
    """Lint a report written by anyone against ``pack``: ids, trial facts, counts, levels, safety."""
    return Verifier(pack, assessment=assessment, vocabulary=vocabulary).verify_markdown(text)


__all__ = ["CODES", "Finding", "Severity", "Verification", "Verifier", "indication_names", "iter_codes",
           "normalise_key", "verify", "verify_markdown"]
