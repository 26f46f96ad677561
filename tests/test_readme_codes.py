"""The README's table of finding codes is the verifier's: same codes, same severities."""

from __future__ import annotations

import re
from pathlib import Path

from drafter.verify import CODES

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_codes() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("### Finding codes"):]
    table = table[:table.index("\n### ", 5)]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z_]+)` \| (error|warning) \|", table, re.M)}


def test_every_code_is_in_the_readme_with_its_severity() -> None:
    documented = readme_codes()
    assert {code: severity.value for code, (severity, _) in CODES.items()} == documented
