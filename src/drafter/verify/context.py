"""Where a text sits, how it cites, and the findings gathered while checking it.

Every claim module takes the same three things: the pack's index (through :class:`Findings`), the
place of the text (:class:`Where`) and how the text cites (:class:`Citing`: a drafted statement's
support and keys, or lint mode, where anything in the pack may be meant).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drafter.drafts import Support
from drafter.rules import Decision
from drafter.verify.findings import CODES, Finding
from drafter.verify.index import PackIndex


@dataclass(frozen=True)
class Where:
    location: str  # "indications[0].conclusion.rationale[1]" or "line 12"
    section: str
    rank: int | None
    statement: str
    lead: str = ""  # lint: the line that introduces a list item ('**Contraindications:**'), read as its context


@dataclass(frozen=True)
class Citing:
    """How a text cites: a drafted statement's support and keys, or (lint) anything in the pack."""

    support: Support | None  # None in lint mode
    keys: frozenset[str] = frozenset()
    decision: Decision | None = None  # the drafted decision of the sections the statement belongs to
    quotes: tuple[str, ...] = ()  # the statement's evidence quotes

    @property
    def lint(self) -> bool:
        return self.support is None

    @property
    def background(self) -> bool:
        return self.support is Support.BACKGROUND


@dataclass
class Findings:
    """The findings of one verification, in the order they were found."""

    index: PackIndex
    items: list[Finding] = field(default_factory=list)
    levels_stated: dict[int, list[tuple[str, Where]]] = field(default_factory=dict)

    def add(self, code: str, where: Where, message: str, span: str = "") -> None:
        severity = CODES[code][0]
        self.items.append(Finding(code, severity, message, where.location, where.section,
                                  self.index.disease(where.rank), where.statement, span))
