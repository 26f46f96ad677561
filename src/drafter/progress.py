"""What a batch shows while it runs and when it ends: a live bar on a terminal, log lines otherwise.

A scheduler's log is not a terminal: there, one plain line per finished pack is what a person can
grep later. On a terminal, a rich progress bar shows done/total, the statuses so far, tokens,
the estimated cost and the time remaining.
"""

from __future__ import annotations

import sys
from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from drafter.errors import redact
from drafter.batch import OUTCOMES, BatchResult, PackOutcome, estimate_cost
from drafter.llm import Usage


class BatchProgress:
    def __init__(self, model: str, *, console: Console | None = None, live: bool | None = None,
                 replayed: bool = False) -> None:
        self.console = console or Console(file=sys.stdout)
        self.live = self.console.is_terminal if live is None else live
        self.model = model
        self.replayed = replayed  # recorded answers cost nothing: no running cost is shown
        self.counts: Counter[str] = Counter()
        self.finished: list[PackOutcome] = []  # for Ctrl-C: what is done when the run is interrupted
        self._progress: Progress | None = None
        self._task: int | None = None

    def __enter__(self) -> BatchProgress:
        if self.live:
            self._progress = Progress(TextColumn("[bold]drafting"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                      console=self.console, transient=False)
            self._progress.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, exc, tb)

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("drafting", total=total, status="")
        else:
            self.console.print(f"batch: {total} pack(s) to consider", highlight=False)

    def _status(self, usage: Usage) -> str:
        parts = [f"{self.counts[k]} {k}" for k in OUTCOMES if self.counts[k]]
        cost = None if self.replayed else estimate_cost(self.model, usage.prompt_tokens, usage.completion_tokens)
        parts.append(f"{usage.total_tokens:,} tokens" + (f" ~${cost:.2f}" if cost is not None else ""))
        return " | ".join(parts)

    def update(self, outcome: PackOutcome, done: int, total: int, usage: Usage) -> None:
        self.counts[outcome.status] += 1
        self.finished.append(outcome)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, status=self._status(usage))
            if outcome.status in ("bad_input", "failed"):
                self._progress.console.print(f"{outcome.pack}: {outcome.status}: {redact(outcome.message)}",
                                             highlight=False, markup=False)
            return
        message = redact(outcome.message.removeprefix(f"{outcome.pack}: "))
        detail = f" - {message}" if message and outcome.status in ("bad_input", "failed") else ""
        if outcome.calls == 0 and outcome.cached_calls:
            calls = "from cache"
        else:
            calls = f"{outcome.calls} call(s), {outcome.prompt_tokens + outcome.completion_tokens:,} tokens"
        self.console.print(f"[{done}/{total}] {outcome.pack}: {outcome.status} ({outcome.seconds:.1f} s, {calls})"
                           f"{detail}", highlight=False, soft_wrap=True, markup=False)


def summary_table(result: BatchResult, *, dry_run: bool = False) -> Table:
    counts = result.counts()
    title = "batch dry run (estimates; nothing was called)" if dry_run else "batch summary"
    table = Table(title=title, show_header=True)
    keys = ("planned", "skipped", "bad_input") if dry_run else ("verified", "repaired", "withheld", "skipped",
                                                               "bad_input", "failed")
    for key in keys:
        table.add_column({"bad_input": "bad input", "failed": "failed calls"}.get(key, key), justify="right")
    table.add_row(*(str(counts[k]) for k in keys))
    return table


def summary_lines(result: BatchResult, *, dry_run: bool = False, replayed: str | None = None) -> list[str]:
    usage = result.usage
    if replayed is not None:
        cost = f"none (replayed from {replayed})"
    else:
        cost = f"~${result.cost:.2f}" if result.cost is not None else "unknown (model not in the price list)"
    calls = "calls estimated" if dry_run else "calls"
    return [
        f"{len(result.outcomes)} pack(s) in {result.seconds:.1f} s; {usage.requests} {calls}, "
        f"{usage.cached_responses} from cache, {usage.failed_requests} failed and retried",
        f"tokens: {usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion; cost {cost} "
        f"({result.model})",
    ]
