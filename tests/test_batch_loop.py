"""The batch's event loop only waits: what moved off it must keep the batch's guarantees.

* reports are written without fsync, so the pack's manifest (fsynced, written after them) records
  each report's size, and a report left short or empty (as a power cut can leave an unsynced file)
  is drafted again, from the response cache, instead of being trusted;
* ``summary.jsonl`` is streamed as packs finish, yet its lines stay in input order when packs
  finish out of order, and the old summary is replaced whole, never truncated or half-written;
* the cache and the manifests are still fsynced; the reports of ``drafter draft`` (no manifest) too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openai
import pytest

import drafter.fsio
from drafter.batch import PackOutcome, SummaryWriter, draft_batch, manifest_path
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step, scripted_by_pack
from tests.synthetic_packs import pack_id, write_packs

MODEL = "gpt-4.1-mini"


def _client(server: ScriptedOpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=10.0)


def _batch(server: ScriptedOpenAIServer, packs: Path, out: Path, **options: Any) -> Any:
    return draft_batch([packs], out, client=_client(server), model=MODEL, concurrency=4, cache=out / ".cache",
                       **options)


def test_a_report_left_short_is_drafted_again_from_the_cache(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 3)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        first = _batch(server, packs, out)
        calls = server.chat_calls
        manifest = json.loads(manifest_path(out, pack_id(2)).read_text(encoding="utf-8"))
        report = out / f"{pack_id(2)}.md"
        assert manifest["sizes"][report.name] == report.stat().st_size > 0
        whole = report.read_bytes()
        report.write_bytes(whole[: len(whole) // 2])  # what an unsynced file can be after a power cut
        second = _batch(server, packs, out)
        assert server.chat_calls == calls  # redrafted from the response cache: no call paid twice
    assert [o.status for o in first.outcomes] == ["verified"] * 3
    statuses = {Path(o.pack).stem: o.status for o in second.outcomes}
    assert statuses == {pack_id(1): "skipped", pack_id(2): "verified", pack_id(3): "skipped"}
    assert report.read_bytes() == whole


def test_the_summary_keeps_input_order_when_packs_finish_out_of_order(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 5)
    slow = {"respond": lambda request: {**auto_draft_step()["respond"](request), "delay": 0.6}}  # pack 1 answers last
    with ScriptedOpenAIServer(default=scripted_by_pack({pack_id(1): slow}, fallback=auto_draft_step()),
                              lifetime=60) as server:
        result = _batch(server, packs, tmp_path / "out")
    finished = sorted(result.outcomes, key=lambda o: o.seconds)
    assert Path(finished[-1].pack).stem == pack_id(1)  # it did finish last
    lines = [json.loads(line) for line in (tmp_path / "out" / "summary.jsonl").read_text().splitlines()]
    assert [Path(line["pack"]).stem for line in lines] == [pack_id(n) for n in range(1, 6)]
    assert [line["status"] for line in lines] == ["verified"] * 5


def test_a_summary_that_cannot_be_written_leaves_the_old_one_whole(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "summary.jsonl").write_text("the old summary\n", encoding="utf-8")
    writer = SummaryWriter(tmp_path)
    writer.add(1, PackOutcome("b.json", "verified"))
    writer.add(0, PackOutcome("a.json", "verified"))
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert writer.close() is None  # a warning, not the batch's failure
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert (tmp_path / "summary.jsonl").read_text(encoding="utf-8") == "the old summary\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.jsonl"]  # no temporary file left behind
    writer = SummaryWriter(tmp_path)
    writer.add(1, PackOutcome("b.json", "verified"))
    writer.add(0, PackOutcome("a.json", "failed"))
    assert writer.close() == tmp_path / "summary.jsonl"
    lines = [json.loads(line) for line in (tmp_path / "summary.jsonl").read_text().splitlines()]
    assert [(line["pack"], line["status"]) for line in lines] == [("a.json", "failed"), ("b.json", "verified")]


def test_cache_entries_and_manifests_are_fsynced_reports_are_not(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 1)
    synced: list[str] = []
    real = drafter.fsio._write_temp

    def spy(target: Path, text: str, mode: int, durable: bool = True) -> str:
        if durable:
            synced.append(target.suffix if target.parent.name != ".manifests" else "manifest")
        return real(target, text, mode, durable)

    monkeypatch.setattr(drafter.fsio, "_write_temp", spy)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        _batch(server, packs, tmp_path / "out")
    assert sorted(synced) == [".json", "manifest"]  # the cache entry (.json) and the manifest
