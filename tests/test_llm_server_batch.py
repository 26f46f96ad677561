"""The scripted server's batch-drafting features, through the REAL openai SDK.

* latency and the concurrency counters (``chat_calls``, ``max_in_flight``), sync and async;
* the ``default`` responder, which answers any number of calls beyond the scripted queue;
* ``auto_draft_step``, a drafter answer computed from the request, verifying for every example
  pack through ``drafter.pipeline.draft_report``, and ``scripted_by_pack``;
* the Batch API (``/v1/files``, ``/v1/batches``): round trip, per-request errors, a duplicate
  ``custom_id`` failing the batch, cancellation;
* a vcr round trip of the Batch API, which needs ``with_multipart_support`` because httpx picks a
  random multipart boundary for every upload.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from openai.types.chat import ChatCompletion
from vcr.errors import CannotOverwriteExistingCassetteException

import drafter
from drafter.drafting import DraftError, DraftStatus
from drafter.drafts import ReportDraft
from drafter.llm import RetryPolicy
from drafter.pipeline import draft_report
from tests.llm_server import (
    NO_RESPONSE_LEFT,
    ScriptedOpenAIServer,
    assert_all_played,
    cassette_leaks,
    completion_step,
    error_body,
    make_vcr,
)
from tests.llm_server.auto import AUTO_STATEMENT, auto_draft_answer, auto_draft_step, draft_ranks, scripted_by_pack
from tests.llm_server.wire import (
    STABLE_MULTIPART_BOUNDARY,
    batch_input_line,
    jsonl,
    multipart_body,
    parse_jsonl,
    parse_multipart,
    with_multipart_support,
)

ROOT = Path(__file__).resolve().parents[1]
PACKS = sorted((ROOT / "examples" / "packs").glob("*.json"))
MODEL = "gpt-4.1-mini"
REPORT_DATE = dt.date(2026, 11, 21)
FAST_RETRY = RetryPolicy(max_attempts=3, max_seconds=10.0, backoff_max=0.02)
CHAT = "/v1/chat/completions"


def _client(base_url: str, *, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="test-key", max_retries=0, timeout=timeout)


def _ask(client: openai.OpenAI, content: str = "Evaluate metformin for glioblastoma.") -> ChatCompletion:
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(lifetime=60) as srv:
        yield srv


# ------------------------------------------------------------------- latency and concurrency


def test_latency_delays_every_chat_reply() -> None:
    with ScriptedOpenAIServer(default=completion_step("late"), latency=0.3, lifetime=30) as srv:
        with _client(srv.base_url) as client:
            started = time.monotonic()
            assert _ask(client).choices[0].message.content == "late"
            assert time.monotonic() - started >= 0.3
            names = [model.id for model in client.models.list()]  # other endpoints are not delayed
        assert MODEL in names
        assert srv.chat_calls == 1


def test_latency_is_bounded_and_close_cuts_it_short() -> None:
    with pytest.raises(ValueError, match="latency"):
        ScriptedOpenAIServer(latency=3600)
    srv = ScriptedOpenAIServer(default=completion_step("never"), latency=30, lifetime=30)
    with _client(srv.base_url, timeout=0.3) as client, pytest.raises(openai.APITimeoutError):
        _ask(client)
    started = time.monotonic()
    srv.close()
    assert time.monotonic() - started < 2


def test_max_in_flight_reaches_n_with_n_concurrent_threads() -> None:
    n = 6
    with ScriptedOpenAIServer(default=completion_step("ok"), latency=0.3, lifetime=30) as srv:
        barrier = threading.Barrier(n)
        answers: list[str | None] = []
        errors: list[BaseException] = []

        def call() -> None:
            try:
                with _client(srv.base_url) as client:
                    barrier.wait()
                    answers.append(_ask(client).choices[0].message.content)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(n)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        elapsed = time.monotonic() - started
        assert errors == []
        assert answers == ["ok"] * n
        assert srv.chat_calls == n
        assert srv.max_in_flight == n
        # the handler thread counts its request done just after the client has the reply: allow it a moment
        settle = time.monotonic() + 2
        while srv.in_flight and time.monotonic() < settle:
            time.sleep(0.01)
        assert srv.in_flight == 0
        assert elapsed < n * 0.3  # overlapped, not serialised


def test_max_in_flight_stays_one_for_sequential_calls() -> None:
    with ScriptedOpenAIServer(default=completion_step("ok"), latency=0.05, lifetime=30) as srv:
        with _client(srv.base_url) as client:
            for _ in range(4):
                _ask(client)
        assert (srv.chat_calls, srv.max_in_flight, srv.in_flight) == (4, 1, 0)


def test_max_in_flight_with_async_client_and_gather() -> None:
    n = 5

    async def main(base_url: str) -> list[ChatCompletion]:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="test-key", max_retries=0, timeout=10) as client:
            return await asyncio.gather(*[
                client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"q{i}"}])
                for i in range(n)
            ])

    with ScriptedOpenAIServer(default=completion_step("async"), latency=0.3, lifetime=30) as srv:
        results = asyncio.run(main(srv.base_url))
        assert [r.choices[0].message.content for r in results] == ["async"] * n
        assert srv.max_in_flight == n
        assert srv.chat_calls == n


# ------------------------------------------------------------------------ default responder


def test_default_answers_beyond_the_queue_and_the_queue_comes_first() -> None:
    with ScriptedOpenAIServer([completion_step("scripted")], default=completion_step("default"), lifetime=30) as srv:
        with _client(srv.base_url) as client:
            contents = [_ask(client, f"prompt {i}").choices[0].message.content for i in range(5)]
        assert contents == ["scripted"] + ["default"] * 4
        srv.assert_drained()
        # a respond default is called per request: each reply is computed from its own request
        ids = {request.json["messages"][0]["content"] for request in srv.requests}
        assert len(ids) == 5
        assert srv.default is not None and "respond" in srv.default


def test_without_a_default_an_empty_queue_is_still_a_500(server: ScriptedOpenAIServer) -> None:
    assert server.default is None
    with _client(server.base_url) as client, pytest.raises(openai.InternalServerError, match=NO_RESPONSE_LEFT):
        _ask(client)


def test_a_bad_default_fails_in_the_constructor() -> None:
    with pytest.raises(ValueError, match="unknown step keys"):
        ScriptedOpenAIServer(default={"jsn": {}})


# --------------------------------------------------------------------------- auto drafting


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.stem)
def test_auto_draft_step_verifies_for_every_example_pack(pack: Path) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as srv:
        with _client(srv.base_url) as client:
            report = draft_report(pack, client=client, model=MODEL, report_date=REPORT_DATE)
        assert report.status is DraftStatus.VERIFIED
        assert report.verification.ok
        assert srv.chat_calls == 1  # verified on the first attempt: no repair turn
        request = srv.requests[0].json
    # the answer, checked directly with the verifier, from the request alone
    answer = ReportDraft.model_validate_json(auto_draft_answer(request))
    evidence = drafter.load_pack(pack)
    assert list(drafter.verify(evidence, answer).errors) == []
    assert sorted(item.rank for item in answer.indications) == sorted(draft_ranks(request))
    assert answer.indications[0].sections.conclusion.decision == "Hold"
    assert answer.indications[0].sections.conclusion.rationale[0].text == AUTO_STATEMENT["text"]


def test_draft_ranks_finds_the_enum_and_rejects_other_requests() -> None:
    nested = {"response_format": {"json_schema": {"schema": {
        "type": "object",
        "properties": {"indications": {"type": "array", "items": {
            "type": "object", "properties": {"rank": {"type": "integer", "enum": [3, 1]}}}}},
    }}}}
    assert draft_ranks(nested) == [3, 1]  # inlined schema, no $defs
    single = {"response_format": {"json_schema": {"schema": {"$defs": {"IndicationDraft": {
        "properties": {"rank": {"const": 1, "type": "integer"}}}}}}}}
    assert draft_ranks(single) == [1]  # pydantic's form of a one-value Literal
    with pytest.raises(ValueError, match="no response_format"):
        draft_ranks({"messages": []})
    with pytest.raises(ValueError, match="decision"):
        auto_draft_step("hold")


def test_auto_draft_step_on_a_non_drafting_request_is_a_500_kept_in_errors() -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as srv:
        with _client(srv.base_url) as client, pytest.raises(openai.InternalServerError, match="respond callable"):
            _ask(client)
        assert any(isinstance(error, ValueError) for error in srv.errors)


def test_scripted_by_pack_gives_each_pack_its_own_fate() -> None:
    by_pack = scripted_by_pack(
        {
            "colchicine": [
                {"status": 429, "headers": {"retry-after-ms": "10"},
                 "json": error_body("Rate limit reached", "requests", "rate_limit_exceeded")},
                auto_draft_step(),
            ],
            "tizanidine": {"status": 400, "json": error_body("Bad request", "invalid_request_error")},
        },
        fallback=auto_draft_step(),
    )
    with ScriptedOpenAIServer(default=by_pack, lifetime=60) as srv, _client(srv.base_url) as client:
        colchicine = draft_report(ROOT / "examples/packs/colchicine-us.json", client=client, model=MODEL,
                                  report_date=REPORT_DATE, retry=FAST_RETRY)
        assert colchicine.status is DraftStatus.VERIFIED
        assert colchicine.usage.failed_requests == 1  # the 429, retried by drafter.llm
        with pytest.raises(DraftError, match="BadRequestError"):
            draft_report(ROOT / "examples/packs/tizanidine-gb.json", client=client, model=MODEL,
                         report_date=REPORT_DATE, retry=FAST_RETRY)
        other = draft_report(ROOT / "examples/packs/hydroxychloroquine-gb.json", client=client, model=MODEL,
                             report_date=REPORT_DATE, retry=FAST_RETRY)
        assert other.status is DraftStatus.VERIFIED


def test_scripted_by_pack_without_fallback_is_a_500_naming_the_keys() -> None:
    with ScriptedOpenAIServer(default=scripted_by_pack({"baclofen": completion_step("x")}), lifetime=30) as srv:
        with _client(srv.base_url) as client:
            assert _ask(client, "Evaluate BACLOFEN.").choices[0].message.content == "x"  # case-insensitive
            with pytest.raises(openai.InternalServerError):
                _ask(client, "Evaluate metformin.")
        assert any(isinstance(error, LookupError) and "baclofen" in str(error) for error in srv.errors)


# ------------------------------------------------------------------------------- Batch API


def _chat_body(content: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}]}


def _upload(client: openai.OpenAI, lines: list[dict[str, Any]]) -> Any:
    return client.files.create(file=("batch.jsonl", jsonl(lines)), purpose="batch")


def _run_batch(client: openai.OpenAI, lines: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    uploaded = _upload(client, lines)
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h",
                                  metadata={"job": "test"})
    statuses = [batch.status]
    for _ in range(10):
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            break
        batch = client.batches.retrieve(batch.id)
        statuses.append(batch.status)
    return batch, statuses


def test_file_upload_retrieve_content_and_delete(server: ScriptedOpenAIServer) -> None:
    lines = [batch_input_line("a", _chat_body("one"))]
    with _client(server.base_url) as client:
        uploaded = _upload(client, lines)
        assert uploaded.id.startswith("file-")
        assert (uploaded.object, uploaded.purpose, uploaded.filename, uploaded.status) == (
            "file", "batch", "batch.jsonl", "processed")
        assert uploaded.bytes == len(jsonl(lines))
        assert client.files.retrieve(uploaded.id) == uploaded
        assert client.files.content(uploaded.id).content == jsonl(lines)
        assert [f.id for f in client.files.list()] == [uploaded.id]
        assert server.files[uploaded.id].lines() == lines
        with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
            client.files.create(file=("batch.txt", b"{}\n"), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="purpose"):
            client.files.create(file=("x.jsonl", b"{}\n"), purpose="nonsense")  # type: ignore[arg-type]
        assert client.files.delete(uploaded.id).deleted
        with pytest.raises(openai.NotFoundError, match="No such File object"):
            client.files.retrieve(uploaded.id)
    assert server.pending == 0 and server.chat_calls == 0


def test_batch_round_trip() -> None:
    lines = [batch_input_line(f"pack-{i}", _chat_body(f"question {i}")) for i in range(3)]
    with ScriptedOpenAIServer([completion_step("scripted first")], default=completion_step("from default"),
                              lifetime=30) as srv, _client(srv.base_url) as client:
        batch, statuses = _run_batch(client, lines)
        assert statuses == ["validating", "in_progress", "finalizing", "completed"]
        assert batch.request_counts is not None
        assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 3, 0)
        assert batch.error_file_id is None and batch.errors is None
        assert batch.model == MODEL
        assert batch.metadata == {"job": "test"}
        timeline = (batch.created_at, batch.in_progress_at, batch.finalizing_at, batch.completed_at)
        assert list(timeline) == sorted(set(timeline))  # strictly increasing, no None
        assert batch.expires_at == batch.created_at + 24 * 3600
        assert batch.usage is not None and batch.usage.total_tokens > 0

        output = client.files.retrieve(batch.output_file_id)  # type: ignore[arg-type]
        assert (output.purpose, output.filename) == ("batch_output", f"{batch.id}_output.jsonl")
        results = parse_jsonl(client.files.content(batch.output_file_id).content)  # type: ignore[arg-type]
        assert [r["custom_id"] for r in results] == ["pack-0", "pack-1", "pack-2"]
        assert all(r["error"] is None and r["response"]["status_code"] == 200 for r in results)
        assert all(r["id"].startswith("batch_req_") for r in results)
        answers = [ChatCompletion.model_validate(r["response"]["body"]).choices[0].message.content for r in results]
        assert answers == ["scripted first", "from default", "from default"]  # queue first, then default

        assert client.batches.retrieve(batch.id).status == "completed"  # stays completed
        assert srv.batches[batch.id]["status"] == "completed"
        assert srv.chat_calls == 0  # batch lines are not chat requests
        srv.assert_drained()


def test_a_line_whose_step_is_an_error_lands_in_the_error_file() -> None:
    lines = [batch_input_line(name, _chat_body(name)) for name in ("good", "overloaded", "bad")]
    steps = [
        completion_step("fine"),
        {"status": 500, "json": error_body("The server had an error", "server_error")},
        {"status": 400, "json": error_body("Invalid 'messages'", "invalid_request_error", param="messages")},
    ]
    with ScriptedOpenAIServer(steps, lifetime=30) as srv, _client(srv.base_url) as client:
        batch, _ = _run_batch(client, lines)
        assert batch.status == "completed"  # per-request failures do not fail the batch
        assert batch.request_counts is not None
        assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 2)
        ok = parse_jsonl(client.files.content(batch.output_file_id).content)  # type: ignore[arg-type]
        failed = parse_jsonl(client.files.content(batch.error_file_id).content)  # type: ignore[arg-type]
    assert [line["custom_id"] for line in ok] == ["good"]
    assert [(line["custom_id"], line["response"]["status_code"]) for line in failed] == [
        ("overloaded", 500), ("bad", 400)]
    # As the real API reports an executed-but-rejected request: the error object is the body,
    # the top-level "error" stays null.
    assert all(line["error"] is None for line in failed)
    assert failed[1]["response"]["body"]["error"]["param"] == "messages"
    assert set(failed[0]["response"]) == {"status_code", "request_id", "body"}


def test_an_empty_queue_without_default_fails_each_line_not_the_batch(server: ScriptedOpenAIServer) -> None:
    with _client(server.base_url) as client:
        batch, _ = _run_batch(client, [batch_input_line("x", _chat_body("x"))])
        assert batch.status == "completed" and batch.output_file_id is None
        (line,) = parse_jsonl(client.files.content(batch.error_file_id).content)  # type: ignore[arg-type]
    assert line["response"]["status_code"] == 500
    assert NO_RESPONSE_LEFT in line["response"]["body"]["error"]["message"]


def test_duplicate_custom_ids_fail_the_batch(server: ScriptedOpenAIServer) -> None:
    server.enqueue(completion_step("never used"))
    lines = [batch_input_line("same", _chat_body("a")), batch_input_line("same", _chat_body("b"))]
    with _client(server.base_url) as client:
        batch, statuses = _run_batch(client, lines)
    assert statuses == ["validating", "failed"]
    assert batch.failed_at is not None and batch.output_file_id is None and batch.error_file_id is None
    assert batch.errors is not None and batch.errors.data is not None
    (error,) = batch.errors.data
    assert (error.code, error.line, error.param) == ("duplicate_custom_id", 2, "custom_id")
    assert server.pending == 1  # nothing was executed


def test_invalid_lines_and_create_errors() -> None:
    with ScriptedOpenAIServer(lifetime=30) as srv, _client(srv.base_url) as client:
        wrong_url = batch_input_line("a", _chat_body("a"), url="/v1/embeddings")
        batch, _ = _run_batch(client, [wrong_url])
        assert batch.status == "failed" and batch.errors is not None and batch.errors.data is not None
        assert batch.errors.data[0].code == "invalid_url"
        uploaded = _upload(client, [batch_input_line("a", _chat_body("a"))])
        with pytest.raises(openai.NotFoundError, match="No such File object"):
            client.batches.create(input_file_id="file-missing", endpoint=CHAT, completion_window="24h")
        with pytest.raises(openai.BadRequestError, match="endpoint"):
            client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
        with pytest.raises(openai.NotFoundError, match="No such Batch object"):
            client.batches.retrieve("batch_missing")


def test_cancel(server: ScriptedOpenAIServer) -> None:
    server.enqueue(completion_step("never used"))
    with _client(server.base_url) as client:
        uploaded = _upload(client, [batch_input_line("a", _chat_body("a"))])
        batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
        assert client.batches.retrieve(batch.id).status == "in_progress"
        cancelling = client.batches.cancel(batch.id)
        assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
        cancelled = client.batches.retrieve(batch.id)
        assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
        assert client.batches.retrieve(batch.id).status == "cancelled"
        assert cancelled.output_file_id is None
        done, _ = _run_batch(client, [batch_input_line("b", _chat_body("b"))])
        assert done.status == "completed"
        with pytest.raises(openai.ConflictError, match="Cannot cancel"):
            client.batches.cancel(done.id)
    server.assert_drained()  # the cancelled batch consumed no step; the completed one did


def test_batch_polls_to_complete_is_configurable() -> None:
    with ScriptedOpenAIServer(default=completion_step("x"), batch_polls_to_complete=1, lifetime=30) as srv:
        with _client(srv.base_url) as client:
            _, statuses = _run_batch(client, [batch_input_line("a", _chat_body("a"))])
    assert statuses == ["validating", "completed"]
    with ScriptedOpenAIServer(default=completion_step("x"), batch_polls_to_complete=5, lifetime=30) as srv:
        with _client(srv.base_url) as client:
            _, statuses = _run_batch(client, [batch_input_line("a", _chat_body("a"))])
    assert statuses == ["validating", "in_progress", "in_progress", "in_progress", "finalizing", "completed"]
    with pytest.raises(ValueError, match="batch_polls_to_complete"):
        ScriptedOpenAIServer(batch_polls_to_complete=0)


def test_batch_of_drafter_requests_answered_by_auto_draft_step_verifies() -> None:
    # Capture the real request drafter sends for each pack, then submit them all as one batch.
    bodies: dict[str, dict[str, Any]] = {}
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as srv, _client(srv.base_url) as client:
        for pack in PACKS:
            draft_report(pack, client=client, model=MODEL, report_date=REPORT_DATE)
            bodies[pack.stem] = srv.requests[-1].json
        batch, _ = _run_batch(client, [batch_input_line(stem, body) for stem, body in bodies.items()])
        assert batch.status == "completed"
        results = parse_jsonl(client.files.content(batch.output_file_id).content)  # type: ignore[arg-type]
    assert sorted(r["custom_id"] for r in results) == sorted(bodies)
    for result in results:
        content = result["response"]["body"]["choices"][0]["message"]["content"]
        evidence = drafter.load_pack(ROOT / "examples" / "packs" / f"{result['custom_id']}.json")
        assert drafter.verify(evidence, ReportDraft.model_validate_json(content)).ok


# ---------------------------------------------------------------------- vcr and multipart


def _record_batch(cassette_dir: Path, name: str, *, support: bool = True) -> Path:
    lines = [batch_input_line(f"pack-{i}", _chat_body(f"question {i}")) for i in range(2)]
    recorder = make_vcr(cassette_dir, "all")
    if support:
        with_multipart_support(recorder)
    with ScriptedOpenAIServer(default=completion_step("recorded"), lifetime=30) as srv:
        with recorder.use_cassette(name), _client(srv.base_url) as client:
            batch, statuses = _run_batch(client, lines)
            assert statuses[-1] == "completed"
            client.files.content(batch.output_file_id)  # type: ignore[arg-type]
    return cassette_dir / f"{name}.yaml"


def _replay_batch(client: openai.OpenAI) -> list[dict[str, Any]]:
    lines = [batch_input_line(f"pack-{i}", _chat_body(f"question {i}")) for i in range(2)]
    batch, statuses = _run_batch(client, lines)
    assert statuses == ["validating", "in_progress", "finalizing", "completed"]
    return parse_jsonl(client.files.content(batch.output_file_id).content)  # type: ignore[arg-type]


def test_vcr_round_trip_of_the_batch_api(tmp_path: Path) -> None:
    path = _record_batch(tmp_path, "batch")
    text = path.read_text()
    assert cassette_leaks(path) == []
    assert "test-key" not in text
    interactions = yaml.safe_load(text)["interactions"]
    assert [(i["request"]["method"], i["request"]["uri"].split(".invalid")[1]) for i in interactions][:2] == [
        ("POST", "/v1/files"), ("POST", "/v1/batches")]
    upload = interactions[0]["request"]
    assert upload["headers"]["content-type"] == [f"multipart/form-data; boundary={STABLE_MULTIPART_BOUNDARY}"]
    assert upload["headers"]["content-length"] == [str(len(upload["body"].encode()))]

    replay = with_multipart_support(make_vcr(tmp_path, "none"))
    with replay.use_cassette("batch") as cassette, _client("http://replay-host.invalid:6553/v1") as client:
        results = _replay_batch(client)  # the server is closed: vcrpy answers everything
    assert_all_played(cassette)
    assert [r["custom_id"] for r in results] == ["pack-0", "pack-1"]
    assert path.read_text() == text


def test_rerecording_the_batch_api_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _record_batch(tmp_path / "a", "batch")
    second = _record_batch(tmp_path / "b", "batch")
    assert first.read_bytes() == second.read_bytes()


def test_without_multipart_support_an_upload_cannot_replay(tmp_path: Path) -> None:
    """Why ``with_multipart_support`` exists: httpx draws a new random boundary for every upload."""
    _record_batch(tmp_path, "plain", support=False)
    with make_vcr(tmp_path, "none").use_cassette("plain"), _client("http://replay-host.invalid/v1") as client:
        with pytest.raises(CannotOverwriteExistingCassetteException):
            _upload(client, [batch_input_line("pack-0", _chat_body("question 0"))])


def test_multipart_matcher_compares_fields_not_boundaries_or_guessed_types() -> None:
    class Req:
        def __init__(self, boundary: str, part_type: str, data: bytes) -> None:
            self.headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            self.body = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.jsonl"\r\n'
                f"Content-Type: {part_type}\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()

    a = Req("aaaa", "application/octet-stream", b'{"x": 1}\n')
    multipart_body(a, Req("bbbb", "application/jsonl", b'{"x": 1}\n'))
    with pytest.raises(AssertionError, match="multipart fields differ"):
        multipart_body(a, Req("aaaa", "application/octet-stream", b'{"x": 2}\n'))
    parts = parse_multipart(a.body, a.headers["Content-Type"])
    assert [(p.name, p.filename, p.data) for p in parts] == [("purpose", None, b"batch"),
                                                              ("file", "b.jsonl", b'{"x": 1}\n')]

    class Json:
        headers = {"Content-Type": "application/json"}

        def __init__(self, body: dict[str, Any]) -> None:
            self.body = json.dumps(body).encode()

    multipart_body(Json({"a": 1, "b": 2}), Json({"b": 2, "a": 1}))  # other bodies: vcrpy's own matcher
    with pytest.raises(AssertionError):
        multipart_body(Json({"a": 1}), Json({"a": 2}))
