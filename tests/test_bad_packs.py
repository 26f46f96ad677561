"""Bad evidence packs get one clear line per problem, never a traceback.

The corpus lives in ``tests/bad_packs/``: one file per case, derived from ``_valid_base.json`` by
``tests/bad_packs/make_corpus.py``, whose ``CASES`` table also holds what the loader must say (the
JSON path and fragments of the message). Two cases are too big to commit and are generated here in
``tmp_path``: nesting 100,000 lists deep and a 50 MB pack.

Cases that load.py/models.py currently get wrong carry ``xfail`` (strict) in the table, with the
reason; they flip to XPASS, and so fail, once fixed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drafter.errors import PackError, PackProblem
from drafter.pack import load_pack, read_pack
from drafter.pack.load import DEFAULT_MAX_BYTES, MAX_DEPTH

CORPUS = Path(__file__).resolve().parent / "bad_packs"
BASE = CORPUS / "_valid_base.json"


def _import_corpus():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bad_packs_make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building the classes
    spec.loader.exec_module(module)
    return module


corpus = _import_corpus()
CASES = corpus.CASES
ERROR_CASES = [c for c in CASES if c.severity == "error"]
WARNING_CASES = [c for c in CASES if c.severity == "warning"]

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"|\w+Error:|\w+Exception:", re.MULTILINE)


def _param(case):  # type: ignore[no-untyped-def]
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


def _by_name(name: str):  # type: ignore[no-untyped-def]
    return next(c for c in CASES if c.name == name)


# --- helpers ----------------------------------------------------------------------------------------


def assert_no_traceback(text: str) -> None:
    assert not _TRACEBACK.search(text), f"traceback-like text in:\n{text}"


def assert_clean_exception(err: PackError) -> None:
    """Nothing chained that a traceback printer would show under the message."""
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


def assert_line(line: str, file: str, where: str | None, fragments: tuple[str, ...], absent: tuple[str, ...]) -> None:
    assert "\n" not in line and "\r" not in line, f"problem spans several lines: {line!r}"
    prefix = f"{file}: " if where is None else f"{file}: {where}: "
    assert line.startswith(prefix), f"expected the line to start with {prefix!r}, got {line!r}"
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    for text in absent:
        assert text not in line, f"{text!r} in {line!r}"
    assert_no_traceback(line)


def match_problems(problems: list[PackProblem], file: str, case) -> None:  # type: ignore[no-untyped-def]
    """Each expected problem matches exactly one reported problem; nothing else is reported."""
    lines = [str(p) for p in problems]
    assert len(lines) == len(case.expect), f"expected {len(case.expect)} problem(s), got:\n" + "\n".join(lines)
    for expect in case.expect:
        if expect.where is not None:
            candidates = [p for p in problems if p.path == expect.where]
            assert candidates, f"no problem at {expect.where!r} in:\n" + "\n".join(lines)
        else:
            candidates = problems
        assert len(candidates) == 1, "ambiguous expectation"
        assert_line(str(candidates[0]), file, expect.where, expect.fragments, case.absent)


# --- the committed corpus ---------------------------------------------------------------------------


def test_base_pack_is_valid_and_clean() -> None:
    loaded = read_pack(BASE)
    assert loaded.source_format == "drafter"
    assert loaded.warnings == []
    pack = loaded.pack
    assert pack.drug.inn == "baclofen" and pack.jurisdiction.country == "GB"
    assert len(pack.predicted_indications) == 2
    keys = pack.citable_keys()
    assert {"NCT01821560", "NCT00257894", "PMID:21300040", "SAFETY:W1", "MOA"} <= keys


def test_corpus_files_match_make_corpus() -> None:
    """The committed files are exactly what make_corpus.py writes, and nothing else is in the folder."""
    expected = corpus.expected_files()
    on_disk = {p.name for p in CORPUS.glob("*.json")} - {BASE.name}
    assert on_disk == set(expected), "run: python tests/bad_packs/make_corpus.py"
    stale = [name for name, data in expected.items() if (CORPUS / name).read_bytes() != data]
    assert not stale, f"stale corpus files {stale}; run: python tests/bad_packs/make_corpus.py"


def test_corpus_is_big_enough() -> None:
    assert len(ERROR_CASES) >= 25
    assert WARNING_CASES


@pytest.mark.parametrize("case", [_param(c) for c in ERROR_CASES])
def test_bad_pack_is_refused_with_located_lines(case) -> None:  # type: ignore[no-untyped-def]
    file = str(CORPUS / case.filename)
    with pytest.raises(PackError) as info:
        load_pack(file)
    err = info.value
    assert_clean_exception(err)
    assert err.file == file
    assert err.errors, "a refused pack names at least one error"
    # str(PackError) is the error lines, one per problem, and what the CLI prints
    assert str(err).split("\n") == [str(p) for p in err.errors]
    match_problems(err.errors, file, case)
    assert err.warnings == []


@pytest.mark.parametrize("case", [_param(c) for c in WARNING_CASES])
def test_warning_case_loads_and_names_the_path(case) -> None:  # type: ignore[no-untyped-def]
    file = str(CORPUS / case.filename)
    loaded = read_pack(file)  # no PackError: warnings never refuse a pack
    assert loaded.pack.drug.inn == "baclofen"
    assert all(w.severity == "warning" and w.file == file for w in loaded.warnings)
    match_problems(loaded.warnings, file, case)


def _outcome(source) -> list[tuple[str, str, str | None, str]]:  # type: ignore[no-untyped-def]
    try:
        loaded = read_pack(source)
    except PackError as exc:
        assert all(p.file == exc.file for p in exc.problems)
        return [(p.path, p.expected, p.found, p.severity) for p in exc.problems]
    return [(p.path, p.expected, p.found, "loaded " + p.severity) for p in loaded.warnings]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if c.raw is None])
def test_same_problems_from_memory(case) -> None:  # type: ignore[no-untyped-def]
    """Loading the parsed object gives the same problems as loading the file (only the file name differs)."""
    obj = json.loads((CORPUS / case.filename).read_text(encoding="utf-8"))
    assert _outcome(obj) == _outcome(CORPUS / case.filename)


# --- located problems the parser itself reports -----------------------------------------------------------


def test_duplicate_key_names_its_json_path() -> None:
    file = str(CORPUS / "syntax_duplicate_key.json")
    err = pytest.raises(PackError, load_pack, file).value
    assert str(err).startswith(f"{file}: predicted_indications[0].trials[0]")


def test_nan_names_its_json_path() -> None:
    file = str(CORPUS / "syntax_nan_score.json")
    err = pytest.raises(PackError, load_pack, file).value
    line = str(err)
    assert line.startswith(f"{file}: predicted_indications[0].score: ") or re.match(
        rf"{re.escape(file)}: line \d+ column \d+: ", line)


# --- generated at test time: too big to commit -----------------------------------------------------


def _refused(file: Path, **kwargs) -> PackError:  # type: ignore[no-untyped-def]
    with pytest.raises(PackError) as info:
        load_pack(file, **kwargs)
    err = info.value
    assert_clean_exception(err)
    assert len(err.errors) == 1
    line = str(err)
    assert "\n" not in line and line.startswith(f"{file}: ")
    assert_no_traceback(line)
    return err


@pytest.fixture
def deep_lists(tmp_path: Path) -> Path:
    path = tmp_path / "deep_lists.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    return path


@pytest.fixture
def big_pack(tmp_path: Path) -> Path:
    """A pack that is valid apart from its size: 50 MB, mostly one abstract."""
    text = BASE.read_text(encoding="utf-8")
    anchor = '"year": 2011,'
    assert text.count(anchor) == 1
    filler = "x" * (50 * 1024 * 1024 - len(text))
    path = tmp_path / "big_pack.json"
    path.write_text(text.replace(anchor, f'{anchor}\n          "abstract": "{filler}",'), encoding="utf-8")
    assert path.stat().st_size > 50 * 1024 * 1024
    return path


def test_deeply_nested_lists(deep_lists: Path) -> None:
    err = _refused(deep_lists)
    assert f"expected nesting of at most {MAX_DEPTH} levels" in str(err)


def test_deep_but_parseable_nesting_names_the_path(tmp_path: Path) -> None:
    """Deeper than MAX_DEPTH but shallow enough for the JSON parser: the path of the deep value."""
    obj = json.loads(BASE.read_text(encoding="utf-8"))
    nested: object = "x"
    for _ in range(MAX_DEPTH + 10):
        nested = [nested]
    obj["predicted_indications"][0]["disease_ids"] = {"junk": nested}
    path = tmp_path / "deep_junk.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    err = _refused(path)
    assert str(err).startswith(f"{path}: predicted_indications[0].disease_ids.junk[0][0]")
    assert f"found deeper nesting; expected nesting of at most {MAX_DEPTH} levels" in str(err)


def test_deep_junk_object_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep_objects.json"
    path.write_bytes(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    err = _refused(path)
    assert f"nesting of at most {MAX_DEPTH} levels" in str(err)


def test_fifty_megabyte_pack_is_refused_before_parsing(big_pack: Path) -> None:
    assert big_pack.stat().st_size > DEFAULT_MAX_BYTES
    err = _refused(big_pack)
    line = str(err)
    assert "found 50.0 MiB" in line
    assert f"expected at most {DEFAULT_MAX_BYTES // 1048576} MiB per pack" in line
    assert "max_bytes" in line  # says how to lift the limit


def test_fifty_megabyte_pack_loads_when_the_limit_is_raised(big_pack: Path) -> None:
    """The size is the only thing wrong with it, so the limit really is what refused it."""
    pack = load_pack(big_pack, max_bytes=64 * 1024 * 1024)
    assert len(pack.predicted_indications[0].articles[0].abstract or "") > 49 * 1024 * 1024


def test_missing_file_and_directory(tmp_path: Path) -> None:
    err = _refused(tmp_path / "nope.json")
    assert "the file does not exist" in str(err)
    err = _refused(tmp_path)
    assert "found a directory; expected a pack file" in str(err)


# --- the command line -------------------------------------------------------------------------------

_CLI = [sys.executable, "-c", "import sys; from drafter.cli import main; sys.exit(main(sys.argv[1:]))"]


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_CLI, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


_CLI_CASES = [
    "syntax_not_json",
    "syntax_invalid_utf8",
    "syntax_duplicate_key",
    "type_score_string",
    "missing_meta",
    "id_nct_too_short",
    "dup_trial_id",
    "range_enrollment_zero_completed",
    "multiple_problems",
]


@pytest.mark.parametrize("name", _CLI_CASES)
def test_cli_validate_bad_pack(name: str) -> None:
    file = str(CORPUS / f"{name}.json")
    expected_lines = [str(p) for p in pytest.raises(PackError, load_pack, file).value.problems]
    result = run_cli("validate", file)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected_lines
    assert "Traceback" not in result.stderr
    assert_no_traceback(result.stderr)


@pytest.mark.parametrize("name", ["warn_unknown_field_in_trial", "warn_unknown_field_top_level"])
def test_cli_validate_warning_pack(name: str) -> None:
    file = str(CORPUS / f"{name}.json")
    case = _by_name(name)
    result = run_cli("validate", file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith(f"{file}: ok")
    assert result.stderr.splitlines() == [f"{file}: {case.expect[0].where}: warning: unknown field, ignored"]


def test_cli_validate_deep_nesting(deep_lists: Path) -> None:
    result = run_cli("validate", deep_lists)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{deep_lists}: found nesting too deep to read; expected nesting of at most {MAX_DEPTH} levels"]
    assert_no_traceback(result.stderr)


def test_cli_validate_batch_goes_on_after_a_bad_pack(tmp_path: Path) -> None:
    good, good2 = tmp_path / "good.json", tmp_path / "good2.json"
    shutil.copy(BASE, good)
    shutil.copy(BASE, good2)
    bad = tmp_path / "bad.json"
    shutil.copy(CORPUS / "id_nct_too_short.json", bad)
    result = run_cli("validate", good, bad, good2)
    assert result.returncode == 2
    out = result.stdout.splitlines()
    assert len(out) == 2
    assert out[0].startswith(f"{good}: ok") and out[1].startswith(f"{good2}: ok")
    assert result.stderr.splitlines() == [
        f"{bad}: predicted_indications[0].trials[0].registry_id: found 'NCT123'; "
        "expected NCT followed by 8 digits (e.g. NCT01821560)"]
    assert_no_traceback(result.stderr)


def test_cli_validate_whole_corpus() -> None:
    """`drafter validate tests/bad_packs/*.json`: every bad file reported, the rest ok, exit 2."""
    files = sorted(CORPUS.glob("*.json"))
    result = run_cli("validate", *files)
    assert result.returncode == 2
    assert_no_traceback(result.stderr)
    stdout, stderr = result.stdout, result.stderr
    assert f"{BASE}: ok" in stdout
    for case in CASES:
        file = str(CORPUS / case.filename)
        if case.severity == "warning":
            assert f"{file}: ok" in stdout
            assert f"{file}: {case.expect[0].where}: warning: " in stderr
        elif not case.xfail:
            assert f"{file}: ok" not in stdout
            assert sum(line.startswith(f"{file}: ") for line in stderr.splitlines()) == len(case.expect)
