"""The model client: the openai SDK with strict structured outputs, and one owner per fault.

Transport faults (429 honouring Retry-After, 500/502/503/504, timeouts, dropped connections) are
retried here by tenacity with jittered exponential backoff and a bound. The SDK's own retries are
set to 0, explicitly, on every client this module uses (including one the caller passes in), so a
fault is never retried by two layers at once: stacked, one 429 would become nine calls. Errors that
retrying cannot fix (400, 401, 403, 404, ...) are raised at once.

The drafting loop above this module retries only on drafter's own rejections (schema or verifier),
never on transport errors; see :mod:`drafter.drafting`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from drafter.cache import ResponseCache, request_key
from drafter.errors import DrafterError, UserError, redact

DEFAULT_MODEL = "gpt-4.1-mini"
MODEL_ENV = "DRAFTER_MODEL"
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0
# A report's answer is a few kilobytes to a few hundred; anything far larger is a server gone wrong,
# and is refused rather than parsed (the token counts are checked too, see check_usage).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_USAGE_TOKENS = 2_000_000
# Every request bounds its answer (max_completion_tokens): a report's answer is a few thousand
# tokens, and a model or server that runs on would otherwise be paid for without limit. An answer
# cut at the bound comes back with finish_reason "length" and goes through the repair loop; a reply
# that claims more completion tokens than the bound is refused (see parse_completion).
DEFAULT_MAX_COMPLETION_TOKENS = 16_384


def resolve_model(model: str | None) -> str:
    """An explicit model, else $DRAFTER_MODEL, else the documented default."""
    return model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


@dataclass
class Usage:
    """Tokens and requests, summed over every call of a report, successful or not."""

    requests: int = 0
    failed_requests: int = 0
    cached_responses: int = 0
    # Tokens of responses served from the response cache: part of the totals below (the draft was
    # built from them) but not spent again; cost estimates leave them out.
    replayed_prompt_tokens: int = 0
    replayed_completion_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        for name in ("requests", "failed_requests", "cached_responses", "replayed_prompt_tokens",
                     "replayed_completion_tokens", "prompt_tokens", "completion_tokens", "cached_tokens",
                     "reasoning_tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def spent_prompt_tokens(self) -> int:
        return self.prompt_tokens - self.replayed_prompt_tokens

    @property
    def spent_completion_tokens(self) -> int:
        return self.completion_tokens - self.replayed_completion_tokens

    def as_dict(self) -> dict[str, int]:
        """Everything, run-specific counters included (for logs and batch summaries)."""
        return {"requests": self.requests, "failed_requests": self.failed_requests,
                "cached_responses": self.cached_responses, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cached_tokens": self.cached_tokens,
                "reasoning_tokens": self.reasoning_tokens, "total_tokens": self.total_tokens,
                "replayed_prompt_tokens": self.replayed_prompt_tokens,
                "replayed_completion_tokens": self.replayed_completion_tokens}

    def response_dict(self) -> dict[str, int]:
        """Only what the model's responses say, so a report is the same however its calls were served."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cached_tokens": self.cached_tokens, "reasoning_tokens": self.reasoning_tokens,
                "total_tokens": self.total_tokens}

    @classmethod
    def from_response(cls, usage: Any) -> Usage:
        if usage is None:
            return cls(requests=1)
        prompt_details = getattr(usage, "prompt_tokens_details", None)
        completion_details = getattr(usage, "completion_tokens_details", None)
        return cls(
            requests=1,
            prompt_tokens=usage.prompt_tokens or 0,
            completion_tokens=usage.completion_tokens or 0,
            cached_tokens=(getattr(prompt_details, "cached_tokens", 0) or 0) if prompt_details else 0,
            reasoning_tokens=(getattr(completion_details, "reasoning_tokens", 0) or 0) if completion_details else 0,
        )


@dataclass(frozen=True)
class CallResult:
    """One completed chat call: what came back, why it stopped, what it cost."""

    content: str | None
    refusal: str | None
    finish_reason: str
    usage: Usage
    model: str
    transport_failures: tuple[str, ...] = ()


class CallFailed(DrafterError):
    """A call that never got an answer: a client error, or transport retries run out.

    Carries how many requests were sent and failed, so that the caller's usage (and a batch's
    summary) counts what the server saw, not zero.
    """

    def __init__(self, cause: openai.OpenAIError, failed_requests: int) -> None:
        super().__init__(redact(f"{type(cause).__name__}: {cause}"))
        self.cause = cause
        self.failed_requests = failed_requests


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for transport retries (the SDK's own are off).

    ``attempt_seconds`` is a deadline for one whole attempt (connect, headers and body): a server
    that trickles a byte every few seconds never trips a read timeout, but cannot hold a call (and a
    batch's slot) longer than this. ``max_seconds`` bounds the whole retry loop, attempts included:
    no attempt is given more time than what is left of it.
    """

    max_attempts: int = 5
    max_seconds: float = 300.0
    backoff_max: float = 30.0
    attempt_seconds: float = 180.0


class TransportFault(openai.OpenAIError):
    """A reply drafter cannot use although the HTTP exchange 'worked': a 200 whose body is not JSON,
    not UTF-8, cut short, of the wrong shape (a list, no choices, no message), with impossible token
    counts, or one that took longer than the attempt's deadline. Retried like a 5xx."""


class ResponseTooLarge(openai.OpenAIError):
    """A reply beyond :data:`MAX_RESPONSE_BYTES`: not retried (the same request would be paid again)."""


def replay_miss(exc: BaseException) -> bool:
    """A request that a replayed cassette has no answer for (the SDK reports it as a connection error).

    Checked by name so that this module does not import vcrpy, which only replaying needs.
    """
    cause = exc.__cause__ or exc.__context__
    return cause is not None and type(cause).__name__ == "CannotOverwriteExistingCassetteException"


def is_transient(exc: BaseException) -> bool:
    """Retry timeouts, dropped connections, 429 and 5xx gateways; never a client error or a replay miss."""
    if isinstance(exc, TransportFault):
        return True
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return not replay_miss(exc)
    return isinstance(exc, openai.APIStatusError) and exc.status_code in TRANSIENT_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's Retry-After (seconds, HTTP date, or retry-after-ms), if it sent one."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date; anything else ("soon-ish") is as if the header were absent
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


class _WaitRetryAfterOrJitter:
    """Wait what the server asked for (capped), else jittered exponential backoff."""

    def __init__(self, backoff_max: float) -> None:
        self.jitter = wait_random_exponential(multiplier=0.5, max=backoff_max)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc) if exc is not None else None
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_SECONDS)
        return float(self.jitter(state))


def transport_retrying(policy: RetryPolicy, failures: list[str]) -> dict[str, Any]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        failures.append(redact(f"{type(exc).__name__}: {exc}"))

    return {
        "retry": retry_if_exception(is_transient),
        "stop": stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_seconds),
        "wait": _WaitRetryAfterOrJitter(policy.backoff_max),
        "before_sleep": before_sleep,
        "reraise": True,
    }


def response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def call_result(response: Any, model: str, failures: list[str]) -> CallResult:
    choice = response.choices[0]
    usage = Usage.from_response(response.usage)
    usage.failed_requests = len(failures)
    return CallResult(
        content=choice.message.content,
        refusal=getattr(choice.message, "refusal", None),
        finish_reason=choice.finish_reason or "unknown",
        usage=usage,
        model=response.model or model,
        transport_failures=tuple(failures),
    )


def without_sdk_retries(client: Any) -> Any:
    return client.with_options(max_retries=0)


def make_client(*, api_key: str | None = None, base_url: str | None = None, timeout: float = 120.0) -> openai.OpenAI:
    """An OpenAI (or compatible) client from arguments or OPENAI_API_KEY / OPENAI_BASE_URL."""
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise UserError("no API key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible "
                        "endpoint), or pass --replay CASSETTE to draft from recorded responses")
    return openai.OpenAI(api_key=key, base_url=base_url or os.environ.get("OPENAI_BASE_URL"), timeout=timeout,
                         max_retries=0)


def make_async_client(*, api_key: str | None = None, base_url: str | None = None,
                      timeout: float = 120.0) -> openai.AsyncOpenAI:
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise UserError("no API key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible "
                        "endpoint), or pass --replay CASSETTE to draft from recorded responses")
    return openai.AsyncOpenAI(api_key=key, base_url=base_url or os.environ.get("OPENAI_BASE_URL"), timeout=timeout,
                              max_retries=0)


def request_body(messages: Sequence[dict[str, str]], model: str, schema_name: str, schema: dict[str, Any],
             max_tokens: int | None) -> dict[str, Any]:
    """The request body, exactly as sent: also the response cache's key.

    ``max_tokens`` None means :data:`DEFAULT_MAX_COMPLETION_TOKENS`: no request goes out unbounded.
    """
    if max_tokens is not None and max_tokens < 1:
        raise UserError(f"max_tokens: expected 1 or more, found {max_tokens}")
    body: dict[str, Any] = {"model": model, "messages": list(messages),
                            "response_format": response_format(schema_name, schema), "temperature": 0,
                            "max_completion_tokens": max_tokens or DEFAULT_MAX_COMPLETION_TOKENS}
    return body


def _cache_request(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint": str(client.base_url), **body}


def _from_cache(cached: dict[str, Any], model: str) -> CallResult:
    result = call_result(parse_completion(cached), model, [])
    # The draft is built from this response and its tokens stay in the totals, but nothing was sent:
    # no request, and its tokens are marked as replayed so cost estimates leave them out.
    usage = dataclasses.replace(result.usage, requests=0, cached_responses=1,
                                replayed_prompt_tokens=result.usage.prompt_tokens,
                                replayed_completion_tokens=result.usage.completion_tokens)
    return CallResult(result.content, result.refusal, result.finish_reason, usage, result.model)


def _cached(cache: ResponseCache | None, request: dict[str, Any], key: str | None, model: str) -> CallResult | None:
    """A usable cached answer, or None; an entry of the wrong shape is a miss (the cache warns)."""
    if cache is None or (hit := cache.get(request, key=key)) is None:
        return None
    try:
        return _from_cache(hit, model)
    except TransportFault as exc:
        cache.distrust(request, str(exc), key=key)
        return None


def _lookup(cache: ResponseCache | None, request: dict[str, Any], model: str) -> tuple[str, CallResult | None]:
    """The request's key (hashed once per call) and its usable cached answer, if any."""
    key = request_key(request)
    return key, _cached(cache, request, key, model)


def _store(cache: ResponseCache, request: dict[str, Any], key: str | None, response: Any) -> None:
    cache.put(request, response.model_dump(mode="json"), key=key)


# --- reading a reply ----------------------------------------------------------------------------------


def _describe(data: bytes) -> str:
    head = data[:60].decode("utf-8", "replace").replace("\n", " ")
    return f"{len(data)} bytes starting {head!r}" if data else "an empty body"


def _count(usage: dict[str, Any], name: str, where: str) -> None:
    value = usage.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_USAGE_TOKENS:
        raise TransportFault(f"{where}.{name}: found {value!r}; expected a whole number from 0 to "
                             f"{MAX_USAGE_TOKENS:,}")


def check_usage(usage: Any) -> None:
    """Refuse token counts no real reply has (negative, huge, not integers): they would break the budget."""
    if usage is None:
        return
    if not isinstance(usage, dict):
        raise TransportFault(f"usage: found {type(usage).__name__}; expected an object")
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        _count(usage, name, "usage")
    for details, name in (("prompt_tokens_details", "cached_tokens"), ("completion_tokens_details", "reasoning_tokens")):
        if isinstance(usage.get(details), dict):
            _count(usage[details], name, f"usage.{details}")


def check_bound(completion: Any, body: dict[str, Any]) -> None:
    """Refuse a reply that claims more completion tokens than the request allowed (the server ignored it)."""
    bound = body.get("max_completion_tokens")
    used = completion.usage.completion_tokens if completion.usage is not None else 0
    if bound and used and used > bound:
        raise TransportFault(f"usage.completion_tokens: found {used:,}; expected at most the {bound:,} the request "
                             "allowed (max_completion_tokens)")


def parse_completion(payload: bytes | dict[str, Any]) -> Any:
    """A chat completion from a reply body (or a cached one), or a :class:`TransportFault` saying what is wrong."""
    from openai.types.chat import ChatCompletion
    from pydantic import ValidationError

    if isinstance(payload, bytes | bytearray):
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TransportFault(f"the reply is not UTF-8 (byte {exc.start}); {_describe(bytes(payload))}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise TransportFault(f"the reply is not JSON: {_describe(bytes(payload))}") from None
    else:
        data = payload
    if not isinstance(data, dict):
        raise TransportFault(f"the reply is a JSON {type(data).__name__}; expected a chat completion object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise TransportFault(f"choices: found {choices!r:.60}; expected a non-empty list")
    first = choices[0]
    if not isinstance(first, dict) or not isinstance(first.get("message"), dict):
        raise TransportFault("choices[0].message: missing or not an object")
    content = first["message"].get("content")
    if content is not None and not isinstance(content, str):
        raise TransportFault(f"choices[0].message.content: found {type(content).__name__}; expected a string")
    check_usage(data.get("usage"))
    try:
        return ChatCompletion.model_validate(data)
    except ValidationError as exc:
        raise TransportFault(f"the reply is not a chat completion: {exc.errors(include_url=False)[0]['msg']}") from None


def _too_large(size: int) -> ResponseTooLarge:
    return ResponseTooLarge(f"the reply is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB ({size:,} bytes so "
                            "far); refused unread")


def _attempt_budget(policy: RetryPolicy, started: float) -> float:
    """This attempt's deadline in seconds: the attempt's own, cut to what is left of the whole loop."""
    left = policy.max_seconds - (time.monotonic() - started)
    return max(0.05, min(policy.attempt_seconds, left))


class ReplayMissed(openai.OpenAIError):
    """A replayed cassette has no answer for this request (never retried; see :func:`replay_miss`)."""


def _fault(exc: Exception) -> openai.OpenAIError:
    """What an exception raised while sending or reading a reply means to drafter."""
    if isinstance(exc, openai.OpenAIError):
        return exc
    if type(exc).__name__ == "CannotOverwriteExistingCassetteException":
        missed = ReplayMissed(str(exc).splitlines()[0] if str(exc) else "no recorded response")
        missed.__cause__ = exc
        return missed
    return TransportFault(f"the reply was cut short: {type(exc).__name__}: {exc}")


def _sync_attempt(sdk: Any, body: dict[str, Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    data = bytearray()
    try:
        with sdk.chat.completions.with_streaming_response.create(**body) as raw:
            for chunk in raw.iter_bytes():
                data += chunk
                if len(data) > MAX_RESPONSE_BYTES:
                    raise _too_large(len(data))
                if time.monotonic() > deadline:
                    raise TransportFault(f"no whole reply within {seconds:.0f} s ({len(data):,} bytes received)")
    except Exception as exc:  # noqa: BLE001 - any failure reading the body (cut short, reset) is transport
        _raise_as_transport(exc)
    return _checked_completion(data, body)



def _raise_as_transport(exc: Exception) -> NoReturn:
    """Re-raise a failure while reading a reply as the transport fault it is (or as itself if it is ours)."""
    fault = _fault(exc)
    if fault is exc:
        raise exc
    raise fault from (exc if isinstance(fault, ReplayMissed) else None)


def _checked_completion(data: bytearray, body: dict[str, Any]) -> Any:
    """The reply's completion, parsed and held to the bound the request set."""
    completion = parse_completion(bytes(data))
    check_bound(completion, body)
    return completion

async def _async_read(sdk: Any, body: dict[str, Any], seconds: float) -> bytearray:
    """One attempt's reply body, whole and within the deadline (parsing is the caller's)."""
    data = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async with sdk.chat.completions.with_streaming_response.create(**body) as raw:
                async for chunk in raw.iter_bytes():
                    data += chunk
                    if len(data) > MAX_RESPONSE_BYTES:
                        raise _too_large(len(data))
    except TimeoutError:
        raise TransportFault(f"no whole reply within {seconds:.0f} s ({len(data):,} bytes received)") from None
    except Exception as exc:  # noqa: BLE001 - any failure reading the body (cut short, reset) is transport
        _raise_as_transport(exc)
    return data


def complete(
    client: openai.OpenAI,
    messages: Sequence[dict[str, str]],
    *,
    model: str,
    schema_name: str,
    schema: dict[str, Any],
    policy: RetryPolicy | None = None,
    max_tokens: int | None = None,
    cache: ResponseCache | None = None,
) -> CallResult:
    """One structured-output chat call, with transport faults retried here and only here."""
    body = request_body(messages, model, schema_name, schema, max_tokens)
    request = _cache_request(client, body)
    key = request_key(request) if cache is not None else None
    if (hit := _cached(cache, request, key, model)) is not None:
        return hit
    failures: list[str] = []
    sdk = without_sdk_retries(client)
    bounds = policy or RetryPolicy()
    started = time.monotonic()
    try:
        for attempt in Retrying(**transport_retrying(bounds, failures)):
            with attempt:
                response = _sync_attempt(sdk, body, _attempt_budget(bounds, started))
    except openai.OpenAIError as exc:
        raise CallFailed(exc, len(failures) + 1) from exc
    if cache is not None:
        _store(cache, request, key, response)
    return call_result(response, model, failures)


async def acomplete(
    client: openai.AsyncOpenAI,
    messages: Sequence[dict[str, str]],
    *,
    model: str,
    schema_name: str,
    schema: dict[str, Any],
    policy: RetryPolicy | None = None,
    max_tokens: int | None = None,
    cache: ResponseCache | None = None,
    limiter: AdaptiveLimiter | None = None,
) -> CallResult:
    """The asynchronous twin of :func:`complete`; ``limiter`` bounds and paces concurrent calls.

    With a ``limiter`` (one per batch), a request identical to one already in flight is not sent
    again: it waits for that call's answer and is counted as served from cache.
    """
    body = request_body(messages, model, schema_name, schema, max_tokens)
    request = _cache_request(client, body)
    # Hashing the request and reading the cache (a file, JSON, a pydantic parse) happen off the event
    # loop, once per call: the key serves the cache read, the cache write and the in-flight sharing.
    key, hit = await asyncio.to_thread(_lookup, cache, request, model)
    if hit is not None:
        return hit
    if limiter is None:
        return await _acall(client, body, model, policy, cache, None, request, key)
    leader = limiter.shared_calls.get(key)
    if leader is not None:
        try:
            result = await asyncio.shield(leader)
        except CallFailed as exc:  # the leader's failed requests are counted once, by the leader
            raise CallFailed(exc.cause, 0) from exc.cause
        usage = dataclasses.replace(result.usage, requests=0, failed_requests=0, cached_responses=1,
                                    replayed_prompt_tokens=result.usage.prompt_tokens,
                                    replayed_completion_tokens=result.usage.completion_tokens)
        return CallResult(result.content, result.refusal, result.finish_reason, usage, result.model)
    future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
    limiter.shared_calls[key] = future
    try:
        result = await _acall(client, body, model, policy, cache, limiter, request, key)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when no one else waited
        raise
    finally:
        limiter.shared_calls.pop(key, None)
    future.set_result(result)
    return result


async def _acall(client: Any, body: dict[str, Any], model: str, policy: RetryPolicy | None,
                 cache: ResponseCache | None, limiter: AdaptiveLimiter | None, request: dict[str, Any],
                 key: str | None) -> CallResult:
    failures: list[str] = []
    sdk = without_sdk_retries(client)
    bounds = policy or RetryPolicy()
    started = time.monotonic()
    try:
        async for attempt in AsyncRetrying(**transport_retrying(bounds, failures)):
            with attempt:
                if limiter is None:
                    data = await _async_read(sdk, body, _attempt_budget(bounds, started))
                else:
                    # The slot is held while the request is in flight, and handed back as soon as the
                    # reply's bytes are in: parsing it is not a call, and must not keep the next one waiting.
                    async with limiter.slot():
                        try:
                            data = await _async_read(sdk, body, _attempt_budget(bounds, started))
                        except openai.RateLimitError as exc:
                            limiter.rate_limited(retry_after_seconds(exc))
                            raise
                response = await asyncio.to_thread(_checked_completion, data, body)
                if limiter is not None:
                    limiter.succeeded()
    except openai.OpenAIError as exc:
        raise CallFailed(exc, len(failures) + 1) from exc
    if cache is not None:
        await asyncio.to_thread(_store, cache, request, key, response)  # an fsynced file: off the loop
    return call_result(response, model, failures)


class AdaptiveLimiter:
    """At most ``limit`` calls in flight; halves the limit and pauses everyone on a 429, then grows back.

    Additive increase, multiplicative decrease, as TCP does: after ``limit`` successes in a row the
    limit rises by one, up to ``max_concurrency``. A 429's Retry-After pauses new calls for that long
    (tenacity retries the call that got the 429 after the same wait).
    """

    def __init__(self, max_concurrency: int) -> None:
        if max_concurrency < 1:
            raise UserError(f"concurrency must be at least 1, found {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.limit = max_concurrency
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limits = 0
        self._streak = 0
        self._paused_until = 0.0
        self._condition: asyncio.Condition | None = None
        # Calls in flight by request key, so that a batch sends an identical request once (see acomplete).
        self.shared_calls: dict[str, asyncio.Future[CallResult]] = {}

    def _cond(self) -> asyncio.Condition:
        if self._condition is None:
            self._condition = asyncio.Condition()
        return self._condition

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        cond = self._cond()
        async with cond:
            await cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            # Re-read the deadline after each sleep: a later 429 may have pushed it further out.
            while (pause := self._paused_until - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            yield
        finally:
            async with cond:
                self.in_flight -= 1
                cond.notify_all()

    def rate_limited(self, retry_after: float | None) -> None:
        self.rate_limits += 1
        self.limit = max(1, self.limit // 2)
        self._streak = 0
        wait = min(retry_after if retry_after is not None else 1.0, MAX_RETRY_AFTER_SECONDS)
        self._paused_until = max(self._paused_until, time.monotonic() + wait)

    def succeeded(self) -> None:
        self._streak += 1
        if self._streak >= self.limit and self.limit < self.max_concurrency:
            self.limit += 1
            self._streak = 0
