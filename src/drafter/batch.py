"""Batch drafting: thousands of packs, concurrent, resumable, cached, with progress and a summary.

Users draft reports for hundreds to thousands of drugs per jurisdiction. A batch must survive being
killed and restarted, must not pay twice for a call, and must not let one bad pack stop the rest:

* packs are drafted concurrently (asyncio), with an :class:`~drafter.llm.AdaptiveLimiter` that
  bounds the calls in flight, halves itself on a 429 and grows back;
* every output is written atomically, and a pack's manifest (``.manifests/<pack_id>.json``) is written last; a pack
  whose manifest carries the same *run key* (pack content, prompts, model, settings) and whose
  outputs all exist is skipped on the next run;
* every completed model response goes to a :class:`~drafter.cache.ResponseCache` keyed by the full
  request, so a restarted run repeats no call it already paid for;
* a bad pack is one line in the summary (as ``drafter validate`` says it), and the batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import glob
import hashlib
import json
import logging
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import openai

from drafter.assemble import assemble, pack_fingerprint, report_outputs
from drafter.site_formats import output_name
from drafter.cache import ResponseCache
from drafter.drafting import (
    DEFAULT_MAX_INDICATIONS,
    DEFAULT_TOKEN_BUDGET,
    DraftError,
    DraftStatus,
    adraft_sections,
    in_cpu_worker,
    select_indications,
)
from drafter.errors import DrafterError, PackError, UserError, redact
from drafter.fsio import AtomicTextFile, FolderLock, check_writable, write_text_atomic, write_texts_atomic
from drafter.llm import AdaptiveLimiter, RetryPolicy, Usage, resolve_model
from drafter.pack import read_pack
from drafter.prompts import IndicationEntry, PromptTemplates, load_prompts, report_messages
from drafter.rules import RuleTable, assess_pack, load_rule_table

DEFAULT_CONCURRENCY = 8
ESTIMATED_OUTPUT_TOKENS_PER_INDICATION = 400  # the example drafts average ~1,300 characters per indication
SUMMARY_FILE = "summary.jsonl"
log = logging.getLogger(__name__)
OUTCOMES = ("verified", "repaired", "withheld", "skipped", "planned", "bad_input", "failed")


# --- inputs -----------------------------------------------------------------------------------------


REPORT_RECORD_MARK = '"schema": "drafter.report/1"'


def _hidden_below(path: Path, root: Path) -> bool:
    """A file in a dot folder below ``root`` (``.cache``, ``.manifests``, ``.git``): never a pack."""
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        return False
    return any(part.startswith(".") for part in parts)


def is_drafter_output(path: Path, out_dir: Path | None) -> bool:
    """A file drafter wrote into ``out_dir`` (its cache, manifests, summary or a report record)."""
    if out_dir is None:
        return False
    try:
        relative = path.resolve().relative_to(out_dir.resolve())
    except (ValueError, OSError):
        return False
    if any(part.startswith(".") for part in relative.parts):
        return True
    if path.suffix != ".json":
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return REPORT_RECORD_MARK in handle.read(1 << 20)
    except OSError:
        return False


def expand_inputs(inputs: Iterable[str | os.PathLike[str]], *, out_dir: Path | None = None) -> list[Path]:
    """Files, directories (every ``*.json`` below them) and globs, de-duplicated, in a stable order.

    A directory's dot folders are not searched, and when a directory or glob reaches into
    ``out_dir`` drafter's own outputs there (cache, manifests, report records) are left out: a
    batch whose packs and outputs share a folder must not read its reports as packs. A file named
    explicitly is always kept (and refused later if it is an output).
    """
    found: dict[str, Path] = {}
    for raw in inputs:
        text = os.fspath(raw)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*.json") if p.is_file() and not _hidden_below(p, path))
            matches = [p for p in matches if not is_drafter_output(p, out_dir)]
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            matches = [p for p in matches if not is_drafter_output(p, out_dir)]
        else:
            matches = [path]
        for match in matches:
            found.setdefault(os.path.normpath(str(match)), match)
    return [found[k] for k in sorted(found)]


def parse_shard(text: str) -> tuple[int, int]:
    """'2/8' -> (2, 8): the second of eight shards."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UserError(f"--shard: expected I/N such as 1/4, found {text!r}") from None
    if not 1 <= index <= count:
        raise UserError(f"--shard: expected 1 <= I <= N, found {text!r}")
    return index, count


def in_shard(path: Path, shard: tuple[int, int]) -> bool:
    """Deterministic: the path as given, hashed; every machine running shard I of N picks the same packs."""
    index, count = shard
    digest = hashlib.sha256(os.path.normpath(str(path)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def select_inputs(inputs: Iterable[str | os.PathLike[str]], shard: tuple[int, int] | None,
                  limit: int | None, *, out_dir: Path | None = None) -> list[Path]:
    """The packs a run considers: expanded, then this shard's, then the first ``limit``."""
    paths = expand_inputs(inputs, out_dir=out_dir)
    if shard is not None:
        paths = [p for p in paths if in_shard(p, shard)]
    return paths if limit is None else paths[:max(0, limit)]


# --- settings and the run key -------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSettings:
    """Everything that changes what a report says; its hash, with the pack's, is the run key."""

    model: str
    max_repairs: int = 2
    max_indications: int = DEFAULT_MAX_INDICATIONS
    token_budget: int = DEFAULT_TOKEN_BUDGET
    formats: tuple[str, ...] = ("md", "json", "html")
    prompts_fingerprint: str = ""
    rules_fingerprint: str = ""

    def run_key(self, pack_fingerprint_: str) -> str:
        data = {"pack": pack_fingerprint_, **dataclasses.asdict(self)}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def rules_fingerprint(rules: RuleTable) -> str:
    return hashlib.sha256(rules.model_dump_json().encode()).hexdigest()


def prepare_run(
    model: str | None,
    max_repairs: int,
    max_indications: int,
    token_budget: int,
    formats: Sequence[str],
    prompts: PromptTemplates | str | os.PathLike[str] | None,
    rules: RuleTable | str | os.PathLike[str] | None,
) -> tuple[PromptTemplates, RuleTable, BatchSettings]:
    """The templates, the rule table and the settings (hence run keys) of a batch run, in either mode."""
    templates = prompts if isinstance(prompts, PromptTemplates) else load_prompts(prompts)
    table = rules if isinstance(rules, RuleTable) else load_rule_table(rules)
    settings = BatchSettings(model=resolve_model(model), max_repairs=max_repairs, max_indications=max_indications,
                             token_budget=token_budget, formats=tuple(formats),
                             prompts_fingerprint=templates.fingerprint, rules_fingerprint=rules_fingerprint(table))
    return templates, table, settings


# --- outcomes -----------------------------------------------------------------------------------------


@dataclass
class PackOutcome:
    """One line of ``summary.jsonl``."""

    pack: str
    status: str  # one of OUTCOMES ("planned": a dry run's estimate)
    pack_id: str | None = None
    errors: int = 0
    warnings: int = 0
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class BatchResult:
    outcomes: list[PackOutcome]
    seconds: float
    usage: Usage
    model: str
    cost: float | None
    limiter_peak: int = 0
    rate_limits: int = 0

    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 all verified, repaired or skipped; 1 some withheld, failed or bad."""
        bad = {"withheld", "failed", "bad_input"}
        return 1 if any(o.status in bad for o in self.outcomes) else 0


# --- pricing ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _pricing() -> dict[str, Any]:
    return json.loads(resources.files("drafter").joinpath("data", "pricing.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int, *, batch_api: bool = False) -> float | None:
    """US dollars from the packaged price list, or None for a model it does not know."""
    prices = _pricing()["per_million_tokens"]
    entry = prices.get(model) or next((v for k, v in prices.items() if model.startswith(k + "-20")), None)
    if entry is None:
        return None
    cost = (prompt_tokens * entry["input"] + completion_tokens * entry["output"]) / 1_000_000
    return cost * (_pricing()["batch_discount"] if batch_api else 1.0)


# --- progress -----------------------------------------------------------------------------------------

ProgressCallback = Callable[[PackOutcome, int, int, Usage], None]


# --- one pack -----------------------------------------------------------------------------------------


MANIFEST_DIR = ".manifests"


def manifest_path(out_dir: Path, pack_id: str) -> Path:
    """``OUT/.manifests/<pack_id>.json``: a dot folder no pack id can name (ids start with a letter or
    digit), so a manifest can never collide with a report, whatever the pack ids are."""
    return out_dir / MANIFEST_DIR / f"{pack_id}.json"


def _manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a manifest's shape, or None: drafter trusts none of its own state unchecked."""
    if not isinstance(manifest, dict):
        return f"found a JSON {type(manifest).__name__}; expected an object"
    if not isinstance(manifest.get("run_key"), str):
        return "run_key: missing or not a string"
    if manifest.get("status") not in OUTCOMES:
        return f"status: found {manifest.get('status')!r}; expected one of {', '.join(OUTCOMES)}"
    outputs = manifest.get("outputs")
    if not isinstance(outputs, list) or not all(isinstance(n, str) and n and "/" not in n and n not in (".", "..")
                                                 for n in outputs):
        return "outputs: expected a list of file names"
    sizes = manifest.get("sizes")
    if sizes is not None and not (isinstance(sizes, dict) and all(
            isinstance(sizes.get(n), int) and not isinstance(sizes.get(n), bool) for n in outputs)):
        return "sizes: expected the size in bytes of every output"
    return None


def already_done(out_dir: Path, pack_id: str, key: str) -> dict[str, Any] | None:
    """The manifest of a finished pack with this run key whose outputs all exist, else None.

    A manifest that cannot be read, is of the wrong shape, or names outputs that are gone is a miss
    with a warning: the pack is drafted again (from the response cache, if its answers are there).
    """
    path = manifest_path(out_dir, pack_id)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s: manifest ignored (%s); the pack is drafted again", path, type(exc).__name__)
        return None
    if (problem := _manifest_problem(manifest)) is not None:
        log.warning("%s: manifest ignored (%s); the pack is drafted again", path, problem)
        return None
    if manifest["run_key"] != key:
        return None
    missing = [name for name in manifest["outputs"] if not (out_dir / name).is_file()]
    if missing:
        log.warning("%s: %s missing; the pack is drafted again", path, ", ".join(missing))
        return None
    # Reports are written without fsync (they are re-derived from the response cache); the manifest,
    # fsynced after them, says how long each one is, so one that a power cut left short or empty is
    # drafted again instead of being trusted.
    sizes = manifest.get("sizes")
    if sizes is not None:
        wrong = [name for name in manifest["outputs"] if _size(out_dir / name) != sizes[name]]
        if wrong:
            log.warning("%s: %s not the size it was written at; the pack is drafted again", path, ", ".join(wrong))
            return None
    return manifest  # type: ignore[no-any-return]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def report_texts(report: Any, out_dir: Path, stem: str, formats: Sequence[str]) -> dict[Path, str]:
    """A report's files and their texts (the same mapping as :func:`drafter.assemble.write_report`)."""
    return report_outputs(report, out_dir, stem, formats)


def _needs_resolving(real_dir: str, name: str) -> bool:
    """Whether ``real_dir/name`` may resolve elsewhere: the name has a separator or a parent step, or
    the file is itself a link (one lstat, where resolving the whole path costs one per component)."""
    return any(sep in name for sep in (os.sep, os.altsep) if sep) or ".." in name \
        or os.path.islink(os.path.join(real_dir, name))


STICKY = ("withheld", "failed")  # statuses a rerun keeps until asked to draft again


async def _finish_even_if_cancelled(work: Awaitable[None]) -> None:
    """Await ``work`` to its end, even when the run is interrupted meanwhile.

    A manifest's write runs in a thread that cancelling cannot stop: the file appears, and a rerun
    skips the pack. The pack must then be reported as finished, not lost with the cancelled task, or
    the summary of the interrupted run would not count the calls it paid for.
    """
    future = asyncio.ensure_future(work)
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        await future  # the thread ends in a moment; the pack's outcome is then returned, not dropped


class PackIdClaims:
    """Pack ids claimed in input order, though the packs are read concurrently.

    Two packs of one batch with one ``meta.pack_id`` would write the same files: the one listed first
    drafts and the later one is refused, whichever of them is read first (claiming on reading let the
    second file of ``a.json b.json`` overwrite the first one's report on a fast read). A pack waits
    only for the packs ahead of it to be read, never for them to be drafted; a pack that ends before
    claiming (unreadable, cancelled) gives up its turn, so no pack waits for ever.
    """

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self._next = 0  # every pack before this index has claimed or given up its turn
        self._ended_early: set[int] = set()  # packs past _next that gave up their turn
        self._turns: dict[int, asyncio.Event] = {}

    async def claim(self, index: int, pack_id: str, name: str) -> str:
        """The file that owns ``pack_id``: ``name`` unless a pack listed before it has the same id."""
        if index > self._next:
            await self._turn(index).wait()
        owner = self.owners.setdefault(pack_id, name)
        self.give_up(index)
        return owner

    def give_up(self, index: int) -> None:
        """Pack ``index`` claims nothing (or has claimed already): the packs after it need not wait for it."""
        if index < self._next or index in self._ended_early:
            return
        self._ended_early.add(index)
        while self._next in self._ended_early:
            self._ended_early.discard(self._next)
            self._turns.pop(self._next, None)
            self._next += 1
        if self._next in self._turns:
            self._turns[self._next].set()

    def _turn(self, index: int) -> asyncio.Event:
        return self._turns.setdefault(index, asyncio.Event())


@dataclass
class _Batch:
    """Shared state of one batch run."""

    out_dir: Path
    client: openai.AsyncOpenAI | None
    settings: BatchSettings
    templates: PromptTemplates
    rules: RuleTable
    report_date: dt.date
    cache: ResponseCache | None
    limiter: AdaptiveLimiter
    retry: RetryPolicy | None
    dry_run: bool
    claims: PackIdClaims = field(default_factory=PackIdClaims)
    input_paths: frozenset[str] = frozenset()
    resume: bool = True
    retry_withheld: bool = False
    force: bool = False
    replayed_from: str | None = None

    async def run_one(self, path: Path, index: int) -> PackOutcome:
        """One pack, isolated: a failure to draft or to write it is this pack's outcome, not the batch's.

        ``index`` is the pack's place in the run's inputs: of two packs with one id, the earlier drafts.
        """
        started = time.monotonic()
        try:
            outcome = await self._run_one(path, index)
        except (OSError, DrafterError) as exc:
            outcome = PackOutcome(str(path), "failed", message=f"{path}: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug in one pack must not lose the other thousand
            traceback.print_exc(file=sys.stderr)  # tracebacks are for bugs: keep it visible
            outcome = PackOutcome(str(path), "failed", message=f"{path}: internal error (a bug; please report it "
                                  f"with the traceback above): {type(exc).__name__}: {exc}")
        finally:
            self.claims.give_up(index)
        outcome.seconds = round(time.monotonic() - started, 3)
        outcome.message = redact(" ".join(outcome.message.split("\n")))
        return outcome

    def _overwrites_input(self, pack_id: str) -> Path | None:
        """The first output of this pack that would replace one of the run's input files, if any."""
        for fmt in self.settings.formats:
            name = output_name(pack_id, fmt)
            target = self.out_dir / name
            resolved = (os.path.realpath(target) if _needs_resolving(self._real_out_dir, name)
                        else os.path.join(self._real_out_dir, name))
            if resolved in self.input_paths:
                return target
        return None

    @cached_property
    def _real_out_dir(self) -> str:
        """The output folder resolved once per run (resolving every output path cost a stat per component)."""
        return os.path.realpath(self.out_dir)

    def _previous(self, name: str, pack_id: str, key: str) -> PackOutcome | None:
        """What an earlier run with this run key left: skipped if it verified, the same status if not."""
        if not self.resume or self.force:
            return None
        done = already_done(self.out_dir, pack_id, key)
        if done is None:
            return None
        status = done.get("status")
        if status in STICKY:
            if self.retry_withheld:
                return None
            return PackOutcome(name, status, pack_id, outputs=done["outputs"],
                               message=f"{status} in an earlier run with the same pack and settings "
                               f"({done.get('message') or 'see its report'}); --retry-withheld drafts it again")
        return PackOutcome(name, "skipped", pack_id, outputs=done["outputs"], message=f"outputs up to date ({status})")

    async def _remember(self, outcome: PackOutcome, key: str, sizes: dict[str, int] | None = None) -> PackOutcome:
        """Write the pack's manifest (last, after its outputs), so a rerun knows what this run decided."""
        if not self.resume or outcome.pack_id is None:
            return outcome
        manifest: dict[str, Any] = {"run_key": key, "pack": outcome.pack, "status": outcome.status,
                                    "outputs": outcome.outputs, "message": redact(outcome.message)}
        if sizes is not None:
            manifest["sizes"] = sizes
        try:
            await _finish_even_if_cancelled(asyncio.to_thread(
                write_text_atomic, manifest_path(self.out_dir, outcome.pack_id),
                json.dumps(manifest, indent=2, sort_keys=True) + "\n"))
        except OSError as exc:
            if outcome.status != "failed":
                raise
            log.warning("%s: cannot record the failure (%s); a rerun drafts it again", outcome.pack,
                        exc.strerror or type(exc).__name__)
        return outcome

    async def _run_one(self, path: Path, index: int) -> PackOutcome:
        # Every step that reads or writes a file or does CPU-bound work (parse, validate, hash, rules,
        # prompts, verify, assemble) runs in a worker thread: the event loop only waits, so the replies
        # of the other calls in flight are read as soon as they come.
        name = str(path)
        try:
            loaded = await asyncio.to_thread(read_pack, path)
        except PackError as exc:
            return PackOutcome(name, "bad_input", message=str(exc.errors[0]) if exc.errors else str(exc))
        pack = loaded.pack
        pack_id = pack.meta.pack_id
        owner = await self.claims.claim(index, pack_id, name)
        if owner != name:
            return PackOutcome(name, "bad_input", pack_id, message=f"{name}: meta.pack_id: found {pack_id!r}; expected "
                               f"an id not already used in this batch (also in {owner})")
        if not self.dry_run and (target := self._overwrites_input(pack_id)) is not None:
            return PackOutcome(name, "bad_input", pack_id, message=f"{name}: refusing to write {target}: it is an "
                               "input of this run; choose another output folder")
        key = self.settings.run_key(await self._off_loop(pack_fingerprint, pack))
        previous = await self._off_loop(self._previous, name, pack_id, key)
        if previous is not None:
            return previous
        assessment = await self._off_loop(assess_pack, pack, self.rules)
        if self.dry_run:
            return await self._off_loop(self._estimate, name, pack_id, pack, assessment)
        assert self.client is not None
        try:
            result = await adraft_sections(
                pack, assessment, self.templates, client=self.client, model=self.settings.model,
                max_repairs=self.settings.max_repairs, max_indications=self.settings.max_indications,
                token_budget=self.settings.token_budget, policy=self.retry, cache=self.cache, limiter=self.limiter,
            )
        except DraftError as exc:
            failed = with_usage(PackOutcome(name, "failed", pack_id, message=f"{name}: {exc}"), exc.usage)
            return await self._remember(failed, key)
        # recorded answers: every output says so, and no cost is claimed
        report = await in_cpu_worker(assemble, result, report_date=self.report_date,
                                         replayed_from=self.replayed_from)
        try:
            sizes = await asyncio.to_thread(self._write_report, report, pack_id)
            verification = report.verification
            outcome = with_usage(PackOutcome(name, report.status.value, pack_id, errors=len(verification.errors),
                                             warnings=len(verification.warnings), outputs=list(sizes)), report.usage)
            return await self._remember(outcome, key, sizes)
        except OSError as exc:
            # The calls were made and paid for: keep them in the outcome, so usage matches the server's count.
            return with_usage(PackOutcome(name, "failed", pack_id, message=f"{name}: cannot write the outputs "
                                          f"(none was written): {type(exc).__name__}: {exc}"), report.usage)

    async def _off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` on the CPU worker thread, so replies in flight are read meanwhile; in a dry
        run nothing is in flight, and the hand-off would only cost time, so it runs here."""
        if self.dry_run:
            return function(*args)
        return await in_cpu_worker(function, *args)

    def _write_report(self, report: Any, pack_id: str) -> dict[str, int]:
        """Render and write a report's files all or nothing; their names and sizes in bytes.

        Not fsynced: the manifest written after them is, and records these sizes (see already_done).
        """
        texts = report_texts(report, self.out_dir, pack_id, self.settings.formats)
        written = write_texts_atomic(texts, durable=not self.resume)
        return {path.name: len(texts[path].encode("utf-8")) for path in written}

    def _estimate(self, name: str, pack_id: str, pack: Any, assessment: Any) -> PackOutcome:
        ranks = select_indications(pack, self.settings.max_indications)
        entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications() if i.rank in ranks]
        chars = sum(len(m["content"]) for m in report_messages(self.templates, pack, entries))
        return PackOutcome(name, "planned", pack_id, calls=1, prompt_tokens=(chars + 3) // 4,
                           completion_tokens=ESTIMATED_OUTPUT_TOKENS_PER_INDICATION * len(ranks),
                           message="dry run: estimate, nothing was called")


def with_usage(outcome: PackOutcome, usage: Usage) -> PackOutcome:
    outcome.calls = usage.requests
    outcome.cached_calls = usage.cached_responses
    outcome.failed_calls = usage.failed_requests
    outcome.prompt_tokens = usage.spent_prompt_tokens  # tokens paid for in this run
    outcome.completion_tokens = usage.spent_completion_tokens
    return outcome


# --- the batch ----------------------------------------------------------------------------------------


def preflight(directory: Path, cache: ResponseCache | None) -> None:
    """Refuse, before anything is paid for, an output folder or a cache that cannot take a file."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory}: the output folder is an existing file; expected a folder (or a new name)")
    check_writable(directory, "the output folder")
    if cache is not None:
        if cache.directory.exists() and not cache.directory.is_dir():
            raise UserError(f"{cache.directory}: the response cache is an existing file; expected a folder")
        try:
            check_writable(cache.directory, "the response cache")
        except UserError as exc:
            raise UserError(f"{exc} (or pass --no-cache)") from None


async def adraft_batch(
    inputs: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    client: openai.AsyncOpenAI | None = None,
    model: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    formats: Sequence[str] = ("md", "json", "html"),
    prompts: PromptTemplates | str | os.PathLike[str] | None = None,
    rules: RuleTable | str | os.PathLike[str] | None = None,
    report_date: dt.date | None = None,
    cache: ResponseCache | str | os.PathLike[str] | None = None,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    dry_run: bool = False,
    retry: RetryPolicy | None = None,
    on_progress: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    retry_withheld: bool = False,
    force: bool = False,
    resume: bool = True,
    replayed_from: str | os.PathLike[str] | None = None,
) -> BatchResult:
    """Draft every pack of ``inputs`` into ``out_dir``; see the module docstring for the guarantees.

    ``retry_withheld`` drafts again the packs an earlier run withheld or failed (a rerun otherwise
    keeps their status); ``force`` drafts every pack again. ``resume=False`` (``drafter draft``)
    neither reads nor writes manifests and writes no summary. Without ``dry_run`` the output folder
    is locked for the run (:class:`~drafter.fsio.FolderLock`): a second run on it is refused.
    """
    started = time.monotonic()
    directory = Path(out_dir)
    paths = select_inputs(inputs, shard, limit, out_dir=directory)
    if max_indications < 1:
        raise UserError(f"max_indications: expected 1 or more, found {max_indications}")
    templates, table, settings = prepare_run(model, max_repairs, max_indications, token_budget, formats, prompts,
                                             rules)
    resolved = settings.model
    response_cache = cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
    with contextlib.ExitStack() as stack:
        if not dry_run:
            if client is None:
                from drafter.llm import make_async_client

                client = make_async_client()
            preflight(directory, response_cache)
            if resume:
                stack.enter_context(FolderLock(directory))
        limiter = AdaptiveLimiter(concurrency)
        batch = _Batch(directory, client, settings, templates, table, report_date or dt.date.today(), response_cache,
                       limiter, retry, dry_run, input_paths=frozenset(os.path.realpath(p) for p in paths),
                       resume=resume, retry_withheld=retry_withheld, force=force,
                       replayed_from=None if replayed_from is None else os.fspath(replayed_from))
        if on_start is not None:
            on_start(len(paths))
        usage = Usage()
        outcomes: dict[int, PackOutcome] = {}
        summary = SummaryWriter(directory) if not dry_run and resume else None
        try:
            await _run_all(batch, paths, concurrency, outcomes, usage, on_progress, summary)
        finally:
            # Interrupted or not, what finished is summarised: the summary is the run's account of its calls.
            if summary is not None:
                await asyncio.to_thread(summary.close)
    ordered = [outcomes[i] for i in range(len(paths))]
    cost = None if replayed_from is not None else estimate_cost(resolved, usage.prompt_tokens, usage.completion_tokens)
    return BatchResult(ordered, round(time.monotonic() - started, 3), usage, resolved, cost,
                       limiter.peak_in_flight, limiter.rate_limits)


async def _run_all(batch: _Batch, paths: Sequence[Path], concurrency: int, outcomes: dict[int, PackOutcome],
                   usage: Usage, on_progress: ProgressCallback | None, summary: SummaryWriter | None = None) -> None:
    """Run every pack, at most twice ``concurrency`` in flight, filling ``outcomes`` as they finish."""
    # Packs in flight are bounded too (twice the call limit), so 10,000 packs never sit in memory at once.
    pending = iter(enumerate(paths))
    in_flight: dict[asyncio.Task[PackOutcome], int] = {}

    def launch() -> None:
        while len(in_flight) < 2 * concurrency:
            try:
                index, path = next(pending)
            except StopIteration:
                return
            in_flight[asyncio.create_task(batch.run_one(path, index))] = index

    def record(index: int, outcome: PackOutcome) -> None:
        outcomes[index] = outcome
        if summary is not None:
            summary.add(index, outcome)
        usage.add(Usage(requests=outcome.calls, failed_requests=outcome.failed_calls,
                        cached_responses=outcome.cached_calls, prompt_tokens=outcome.prompt_tokens,
                        completion_tokens=outcome.completion_tokens))
        if on_progress is not None:
            on_progress(outcome, len(outcomes), len(paths), usage)

    launch()
    try:
        while in_flight:
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                record(in_flight.pop(task), task.result())
            launch()
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
            # Interrupted (Ctrl-C): a pack that had finished, or was writing its manifest, is counted
            # all the same; a rerun skips it, so the summary must account for its calls.
            for task, index in in_flight.items():
                if not task.cancelled() and task.exception() is None:
                    record(index, task.result())


def draft_batch(inputs: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str],
                **options: Any) -> BatchResult:
    """Synchronous wrapper of :func:`adraft_batch` (runs its own event loop)."""
    return asyncio.run(adraft_batch(inputs, out_dir, **options))


def summary_line(outcome: PackOutcome) -> str:
    """One pack's line of ``summary.jsonl``."""
    return json.dumps({**outcome.as_dict(), "message": redact(outcome.message)}, ensure_ascii=False,
                      sort_keys=True) + "\n"


class SummaryWriter:
    """``OUT/summary.jsonl`` written as the packs finish, not held until the end.

    Lines are written in input order (a pack that finishes before the ones ahead of it waits, as one
    line of text, until they do) to an :class:`~drafter.fsio.AtomicTextFile`: a reader sees the
    previous summary or the whole new one, never a partial file, and a run of 50,000 packs keeps no
    list of summary lines. A failure to write (a full disk) is a warning at the end, never the
    batch's failure: the per-pack results were printed.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / SUMMARY_FILE
        self.lines = 0
        self._waiting: dict[int, str] = {}
        self._next = 0
        self._file = AtomicTextFile(self.path)
        self._error: OSError | None = None

    def add(self, index: int, outcome: PackOutcome) -> None:
        self._waiting[index] = summary_line(outcome)
        self.lines += 1
        while self._next in self._waiting:
            self._write(self._waiting.pop(self._next))
            self._next += 1

    def _write(self, line: str) -> None:
        if self._error is None:
            try:
                self._file.write(line)
            except OSError as exc:
                self._error = exc

    def close(self) -> Path | None:
        """Write the lines still waiting (an interrupted run has gaps), then replace the summary; the
        summary's path, or None (and a warning on the log) if it could not be written."""
        for index in sorted(self._waiting):
            self._write(self._waiting.pop(index))
        if self._error is None:
            try:
                return self._file.commit()
            except OSError as exc:
                self._error = exc
        self._file.discard()
        log.warning("%s: cannot write the summary (%s); %d pack(s) finished, see the lines above",
                    self.path, self._error.strerror or type(self._error).__name__, self.lines)
        return None


def write_summary(out_dir: Path, outcomes: Sequence[PackOutcome]) -> Path | None:
    """``OUT/summary.jsonl``, one line per pack; None (and a warning on the log) if it cannot be written,
    so a full disk at the very end never hides the per-pack results already printed."""
    writer = SummaryWriter(out_dir)
    for index, outcome in enumerate(outcomes):
        writer.add(index, outcome)
    return writer.close()


__all__ = ["BatchResult", "BatchSettings", "PackOutcome", "adraft_batch", "draft_batch", "estimate_cost",
           "expand_inputs", "in_shard", "parse_shard", "DraftStatus"]
