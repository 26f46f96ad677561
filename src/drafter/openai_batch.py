"""Batch drafting through the OpenAI Batch API: the same prompts and checks, at the batch price.

Why a second batch mode: the Batch API answers within 24 hours at a discount (``batch_discount`` in
``data/pricing.json``), which is what drafting a whole corpus (thousands of packs per jurisdiction)
wants. What is drafted, and how it is checked, must not change with the transport:

* every request body is the one :mod:`drafter.llm` sends for the synchronous call
  (:func:`drafter.llm.request_body` over the repair loop's messages and schema);
* every answer goes through the same repair loop (:class:`drafter.drafting.RepairLoop`), is
  verified and assembled as ``drafter draft`` does it, and outputs, manifests and ``summary.jsonl``
  are written as the concurrent mode (:mod:`drafter.batch`) writes them, with the same run key, so
  either mode skips what the other finished;
* drafts that fail verification go into a further batch of repair requests (the loop's next
  messages), up to ``max_repairs`` rounds; what never verifies is withheld.

A batch runs for hours, so a run must survive being stopped. ``OUT/.openai-batch-state.json`` is
written (atomically) as soon as a request file is uploaded and again as soon as its batch is
created. It holds the round, the input file and batch ids, the mapping from ``custom_id`` to pack,
and the answers of earlier rounds (so the repair loops can be rebuilt exactly). A restarted run
picks the same batches up instead of paying for new ones; the file is removed when the job ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import openai
from openai.types import Batch
from openai.types.chat import ChatCompletion
from pydantic import ValidationError
from tenacity import Retrying

from drafter.assemble import assemble, pack_fingerprint, write_report
from drafter.batch import (
    BatchResult,
    BatchSettings,
    STICKY,
    PackOutcome,
    ProgressCallback,
    already_done,
    estimate_cost,
    manifest_path,
    prepare_run,
    select_inputs,
    with_usage,
    write_summary,
)
from drafter.drafting import (
    DEFAULT_MAX_INDICATIONS,
    DEFAULT_TOKEN_BUDGET,
    SCHEMA_NAME,
    DraftRejected,
    DraftStopped,
    RepairLoop,
    select_indications,
)
from drafter.errors import DrafterError, PackError, UserError
from drafter.fsio import write_text_atomic
from drafter.llm import (
    CallResult,
    RetryPolicy,
    TransportFault,
    Usage,
    call_result,
    make_client,
    parse_completion,
    request_body,
    transport_retrying,
    without_sdk_retries,
)
from drafter.pack import EvidencePack, read_pack
from drafter.prompts import PromptTemplates
from drafter.rules import RuleTable, assess_pack

STATE_FILE = ".openai-batch-state.json"  # a dot file: no pack id (and so no report) can take its name
STATE_FORMAT = "drafter.openai-batch-state/1"
ENDPOINT = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"
UPLOAD_CONTENT_TYPE = "application/jsonl"  # given, not guessed from the file name by the machine's mimetypes
DEFAULT_POLL_INTERVAL = 30.0
MAX_POLL_INTERVAL = 600.0
POLL_BACKOFF = 1.5
DEFAULT_MAX_WAIT = 26 * 3600.0  # the completion window, plus the time to finalise and to upload
MAX_REQUESTS_PER_BATCH = 50_000  # the API's limits: 50,000 requests and 200 MB per input file
MAX_BATCH_BYTES = 190 * 1024 * 1024
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
EXIT_PENDING = 75  # sysexits' EX_TEMPFAIL: nothing is wrong, run the same command again later

T = TypeVar("T")
EventCallback = Callable[[str], None]


class BatchPending(DrafterError):
    """The wait ran out while batches were still running; the state file lets a rerun pick them up."""

    def __init__(self, message: str, batch_ids: Sequence[str], state_path: Path) -> None:
        super().__init__(message)
        self.batch_ids = list(batch_ids)
        self.state_path = state_path


class OpenAIBatchError(DrafterError):
    """A Batch API call failed for good (after transport retries); the state file is kept."""


# --- what the state file holds ----------------------------------------------------------------------


@dataclass
class _Work:
    """One pack on its way through the rounds."""

    name: str  # the path as given, as summary.jsonl shows it
    path: str  # absolute, to reload the pack on resume
    pack_id: str
    run_key: str
    loop: RepairLoop
    answers: list[dict[str, Any]] = field(default_factory=list)  # the rejected answers, in order
    batches: list[str] = field(default_factory=list)

    @property
    def custom_id(self) -> str:
        return f"{self.pack_id}:attempt-{len(self.answers) + 1}"


@dataclass
class _Part:
    """One uploaded request file and the batch created from it (``None`` until it exists)."""

    input_file_id: str
    custom_ids: list[str]
    batch_id: str | None = None


@dataclass
class _Job:
    """One round's requests: every pack in it is at the same attempt."""

    round: int
    works: list[_Work]
    parts: list[_Part] = field(default_factory=list)

    def by_custom_id(self) -> dict[str, _Work]:
        return {work.custom_id: work for work in self.works}


def _answer_record(result: CallResult) -> dict[str, Any]:
    return {"content": result.content, "refusal": result.refusal, "finish_reason": result.finish_reason,
            "model": result.model, "usage": dataclasses.asdict(result.usage)}


def _answer_from(record: dict[str, Any]) -> CallResult:
    return CallResult(record["content"], record["refusal"], record["finish_reason"], Usage(**record["usage"]),
                      record["model"])


def settings_key(settings: BatchSettings) -> str:
    return hashlib.sha256(json.dumps(dataclasses.asdict(settings), sort_keys=True).encode()).hexdigest()


def _state_dict(job: _Job, settings: BatchSettings) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "settings": settings_key(settings),
        "model": settings.model,
        "round": job.round,
        "parts": [{"input_file_id": p.input_file_id, "batch_id": p.batch_id, "custom_ids": p.custom_ids}
                  for p in job.parts],
        "requests": {work.custom_id: work.pack_id for work in job.works},
        "packs": {work.pack_id: {"pack": work.name, "path": work.path, "run_key": work.run_key,
                                 "answers": work.answers, "batches": work.batches} for work in job.works},
    }


def read_state(out_dir: Path) -> dict[str, Any] | None:
    """The state of an unfinished job in ``out_dir``, or None when there is none."""
    path = out_dir / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise UserError(f"{path}: expected a {STATE_FORMAT} state file; move it away to start afresh (the batches "
                        "it names may still be running: cancel them in the provider's dashboard)")
    if (problem := state_problem(data)) is not None:
        raise UserError(f"{path}: {problem}; the file was edited or damaged: move it away to start afresh (the "
                        "batches it names may still be running: cancel them in the provider's dashboard)")
    return data


def _is_list_of(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


_ANSWER_KEYS = ("content", "refusal", "finish_reason", "model", "usage")
_USAGE_FIELDS = frozenset(f.name for f in dataclasses.fields(Usage))


def state_problem(data: dict[str, Any]) -> str | None:
    """The first thing wrong with a state file's shape (as a JSON path and what was expected), or None."""
    if not isinstance(data.get("settings"), str):
        return "settings: expected a string"
    if isinstance(data.get("round"), bool) or not isinstance(data.get("round"), int) or data["round"] < 0:
        return f"round: found {data.get('round')!r}; expected a whole number"
    parts = data.get("parts")
    if not isinstance(parts, list):
        return "parts: expected a list"
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("input_file_id"), str):
            return f"parts[{i}].input_file_id: expected a string"
        if not _is_list_of(part.get("custom_ids"), str):
            return f"parts[{i}].custom_ids: expected a list of strings"
        if part.get("batch_id") is not None and not isinstance(part["batch_id"], str):
            return f"parts[{i}].batch_id: expected a string or null"
    if not isinstance(data.get("requests"), dict):
        return "requests: expected an object"
    packs = data.get("packs")
    if not isinstance(packs, dict):
        return "packs: expected an object"
    for pack_id, entry in packs.items():
        where = f"packs[{pack_id!r}]"
        if not isinstance(entry, dict):
            return f"{where}: expected an object"
        for key in ("pack", "path", "run_key"):
            if not isinstance(entry.get(key), str):
                return f"{where}.{key}: expected a string"
        if not _is_list_of(entry.get("batches"), str):
            return f"{where}.batches: expected a list of strings"
        answers = entry.get("answers")
        if not _is_list_of(answers, dict):
            return f"{where}.answers: expected a list of objects"
        for j, record in enumerate(answers):
            missing = [k for k in _ANSWER_KEYS if k not in record]
            if missing:
                return f"{where}.answers[{j}]: missing {', '.join(missing)}"
            usage = record["usage"]
            if not isinstance(usage, dict) or set(usage) - _USAGE_FIELDS or not all(
                    isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in usage.values()):
                return f"{where}.answers[{j}].usage: expected token counts"
    return None


# --- requests ---------------------------------------------------------------------------------------


def request_line(work: _Work, model: str) -> bytes:
    """One line of the input file: the synchronous call's exact body, under the pack's custom_id."""
    body = request_body(work.loop.messages, model, SCHEMA_NAME, work.loop.schema, None)
    line = {"custom_id": work.custom_id, "method": "POST", "url": ENDPOINT, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def chunk_lines(lines: Sequence[tuple[str, bytes]], max_requests: int,
                max_bytes: int) -> Iterator[list[tuple[str, bytes]]]:
    """Consecutive groups of (custom_id, line) within the API's per-file limits."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for custom_id, line in lines:
        if chunk and (len(chunk) >= max_requests or size + len(line) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((custom_id, line))
        size += len(line)
    if chunk:
        yield chunk


def next_delay(previous: float, interval: float) -> float:
    """Polling backs off by half again each time, capped at MAX_POLL_INTERVAL (or the interval, if larger)."""
    return min(previous * POLL_BACKOFF, max(interval, MAX_POLL_INTERVAL))


# --- answers ----------------------------------------------------------------------------------------


def _error_text(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return json.dumps(body, ensure_ascii=False)[:300] if body is not None else "no body"


def read_answer(line: dict[str, Any], model: str) -> CallResult | str:
    """A result line as the repair loop takes it, or the reason it cannot be used (that pack fails)."""
    error = line.get("error")
    if error:
        return f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else str(error)
    response = line.get("response") or {}
    if not isinstance(response, dict):
        return f"response: found a JSON {type(response).__name__}; expected an object"
    status = response.get("status_code")
    body = response.get("body")
    if not isinstance(status, int) or not 200 <= status < 300:
        return f"HTTP {status}: {_error_text(body)}"
    if not isinstance(body, dict):
        return f"HTTP {status}: the response body is not a chat completion"
    try:
        completion = parse_completion(body)
    except TransportFault as exc:
        return f"HTTP {status}: the response body is not a chat completion ({exc})"
    return call_result(completion, model, [])


def _unanswered(batch: Batch, part: _Part, custom_id: str) -> str:
    """Why a request has no result line, from its batch's final status."""
    if batch.status == "failed":
        errors = list(batch.errors.data or []) if batch.errors else []
        line = part.custom_ids.index(custom_id) + 1
        mine = [e for e in errors if e.line == line] or errors
        if mine:
            return f"the batch failed: line {mine[0].line}: {mine[0].code}: {mine[0].message}"
        return "the batch failed"
    if batch.status in ("expired", "cancelled"):
        return f"the batch was {batch.status} before this request ran"
    return "the batch has no usable result line for this request (a missing or malformed line)"


# --- the run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    poll_interval: float
    max_wait: float
    max_polls: int | None
    max_requests: int
    max_bytes: int
    policy: RetryPolicy


class _Runner:
    """One ``run_openai_batch`` call: plans, submits, polls, collects; reports each pack once."""

    def __init__(self, out_dir: Path, client: openai.OpenAI, settings: BatchSettings, templates: PromptTemplates,
                 rules: RuleTable, report_date: dt.date, options: _Options, on_progress: ProgressCallback | None,
                 on_event: EventCallback | None) -> None:
        self.out_dir = out_dir
        self.retry_withheld = False
        self.force = False
        self.sdk = without_sdk_retries(client)
        self.settings = settings
        self.templates = templates
        self.rules = rules
        self.report_date = report_date
        self.options = options
        self.on_progress = on_progress
        self.on_event = on_event
        self.started = time.monotonic()
        self.deadline = self.started + options.max_wait
        self.polls = 0
        self.total = 0
        self.order: dict[str, int] = {}
        self.outcomes: dict[str, PackOutcome] = {}
        self.usage = Usage()
        self.batch_ids: list[str] = []
        self.rounds = 0

    @property
    def state_path(self) -> Path:
        return self.out_dir / STATE_FILE

    def event(self, message: str) -> None:
        if self.on_event is not None:
            self.on_event(message)

    def report(self, outcome: PackOutcome) -> None:
        outcome.seconds = round(time.monotonic() - self.started, 3)
        self.order.setdefault(outcome.pack, len(self.order))
        self.outcomes[outcome.pack] = outcome
        self.usage.add(Usage(requests=outcome.calls, failed_requests=outcome.failed_calls,
                             prompt_tokens=outcome.prompt_tokens, completion_tokens=outcome.completion_tokens))
        if self.on_progress is not None:
            self.on_progress(outcome, len(self.outcomes), max(self.total, len(self.outcomes)), self.usage)

    def ordered(self) -> list[PackOutcome]:
        return [self.outcomes[name] for name in sorted(self.outcomes, key=self.order.__getitem__)]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One API call, transport faults retried as drafter.llm retries them (the SDK's retries are off)."""
        return Retrying(**transport_retrying(self.options.policy, []))(fn, *args, **kwargs)

    # --- packs ------------------------------------------------------------------------------------

    def new_work(self, name: str, pack: EvidencePack, run_key: str) -> _Work:
        loop = RepairLoop(pack, assess_pack(pack, self.rules), self.templates,
                           select_indications(pack, self.settings.max_indications), self.settings.max_repairs,
                           self.settings.token_budget)
        return _Work(name, os.path.abspath(name), pack.meta.pack_id, run_key, loop)

    def rebuild(self, pack_id: str, entry: dict[str, Any]) -> _Work | None:
        """A pack of the saved job with its loop replayed to where it was, or None if the pack changed."""
        try:
            pack = read_pack(entry["path"]).pack
        except PackError:
            return None
        if pack.meta.pack_id != pack_id or self.settings.run_key(pack_fingerprint(pack)) != entry["run_key"]:
            return None
        work = self.new_work(entry["pack"], pack, entry["run_key"])
        work.path = entry["path"]
        for record in entry["answers"]:
            try:
                work.loop.consume(_answer_from(record))
            except DraftRejected:
                work.answers.append(record)
                continue
            except DraftStopped:
                return None
            return None  # accepted now: the saved answers no longer replay as they did
        work.batches = list(entry["batches"])
        return work

    def resume(self, state: dict[str, Any]) -> _Job:
        """The saved job, its packs rebuilt; packs changed since are dropped (and drafted afresh if listed)."""
        if state.get("settings") != settings_key(self.settings):
            raise UserError(f"{self.state_path}: an OpenAI batch job with other settings (model {state.get('model')}, "
                            "prompts, rules or options) is still unfinished here; run it to the end with the same "
                            "options, or move the file away to abandon it (cancel its batches: "
                            f"{', '.join(p.get('batch_id') or '?' for p in state.get('parts', []))})")
        job = _Job(int(state["round"]), [])
        for pack_id, entry in state["packs"].items():
            work = self.rebuild(pack_id, entry)
            if work is None:
                self.event(f"{entry['pack']}: changed since its batch was created; its answer will be discarded")
                continue
            job.works.append(work)
        job.parts = [_Part(p["input_file_id"], list(p["custom_ids"]), p.get("batch_id")) for p in state["parts"]]
        self.event(f"resuming round {job.round} from {self.state_path}: "
                   f"{', '.join(p.batch_id or p.input_file_id for p in job.parts)}")
        return job

    def plan(self, paths: Sequence[Path], resumed: _Job | None) -> list[_Work]:
        """Report bad and finished packs; return the rest (packs of the resumed job are left to it)."""
        in_job = {work.pack_id: work.path for work in resumed.works} if resumed else {}
        claimed: dict[str, str] = dict(in_job)
        todo: list[_Work] = []
        for path in paths:
            name = str(path)
            self.order.setdefault(name, len(self.order))
            try:
                pack = read_pack(path).pack
            except PackError as exc:
                self.report(PackOutcome(name, "bad_input", message=str(exc.errors[0]) if exc.errors else str(exc)))
                continue
            pack_id = pack.meta.pack_id
            owner = claimed.setdefault(pack_id, os.path.abspath(name))
            if owner != os.path.abspath(name):
                self.report(PackOutcome(name, "bad_input", pack_id, message=f"{name}: meta.pack_id: found {pack_id!r}; "
                                        f"expected an id not already used in this batch (also in {owner})"))
                continue
            if pack_id in in_job:
                continue
            key = self.settings.run_key(pack_fingerprint(pack))
            done = None if self.force else already_done(self.out_dir, pack_id, key)
            if done is not None and done.get("status") in STICKY and not self.retry_withheld:
                self.report(PackOutcome(name, done["status"], pack_id, outputs=done["outputs"],
                                        message=f"{done['status']} in an earlier run with the same pack and settings; "
                                        "--retry-withheld drafts it again"))
                continue
            if done is not None and done.get("status") not in STICKY:
                self.report(PackOutcome(name, "skipped", pack_id, outputs=done["outputs"],
                                        message=f"outputs up to date ({done.get('status')})"))
                continue
            todo.append(self.new_work(name, pack, key))
        return todo

    # --- one job, round after round ------------------------------------------------------------------

    def save(self, job: _Job) -> None:
        write_text_atomic(self.state_path, json.dumps(_state_dict(job, self.settings), indent=1,
                                                      ensure_ascii=False) + "\n")

    def run(self, job: _Job) -> None:
        while job.works:
            self.rounds += 1
            self.submit(job)
            batches = self.wait(job)
            again = self.collect(job, batches)
            job = _Job(job.round + 1, again)
        self.state_path.unlink(missing_ok=True)

    def submit(self, job: _Job) -> None:
        """Make sure every request of the round is in a created batch, saving the state at each step."""
        for index, part in enumerate(job.parts, start=1):
            if part.batch_id is None:
                part.batch_id = self.create(job.round, index, part, adopt_first=True).id
                self.save(job)
        covered = {custom_id for part in job.parts for custom_id in part.custom_ids}
        lines = [(work.custom_id, request_line(work, self.settings.model)) for work in job.works
                 if work.custom_id not in covered]
        for chunk in chunk_lines(lines, self.options.max_requests, self.options.max_bytes):
            index = len(job.parts) + 1
            uploaded = self.call(self.sdk.files.create, purpose="batch", file=(
                f"drafter-round-{job.round}-{index}.jsonl", b"".join(line for _, line in chunk), UPLOAD_CONTENT_TYPE))
            part = _Part(uploaded.id, [custom_id for custom_id, _ in chunk])
            job.parts.append(part)
            self.save(job)
            part.batch_id = self.create(job.round, index, part, adopt_first=False).id
            self.save(job)
            self.event(f"round {job.round}: batch {part.batch_id} created for {len(chunk)} request(s) "
                       f"(file {uploaded.id})")
        self.batch_ids.extend(p.batch_id for p in job.parts if p.batch_id and p.batch_id not in self.batch_ids)

    def create(self, round_: int, index: int, part: _Part, *, adopt_first: bool) -> Batch:
        """Create the part's batch; first look for one already made from its file (a lost reply, a crash)."""
        tries = 0

        def create_once() -> Batch:
            nonlocal tries
            tries += 1
            if (adopt_first or tries > 1) and (found := self.find_batch(part.input_file_id)) is not None:
                return found
            return self.sdk.batches.create(input_file_id=part.input_file_id, endpoint=ENDPOINT,
                                           completion_window=COMPLETION_WINDOW,
                                           metadata={"created_by": "drafter", "round": str(round_),
                                                     "part": str(index)})

        return self.call(create_once)

    def find_batch(self, input_file_id: str) -> Batch | None:
        page = self.sdk.batches.list(limit=100)
        return next((b for b in page.data if b.input_file_id == input_file_id), None)

    def wait(self, job: _Job) -> dict[str, Batch]:
        """Poll every batch of the round until all have ended, backing off; bounded by max_wait and max_polls."""
        ended: dict[str, Batch] = {}
        seen: dict[str, tuple[str, int]] = {}
        delay = self.options.poll_interval
        while True:
            for part in job.parts:
                assert part.batch_id is not None
                if part.batch_id in ended:
                    continue
                batch = self.call(self.sdk.batches.retrieve, part.batch_id)
                self.polls += 1
                self._note_status(batch, seen)
                if batch.status in TERMINAL:
                    ended[batch.id] = batch
            if len(ended) == len(job.parts):
                return ended
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or (self.options.max_polls is not None and self.polls >= self.options.max_polls):
                raise self.pending(job, seen)
            time.sleep(min(delay, remaining))
            delay = next_delay(delay, self.options.poll_interval)

    def _note_status(self, batch: Batch, seen: dict[str, tuple[str, int]]) -> None:
        counts = batch.request_counts
        done = (counts.completed + counts.failed) if counts else 0
        if seen.get(batch.id) != (batch.status, done):
            total = counts.total if counts else 0
            self.event(f"batch {batch.id}: {batch.status} ({done}/{total} request(s) done)")
        seen[batch.id] = (batch.status, done)

    def pending(self, job: _Job, seen: dict[str, tuple[str, int]]) -> BatchPending:
        running = [f"{batch_id} ({status})" for batch_id, (status, _) in seen.items() if status not in TERMINAL]
        return BatchPending(f"round {job.round}: {len(running)} OpenAI batch(es) still running: {', '.join(running)}; "
                            f"the job is saved in {self.state_path}: run the same command again to pick it up",
                            [p.batch_id for p in job.parts if p.batch_id], self.state_path)

    def download(self, file_id: str) -> list[dict[str, Any]]:
        """The usable lines of a result file; a line that is not a JSON object with a ``custom_id`` is
        skipped with a warning (its pack then has no answer and fails alone, with that reason)."""
        content = self.call(self.sdk.files.content, file_id).content
        lines = []
        for number, raw in enumerate(content.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
                self.event(f"warning: OpenAI file {file_id}, line {number}: expected a JSON object with a custom_id; "
                           "skipped (its request counts as unanswered)")
                continue
            lines.append(line)
        return lines

    def collect(self, job: _Job, batches: dict[str, Batch]) -> list[_Work]:
        """Feed each answer to its pack's loop; finish or fail packs; return those needing a repair round."""
        lines: dict[str, dict[str, Any]] = {}
        for batch in batches.values():
            for file_id in (batch.output_file_id, batch.error_file_id):
                if file_id:
                    lines.update((line["custom_id"], line) for line in self.download(file_id))
        part_of = {custom_id: part for part in job.parts for custom_id in part.custom_ids}
        again: list[_Work] = []
        for custom_id, work in job.by_custom_id().items():
            part = part_of[custom_id]
            assert part.batch_id is not None
            work.batches.append(part.batch_id)
            line = lines.get(custom_id)
            answer = read_answer(line, self.settings.model) if line is not None else _unanswered(
                batches[part.batch_id], part, custom_id)
            if isinstance(answer, str):
                self.fail(work, f"OpenAI batch {part.batch_id}, request {custom_id}: {answer}")
            elif self.consume(work, answer):
                again.append(work)
        return again

    def consume(self, work: _Work, answer: CallResult) -> bool:
        """True when the pack goes into the next round; otherwise it is finished and written."""
        try:
            work.loop.consume(answer)
        except DraftRejected:
            if len(work.loop.attempts) < work.loop.max_attempts:
                work.answers.append(_answer_record(answer))
                return True
        except DraftStopped:
            pass
        self.finish(work)
        return False

    def finish(self, work: _Work) -> None:
        report = assemble(work.loop.result(self.settings.model), report_date=self.report_date)
        outputs = [p.name for p in write_report(report, self.out_dir, work.pack_id, self.settings.formats)]
        manifest = {"run_key": work.run_key, "pack": work.name, "status": report.status.value, "outputs": outputs,
                    "openai_batches": work.batches}
        write_text_atomic(manifest_path(self.out_dir, work.pack_id), json.dumps(manifest, indent=2, sort_keys=True)
                          + "\n")
        verification = report.verification
        self.report(with_usage(PackOutcome(work.name, report.status.value, work.pack_id,
                                            errors=len(verification.errors), warnings=len(verification.warnings),
                                            outputs=outputs, message=f"OpenAI batch {', '.join(work.batches)}"),
                                report.usage))

    def fail(self, work: _Work, message: str) -> None:
        usage = Usage()
        usage.add(work.loop.usage)
        usage.failed_requests += 1
        self.report(with_usage(PackOutcome(work.name, "failed", work.pack_id, message=f"{work.name}: {message}"),
                                usage))


def _api_error(exc: openai.OpenAIError, state_path: Path) -> DrafterError:
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return UserError(f"the API refused the credentials ({exc.__class__.__name__}); check OPENAI_API_KEY")
    kept = (f"; the job is saved in {state_path}: run the same command again to resume it"
            if state_path.is_file() else "")
    return OpenAIBatchError(f"the Batch API call failed: {exc.__class__.__name__}: {exc}{kept}")


@dataclass
class OpenAIBatchResult(BatchResult):
    batch_ids: list[str] = field(default_factory=list)
    rounds: int = 0


def run_openai_batch(
    inputs: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    client: openai.OpenAI | None = None,
    model: str | None = None,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    formats: Sequence[str] = ("md", "json", "html"),
    prompts: PromptTemplates | str | os.PathLike[str] | None = None,
    rules: RuleTable | str | os.PathLike[str] | None = None,
    report_date: dt.date | None = None,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    max_wait: float = DEFAULT_MAX_WAIT,
    max_polls: int | None = None,
    retry: RetryPolicy | None = None,
    max_requests_per_batch: int = MAX_REQUESTS_PER_BATCH,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    on_start: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
    on_event: EventCallback | None = None,
    retry_withheld: bool = False,
    force: bool = False,
) -> OpenAIBatchResult:
    """Draft every pack of ``inputs`` into ``out_dir`` through the OpenAI Batch API (see the module docstring).

    A pack an earlier run withheld stays withheld (not drafted again) unless ``retry_withheld``;
    ``force`` drafts every pack again. A failed pack has no manifest and is submitted again.

    Raises :class:`BatchPending` when ``max_wait`` seconds (or ``max_polls`` status requests) pass
    while batches still run: the same call later picks them up from ``OUT/.openai-batch-state.json``.
    """
    if max_repairs < 0:
        raise UserError(f"max_repairs must be 0 or more, found {max_repairs}")
    if poll_interval < 0 or max_wait < 0:
        raise UserError(f"poll interval and wait must be 0 or more, found {poll_interval} and {max_wait}")
    paths = select_inputs(inputs, shard, limit, out_dir=Path(out_dir))
    templates, table, settings = prepare_run(model, max_repairs, max_indications, token_budget, formats, prompts,
                                             rules)
    resolved = settings.model
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    options = _Options(poll_interval, max_wait, max_polls, max(1, max_requests_per_batch), max_batch_bytes,
                       retry or RetryPolicy())
    runner = _Runner(directory, client or make_client(), settings, templates, table, report_date or dt.date.today(),
                     options, on_progress, on_event)
    runner.retry_withheld, runner.force = retry_withheld, force
    state = read_state(directory)
    resumed = runner.resume(state) if state is not None else None
    listed = {os.path.abspath(p) for p in paths}
    runner.total = len(paths) + sum(1 for w in (resumed.works if resumed else []) if w.path not in listed)
    if on_start is not None:
        on_start(runner.total)
    todo = runner.plan(paths, resumed)
    try:
        if resumed is not None:
            runner.run(resumed)
        if todo:
            runner.run(_Job(1, todo))
    except openai.OpenAIError as exc:
        raise _api_error(exc, runner.state_path) from exc
    outcomes = runner.ordered()
    write_summary(directory, outcomes)
    usage = runner.usage
    return OpenAIBatchResult(outcomes, round(time.monotonic() - runner.started, 3), usage, resolved,
                             estimate_cost(resolved, usage.prompt_tokens, usage.completion_tokens, batch_api=True),
                             batch_ids=runner.batch_ids, rounds=runner.rounds)


def summary_lines(result: OpenAIBatchResult) -> list[str]:
    usage = result.usage
    cost = f"~${result.cost:.2f}" if result.cost is not None else "unknown (model not in the price list)"
    return [
        f"{len(result.outcomes)} pack(s) in {result.seconds:.1f} s; {usage.requests} request(s) in "
        f"{len(result.batch_ids)} OpenAI batch(es) over {result.rounds} round(s), {usage.failed_requests} failed",
        f"tokens: {usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion; cost {cost} at the Batch "
        f"API price ({result.model})",
    ]


__all__ = ["EXIT_PENDING", "STATE_FILE", "BatchPending", "OpenAIBatchError", "OpenAIBatchResult", "read_state",
           "run_openai_batch", "summary_lines"]
