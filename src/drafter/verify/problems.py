"""A problem found in one piece of text, before the verifier locates it in a report.

Claim modules are pure functions of a text and the pack; they return :class:`Problem` values with
offsets into the text they were given, and the verifier turns each into a located ``Finding``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    start: int = 0
    end: int = 0
