"""An alternation of regular expressions, tried only where one of them can start.

The vocabulary's claim cues and context masks are each one alternation of a dozen rules. Python's
engine tries every rule at every word start, so a sentence costs tens of microseconds even when no
rule could match it. Each rule here is parsed once for the few letters any match of it must start
with; one character-trie scan of those letters finds the positions worth trying, and only the rules
whose letters are there are tried, in their order. The matches are those of the plain alternation,
with the same leftmost-first, non-overlapping semantics (the tests compare the two on the corpus).

A rule whose start cannot be bounded (it may start with any word character) makes the whole
alternation fall back to the plain regex: the prefilter is an optimisation, never a change of what
matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

try:  # the parser behind ``re``; public as ``sre_parse`` (deprecated) before Python 3.11
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python without the parser: every alternation runs unfiltered
    _c = _p = None

_START_LENGTH = 3  # letters per start: enough to be selective, few enough that the sets stay small
_MAX_STARTS = 4000  # beyond this many distinct starts a rule is treated as unbounded
_MAX_CLASS = 64  # a character class wider than this ('[a-z]' is 26) is not enumerated


class _Unbounded(Exception):
    """A pattern may start with too many different strings to list."""


def literal_starts(pattern: str, length: int = _START_LENGTH) -> frozenset[str] | None:
    """Every string of up to ``length`` characters that a match of ``pattern`` can start with
    (lower-cased), or None when that set cannot be bounded (``\\w+``, ``.``, a negated class, a
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


def _node(op: object, av: object, length: int) -> set[str]:  # noqa: C901 - one branch per parser opcode
    if op is _c.LITERAL:
        return {chr(av)}  # type: ignore[arg-type]
    if op is _c.IN:
        chars: set[str] = set()
        for item_op, item_av in av:  # type: ignore[attr-defined]
            if item_op is _c.LITERAL:
                chars.add(chr(item_av))
            elif item_op is _c.RANGE and item_av[1] - item_av[0] < _MAX_CLASS:
                chars.update(chr(code) for code in range(item_av[0], item_av[1] + 1))
            else:  # a category (\w, \s), a negation or a wide range
                raise _Unbounded
        return chars
    if op is _c.SUBPATTERN:
        return _sequence(list(av[3].data), length)  # type: ignore[index]
    if op is _c.BRANCH:
        out: set[str] = set()
        for alternative in av[1]:  # type: ignore[index]
            out |= _sequence(list(alternative.data), length)
        return out
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, high, item = av  # type: ignore[misc]
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


class GatedAlternation:
    """``head(?:(?P<g0>rule0)|(?P<g1>rule1)|...)tail``, scanned only where a rule can start.

    :meth:`finditer` yields ``(rule index, match)`` exactly as ``finditer`` over the plain
    alternation would (the index is the alternative that matched), but each position is tried only
    against the rules that can start there.
    """

    def __init__(self, rules: Sequence[str], *, head: str = "", tail: str = "", flags: int = 0) -> None:
        self._plain = re.compile(head + "(?:" + "|".join(f"(?P<g{i}>{r})" for i, r in enumerate(rules)) + ")" + tail,
                                 flags)
        self._rules = tuple(re.compile(f"{head}(?:{rule}){tail}", flags) for rule in rules)
        starts = [literal_starts(rule) for rule in rules]
        self._by_start: dict[str, tuple[int, ...]] = {}
        self._gate: re.Pattern[str] | None = None
        self._fold = False
        if rules and all(s is not None and s and min(map(len, s)) == _START_LENGTH for s in starts):
            # With a case flag anywhere, the gate ignores case and looks starts up lower-cased, so that it
            # still admits every position a rule can match at; without one it compares exactly (faster).
            self._fold = bool(flags & re.IGNORECASE) or any("(?i" in rule for rule in rules)
            table: dict[str, list[int]] = {}
            for index, rule_starts in enumerate(starts):
                for start in rule_starts:  # type: ignore[union-attr]
                    table.setdefault(start.lower() if self._fold else start, []).append(index)
            self._by_start = {start: tuple(sorted(set(indexes))) for start, indexes in table.items()}
            trie = _trie(sorted(self._by_start))
            self._gate = re.compile(f"{head}(?={trie})", re.IGNORECASE if self._fold else 0)

    @property
    def gated(self) -> bool:
        """False when some rule's start could not be bounded and every scan is the plain regex's."""
        return self._gate is not None

    def finditer(self, text: str) -> Iterator[tuple[int, re.Match[str]]]:
        if self._gate is None:
            for match in self._plain.finditer(text):
                yield int((match.lastgroup or "g0")[1:]), match
            return
        every = range(len(self._rules))
        resume = 0
        for candidate in self._gate.finditer(text):
            position = candidate.start()
            if position < resume:
                continue
            start = text[position:position + _START_LENGTH]
            for index in self._by_start.get(start.lower() if self._fold else start, every):
                match = self._rules[index].match(text, position)
                if match is not None:
                    yield index, match
                    resume = match.end() if match.end() > position else position + 1
                    break


def _trie(words: Sequence[str]) -> str:
    """A regex alternation of ``words`` shaped as a character trie (one comparison rejects a position)."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items())]
        if not branches:
            return ""
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root) or "(?!)"
