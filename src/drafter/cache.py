"""A response cache keyed by the full request, on disk, safe for concurrent writers.

A batch of thousands of packs is interrupted and restarted; a second run over unchanged packs must
make zero API calls, and a run killed half-way must not pay again for the calls it completed. So
every successful chat response is stored under the sha256 of the whole request (model, messages,
response format, sampling settings, endpoint). Entries are written to a temporary file and renamed
into place: a reader never sees half an entry, and two writers of one key (two batches sharing a
cache) each leave a whole, valid entry. The cache never decides anything: the verifier still checks
whatever it returns.

The cache is an optimisation, never a reason to fail: an entry that cannot be read or is of the
wrong shape is a miss (the call is made again) with a warning, and an entry that cannot be written
(a full disk, a read-only folder) is a warning, while the answer, already paid for, is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from drafter.fsio import write_text_atomic

CACHE_FORMAT = "drafter.response-cache/1"
log = logging.getLogger(__name__)


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
        self.write_failures = 0
        self.distrusted = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, request: dict[str, Any], *, key: str | None = None) -> dict[str, Any] | None:
        """The stored answer to ``request``, or None. ``key`` is ``request_key(request)`` if the caller
        already has it: hashing a request (its prompt and schema, tens of kB) once per call is enough."""
        key = key or request_key(request)
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError) as exc:
            return self._distrust(path, f"unreadable ({type(exc).__name__})")
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
            return self._distrust(path, f"not a {CACHE_FORMAT} entry for this key")
        if not isinstance(entry.get("response"), dict):
            return self._distrust(path, "response: missing or not an object")
        self.hits += 1
        return entry["response"]  # type: ignore[no-any-return]

    def _distrust(self, path: Path, why: str) -> None:
        self.misses += 1
        self.distrusted += 1
        log.warning("%s: cache entry ignored, the call is made again: %s", path, why)
        return None

    def distrust(self, request: dict[str, Any], why: str, *, key: str | None = None) -> None:
        """An entry that read as JSON but is no usable answer (the caller checked): count it as a miss."""
        self.hits -= 1
        self._distrust(self._path(key or request_key(request)), why)

    def put(self, request: dict[str, Any], response: dict[str, Any], *, key: str | None = None) -> bool:
        """Store one answer; False (and a warning) if it cannot be written: the answer is used anyway.

        The entry is fsynced before it is renamed into place (:func:`~drafter.fsio.write_text_atomic`):
        it stands for a call already paid for, and nothing else can bring it back after a crash.
        """
        key = key or request_key(request)
        entry = {"format": CACHE_FORMAT, "key": key, "response": response}
        try:
            write_text_atomic(self._path(key), json.dumps(entry, ensure_ascii=False, sort_keys=True))
        except OSError as exc:
            self.write_failures += 1
            log.warning("%s: cannot write a cache entry (%s); the answer is used, but a rerun will pay for it "
                        "again", self._path(key), exc.strerror or type(exc).__name__)
            return False
        self.writes += 1
        return True
