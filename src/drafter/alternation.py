"""An alternation of regular expressions whose rules are entered only where they can start.

The vocabulary's claim cues and context masks are each one alternation of a dozen rules. Python's
engine enters every rule at every word start, so a sentence cost tens of microseconds even when no
rule could match it. Each rule is parsed once for the first letters (up to six) that any match of
it must start with, and a look-ahead on those letters, written as a character trie, guards it: a
position where no rule can start fails after a character comparison or two, all inside the engine.
The matches are those of the plain alternation (the tests compare the two on every corpus line).

A rule whose start cannot be listed (it may start with any word character) simply has no guard:
the guards are an optimisation, never a change of what matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any

try:  # the parser behind ``re``; public as ``sre_parse`` (deprecated) before Python 3.11
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python without the parser: every alternation runs unfiltered
    _c = _p = None

_MAX_START_LENGTH = 6  # letters per start at most (fewer where the longer starts cannot be listed)
_MAX_STARTS = 4000  # beyond this many distinct starts a rule is treated as unbounded
_MAX_CLASS = 64  # a character class wider than this ('[a-z]' is 26) is not enumerated


class _Unbounded(Exception):
    """A pattern may start with too many different strings to list."""


def literal_starts(pattern: str, length: int = 3) -> frozenset[str] | None:
    """Every string of up to ``length`` characters that a match of ``pattern`` can start with, as
    the pattern writes them (case flags are applied by the guard, not here), or None when that set
    cannot be bounded (``\\w+``, ``.``, a negated class, a
    back-reference). A string shorter than ``length`` means a match may be that short.

    Zero-width assertions are read as matching anywhere, so the set is a superset: it may admit a
    start the pattern then rejects, never the reverse.
    """
    if _p is None:
        return None
    try:
        starts = _sequence(list(_p.parse(pattern).data), length)
    except (_Unbounded, re.error, RecursionError):
        return None
    return frozenset(starts)


def _sequence(items: Sequence[tuple[object, object]], length: int) -> set[str]:
    out = {""}
    for op, av in items:
        if all(len(s) >= length for s in out):
            break
        following = _node(op, av, length)
        out = {s if len(s) >= length else (s + t)[:length] for s in out for t in following}
        if len(out) > _MAX_STARTS:
            raise _Unbounded
    return out


def _node(op: object, av: Any, length: int) -> set[str]:
    if op is _c.LITERAL:
        return {chr(av)}
    if op is _c.IN:
        chars: set[str] = set()
        for item_op, item_av in av:
            if item_op is _c.LITERAL:
                chars.add(chr(item_av))
            elif item_op is _c.RANGE and item_av[1] - item_av[0] < _MAX_CLASS:
                chars.update(chr(code) for code in range(item_av[0], item_av[1] + 1))
            else:  # a category (\w, \s), a negation or a wide range
                raise _Unbounded
        return chars
    if op is _c.SUBPATTERN:
        return _sequence(list(av[3].data), length)
    if op is _c.BRANCH:
        out: set[str] = set()
        for alternative in av[1]:
            out |= _sequence(list(alternative.data), length)
        return out
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low: int = av[0]
        high: int = av[1]
        item = av[2]
        once = _sequence(list(item.data), length)
        out = {""} if low == 0 else set()
        current = {""}
        for count in range(1, min(high, length) + 1):
            current = {s if len(s) >= length else (s + t)[:length] for s in current for t in once}
            if len(current) > _MAX_STARTS:
                raise _Unbounded
            if count >= low or all(len(s) >= length for s in current):
                out |= current
            if all(len(s) >= length for s in current):
                break
        return out
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return {""}  # zero width: read as true, which only widens the set
    raise _Unbounded  # ANY, NOT_LITERAL, GROUPREF, CATEGORY ...


def rule_starts(rule: str) -> frozenset[str] | None:
    """The rule's starts at the longest length up to _MAX_START_LENGTH that can be listed: longer starts
    let fewer positions through (six letters halved the cue scan against three)."""
    for length in range(_MAX_START_LENGTH, 0, -1):
        starts = literal_starts(rule, length)
        if starts is not None:
            return starts
    return None


class GatedAlternation:
    """``head(?:(?P<g0>rule0)|(?P<g1>rule1)|...)tail``, each rule guarded by the letters it can start with.

    Each alternative is preceded by a look-ahead on its starts, written as a character trie, and the
    whole alternation by a look-ahead on all of them: at a position where no rule can start, the
    engine fails after a character comparison or two instead of entering every rule. The guards
    only reject positions where the rule would fail anyway, so the matches are the plain
    alternation's. A rule whose starts cannot be listed has no guard (and then neither has the whole).
    :meth:`finditer` yields ``(rule index, match)``.
    """

    def __init__(self, rules: Sequence[str], *, head: str = "", tail: str = "", flags: int = 0) -> None:
        starts = [rule_starts(rule) for rule in rules]
        folded = bool(flags & re.IGNORECASE)
        alternatives = []
        for i, (rule, its_starts) in enumerate(zip(rules, starts, strict=True)):
            guard = ""
            if its_starts:
                # A rule with its own case flag ('(?i:...)') compares its starts ignoring case.
                trie = starts_trie(its_starts)
                guard = f"(?={trie})" if folded or "(?i" not in rule else f"(?=(?i:{trie}))"
            alternatives.append(f"{guard}(?P<g{i}>{rule})")
        self.gated = bool(rules) and all(starts)
        outer = ""
        if self.gated:
            every = set().union(*starts)  # type: ignore[arg-type]
            trie = starts_trie(every)
            outer = f"(?={trie})" if folded or not any("(?i" in rule for rule in rules) else f"(?=(?i:{trie}))"
        self.pattern = re.compile(f"{head}{outer}(?:{'|'.join(alternatives)}){tail}", flags)
        self._plain_source = head + "(?:" + "|".join(f"(?P<g{i}>{r})" for i, r in enumerate(rules)) + ")" + tail
        self._flags = flags

    @cached_property
    def plain(self) -> re.Pattern[str]:
        """The same alternation without guards: what the guarded one must match exactly (tests compare)."""
        return re.compile(self._plain_source, self._flags)

    def finditer(self, text: str) -> Iterator[tuple[int, re.Match[str]]]:
        for match in self.pattern.finditer(text):
            yield int((match.lastgroup or "g0")[1:]), match


_END = ""  # a trie node's key for 'a start may end here'


def starts_trie(words: Iterable[str]) -> str:
    """A regex matching any string that begins with one of ``words``, shaped as a character trie."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[_END] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        if _END in node:
            return ""  # a start ends here: whatever follows, the position may match
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root) if root else "(?!)"
