"""Tests for the scripted OpenAI server and the vcrpy helpers, through the REAL openai SDK.

These pin down the two things every drafter cassette test stands on:

* the scripted server's bodies, statuses, delays and dropped connections reach
  the real ``openai`` client (openai 3.x over httpx2) exactly as the real API's
  would, and map to the same SDK exceptions;
* vcrpy intercepts that client, writes cassettes with no credentials and no
  volatile headers, and replays them with no network, matching on the body.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from tests.llm_server import (
    NO_RESPONSE_LEFT,
    ScriptedOpenAIServer,
    assert_all_played,
    cassette_leaks,
    chat_completion,
    completion_id_for,
    completion_step,
    error_body,
    estimate_prompt_tokens,
    estimate_tokens,
    make_vcr,
    record_mode_from_env,
    validate_step,
)
from tests.llm_server.vcr_support import DEFAULT_CASSETTE_DIR, RECORDED_ORIGIN

REPO = Path(__file__).resolve().parents[1]
MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You draft drug-repurposing reports."},
    {"role": "user", "content": "Evaluate metformin for glioblastoma."},
]


def _completion(content: str | None = "Draft report.", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "model": "gpt-4o-mini-2024-07-18",
        "prompt_tokens": 25,
        "completion_tokens": 3,
        "completion_id": "chatcmpl-test0001",
        "created": 1767225600,
    }
    fields.update(overrides)
    return chat_completion(content, **fields)


def _client(base_url: str, *, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="test-key", max_retries=0, timeout=timeout)


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(lifetime=30) as srv:
        yield srv


def _create(client: openai.OpenAI, content: str = "Evaluate metformin for glioblastoma.") -> Any:
    return client.chat.completions.create(
        model=MODEL,
        messages=[MESSAGES[0], {"role": "user", "content": content}],
    )


# ------------------------------------------------------------------ wire shapes


def test_chat_completion_has_every_key_of_the_real_api_in_order() -> None:
    body = chat_completion(
        "hi",
        model="m",
        prompt_tokens=10,
        completion_tokens=2,
        cached_tokens=4,
        completion_id="chatcmpl-1",
        created=5,
    )
    assert list(body) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    assert body["object"] == "chat.completion"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hi", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 2,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    assert body["service_tier"] == "default"


def test_error_body_shape() -> None:
    assert error_body("slow down", "requests", "rate_limit_exceeded") == {
        "error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    }


def test_token_estimate_is_ceil_len_over_4_and_ids_are_body_hashes() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    request = {"model": "m", "messages": [{"role": "user", "content": "abcde"}]}
    assert estimate_prompt_tokens(request) == 3 + 3 + 2
    assert completion_id_for(request) == completion_id_for(dict(reversed(list(request.items()))))
    assert completion_id_for(request) != completion_id_for({**request, "model": "n"})
    assert completion_id_for(request).startswith("chatcmpl-")


def test_step_typos_fail_when_enqueued_not_when_served() -> None:
    with pytest.raises(ValueError, match="unknown step keys"):
        validate_step({"jsn": {}})
    with pytest.raises(ValueError, match="exactly one of 'json' or 'body'"):
        validate_step({"status": 200})
    with pytest.raises(ValueError, match="'drop' step sends nothing"):
        validate_step({"drop": True, "json": {}})
    with pytest.raises(ValueError, match="delay"):
        validate_step({"delay": 3600, "json": {}})


# --------------------------------------------------------- the real SDK, live


def test_normal_completion_parses(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"json": _completion("Draft report.", cached_tokens=16)})
    with _client(server.base_url) as client:
        result = _create(client)
    assert result.id == "chatcmpl-test0001"
    assert result.model == "gpt-4o-mini-2024-07-18"
    assert result.choices[0].message.content == "Draft report."
    assert result.choices[0].message.refusal is None
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (25, 3, 28)
    assert result.usage.prompt_tokens_details is not None
    assert result.usage.prompt_tokens_details.cached_tokens == 16
    assert result.system_fingerprint == "fp_scripted00"
    assert server.pending == 0


def test_requests_are_recorded_without_the_authorization_header(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"json": _completion()})
    with _client(server.base_url) as client:
        _create(client)
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.json == {"model": MODEL, "messages": MESSAGES}
    assert request.had_authorization
    assert "authorization" not in request.headers
    assert "test-key" not in json.dumps(request.headers)
    assert request.headers["content-type"] == "application/json"


def test_completion_step_computes_the_reply_from_the_request(server: ScriptedOpenAIServer) -> None:
    server.enqueue(completion_step("Twelve chars"))
    with _client(server.base_url) as client:
        result = _create(client)
    request = server.requests[0].json
    assert result.model == MODEL  # echoed from the request
    assert result.id == completion_id_for(request)
    assert result.usage is not None
    assert result.usage.prompt_tokens == estimate_prompt_tokens(request)
    assert result.usage.completion_tokens == 3


def test_refusal_comes_through_as_message_refusal(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"json": _completion(None, refusal="I can't help with that.")})
    with _client(server.base_url) as client:
        message = _create(client).choices[0].message
    assert message.content is None
    assert message.refusal == "I can't help with that."


def test_finish_reason_length_comes_through(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"json": _completion("Truncated dra", finish_reason="length")})
    with _client(server.base_url) as client:
        choice = _create(client).choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content == "Truncated dra"


def test_429_raises_rate_limit_error_with_retry_after(server: ScriptedOpenAIServer) -> None:
    server.enqueue(
        {
            "status": 429,
            "headers": {"retry-after": "1"},
            "json": error_body("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
        }
    )
    with _client(server.base_url) as client, pytest.raises(openai.RateLimitError) as caught:
        _create(client)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded"


def test_503_raises_internal_server_error(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"status": 503, "json": error_body("The server is overloaded", "server_error")})
    with _client(server.base_url) as client, pytest.raises(openai.InternalServerError) as caught:
        _create(client)
    assert caught.value.status_code == 503


def test_delay_longer_than_the_timeout_raises_api_timeout_error(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"delay": 5, "json": _completion()})
    started = time.monotonic()
    with _client(server.base_url, timeout=0.2) as client, pytest.raises(openai.APITimeoutError):
        _create(client)
    assert time.monotonic() - started < 2


def test_drop_raises_api_connection_error(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"drop": True})
    with _client(server.base_url) as client, pytest.raises(openai.APIConnectionError) as caught:
        _create(client)
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert len(server.requests) == 1  # the request arrived; only the reply was dropped


def test_empty_queue_gives_a_500_saying_so(server: ScriptedOpenAIServer) -> None:
    with _client(server.base_url) as client, pytest.raises(openai.InternalServerError) as caught:
        _create(client)
    assert caught.value.status_code == 500
    assert NO_RESPONSE_LEFT in caught.value.message


def test_respond_callable_failure_is_a_500_and_kept(server: ScriptedOpenAIServer) -> None:
    def broken(request_json: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    server.enqueue({"respond": broken})
    with _client(server.base_url) as client, pytest.raises(openai.InternalServerError):
        _create(client)
    assert any(isinstance(error, KeyError) for error in server.errors)


def test_models_endpoint(server: ScriptedOpenAIServer) -> None:
    with _client(server.base_url) as client:
        names = [model.id for model in client.models.list()]
    assert MODEL in names
    assert server.pending == 0


def test_steps_are_served_fifo_and_assert_drained(server: ScriptedOpenAIServer) -> None:
    server.enqueue({"json": _completion("first")}, {"json": _completion("second")})
    with _client(server.base_url) as client:
        assert _create(client).choices[0].message.content == "first"
        with pytest.raises(AssertionError, match="1 step"):
            server.assert_drained()
        assert _create(client).choices[0].message.content == "second"
    server.assert_drained()


def test_one_client_reuses_one_connection_for_many_calls(server: ScriptedOpenAIServer) -> None:
    # HTTP/1.1 keep-alive, as the real API: a batch must not pay a TCP connect per call.
    server.enqueue(*[{"json": _completion(f"answer {i}")} for i in range(5)])
    with _client(server.base_url) as client:
        answers = [_create(client).choices[0].message.content for _ in range(5)]
    assert answers == [f"answer {i}" for i in range(5)]
    assert server.connections_opened == 1


def test_a_broken_reply_closes_its_connection_and_the_next_call_gets_a_fresh_one(
        server: ScriptedOpenAIServer) -> None:
    # A body shorter than its Content-Length must not leave the connection looking reusable.
    server.enqueue({"json": _completion(), "content_length": 10_000}, {"drop": True}, {"json": _completion("ok")})
    with _client(server.base_url, timeout=2) as client:
        with pytest.raises(openai.APIConnectionError):
            _create(client)
        with pytest.raises(openai.APIConnectionError):
            _create(client)
        assert _create(client).choices[0].message.content == "ok"
    assert server.connections_opened == 3


def test_closing_the_server_ends_an_idle_kept_alive_connection() -> None:
    srv = ScriptedOpenAIServer([{"json": _completion()}, {"json": _completion()}], lifetime=30)
    with _client(srv.base_url, timeout=2) as client:
        _create(client)  # the connection now sits idle in the client's pool
        srv.close()
        with pytest.raises(openai.APIConnectionError):
            _create(client)
    assert srv.pending == 1  # the second step was never served


def test_server_stops_by_itself_after_its_lifetime() -> None:
    srv = ScriptedOpenAIServer([{"json": _completion()}], lifetime=0.3)
    try:
        assert srv.running
        assert srv.wait_stopped(timeout=5)
        assert srv.stopped_reason == "lifetime"
        with _client(srv.base_url, timeout=1) as client, pytest.raises(openai.APIConnectionError):
            _create(client)
    finally:
        srv.close()
    assert srv.stopped_reason == "lifetime"


def test_close_stops_the_server_and_joins_its_thread() -> None:
    srv = ScriptedOpenAIServer([{"delay": 10, "json": _completion()}], lifetime=30)
    base_url = srv.base_url
    with _client(base_url, timeout=0.2) as client, pytest.raises(openai.APITimeoutError):
        _create(client)
    started = time.monotonic()
    srv.close()  # must cut the 10 s delay short
    assert time.monotonic() - started < 2
    assert not srv.running
    assert srv.stopped_reason == "closed"
    assert not srv._thread.is_alive()
    srv.close()  # idempotent
    with _client(base_url, timeout=1) as client, pytest.raises(openai.APIConnectionError):
        _create(client)


def test_server_stops_after_max_requests() -> None:
    with ScriptedOpenAIServer([{"json": _completion()}] * 3, max_requests=2, lifetime=30) as srv:
        with _client(srv.base_url) as client:
            _create(client)
            _create(client)
            with pytest.raises(openai.InternalServerError, match="request limit"):
                _create(client)
        assert srv.wait_stopped(timeout=5)
        assert srv.stopped_reason == "max_requests"


def test_cli_serves_a_steps_file_and_stops_after_its_lifetime(tmp_path: Path) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"json": _completion("from the CLI")}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_server", "--steps", str(steps), "--lifetime", "0.8"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with _client(base_url) as client:
            assert _create(client).choices[0].message.content == "from the CLI"
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "stopped (lifetime)" in err


# ------------------------------------------------------------------------- vcr

_LEAKY_RESPONSE_HEADERS = {
    "set-cookie": "__cf_bm=abc123; path=/; HttpOnly",
    "openai-organization": "org-AbCdEfGhIjKlMnOpQrStUvWx",
    "openai-project": "proj_AbCdEfGhIjKlMnOpQrStUvWx",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-reset-tokens": "6ms",
    "cf-ray": "8f00000000000000-AMS",
}


def _record(cassette_dir: Path, name: str, contents: list[str]) -> Path:
    """Record one interaction per prompt in ``contents`` against a fresh server."""
    steps = [
        {
            "json": _completion(f"answer {index}", completion_id=f"chatcmpl-rec{index}"),
            "headers": _LEAKY_RESPONSE_HEADERS,
        }
        for index in range(len(contents))
    ]
    with ScriptedOpenAIServer(steps, lifetime=30) as srv:
        with make_vcr(cassette_dir, "all").use_cassette(name) as cassette, _client(srv.base_url) as client:
            for content in contents:
                _create(client, content)
        assert len(cassette.data) >= len(contents)  # plus any interactions loaded from an older file
        srv.assert_drained()
    return cassette_dir / f"{name}.yaml"


def test_vcr_patches_the_httpx2_transport_the_sdk_uses() -> None:
    """If this fails, vcrpy no longer intercepts openai's HTTP stack and no cassette test means anything."""
    import httpx2

    with _client("http://127.0.0.1:9/v1") as client:
        assert type(client._client._transport) is httpx2.HTTPTransport


def test_vcr_round_trip_records_clean_and_replays_without_network(tmp_path: Path) -> None:
    path = _record(tmp_path, "round_trip", ["Evaluate metformin for glioblastoma."])
    text = path.read_text()

    # Recorded clean: no credential, no account id, no volatile header.
    assert "test-key" not in text
    assert cassette_leaks(path) == []
    (interaction,) = yaml.safe_load(text)["interactions"]
    request_headers = {name.lower() for name in interaction["request"]["headers"]}
    response_headers = {name.lower() for name in interaction["response"]["headers"]}
    assert "authorization" not in request_headers
    assert "host" not in request_headers
    assert {"set-cookie", "date", "server", "x-request-id", "openai-organization", "cf-ray"}.isdisjoint(
        response_headers
    )
    assert not any(name.startswith("x-ratelimit-") for name in response_headers)
    assert interaction["request"]["uri"] == f"{RECORDED_ORIGIN}/v1/chat/completions"
    assert json.loads(interaction["request"]["body"]) == {"model": MODEL, "messages": MESSAGES}
    assert json.loads(interaction["response"]["body"]["string"])["choices"][0]["message"]["content"] == "answer 0"

    # Replay: the server is closed, and the client points at a host that cannot
    # resolve and another port; only the path and body have to match.
    replay = make_vcr(tmp_path, "none")
    with replay.use_cassette("round_trip") as cassette:
        with _client("http://replay-host.invalid:6553/v1") as client:
            result = _create(client)
            assert result.choices[0].message.content == "answer 0"
            assert result.usage is not None and result.usage.total_tokens == 28
            with pytest.raises(CannotOverwriteExistingCassetteException):
                _create(client, "Evaluate metformin for glioma.")  # different prompt, no match
    assert_all_played(cassette)
    assert path.read_text() == text  # replay never rewrites the cassette


def test_rerecording_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _record(tmp_path / "a", "same", ["one prompt", "another prompt"])
    second = _record(tmp_path / "b", "same", ["one prompt", "another prompt"])
    assert first.read_bytes() == second.read_bytes()


def test_rerecording_drops_interactions_whose_prompt_changed(tmp_path: Path) -> None:
    _record(tmp_path, "evolving", ["old prompt"])
    path = _record(tmp_path, "evolving", ["new prompt"])
    bodies = [json.loads(i["request"]["body"]) for i in yaml.safe_load(path.read_text())["interactions"]]
    assert [body["messages"][1]["content"] for body in bodies] == ["new prompt"]


def test_assert_all_played_catches_an_unused_interaction(tmp_path: Path) -> None:
    _record(tmp_path, "two_calls", ["first prompt", "second prompt"])
    with make_vcr(tmp_path, "none").use_cassette("two_calls") as cassette:
        with _client("http://127.0.0.1:9/v1") as client:
            _create(client, "first prompt")
    with pytest.raises(AssertionError, match=r"(?s)1 unplayed interaction.*#1: POST /v1/chat/completions"):
        assert_all_played(cassette)


def test_cassette_leaks_finds_credentials(tmp_path: Path) -> None:
    key = "sk-proj-" + "A1b2C3d4" * 4
    leaky = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions",
                    "body": json.dumps({"note": f"key {key}"}),
                    "headers": {"Authorization": ["Bearer abcdefgh"], "OpenAI-Organization": ["org-x"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Set-Cookie": ["a=b"]},
                    "body": {"string": "{}"},
                },
            }
        ],
    }
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(leaky))
    problems = "\n".join(cassette_leaks(path))
    assert "API key (sk-...)" in problems
    assert "bearer token" in problems
    assert "request header 'authorization'" in problems
    assert "request header 'openai-organization'" in problems
    assert "response header 'set-cookie'" in problems
    assert key not in problems  # the report must not repeat the secret

    benign = tmp_path / "benign.yaml"
    benign.write_text(yaml.safe_dump({"version": 1, "interactions": []}) + "# risk-stratification-of-patients\n")
    assert cassette_leaks(benign) == []


def test_committed_cassettes_do_not_leak() -> None:
    problems = [problem for path in sorted(DEFAULT_CASSETTE_DIR.glob("*.yaml")) for problem in cassette_leaks(path)]
    assert problems == []


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({}, "none"),
        ({"DRAFTER_RECORD": ""}, "none"),
        ({"DRAFTER_RECORD": "0"}, "none"),
        ({"DRAFTER_RECORD": "1"}, "all"),
        ({"DRAFTER_RECORD": "new_episodes"}, "new_episodes"),
        ({"DRAFTER_RECORD": "1", "CI": "true"}, "none"),
        ({"CI": "1"}, "none"),
    ],
)
def test_record_mode_from_env(environ: dict[str, str], mode: str) -> None:
    assert record_mode_from_env(environ) == mode


def test_record_mode_from_env_rejects_typos() -> None:
    with pytest.raises(ValueError, match="DRAFTER_RECORD"):
        record_mode_from_env({"DRAFTER_RECORD": "yes"})


def test_short_keys_proxy_and_google_headers_and_query_keys_are_scrubbed_and_caught(tmp_path: Path) -> None:
    """Recording scrubs them and the leak check finds them in a cassette written by hand (both missed them)."""
    from tests.llm_server.vcr_support import scrub_query, scrub_request, scrub_response
    from vcr.request import Request

    short = "sk-abc12"  # shorter than 16 characters after sk-
    request = Request("POST", "http://127.0.0.1:9/v1/chat?key=AIzaSyShh&api_key=hush&page=2",
                      json.dumps({"note": f"key {short}"}).encode(), {"Proxy-Authorization": "Basic dXNlcjpwdw=="})
    scrubbed = scrub_request(request)
    assert short not in scrubbed.body.decode() and "hush" not in scrubbed.uri and "AIzaSyShh" not in scrubbed.uri
    assert "page=2" in scrubbed.uri and scrub_query("a=1") == "a=1"
    response = scrub_response({"headers": {}, "body": {"string": f"Incorrect API key {short}; Bearer tok-1234".encode()}})
    assert short.encode() not in response["body"]["string"] and b"tok-1234" not in response["body"]["string"]
    vcr_filtered = {"proxy-authorization", "x-goog-api-key"}
    from tests.llm_server.vcr_support import FILTERED_REQUEST_HEADERS

    assert vcr_filtered <= set(FILTERED_REQUEST_HEADERS)

    leaky = {"version": 1, "interactions": [{
        "request": {"method": "GET", "uri": "https://generativelanguage.googleapis.com/v1/models?key=AIzaSyA1b2C3d4e5",
                    "body": json.dumps({"note": f"key {short}"}),
                    "headers": {"Proxy-Authorization": ["Basic dXNlcjpwdw=="], "X-Goog-Api-Key": ["AIzaSyA1b2C3d4e5"]}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}}}]}
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(leaky))
    problems = "\n".join(cassette_leaks(path))
    for expected in ("API key (sk-...)", "credential in a query string", "request header 'proxy-authorization'",
                     "request header 'x-goog-api-key'", "Google API key"):
        assert expected in problems, (expected, problems)
    assert short not in problems
