"""Errors grouped by who has to act on them.

A user's mistake (a bad pack, a bad option, a missing key) is a :class:`UserError`: the command line
prints its one-line message and exits 2, with no traceback. Anything else escaping the library is a
bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


class DrafterError(Exception):
    """Base class of every exception drafter raises on purpose."""


class UserError(DrafterError):
    """The input or the configuration is wrong; the message says what to fix."""

    exit_code = 2


@dataclass(frozen=True)
class PackProblem:
    """One problem in one pack, located by its JSON path.

    ``str()`` gives the one line the command line prints:
    ``pack.json: predicted_indications[1].trials[3].registry_id: found 'NCT123'; expected NCT followed by 8 digits``.
    With ``found`` set, ``expected`` is what should have been there; without it, ``expected`` is the
    whole message.
    """

    path: str
    expected: str
    found: str | None = None
    severity: Severity = "error"
    file: str | None = None

    def located(self, file: str | None) -> PackProblem:
        return PackProblem(self.path, self.expected, self.found, self.severity, file)

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        label = "" if self.severity == "error" else "warning: "
        text = self.expected if self.found is None else f"found {self.found}; expected {self.expected}"
        return ": ".join([*parts, label + text])


class PackError(UserError):
    """A pack that cannot be used; carries every problem found, errors first."""

    def __init__(self, problems: list[PackProblem], file: str | None = None) -> None:
        self.file = file
        self.problems = [p.located(file) if p.file is None else p for p in problems]
        super().__init__("\n".join(str(p) for p in self.errors))

    @property
    def errors(self) -> list[PackProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[PackProblem]:
        return [p for p in self.problems if p.severity == "warning"]
