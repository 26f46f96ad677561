"""What lint reads of a published page (drafter.verify.page): the template goes, the prose stays.

The pages here are made up in the shape of the TxGNN sites' Jekyll pages; the corpus test at the end
reads the real UK pages from ../shared/anchor-uk when it is there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drafter.verify.page import is_english, language_hint, report_lines, report_text

PAGE = """---
layout: default
title: Testdrug
parent: Model prediction only (L5)
evidence_level: L5
---

# Testdrug
{: .fs-9 }

Evidence Level: **L5** | Predicted Indications: **3**
{: .fs-6 .fw-300 }

---

## Table of Contents
{: .no_toc .text-delta }

1. TOC
{:toc}

---

<div id="pharmacist">

## Pharmacist Assessment Report

</div>

# Testdrug: from gout to a made-up disease

## One-Sentence Summary

Testdrug is said here to have L3 evidence from one trial (NCT01234567).

## Conclusion

**Decision: Hold**
## Disclaimer

Short fixed notice line one.
Short fixed notice line two.

---
"""


def kept(text: str) -> list[str]:
    return [line for line in report_lines(text) if line.strip()]


def test_the_whole_template_goes_and_every_line_of_prose_stays() -> None:
    lines = report_lines(PAGE)
    assert len(lines) == len(PAGE.splitlines())
    assert kept(PAGE) == ["---", "---", "# Testdrug: from gout to a made-up disease", "## One-Sentence Summary",
                          "Testdrug is said here to have L3 evidence from one trial (NCT01234567).",
                          "## Conclusion", "**Decision: Hold**"]


def test_line_numbers_do_not_move() -> None:
    original = PAGE.splitlines()
    for number, line in enumerate(report_lines(PAGE)):
        assert line in ("", original[number])
    assert report_text(PAGE).splitlines() == report_lines(PAGE)


def test_blanking_twice_changes_nothing() -> None:
    once = report_text(PAGE)
    assert report_text(once) == once


def test_front_matter_only_at_the_top_and_only_when_closed() -> None:
    assert kept("---\ntitle: x\nevidence_level: L2\n---\nProse L3.\n") == ["Prose L3."]
    unclosed = "---\nThis paragraph follows a rule and is prose.\n"
    assert kept(unclosed) == ["---", "This paragraph follows a rule and is prose."]
    later = "Intro.\n---\nlevel: L2\n---\n"
    assert kept(later) == ["Intro.", "---", "level: L2", "---"]


def test_liquid_tags_are_blanked_in_place_and_prose_around_them_stays() -> None:
    text = "Before {% include banner.html level='L5' %} after.\n{{ page.evidence_level }}\nPlain line.\n"
    lines = report_lines(text)
    assert lines[0].split() == ["Before", "after."]
    assert lines[1] == "" and lines[2] == "Plain line."
    block = "{% comment %}\nL1 evidence from NCT00000001\n{% endcomment %}\nKept.\n"
    assert report_lines(block) == ["", "", "", "Kept."]


def test_theme_attribute_lists_take_their_block_and_other_ones_do_not() -> None:
    styled = "Intro.\n\nBanner with L5\n{: .fs-6 .fw-300 }\n\nProse.\n"
    assert kept(styled) == ["Intro.", "Prose."]
    callout = "A callout written by the report, citing PMID 12345678.\n{: .note }\n"
    assert kept(callout) == ["A callout written by the report, citing PMID 12345678."]


def test_a_heading_alone_in_a_div_goes_but_prose_in_a_div_stays() -> None:
    label = '<div id="x">\n\n## Section label\n\n</div>\n'
    assert kept(label) == []
    prose = '<div class="box">\n\n## Heading\n\nA sentence inside the box.\n\n</div>\n'
    assert kept(prose) == ["## Heading", "A sentence inside the box."]


def test_navigation_lines_go_and_lines_of_links_that_are_prose_stay() -> None:
    assert kept("[Home](/) > [Drugs](/drugs/) > Testdrug\n") == []
    assert kept("[Home](/) / [Drugs](/drugs/)\n") == []
    assert kept("[← Back to the list](../)\n") == []
    assert kept("**[Back to drugs](/drugs/)**\n") == []
    pmids = "[12345678](https://pubmed.ncbi.nlm.nih.gov/12345678/), [23456789](https://pubmed.ncbi.nlm.nih.gov/23456789/)\n"
    assert kept(pmids) == [pmids.strip()]
    sentence = "See the trial [NCT01234567](https://clinicaltrials.gov/study/NCT01234567) for details.\n"
    assert kept(sentence) == [sentence.strip()]
    assert kept("[Back pain study](https://example.org/) showed a benefit.\n") == [
        "[Back pain study](https://example.org/) showed a benefit."]


def test_the_footer_goes_only_when_it_is_the_short_last_section() -> None:
    assert kept("## Body\nText.\n## Disclaimer\n\nLine one.\nLine two.\n\n---\n") == ["## Body", "Text."]
    not_last = "## Disclaimer\nLine.\n## Safety\nNo data.\n"
    assert kept(not_last) == ["## Disclaimer", "Line.", "## Safety", "No data."]
    long_section = "## Disclaimer\n" + "".join(f"Sentence {i} of a real section.\n" for i in range(4))
    assert len(kept(long_section)) == 5
    with_list = "## Disclaimer\n- avoid in pregnancy\n"
    assert kept(with_list) == ["## Disclaimer", "- avoid in pregnancy"]


def test_html_only_lines_go() -> None:
    assert kept("<br/>\n<!-- generated -->\n<span>\n</span>\nText <b>bold</b> here.\n") == ["Text <b>bold</b> here."]


# --- language ------------------------------------------------------------------------------------------

ENGLISH = "The trial of this drug was stopped early, and the evidence for the new indication is weak."
FRENCH = "Le médicament est indiqué dans les formes sévères, mais les essais sont peu nombreux pour cette maladie."
GERMAN = "Das Arzneimittel ist für die schwere Form zugelassen, aber die Studien sind nicht abgeschlossen und werden geprüft."
SPANISH = "El medicamento está indicado para las formas graves, pero los ensayos son pocos y también pequeños."
KOREAN = "이 약물은 새로운 적응증에 대한 임상시험 근거가 부족하며 추가 연구가 필요합니다."
CHINESE = "本藥物的新適應症缺乏臨床試驗證據，需要進一步研究與評估。"
JAPANESE = "この薬は新しい適応症について臨床試験の根拠が不足しており、さらなる研究が必要です。"


@pytest.mark.parametrize(("text", "language"), [
    (ENGLISH, "en"), (FRENCH, "fr"), (GERMAN, "de"), (SPANISH, "es"),
    (KOREAN, "ko"), (CHINESE, "zh"), (JAPANESE, "ja"),
])
def test_language_hint_names_the_language(text: str, language: str) -> None:
    assert language_hint(text) == language
    assert is_english(text) is (language == "en")


def test_drug_and_disease_names_in_latin_script_do_not_hide_korean() -> None:
    mixed = f"Baclofen (NCT01234567, PMID 12345678) Attention Deficit-Hyperactivity Disorder: {KOREAN} {KOREAN}"
    assert language_hint(mixed) == "ko"


def test_an_english_report_on_a_chinese_template_is_english() -> None:
    page = "---\nparent: 僅模型預測 (L5)\n---\n# X\n{: .fs-9 }\n\n證據等級: **L5** | 預測適應症: **3** 個\n{: .fs-6 .fw-300 }\n\n" + ENGLISH
    assert language_hint(report_text(page)) == "en"


def test_too_little_text_or_no_function_word_gives_no_hint() -> None:
    assert language_hint("") is None
    assert language_hint("Hold") is None
    assert language_hint("NCT01234567 PMID 12345678 Baclofen Spasticity Dystonia") is None
    assert is_english("Hold")


# --- the real pages -------------------------------------------------------------------------------------

CORPUS = next((p / "shared" / "anchor-uk" for p in Path(__file__).resolve().parents
               if (p / "shared" / "anchor-uk" / "reports").is_dir()), None)


@pytest.mark.skipif(CORPUS is None, reason="../shared/anchor-uk is absent (the UK corpus is read from there)")
def test_on_the_uk_pages_only_the_template_goes() -> None:
    assert CORPUS is not None
    reports = sorted((CORPUS / "reports").glob("*.md"))
    assert reports
    for path in reports:
        original = path.read_text(encoding="utf-8").splitlines()
        lines = report_lines(path.read_text(encoding="utf-8"))
        assert len(lines) == len(original), path.name
        gone = [i for i, line in enumerate(original) if line.strip() and not lines[i].strip()]
        # The report starts after the anchor block that closes the page header, and the site's footer
        # is the last heading: everything blanked lies outside the report, nothing inside it.
        start = next(i for i, line in enumerate(original) if line.strip() == "</div>")
        footer = max(i for i, line in enumerate(original) if line.startswith("#"))
        assert all(i <= start or i >= footer for i in gone), path.name
        assert not any(re.search(r"NCT\d{8}|PMID", original[i]) or original[i].startswith("|") for i in gone), path.name
        assert not any(line.startswith("evidence_level:") for line in lines), path.name
        assert language_hint("\n".join(lines)) == "en", path.name
