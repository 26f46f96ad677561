"""Runs that lose nothing and never lie (issue 10, "Status and data"), against the scripted server on 127.0.0.1.

Each test drives ``drafter batch`` / ``drafter draft`` (in process, or as a subprocess when a resource
limit must apply to the whole process) with the real openai SDK over real HTTP, and checks what is on
disk and what was said afterwards:

* a withheld or failed pack keeps its status on a rerun (exit 1) until --retry-withheld or --force;
* an input is never written over, and a folder holding both packs and outputs is read as packs only;
* two packs of one ``pack_id`` in one ``drafter draft`` are refused as ``drafter batch`` refuses them;
* an output folder or cache that cannot take a file is refused before the first call; a disk that
  fills up half-way leaves each report whole or absent, the summary written, and every call counted;
* a cache entry that cannot be written is a warning, never a failed pack;
* a second run on a locked output folder is refused; identical requests in flight are sent once;
* outputs follow the umask.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drafter.batch import PackIdClaims, PackOutcome, _finish_even_if_cancelled, _run_all
from drafter.cli import main
from drafter.fsio import FolderLock
from drafter.llm import Usage
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step, completion_step, error_body, scripted_by_pack
from tests.synthetic_packs import pack_id, synthetic_pack, write_packs

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"
NOTHING_VERIFIES = completion_step('{"indications": []}')  # every rank missing: withheld after the repairs
ALWAYS_500 = {"status": 500, "json": error_body("The server had an error", "server_error")}


def _env(server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("DRAFTER_MODEL", raising=False)


def _summary(out: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()]
    return {Path(line["pack"]).stem: line for line in lines}


def _batch(*args: str | Path) -> int:
    return main(["batch", *map(str, args), "--model", MODEL, "--date", DATE, "--max-repairs", "0"])


# --- a rerun keeps withheld and failed packs as they were ----------------------------------------------


@pytest.mark.parametrize(("fate", "status"), [(NOTHING_VERIFIES, "withheld"), (ALWAYS_500, "failed")])
def test_a_withheld_or_failed_pack_stays_so_on_rerun_until_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  fate: dict[str, Any], status: str) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 3)
    out = tmp_path / "out"
    step = scripted_by_pack({pack_id(2): fate}, fallback=auto_draft_step())
    with ScriptedOpenAIServer(default=step, lifetime=40) as server:
        _env(server, monkeypatch)
        monkeypatch.setattr("drafter.llm.RetryPolicy.__init__.__defaults__", (2, 10.0, 0.01, 10.0))
        assert _batch(packs, "--out", out, "--no-cache") == 1
        assert _summary(out)[pack_id(2)]["status"] == status
        calls = server.chat_calls

        assert _batch(packs, "--out", out, "--no-cache") == 1  # today: 0, and "skipped"
        lines = _summary(out)
        assert lines[pack_id(2)]["status"] == status and lines[pack_id(2)]["calls"] == 0
        assert "--retry-withheld" in lines[pack_id(2)]["message"]
        assert {lines[pack_id(n)]["status"] for n in (1, 3)} == {"skipped"}
        assert server.chat_calls == calls  # nothing drafted again

        assert _batch(packs, "--out", out, "--no-cache", "--retry-withheld") == 1
        lines = _summary(out)
        assert lines[pack_id(2)]["status"] == status
        assert lines[pack_id(2)]["calls"] + lines[pack_id(2)]["failed_calls"] >= 1  # drafted again
        assert {lines[pack_id(n)]["status"] for n in (1, 3)} == {"skipped"}
        calls = server.chat_calls

        assert _batch(packs, "--out", out, "--no-cache", "--force") == 1
        assert server.chat_calls > calls + 2  # every pack drafted again
        assert {_summary(out)[pack_id(n)]["status"] for n in (1, 3)} == {"verified"}


# --- inputs are never written over ---------------------------------------------------------------------


def test_draft_refuses_to_write_over_its_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "X"
    (path,) = write_packs(folder, 1)
    before = path.read_bytes()
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        code = main(["draft", str(path), "-o", str(folder), "--model", MODEL, "--format", "json"])
        assert server.chat_calls == 0  # refused before the call
    assert code == 2 and path.read_bytes() == before  # today: 0, and the pack replaced by the record
    err = capsys.readouterr().err
    assert "refusing to write" in err and "input" in err and len(err.strip().splitlines()) == 1


def test_a_batch_whose_outputs_share_the_packs_folder_reads_only_the_packs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "X"
    paths = [p.rename(p.with_name(f"pack-{p.stem}.json")) for p in write_packs(folder, 3)]
    before = {p: p.read_bytes() for p in paths}
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert _batch(folder, "--out", folder) == 0  # writes X/testdrug-000N.json records, X/.cache, X/.manifests
        calls = server.chat_calls
        assert _batch(folder, "--out", folder) == 0  # today: 1, every record and cache entry read as a bad pack
        again = _summary(folder)
        assert server.chat_calls == calls == 3
    assert all(p.read_bytes() == before[p] for p in paths)
    assert sorted(again) == sorted(p.stem for p in paths)
    assert {line["status"] for line in again.values()} == {"skipped"}
    assert (folder / f"{pack_id(1)}.json").is_file()


def test_a_batch_refuses_an_output_that_is_one_of_its_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "X"
    (path,) = write_packs(folder, 1)
    before = path.read_bytes()
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert _batch(path, "--out", folder) == 1
        assert server.chat_calls == 0
    assert path.read_bytes() == before
    line = _summary(folder)[path.stem]
    assert line["status"] == "bad_input" and "refusing to write" in line["message"]


@pytest.mark.parametrize("through", ["linked folder", "linked file"])
def test_a_batch_refuses_an_output_that_reaches_an_input_through_a_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through: str) -> None:
    folder = tmp_path / "X"
    (path,) = write_packs(folder, 1)
    before = path.read_bytes()
    if through == "linked folder":
        out = tmp_path / "link"
        out.symlink_to(folder, target_is_directory=True)
    else:
        out = tmp_path / "out"
        out.mkdir()
        (out / path.name).symlink_to(path)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert _batch(path, "--out", out, "--format", "json") == 1
        assert server.chat_calls == 0
    assert path.read_bytes() == before
    assert _summary(out)[path.stem]["status"] == "bad_input"


def test_draft_refuses_two_packs_with_one_pack_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(synthetic_pack(1)), encoding="utf-8")
    second = synthetic_pack(2)
    second["meta"]["pack_id"] = pack_id(1)
    b.write_text(json.dumps(second), encoding="utf-8")
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        code = main(["draft", str(a), str(b), "--out", str(out), "--model", MODEL, "--format", "json"])
        assert server.chat_calls == 1
    assert code == 2
    assert "already used" in capsys.readouterr().err
    record = json.loads((out / f"{pack_id(1)}.json").read_text(encoding="utf-8"))
    assert record["pack"]["drug"] == synthetic_pack(1)["drug"]["inn"]  # the first report, not overwritten


def test_pack_ids_are_claimed_in_input_order_whichever_pack_is_read_first() -> None:
    # CI caught it: b.json read before a.json took the id, and its report replaced a.json's.
    async def scenario() -> tuple[list[str], dict[int, asyncio.Event]]:
        claims = PackIdClaims()
        later = asyncio.create_task(claims.claim(1, "same-id", "b.json"))  # read first
        await asyncio.sleep(0)
        assert not later.done()  # waits for the pack listed before it
        first = await claims.claim(0, "same-id", "a.json")
        return [first, await later], claims._turns

    owners, left = asyncio.run(scenario())
    assert owners == ["a.json", "a.json"]  # a drafts, b is refused as "also in a.json"
    assert not left


def test_a_pack_that_ends_before_claiming_does_not_hold_up_the_packs_after_it() -> None:
    async def scenario() -> list[str]:
        claims = PackIdClaims()
        third = asyncio.create_task(claims.claim(2, "id-c", "c.json"))
        second = asyncio.create_task(claims.claim(1, "id-b", "b.json"))
        await asyncio.sleep(0)
        claims.give_up(0)  # a.json was unreadable
        claims.give_up(0)  # and giving up twice is harmless
        return await asyncio.wait_for(asyncio.gather(second, third), timeout=5)

    assert asyncio.run(scenario()) == ["b.json", "c.json"]


def test_an_interrupted_batch_counts_the_packs_that_had_finished() -> None:
    # Ctrl-C lands while a finished pack's result waits to be collected: its manifest is on disk (a
    # rerun skips it), so the summary and the count of calls must include it.
    outcomes: dict[int, PackOutcome] = {}
    usage = Usage()

    class Packs:
        async def run_one(self, path: Path, index: int) -> PackOutcome:
            if index == 0:
                runner.cancel()  # the interrupt, in the same turn of the loop as the pack's end
                return PackOutcome(str(path), "verified", "p0", calls=3)
            await asyncio.sleep(30)
            raise AssertionError("not cancelled")

    async def scenario() -> None:
        nonlocal runner
        runner = asyncio.create_task(_run_all(Packs(), [Path("p0.json"), Path("p1.json")], 1,  # type: ignore[arg-type]
                                              outcomes, usage, None))
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    runner: asyncio.Task[None]
    asyncio.run(scenario())
    assert list(outcomes) == [0] and outcomes[0].status == "verified" and usage.requests == 3


def test_a_manifest_being_written_when_the_run_is_cancelled_is_finished_and_reported() -> None:
    written: list[str] = []

    def slow_write() -> None:
        time.sleep(0.2)
        written.append("manifest")

    async def pack() -> str:
        await _finish_even_if_cancelled(asyncio.to_thread(slow_write))
        return "finished"

    async def scenario() -> str:
        task = asyncio.create_task(pack())
        await asyncio.sleep(0.05)
        task.cancel()
        return await task

    assert asyncio.run(scenario()) == "finished" and written == ["manifest"]


# --- writable before paying; whole or nothing when the disk fills -----------------------------------------


def test_an_output_folder_that_is_a_file_or_a_cache_that_cannot_be_made_is_refused_before_any_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 2)
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert _batch(packs, "--out", a_file) == 2
        assert main(["draft", str(packs), "-o", str(a_file), "--model", MODEL]) == 2
        assert _batch(packs, "--out", tmp_path / "out", "--cache", a_file / "cache") == 2
        assert server.chat_calls == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("Traceback" not in line for line in err), err
    assert "is an existing file" in err[0] and "not writable" in err[2] and "--no-cache" in err[2]


def _limited(limit: int) -> Any:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # python ignores SIGXFSZ: writes get EFBIG

    return set_limit


def _run_limited(args: list[str | Path], server: ScriptedOpenAIServer, limit: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DRAFTER_MODEL"}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="test-key", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "drafter", *map(str, args), "--model", MODEL, "--date", DATE],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, preexec_fn=_limited(limit))


def test_a_folder_that_cannot_take_a_byte_is_refused_before_any_call(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 2)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        run = _run_limited(["batch", packs, "--out", tmp_path / "out"], server, 0)
        assert server.chat_calls == 0  # today: 2 calls paid, then both packs failed
    assert run.returncode == 2 and "not writable" in run.stderr and "Traceback" not in run.stderr, run.stderr


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nothing can be written into: permissions for a user; for root (who ignores them, as CI
    runs) a read-only tmpfs mounted there."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True,
                             text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"running as root and cannot mount a read-only tmpfs: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_read_only_output_folder_or_cache_is_refused_before_any_call(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 2)
    with read_only_folder(tmp_path / "locked") as locked:
        with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
            _env(server, monkeypatch)
            assert _batch(packs, "--out", locked) == 2
            assert _batch(packs, "--out", tmp_path / "out", "--cache", locked) == 2
            assert server.chat_calls == 0


def test_a_disk_that_fills_half_way_leaves_whole_reports_a_summary_and_every_call_counted(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 3)
    out = tmp_path / "out"
    # 10,500 bytes per file: the summary, manifests, cache entries and the md of packs 1 and 2 (about 7.4 kB)
    # fit, their html (about 11.7 kB) does not; pack 3's reports are smaller (html about 9.4 kB) and fit whole
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        run = _run_limited(["batch", packs, "--out", out], server, 10500)
        calls = server.chat_calls
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode == 1, run.stdout + run.stderr
        lines = _summary(out)
        assert sum(line["calls"] for line in lines.values()) == calls == 3  # every call counted
        statuses = {pid: line["status"] for pid, line in lines.items()}
        assert statuses == {pack_id(1): "failed", pack_id(2): "failed", pack_id(3): "verified"}
        assert "none was written" in lines[pack_id(1)]["message"]
        for pid in statuses:
            present = sorted(p.name for p in out.glob(f"{pid}.*"))
            assert present in ([], [f"{pid}.html", f"{pid}.json", f"{pid}.md"]), present  # whole or absent
        assert not list(out.glob(f"{pack_id(1)}.*"))
        # with room again, the rerun drafts the two from the cache: nothing is paid twice
        again = subprocess.run([sys.executable, "-m", "drafter", "batch", str(packs), "--out", str(out), "--model",
                                MODEL, "--date", DATE], cwd=ROOT, capture_output=True, text=True, timeout=60,
                               env={**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
        assert again.returncode == 0 and server.chat_calls == calls, again.stdout + again.stderr
    assert {line["status"] for line in _summary(out).values()} == {"verified", "skipped"}


def test_a_cache_entry_that_cannot_be_written_is_a_warning_not_a_failed_pack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 3)
    cache = tmp_path / "cache"
    cache.mkdir()
    for n in range(256):  # every entry's folder name is taken by a file: the cache dir is writable, no entry is
        (cache / f"{n:02x}").write_text("", encoding="utf-8")
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        code = _batch(packs, "--out", tmp_path / "out", "--cache", cache)
        assert server.chat_calls == 3
    assert code == 0  # today: 1, three failed packs whose answers were paid for
    assert {line["status"] for line in _summary(tmp_path / "out").values()} == {"verified"}
    err = capsys.readouterr().err
    assert err.count("cannot write a cache entry") == 3 and "Traceback" not in err


# --- one run per output folder; one call per distinct request ------------------------------------------


def test_a_second_run_on_a_locked_output_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 2)
    out = tmp_path / "out"
    out.mkdir()
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        with FolderLock(out):  # another run holds it
            code = _batch(packs, "--out", out)
        assert server.chat_calls == 0
        assert _batch(packs, "--out", out) == 0  # released: the next run goes ahead
    assert code == 2
    err = capsys.readouterr().err
    assert "another drafter run" in err and f"pid {os.getpid()}" in err


def test_two_batch_processes_on_one_output_folder_do_not_both_pay(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 6)
    out = tmp_path / "out"
    env = {**os.environ, "OPENAI_API_KEY": "test-key"}
    env.pop("DRAFTER_MODEL", None)
    with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.3, lifetime=40) as server:
        env["OPENAI_BASE_URL"] = server.base_url
        cmd = [sys.executable, "-m", "drafter", "batch", str(packs), "--out", str(out), "--model", MODEL,
               "--concurrency", "2", "--date", DATE]
        runs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        results = [run.communicate(timeout=60) for run in runs]
        codes = sorted(run.returncode for run in runs)
        calls = server.chat_calls
    assert codes == [0, 2], results  # one ran, the other was refused at once
    assert calls == 6  # today: up to 12
    assert any("another drafter run" in err for _, err in results)


def test_identical_requests_in_flight_are_sent_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    for name in ("twin-a", "twin-b"):  # the same content under two ids: the prompts never name the id
        data = synthetic_pack(1)
        data["meta"]["pack_id"] = name
        (packs / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.5, lifetime=30) as server:
        _env(server, monkeypatch)
        assert _batch(packs, "--out", tmp_path / "out", "--no-cache", "--concurrency", "2") == 0
        assert server.chat_calls == 1  # today: 2
    lines = _summary(tmp_path / "out")
    assert sorted((line["calls"], line["cached_calls"]) for line in lines.values()) == [(0, 1), (1, 0)]


def test_outputs_follow_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packs = tmp_path / "packs"
    write_packs(packs, 1)
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
            _env(server, monkeypatch)
            assert _batch(packs, "--out", out) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.rglob("*") if p.is_file() and p.name != ".drafter.lock"}
    assert modes and set(modes.values()) == {0o644}, modes  # today: 0o600
