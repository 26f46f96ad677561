"""The lower-cased copy keeps every offset, and a lowered pattern matches what IGNORECASE matched."""

from __future__ import annotations

import re

import pytest

from drafter.casefold import compile_lowered, lower_pattern, lower_same_length
from drafter.extract import find_counts, find_trial_facts
from drafter.verify.numbers import figures_in


def test_the_lower_cased_copy_has_the_texts_length() -> None:
    text = "İstanbul PHASE 3, ΣΑΣ"
    low = lower_same_length(text)
    assert len(low) == len(text)
    assert low.startswith("istanbul phase 3")


def test_group_names_and_escapes_survive_lowering() -> None:
    assert lower_pattern(r"(?P<Count>\d+)\s+TRIALS?(?P=Count)\B[A-Z]") == r"(?P<Count>\d+)\s+trials?(?P=Count)\B[a-z]"


@pytest.mark.parametrize("pattern", [r"(?-i:[A-Z])x", r"\x41", r"\N{LATIN CAPITAL LETTER A}", r"\u0041", r"\101"])
def test_a_pattern_that_needs_case_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="needs case"):
        compile_lowered(pattern)


def test_an_escaped_character_that_has_no_case_is_allowed() -> None:
    assert compile_lowered(r"[\r\n\u2028\x85]|\x2d|\0").search("a\u2028b") is not None


@pytest.mark.parametrize("text", ["Three COMPLETED Phase 3 Trials", "n = 40 Participants", "TWO-THIRDS of Smokers"])
def test_a_lowered_pattern_finds_what_ignorecase_found(text: str) -> None:
    source = r"\b(?:three|two)[\s-]+(?:completed\s+)?(?:phase\s+\d\s+)?trials?\b|\bn\s*=\s*\d+|two-thirds"
    assert [m.span() for m in compile_lowered(source).finditer(lower_same_length(text))] == \
        [m.span() for m in re.finditer(source, text, re.IGNORECASE)]


def test_extractors_quote_the_text_as_written() -> None:
    [count] = find_counts("Three COMPLETED Phase 3 Trials were registered.")
    assert (count.value, count.text) == (3, "Three COMPLETED Phase 3 Trials")
    assert [f.text for f in find_trial_facts("It was TERMINATED in PHASE II.")] == ["TERMINATED", "PHASE II"]
    assert [f.text for f in figures_in("TWO-THIRDS of Twelve smokers")] == ["TWO-THIRDS", "Twelve"]
