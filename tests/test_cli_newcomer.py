"""The newcomer's path through the command line (issue 10): options that work as a reader expects,
one-line errors instead of tracebacks, and honest output. Against the scripted server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import drafter
from drafter.cli import main
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step
from tests.synthetic_packs import pack_id, write_packs

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"
BACLOFEN = ROOT / "examples" / "packs" / "baclofen.json"
CASSETTE = ROOT / "cassettes" / "examples.yaml"


def _env(server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("DRAFTER_MODEL", raising=False)


def test_verify_json_into_head_ends_quietly(tmp_path: Path) -> None:
    inputs = [str(ROOT / "tests" / "golden" / "baclofen.md")] * 400  # far more than a pipe holds
    cmd = [sys.executable, "-m", "drafter", "verify", "--pack", str(BACLOFEN), *inputs, "--json"]
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        assert run.stdout is not None and run.stderr is not None
        run.stdout.read(10)
        run.stdout.close()  # `| head -c 10`
        err = run.stderr.read().decode()
        run.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err  # today: a BrokenPipeError traceback


def test_replay_of_a_file_that_is_not_a_cassette_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("not: [yaml", "just a string", "interactions: 3"):
        fake = tmp_path / "fake.yaml"
        fake.write_text(text, encoding="utf-8")
        assert main(["draft", str(BACLOFEN), "-o", str(tmp_path / "out"), "--replay", str(fake)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "not a cassette" in err[0], err  # today: a traceback


def test_out_and_o_are_accepted_by_draft_and_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command, flag in (("draft", "--out"), ("batch", "-o")):
        out = tmp_path / command
        code = main([command, str(BACLOFEN), flag, str(out), "--model", MODEL, "--date", DATE, "--replay",
                     str(CASSETTE), "--format", "md"])
        assert code == 0 and (out / "baclofen.md").is_file(), capsys.readouterr()


def test_draft_accepts_a_directory_and_refuses_zero_indications(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    write_packs(tmp_path / "packs", 2)
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert main(["draft", str(tmp_path / "packs"), "-o", str(tmp_path / "out"), "--model", MODEL,
                     "--format", "md"]) == 0  # today: a directory is "not a file"
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{pack_id(1)}.md", f"{pack_id(2)}.md"]
        calls = server.chat_calls
        for command in ("draft", "batch"):
            assert main([command, str(tmp_path / "packs"), "-o", str(tmp_path / "o2"), "--max-indications", "0"]) == 2
        assert server.chat_calls == calls
    assert capsys.readouterr().err.count("--max-indications: expected 1 or more") == 2


def test_draft_dry_run_calls_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["draft", str(BACLOFEN), "-o", str(tmp_path / "out"), "--dry-run"]) == 0
    assert "dry run: nothing was called" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_version_and_verbosity(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"drafter {drafter.__version__}"
    # a manifest of the wrong shape is a warning (shown by default, hidden by -q); -v adds info lines
    write_packs(tmp_path / "packs", 1)
    args = ["batch", str(tmp_path / "packs"), "-o", str(tmp_path / "out"), "--model", MODEL, "--dry-run"]
    (tmp_path / "out" / ".manifests").mkdir(parents=True)
    (tmp_path / "out" / ".manifests" / f"{pack_id(1)}.json").write_text("[]", encoding="utf-8")
    main(args)
    assert "WARNING: " in capsys.readouterr().err
    main(["-q", *args])
    assert "WARNING" not in capsys.readouterr().err
    import logging

    main(["-vv", *args])
    assert logging.getLogger("drafter.batch").isEnabledFor(logging.DEBUG)
    main(args)


def test_cache_hits_say_from_cache_and_replays_claim_no_cost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    write_packs(tmp_path / "packs", 2)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=30) as server:
        _env(server, monkeypatch)
        assert main(["batch", str(tmp_path / "packs"), "-o", str(out), "--model", MODEL]) == 0
        capsys.readouterr()
        assert main(["batch", str(tmp_path / "packs"), "-o", str(out), "--model", MODEL, "--force"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(from cache)") + printed.count(", from cache)") == 2, printed  # today: "0 call(s)"
    assert "0 call(s)" not in printed

    code = main(["batch", str(BACLOFEN), "-o", str(tmp_path / "r"), "--model", MODEL, "--date", DATE, "--replay",
                 str(CASSETTE)])
    printed = capsys.readouterr().out
    assert code == 0 and "~$" not in printed and f"replayed from {CASSETTE}" in printed  # today: "cost ~$0.00"
    record = json.loads((tmp_path / "r" / "baclofen.json").read_text(encoding="utf-8"))
    assert record["provenance_note"] == f"replayed from {Path(CASSETTE).name}"
    # the pages a person reads say it too, with the recorded model named as recorded
    markdown = (tmp_path / "r" / "baclofen.md").read_text(encoding="utf-8")
    html = (tmp_path / "r" / "baclofen.html").read_text(encoding="utf-8")
    assert f"replayed from the recorded answers in `{Path(CASSETTE).name}`, not a live model call" in markdown
    assert f"Replayed from the recorded answers in <code>{Path(CASSETTE).name}</code>" in html


def test_ctrl_c_prints_what_finished_and_keeps_the_summary(tmp_path: Path) -> None:
    write_packs(tmp_path / "packs", 12)
    out = tmp_path / "out"
    with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.4, lifetime=40) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key"}
        env.pop("DRAFTER_MODEL", None)
        run = subprocess.Popen([sys.executable, "-m", "drafter", "batch", str(tmp_path / "packs"), "-o", str(out),
                                "--model", MODEL, "--concurrency", "2"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while len(list(out.glob(".manifests/*.json"))) < 2:
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.02)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
    assert run.returncode == 130, err
    assert "interrupted:" in err and "pack(s) finished" in err and "Traceback" not in err, err
    lines = (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    assert 2 <= len(lines) < 12  # what finished before Ctrl-C, counted


def test_verify_accepts_drafters_own_json_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draft", str(BACLOFEN), "-o", str(tmp_path), "--model", MODEL, "--date", DATE, "--replay",
                 str(CASSETTE), "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["verify", "--pack", str(BACLOFEN), str(tmp_path / "baclofen.json")]) == 0  # today: 2, refused
    assert "0 error(s)" in capsys.readouterr().out
    record = json.loads((tmp_path / "baclofen.json").read_text(encoding="utf-8"))
    record["indications"][0]["sections"]["conclusion"]["rationale"][0]["keys"] = ["PMID:99999999"]
    (tmp_path / "tampered.json").write_text(json.dumps(record), encoding="utf-8")
    assert main(["verify", "--pack", str(BACLOFEN), str(tmp_path / "tampered.json")]) == 1  # it is really checked
