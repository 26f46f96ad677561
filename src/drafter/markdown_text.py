"""Markdown escaping for the report: pack and model text is printed as text, never read as markup.

A report's Markdown mixes structure the assembler writes (headings, tables, the decision line,
citation links) with strings it does not control: names, titles, journals and safety texts from the
pack, statements from the model. If such a string can open a tag, a link, a heading, a list, a
table cell or a bold "Decision" label, the pack or the model can forge a section in a report marked
verified. So the Markdown environment escapes *every* value a template prints (``finalize``), and
only two kinds of value pass as they are: macro output (already escaped piece by piece) and
:class:`MarkdownSafe`, the marker for the few strings the assembler builds itself from validated
parts (citation URLs). Forgetting to escape a new template variable is therefore impossible; making
one raw takes an explicit marker.

The escaping keeps the Markdown readable (a reviewer reads the ``.md`` as text, and lint mode reads it
back): characters are backslash-escaped only where CommonMark or a GitHub table could read them as
syntax, and every line break is folded to a space, since most block structure starts at a line.
"""

from __future__ import annotations

import re

from markupsafe import Markup

__all__ = ["MarkdownSafe", "md_escape", "md_code", "md_finalize", "md_cell", "safe_url"]


class MarkdownSafe(str):
    """A string the assembler built itself from validated parts; printed into the Markdown as it is.

    Plain ``str`` for every other purpose (the HTML environment escapes it like any other value).
    """

    __slots__ = ()


# Characters that are syntax wherever they stand: emphasis and strikethrough, code spans, links and
# images (brackets), raw HTML and autolinks (<), table cells (|), escapes themselves (\), and # (an
# ATX heading's closing sequence at the end of a line).
_ALWAYS = re.compile(r"([\\`*_\[\]<|~#])")
# An entity reference (&lt; &#60; &#x3c;) would decode to the character it names.
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)")
# What opens a block when it begins a line (or a list item, or a blockquote line): a blockquote, a
# setext underline, a bullet ("- x", "+ x"), a thematic break or setext line ("--"), an ordered list
# item ("12. x", "3)"). Fences need ` or ~, escaped above. "-5 mg" or "99.3%" open nothing and stay.
_LEADING_MARK = re.compile(r"^([>=]|-(?=[\s-]|$)|\+(?=\s|$))")
_LEADING_ORDINAL = re.compile(r"^([0-9]{1,9})([.)])(?=\s|$)")
# Line breaks of every kind (and the other whitespace str.split knows) fold to one space; other C0
# and C1 control characters and DEL are dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def fold_lines(text: str) -> str:
    """One line: every run of whitespace, line breaks included, becomes a single space."""
    return " ".join(_CONTROL.sub("", text).split())


# Whether any of the substitutions below can apply: most printed values (numbers, names, dates) need none.
_ANY_SYNTAX = re.compile(r"[\\`*_\[\]<|~#&]|^[>=+\-0-9]")


def md_escape(value: object) -> str:
    """``value`` as inert Markdown text on one line (see the module docstring for what is escaped)."""
    text = fold_lines(str(value))
    if not _ANY_SYNTAX.search(text):
        return text
    text = _ALWAYS.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _LEADING_MARK.sub(r"\\\1", text)
    return _LEADING_ORDINAL.sub(r"\1\\\2", text)


def md_code(value: object) -> Markup:
    """``value`` as a Markdown code span: fenced with more backticks than any run inside it.

    Inside a code span backslash escapes do not work, so identifiers (pack ids, model names,
    finding codes) are printed this way instead of through :func:`md_escape`.
    """
    text = fold_lines(str(value))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def md_cell(value: object) -> Markup:
    """A table cell's text: the same escaping (pipes included); already-escaped values pass."""
    return value if isinstance(value, Markup) else Markup(md_escape(value))


def md_finalize(value: object) -> Markup:
    """The Markdown environment's ``finalize``: every printed value is escaped unless it is marked.

    The environment autoescapes, so what this returns must be :class:`Markup` or jinja2 would
    HTML-escape it; Markup here means "already Markdown-safe". Macro output is Markup by jinja2's
    own rule (its pieces went through this function), and :class:`MarkdownSafe` is the assembler's
    marker.
    """
    if isinstance(value, Markup):
        return value
    if isinstance(value, MarkdownSafe):
        return Markup(str(value))
    return Markup(md_escape(value))


_URL = re.compile(r"^(?:https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/?=&%:-]*)?|#[a-z0-9-]+)$")


def safe_url(url: str | None) -> MarkdownSafe | None:
    """``url`` marked safe for a Markdown link destination, if it is an https URL (or an in-page
    anchor) made only of characters that cannot end the destination or open markup; else None."""
    if url is None or not _URL.match(url):
        return None
    return MarkdownSafe(url)
