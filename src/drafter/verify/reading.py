"""One normalised reading of a text, shared by every check.

A check that reads the text as written can be slipped past: a full-width ``ＮＣＴ``, a Cyrillic ``С``
in ``NCT``, a zero-width space or a soft hyphen inside an id, a curly apostrophe in a drug name.
So every check reads the same normalised copy: compatibility forms folded (NFKC, character by
character), format characters (zero-width spaces and joiners, soft hyphens, bidi controls) removed,
Cyrillic and Greek letters that look Latin folded to Latin, and typographic dashes, spaces and
quotes folded to ASCII. ``origin`` maps every offset of the normalised text back into the original,
so a finding can quote what the writer actually wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from drafter.extract import fold

# Cyrillic and Greek letters a reader takes for Latin ones. Only letters whose glyphs are the same
# in common fonts: 'р' (er) reads as 'p', 'ν' (nu) as 'v'.
_CONFUSABLES = str.maketrans({
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P",
    "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "а": "a", "с": "c", "е": "e", "і": "i", "ј": "j", "о": "o", "р": "p",
    "ѕ": "s", "х": "x", "у": "y", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=65536)
def _normal_char(char: str) -> str:
    """What one non-ASCII character reads as ('' for a format character)."""
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Nd":
        return str(unicodedata.digit(char))  # Arabic-Indic and other decimal digits, which NFKC keeps
    folded = fold(char.translate(_CONFUSABLES))
    if folded != char:
        return folded
    return unicodedata.normalize("NFKC", char).translate(_CONFUSABLES)


@dataclass(frozen=True)
class Reading:
    """A text as every check reads it, with the way back to what was written."""

    original: str
    text: str
    origin: tuple[int, ...] | None = None  # None: the text is the original (nothing changed)

    def source_offset(self, offset: int) -> int:
        if self.origin is None:
            return offset
        return self.origin[min(offset, len(self.origin) - 1)]

    def written(self, start: int, end: int) -> str:
        """The original text behind the normalised span ``start:end``."""
        if self.origin is None:
            return self.original[start:end]
        return self.original[self.source_offset(start):self.source_offset(end)]

    @property
    def changed(self) -> bool:
        return self.origin is not None


@lru_cache(maxsize=16384)
def read(text: str) -> Reading:
    """The normalised reading of ``text``; ASCII text is its own reading and costs one scan."""
    if text.isascii():
        return Reading(text, text)
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for match in _NON_ASCII.finditer(text):
        parts.append(text[last:match.start()])
        origin.extend(range(last, match.start()))
        for offset in range(match.start(), match.end()):
            normal = _normal_char(text[offset])
            parts.append(normal)
            origin.extend([offset] * len(normal))
        last = match.end()
    parts.append(text[last:])
    origin.extend(range(last, len(text) + 1))
    normal_text = "".join(parts)
    if normal_text == text:
        return Reading(text, text)
    return Reading(text, normal_text, tuple(origin))


def normal(text: str) -> str:
    """Just the normalised text."""
    return read(text).text
