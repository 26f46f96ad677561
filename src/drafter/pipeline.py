"""The whole pipeline behind one call: pack -> rules -> draft and repair -> verified report.

``draft_report`` and ``adraft_report`` are the library's main entry points; the command line and
batch drafting call them. Each stage lives in its own module; this one only wires them.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openai

from drafter.assemble import Report, assemble
from drafter.drafting import DEFAULT_MAX_INDICATIONS, DEFAULT_TOKEN_BUDGET, adraft_sections, draft_sections
from drafter.cache import ResponseCache
from drafter.llm import AdaptiveLimiter, RetryPolicy, make_async_client, make_client, resolve_model
from drafter.pack import EvidencePack, read_pack
from drafter.prompts import PromptTemplates, load_prompts
from drafter.rules import RuleTable, assess_pack, load_rule_table

PackInput = EvidencePack | str | os.PathLike[str]


def _pack(pack: PackInput) -> EvidencePack:
    return pack if isinstance(pack, EvidencePack) else read_pack(Path(pack)).pack


def _templates(prompts: PromptTemplates | str | os.PathLike[str] | None) -> PromptTemplates:
    return prompts if isinstance(prompts, PromptTemplates) else load_prompts(prompts)


def _rules(rules: RuleTable | str | os.PathLike[str] | None) -> RuleTable:
    return rules if isinstance(rules, RuleTable) else load_rule_table(rules)


def draft_report(
    pack: PackInput,
    *,
    client: openai.OpenAI | None = None,
    model: str | None = None,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    prompts: PromptTemplates | str | os.PathLike[str] | None = None,
    rules: RuleTable | str | os.PathLike[str] | None = None,
    report_date: dt.date | None = None,
    retry: RetryPolicy | None = None,
    cache: ResponseCache | None = None,
) -> Report:
    """Draft, verify, repair and assemble one report.

    ``client`` defaults to one built from OPENAI_API_KEY / OPENAI_BASE_URL; ``model`` to
    $DRAFTER_MODEL or :data:`drafter.llm.DEFAULT_MODEL`. The report's date is an input, so the same
    pack and the same model responses give byte-identical outputs.
    """
    evidence = _pack(pack)
    assessment = assess_pack(evidence, _rules(rules))
    result = draft_sections(
        evidence, assessment, _templates(prompts), client=client or make_client(), model=resolve_model(model),
        max_repairs=max_repairs, max_indications=max_indications, token_budget=token_budget, policy=retry,
        cache=cache,
    )
    return assemble(result, report_date=report_date or dt.date.today())


async def adraft_report(
    pack: PackInput,
    *,
    client: openai.AsyncOpenAI | None = None,
    model: str | None = None,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    prompts: PromptTemplates | str | os.PathLike[str] | None = None,
    rules: RuleTable | str | os.PathLike[str] | None = None,
    report_date: dt.date | None = None,
    retry: RetryPolicy | None = None,
    cache: ResponseCache | None = None,
    limiter: AdaptiveLimiter | None = None,
) -> Report:
    """The asynchronous twin of :func:`draft_report`."""
    evidence = _pack(pack)
    assessment = assess_pack(evidence, _rules(rules))
    result = await adraft_sections(
        evidence, assessment, _templates(prompts), client=client or make_async_client(), model=resolve_model(model),
        max_repairs=max_repairs, max_indications=max_indications, token_budget=token_budget, policy=retry,
        cache=cache, limiter=limiter,
    )
    return assemble(result, report_date=report_date or dt.date.today())
