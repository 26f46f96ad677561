"""Pack loading hardening: one record per id, single-line names, sizes and kinds of input files,
numbers and dates the loader must refuse, and packs whose predictions carry no model score.

Every pack here is derived from ``tests/bad_packs/_valid_base.json`` (drafter's format) or
``tests/data/txgnn/clean_pack.json`` (the TxGNN pipelines' format) by one edit, so a failure points
at the one thing that changed. No mocks: real files, FIFOs and devices.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import openai
from drafter.errors import PackError, PackProblem
from drafter.pack import EvidencePack, load_pack, read_pack
from drafter.pack.load import DEFAULT_MAX_BYTES, read_input_text
from drafter.pack.txgnn import import_txgnn
from drafter.pipeline import draft_report
from drafter.rules import assess_pack
from drafter.verify import verify_markdown
from tests.llm_server import ScriptedOpenAIServer, auto_draft_step

ROOT = Path(__file__).resolve().parents[1]
BASE = json.loads((ROOT / "tests" / "bad_packs" / "_valid_base.json").read_text(encoding="utf-8"))
TXGNN = json.loads((ROOT / "tests" / "data" / "txgnn" / "clean_pack.json").read_text(encoding="utf-8"))
PI0, PI1 = "predicted_indications[0]", "predicted_indications[1]"
# the command line runs the drafter this test imports (PYTHONPATH as given, else this checkout's src)
_ENV = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(ROOT / "src")}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def txgnn() -> dict[str, Any]:
    return copy.deepcopy(TXGNN)


def refused(source: Any) -> list[PackProblem]:
    with pytest.raises(PackError) as info:
        read_pack(source)
    err = info.value
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    for line in str(err).split("\n"):
        assert "Traceback" not in line and "Error:" not in line
    return err.errors


def one_error(source: Any) -> PackProblem:
    errors = refused(source)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def write(tmp_path: Path, obj: Any, name: str = "pack.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


# --- one record per id --------------------------------------------------------------------------------


def test_identical_copy_in_another_indication_is_fine_and_stored_in_ascii() -> None:
    obj = base()
    trial = copy.deepcopy(obj["predicted_indications"][0]["trials"][0])
    trial["registry_id"] = "\uff2e\uff23\uff34\u0660\u0661\u0668\u0662\u0661\u0665\u0666\u0660"  # full-width + Arabic-Indic
    obj["predicted_indications"][1]["trials"].append(trial)
    loaded = read_pack(obj)
    assert loaded.warnings == []
    copy_ = loaded.pack.predicted_indications[1].trials[0]
    assert copy_.registry_id == "NCT01821560" and copy_.registry_id.isascii()


def test_conflicting_copies_name_both_paths_and_the_field() -> None:
    obj = base()
    trial = copy.deepcopy(obj["predicted_indications"][0]["trials"][0])
    trial["registry_id"] = "N\u0421\u0422\u200b01821560"  # Cyrillic С and Т, a zero-width space
    trial["status"] = "recruiting"
    obj["predicted_indications"][1]["trials"].append(trial)
    problem = one_error(obj)
    assert problem.path == f"{PI1}.trials[0].status"
    assert f"{PI0}.trials[0]" in problem.expected and "NCT01821560" in problem.expected
    assert "status is 'completed'" in problem.expected and problem.found == "'recruiting'"


def test_conflicting_article_copy_within_one_indication() -> None:
    obj = base()
    article = copy.deepcopy(obj["predicted_indications"][0]["articles"][0])
    article["pmid"] = "\uff12\uff11\uff13\uff10\uff10\uff10\uff14\uff10"
    article["journal"] = "Another Journal"
    obj["predicted_indications"][0]["articles"].append(article)
    problem = one_error(obj)
    assert problem.path == f"{PI0}.articles[1].journal"
    assert f"one record per PMID: 21300040 is also at {PI0}.articles[0]" in problem.expected


def test_identical_copy_within_one_indication_is_dropped_with_a_warning() -> None:
    obj = base()
    obj["predicted_indications"][0]["trials"].append(copy.deepcopy(obj["predicted_indications"][0]["trials"][1]))
    loaded = read_pack(obj)
    assert [w.path for w in loaded.warnings] == [f"{PI0}.trials[2].registry_id"]
    assert [t.registry_id for t in loaded.pack.predicted_indications[0].trials] == ["NCT01821560", "NCT00257894"]


def test_txgnn_conflicting_copies_across_indications_name_both_txgnn_paths() -> None:
    obj = txgnn()
    first = obj["predicted_indications"][0]["evidence"]["literature"][0]
    changed = {**first, "pmid": "PMID: " + "".join(chr(0x0660 + int(d)) for d in str(first["pmid"])),
               "year": int(first["year"]) + 1 if str(first.get("year", "")).isdigit() else 1999}
    obj["predicted_indications"][1]["evidence"]["literature"].append(changed)
    j = len(obj["predicted_indications"][1]["evidence"]["literature"]) - 1
    problem = one_error(obj)
    assert problem.path == f"{PI1}.evidence.literature[{j}].year"
    assert f"{PI0}.evidence.literature[0]" in problem.expected  # the TxGNN path, not drafter's articles[0]


def test_txgnn_conflicting_copies_in_one_list_are_an_error() -> None:
    obj = txgnn()
    trials = obj["predicted_indications"][1]["evidence"]["clinical_trials"]
    trials.append({**trials[0], "nct_id": trials[0]["nct_id"].lower(), "phase": "PHASE4"})
    problem = one_error(obj)
    assert problem.path == f"{PI1}.evidence.clinical_trials[{len(trials) - 1}].phase"
    assert f"is also at {PI1}.evidence.clinical_trials[0], whose phase is" in problem.expected


# --- single-line fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(("pointer", "path"), [
    (("drug", "inn"), "drug.inn"),
    (("drug", "synonyms", 0), "drug.synonyms[0]"),
    (("predicted_indications", 0, "trials", 0, "title"), f"{PI0}.trials[0].title"),
    (("predicted_indications", 0, "articles", 0, "journal"), f"{PI0}.articles[0].journal"),
    (("jurisdiction", "licences", 0, "holder"), "jurisdiction.licences[0].holder"),
    (("safety", "interactions", 0, "interacting"), "safety.interactions[0].interacting"),
])
def test_line_breaks_in_single_line_fields_are_folded_with_a_warning(pointer: tuple[Any, ...], path: str) -> None:
    obj = base()
    parent = obj
    for key in pointer[:-1]:
        parent = parent[key]
    parent[pointer[-1]] = parent[pointer[-1]][:3] + "\r\n# Forged heading\x0b\u2029" + parent[pointer[-1]][3:]
    loaded = read_pack(obj)
    assert [(w.path, w.severity) for w in loaded.warnings] == [(path, "warning")]
    value: Any = loaded.pack.model_dump()
    for key in pointer:
        value = value[key]
    assert "\n" not in value and "\r" not in value and "\u2029" not in value and "# Forged heading" in value
    assert parent[pointer[-1]].count("\n") == 1  # the caller's object is not modified


def test_models_refuse_a_newline_in_a_name_without_the_loader() -> None:
    obj = base()
    obj["predicted_indications"][0]["disease_name"] = "alcohol\nuse disorder"
    with pytest.raises(ValidationError, match="one line of text"):
        EvidencePack.model_validate(obj)


def test_txgnn_newline_in_disease_name_is_folded_at_the_txgnn_path() -> None:
    obj = txgnn()
    obj["predicted_indications"][0]["disease_name"] = "attention deficit\nhyperactivity disorder"
    pack, warnings = import_txgnn(obj)
    assert pack.predicted_indications[0].disease_name == "attention deficit hyperactivity disorder"
    assert f"{PI0}.disease_name" in [w.path for w in warnings if "folded" in w.expected]


# --- numbers, dates, ids in TxGNN packs ---------------------------------------------------------------


@pytest.mark.parametrize(("edit", "path", "fragment"), [
    (lambda o: o["predicted_indications"][0].update(rank="\u00b2"), f"{PI0}.rank", "written with the digits 0-9"),
    (lambda o: o["predicted_indications"][0].update(rank="1" * 5000), f"{PI0}.rank", "a rank"),
    (lambda o: o["predicted_indications"][0].update(rank=10 ** 4000), f"{PI0}.rank", "<= 1000000"),
    (lambda o: o["predicted_indications"][1]["evidence"]["clinical_trials"][0].update(enrollment="\u00b2"),
     f"{PI1}.evidence.clinical_trials[0].enrollment", "written with the digits 0-9"),
    (lambda o: o["predicted_indications"][1]["evidence"]["clinical_trials"][0].update(enrollment="\u0664\u0664"),
     f"{PI1}.evidence.clinical_trials[0].enrollment", "written with the digits 0-9"),
    (lambda o: o["predicted_indications"][1]["evidence"]["clinical_trials"][0].update(enrollment="9" * 6000),
     f"{PI1}.evidence.clinical_trials[0].enrollment", "a whole number"),
    (lambda o: o["predicted_indications"][0]["txgnn"].update(score=1.7), f"{PI0}.txgnn.score", "between 0 and 1"),
])
def test_txgnn_bad_numbers_are_one_line_errors(edit: Any, path: str, fragment: str) -> None:
    obj = txgnn()
    edit(obj)
    problem = one_error(obj)
    assert (problem.path, problem.severity) == (path, "error")
    assert fragment in str(problem) and "\n" not in str(problem) and len(str(problem)) < 400


@pytest.mark.parametrize(("score", "expected"), [("0.5%", 0.005), ("1%", 0.01), ("99.32%", 0.9932)])
def test_txgnn_percentages_are_percentages(score: str, expected: float) -> None:
    obj = txgnn()
    obj["predicted_indications"][1]["txgnn"]["score"] = score
    obj["predicted_indications"][0]["txgnn"]["score"] = 1.0
    pack, _ = import_txgnn(obj)
    assert pack.predicted_indications[1].score == expected


def test_txgnn_impossible_dates_are_not_kept() -> None:
    obj = txgnn()
    trial = obj["predicted_indications"][1]["evidence"]["clinical_trials"][0]
    trial.update(start_date="2023-02-29", completion_date="2026-02-30")
    pack, warnings = import_txgnn(obj)
    kept = pack.predicted_indications[1].trials[0]
    assert (kept.start_date, kept.completion_date) == (None, None)
    src = f"{PI1}.evidence.clinical_trials[0]"
    assert {f"{src}.start_date", f"{src}.completion_date"} <= {w.path for w in warnings}


@pytest.mark.parametrize(("trial_id", "canonical"), [
    ("jRCTs031180001", "jRCTs031180001"), ("JPRN-jRCTb030190001", "jRCTb030190001"), ("NL7517", "NL7517"),
    ("NL-OMON50123", "NL-OMON50123"), ("2011-004300-38", "EUCTR2011-004300-38"),
])
def test_txgnn_real_registry_ids_are_imported(trial_id: str, canonical: str) -> None:
    obj = txgnn()
    evidence = obj["predicted_indications"][1]["evidence"]
    evidence.setdefault("ictrp_trials", []).append({"trial_id": trial_id, "title": "A registry record",
                                                    "status": "Recruiting"})
    pack, _ = import_txgnn(obj)
    assert canonical in {t.registry_id for t in pack.predicted_indications[1].trials}


def test_txgnn_unrecognised_registry_id_drops_only_that_record() -> None:
    obj = txgnn()
    evidence = obj["predicted_indications"][1]["evidence"]
    evidence.setdefault("ictrp_trials", []).extend([{"trial_id": "XYZ-2020-77", "title": "Unknown registry"},
                                                    {"trial_id": "NL7517", "title": "Known registry"}])
    j = len(evidence["ictrp_trials"]) - 2
    pack, warnings = import_txgnn(obj)
    ids = {t.registry_id for t in pack.predicted_indications[1].trials}
    assert "NL7517" in ids and not any("XYZ" in i for i in ids)
    dropped = [w for w in warnings if w.path == f"{PI1}.evidence.ictrp_trials[{j}].trial_id"]
    assert len(dropped) == 1 and "this record dropped" in dropped[0].expected


# --- input files: kinds, sizes, encodings ---------------------------------------------------------------


def _in_thread(func: Any, timeout: float = 10) -> Any:
    """Run ``func`` in a thread and fail (instead of hanging the suite) if it does not return in time."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the reader did not return: it is reading forever"
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pack.json"
    os.mkfifo(fifo)
    with pytest.raises(PackError) as info:
        _in_thread(lambda: load_pack(fifo))
    assert str(info.value) == f"{fifo}: found a named pipe (FIFO), which could be read forever; expected a pack file"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_not_read_forever() -> None:
    with pytest.raises(PackError, match="character device") as info:
        _in_thread(lambda: read_input_text("/dev/zero", limit_bytes=DEFAULT_MAX_BYTES, what="a report file"))
    assert str(info.value).startswith("/dev/zero: found a character device")
    assert str(info.value).endswith("expected a report file")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_proc_file_is_named_as_a_kernel_pseudo_file() -> None:
    with pytest.raises(PackError) as info:
        _in_thread(lambda: load_pack("/proc/self/status"))
    assert "kernel pseudo-file under /proc" in str(info.value)
    assert "empty file" not in str(info.value)


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="found a directory; expected a report file"):
        read_input_text(tmp_path, limit_bytes=100, what="a report file")
    with pytest.raises(PackError, match="the file does not exist"):
        read_input_text(tmp_path / "nope.md", limit_bytes=100, what="a report file")


def test_size_limit_is_enforced_and_names_the_kind_of_file(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text("x" * 3000, encoding="utf-8")
    with pytest.raises(PackError) as info:
        read_input_text(path, limit_bytes=2048, what="a report file")
    assert str(info.value) == (f"{path}: found 0.0 MiB; expected at most 0.002 MiB per report (raise max_bytes if "
                               "this is intended)")
    assert read_input_text(path, limit_bytes=3000, what="a report file") == "x" * 3000


def test_random_device_is_refused_before_a_byte_is_read() -> None:
    """/dev/urandom claims size 0; refused as a device before a single byte is read."""
    with pytest.raises(PackError, match="character device"):
        _in_thread(lambda: read_input_text("/dev/urandom", limit_bytes=10, what="a pack file"))


@pytest.mark.parametrize(("encoding", "found"), [
    ("utf-16", "a UTF-16 file (byte-order mark ff fe)"),
    ("utf-32", "a UTF-32 file (byte-order mark ff fe 00 00)"),
    ("utf-16-le", "UTF-16 or UTF-32 text without a byte-order mark (NUL bytes between characters)"),
])
def test_utf16_and_utf32_files_say_what_they_are(tmp_path: Path, encoding: str, found: str) -> None:
    path = tmp_path / "report.md"
    path.write_bytes("# Baclofen report\n\nNCT01821560 was a phase 2 trial.\n".encode(encoding))
    with pytest.raises(PackError) as info:
        read_input_text(path, limit_bytes=DEFAULT_MAX_BYTES, what="a report file")
    assert str(info.value) == f"{path}: found {found}; expected UTF-8 text (save the file as UTF-8)"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_bytes(b"\xef\xbb\xbf# Report\n")
    assert read_input_text(path, limit_bytes=100, what="a report file") == "# Report\n"


def test_cli_validate_on_a_fifo_returns_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pack.json"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "drafter", "validate", str(fifo)], capture_output=True,
                            text=True, timeout=60, env=_ENV)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{fifo}: found a named pipe (FIFO), which could be read forever; expected a pack file"


# --- lengths ------------------------------------------------------------------------------------------


def test_pack_id_of_exactly_100_characters_loads_and_101_is_refused() -> None:
    obj = base()
    obj["meta"]["pack_id"] = "p" * 100
    assert load_pack(obj).meta.pack_id == "p" * 100
    obj["meta"]["pack_id"] = "p" * 101
    problem = one_error(obj)
    assert problem.path == "meta.pack_id" and "at most 100 characters" in problem.expected


def test_txgnn_megabyte_disease_name_is_a_short_error() -> None:
    obj = txgnn()
    obj["predicted_indications"][0]["disease_name"] = "x" * 1_000_000
    problem = one_error(obj)
    assert problem.path == f"{PI0}.disease_name"
    assert str(problem).endswith("found 1,000,000 characters; expected at most 1000 characters")


# --- a prediction without a score (issue 9, item 6) ---------------------------------------------------


def _scoreless() -> dict[str, Any]:
    obj = base()
    del obj["predicted_indications"][0]["score"]
    return obj


def test_scoreless_indication_loads_with_a_warning() -> None:
    loaded = read_pack(_scoreless())
    assert loaded.pack.predicted_indications[0].score is None
    assert [(w.path, w.severity) for w in loaded.warnings] == [(f"{PI0}.score", "warning")]


def test_txgnn_scoreless_indication_loads_with_a_warning() -> None:
    obj = txgnn()
    obj["predicted_indications"][0]["txgnn"]["score"] = "[Data Gap]"
    pack, warnings = import_txgnn(obj)
    assert pack.predicted_indications[0].score is None
    assert any(w.path == f"{PI0}.txgnn.score" and w.severity == "warning" for w in warnings)


def test_scoreless_pack_assesses_drafts_and_renders_that_the_score_is_not_in_the_pack(tmp_path: Path) -> None:
    """Drafted for real against the scripted OpenAI-compatible server on 127.0.0.1, then assembled."""
    pack = load_pack(_scoreless())
    assert assess_pack(pack).for_rank(1).score is None
    path = write(tmp_path, _scoreless())
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=40) as server:
        client = openai.OpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)
        report = draft_report(path, client=client, model="gpt-4.1-mini", report_date=dt.date(2026, 1, 1))
    assert "| TxGNN prediction score | not in the pack |" in report.markdown
    assert "<td>not in the pack</td>" in report.html
    assert "71.00%" in report.markdown  # the other indication keeps its score


def test_stated_score_for_a_scoreless_indication_is_not_in_the_pack() -> None:
    pack = load_pack(_scoreless())
    text = "## Alcohol use disorder\n\nBaclofen has a TxGNN score of 93% for alcohol use disorder.\n"
    findings = [f for f in verify_markdown(pack, text).findings if f.code == "SCORE_MISMATCH"]
    assert len(findings) == 1 and "no model score" in findings[0].message


def test_cli_assess_prints_a_scoreless_indication(tmp_path: Path) -> None:
    path = write(tmp_path, _scoreless())
    result = subprocess.run([sys.executable, "-m", "drafter", "rules", str(path)], capture_output=True, text=True,
                            timeout=60, env=_ENV)
    assert result.returncode == 0, result.stderr
    assert "not in pack" in result.stdout


def test_regular_file_in_dev_shm_is_read(tmp_path: Path) -> None:
    """Only kernel pseudo-file systems are refused by location; a tmpfs file under /dev/shm is a file."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("needs a writable /dev/shm")
    path = shm / f"drafter-test-{os.getpid()}.md"
    try:
        path.write_text("# Report\n", encoding="utf-8")
        assert read_input_text(path, limit_bytes=100, what="a report file") == "# Report\n"
    finally:
        path.unlink(missing_ok=True)


# --- integers too long for int() or str(), from memory (a file's are caught by the parser) ------------

_HUGE = 10 ** 5000


@pytest.mark.parametrize(("edit", "path"), [
    (lambda o: o["predicted_indications"][0].update(rank=_HUGE), f"{PI0}.rank"),
    (lambda o: o["predicted_indications"][0].update(score=_HUGE), f"{PI0}.score"),
    (lambda o: o["predicted_indications"][0]["trials"][0].update(enrollment=_HUGE), f"{PI0}.trials[0].enrollment"),
    (lambda o: o["predicted_indications"][0]["articles"][0].update(pmid=_HUGE), f"{PI0}.articles[0].pmid"),
    (lambda o: o["jurisdiction"].update(total_licences=_HUGE), "jurisdiction.total_licences"),
])
def test_huge_integers_in_memory_are_one_line_errors(edit: Any, path: str) -> None:
    obj = base()
    edit(obj)
    problem = one_error(obj)
    assert problem.path == path and "an integer of more than 4,000 digits" in str(problem)


@pytest.mark.parametrize(("edit", "path"), [
    (lambda o: o["predicted_indications"][0]["txgnn"].update(score=_HUGE), f"{PI0}.txgnn.score"),
    (lambda o: o["predicted_indications"][0]["evidence"]["literature"][0].update(pmid=_HUGE),
     f"{PI0}.evidence.literature[0].pmid"),
    (lambda o: o["taiwan_regulatory"].update(total_licenses=_HUGE), "taiwan_regulatory.total_licenses"),
])
def test_txgnn_huge_integers_in_memory_are_one_line_errors(edit: Any, path: str) -> None:
    obj = txgnn()
    edit(obj)
    problem = one_error(obj)
    assert problem.path == path and "an integer of more than 4,000 digits" in str(problem)


def test_txgnn_file_with_a_huge_integer_is_located_by_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    text = json.dumps(TXGNN, ensure_ascii=False).replace('"rank": 2', '"rank": 2' + "0" * 4400, 1)
    path.write_text(text, encoding="utf-8")
    problem = one_error(path)
    assert "an integer of 4,401 digits" in str(problem) and problem.path.startswith(PI1)


def test_drugbank_id_in_other_digits_is_stored_in_ascii() -> None:
    obj = base()
    obj["drug"]["drugbank_id"] = "DB\u0660\u0660\u0661\u0668\u0661"
    assert load_pack(obj).drug.drugbank_id == "DB00181"
    obj["drug"]["drugbank_id"] = "DB0018\u4e00"
    assert one_error(obj).path == "drug.drugbank_id"
