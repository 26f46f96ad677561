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
import dataclasses
import datetime as dt
import glob
import hashlib
import json
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import openai

from drafter.assemble import assemble, pack_fingerprint, write_report
from drafter.cache import ResponseCache
from drafter.drafting import (
    DEFAULT_MAX_INDICATIONS,
    DEFAULT_TOKEN_BUDGET,
    DraftError,
    DraftStatus,
    adraft_sections,
    select_indications,
)
from drafter.errors import DrafterError, PackError, UserError
from drafter.fsio import write_text_atomic
from drafter.llm import AdaptiveLimiter, RetryPolicy, Usage, resolve_model
from drafter.pack import read_pack
from drafter.prompts import IndicationEntry, PromptTemplates, load_prompts, report_messages
from drafter.rules import RuleTable, assess_pack, load_rule_table

DEFAULT_CONCURRENCY = 8
ESTIMATED_OUTPUT_TOKENS_PER_INDICATION = 400  # the example drafts average ~1,300 characters per indication
SUMMARY_FILE = "summary.jsonl"
OUTCOMES = ("verified", "repaired", "withheld", "skipped", "planned", "bad_input", "failed")


# --- inputs -----------------------------------------------------------------------------------------


def expand_inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files, directories (every ``*.json`` below them) and globs, de-duplicated, in a stable order."""
    found: dict[str, Path] = {}
    for raw in inputs:
        text = os.fspath(raw)
        path = Path(text)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*.json") if p.is_file())
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
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
                  limit: int | None) -> list[Path]:
    """The packs a run considers: expanded, then this shard's, then the first ``limit``."""
    paths = expand_inputs(inputs)
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


def already_done(out_dir: Path, pack_id: str, key: str) -> dict[str, Any] | None:
    """The manifest of a finished pack with this run key whose outputs all exist, else None."""
    try:
        manifest = json.loads(manifest_path(out_dir, pack_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("run_key") != key or not all((out_dir / name).is_file() for name in manifest.get("outputs", [])):
        return None
    return manifest  # type: ignore[no-any-return]


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
    claimed_ids: dict[str, str] = field(default_factory=dict)

    async def run_one(self, path: Path) -> PackOutcome:
        """One pack, isolated: a failure to draft or to write it is this pack's outcome, not the batch's."""
        started = time.monotonic()
        try:
            outcome = await self._run_one(path)
        except (OSError, DrafterError) as exc:
            outcome = PackOutcome(str(path), "failed", message=f"{path}: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug in one pack must not lose the other thousand
            traceback.print_exc(file=sys.stderr)  # tracebacks are for bugs: keep it visible
            outcome = PackOutcome(str(path), "failed", message=f"{path}: internal error (a bug; please report it "
                                  f"with the traceback above): {type(exc).__name__}: {exc}")
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome

    async def _run_one(self, path: Path) -> PackOutcome:
        name = str(path)
        try:
            loaded = await asyncio.to_thread(read_pack, path)
        except PackError as exc:
            return PackOutcome(name, "bad_input", message=str(exc.errors[0]) if exc.errors else str(exc))
        pack = loaded.pack
        pack_id = pack.meta.pack_id
        owner = self.claimed_ids.setdefault(pack_id, name)
        if owner != name:
            return PackOutcome(name, "bad_input", pack_id, message=f"{name}: meta.pack_id: found {pack_id!r}; expected "
                               f"an id not already used in this batch (also in {owner})")
        key = self.settings.run_key(pack_fingerprint(pack))
        done = already_done(self.out_dir, pack_id, key)
        if done is not None:
            return PackOutcome(name, "skipped", pack_id, outputs=done["outputs"],
                               message=f"outputs up to date ({done.get('status')})")
        assessment = assess_pack(pack, self.rules)
        if self.dry_run:
            return self._estimate(name, pack_id, pack, assessment)
        assert self.client is not None
        try:
            result = await adraft_sections(
                pack, assessment, self.templates, client=self.client, model=self.settings.model,
                max_repairs=self.settings.max_repairs, max_indications=self.settings.max_indications,
                token_budget=self.settings.token_budget, policy=self.retry, cache=self.cache, limiter=self.limiter,
            )
        except DraftError as exc:
            return with_usage(PackOutcome(name, "failed", pack_id, message=str(exc)), exc.usage)
        report = assemble(result, report_date=self.report_date)
        try:
            written = await asyncio.to_thread(write_report, report, self.out_dir, pack_id, self.settings.formats)
            outputs = [p.name for p in written]
            manifest = {"run_key": key, "pack": name, "status": report.status.value, "outputs": outputs}
            await asyncio.to_thread(write_text_atomic, manifest_path(self.out_dir, pack_id),
                                    json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            # The calls were made and paid for: keep them in the outcome, so usage matches the server's count.
            return with_usage(PackOutcome(name, "failed", pack_id, message=f"{name}: cannot write the outputs: "
                                          f"{type(exc).__name__}: {exc}"), report.usage)
        verification = report.verification
        return with_usage(PackOutcome(name, report.status.value, pack_id, errors=len(verification.errors),
                                       warnings=len(verification.warnings), outputs=outputs), report.usage)

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
) -> BatchResult:
    """Draft every pack of ``inputs`` into ``out_dir``; see the module docstring for the guarantees."""
    started = time.monotonic()
    paths = select_inputs(inputs, shard, limit)
    templates, table, settings = prepare_run(model, max_repairs, max_indications, token_budget, formats, prompts,
                                             rules)
    resolved = settings.model
    directory = Path(out_dir)
    if not dry_run:
        directory.mkdir(parents=True, exist_ok=True)
        if client is None:
            from drafter.llm import make_async_client

            client = make_async_client()
    response_cache = cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
    limiter = AdaptiveLimiter(concurrency)
    batch = _Batch(directory, client, settings, templates, table, report_date or dt.date.today(), response_cache,
                   limiter, retry, dry_run)
    if on_start is not None:
        on_start(len(paths))
    usage = Usage()
    outcomes: dict[int, PackOutcome] = {}
    # Packs in flight are bounded too (twice the call limit), so 10,000 packs never sit in memory at once.
    pending = iter(enumerate(paths))
    in_flight: dict[asyncio.Task[PackOutcome], int] = {}

    def launch() -> None:
        while len(in_flight) < 2 * concurrency:
            try:
                index, path = next(pending)
            except StopIteration:
                return
            in_flight[asyncio.create_task(batch.run_one(path))] = index

    launch()
    while in_flight:
        done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            index = in_flight.pop(task)
            outcome = task.result()
            outcomes[index] = outcome
            usage.add(Usage(requests=outcome.calls, failed_requests=outcome.failed_calls,
                            cached_responses=outcome.cached_calls, prompt_tokens=outcome.prompt_tokens,
                            completion_tokens=outcome.completion_tokens))
            if on_progress is not None:
                on_progress(outcome, len(outcomes), len(paths), usage)
        launch()
    ordered = [outcomes[i] for i in range(len(paths))]
    result = BatchResult(ordered, round(time.monotonic() - started, 3), usage, resolved,
                         estimate_cost(resolved, usage.prompt_tokens, usage.completion_tokens),
                         limiter.peak_in_flight, limiter.rate_limits)
    if not dry_run:
        write_summary(directory, ordered)
    return result


def draft_batch(inputs: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str],
                **options: Any) -> BatchResult:
    """Synchronous wrapper of :func:`adraft_batch` (runs its own event loop)."""
    return asyncio.run(adraft_batch(inputs, out_dir, **options))


def write_summary(out_dir: Path, outcomes: Sequence[PackOutcome]) -> Path:
    text = "".join(json.dumps(o.as_dict(), ensure_ascii=False, sort_keys=True) + "\n" for o in outcomes)
    return write_text_atomic(out_dir / SUMMARY_FILE, text)


__all__ = ["BatchResult", "BatchSettings", "PackOutcome", "adraft_batch", "draft_batch", "estimate_cost",
           "expand_inputs", "in_shard", "parse_shard", "DraftStatus"]
