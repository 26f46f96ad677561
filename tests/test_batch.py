"""Batch drafting: resumable, cached, sharded, honest about every pack (recorded responses)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import openai
import pytest

from drafter.batch import adraft_batch, draft_batch, expand_inputs, in_shard, parse_shard
from drafter.cache import ResponseCache
from drafter.cli import main
from drafter.errors import UserError
from tests.cassette_scenarios import CASSETTES, MODEL, REPORT_DATE, ROOT
from tests.llm_server import ScriptedOpenAIServer, make_vcr

EXAMPLES = ROOT / "examples" / "packs"
BAD = ROOT / "tests" / "bad_packs" / "id_nct_too_short.json"
# Counted, not written down: adding an example pack must not break these tests.
N_EXAMPLES = len(list(EXAMPLES.glob("*.json")))


def run_replayed(inputs: list[str | Path], out: Path, **options: object):
    client = openai.AsyncOpenAI(api_key="replay", base_url="https://api.openai.com/v1", max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette("examples.yaml", allow_playback_repeats=True):
        return draft_batch(inputs, out, client=client, model=MODEL, report_date=REPORT_DATE, **options)


def test_batch_drafts_every_pack_and_a_second_run_redrafts_nothing(tmp_path: Path) -> None:
    first = run_replayed([EXAMPLES, BAD], tmp_path)
    counts = first.counts()
    assert counts["verified"] == N_EXAMPLES and counts["bad_input"] == 1 and first.exit_code == 1
    lines = [json.loads(line) for line in (tmp_path / "summary.jsonl").read_text().splitlines()]
    assert len(lines) == N_EXAMPLES + 1
    bad = next(line for line in lines if line["status"] == "bad_input")
    assert "predicted_indications[0].trials[0].registry_id: found 'NCT123'" in bad["message"]
    good = next(line for line in lines if line["pack_id"] == "baclofen")
    assert good["outputs"] == ["baclofen.md", "baclofen.json", "baclofen.html"] and good["calls"] == 1
    assert all((tmp_path / name).is_file() for name in good["outputs"])
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.md")}

    second = run_replayed([EXAMPLES], tmp_path)
    assert second.counts()["skipped"] == N_EXAMPLES and second.usage.requests == 0 and second.exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.md")} == before  # nothing rewritten


def test_a_changed_pack_or_setting_is_redrafted_and_nothing_else(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES, packs)
    out = tmp_path / "out"
    run_replayed([packs], out)
    data = json.loads((packs / "tizanidine-gb.json").read_text())
    data["drug"]["brand_names"].append("Sirdalud")  # new pack content, same prompt
    (packs / "tizanidine-gb.json").write_text(json.dumps(data))
    result = run_replayed([packs], out)
    by_id = {o.pack_id: o for o in result.outcomes}
    assert by_id["tizanidine-gb"].status == "verified" and by_id["tizanidine-gb"].calls == 1
    assert sorted(o.status for o in result.outcomes if o.pack_id != "tizanidine-gb") == ["skipped"] * (N_EXAMPLES - 1)
    changed_setting = run_replayed([packs], out, max_repairs=1)
    assert changed_setting.counts()["verified"] == N_EXAMPLES  # a different setting is a different run key


def test_the_response_cache_makes_a_rerun_free(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    run_replayed([EXAMPLES], tmp_path / "a", cache=cache)
    assert cache.writes == N_EXAMPLES
    # another output folder (nothing to skip), same cache: zero calls, and no cassette needed
    fresh = ResponseCache(tmp_path / "cache")
    server = ScriptedOpenAIServer([], lifetime=30)
    with server:
        client = openai.AsyncOpenAI(api_key="k", base_url="https://api.openai.com/v1", max_retries=0)
        result = draft_batch([EXAMPLES], tmp_path / "b", client=client, model=MODEL, report_date=REPORT_DATE,
                             cache=fresh)
    assert result.usage.requests == 0 and result.usage.cached_responses == N_EXAMPLES and fresh.hits == N_EXAMPLES
    assert result.counts()["verified"] == N_EXAMPLES
    assert (tmp_path / "a" / "baclofen.md").read_text() == (tmp_path / "b" / "baclofen.md").read_text()


def test_shards_partition_the_inputs_deterministically() -> None:
    paths = expand_inputs([ROOT / "tests" / "bad_packs"])
    shards = [[p for p in paths if in_shard(p, (i, 3))] for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(paths)
    assert all(not set(a) & set(b) for a in shards for b in shards if a is not b)
    assert shards == [[p for p in paths if in_shard(p, (i, 3))] for i in (1, 2, 3)]
    with pytest.raises(UserError):
        parse_shard("4/3")


def test_dry_run_counts_calls_and_estimates_tokens_without_calling(tmp_path: Path, capsys) -> None:
    code = main(["batch", str(EXAMPLES), str(BAD), "--out", str(tmp_path / "out"), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1  # the bad pack
    assert "dry run" in out and f"{N_EXAMPLES} calls estimated" in out
    assert not (tmp_path / "out").exists()


def test_limit_and_exit_code_zero(tmp_path: Path) -> None:
    result = run_replayed([EXAMPLES], tmp_path, limit=2, concurrency=2)
    assert len(result.outcomes) == 2 and result.exit_code == 0


def test_two_packs_with_one_pack_id_do_not_overwrite_each_other(tmp_path: Path) -> None:
    twin = tmp_path / "twin.json"
    twin.write_text((EXAMPLES / "baclofen.json").read_text())
    result = run_replayed([EXAMPLES / "baclofen.json", twin], tmp_path / "out")
    statuses = sorted(o.status for o in result.outcomes)
    assert statuses == ["bad_input", "verified"]
    assert "already used in this batch" in next(o.message for o in result.outcomes if o.status == "bad_input")


def test_batch_command_replays_and_prints_the_summary(tmp_path: Path, capsys) -> None:
    args = ["batch", str(EXAMPLES), "--out", str(tmp_path), "--replay", str(CASSETTES / "examples.yaml"),
            "--model", MODEL, "--date", REPORT_DATE.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "batch summary" in out and f"{N_EXAMPLES} calls" in out
    assert main(args) == 0
    assert "0 calls" in capsys.readouterr().out


def test_no_input_matched_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["batch", str(tmp_path / "nothing-*.json"), "--out", str(tmp_path), "--dry-run"]) == 2
    assert "no pack matched" in capsys.readouterr().err


def test_async_api(tmp_path: Path) -> None:
    client = openai.AsyncOpenAI(api_key="replay", base_url="https://api.openai.com/v1", max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette("examples.yaml", allow_playback_repeats=True):
        result = asyncio.run(adraft_batch([EXAMPLES / "tizanidine-gb.json"], tmp_path, client=client, model=MODEL,
                                          report_date=REPORT_DATE))
    assert result.counts()["verified"] == 1
