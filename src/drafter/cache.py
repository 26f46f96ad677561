"""A response cache keyed by the full request, on disk, safe for concurrent writers.

A batch of thousands of packs is interrupted and restarted; a second run over unchanged packs must
make zero API calls, and a run killed half-way must not pay again for the calls it completed. So
every successful chat response is stored under the sha256 of the whole request (model, messages,
response format, sampling settings, endpoint). Entries are written to a temporary file and renamed
into place: a reader never sees half an entry, and two writers of one key (two batches sharing a
cache) each leave a whole, valid entry. The cache never decides anything: the verifier still checks
whatever it returns.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from drafter.fsio import write_text_atomic

CACHE_FORMAT = "drafter.response-cache/1"


def request_key(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache:
    """Chat responses by request, one JSON file per entry under ``directory/ab/abcdef....json``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, request: dict[str, Any]) -> dict[str, Any] | None:
        key = request_key(request)
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry["response"]  # type: ignore[no-any-return]

    def put(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        key = request_key(request)
        entry = {"format": CACHE_FORMAT, "key": key, "response": response}
        write_text_atomic(self._path(key), json.dumps(entry, ensure_ascii=False, sort_keys=True))
        self.writes += 1
