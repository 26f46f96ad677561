"""One lower-cased copy of a text, the same length as the text, and patterns written for it.

``re.IGNORECASE`` makes Python's engine fold the case of every character it compares, and it
disables the fast literal checks inside alternations: the extractors that run on every sentence
were two to three times slower with it. They match a lower-cased copy with lower-cased patterns
instead; because the copy has the same length, every offset found in it is an offset into the
original text, whose own spelling is what findings quote.
"""

from __future__ import annotations

import re
import unicodedata


def lower_same_length(text: str) -> str:
    """``text.lower()``, except that a character whose lower case is longer keeps its first character.

    Offsets found in the result are then offsets into ``text`` (``"İ".lower()`` has two characters,
    of which the first, ``i``, is what re.IGNORECASE would compare).
    """
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch.lower()[0] for ch in text)


_GROUP_NAME = re.compile(r"\(\?P(?:<[^>]*>|=[^)]*\))")


def lower_pattern(pattern: str) -> str:
    """``pattern`` for lower-cased text: its literal characters lower-cased (classes included, so
    ``[A-Z]`` becomes ``[a-z]``), escapes (``\\W``, ``\\S``, ``\\B`` ...) and group names left alone.

    A pattern that needs case (``(?-i:[A-Z])``, an escaped capital) must not be passed here.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        name = _GROUP_NAME.match(pattern, i)
        if name:
            out.append(name.group())
            i = name.end()
            continue
        out.append(pattern[i].lower())
        i += 1
    return "".join(out)


# What lower_pattern cannot lower: a scoped case-sensitive group, and an escape that spells a capital
# letter by its code or name (an escaped line separator or digit is fine).
_SCOPED_CASE = re.compile(r"\(\?[a-zA-Z]*-[a-zA-Z]*[:)]")
_CODED_CHAR = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|N\{([^}]*)\}|(0[0-7]{0,2}|[1-3][0-7]{2}))")


def _spells_a_capital(match: re.Match[str]) -> bool:
    hex_code = match.group(1) or match.group(2) or match.group(3)
    if hex_code:
        char = chr(int(hex_code, 16))
    elif match.group(4) is not None:
        try:
            char = unicodedata.lookup(match.group(4))
        except KeyError:
            return True
    else:
        char = chr(int(match.group(5), 8))
    return char.lower() != char


def compile_lowered(pattern: str) -> re.Pattern[str]:
    """A case-insensitive pattern compiled for :func:`lower_same_length` text, without re.IGNORECASE."""
    if _SCOPED_CASE.search(pattern) or any(_spells_a_capital(m) for m in _CODED_CHAR.finditer(pattern)):
        raise ValueError(f"pattern needs case and cannot be lowered: {pattern[:60]!r}")
    return re.compile(lower_pattern(pattern))
