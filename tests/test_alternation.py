"""The gated alternation must match exactly what the plain alternation matches: it is a speed-up only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drafter.alternation import GatedAlternation, literal_starts
from drafter.casefold import lower_same_length
from drafter.vocabulary import _CLAIM_TRANSLATION, load_vocabulary

SHARED = Path(__file__).resolve().parents[2] / "shared"


def plain_matches(alternation: GatedAlternation, text: str) -> list[tuple[int, tuple[int, int]]]:
    return [(int(m.lastgroup[1:]), m.span()) for m in alternation.plain.finditer(text)]  # type: ignore[index]


def gated_matches(alternation: GatedAlternation, text: str) -> list[tuple[int, tuple[int, int]]]:
    return [(index, m.span()) for index, m in alternation.finditer(text)]


def test_literal_starts_lists_the_letters_a_match_begins_with() -> None:
    assert literal_starts(r"(?:may|can) cause") == {"may", "can"}
    assert literal_starts(r"(?:a |the )?risk") == {"a r", "the", "ris"}
    assert literal_starts(r"to[xX]ic") == {"tox", "toX"}
    # An optional word, a look-behind and a short alternative: the set stays a superset.
    assert literal_starts(r"(?<!not )(?:ab)?c") == {"abc", "c"}


@pytest.mark.parametrize("pattern", [r"\w+ cause", r"(?:.)x", r"[^a]bc", r"(a)\1b", r"[a-z\d]x"])
def test_a_start_that_cannot_be_listed_is_unbounded(pattern: str) -> None:
    assert literal_starts(pattern) is None


def test_an_unbounded_rule_is_tried_without_a_guard() -> None:
    alternation = GatedAlternation([r"may cause", r"\w+ toxicity"], head=r"(?<![\w\-])")
    assert not alternation.gated
    text = "this may cause renal toxicity"
    assert gated_matches(alternation, text) == plain_matches(alternation, text) == [(0, (5, 14)), (1, (15, 29))]


def test_rule_order_and_overlaps_are_the_plain_alternations() -> None:
    # At one position the first rule that matches wins, even if a later one is longer; a match hides
    # the starts inside it; the tail applies to each rule with backtracking.
    alternation = GatedAlternation([r"risk of", r"risk of harm", r"of harm(?:s)?", r"harms?"],
                                   head=r"(?<![\w\-])", tail=r"(?!\w)")
    assert alternation.gated
    for text in ("the risk of harm", "risk of harms and harm", "a risk ofharm", "of harmsx harm", "xrisk of harm"):
        assert gated_matches(alternation, text) == plain_matches(alternation, text), text


def test_a_start_shorter_than_three_letters_still_admits_its_position() -> None:
    alternation = GatedAlternation([r"(?:ab)?c\b", r"xyz", r"q"], head=r"(?<!\w)")
    assert alternation.gated
    text = "c abc xyz abx q qa"
    assert gated_matches(alternation, text) == plain_matches(alternation, text)
    assert [span for _, span in gated_matches(alternation, text)] == [(0, 1), (2, 5), (6, 9), (14, 15), (16, 17)]


def test_a_case_flag_makes_the_gate_ignore_case() -> None:
    alternation = GatedAlternation([r"(?i:Caution) in", r"avoid"], head=r"(?<!\w)")
    text = "CAUTION in renal failure; Avoid and avoid"
    assert gated_matches(alternation, text) == plain_matches(alternation, text) == [(0, (0, 10)), (1, (36, 41))]
    folded = GatedAlternation([r"caution in"], head=r"(?<!\w)", flags=re.IGNORECASE)
    assert gated_matches(folded, "Caution In x") == [(0, (0, 10))]


def _vocabulary_alternations() -> list[tuple[str, GatedAlternation]]:
    vocabulary = load_vocabulary()
    return [("claim cues", vocabulary._cue_regex), ("context masks", vocabulary._context_regex)]  # type: ignore[list-item]


@pytest.mark.parametrize("name,alternation", _vocabulary_alternations())
def test_the_vocabularys_alternations_are_gated(name: str, alternation: GatedAlternation) -> None:
    assert alternation.gated, f"a {name} rule has a start that cannot be listed: every sentence pays the full scan"


@pytest.mark.skipif(not (SHARED / "anchor-uk" / "reports").is_dir(), reason="needs ../shared/anchor-uk")
@pytest.mark.parametrize("name,alternation", _vocabulary_alternations())
def test_gated_and_plain_agree_on_every_line_of_the_corpus(name: str, alternation: GatedAlternation) -> None:
    lines = [line for path in sorted((SHARED / "anchor-uk" / "reports").glob("*.md"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) > 1000
    found = 0
    for line in lines:
        normal = lower_same_length(line).translate(_CLAIM_TRANSLATION)
        gated = gated_matches(alternation, normal)
        assert gated == plain_matches(alternation, normal), line[:80]
        found += len(gated)
    assert found > 100  # the rules do fire on real prose: the comparison compared something
