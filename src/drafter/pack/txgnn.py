"""Import of the TxGNN pipelines' "v4" evidence packs (placeholder until the importer lands)."""

from __future__ import annotations

from typing import Any

from drafter.errors import PackError, PackProblem
from drafter.pack.models import EvidencePack


def import_txgnn(obj: dict[str, Any], *, file: str | None = None) -> tuple[EvidencePack, list[PackProblem]]:
    raise PackError([PackProblem("", "a drafter-format pack (TxGNN import is not implemented yet)")], file=file)


def from_txgnn(obj: dict[str, Any]) -> EvidencePack:
    return import_txgnn(obj)[0]
