"""Where the shipped prompts and schemas live, installed or not.

``prompts/`` and ``schemas/`` sit at the top of the repository so that they are reviewed like code,
and a wheel carries copies inside the package (see ``force-include`` in pyproject.toml). An editable
install has no copies, so the repository's folders are the fallback.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

_REPO_ROOT = Path(__file__).resolve().parents[2]


def shipped_dir(name: Literal["prompts", "schemas"]) -> Path:
    packaged = Path(str(resources.files("drafter").joinpath(name)))
    if packaged.is_dir():
        return packaged
    return _REPO_ROOT / name
