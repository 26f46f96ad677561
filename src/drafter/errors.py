"""Errors grouped by who has to act on them.

A user's mistake (a bad pack, a bad option, a missing key) is a :class:`UserError`: the command line
prints its one-line message and exits 2, with no traceback. Anything else escaping the library is a
bug and keeps its traceback.
"""

from __future__ import annotations

import os as _os
import re as _re
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


# --- redaction ----------------------------------------------------------------------------------------

# Shapes of credentials that a server may echo back in an error message: OpenAI-style keys (sk-...,
# sk-proj-..., any length from 4), bearer tokens, Google API keys, and key=... in a query string.
_SECRET_PATTERNS = (
    _re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"),
    _re.compile(r"\b([Bb]earer)\s+[A-Za-z0-9._~+/=\-]{4,}"),
    _re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"),
    _re.compile(r"(?i)\b((?:api[_-]?)?key|token|access_token|secret|password)=[^&\s'\"]+"),
)
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    """``text`` with anything shaped like an API key or bearer token replaced by ``[REDACTED]``.

    Applied to every message drafter writes (stderr, summaries), because a misbehaving server may
    quote the request's credentials back. The configured ``OPENAI_API_KEY`` itself is redacted
    whatever its shape.
    """
    key = _os.environ.get("OPENAI_API_KEY", "")
    if len(key) >= 4:
        text = text.replace(key, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + " " + REDACTED) if pattern.groups and m.group(1)
                           and m.group(1).lower() == "bearer" else
                           (m.group(1) + "=" + REDACTED if pattern.groups else REDACTED), text)
    return text
