"""Chat Completions wire-format bodies, built exactly as OpenAI's API returns them.

Why this module exists: drafter's cassette tests are recorded by running the
*real* ``openai`` SDK against :class:`tests.llm_server.server.ScriptedOpenAIServer`,
so the bytes in a cassette are whatever this module produces.  If a body here
differed from the real API (a missing ``refusal`` key, a different ``usage``
shape) the SDK might still parse it and the tests would pass against a shape
production never sees.  Every builder therefore emits every key the real API
emits, in the same order, with JSON ``null`` where the API sends ``null``.

Everything is a pure function of its arguments.  Ids and timestamps are
parameters or are derived from a hash of the request body, never from the clock
or a random source, so re-recording a cassette reproduces the same bytes.

Token counts: no tokenizer is available offline (tiktoken downloads its
encoding files on first use, which fails here), so :func:`estimate_tokens` uses
``ceil(len(text) / 4)``.  **Token counts in cassettes recorded with this server
are this server's estimate, not a real tokenizer's.**  Tests may rely on them
being deterministic, never on them being what OpenAI would bill.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "DEFAULT_CREATED",
    "DEFAULT_MODELS",
    "DEFAULT_SYSTEM_FINGERPRINT",
    "chat_completion",
    "completion_id_for",
    "completion_step",
    "error_body",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "models_list",
]

#: Fixed ``created`` timestamp (2026-01-01T00:00:00Z).  A scenario may pass its
#: own, but it must be a constant so re-recording gives the same bytes.
DEFAULT_CREATED = 1767225600

#: Models listed by ``GET /v1/models``.  Any model name is accepted by the
#: chat endpoint; this list only exists so ``client.models.list()`` works.
DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1")

#: ``system_fingerprint`` of the scripted server.  Real values look like
#: ``fp_44709d6fcb``; this one is deliberately recognisable as not real.
DEFAULT_SYSTEM_FINGERPRINT = "fp_scripted00"

# Rough per-message framing overhead of the chat format (role markers etc.).
# Only here so prompt_tokens grows with the number of messages the way the real
# count does; the exact values are an estimate like everything else here.
_TOKENS_PER_MESSAGE = 3
_TOKENS_REPLY_PRIMING = 3


def estimate_tokens(text: str | None) -> int:
    """Estimate the token count of ``text`` as ``ceil(len(text) / 4)``.

    This is NOT a tokenizer: tiktoken needs to download its encoding files and
    cannot run offline here.  Roughly four characters per token is OpenAI's own
    rule of thumb for English.  Counts recorded in cassettes come from this
    estimate, so tests must not treat them as real token counts.
    """
    if not text:
        return 0
    return math.ceil(len(text) / 4)


def _message_text(content: Any) -> str:
    """Flatten a request message's ``content`` (a string or a list of parts) to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return json.dumps(content, sort_keys=True)


def estimate_prompt_tokens(request_json: Mapping[str, Any] | None) -> int:
    """Estimate ``prompt_tokens`` for a chat-completions request body.

    Sums :func:`estimate_tokens` over every message's content plus a small fixed
    per-message overhead.  Same caveat as :func:`estimate_tokens`: an estimate,
    deterministic, not a real tokenizer's count.
    """
    if not request_json:
        return 0
    messages = request_json.get("messages") or []
    total = _TOKENS_REPLY_PRIMING
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        total += _TOKENS_PER_MESSAGE + estimate_tokens(_message_text(message.get("content")))
    return total


def completion_id_for(request_body: Mapping[str, Any] | bytes | str) -> str:
    """Derive a ``chatcmpl-...`` id from the request body.

    Hashing the canonical JSON of the request (instead of using a random id like
    the real API) makes the id stable across re-recordings of the same prompt,
    and different for different prompts.
    """
    if isinstance(request_body, Mapping):
        data = json.dumps(request_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    elif isinstance(request_body, str):
        data = request_body.encode()
    else:
        data = bytes(request_body)
    return "chatcmpl-" + hashlib.sha256(data).hexdigest()[:29]


def chat_completion(
    content: str | None,
    *,
    model: str,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    completion_id: str,
    created: int,
    system_fingerprint: str | None = DEFAULT_SYSTEM_FINGERPRINT,
    service_tier: str | None = "default",
) -> dict[str, Any]:
    """Build a non-streaming ``chat.completion`` body with one choice.

    Key order and null-valued keys follow the real API response::

        {id, object, created, model,
         choices: [{index, message: {role, content, refusal, annotations}, logprobs, finish_reason}],
         usage: {prompt_tokens, completion_tokens, total_tokens,
                 prompt_tokens_details: {cached_tokens, audio_tokens},
                 completion_tokens_details: {reasoning_tokens, audio_tokens,
                                             accepted_prediction_tokens, rejected_prediction_tokens}},
         service_tier, system_fingerprint}

    A refusal is ``content=None, refusal="..."`` with ``finish_reason="stop"``,
    which is how the API reports a structured-output refusal.  ``finish_reason``
    ``"length"`` (truncated by ``max_tokens``) and ``"content_filter"`` are passed
    through unchanged so callers can script those cases.
    """
    if cached_tokens > prompt_tokens:
        raise ValueError("cached_tokens cannot exceed prompt_tokens")
    if reasoning_tokens > completion_tokens:
        raise ValueError("reasoning_tokens cannot exceed completion_tokens")
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": service_tier,
        "system_fingerprint": system_fingerprint,
    }


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """Build an API error body: ``{"error": {message, type, param, code}}``.

    This is the shape the SDK reads into ``APIStatusError.body`` / ``.code`` /
    ``.type``.  Typical real pairs: ``("Rate limit reached ...", "requests",
    "rate_limit_exceeded")``, ``("The server is overloaded ...",
    "server_error")``, ``("Incorrect API key provided ...",
    "invalid_request_error", "invalid_api_key")``.
    """
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def models_list(models: Sequence[str] = DEFAULT_MODELS, *, created: int = DEFAULT_CREATED) -> dict[str, Any]:
    """Build a ``GET /v1/models`` body (``{"object": "list", "data": [...]}``)."""
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": "system"} for name in models],
    }


def completion_step(
    content: str | None,
    *,
    model: str | None = None,
    created: int = DEFAULT_CREATED,
    finish_reason: str = "stop",
    refusal: str | None = None,
    cached_tokens: int = 0,
    completion_tokens: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    """A server step that answers with ``content`` computed against the actual request.

    The model name is echoed from the request unless ``model`` is given (the
    real API answers with the dated snapshot, e.g. ``gpt-4o-mini-2024-07-18``
    for ``gpt-4o-mini``; pass it when a test cares), ``prompt_tokens`` is estimated
    from the request's messages, ``completion_tokens`` from ``content`` (or
    ``refusal``) unless given, and the id is a hash of the request body.  This
    is the step most drafter tests want: the response text is scripted, every
    other field is consistent with what was sent.
    """
    fixed_headers = dict(headers or {})

    def respond(request_json: dict[str, Any]) -> dict[str, Any]:
        prompt = estimate_prompt_tokens(request_json)
        produced = completion_tokens
        if produced is None:
            produced = estimate_tokens(content if content is not None else refusal)
        body = chat_completion(
            content,
            model=model if model is not None else str(request_json.get("model", "")),
            finish_reason=finish_reason,
            refusal=refusal,
            prompt_tokens=prompt,
            completion_tokens=produced,
            cached_tokens=min(cached_tokens, prompt),
            completion_id=completion_id_for(request_json),
            created=created,
        )
        step: dict[str, Any] = {"json": body, "status": 200}
        if fixed_headers:
            step["headers"] = dict(fixed_headers)
        return step

    return {"respond": respond}
