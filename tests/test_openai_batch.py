"""Drafting through the OpenAI Batch API: same prompts, same checks, resumable (cassettes and the live server).

The cassettes (``openai-batch*.yaml``) hold what the real SDK sent to and got from the scripted
server's ``/v1/files`` and ``/v1/batches``: the upload, the batch, its polls and the downloads. What
a cassette cannot express (a batch cancelled between two runs, a changed pack, a lost reply) runs
against the scripted server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from drafter.batch import estimate_cost
from drafter.cli import main
from drafter.errors import UserError
from drafter.openai_batch import (
    MAX_POLL_INTERVAL,
    STATE_FILE,
    BatchPending,
    chunk_lines,
    next_delay,
    read_answer,
    run_openai_batch,
)
from drafter.pipeline import draft_report
from drafter.replay import multipart_aware_body
from tests.cassette_scenarios import BY_NAME, CASSETTES, MODEL, OPENAI_BATCH_SCENARIOS, REPORT_DATE, ROOT, answer
from tests.llm_server import (
    ScriptedOpenAIServer,
    assert_all_played,
    auto_draft_step,
    make_vcr,
    parse_jsonl,
    with_multipart_support,
)
from tests.llm_server.wire import parse_multipart
from tests.record_cassettes import record

EXAMPLES = ROOT / "examples" / "packs"
GOLDEN = ROOT / "tests" / "golden"
BAD = ROOT / "tests" / "bad_packs" / "id_nct_too_short.json"
# Counted, not written down: adding an example pack must not break these tests.
N_EXAMPLES = len(list(EXAMPLES.glob("*.json")))
REPLAY_URL = "https://api.openai.com/v1"  # never reached: vcrpy answers from the cassette


@contextlib.contextmanager
def replayed(name: str, *, strict: bool = True) -> Iterator[tuple[openai.OpenAI, Any]]:
    recorder = with_multipart_support(make_vcr(CASSETTES, "none"))
    with recorder.use_cassette(BY_NAME[name].cassette.name) as cassette:
        yield openai.OpenAI(api_key="replay", base_url=REPLAY_URL, max_retries=0), cassette
    if strict:
        assert_all_played(cassette)


def packs_of(name: str) -> list[Path]:
    return [ROOT / pack for pack in BY_NAME[name].packs]


def run(inputs: list[Path], out: Path, client: openai.OpenAI, **options: Any) -> Any:
    return run_openai_batch(inputs, out, client=client, model=MODEL, report_date=REPORT_DATE,
                            **{"poll_interval": 0.0, **options})


def uploads(cassette: Any) -> list[list[dict[str, Any]]]:
    """The JSONL lines of every file the run uploaded, in order."""
    found = []
    for request in cassette.requests:
        if request.method == "POST" and request.path == "/v1/files":
            parts = {p.name: p for p in parse_multipart(request.body, request.headers["content-type"])}
            assert parts["purpose"].text == "batch"
            found.append(parse_jsonl(parts["file"].data))
    return found


def live_client(server: ScriptedOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)


def posts(server: ScriptedOpenAIServer, path: str) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == path)


def summary(out: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]
    return {line["pack_id"] or line["pack"]: line for line in lines}


# --- one batch, every draft verified ----------------------------------------------------------------


def test_every_example_pack_is_drafted_in_one_batch_exactly_as_the_synchronous_path(tmp_path: Path) -> None:
    with replayed("openai-batch") as (client, cassette):
        result = run([*packs_of("openai-batch"), BAD], tmp_path, client)
    assert result.counts() == {"verified": N_EXAMPLES, "bad_input": 1} and result.exit_code == 1
    assert len(result.batch_ids) == 1 and result.rounds == 1 and result.usage.requests == N_EXAMPLES
    (lines,) = uploads(cassette)
    stems = [p.stem for p in sorted(EXAMPLES.glob("*.json"))]  # in input order
    assert [line["custom_id"] for line in lines] == [f"{stem}:attempt-1" for stem in stems]
    assert {(line["method"], line["url"]) for line in lines} == {("POST", "/v1/chat/completions")}
    # The bodies are the synchronous calls' bodies: the requests recorded in examples.yaml.
    synchronous = yaml.safe_load((CASSETTES / "examples.yaml").read_text())["interactions"]
    assert sorted(json.dumps(line["body"], sort_keys=True) for line in lines) == sorted(
        json.dumps(json.loads(i["request"]["body"]), sort_keys=True) for i in synchronous)
    for stem in stems:  # and so are the reports, byte for byte
        assert (tmp_path / f"{stem}.md").read_text(encoding="utf-8") == (GOLDEN / f"{stem}.md").read_text(encoding="utf-8")
        manifest = json.loads((tmp_path / ".manifests" / f"{stem}.json").read_text())
        assert manifest["status"] == "verified" and manifest["openai_batches"] == result.batch_ids
    rows = summary(tmp_path)
    assert len(rows) == N_EXAMPLES + 1 and rows["baclofen"]["calls"] == 1 and rows["baclofen"]["outputs"] == [
        "baclofen.md", "baclofen.json", "baclofen.html"]
    assert "found 'NCT123'" in rows[str(BAD)]["message"]
    assert not (tmp_path / STATE_FILE).exists()  # the job ended
    usage = result.usage
    assert result.cost == estimate_cost(MODEL, usage.prompt_tokens, usage.completion_tokens, batch_api=True)
    assert result.cost == pytest.approx(estimate_cost(MODEL, usage.prompt_tokens, usage.completion_tokens) / 2)


def test_a_rerun_skips_every_finished_pack_and_calls_nothing(tmp_path: Path) -> None:
    with replayed("openai-batch") as (client, _):
        run(packs_of("openai-batch"), tmp_path, client)
    with ScriptedOpenAIServer([], lifetime=30) as server:
        again = run(packs_of("openai-batch"), tmp_path, live_client(server))
    assert again.counts() == {"skipped": N_EXAMPLES} and again.batch_ids == [] and server.requests == []
    assert again.exit_code == 0


# --- repairs go into a second batch; fail closed ----------------------------------------------------


def test_a_draft_that_fails_verification_is_repaired_in_a_second_batch(tmp_path: Path) -> None:
    with replayed("openai-batch-repair") as (client, cassette):
        result = run(packs_of("openai-batch-repair"), tmp_path, client)
    by_id = {o.pack_id: o for o in result.outcomes}
    assert (by_id["baclofen"].status, by_id["baclofen"].calls) == ("repaired", 2)
    assert (by_id["tizanidine-gb"].status, by_id["tizanidine-gb"].calls) == ("verified", 1)
    assert len(result.batch_ids) == 2 and result.rounds == 2 and result.usage.requests == 3
    first, second = uploads(cassette)
    assert [line["custom_id"] for line in first] == ["baclofen:attempt-1", "tizanidine-gb:attempt-1"]
    (repair,) = second  # only the pack that failed, only its failing rank
    assert repair["custom_id"] == "baclofen:attempt-2"
    messages = repair["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "attempt 2 of 3" in messages[-1]["content"] and "ID_UNKNOWN" in messages[-1]["content"]
    assert json.loads((tmp_path / ".manifests" / "baclofen.json").read_text())["openai_batches"] == result.batch_ids
    # The same answers through the synchronous path give the same report, byte for byte.
    sync_client = openai.OpenAI(api_key="replay", base_url=REPLAY_URL, max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette("repair.yaml"):
        synchronous = draft_report(EXAMPLES / "baclofen.json", client=sync_client, model=MODEL,
                                   report_date=REPORT_DATE)
    assert (tmp_path / "baclofen.md").read_text(encoding="utf-8") == synchronous.markdown
    assert (tmp_path / "baclofen.json").read_text(encoding="utf-8") == synchronous.record_json


def test_a_draft_that_never_verifies_is_withheld_after_max_repairs_rounds(tmp_path: Path) -> None:
    steps = [answer("baclofen-uk.never-repairs.json")] * 3
    with ScriptedOpenAIServer(steps, lifetime=60) as server:
        result = run([EXAMPLES / "baclofen-uk.json"], tmp_path, live_client(server))
        server.assert_drained()
    assert result.counts() == {"withheld": 1} and result.exit_code == 1 and len(result.batch_ids) == 3
    assert json.loads((tmp_path / ".manifests" / "baclofen-uk.json").read_text())["status"] == "withheld"
    sync_client = openai.OpenAI(api_key="replay", base_url=REPLAY_URL, max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette("withheld.yaml"):
        synchronous = draft_report(EXAMPLES / "baclofen-uk.json", client=sync_client, model=MODEL,
                                   report_date=REPORT_DATE)
    assert (tmp_path / "baclofen-uk.md").read_text(encoding="utf-8") == synchronous.markdown


def test_a_withheld_pack_stays_withheld_on_rerun_until_retry_withheld(tmp_path: Path) -> None:
    steps = [answer("baclofen-uk.never-repairs.json")] * 3
    with ScriptedOpenAIServer(steps, lifetime=60) as server:
        run([EXAMPLES / "baclofen-uk.json"], tmp_path, live_client(server), max_repairs=2)
        again = run([EXAMPLES / "baclofen-uk.json"], tmp_path, live_client(server))
        assert again.counts() == {"withheld": 1} and again.exit_code == 1  # today: skipped, exit 0
        assert len(server.batches) == 3  # nothing submitted again
        server.enqueue(*[answer("baclofen-uk.never-repairs.json")] * 3)
        retried = run([EXAMPLES / "baclofen-uk.json"], tmp_path, live_client(server), retry_withheld=True)
        assert retried.counts() == {"withheld": 1} and len(server.batches) == 6  # drafted again
    assert summary(tmp_path)["baclofen-uk"]["status"] == "withheld"


# --- failures per line and per batch ----------------------------------------------------------------


def test_a_line_that_errors_fails_its_pack_while_the_others_complete(tmp_path: Path) -> None:
    with replayed("openai-batch-line-error") as (client, _):
        result = run(packs_of("openai-batch-line-error"), tmp_path, client)
    by_id = {o.pack_id: o for o in result.outcomes}
    failed = by_id["colchicine-us"]
    assert failed.status == "failed" and failed.failed_calls == 1 and failed.outputs == []
    assert "colchicine-us:attempt-1" in failed.message and "HTTP 500: The server had an error" in failed.message
    assert by_id["baclofen-uk"].status == by_id["tizanidine-gb"].status == "verified"
    assert result.exit_code == 1 and not (tmp_path / ".manifests" / "colchicine-us.json").exists()
    assert summary(tmp_path)["colchicine-us"]["status"] == "failed"
    # A rerun sends only the failed pack.
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        again = run(packs_of("openai-batch-line-error"), tmp_path, live_client(server))
        (uploaded,) = [f for f in server.files.values() if f.info["purpose"] == "batch"]
    assert [line["custom_id"] for line in uploaded.lines()] == ["colchicine-us:attempt-1"]
    assert {o.pack_id: o.status for o in again.outcomes} == {
        "baclofen-uk": "skipped", "colchicine-us": "verified", "tizanidine-gb": "skipped"}


def test_a_batch_cancelled_while_the_run_was_stopped_fails_its_packs(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        client = live_client(server)
        with pytest.raises(BatchPending) as stopped:
            run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client, max_polls=1)
        client.batches.cancel(stopped.value.batch_ids[0])
        result = run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client)
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and "the batch was cancelled before this request ran" in outcome.message
    assert not (tmp_path / STATE_FILE).exists() and not (tmp_path / ".manifests" / "tizanidine-gb.json").exists()


def test_answers_that_cannot_be_used_say_why() -> None:
    assert read_answer({"custom_id": "x", "response": None,
                        "error": {"code": "batch_expired", "message": "not executed"}}, MODEL) == (
        "batch_expired: not executed")
    bad_request = {"status_code": 400, "body": {"error": {"message": "Invalid 'messages'"}}}
    assert read_answer({"response": bad_request, "error": None}, MODEL) == "HTTP 400: Invalid 'messages'"
    assert "not a chat completion" in read_answer({"response": {"status_code": 200, "body": {"x": 1}}}, MODEL)


# --- resuming ---------------------------------------------------------------------------------------


def test_a_stopped_run_picks_up_the_same_batch_and_creates_nothing_new(tmp_path: Path) -> None:
    packs = packs_of("openai-batch")
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        client = live_client(server)
        with pytest.raises(BatchPending, match="run the same command again") as stopped:
            run(packs, tmp_path, client, max_polls=1)
        state = json.loads((tmp_path / STATE_FILE).read_text())
        (batch_id,) = stopped.value.batch_ids
        (part,) = state["parts"]
        assert (state["round"], part["batch_id"]) == (1, batch_id)
        assert part["input_file_id"] in server.files
        assert state["requests"] == {f"{p.stem}:attempt-1": p.stem for p in sorted(packs)}
        assert (posts(server, "/v1/files"), posts(server, "/v1/batches")) == (1, 1)

        result = run(packs, tmp_path, client)
        assert (posts(server, "/v1/files"), posts(server, "/v1/batches")) == (1, 1)  # no second upload or batch
        assert list(server.batches) == [batch_id] and result.batch_ids == [batch_id]
    assert result.counts() == {"verified": N_EXAMPLES} and not (tmp_path / STATE_FILE).exists()


def test_a_stopped_run_resumes_from_the_cassette_without_uploading_again(tmp_path: Path) -> None:
    with replayed("openai-batch", strict=False) as (client, _):
        with pytest.raises(BatchPending):
            run(packs_of("openai-batch"), tmp_path, client, max_polls=1)
    with replayed("openai-batch", strict=False) as (client, cassette):
        result = run(packs_of("openai-batch"), tmp_path, client)
    unplayed = [request for index, (request, _) in enumerate(cassette.data) if cassette.play_counts[index] == 0]
    assert [(r.method, r.path) for r in unplayed] == [("POST", "/v1/files"), ("POST", "/v1/batches")]
    assert result.counts() == {"verified": N_EXAMPLES}
    assert (tmp_path / "colchicine-us.md").read_text(encoding="utf-8") == (GOLDEN / "colchicine-us.md").read_text(
        encoding="utf-8")


def test_a_run_stopped_in_the_repair_round_rebuilds_the_loop_from_the_saved_answers(tmp_path: Path) -> None:
    packs = packs_of("openai-batch-repair")
    with ScriptedOpenAIServer(BY_NAME["openai-batch-repair"].steps(), lifetime=60) as server:
        client = live_client(server)
        with pytest.raises(BatchPending):  # round 1 takes three polls; round 2 gets one
            run(packs, tmp_path, client, max_polls=4)
        state = json.loads((tmp_path / STATE_FILE).read_text())
        assert state["round"] == 2 and state["requests"] == {"baclofen:attempt-2": "baclofen"}
        assert len(state["packs"]["baclofen"]["answers"]) == 1
        assert (tmp_path / ".manifests" / "tizanidine-gb.json").is_file()  # finished in round 1, written at once

        result = run(packs, tmp_path, client)
        server.assert_drained()
        assert len(server.batches) == 2
    assert {o.pack_id: o.status for o in result.outcomes} == {"baclofen": "repaired", "tizanidine-gb": "skipped"}
    with replayed("openai-batch-repair") as (replay_client, _):
        uninterrupted = run(packs, tmp_path / "uninterrupted", replay_client)
    assert uninterrupted.counts() == {"repaired": 1, "verified": 1}
    for suffix in ("md", "json"):
        assert (tmp_path / f"baclofen.{suffix}").read_text() == (tmp_path / "uninterrupted" / f"baclofen.{suffix}").read_text()


def test_a_batch_created_but_not_saved_is_adopted_not_created_twice(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        client = live_client(server)
        with pytest.raises(BatchPending):
            run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client, max_polls=1)
        state_path = tmp_path / STATE_FILE
        state = json.loads(state_path.read_text())
        state["parts"][0]["batch_id"] = None  # as if the run died between creating the batch and saving its id
        state_path.write_text(json.dumps(state))
        result = run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client)
        assert len(server.batches) == 1 and posts(server, "/v1/batches") == 1
    assert result.counts() == {"verified": 1}


def test_an_unfinished_job_with_other_settings_is_not_silently_abandoned(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        client = live_client(server)
        with pytest.raises(BatchPending):
            run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client, max_polls=1)
        with pytest.raises(UserError, match="still unfinished here"):
            run([EXAMPLES / "tizanidine-gb.json"], tmp_path, client, max_repairs=1)
    assert (tmp_path / STATE_FILE).is_file()


def test_a_pack_changed_while_its_batch_ran_is_drafted_afresh(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    shutil.copy(EXAMPLES / "tizanidine-gb.json", packs)
    events: list[str] = []
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        client = live_client(server)
        with pytest.raises(BatchPending):
            run([packs], tmp_path / "out", client, max_polls=1)
        data = json.loads((packs / "tizanidine-gb.json").read_text())
        data["drug"]["brand_names"].append("Sirdalud")
        (packs / "tizanidine-gb.json").write_text(json.dumps(data))
        result = run([packs], tmp_path / "out", client, on_event=events.append)
        assert len(server.batches) == 2  # the stale answer is discarded, the new pack gets its own batch
    assert any("changed since its batch was created" in e for e in events)
    assert result.counts() == {"verified": 1}


# --- limits, backoff, matching ----------------------------------------------------------------------


def test_requests_are_split_across_batches_within_the_limits(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        result = run(packs_of("openai-batch"), tmp_path, live_client(server), max_requests_per_batch=2)
        sizes = [len(f.lines()) for f in server.files.values() if f.info["purpose"] == "batch"]
    expected = [2] * (N_EXAMPLES // 2) + [1] * (N_EXAMPLES % 2)
    assert sizes == expected and len(result.batch_ids) == len(expected) and result.counts() == {"verified": N_EXAMPLES}
    lines = [(f"id-{i}", b"x" * 10) for i in range(5)]
    assert [len(c) for c in chunk_lines(lines, max_requests=100, max_bytes=25)] == [2, 2, 1]


def test_polling_backs_off_and_is_bounded() -> None:
    delays = [30.0]
    for _ in range(10):
        delays.append(next_delay(delays[-1], 30.0))
    assert delays[:3] == [30.0, 45.0, 67.5] and max(delays) == MAX_POLL_INTERVAL == delays[-1]
    assert next_delay(0.0, 0.0) == 0.0 and next_delay(900.0, 900.0) == 900.0


def test_uploads_match_on_their_fields_not_their_random_boundary() -> None:
    class Upload:
        def __init__(self, boundary: str, data: bytes, part_type: str = "application/jsonl") -> None:
            self.headers = {"Content-Type": [f"multipart/form-data; boundary={boundary}"]}
            self.body = (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                         f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n'
                         f"Content-Type: {part_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()

    multipart_aware_body(Upload("aaaa", b'{"x": 1}\n'), Upload("bbbb", b'{"x": 1}\n', "application/octet-stream"))
    with pytest.raises(AssertionError):
        multipart_aware_body(Upload("aaaa", b'{"x": 1}\n'), Upload("aaaa", b'{"x": 2}\n'))

    class Json:
        headers = {"Content-Type": "application/json"}

        def __init__(self, body: dict[str, Any]) -> None:
            self.body = json.dumps(body).encode()

    multipart_aware_body(Json({"a": 1, "b": 2}), Json({"b": 2, "a": 1}))
    with pytest.raises(AssertionError):
        multipart_aware_body(Json({"a": 1}), Json({"a": 2}))


@pytest.mark.parametrize("scenario", OPENAI_BATCH_SCENARIOS, ids=lambda s: s.name)
def test_rerecording_a_batch_scenario_gives_the_committed_bytes(scenario: Any, tmp_path: Path) -> None:
    record(scenario, cassette_dir=tmp_path)
    assert (tmp_path / scenario.cassette.name).read_bytes() == scenario.cassette.read_bytes()


# --- the command line -------------------------------------------------------------------------------


def test_batch_command_replays_the_openai_batch_cassette(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["batch", str(EXAMPLES), "--out", str(tmp_path), "--openai-batch", "--model", MODEL, "--date",
            REPORT_DATE.isoformat(), "--replay", str(CASSETTES / "openai-batch.yaml")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{N_EXAMPLES} request(s) in 1 OpenAI batch(es) over 1 round(s)" in out and "Batch API price" in out
    assert f"completed ({N_EXAMPLES}/{N_EXAMPLES} request(s) done)" in out
    assert (tmp_path / "baclofen.md").read_text(encoding="utf-8") == (GOLDEN / "baclofen.md").read_text(encoding="utf-8")
    assert main(args) == 0
    assert "0 request(s) in 0 OpenAI batch(es)" in capsys.readouterr().out


def test_batch_command_exits_75_while_the_batch_runs_and_a_rerun_collects_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        args = ["batch", str(EXAMPLES / "tizanidine-gb.json"), "--out", str(tmp_path), "--openai-batch", "--model",
                MODEL, "--date", REPORT_DATE.isoformat(), "--poll-interval", "0"]
        assert main([*args, "--max-wait", "0"]) == 75
        assert "run the same command again" in capsys.readouterr().err
        assert main(args) == 0
        assert len(server.batches) == 1 and posts(server, "/v1/files") == 1


def test_batch_command_refuses_the_response_cache_with_openai_batch(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(EXAMPLES), "--out", str(tmp_path), "--openai-batch", "--cache", str(tmp_path / "c"),
                 "--replay", str(CASSETTES / "openai-batch.yaml")]) == 2
    assert "--cache" in capsys.readouterr().err
