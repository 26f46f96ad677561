"""Draft, verify, repair, and fail closed.

One call drafts every selected indication of a report. Each indication's sections are verified on
their own; an indication that passes is kept as it is, and only the failing ones are sent back to
the model with the verifier's findings (up to ``max_repairs`` times). What still fails is
*withheld*: it never reaches the report as if verified.

The repair loop is driven by tenacity and retries only on :class:`DraftRejected`, drafter's own
"the model's answer is not acceptable" (unparseable, truncated, schema-invalid, or failing
verification). Transport faults belong to :mod:`drafter.llm` alone. Every attempt is recorded with
its findings, its raw output and its usage, so nothing paid for disappears with a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import openai
from pydantic import ValidationError
from tenacity import AsyncRetrying, Retrying, retry_if_exception_type, stop_after_attempt

from drafter.drafts import IndicationSections, ReportDraft, report_schema_for
from drafter.errors import DrafterError, UserError
from drafter.cache import ResponseCache
from drafter.llm import AdaptiveLimiter, CallFailed, CallResult, RetryPolicy, Usage, acomplete, complete, replay_miss
from drafter.pack.models import MOA_KEY, EvidencePack
from drafter.prompts import IndicationEntry, PromptTemplates, repair_message, report_messages
from drafter.rules import PackAssessment
from drafter.verify import Finding, Verification, Verifier

SCHEMA_NAME = "report_sections"
# One worker thread for a batch's CPU-bound steps (build the repair loop, verify, assemble, rules):
# under the GIL more threads cannot run Python at once anyway, and each extra one contending for it
# costs switches. File reads and writes, which release the GIL, use asyncio's default pool.
_CPU_WORKER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="drafter-cpu")


async def in_cpu_worker(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on the CPU worker thread, awaited: the event loop stays free."""
    return await asyncio.get_running_loop().run_in_executor(_CPU_WORKER, functools.partial(function, *args, **kwargs))
DEFAULT_TOKEN_BUDGET = 60_000
T = TypeVar("T")
DEFAULT_MAX_INDICATIONS = 5


class DraftStatus(StrEnum):
    VERIFIED = "verified"   # passed verification on the first attempt
    REPAIRED = "repaired"   # passed after the verifier's findings were fed back
    WITHHELD = "withheld"   # never passed; replaced by a deterministic summary


class DraftRejected(Exception):
    """The model's answer cannot be used as it is; the message lines go back to the model."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class DraftStopped(Exception):
    """Ends the repair loop early without retrying (refusal, budget); the reason is recorded."""


class DraftError(DrafterError):
    """The model could not be used at all (e.g. a 401, or transport retries exhausted).

    Carries what was spent so far: nothing paid for disappears with the failure.
    """

    def __init__(self, message: str, attempts: Sequence[Attempt], usage: Usage) -> None:
        super().__init__(message)
        self.attempts = list(attempts)
        self.usage = usage


@dataclass(frozen=True)
class Attempt:
    """One model call of the repair loop and what came of it."""

    number: int
    ranks: tuple[int, ...]
    outcome: str  # accepted | rejected | refused | truncated | unparseable | over_budget
    problems: tuple[str, ...]
    errors: tuple[Finding, ...]
    raw_output: str | None
    finish_reason: str
    usage: Usage
    transport_failures: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The attempt as the report's record keeps it: what the model answered and what was wrong.

        Transport retries are left out: they describe the network, not the draft, and would make
        the record differ between two runs that got the same answers.
        """
        return {"number": self.number, "ranks": list(self.ranks), "outcome": self.outcome,
                "problems": list(self.problems), "errors": [f.as_dict() for f in self.errors],
                "finish_reason": self.finish_reason, "usage": self.usage.response_dict(),
                "raw_output": self.raw_output}


@dataclass
class IndicationOutcome:
    rank: int
    disease_name: str
    status: DraftStatus
    sections: IndicationSections | None
    verification: Verification
    accepted_at: int | None = None
    withheld_reason: str | None = None
    # The last draft that failed, kept only so that the report can say *where* each finding is
    # (``keys[1]``, ``text[12:20]``); its text is never printed in a report.
    rejected_sections: IndicationSections | None = None


@dataclass
class DraftResult:
    """The drafting stage's output: what to assemble, and the full history of how it was obtained."""

    pack: EvidencePack
    assessment: PackAssessment
    model: str
    prompts: PromptTemplates
    outcomes: list[IndicationOutcome]
    attempts: list[Attempt]
    usage: Usage
    messages: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> DraftStatus:
        statuses = {o.status for o in self.outcomes}
        if DraftStatus.WITHHELD in statuses:
            return DraftStatus.WITHHELD
        return DraftStatus.REPAIRED if DraftStatus.REPAIRED in statuses else DraftStatus.VERIFIED


def refusal_summary(refusal: str) -> str:
    """How a report names a refusal: its length and a short hash, never its words.

    A refusal is free text from the model and can hold anything (a claim, an id, markup); the
    report only needs to say that it happened and let an auditor match it to the JSON record,
    whose attempts keep the raw refusal.
    """
    digest = hashlib.sha256(refusal.encode("utf-8")).hexdigest()[:12]
    return f"a refusal of {len(refusal)} characters, sha256 {digest}"


def select_indications(pack: EvidencePack, max_indications: int = DEFAULT_MAX_INDICATIONS) -> list[int]:
    """The top-ranked indication, then each further one with any trial or article, up to the limit."""
    ranked = pack.ranked_indications()
    chosen = [ranked[0].rank]
    chosen += [ind.rank for ind in ranked[1:] if ind.trials or ind.articles]
    return chosen[:max(1, max_indications)]


def citable_keys_for(pack: EvidencePack, ranks: Sequence[int]) -> list[str]:
    """What the drafted indications may cite: their own trials and articles, MOA, the safety items."""
    keys: set[str] = set(pack.safety_items())
    if pack.drug.mechanism_of_action:
        keys.add(MOA_KEY)
    for indication in pack.predicted_indications:
        if indication.rank in ranks:
            keys.update(t.key for t in indication.trials)
            keys.update(a.key for a in indication.articles)
    return sorted(keys)


class RepairLoop:
    """The state of one report's drafting across attempts; sync and async callers share it."""

    def __init__(self, pack: EvidencePack, assessment: PackAssessment, templates: PromptTemplates,
                 ranks: Sequence[int], max_repairs: int, token_budget: int) -> None:
        self.pack = pack
        self.assessment = assessment
        self.templates = templates
        self.max_attempts = max_repairs + 1
        self.token_budget = token_budget
        entries = [IndicationEntry(ind, assessment.for_rank(ind.rank))
                   for ind in pack.ranked_indications() if ind.rank in ranks]
        self.first_messages = report_messages(templates, pack, entries)
        self.messages = list(self.first_messages)
        self.pending: list[int] = [e.indication.rank for e in entries]
        self.accepted: dict[int, tuple[IndicationSections, Verification, int]] = {}
        self.last_errors: dict[int, Verification] = {}
        self.last_rejected: dict[int, IndicationSections] = {}
        self.attempts: list[Attempt] = []
        self.usage = Usage()
        self.stop_reason: str | None = None
        # The schema sent constrains keys and ranks to this pack's (strict mode enforces it); the answer
        # is parsed with the general model, so a key outside the pack that slips through (a provider
        # without strict mode) reaches the verifier and comes back as KEY_UNKNOWN, a precise repair.
        self.schema = report_schema_for(citable_keys_for(pack, ranks), ranks)
        self.verifier = Verifier(pack, assessment=assessment)  # built once, used for every attempt

    def consume(self, result: CallResult) -> None:
        """Take one model answer: accept what verifies, or raise DraftRejected / DraftStopped."""
        number = len(self.attempts) + 1
        self.usage.add(result.usage)
        requested = tuple(self.pending)

        def record(outcome: str, problems: Sequence[str] = (), errors: Sequence[Finding] = ()) -> None:
            self.attempts.append(Attempt(number, requested, outcome, tuple(problems), tuple(errors), result.content,
                                         result.finish_reason, result.usage, result.transport_failures))

        if self.usage.total_tokens > self.token_budget:
            # The budget bounds what a report may cost, accepted answers included: an answer that takes the
            # run over it is not used, however well it would verify.
            self.stop_reason = (f"token budget exceeded ({self.usage.total_tokens} of {self.token_budget} tokens "
                                "used by this answer and those before it); the answer was not used")
            record("over_budget", [self.stop_reason])
            raise DraftStopped(self.stop_reason)
        if result.refusal:
            record("refused", [f"the model refused: {result.refusal}"])
            self.stop_reason = f"the model refused to draft ({refusal_summary(result.refusal)})"
            raise DraftStopped(self.stop_reason)
        if result.finish_reason == "length":
            problems = ["Your reply was cut off at the output limit (finish_reason=length) and is not valid JSON. "
                        "Write fewer and shorter statements."]
            record("truncated", problems)
            self._next(result, problems)
        try:
            draft = ReportDraft.model_validate_json(result.content or "")
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                        for err in exc.errors(include_url=False)[:20]]
            record("unparseable", ["Your reply did not follow the JSON schema:", *problems])
            self._next(result, ["Your reply did not follow the JSON schema:", *problems])
        problems, errors = self._verify(draft, number)
        if not self.pending:
            record("accepted", problems, errors)
            return
        record("rejected", problems, errors)
        self._next(result, problems)

    def _verify(self, draft: ReportDraft, number: int) -> tuple[list[str], list[Finding]]:
        problems: list[str] = []
        errors: list[Finding] = []
        seen: set[int] = set()
        for item in draft.indications:
            if item.rank not in self.pending or item.rank in seen:
                continue
            seen.add(item.rank)
            result = self.verifier.verify(item.sections, rank=item.rank)
            if result.ok:
                self.accepted[item.rank] = (item.sections, result, number)
                self.pending.remove(item.rank)
                continue
            self.last_errors[item.rank] = result
            self.last_rejected[item.rank] = item.sections
            errors.extend(result.errors)
            problems.extend(f"rank {item.rank}, {f.location}: {f.code}: {f.message}" for f in result.errors)
        for rank in self.pending:
            if rank not in seen:
                problems.append(f"rank {rank}: missing from your reply; return its sections")
        return problems, errors

    def _next(self, result: CallResult, problems: Sequence[str]) -> None:
        """Queue the repair turn (a new list: the caller's messages are never mutated) and reject."""
        if self.usage.total_tokens >= self.token_budget:
            self.stop_reason = (f"token budget exhausted ({self.usage.total_tokens} of {self.token_budget} tokens "
                                "used) before the draft verified")
            raise DraftStopped(self.stop_reason)
        attempt = len(self.attempts) + 1
        self.messages = [
            *self.messages,
            {"role": "assistant", "content": result.content or ""},
            {"role": "user", "content": repair_message(self.templates, problems, self.pending, attempt,
                                                       self.max_attempts)},
        ]
        raise DraftRejected(problems)

    def result(self, model: str) -> DraftResult:
        outcomes = []
        for ind in self.pack.ranked_indications():
            if ind.rank in self.accepted:
                sections, verification, number = self.accepted[ind.rank]
                status = DraftStatus.VERIFIED if number == 1 else DraftStatus.REPAIRED
                outcomes.append(IndicationOutcome(ind.rank, ind.disease_name, status, sections, verification, number))
            elif ind.rank in self.pending:
                reason = self.stop_reason or f"the draft still failed verification after {len(self.attempts)} attempt(s)"
                outcomes.append(IndicationOutcome(ind.rank, ind.disease_name, DraftStatus.WITHHELD, None,
                                                  self.last_errors.get(ind.rank, Verification()),
                                                  withheld_reason=reason,
                                                  rejected_sections=self.last_rejected.get(ind.rank)))
        return DraftResult(self.pack, self.assessment, model, self.templates, outcomes, self.attempts, self.usage,
                           self.first_messages)


def _loop_kwargs(max_attempts: int) -> dict[str, Any]:
    return {"stop": stop_after_attempt(max_attempts), "retry": retry_if_exception_type(DraftRejected),
            "reraise": True}


def _fail(loop: RepairLoop, exc: openai.OpenAIError) -> DraftError:
    if replay_miss(exc):
        return DraftError("the cassette has no recorded response for this request: the prompts, the pack or the "
                          "model differ from the recording (re-record as cassettes/README.md says)",
                          loop.attempts, loop.usage)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return DraftError(f"the API refused the credentials ({exc.__class__.__name__}); check OPENAI_API_KEY",
                          loop.attempts, loop.usage)
    return DraftError(f"the model could not be reached: {exc.__class__.__name__}: {exc}", loop.attempts, loop.usage)


def draft_sections(
    pack: EvidencePack,
    assessment: PackAssessment,
    templates: PromptTemplates,
    *,
    client: openai.OpenAI,
    model: str,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    policy: RetryPolicy | None = None,
    cache: ResponseCache | None = None,
) -> DraftResult:
    """Draft, verify and repair the sections of one report (synchronous)."""
    if max_repairs < 0:
        raise UserError(f"max_repairs must be 0 or more, found {max_repairs}")
    loop = RepairLoop(pack, assessment, templates, select_indications(pack, max_indications), max_repairs,
                       token_budget)
    try:
        for attempt in Retrying(**_loop_kwargs(loop.max_attempts)):
            with attempt:
                loop.consume(complete(client, loop.messages, model=model, schema_name=SCHEMA_NAME,
                                      schema=loop.schema, policy=policy, cache=cache))
    except (DraftRejected, DraftStopped):
        pass
    except CallFailed as exc:
        loop.usage.failed_requests += exc.failed_requests
        raise _fail(loop, exc.cause) from exc.cause
    return loop.result(model)


async def adraft_sections(
    pack: EvidencePack,
    assessment: PackAssessment,
    templates: PromptTemplates,
    *,
    client: openai.AsyncOpenAI,
    model: str,
    max_repairs: int = 2,
    max_indications: int = DEFAULT_MAX_INDICATIONS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    policy: RetryPolicy | None = None,
    cache: ResponseCache | None = None,
    limiter: AdaptiveLimiter | None = None,
) -> DraftResult:
    """The asynchronous twin of :func:`draft_sections`; ``limiter`` paces calls shared by a batch."""
    if max_repairs < 0:
        raise UserError(f"max_repairs must be 0 or more, found {max_repairs}")
    # Building the loop (prompt, schema, the verifier's index and its compiled name patterns) and
    # consuming an answer (parse and verify) are the CPU-bound parts of a pack: they run in a worker
    # thread, so the event loop stays free to read the replies of the other calls in flight.
    loop = await in_cpu_worker(RepairLoop, pack, assessment, templates, select_indications(pack, max_indications),
                                   max_repairs, token_budget)
    try:
        async for attempt in AsyncRetrying(**_loop_kwargs(loop.max_attempts)):
            with attempt:
                answer = await acomplete(client, loop.messages, model=model, schema_name=SCHEMA_NAME,
                                         schema=loop.schema, policy=policy, cache=cache, limiter=limiter)
                await in_cpu_worker(loop.consume, answer)
    except (DraftRejected, DraftStopped):
        pass
    except CallFailed as exc:
        loop.usage.failed_requests += exc.failed_requests
        raise _fail(loop, exc.cause) from exc.cause
    return loop.result(model)
