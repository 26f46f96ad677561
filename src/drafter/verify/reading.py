"""One normalised reading of a text, shared by every check.

A check that reads the text as written can be slipped past: a full-width ``ＮＣＴ``, a Cyrillic ``С``
in ``NCT``, a zero-width space or a soft hyphen inside an id, a curly apostrophe in a drug name.
So every check reads the same normalised copy, character by character: typographic dashes, spaces
and quotes folded to ASCII (:func:`drafter.extract.fold`), then what the pack's identifiers go
through (:func:`drafter.identifiers.fold_identifier_text`: NFKC, format characters removed, decimal
digits of any script read as ASCII, Cyrillic and Greek look-alikes read as Latin). An id disguised
in a report is then the same id as in the pack. Findings quote this reading, not the original
spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache

from drafter.extract import fold
from drafter.identifiers import fold_identifier_text

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=65536)
def _normal_char(char: str) -> str:
    """What one non-ASCII character reads as ('' for a format character)."""
    folded = fold(char)
    return folded if folded != char else fold_identifier_text(char)


@lru_cache(maxsize=16384)
def normal(text: str) -> str:
    """The normalised reading of ``text``; ASCII text is its own reading and costs one scan."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda match: _normal_char(match.group(0)), text)
