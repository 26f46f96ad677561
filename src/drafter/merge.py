"""Merging the summaries of sharded batch runs: one account of a corpus drafted on many machines.

`drafter batch --shard I/N` lets N machines (a Kubernetes indexed Job, a CI matrix) each draft a
deterministic slice of a corpus into its own output folder. What they leave is N `summary.jsonl`
files; this module reads them as hostile input (a shard may have died, been edited, or been run
twice), refuses what cannot be one honest account, and writes one summary whose lines still point at
the reports in their shard folders.

Refused, as a one-line error naming the file and line: a folder without a summary (the shard never
ran or never finished writing it), a folder whose run still holds its lock, a line that is not a
summary record, and a pack or pack id that two shards both drafted (the shards were not run with the
same inputs and shard count, so the merged counts would be wrong).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drafter.batch import OUTCOMES, SUMMARY_FILE
from drafter.errors import UserError
from drafter.fsio import FolderLock, write_text_atomic

_BAD = frozenset({"withheld", "failed", "bad_input"})
Count = Annotated[int, Field(ge=0, strict=True)]


class SummaryRecord(BaseModel):
    """One line of a shard's summary.jsonl, read as hostile input.

    The same fields as :class:`drafter.batch.PackOutcome` (a test keeps them equal), with the bounds
    a written line must meet; a field a later drafter adds is kept as is.
    """

    model_config = ConfigDict(extra="allow")

    pack: str = Field(min_length=1)
    status: str
    pack_id: str | None = None
    errors: Count = 0
    warnings: Count = 0
    calls: Count = 0
    cached_calls: Count = 0
    failed_calls: Count = 0
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    seconds: Annotated[float, Field(ge=0)] = 0.0
    outputs: list[str] = Field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class MergedSummary:
    """Every shard's records, each with the folder its outputs are in."""

    records: tuple[tuple[Path, SummaryRecord], ...]
    shards: tuple[Path, ...]

    def counts(self) -> Counter[str]:
        return Counter(record.status for _, record in self.records)

    @property
    def exit_code(self) -> int:
        """The batch command's rule: 1 when any pack was withheld, failed or bad, else 0."""
        return 1 if any(record.status in _BAD for _, record in self.records) else 0

    def total(self, field: str) -> int:
        return sum(int(getattr(record, field)) for _, record in self.records)


def read_shard(folder: Path) -> list[SummaryRecord]:
    """The records of one shard folder; a UserError naming the file and line for anything else."""
    if not folder.is_dir():
        raise UserError(f"{folder}: expected a shard's output folder (drafter batch --out), found no folder")
    if _still_running(folder):  # its summary is not final yet
        raise UserError(f"{folder}: a drafter run is still writing to this folder (it holds "
                        f"{folder / FolderLock.NAME}); merge when it has finished")
    summary = folder / SUMMARY_FILE
    try:
        text = summary.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{summary}: no summary; the shard's batch did not run to its end in this folder "
                        "(run it, or rerun it: finished packs are skipped)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{summary}: cannot read the summary ({exc})") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        records.append(_record(summary, number, line))
    return records


def _still_running(folder: Path) -> bool:
    """Whether a batch holds the folder's lock; read-only, so merging downloaded artifacts works too."""
    import errno
    import fcntl

    try:
        fd = os.open(folder / FolderLock.NAME, os.O_RDONLY)
    except OSError:
        return False  # no lock file: no run has held this folder on this machine
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)
    finally:
        os.close(fd)
    return False


def _record(summary: Path, number: int, line: str) -> SummaryRecord:
    where = f"{summary}:{number}"
    try:
        data: Any = json.loads(line)
    except ValueError as exc:
        raise UserError(f"{where}: expected one JSON object per line ({exc.args[0]})") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a JSON object, found {type(data).__name__}")
    try:
        record = SummaryRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "(line)"
        raise UserError(f"{where}: {field}: {first['msg']}") from None
    if record.status not in OUTCOMES:
        raise UserError(f"{where}: status: expected one of {', '.join(OUTCOMES)}, found {record.status!r}")
    for output in record.outputs:
        if os.path.isabs(output) or ".." in Path(output).parts:
            raise UserError(f"{where}: outputs: expected a file name inside the shard folder, found {output!r}")
    return record


def merge_shards(folders: Sequence[str | os.PathLike[str]]) -> MergedSummary:
    """Read every shard and check that together they are one run: no pack and no pack id twice."""
    if not folders:
        raise UserError("merge: expected at least one shard folder")
    shards = tuple(Path(f) for f in folders)
    resolved = [os.path.realpath(s) for s in shards]
    if len(set(resolved)) != len(resolved):
        raise UserError("merge: the same shard folder is named twice")
    seen_pack: dict[str, Path] = {}
    seen_id: dict[str, Path] = {}
    merged: list[tuple[Path, SummaryRecord]] = []
    for folder in shards:
        for record in read_shard(folder):
            pack = os.path.normpath(record.pack)
            if pack in seen_pack:
                raise UserError(f"{folder / SUMMARY_FILE}: pack {record.pack!r} is also in "
                                f"{seen_pack[pack] / SUMMARY_FILE}; were the shards run with the same inputs "
                                "and the same --shard count?")
            seen_pack[pack] = folder
            if record.pack_id is not None:
                if record.pack_id in seen_id:
                    raise UserError(f"{folder / SUMMARY_FILE}: pack id {record.pack_id!r} is also in "
                                    f"{seen_id[record.pack_id] / SUMMARY_FILE}; two packs with one id cannot "
                                    "be one corpus's reports")
                seen_id[record.pack_id] = folder
            merged.append((folder, record))
    merged.sort(key=lambda item: os.path.normpath(item[1].pack))
    return MergedSummary(tuple(merged), shards)


def merged_lines(merged: MergedSummary, out_dir: Path) -> str:
    """The merged summary.jsonl: each shard line, plus `folder`, the shard folder relative to out_dir."""
    lines = []
    for folder, record in merged.records:
        data = record.model_dump()
        data["folder"] = os.path.relpath(folder, out_dir)
        lines.append(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
    return "".join(lines)


def write_merged(merged: MergedSummary, out_dir: str | os.PathLike[str]) -> Path:
    """OUT/summary.jsonl, written atomically; refused when OUT is one of the shards (it would replace one)."""
    directory = Path(out_dir)
    if any(os.path.realpath(directory) == os.path.realpath(s) for s in merged.shards):
        raise UserError(f"{directory}: is one of the shard folders; its summary would be replaced: "
                        "choose another --out")
    directory.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(directory / SUMMARY_FILE, merged_lines(merged, directory))


def describe(merged: MergedSummary) -> list[str]:
    """The lines `drafter merge` prints: counts by status, then calls and tokens."""
    counts = merged.counts()
    statuses = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in OUTCOMES if counts[s])
    packs = len(merged.records)
    return [
        f"{packs} pack{'s' if packs != 1 else ''} from {len(merged.shards)} shard"
        f"{'s' if len(merged.shards) != 1 else ''}: {statuses or 'none'}",
        f"calls: {merged.total('calls')} made, {merged.total('cached_calls')} from cache, "
        f"{merged.total('failed_calls')} failed and retried; tokens: {merged.total('prompt_tokens'):,} prompt + "
        f"{merged.total('completion_tokens'):,} completion",
    ]


__all__ = ["MergedSummary", "SummaryRecord", "describe", "merge_shards", "merged_lines", "read_shard", "write_merged"]
