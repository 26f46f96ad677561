"""drafter trusts none of its own state unchecked (issue 10, "Caches, manifests and Batch API state").

A response-cache entry or a manifest of the wrong shape, or a manifest whose outputs are gone, is a
miss with a warning: the pack is drafted again (from the cache where it can be). One bad line in a
Batch API result file fails only its own pack; a hand-edited state file is a one-line error. All
against the scripted server on 127.0.0.1 with the real openai SDK.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from drafter.cli import main
from drafter.openai_batch import STATE_FILE, run_openai_batch
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step
from tests.synthetic_packs import pack_id, write_packs

MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"


def _env(server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("DRAFTER_MODEL", raising=False)


def _batch(*args: str | Path) -> int:
    return main(["batch", *map(str, args), "--model", MODEL, "--date", DATE])


def _summary(out: Path) -> dict[str, dict[str, Any]]:
    return {json.loads(line)["pack_id"]: json.loads(line)
            for line in (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()}


BAD_CACHE_ENTRIES = ("[1, 2, 3]", '"a string"', "{not json",
                     '{"format": "drafter.response-cache/1", "key": "KEY"}',
                     '{"format": "drafter.response-cache/1", "key": "KEY", "response": {"choices": []}}')


def test_cache_entries_of_the_wrong_shape_are_misses_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, len(BAD_CACHE_ENTRIES))
    out, cache = tmp_path / "out", tmp_path / "cache"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        _env(server, monkeypatch)
        assert _batch(packs, "--out", out, "--cache", cache) == 0
        entries = sorted(cache.rglob("*.json"))
        assert len(entries) == len(BAD_CACHE_ENTRIES)
        for entry, text in zip(entries, BAD_CACHE_ENTRIES, strict=True):
            entry.write_text(text.replace("KEY", entry.stem), encoding="utf-8")
        capsys.readouterr()
        calls = server.chat_calls
        assert _batch(packs, "--out", out, "--cache", cache, "--force") == 0  # today: 1, every pack failed
        assert server.chat_calls == calls + len(BAD_CACHE_ENTRIES)  # each re-derived
    err = capsys.readouterr().err
    assert err.count("cache entry ignored") == len(BAD_CACHE_ENTRIES) and "Traceback" not in err
    assert {line["status"] for line in _summary(out).values()} == {"verified"}


BAD_MANIFESTS = ("[1, 2, 3]", '"done"', '{"run_key": 5, "outputs": [], "status": "verified"}',
                 '{"run_key": "x", "status": "verified", "outputs": "all"}')


def test_manifests_of_the_wrong_shape_or_with_missing_outputs_are_drafted_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    count = len(BAD_MANIFESTS) + 1
    write_packs(packs, count)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        _env(server, monkeypatch)
        assert _batch(packs, "--out", out) == 0
        for n, text in enumerate(BAD_MANIFESTS, start=1):
            (out / ".manifests" / f"{pack_id(n)}.json").write_text(text, encoding="utf-8")
        gone = pack_id(count)
        (out / f"{gone}.md").unlink()  # its manifest is whole, but an output is missing
        capsys.readouterr()
        calls = server.chat_calls
        assert _batch(packs, "--out", out) == 0  # today: 1 (the bad manifests fail their packs)
        assert server.chat_calls == calls  # drafted again from the cache: nothing paid twice
    lines = _summary(out)
    assert {lines[pack_id(n)]["status"] for n in range(1, count + 1)} == {"verified"}  # today: "skipped" for gone
    assert (out / f"{gone}.md").is_file()
    err = capsys.readouterr().err
    assert err.count("manifest ignored") == len(BAD_MANIFESTS) and f"{gone}.md missing" in err


# --- the Batch API's files and state ---------------------------------------------------------------------


def _openai_batch(packs: Path, out: Path, server: ScriptedOpenAIServer) -> Any:
    client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    return run_openai_batch([packs], out, client=client, model=MODEL, poll_interval=0.0)


@pytest.mark.parametrize("bad_line", ["not json at all", '{"id": "batch_req_x", "response": {}}',
                                      "RESPONSE_STRING"])
def test_one_bad_line_of_a_batch_result_file_fails_only_its_pack(tmp_path: Path, bad_line: str) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 3)
    victim = f"{pack_id(2)}:attempt-1"

    def spoil(line: dict[str, Any]) -> Any:
        if line["custom_id"] != victim:
            return line
        if bad_line == "RESPONSE_STRING":
            return {**line, "response": "oops"}
        return bad_line

    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        server.output_line_hook = spoil
        result = _openai_batch(packs, tmp_path / "out", server)  # today: a traceback, on every rerun
    statuses = {o.pack_id: o.status for o in result.outcomes}
    assert statuses == {pack_id(1): "verified", pack_id(2): "failed", pack_id(3): "verified"}
    failed = next(o for o in result.outcomes if o.pack_id == pack_id(2))
    assert "\n" not in failed.message and victim in failed.message


def test_a_hand_edited_state_file_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 2)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        _env(server, monkeypatch)
        args = ["batch", str(packs), "--out", str(out), "--openai-batch", "--model", MODEL, "--poll-interval", "0"]
        assert main([*args, "--max-wait", "0"]) == 75  # submitted, state saved
        state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        del state["parts"][0]["custom_ids"]
        state["packs"][pack_id(1)]["answers"] = "none"
        (out / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        capsys.readouterr()
        code = main(args)  # today: KeyError traceback
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert STATE_FILE in err[0] and "parts[0].custom_ids" in err[0]
