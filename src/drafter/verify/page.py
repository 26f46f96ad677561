"""What lint reads of a published page: the report, not the site template around it.

The TxGNN sites publish each report as a Jekyll page (the "Just the Docs" theme). Around the
report's own prose the page carries a template: YAML front matter (``evidence_level: L5``), a page
title and a banner line styled with kramdown attribute lists (``{: .fs-9 }``, ``{: .fs-6 .fw-300 }``),
a generated table of contents (``1. TOC`` + ``{:toc}``), an HTML anchor block holding a section label
(``<div id="pharmacist">`` … ``</div>``), Liquid tags, navigation lines (breadcrumbs, "back to"
links) and a fixed disclaimer appended after the last section. Read as prose, the template makes
claims the report never made (the front matter's level contradicts the report's own), so
:func:`report_lines` blanks it. It keeps the number of lines, so a finding's "line N" is still line
N of the file the user opened.

The rules are structural, not lists of one site's sentences, and deliberately narrow: a line of the
report's own prose is never blanked. :func:`language_hint` says which language a report is written
in, so that lint can say "not in English" instead of producing noise on the French, Korean and
Chinese forks.

Everything here is pure: text in, text out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["language_hint", "is_english", "report_lines", "report_text"]

# --- the page template -------------------------------------------------------------------------------

_FRONT_MATTER_FENCE = re.compile(r"^---\s*$")
# A kramdown inline/block attribute list or the TOC marker: "{: .fs-9 }", "{:toc}", "{: .no_toc }".
_IAL = re.compile(r"^\s*\{:\s*[^}]*\}\s*$")
# Classes the theme uses for its page header and TOC; a report's own callouts ("{: .note }") are not
# among them, and the block they decorate stays prose.
_TEMPLATE_CLASS = re.compile(r"(?:^|[\s{:])(?:\.fs-\d|\.fw-\d{3}|\.no_toc|\.text-delta|toc\b)")
_HTML_ONLY = re.compile(r"^\s*(?:<!--.*?-->|</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>)(?:\s*(?:<!--.*?-->|</?[A-Za-z][\w:-]*"
                        r"(?:\s[^<>]*)?/?>))*\s*$")
_DIV_OPEN = re.compile(r"^\s*<div\b[^>]*>\s*$", re.I)
_DIV_CLOSE = re.compile(r"^\s*</div>\s*$", re.I)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.S)
_LIQUID_BLOCK = re.compile(r"\{%-?\s*(comment|raw)\s*-?%\}.*?\{%-?\s*end\1\s*-?%\}", re.S)
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_BREADCRUMB_SEPARATOR = re.compile(r"^\s*[>/|›»→]\s*$")
# A breadcrumb may end with the current page's name as plain text: short, no sentence punctuation.
_BREADCRUMB_TAIL = re.compile(r"^\s*[>/|›»→]\s*[^.;:!?()\[\]]{0,60}$")
_BACK_LINK_TEXT = re.compile(r"^\s*(?:[←↩⬅«‹<]+|back\s+to\b|return\s+to\b|retour\b|zurück\b|volver\b|home\b)", re.I)
# The site appends a short fixed disclaimer as the page's last section, under one of these titles
# (the forks translate it). A report's own disclaimer is a paragraph or blockquote, never this.
_FOOTER_TITLES = frozenset({"disclaimer", "avertissement", "haftungsausschluss", "aviso legal", "descargo de responsabilidad",
                            "免責聲明", "免责声明", "면책 조항", "면책조항", "免責事項"})
_FOOTER_MAX_LINES = 3


def report_lines(text: str) -> list[str]:
    """The lines of ``text`` with the page template blanked: as many lines as ``text.splitlines()``.

    Blanked: YAML front matter at the top; Liquid tags and ``{% comment %}``/``{% raw %}`` blocks;
    kramdown attribute lines, and the blocks they style when the style is the theme's page header or
    table of contents; lines of nothing but HTML tags, and a heading alone in an HTML block (the
    site's section label); breadcrumb and "back to" navigation lines; the site's fixed disclaimer
    when it is the page's last section.
    """
    lines = _blank_liquid(text).splitlines()
    blank = [False] * len(lines)
    _mark_front_matter(lines, blank)
    _mark_styled_blocks(lines, blank)
    _mark_html(lines, blank)
    _mark_navigation(lines, blank)
    _mark_footer(lines, blank)
    return ["" if gone or not line.strip() else line for line, gone in zip(lines, blank, strict=True)]


def report_text(text: str) -> str:
    """:func:`report_lines` joined back into one text, for ``Verifier.verify_markdown``.

    Every line ends with a newline, so that ``report_text(x).splitlines() == report_lines(x)``
    even when the last lines were blanked.
    """
    return "".join(line + "\n" for line in report_lines(text))


def _blank_liquid(text: str) -> str:
    """Blank Liquid markup in place, keeping every newline so line numbers do not move."""
    def spaces(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))
    return _LIQUID.sub(spaces, _LIQUID_BLOCK.sub(spaces, text))


def _mark_front_matter(lines: Sequence[str], blank: list[bool]) -> None:
    if not lines or not _FRONT_MATTER_FENCE.match(lines[0]):
        return
    for end in range(1, len(lines)):
        if _FRONT_MATTER_FENCE.match(lines[end]) or lines[end].strip() == "...":
            for i in range(end + 1):
                blank[i] = True
            return
    # An opening fence with no closing one is not front matter (it is a horizontal rule).


def _mark_styled_blocks(lines: Sequence[str], blank: list[bool]) -> None:
    """Attribute lines go; so does the block just above one that carries a theme class."""
    for i, line in enumerate(lines):
        if not _IAL.match(line):
            continue
        blank[i] = True
        if not _TEMPLATE_CLASS.search(line):
            continue
        j = i - 1
        while j >= 0 and lines[j].strip() and not _IAL.match(lines[j]):
            blank[j] = True
            j -= 1


def _mark_html(lines: Sequence[str], blank: list[bool]) -> None:
    """Tag-only lines go, and so does a heading that is the only content of a ``<div>`` block."""
    for i, line in enumerate(lines):
        if _HTML_ONLY.match(line):
            blank[i] = True
    for i, line in enumerate(lines):
        if not _DIV_OPEN.match(line):
            continue
        inside = []
        for j in range(i + 1, len(lines)):
            if _DIV_CLOSE.match(lines[j]):
                if len(inside) == 1 and _HEADING.match(lines[inside[0]]):
                    blank[inside[0]] = True
                break
            if _DIV_OPEN.match(lines[j]):
                break
            if lines[j].strip():
                inside.append(j)


def _mark_navigation(lines: Sequence[str], blank: list[bool]) -> None:
    """Breadcrumbs (two or more links and nothing but separators) and lone "back to" links."""
    for i, line in enumerate(lines):
        links = _LINK.findall(line)
        if not links:
            continue
        rest = _LINK.sub("", line).strip().strip("*_")
        if len(links) >= 2 and _is_breadcrumb(line):
            blank[i] = True
        elif len(links) == 1 and not rest and _BACK_LINK_TEXT.match(links[0][0]):
            blank[i] = True


def _is_breadcrumb(line: str) -> bool:
    """Links joined by separators (``>``, ``/``, ``|``, ``›``, ``»``, ``→``), from the line's start."""
    pieces = _LINK.split(line.strip().strip("*_"))
    # re.split with two groups yields: text, label, target, text, label, target, ..., text
    texts = pieces[0::3]
    if texts[0].strip() or len(texts) < 3:
        return False
    between, tail = texts[1:-1], texts[-1]
    return all(_BREADCRUMB_SEPARATOR.match(t) for t in between) and (not tail.strip() or bool(_BREADCRUMB_TAIL.match(tail)))


def _mark_footer(lines: Sequence[str], blank: list[bool]) -> None:
    """The site's disclaimer: the last heading, a footer title, at most three short lines after it."""
    last = None
    for i, line in enumerate(lines):
        if _HEADING.match(line):
            last = i
    if last is None:
        return
    title = _HEADING.match(lines[last]).group(2).strip().strip("*_:").strip().lower()  # type: ignore[union-attr]
    if title not in _FOOTER_TITLES:
        return
    body = [j for j in range(last + 1, len(lines)) if lines[j].strip() and not _RULE.match(lines[j])]
    if len(body) > _FOOTER_MAX_LINES or any(lines[j].lstrip().startswith((">", "|", "-", "*", "#")) for j in body):
        return
    for j in range(last, len(lines)):
        blank[j] = True


# --- which language ----------------------------------------------------------------------------------

# Short, frequent function words that are (nearly) exclusive to one language. Words shared between
# the languages ("a", "on", "in", "die" in English prose about death…) are left out on purpose.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of with is are was were this that which for from by not has have been be "
                    "these those it its or than should may".split()),
    "fr": frozenset("le la les des du une est sont avec pour dans par sur pas qui que ces cette aux "
                    "être été ou mais plus leur".split()),
    "de": frozenset("der die das und ist sind mit für von nicht ein eine dem den des auf bei wird "
                    "werden oder auch".split()),
    "es": frozenset("el los las del con para por una es son está están como más pero sus este esta "
                    "también".split()),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_NON_LATIN = re.compile(r"[^\x00-\u024f]")
_MIN_LETTERS = 20
_SCRIPT_SHARE = 0.2


def language_hint(text: str) -> str | None:
    """``"en"``, ``"fr"``, ``"de"``, ``"es"``, ``"ko"``, ``"ja"``, ``"zh"``, or None if unsure.

    Script first: if Hangul, or Chinese/Japanese characters, make up a fifth of the letters, the text
    is Korean, Japanese (kana present) or Chinese. Latin-script text is judged by its function words.
    Too little text (or no function word at all) gives None. Drug and disease names are mostly Latin
    in every fork, which is why the share threshold is low and the word lists exclude names.
    """
    hangul = han = kana = 0
    letters = len(_NOT_LETTERS.sub("", text))  # counted by the engine, not one string per letter
    for char in _NON_LATIN.findall(text):  # only non-ASCII letters need a name look-up
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        if name.startswith("HANGUL"):
            hangul += 1
        elif name.startswith("CJK"):
            han += 1
        elif name.startswith(("HIRAGANA", "KATAKANA")):
            kana += 1
    if letters < _MIN_LETTERS:
        return None
    if hangul >= _SCRIPT_SHARE * letters:
        return "ko"
    if han + kana >= _SCRIPT_SHARE * letters:
        return "ja" if kana >= 0.1 * (han + kana) else "zh"
    seen = Counter(_WORD.findall(text.lower()))
    for token in [t for t in seen if "'" in t]:  # l'abacavir -> abacavir, d'essais -> essais
        tail = token.split("'")[-1]
        seen[tail] += seen.pop(token)
    counts = {language: sum(seen.get(word, 0) for word in words) for language, words in _FUNCTION_WORDS.items()}
    best = max(counts, key=lambda language: counts[language])
    if counts[best] == 0:
        return None
    return best


def is_english(text: str) -> bool:
    """False only when :func:`language_hint` is sure the text is in another language."""
    return language_hint(text) in ("en", None)
