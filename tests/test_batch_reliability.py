"""Batch drafting under faults, against the live scripted server on 127.0.0.1 (real openai SDK, real HTTP).

What these tests prove, one per test:

* a batch of 30 synthetic packs at concurrency 6 survives bursts of 429s (``retry-after-ms``), 500s,
  slow responses and dropped connections: every pack verifies, the adaptive limiter halves itself,
  pauses every new call for the server's Retry-After and grows back, never more calls are in flight
  than the concurrency (counted by drafter *and* by the server), and every failed call is in the usage;
* a ``drafter batch`` process killed with SIGKILL half-way and run again finishes every pack exactly
  once, with complete, verifying outputs, one summary line per pack, no temporary file taken for an
  output, and no model call repeated except those in flight at the kill (at most the concurrency);
* malformed packs in a batch are each one ``bad_input`` line, worded exactly as ``drafter validate``
  words the first problem, the others verify, and the command exits 1;
* two batch processes sharing one response cache at the same time, over overlapping packs, both
  finish, leave only whole JSON cache entries, and a third run from that cache makes zero calls;
* a pack whose transport retries run out is one ``failed`` line whose failed calls are counted, and
  a pack whose output cannot be written is ``failed`` while the rest of the batch goes on.

The tests at the end pinned down bugs found in ``src/drafter`` while writing these (lost usage of a
pack whose outputs could not be written, one pack's unexpected error stopping the batch, manifest
names that a pack id could collide with, a 429 pause not extended for calls already waiting); each
failed before its fix.

Every server stops itself (short ``lifetime``) and every subprocess has a timeout; the file runs in
well under a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jinja2
import openai
import pytest

import drafter
import drafter.batch
import drafter.llm
from drafter.batch import draft_batch
from drafter.cache import CACHE_FORMAT
from drafter.cli import main
from drafter.errors import PackError
from drafter.llm import AdaptiveLimiter, RetryPolicy
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step, error_body, scripted_by_pack
from tests.synthetic_packs import pack_id, synthetic_pack, write_packs

ROOT = Path(__file__).resolve().parents[1]
BAD_PACKS = ROOT / "tests" / "bad_packs"
MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"
CHAT = "/v1/chat/completions"
OUTPUT_SUFFIXES = (".md", ".json", ".html")
# Transport retries in tests wait milliseconds (a 429's Retry-After is still honoured exactly).
FAST_RETRY = RetryPolicy(max_attempts=10, max_seconds=30.0, backoff_max=0.05)


# --- helpers ----------------------------------------------------------------------------------------


def _client(server: ScriptedOpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=10.0)


def _env(server: ScriptedOpenAIServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DRAFTER_MODEL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="test-key")
    return env


def _batch_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "drafter", "batch", *map(str, args), "--model", MODEL, "--date", DATE]


def _summary(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()]


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _chat_requests(server: ScriptedOpenAIServer) -> list[Any]:
    return [r for r in server.requests if r.path == CHAT]


def _chat_bodies(server: ScriptedOpenAIServer) -> list[str]:
    return [_canonical(r.json) for r in _chat_requests(server)]


def assert_complete_outputs(out: Path, packs: dict[str, Path]) -> None:
    """Every pack: exactly md/json/html plus its manifest, the record verified, the Markdown verifying.

    Names starting with a dot (the default cache, temporary files a kill left behind) are never
    outputs: the summary and the manifests must not name one, and nothing else may be in ``out``.
    """
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    expected = sorted([f"{pid}{suffix}" for pid in packs for suffix in OUTPUT_SUFFIXES] + ["summary.jsonl"])
    assert visible == expected, set(visible) ^ set(expected)
    hidden = [p for p in out.iterdir() if p.name.startswith(".") and p.name not in (".cache", ".manifests", ".drafter.lock")]
    assert all(p.name.endswith(".tmp") for p in hidden), hidden  # only temporary files, never a stray output
    for pid, pack_path in packs.items():
        manifest = json.loads((out / ".manifests" / f"{pid}.json").read_text(encoding="utf-8"))
        assert manifest["outputs"] == [f"{pid}{suffix}" for suffix in OUTPUT_SUFFIXES]
        assert manifest["status"] == "verified"
        record = json.loads((out / f"{pid}.json").read_text(encoding="utf-8"))
        assert record["status"] == "verified" and record["pack"]["pack_id"] == pid
        assert all(ind["status"] == "verified" for ind in record["indications"])
        pack = drafter.load_pack(pack_path)
        checked = drafter.verify_markdown(pack, (out / f"{pid}.md").read_text(encoding="utf-8"))
        assert checked.errors == [], (pid, checked.errors)
        html = (out / f"{pid}.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>")  # whole, not cut off
    lines = _summary(out)
    assert sorted(line["pack_id"] for line in lines) == sorted(packs)  # one line per pack, none twice
    for line in lines:
        assert line["status"] in ("verified", "skipped"), line
        assert not any(name.startswith(".") for name in line["outputs"]), line


def assert_cache_whole(cache: Path) -> int:
    """Every entry is complete JSON in the cache's format, filed under its own key; returns the count."""
    entries = [p for p in cache.rglob("*.json") if not p.name.startswith(".")]
    for entry in entries:
        data = json.loads(entry.read_text(encoding="utf-8"))
        assert data["format"] == CACHE_FORMAT and data["key"] == entry.stem, entry
        assert entry.parent.name == entry.stem[:2]
        assert data["response"]["choices"][0]["message"]["content"]
    return len(entries)


@pytest.fixture
def synthetic(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "packs"


# --- 1. faults mixed into a concurrent batch ----------------------------------------------------------


class FaultyModel:
    """A ``respond`` step for the server: request number ``k`` (in arrival order) gets ``schedule[k]``.

    ``"429"`` is a rate limit with ``retry-after-ms``, ``"500"`` a server error, ``"drop"`` closes the
    connection without a byte, ``"slow"`` answers after ``slow`` seconds; anything else is answered by
    ``auto_draft_step``. Every arrival is logged with its time and fate.
    """

    def __init__(self, schedule: dict[int, str], *, retry_after: float, slow: float) -> None:
        self.schedule = schedule
        self.retry_after = retry_after
        self.slow = slow
        self.log: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._answer = auto_draft_step()["respond"]

    def __call__(self, request_json: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            kind = self.schedule.get(len(self.log), "ok")
            self.log.append((time.monotonic(), kind))
        if kind == "429":
            return {"status": 429, "headers": {"retry-after-ms": str(int(self.retry_after * 1000))},
                    "json": error_body("Rate limit reached for requests", "requests", "rate_limit_exceeded")}
        if kind == "500":
            return {"status": 500, "json": error_body("The server had an error while processing your request.",
                                                      "server_error")}
        if kind == "drop":
            return {"drop": True}
        step = self._answer(request_json)
        return {**step, "delay": self.slow} if kind == "slow" else step

    def served(self, kind: str) -> int:
        return sum(1 for _, k in self.log if k == kind)


class RecordingLimiter(AdaptiveLimiter):
    """drafter's limiter, recording its limit, each 429 and each call let out (the batch makes its own)."""

    made: list[RecordingLimiter] = []

    def __init__(self, max_concurrency: int) -> None:
        super().__init__(max_concurrency)
        self.history = [self.limit]
        self.rate_limited_at: list[float] = []
        self.let_out_at: list[float] = []
        RecordingLimiter.made.append(self)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with super().slot():
            self.let_out_at.append(time.monotonic())  # the call is sent now
            yield

    def rate_limited(self, retry_after: float | None) -> None:
        self.rate_limited_at.append(time.monotonic())
        super().rate_limited(retry_after)
        self.history.append(self.limit)

    def succeeded(self) -> None:
        super().succeeded()
        if self.limit != self.history[-1]:
            self.history.append(self.limit)


def test_bursts_of_429_500_slow_and_dropped_calls_every_pack_verifies(synthetic: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    concurrency, count, retry_after = 6, 30, 0.8
    paths = write_packs(synthetic, count)
    schedule = {1: "slow", 2: "slow",
                4: "429", 5: "429", 6: "429", 7: "429",          # a burst: several calls in flight get it
                9: "500", 10: "drop", 11: "slow", 12: "slow",
                14: "429", 15: "429", 16: "429",                  # a second burst
                18: "500", 20: "drop", 21: "slow", 23: "500", 25: "drop", 27: "slow"}
    faults = {k: sum(1 for v in schedule.values() if v == k) for k in ("429", "500", "drop")}
    model = FaultyModel(schedule, retry_after=retry_after, slow=0.6)
    RecordingLimiter.made.clear()
    monkeypatch.setattr(drafter.batch, "AdaptiveLimiter", RecordingLimiter)

    with ScriptedOpenAIServer(default={"respond": model}, lifetime=45) as server:
        result = draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL,
                             concurrency=concurrency, retry=FAST_RETRY, cache=tmp_path / "cache")
        chat_calls, server_peak = server.chat_calls, server.max_in_flight
        errors = [e for e in server.errors if not isinstance(e, OSError)]

    # every pack ends verified, nothing failed, one summary line each
    assert result.counts() == Counter({"verified": count}) and result.exit_code == 0
    assert_complete_outputs(tmp_path / "out", {p.stem: p for p in paths})
    assert errors == []
    # every scheduled fault was served, and every one of them is a failed call in the usage
    assert {k: model.served(k) for k in faults} == faults
    failed = sum(faults.values())
    assert result.usage.failed_requests == failed
    assert sum(o.failed_calls for o in result.outcomes) == failed
    assert result.usage.requests == count  # one successful call per pack
    assert chat_calls == result.usage.requests + result.usage.failed_requests == count + failed
    # the limiter: it saw every 429, never let more than `concurrency` calls out, halved and grew back
    assert result.rate_limits == faults["429"] > 0
    assert 1 <= result.limiter_peak <= concurrency
    assert server_peak <= concurrency
    (limiter,) = RecordingLimiter.made
    low = min(limiter.history)
    assert low <= concurrency // 2, limiter.history
    assert max(limiter.history[limiter.history.index(low):]) > low, limiter.history  # additive increase
    # ... and it paused everyone for the Retry-After: once drafter has seen a burst's first 429, it lets
    # no call out until the pause is over (times taken in the client, so a loaded machine cannot skew them)
    # (a burst starts with a 429 that comes after the previous pause is over; the retried calls can meet
    # the burst's remaining 429s and start another)
    times = limiter.rate_limited_at
    bursts = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > retry_after]
    assert len(bursts) >= 2, times
    for start in bursts:
        early = [round(t - start, 3) for t in limiter.let_out_at if start < t < start + retry_after - 0.01]
        assert early == [], f"calls let out {early} s after a 429 asking for {retry_after} s"


# --- 2. SIGKILL half-way, then run again ----------------------------------------------------------------


def test_a_batch_killed_half_way_resumes_without_duplicates_or_repeated_calls(synthetic: Path,
                                                                               tmp_path: Path) -> None:
    concurrency, count = 4, 40
    paths = write_packs(synthetic, count)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.2, lifetime=50) as server:
        env = _env(server)
        cmd = _batch_cmd(synthetic, "--out", out, "--concurrency", str(concurrency))
        first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        try:
            while len(list(out.glob(".manifests/*.json"))) < 8:
                assert first.poll() is None, f"the first run ended before the kill: {first.stderr.read()!r}"
                assert time.monotonic() < deadline, "no pack finished within 30 s"
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait(timeout=10)
            first.stderr.close()
        assert first.returncode == -signal.SIGKILL
        time.sleep(0.3)  # let the server finish answering the calls the killed process left in flight
        calls_before = len(_chat_requests(server))
        done_at_kill = {p.stem for p in out.glob(".manifests/*.json")}
        assert 8 <= len(done_at_kill) < count, "the kill must land in the middle of the batch"
        assert not (out / "summary.jsonl").exists()

        second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
        requests = _chat_requests(server)

    assert_complete_outputs(out, {p.stem: p for p in paths})
    lines = {line["pack_id"]: line for line in _summary(out)}
    assert {pid for pid, line in lines.items() if line["status"] == "skipped"} == done_at_kill
    assert all(lines[pid]["calls"] == 0 for pid in done_at_kill)
    # A request the kill cut off while it was being sent reaches the server without its whole body; it
    # was in flight, and the second run sends it again, whole.
    cut_off = [i for i, r in enumerate(requests) if r.json is None]
    assert all(i < calls_before for i in cut_off)
    bodies = [_canonical(r.json) for r in requests if r.json is not None]
    sent_before = calls_before - len(cut_off)
    # the second run paid only for what the first had not received: its calls are the requests after the kill
    assert sum(line["calls"] for line in lines.values()) == len(bodies) - sent_before
    # No call that had completed was repeated. A body sent twice was in flight at the kill (sent by the
    # first run, its answer never cached): it is sent once before the kill and once after, and the
    # calls in flight at the kill (repeated or cut off) are at most `concurrency`.
    repeated = [body for body, n in Counter(bodies).items() if n > 1]
    assert len(bodies) == len(set(bodies)) + len(repeated)  # nothing sent three times
    assert len(repeated) + len(cut_off) <= concurrency
    for body in repeated:
        first_at = bodies.index(body)
        assert first_at < sent_before <= bodies.index(body, first_at + 1)
    # every pack's call was made, and answered, exactly once in all (in flight at the kill aside)
    assert len(set(bodies)) == count
    assert assert_cache_whole(out / ".cache") == count


# --- 3. malformed packs in a batch ----------------------------------------------------------------------

BAD_NAMES = ("syntax_not_json", "syntax_truncated", "syntax_invalid_utf8", "syntax_empty_file",
             "syntax_top_level_list", "missing_meta", "id_nct_too_short", "enum_phase_7", "format_country_uk",
             "range_score_above_one", "type_rank_string", "dup_pmid", "multiple_problems")


def test_malformed_packs_are_one_validate_style_line_each_and_the_rest_verify(
        synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_packs(synthetic, 12)
    bad = [BAD_PACKS / f"{name}.json" for name in BAD_NAMES] + [tmp_path / "no-such-pack.json"]
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        for name, value in _env(server).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DRAFTER_MODEL", raising=False)
        code = main(["batch", str(synthetic), *map(str, bad), "--out", str(out), "--concurrency", "4",
                     "--model", MODEL, "--date", DATE])
        calls = server.chat_calls
    printed = capsys.readouterr().out
    assert code == 1
    assert calls == len(good)  # a bad pack costs no call
    lines = {line["pack"]: line for line in _summary(out)}
    assert len(lines) == len(good) + len(bad)
    for path in good:
        assert lines[str(path)]["status"] == "verified", lines[str(path)]
    for path in bad:
        line = lines[str(path)]
        assert line["status"] == "bad_input" and line["outputs"] == [] and line["calls"] == 0, line
        message = line["message"]
        assert "\n" not in message and message.startswith(f"{path}: "), message
        # worded exactly as `drafter validate` words the pack's first error
        assert main(["validate", str(path)]) == 2
        said = capsys.readouterr().err.splitlines()
        assert message == said[0], (message, said)
        with pytest.raises(PackError) as caught:
            drafter.read_pack(path)
        assert message == str(caught.value.errors[0])
        assert message.removeprefix(f"{path}: ") in printed  # and the progress log shows it too
    assert "bad_input" in printed


# --- 4. two batches, one cache, at the same time --------------------------------------------------------


def test_two_concurrent_batches_share_one_cache_and_a_third_run_makes_no_call(tmp_path: Path) -> None:
    # the shared packs sort first in both runs, so both processes ask for them (and write their cache
    # entries) at the same moment
    shared = write_packs(tmp_path / "a_shared", 10)
    only_a = write_packs(tmp_path / "b_only_a", 6, start=11)
    only_b = write_packs(tmp_path / "c_only_b", 6, start=17)
    cache = tmp_path / "cache"
    with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.3, lifetime=50) as server:
        env = _env(server)
        runs = [subprocess.Popen(_batch_cmd(tmp_path / "a_shared", tmp_path / folder, "--out", tmp_path / out,
                                            "--cache", cache, "--concurrency", "4"),
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for folder, out in (("b_only_a", "out_a"), ("c_only_b", "out_b"))]
        results = [run.communicate(timeout=60) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
        calls_after_two = server.chat_calls
        bodies = _chat_bodies(server)

        third = subprocess.run(_batch_cmd(tmp_path / "a_shared", tmp_path / "b_only_a", tmp_path / "c_only_b",
                                          "--out", tmp_path / "out_c", "--cache", cache, "--concurrency", "4"),
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert third.returncode == 0, third.stdout[-2000:] + third.stderr[-2000:]
        assert server.chat_calls == calls_after_two  # zero calls

    assert_complete_outputs(tmp_path / "out_a", {p.stem: p for p in shared + only_a})
    assert_complete_outputs(tmp_path / "out_b", {p.stem: p for p in shared + only_b})
    everything = {p.stem: p for p in shared + only_a + only_b}
    assert_complete_outputs(tmp_path / "out_c", everything)
    assert all(line["calls"] == 0 and line["cached_calls"] == 1 for line in _summary(tmp_path / "out_c"))
    assert "0 calls, 22 from cache" in third.stdout
    # both runs completed every call they made; the overlap may have been asked for twice, nothing else
    assert len(set(bodies)) == len(everything) and calls_after_two <= len(everything) + len(shared)
    assert assert_cache_whole(cache) == len(everything)
    assert not [p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".json")
                and not p.name.endswith(".tmp")]


# --- one pack's failure stays that pack's ------------------------------------------------------------


def test_failed_calls_of_a_pack_whose_retries_run_out_are_counted(synthetic: Path, tmp_path: Path) -> None:
    write_packs(synthetic, 3)
    always_500 = {"status": 500, "json": error_body("The server had an error", "server_error")}
    step = scripted_by_pack({pack_id(2): always_500}, fallback=auto_draft_step())
    with ScriptedOpenAIServer(default=step, lifetime=30) as server:
        result = draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL, concurrency=2,
                             retry=RetryPolicy(max_attempts=3, max_seconds=10.0, backoff_max=0.01))
        chat_calls = server.chat_calls
    assert result.counts() == Counter({"verified": 2, "failed": 1}) and result.exit_code == 1
    failed = next(o for o in result.outcomes if o.pack_id == pack_id(2))
    assert chat_calls == 2 + 3
    assert failed.failed_calls == 3 and "500" in failed.message
    assert result.usage.requests + result.usage.failed_requests == chat_calls
    line = next(line for line in _summary(tmp_path / "out") if line["pack_id"] == pack_id(2))
    assert line["status"] == "failed" and line["failed_calls"] == 3 and line["outputs"] == []


def _batch_with_pack_2_unwritable(synthetic: Path, out: Path) -> tuple[Any, int]:
    write_packs(synthetic, 6)
    (out / f"{pack_id(2)}.md").mkdir(parents=True)  # the output's name is taken by a directory
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        result = draft_batch([synthetic], out, client=_client(server), model=MODEL, concurrency=2)
        return result, server.chat_calls


def test_an_error_writing_one_pack_does_not_stop_the_batch(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result, _ = _batch_with_pack_2_unwritable(synthetic, out)
    statuses = {Path(o.pack).stem: o.status for o in result.outcomes}
    assert statuses.pop(pack_id(2)) == "failed" and result.exit_code == 1
    assert set(statuses.values()) == {"verified"} and len(statuses) == 5
    assert len(_summary(out)) == 6
    failed = next(o for o in result.outcomes if Path(o.pack).stem == pack_id(2))
    assert "Is a directory" in failed.message and "\n" not in failed.message


# --- bugs found in src/drafter by this file, now fixed (each test failed before its fix) ---------------


def test_a_pack_that_fails_after_its_call_keeps_its_pack_id_and_its_call(synthetic: Path, tmp_path: Path) -> None:
    result, chat_calls = _batch_with_pack_2_unwritable(synthetic, tmp_path / "out")
    failed = next(o for o in result.outcomes if Path(o.pack).stem == pack_id(2))
    assert failed.status == "failed" and chat_calls == 6
    assert failed.pack_id == pack_id(2)  # today: None
    assert failed.calls == 1  # today: 0
    assert result.usage.requests == chat_calls  # today: 5 != 6


def test_an_unexpected_error_in_one_pack_does_not_stop_the_batch(synthetic: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_packs(synthetic, 6)
    real_assemble = drafter.batch.assemble

    def assemble(result: Any, **options: Any) -> Any:
        if result.pack.meta.pack_id == pack_id(2):
            raise jinja2.exceptions.UndefinedError("'IndicationAssessment object' has no attribute 'level_explanation'")
        return real_assemble(result, **options)

    monkeypatch.setattr(drafter.batch, "assemble", assemble)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        result = draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL, concurrency=2)
    statuses = {Path(o.pack).stem: o.status for o in result.outcomes}
    assert statuses.pop(pack_id(2)) == "failed"
    assert set(statuses.values()) == {"verified"} and len(statuses) == 5
    assert len(_summary(tmp_path / "out")) == 6


def test_pack_ids_cannot_make_outputs_collide(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    for n, pid in ((1, "testdrug-0001"), (2, "testdrug-0001.done")):
        data = synthetic_pack(n)
        data["meta"]["pack_id"] = pid
        (folder / f"pack{n}.json").write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        draft_batch([folder], out, client=_client(server), model=MODEL, concurrency=1)
        again = draft_batch([folder], out, client=_client(server), model=MODEL, concurrency=1)
    # either a re-run redrafts (a manifest was overwritten) or a record is now a manifest
    assert again.usage.requests == 0 and again.counts()["skipped"] == 2
    for pid in ("testdrug-0001", "testdrug-0001.done"):
        record = json.loads((out / f"{pid}.json").read_text(encoding="utf-8"))
        assert isinstance(record.get("pack"), dict) and record["pack"]["pack_id"] == pid, record


def test_a_later_429_extends_the_pause_of_calls_already_waiting() -> None:
    async def scenario() -> float:
        limiter = AdaptiveLimiter(4)
        started = time.monotonic()
        limiter.rate_limited(0.2)  # a 429 asking for 0.2 s
        sent: list[float] = []

        async def call() -> None:
            async with limiter.slot():
                sent.append(time.monotonic() - started)

        task = asyncio.create_task(call())
        await asyncio.sleep(0.05)  # the call is waiting out the first pause
        limiter.rate_limited(0.5)  # another 429, at 0.05 s, asking for 0.5 s: nothing goes out before 0.55 s
        await task
        return sent[0]

    assert asyncio.run(scenario()) >= 0.54  # today: 0.2


# --- malformed and trickling responses are transport faults (issue 10) ---------------------------------

_GOOD = auto_draft_step()["respond"]


def _answered(change: Any) -> dict[str, Any]:
    """A ``respond`` step: a valid answer for the request, then ``change(body)`` applied to its JSON."""
    def respond(request_json: dict[str, Any]) -> dict[str, Any]:
        step = _GOOD(request_json)
        body = json.loads(json.dumps(step["json"]))
        change(body)
        return {"json": body}
    return {"respond": respond}


def _set_usage(**counts: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        body["usage"].update(counts)
    return change


MALFORMED = {
    "html_proxy_page": {"body": "<html><body>502 Bad Gateway (proxy)</body></html>",
                        "headers": {"content-type": "text/html"}},
    "not_json_as_json": {"body": "<html>not json</html>"},
    "empty_choices": _answered(lambda b: b.update(choices=[])),
    "missing_message": _answered(lambda b: b["choices"][0].pop("message")),
    "json_list": {"json": [1, 2, 3]},
    "invalid_utf8": {"body": b'{"id": "\xff\xfe", "choices": []}'},
    "short_content_length": {"body": '{"id": "chatcmpl-1", "object": "chat.completion", "choices": []}',
                             "content_length": 4000},
    "retry_after_soon_ish": {"status": 429, "headers": {"retry-after": "soon-ish"},
                             "json": error_body("Rate limit reached", "requests", "rate_limit_exceeded")},
    "negative_usage": _answered(_set_usage(prompt_tokens=-1_000_000, total_tokens=-999_000)),
    "absurd_usage": _answered(_set_usage(completion_tokens=2_600_000_000)),
    "over_the_requested_bound": _answered(_set_usage(completion_tokens=20_000)),  # max_completion_tokens is 16,384
}


def test_every_request_bounds_its_answer(synthetic: Path, tmp_path: Path) -> None:
    write_packs(synthetic, 2)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL, concurrency=2)
        bounds = [r.json.get("max_completion_tokens") for r in _chat_requests(server)]
    assert bounds == [drafter.llm.DEFAULT_MAX_COMPLETION_TOKENS] * 2  # today: [None, None]


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_reply_is_retried_then_fails_only_its_pack_in_one_line(
        kind: str, synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_packs(synthetic, 3)
    step = scripted_by_pack({pack_id(2): MALFORMED[kind]}, fallback=auto_draft_step())
    policy = RetryPolicy(max_attempts=3, max_seconds=10.0, backoff_max=0.01)
    with ScriptedOpenAIServer(default=step, lifetime=30) as server:
        result = draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL, concurrency=2,
                             retry=policy)
        chat_calls = server.chat_calls
    assert "Traceback" not in capsys.readouterr().err  # today: a traceback ("internal error") for most kinds
    assert result.counts() == Counter({"verified": 2, "failed": 1}), [o.message for o in result.outcomes]
    failed = next(o for o in result.outcomes if o.pack_id == pack_id(2))
    assert failed.failed_calls == 3 and chat_calls == 2 + 3  # retried within the bounds, all counted
    assert "\n" not in failed.message and "internal error" not in failed.message, failed.message
    assert result.usage.prompt_tokens >= 0 and (result.cost or 0) >= 0


def test_draft_goes_on_after_a_pack_whose_replies_are_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_packs(tmp_path / "packs", 3)
    step = scripted_by_pack({pack_id(1): MALFORMED["html_proxy_page"]}, fallback=auto_draft_step())
    monkeypatch.setattr("drafter.llm.RetryPolicy.__init__.__defaults__", (2, 10.0, 0.01, 10.0))
    with ScriptedOpenAIServer(default=step, lifetime=30) as server:
        for name, value in _env(server).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DRAFTER_MODEL", raising=False)
        code = main(["draft", *map(str, paths), "-o", str(tmp_path / "out"), "--model", MODEL, "--format", "md"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{pack_id(2)}.md", f"{pack_id(3)}.md"]
    (line,) = [line for line in err.splitlines() if pack_id(1) in line]
    assert "drafting failed" in line and "not JSON" in line


def test_a_trickling_reply_cannot_hold_a_slot_and_the_retry_loop_is_bounded(synthetic: Path, tmp_path: Path) -> None:
    write_packs(synthetic, 3)
    trickle = _answered(lambda b: None)

    def slow(request_json: dict[str, Any]) -> dict[str, Any]:
        return {**trickle["respond"](request_json), "trickle": 0.05}  # ~1,500 bytes: over a minute in all

    step = scripted_by_pack({pack_id(2): {"respond": slow}}, fallback=auto_draft_step())
    policy = RetryPolicy(max_attempts=10, max_seconds=2.5, backoff_max=0.01, attempt_seconds=1.0)
    with ScriptedOpenAIServer(default=step, lifetime=40) as server:
        started = time.monotonic()
        result = draft_batch([synthetic], tmp_path / "out", client=_client(server), model=MODEL, concurrency=1,
                             retry=policy)
        took = time.monotonic() - started
    assert result.counts() == Counter({"verified": 2, "failed": 1})
    failed = next(o for o in result.outcomes if o.pack_id == pack_id(2))
    assert "no whole reply within" in failed.message
    assert 2 <= failed.failed_calls <= 4  # about max_seconds / attempt_seconds attempts, never ten
    assert took < 8, took  # today: each attempt lasts as long as the server trickles


def test_server_messages_that_echo_the_key_are_redacted_everywhere(synthetic: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_packs(synthetic, 2)
    key = "sk-test-Secret123"
    echo = {"status": 400, "json": error_body(f"Incorrect API key provided: {key}. Header was 'Bearer {key}'; "
                                              "also try sk-abc12", "invalid_request_error", "invalid_api_key")}
    step = scripted_by_pack({pack_id(2): echo}, fallback=auto_draft_step())
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=step, lifetime=30) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.delenv("DRAFTER_MODEL", raising=False)
        code = main(["batch", str(synthetic), "--out", str(out), "--model", MODEL, "--date", DATE])
        main(["draft", str(synthetic / f"{pack_id(2)}.json"), "-o", str(tmp_path / "d"), "--model", MODEL])
    printed = capsys.readouterr()
    assert code == 1
    written = (out / "summary.jsonl").read_text(encoding="utf-8")
    manifests = "".join(p.read_text(encoding="utf-8") for p in (out / ".manifests").glob("*.json"))
    for text in (written, manifests, printed.out, printed.err):
        assert "Secret123" not in text and "sk-abc12" not in text, text  # today: the key, verbatim
    assert "[REDACTED]" in written and "[REDACTED]" in printed.err
