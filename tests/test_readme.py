"""Every ```python block of README.md runs as written (issue 10: "every README snippet must run").

The blocks run in order, in one namespace (a later block may use what an earlier one defined, as a
reader following the README would), in a scratch folder that has the repository's ``examples`` and
``cassettes`` and the two files the README names as the reader's own (``report.md``, a report to lint,
and ``draft.json``, drafted sections). A block that drafts without a client reaches a model through
OPENAI_BASE_URL, as the README says: here the scripted server on 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.llm_server import ScriptedOpenAIServer, auto_draft_step

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_readme_has_python_blocks_and_the_extractor_finds_them() -> None:
    sample = "intro\n```python\nx = 1\n```\ntext\n```bash\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(sample) == [(3, "x = 1\n"), (10, "y = x + 1\n")]
    assert len(python_blocks(README.read_text(encoding="utf-8"))) >= 3


def test_every_python_block_of_the_readme_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("examples", "cassettes", "prompts"):
        (tmp_path / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "tests" / "golden" / "baclofen-uk.md", tmp_path / "report.md")
    shutil.copy(ROOT / "tests" / "llm_server" / "drafts" / "baclofen-uk.json", tmp_path / "draft.json")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    with ScriptedOpenAIServer(default=auto_draft_step(), lifetime=60) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.delenv("DRAFTER_MODEL", raising=False)
        for line, code in python_blocks(README.read_text(encoding="utf-8")):
            try:
                exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102 - the README's own code
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"README.md, the python block at line {line}: {type(exc).__name__}: {exc}")
    assert "verified" in capsys.readouterr().out  # the replay block printed its report's status
