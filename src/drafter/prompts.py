"""Rendering the drafting prompts from the jinja2 templates in ``prompts/``.

The templates are files, not strings in code, so that a prompt change is a reviewable diff with a
version; users can point drafter at their own folder. Rendering uses ``StrictUndefined`` so that a
missing variable fails loudly instead of leaving a hole in a prompt. Pack text (titles, abstracts,
summaries) passes through the ``data`` filter: whitespace is flattened and angle brackets are
replaced, so nothing copied from an article can close the ``<pack_data>`` block or fake a section of
the prompt. The texts a statement may quote pass through ``clip`` as well, within ``QUOTE_BUDGET``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from drafter.errors import UserError
from drafter.pack.models import (
    AdverseEffect,
    EvidencePack,
    Interaction,
    InteractionSeverity,
    PredictedIndication,
    SafetyItem,
    SpecialPopulation,
)
from drafter.resources import shipped_dir
from drafter.rules import IndicationAssessment

TEMPLATE_NAMES = ("report_sections.system.j2", "report_sections.user.j2", "repair.j2")
_VERSION = re.compile(r"version:\s*([\w.-]+)")


def data_filter(value: object) -> str:
    """Pack text as inert data: one line, no angle brackets."""
    text = " ".join(str(value).split())
    return text.replace("<", "\u2039").replace(">", "\u203a")


#: Characters of quotable text shown per item, by kind. Measured with ``benchmarks/tokens.py``: the
#: example packs' texts fit whole except the longest safety items, and an abstract-heavy pack (20
#: articles with 1,500-character abstracts) stays under half the one-shot traffic. A statement may
#: quote only what the model was shown, so these are also the limits of what can be quoted.
QUOTE_BUDGET: dict[str, int] = {"moa": 700, "safety": 320, "title": 160, "summary": 400, "results": 400,
                                 "abstract": 700}
_CLIP_MARK = " \u2026 "


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, deterministically, keeping its head and its tail.

    The tail is kept because an abstract's results and conclusion come last. Cuts fall on spaces,
    so no word is broken and every word shown is the source's: a quote from either part is still
    verbatim. The ellipsis between the parts marks the gap (a quote must not span it).
    """
    if len(text) <= limit:
        return text
    room = max(limit - len(_CLIP_MARK), 2)
    head_room = room * 2 // 5
    head = text[:head_room]
    head = head[: head.rfind(" ")] if " " in head else head
    tail = text[len(text) - (room - len(head)):]
    tail = tail[tail.find(" ") + 1:] if " " in tail else tail
    return head.rstrip() + _CLIP_MARK + tail.lstrip()


@dataclass(frozen=True)
class PromptTemplates:
    """A folder of drafting templates, with each template's declared version and content hash."""

    folder: Path
    environment: jinja2.Environment
    versions: dict[str, str]
    hashes: dict[str, str]

    def render(self, name: str, **context: Any) -> str:
        try:
            return self.environment.get_template(name).render(**context).strip() + "\n"
        except jinja2.UndefinedError as exc:
            raise UserError(f"{self.folder / name}: the template uses an undefined variable ({exc.message})") from None

    @property
    def fingerprint(self) -> str:
        """One hash over every template, for provenance and cache keys."""
        joined = "".join(f"{name}:{digest};" for name, digest in sorted(self.hashes.items()))
        return hashlib.sha256(joined.encode()).hexdigest()


def load_prompts(folder: str | Path | None = None) -> PromptTemplates:
    """The shipped templates, or a user's folder holding the same file names."""
    root = Path(folder) if folder is not None else shipped_dir("prompts")
    versions: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for name in TEMPLATE_NAMES:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise UserError(f"{path}: missing; a prompt folder needs {', '.join(TEMPLATE_NAMES)}") from None
        match = _VERSION.search(text.split("\n", 3)[0] if text.startswith("{#") else "")
        if match is None:
            raise UserError(f"{path}: line 1: expected a comment declaring the template's version "
                            "('{#- drafter prompt: NAME | version: 1 ... #}')")
        versions[name] = match.group(1)
        hashes[name] = hashlib.sha256(text.encode()).hexdigest()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text; pack text is neutralised by the data filter instead
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run; checking the file on every render cost ~1 ms
    )
    environment.filters["data"] = data_filter
    environment.filters["clip"] = clip
    return PromptTemplates(root, environment, versions, hashes)


@dataclass(frozen=True)
class SafetyLine:
    key: str
    section: str
    text: str


def safety_lines(pack: EvidencePack) -> list[SafetyLine]:
    """Every safety item as the prompt shows it: its key, what kind of item it is, its text."""
    if pack.safety is None:
        return []
    lines = []
    for section, item in pack.safety.items():
        lines.append(SafetyLine(item.citation_key, _describe_item(section, item), item.text))
    return lines


def _describe_item(section: str, item: SafetyItem) -> str:
    """What the key's letter does not say already ('' for most items: W1 is a warning, C2 a contraindication).

    The system prompt names the letters once; repeating "warning:" on each of 30 lines was 5% of a prompt.
    """
    if isinstance(item, Interaction):
        severity = "" if item.severity is InteractionSeverity.UNKNOWN else f", {item.severity.value}"
        return f"with {data_filter(item.interacting)}{severity}"
    if isinstance(item, SpecialPopulation):
        return item.population.label
    if isinstance(item, AdverseEffect) and item.frequency:
        return data_filter(item.frequency)
    return ""


@dataclass(frozen=True)
class IndicationEntry:
    indication: PredictedIndication
    assessment: IndicationAssessment


def report_messages(
    templates: PromptTemplates,
    pack: EvidencePack,
    entries: Sequence[IndicationEntry],
) -> list[dict[str, str]]:
    """The two messages of one drafting call: the static system prompt, then the pack data.

    One call drafts every selected indication of a report: the drug-level data (mechanism, safety)
    is most of a prompt and is shared, so sending it once per report rather than once per
    indication is what keeps drafter well under the one-shot pipelines' token cost
    (``benchmarks/tokens.py`` measures it).
    """
    system = templates.render("report_sections.system.j2")
    user = templates.render(
        "report_sections.user.j2",
        drug=pack.drug,
        safety_items=safety_lines(pack),
        indications=list(entries),
        budget=QUOTE_BUDGET,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_message(
    templates: PromptTemplates, problems: Iterable[str], ranks: Sequence[int], attempt: int, max_attempts: int
) -> str:
    return templates.render("repair.j2", problems=list(problems), ranks=list(ranks), attempt=attempt,
                            max_attempts=max_attempts)


def static_prefix_chars(messages: Sequence[dict[str, str]]) -> int:
    """Characters of a call that do not depend on the pack (the system prompt)."""
    return sum(len(m["content"]) for m in messages if m["role"] == "system")
