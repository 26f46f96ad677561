"""Steps that answer drafter's drafting requests for *any* pack, computed from the request alone.

For batch drafting, benchmarks and reliability tests the server must answer many packs, in any
order, concurrently, without a script per pack.  :func:`auto_draft_step` does that: it reads the
request's structured-output schema (``response_format.json_schema.schema``, built by
``drafter.drafts.report_model_for`` and sent by ``drafter.llm.complete``), finds the ranks the
call drafts (the ``enum`` of the property named ``rank``, normally at
``$defs.IndicationDraft.properties.rank``; a pack with a single drafted rank gets
``"const": 1`` there instead, because pydantic writes a one-value ``Literal`` that way), and
answers every rank with the same sections made of one background statement.

Why that answer verifies for every pack: a ``background`` statement cites no keys and states no
identifier, figure, trial fact or safety word, so the verifier has nothing to check it against;
and ``Hold`` is the weakest decision, so it is within every decision ceiling.  It tests the
machinery (concurrency, batching, transport faults), never the quality of a draft.

:func:`scripted_by_pack` picks a step by a substring of the user message (e.g. the drug name),
so one server can give different packs different fates in the same run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .server import Step, validate_step
from .wire import completion_step

__all__ = [
    "AUTO_STATEMENT",
    "auto_draft_answer",
    "auto_draft_step",
    "draft_ranks",
    "scripted_by_pack",
    "user_text",
]

#: The one statement every auto-drafted section is made of.
AUTO_STATEMENT: dict[str, Any] = {
    "text": "The mechanism of this drug could plausibly act on this condition, which needs human studies to test.",
    "support": "background",
    "keys": [],
}

_DECISIONS = ("Go", "Proceed with Guardrails", "Research Question", "Hold")


def _schema_of(request_json: Mapping[str, Any]) -> Mapping[str, Any]:
    response_format = request_json.get("response_format")
    if not isinstance(response_format, Mapping):
        raise ValueError("the request has no response_format: not a drafter drafting request")
    json_schema = response_format.get("json_schema")
    schema = json_schema.get("schema") if isinstance(json_schema, Mapping) else None
    if not isinstance(schema, Mapping):
        raise ValueError("the request's response_format has no json_schema.schema")
    return schema


def _rank_enums(node: Any) -> list[list[int]]:
    """Every ``enum`` (or ``const``) of integers under a property named ``rank``, in document order."""
    found: list[list[int]] = []
    if isinstance(node, Mapping):
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            rank = properties.get("rank")
            if isinstance(rank, Mapping):
                # pydantic writes a one-value Literal as {"const": 1}, not {"enum": [1]}
                values = rank.get("enum", [rank["const"]] if "const" in rank else None)
                if isinstance(values, list) and values and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in values
                ):
                    found.append(list(values))
        for value in node.values():
            found.extend(_rank_enums(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_rank_enums(value))
    return found


def draft_ranks(request_json: Mapping[str, Any]) -> list[int]:
    """The ranks a drafting request asks for: the ``rank`` enum (or const) of its response schema.

    Looks at ``$defs.IndicationDraft.properties.rank.enum`` first, then anywhere in the schema
    (a schema with its references inlined has the property elsewhere).  Raises ``ValueError``
    when there is none: the request is not a drafter drafting call.
    """
    schema = _schema_of(request_json)
    defs = schema.get("$defs")
    direct = defs.get("IndicationDraft") if isinstance(defs, Mapping) else None
    enums = _rank_enums({"properties": direct.get("properties")}) if isinstance(direct, Mapping) else []
    enums = enums or _rank_enums(schema)
    if not enums:
        raise ValueError("the request's schema has no 'rank' property with an enum: not a drafter drafting request")
    ranks: list[int] = []
    for value in enums[0]:
        if value not in ranks:
            ranks.append(value)
    return ranks


def auto_draft_answer(request_json: Mapping[str, Any], decision: str = "Hold") -> str:
    """The JSON content of a valid drafter answer for the pack this request is about."""
    statement = dict(AUTO_STATEMENT)
    sections = {
        "mechanistic_rationale": {"paragraphs": [{"statements": [statement]}]},
        "conclusion": {"decision": decision, "rationale": [statement], "next_steps": [statement]},
    }
    return json.dumps({"indications": [{"rank": rank, "sections": sections} for rank in draft_ranks(request_json)]})


def auto_draft_step(decision: str = "Hold", *, model: str | None = None) -> Step:
    """A ``respond`` step answering any drafter drafting request with a verifiable draft.

    The reply is built like :func:`tests.llm_server.wire.completion_step`'s (model echoed
    unless ``model`` is given, token counts estimated, id hashed from the request).  A request
    that is not a drafting call (no ``rank`` enum in its schema) gets a 500 and the
    ``ValueError`` lands in ``server.errors``.  Use it as ``ScriptedOpenAIServer(default=...)``
    to answer any number of calls.  ``decision`` other than ``"Hold"`` may exceed a pack's
    ceiling and then fails verification, which is sometimes what a test wants.
    """
    if decision not in _DECISIONS:
        raise ValueError(f"decision must be one of {_DECISIONS}, got {decision!r}")

    def respond(request_json: dict[str, Any]) -> dict[str, Any]:
        step = completion_step(auto_draft_answer(request_json, decision), model=model)
        return step["respond"](request_json)

    return {"respond": respond}


def user_text(request_json: Mapping[str, Any]) -> str:
    """The text of the request's first user message (drafter's pack prompt; repairs come later)."""
    for message in request_json.get("messages") or []:
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def scripted_by_pack(
    mapping: Mapping[str, Step | Sequence[Step]],
    fallback: Step | None = None,
) -> Step:
    """A ``respond`` step that chooses its answer by a substring of the first user message.

    ``mapping`` goes from a substring (matched case-insensitively; the first key in mapping order
    that occurs wins, so put ``"baclofen-uk"``-like specific keys before general ones) to either
    one step, served for every request of that pack, or a list of steps, served in order for that
    pack's successive requests (e.g. ``[{"status": 429, ...}, auto_draft_step()]``) and then the
    ``fallback``.  A request that matches no key gets ``fallback``; without one, a 500 (the
    ``LookupError`` is kept in ``server.errors``).  Each step may itself be a ``respond`` step.
    Safe under concurrent requests.
    """
    fixed: dict[str, Step] = {}
    queues: dict[str, list[Step]] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            fixed[key] = validate_step(value)
        else:
            queues[key] = [validate_step(step) for step in value]
    checked_fallback = validate_step(fallback) if fallback is not None else None
    lock = threading.Lock()

    def choose(text: str) -> tuple[str | None, Step | None]:
        folded = text.casefold()
        for key in mapping:
            if key.casefold() in folded:
                if key in fixed:
                    return key, fixed[key]
                with lock:
                    if queues[key]:
                        return key, queues[key].pop(0)
                return key, checked_fallback
        return None, checked_fallback

    def respond(request_json: dict[str, Any]) -> dict[str, Any]:
        key, step = choose(user_text(request_json))
        if step is None:
            if key is None:
                raise LookupError(f"no key of {list(mapping)} occurs in the user message, and there is no fallback")
            raise LookupError(f"the steps for {key!r} are used up, and there is no fallback")
        if "respond" in step:
            return step["respond"](request_json)  # type: ignore[no-any-return]
        return dict(step)

    return {"respond": respond}
