"""`drafter merge`: sharded batch runs add up to the unsharded run, and what cannot be merged is refused."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from drafter.cli import main
from drafter.fsio import FolderLock
from tests.cassette_scenarios import CASSETTES, MODEL, REPORT_DATE, ROOT

EXAMPLES = ROOT / "examples" / "packs"
BAD = ROOT / "tests" / "bad_packs" / "id_nct_too_short.json"


def batch(out: Path, *extra: str) -> int:
    return main(["batch", str(EXAMPLES), str(BAD), "-o", str(out), "--replay", str(CASSETTES / "examples.yaml"),
                 "--model", MODEL, "--date", REPORT_DATE.isoformat(), *extra])


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unsharded run and three shards of the same inputs, run from the same directory."""
    root = tmp_path_factory.mktemp("runs")
    batch(root / "whole")
    for index in (1, 2, 3):
        batch(root / f"shard-{index}", "--shard", f"{index}/3")
    return root


def test_merged_shards_equal_the_unsharded_run(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["merge", *(str(runs / f"shard-{i}") for i in (1, 2, 3)), "-o", str(runs / "merged")])
    out = capsys.readouterr().out
    whole = {line["pack"]: line for line in lines(runs / "whole" / "summary.jsonl")}
    merged = lines(runs / "merged" / "summary.jsonl")
    assert code == 1  # the bad pack is in one shard, so the merged run is not all verified, as unsharded
    assert sorted(line["pack"] for line in merged) == sorted(whole)
    for line in merged:
        same = whole[line["pack"]]
        assert (line["status"], line["pack_id"], line["calls"]) == (same["status"], same["pack_id"], same["calls"])
        folder = runs / "merged" / str(line["folder"])
        assert all((folder / name).is_file() for name in line["outputs"])  # each line still finds its reports
    verified = sum(1 for line in merged if line["status"] == "verified")
    assert f"{len(merged)} packs from 3 shards: {verified} verified, 1 bad input" in out
    assert sum(1 for i in (1, 2, 3) if lines(runs / f"shard-{i}" / "summary.jsonl")) >= 2  # really split


def test_a_pack_in_two_shards_is_refused(runs: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["merge", str(runs / "whole"), str(runs / "shard-1"), "-o", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "is also in" in err and "--shard count" in err
    assert not (tmp_path / "m" / "summary.jsonl").exists()


def test_a_shard_without_summary_or_with_a_bad_line_is_one_clear_error(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "never-ran"
    empty.mkdir()
    assert main(["merge", str(runs / "shard-1"), str(empty), "-o", str(tmp_path / "m")]) == 2
    assert f"{empty / 'summary.jsonl'}: no summary" in capsys.readouterr().err

    edited = tmp_path / "edited"
    edited.mkdir()
    good = (runs / "shard-1" / "summary.jsonl").read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(good)
    for bad, expected in [({**record, "calls": -1}, ":2: calls: Input should be greater than or equal to 0"),
                          ({**record, "status": "done"}, ":2: status: expected one of verified"),
                          ({**record, "outputs": ["../../etc/passwd"]}, ":2: outputs: expected a file name inside"),
                          ([1, 2], ":2: expected a JSON object, found list")]:
        (edited / "summary.jsonl").write_text(good + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
        assert main(["merge", str(edited), "-o", str(tmp_path / "m")]) == 2
        err = capsys.readouterr().err
        assert f"{edited / 'summary.jsonl'}{expected}" in err and "Traceback" not in err
    (edited / "summary.jsonl").write_text(good + "\n{not json\n", encoding="utf-8")
    assert main(["merge", str(edited), "-o", str(tmp_path / "m")]) == 2
    assert ":2: expected one JSON object per line" in capsys.readouterr().err


def test_a_shard_still_running_is_refused_and_the_output_may_not_be_a_shard(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = os.open(runs / "shard-2" / FolderLock.NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a running batch holds
        assert main(["merge", str(runs / "shard-1"), str(runs / "shard-2"), "-o", str(tmp_path / "m")]) == 2
        assert "still writing to this folder" in capsys.readouterr().err
    finally:
        os.close(lock)
    before = (runs / "shard-1" / "summary.jsonl").read_bytes()
    assert main(["merge", str(runs / "shard-1"), str(runs / "shard-2"), "-o", str(runs / "shard-1")]) == 2
    assert "is one of the shard folders" in capsys.readouterr().err
    assert (runs / "shard-1" / "summary.jsonl").read_bytes() == before


def test_the_merge_reads_every_field_a_batch_writes():
    import dataclasses

    from drafter.batch import PackOutcome
    from drafter.merge import SummaryRecord

    assert set(SummaryRecord.model_fields) == {f.name for f in dataclasses.fields(PackOutcome)}
