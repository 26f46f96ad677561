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
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BATCH_COMPLETION_WINDOW_SECONDS",
    "DEFAULT_CREATED",
    "DEFAULT_MODELS",
    "DEFAULT_SYSTEM_FINGERPRINT",
    "STABLE_MULTIPART_BOUNDARY",
    "MultipartPart",
    "batch_error_line",
    "batch_input_line",
    "batch_output_line",
    "chat_completion",
    "completion_id_for",
    "completion_step",
    "error_body",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "file_object",
    "jsonl",
    "models_list",
    "multipart_body",
    "multipart_boundary",
    "parse_jsonl",
    "parse_multipart",
    "stable_multipart_boundary",
    "with_multipart_support",
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


# --------------------------------------------------------------------------- Batch API shapes

#: ``expires_at - created_at`` of a batch whose ``completion_window`` is ``"24h"``.
BATCH_COMPLETION_WINDOW_SECONDS = 24 * 60 * 60
# Files uploaded with purpose "batch" (and the output/error files) expire after 30 days by default.
_BATCH_FILE_LIFETIME_SECONDS = 30 * 24 * 60 * 60


def file_object(
    file_id: str,
    *,
    size: int,
    created_at: int,
    filename: str,
    purpose: str,
    status: str = "processed",
) -> dict[str, Any]:
    """A ``file`` object as ``POST /v1/files`` and ``GET /v1/files/{id}`` return it.

    ``status`` and ``status_details`` are deprecated in the API but still sent. Batch input,
    output and error files get ``expires_at`` 30 days after ``created_at`` (the API's default
    for purpose ``batch``); other purposes never expire (``null``).
    """
    expires = created_at + _BATCH_FILE_LIFETIME_SECONDS if purpose in ("batch", "batch_output") else None
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": created_at,
        "expires_at": expires,
        "filename": filename,
        "purpose": purpose,
        "status": status,
        "status_details": None,
    }


def batch_input_line(
    custom_id: str,
    body: Mapping[str, Any],
    *,
    url: str = "/v1/chat/completions",
    method: str = "POST",
) -> dict[str, Any]:
    """One line of a Batch API input file: ``{custom_id, method, url, body}``."""
    return {"custom_id": custom_id, "method": method, "url": url, "body": dict(body)}


def batch_output_line(
    line_id: str,
    custom_id: str,
    *,
    status_code: int,
    request_id: str,
    body: Any,
) -> dict[str, Any]:
    """One line of a batch's output or error file for a request that got an HTTP answer.

    This is how the real API reports *every* request it executed, successful or not: a request
    the endpoint rejected (a 400, a 500) goes to the **error file** with the HTTP status in
    ``response.status_code``, the usual error object in ``response.body`` and ``"error": null``.
    The top-level ``error`` is only for requests that were never executed
    (:func:`batch_error_line`).
    """
    return {
        "id": line_id,
        "custom_id": custom_id,
        "response": {"status_code": status_code, "request_id": request_id, "body": body},
        "error": None,
    }


def batch_error_line(line_id: str, custom_id: str, *, code: str, message: str) -> dict[str, Any]:
    """An error-file line for a request that was never executed (``response: null``).

    The API writes these for e.g. ``code="batch_expired"`` ("This request could not be executed
    before the completion window expired.").
    """
    return {"id": line_id, "custom_id": custom_id, "response": None, "error": {"code": code, "message": message}}


def jsonl(lines: Iterable[Any]) -> bytes:
    """Encode ``lines`` as JSON Lines (UTF-8, one object per line, newline-terminated)."""
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


def parse_jsonl(data: bytes | str) -> list[Any]:
    """Decode JSON Lines, skipping blank lines (a trailing newline is normal)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------------ multipart/form-data
#
# ``client.files.create`` uploads with ``multipart/form-data``.  httpx (and so httpx2) picks a
# **random boundary per request** (``os.urandom(16).hex()``), and the boundary is in the body and
# in the ``content-type`` header.  vcrpy's ``body`` matcher has no multipart transformer, so it
# compares the raw bytes and a recorded upload can never match again on replay; the cassette
# bytes also change on every re-recording.  A second, machine-dependent difference: each part's
# ``Content-Type`` is guessed from the file name with :mod:`mimetypes`, which reads the system's
# ``mime.types``, so ``batch.jsonl`` may be sent as ``application/octet-stream`` on one machine
# and ``application/jsonl`` on another.  :func:`with_multipart_support` fixes both.

#: The boundary :func:`stable_multipart_boundary` writes into recorded multipart requests.
STABLE_MULTIPART_BOUNDARY = "scripted-openai-multipart-boundary-0000000000000000"

_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


@dataclass(frozen=True)
class MultipartPart:
    """One field of a ``multipart/form-data`` body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes = b""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def multipart_boundary(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` content type, else ``None``."""
    if not content_type or not content_type.lower().lstrip().startswith("multipart/form-data"):
        return None
    match = _BOUNDARY_RE.search(content_type)
    return match.group(1).strip() if match else None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_multipart(body: bytes, content_type: str | None) -> list[MultipartPart]:
    """Split a ``multipart/form-data`` body into its parts, in order.

    Raises ``ValueError`` for anything malformed (no boundary, no closing delimiter, a part
    without headers or without a ``name``).  Enough of RFC 7578 for what HTTP clients send; not
    a general MIME parser (no nested multiparts, no transfer encodings).
    """
    boundary = multipart_boundary(content_type)
    if boundary is None:
        raise ValueError(f"not multipart/form-data with a boundary: {content_type!r}")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = bytes(body).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise ValueError("multipart body has no closing delimiter")
    parts: list[MultipartPart] = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise ValueError("multipart part is not delimited by CRLF")
        head, separator, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("multipart part has no blank line after its headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "").partition(";")[2]
        params = {key.lower(): _unquote(value) for key, value in _DISPOSITION_PARAM_RE.findall(";" + disposition)}
        if "name" not in params:
            raise ValueError("multipart part has no name in its content-disposition")
        parts.append(MultipartPart(params["name"], params.get("filename"), headers.get("content-type"), data))
    return parts


def _request_content_type(request: Any) -> str | None:
    headers = getattr(request, "headers", None) or {}
    for name, value in headers.items():
        if str(name).lower() == "content-type":
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def _request_body(request: Any) -> bytes | None:
    body = getattr(request, "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body) if isinstance(body, (bytes, bytearray)) else None


def stable_multipart_boundary(request: Any) -> Any:
    """vcrpy ``before_record_request`` filter: rewrite a random multipart boundary to a fixed one.

    Applied (like every ``before_record_request`` filter) both to what is written and to each
    request before it is matched, so recorded uploads are byte-stable across re-recordings and a
    replayed upload compares equal byte for byte.  The body, the ``content-type`` header and
    (if recorded) ``content-length`` are rewritten together; a body that happens to contain
    :data:`STABLE_MULTIPART_BOUNDARY` is left alone (:func:`multipart_body` still matches it by
    its parts).
    """
    content_type = _request_content_type(request)
    boundary = multipart_boundary(content_type)
    body = _request_body(request)
    if boundary is None or body is None or boundary == STABLE_MULTIPART_BOUNDARY:
        return request
    stable = STABLE_MULTIPART_BOUNDARY.encode("ascii")
    if stable in body:
        return request
    new_body = body.replace(b"--" + boundary.encode("latin-1"), b"--" + stable)
    request.body = new_body
    headers = request.headers
    had_length = False
    for name in list(headers):
        if str(name).lower() in ("content-type", "content-length"):
            had_length = had_length or str(name).lower() == "content-length"
            del headers[name]
    headers["content-type"] = content_type.replace(boundary, STABLE_MULTIPART_BOUNDARY)  # type: ignore[union-attr]
    if had_length:  # the fixed boundary is longer than httpx's, so the length changes with it
        headers["content-length"] = str(len(new_body))
    request.headers = headers
    return request


def _multipart_fields(request: Any) -> list[tuple[str, str | None, bytes]] | None:
    content_type = _request_content_type(request)
    body = _request_body(request)
    if multipart_boundary(content_type) is None or body is None:
        return None
    try:
        parts = parse_multipart(body, content_type)
    except ValueError:
        return None
    # A part's own Content-Type is left out on purpose: httpx guesses it from the file name with
    # the system's mimetypes database, so it differs between machines for the same upload.
    return [(part.name, part.filename, part.data) for part in parts]


def multipart_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: ``body``, except that multipart bodies are compared field by field.

    Two ``multipart/form-data`` requests match when they have the same fields in the same order
    with the same names, file names and contents, whatever their boundaries and the parts'
    guessed content types.  Every other body is left to vcrpy's own ``body`` matcher (JSON
    compared after parsing, and so on).  Raises ``AssertionError`` on a mismatch, as vcrpy's
    matchers do.
    """
    fields1, fields2 = _multipart_fields(r1), _multipart_fields(r2)
    if fields1 is None or fields2 is None:
        from vcr.matchers import body  # noqa: PLC0415 - only recording/replaying needs vcrpy

        body(r1, r2)
        return
    if fields1 != fields2:
        def show(fields: list[tuple[str, str | None, bytes]]) -> str:
            return ", ".join(f"{name}(filename={filename!r}, {len(data)} bytes)" for name, filename, data in fields)

        raise AssertionError(f"multipart fields differ: [{show(fields1)}] != [{show(fields2)}]")


def with_multipart_support(recorder: Any) -> Any:
    """Make a ``vcr.VCR`` (e.g. from ``make_vcr``) record and replay file uploads.

    Registers :func:`multipart_body` as the ``body`` matcher (so ``match_on=(..., "body")`` uses
    it) and runs :func:`stable_multipart_boundary` before the recorder's own
    ``before_record_request`` filters.  Returns the same recorder.  Needed for any cassette that
    holds ``client.files.create`` (the Batch API); harmless for the rest.
    """
    recorder.register_matcher("body", multipart_body)
    existing = recorder.before_record_request
    if existing is None:
        chain: tuple[Any, ...] = ()
    elif callable(existing):
        chain = (existing,)
    else:
        chain = tuple(existing)
    if stable_multipart_boundary not in chain:
        recorder.before_record_request = (stable_multipart_boundary, *chain)
    return recorder
