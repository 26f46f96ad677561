"""The ``drafter`` command: a thin shell over the library.

Each subcommand parses its options, calls one library function per input and prints. Exit codes are
part of the interface: 0 success, 1 the input was read but failed a check, 2 bad input or usage
(one line per problem on stderr, no traceback). Files are processed independently, so one bad pack
never hides the results for the others.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import openai

from pydantic import ValidationError

from drafter.drafting import DEFAULT_MAX_INDICATIONS
from drafter.drafts import ReportDraft
from drafter.errors import PackError, UserError, redact
from drafter.fsio import write_text_atomic
from drafter.llm import DEFAULT_MODEL, MODEL_ENV, make_client
from drafter.pack import LoadedPack, dump_pack, read_pack
from drafter.pack.load import validation_problems
from drafter.resources import shipped_dir
from drafter.rules import PackAssessment, RuleTable, assess_pack, load_rule_table

DISTRIBUTION = "drafter-txgnn"  # the name on PyPI ("drafter" is another project); the import name is drafter
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNCHECKED = 3  # verify: no error, but claims the pack cannot prove or disprove (lint of rebuilt packs)


def _err(line: str) -> None:
    print(redact(line), file=sys.stderr)


def _read_each(paths: Sequence[str], on_pack: Callable[[LoadedPack], int | None]) -> int:
    """Load every path, report problems per file, call ``on_pack`` for the good ones.

    Returns the worst exit code: 2 if any pack was bad, else the highest code ``on_pack`` returned.
    """
    status = EXIT_OK
    for path in paths:
        try:
            loaded = read_pack(path)
        except PackError as exc:
            for problem in exc.problems:
                _err(str(problem))
            status = EXIT_BAD_INPUT
            continue
        for warning in loaded.warnings:
            _err(str(warning))
        status = max(status, on_pack(loaded) or EXIT_OK)
    return status


# --- validate ---------------------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    def report(loaded: LoadedPack) -> None:
        pack = loaded.pack
        fmt = "TxGNN v4 format, imported" if loaded.source_format == "txgnn-v4" else "drafter format"
        warnings = f", {len(loaded.warnings)} warning(s)" if loaded.warnings else ""
        print(f"{loaded.file}: ok ({fmt}; {pack.drug.inn}, {pack.jurisdiction.country}, "
              f"{len(pack.predicted_indications)} indication(s){warnings})")

    return _read_each(args.packs, report)


# --- rules ------------------------------------------------------------------------------------------


def format_assessment(loaded: LoadedPack, assessment: PackAssessment) -> str:
    pack = loaded.pack
    regulator = pack.jurisdiction.regulator or "regulator unknown"
    lines = [f"{loaded.file or pack.meta.pack_id}: {pack.drug.inn} ({pack.jurisdiction.country}, {regulator}); "
             f"rules {assessment.rule_table}"]
    header = ("rank", "indication", "score", "level", "trials", "articles", "stage", "ceiling")
    rows = [(str(a.rank), a.disease_name, "not in pack" if a.score is None else f"{a.score:.2%}", a.level,
             str(a.trial_count), str(a.article_count), a.stage, a.decision_ceiling.value)
            for a in assessment.indications]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row, item in zip(rows, assessment.indications, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        lines.append(f"      {item.level_reason}")
        if item.trial_breakdown:
            lines.append(f"      trials: {item.trial_breakdown}")
        lines.append(f"      ceiling {item.ceiling_reason}")
    return "\n".join(lines)


def _cmd_rules(args: argparse.Namespace) -> int:
    table: RuleTable = load_rule_table(args.rule_table)
    records: list[dict[str, object]] = []

    def report(loaded: LoadedPack) -> None:
        assessment = assess_pack(loaded.pack, table)
        if args.json:
            records.append({"file": loaded.file, "pack_id": loaded.pack.meta.pack_id,
                            "rule_table": assessment.rule_table,
                            "indications": [_assessment_record(a) for a in assessment.indications]})
        else:
            print(format_assessment(loaded, assessment))
            print()

    status = _read_each(args.packs, report)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return status


def _assessment_record(item: object) -> dict[str, object]:
    from dataclasses import asdict

    record = asdict(item)  # type: ignore[call-overload]
    record["ceiling_reason"] = item.ceiling_reason  # type: ignore[attr-defined]
    record["result_caps"] = [{"ceiling": cap.value, "reason": reason} for cap, reason in record["result_caps"]]
    return {k: (v.value if hasattr(v, "value") else v) for k, v in record.items()}


# --- merge ------------------------------------------------------------------------------------------


def _cmd_merge(args: argparse.Namespace) -> int:
    from drafter.merge import describe, merge_shards, write_merged

    merged = merge_shards(args.shards)
    path = write_merged(merged, Path(args.out))
    for line in describe(merged):
        print(line)
    print(f"summary: {path}")
    return merged.exit_code


# --- schema -----------------------------------------------------------------------------------------


def _cmd_schema(args: argparse.Namespace) -> int:
    from drafter.schemas import stale_schemas, write_schemas

    directory = Path(args.out_dir) if args.out_dir else shipped_dir("schemas")
    if args.check:
        stale = stale_schemas(directory)
        for name in stale:
            _err(f"{directory / name}: differs from the models; run 'drafter schema' to regenerate it")
        return EXIT_CHECK_FAILED if stale else EXIT_OK
    for path in write_schemas(directory):
        print(f"wrote {path}")
    return EXIT_OK


# --- import-txgnn -----------------------------------------------------------------------------------


def _cmd_import_txgnn(args: argparse.Namespace) -> int:
    try:
        loaded = read_pack(args.input, country=args.country)
    except PackError as exc:
        for problem in exc.problems:
            _err(str(problem))
        return EXIT_BAD_INPUT
    if loaded.source_format != "txgnn-v4":
        _err(f"{args.input}: expected a TxGNN v4 pack, found a drafter-format pack (nothing to import)")
        return EXIT_BAD_INPUT
    for warning in loaded.warnings:
        _err(str(warning))
    text = json.dumps(dump_pack(loaded.pack), indent=2, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(args.output, text)
        print(f"wrote {args.output} ({len(loaded.warnings)} repair(s) reported)")
    return EXIT_OK


# --- verify -----------------------------------------------------------------------------------------


REPORT_RECORD_SCHEMA = "drafter.report/1"


def sections_of_record(data: object) -> object:
    """A report record (``drafter draft``'s JSON output) as the drafted sections it holds; anything
    else unchanged. Withheld indications have no sections and are left out, as the report leaves them."""
    if not isinstance(data, dict) or data.get("schema") != REPORT_RECORD_SCHEMA:
        return data
    indications = data.get("indications")
    if not isinstance(indications, list):
        return data
    return {"indications": [{"rank": i.get("rank"), "sections": i["sections"]} for i in indications
                            if isinstance(i, dict) and i.get("sections")]}


def _read_draft_or_text(path: str) -> ReportDraft | str:
    """A drafted-sections JSON file (ReportDraft) or any report text; UserError when unreadable."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: byte {exc.start}: expected UTF-8 text") from None
    if not path.endswith(".json"):
        return text
    try:
        return ReportDraft.model_validate(sections_of_record(json.loads(text)))
    except ValueError:
        pass  # not JSON: pydantic says where, below
    try:
        return ReportDraft.model_validate_json(text)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise PackError(problems, file=path) from None


def _cmd_verify(args: argparse.Namespace) -> int:
    from drafter.verify import verify, verify_markdown

    try:
        loaded = read_pack(args.pack)
    except PackError as exc:
        for problem in exc.problems:
            _err(str(problem))
        return EXIT_BAD_INPUT
    assessment = assess_pack(loaded.pack, load_rule_table(args.rule_table))
    status = EXIT_OK
    records = []
    for path in args.inputs:
        try:
            draft = _read_draft_or_text(path)
        except PackError as exc:
            for problem in exc.problems:
                _err(str(problem))
            status = EXIT_BAD_INPUT
            continue
        except UserError as exc:
            _err(str(exc))
            status = EXIT_BAD_INPUT
            continue
        if isinstance(draft, str):
            result = verify_markdown(loaded.pack, draft, assessment=assessment)
        else:
            result = verify(loaded.pack, draft, assessment=assessment)
        if args.json:
            records.append({"file": path, "pack": args.pack, **result.as_dict()})
        else:
            for finding in result.findings:
                print(f"{path}: {finding}")
            print(f"{path}: {result.summary()} against {args.pack}")
        if status in (EXIT_OK, EXIT_UNCHECKED) and result.exit_code:
            status = EXIT_CHECK_FAILED if result.exit_code == EXIT_CHECK_FAILED else EXIT_UNCHECKED
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return status


# --- draft ------------------------------------------------------------------------------------------

FORMATS = ("md", "json", "html", "jekyll", "fhir")  # drafter.assemble.OUTPUT_FORMATS, without importing it at start-up


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UserError(f"--format: expected a comma-separated list of {', '.join(FORMATS)}, found {text!r}")
    return formats


def _calls_text(calls: int, cached: int, tokens: int) -> str:
    """'from cache' when nothing was sent, else the calls and tokens paid for in this run."""
    if calls == 0 and cached:
        return "from cache"
    extra = f" ({cached} from cache)" if cached else ""
    return f"{calls} call(s){extra}, {tokens:,} tokens"


def _check_counts(args: argparse.Namespace) -> None:
    if args.max_indications < 1:
        raise UserError(f"--max-indications: expected 1 or more, found {args.max_indications}")
    if args.max_repairs < 0:
        raise UserError(f"--max-repairs: expected 0 or more, found {args.max_repairs}")


def _cmd_draft(args: argparse.Namespace) -> int:
    """``drafter draft``: the batch machinery, one pack at a time, without manifests or a summary.

    So a draft gets what a batch gets: inputs that are never overwritten, one pack id per report,
    writable outputs checked before any call, reports written whole or not at all, and a pack whose
    call fails is one line while the others go on.
    """
    from drafter.batch import adraft_batch

    formats = _parse_formats(args.format)
    report_date = _parse_date(args.date)
    _check_counts(args)
    out_dir = Path(args.out)
    finished: list[object] = []

    def show(outcome: object, done: int, total: int, usage: object) -> None:  # noqa: ARG001
        finished.append(outcome)
        o = outcome  # a PackOutcome
        label = o.pack  # type: ignore[attr-defined]
        if o.status in ("bad_input", "failed"):  # type: ignore[attr-defined]
            message = o.message.removeprefix(f"{label}: ")  # type: ignore[attr-defined]
            verb = "drafting failed" if o.status == "failed" else "refused"  # type: ignore[attr-defined]
            _err(f"{label}: {verb}: {message}")
            return
        if o.status == "planned":  # type: ignore[attr-defined]
            print(f"{label}: would make about {o.calls} call(s), ~{o.prompt_tokens:,} prompt + "  # type: ignore[attr-defined]
                  f"~{o.completion_tokens:,} completion tokens (dry run: nothing was called)")  # type: ignore[attr-defined]
            return
        calls = _calls_text(o.calls, o.cached_calls, o.prompt_tokens + o.completion_tokens)  # type: ignore[attr-defined]
        wrote = ", ".join(str(out_dir / name) for name in o.outputs)  # type: ignore[attr-defined]
        print(f"{label}: {o.status}; {calls}; wrote {wrote}")  # type: ignore[attr-defined]

    options = dict(model=args.model, concurrency=1, max_repairs=args.max_repairs,
                   max_indications=args.max_indications, formats=formats, prompts=args.prompts,
                   rules=args.rule_table, report_date=report_date, cache=None, dry_run=args.dry_run,
                   on_progress=show, resume=False, replayed_from=None if args.dry_run else args.replay)

    async def run() -> object:
        if args.dry_run:
            return await adraft_batch(args.packs, out_dir, client=None, **options)
        if args.replay:
            from drafter.replay import replaying

            with replaying(args.replay, asynchronous=True) as client:
                return await adraft_batch(args.packs, out_dir, client=client, **options)
        from drafter.llm import make_async_client

        return await adraft_batch(args.packs, out_dir, client=make_async_client(), **options)

    try:
        result = asyncio.run(run())
    except KeyboardInterrupt:
        _interrupted(finished)
        return 130
    outcomes = result.outcomes  # type: ignore[attr-defined]
    if not outcomes:
        _err("draft: no pack matched the inputs (check the paths)")
        return EXIT_BAD_INPUT
    if any(o.status == "bad_input" or "no recorded response" in o.message for o in outcomes):
        return EXIT_BAD_INPUT
    return EXIT_CHECK_FAILED if any(o.status in ("withheld", "failed") for o in outcomes) else EXIT_OK


def _interrupted(finished: Sequence[object], summary: Path | None = None) -> None:
    """What Ctrl-C leaves: how many packs finished, with which statuses, and where they are recorded."""
    counts: dict[str, int] = {}
    for outcome in finished:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1  # type: ignore[attr-defined]
    statuses = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
    where = f"; summary: {summary}" if summary is not None else ""
    _err(f"interrupted: {len(finished)} pack(s) finished ({statuses}){where}; a rerun skips what is done")


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--date: expected YYYY-MM-DD, found {text!r}") from None


# --- batch ------------------------------------------------------------------------------------------


def _cmd_batch(args: argparse.Namespace) -> int:
    from drafter.batch import adraft_batch, estimate_cost, parse_shard
    from drafter.llm import make_async_client, resolve_model
    from drafter.progress import BatchProgress, summary_lines, summary_table

    formats = _parse_formats(args.format)
    shard = parse_shard(args.shard) if args.shard else None
    if args.concurrency < 1:
        raise UserError(f"--concurrency: expected 1 or more, found {args.concurrency}")
    _check_counts(args)
    out_dir = Path(args.out)
    if args.openai_batch and not args.dry_run:
        return _openai_batch(args, formats, shard, out_dir)
    cache = None if args.no_cache or args.dry_run else Path(args.cache) if args.cache else out_dir / ".cache"
    progress = BatchProgress(resolve_model(args.model), replayed=bool(args.replay))
    options = dict(model=args.model, concurrency=args.concurrency, max_repairs=args.max_repairs,
                   max_indications=args.max_indications, formats=formats, prompts=args.prompts,
                   rules=args.rule_table, report_date=_parse_date(args.date), cache=cache, limit=args.limit,
                   shard=shard, dry_run=args.dry_run, on_progress=progress.update, on_start=progress.start,
                   retry_withheld=args.retry_withheld, force=args.force, replayed_from=None if args.dry_run else args.replay)

    async def run() -> object:
        if args.dry_run:
            return await adraft_batch(args.inputs, out_dir, client=None, **options)
        if args.replay:
            from drafter.replay import replaying

            with replaying(args.replay, asynchronous=True) as client:
                return await adraft_batch(args.inputs, out_dir, client=client, **options)
        return await adraft_batch(args.inputs, out_dir, client=make_async_client(), **options)

    try:
        with progress:
            result = asyncio.run(run())
    except KeyboardInterrupt:
        _interrupted(progress.finished, None if args.dry_run else out_dir / "summary.jsonl")
        return 130
    if args.openai_batch:  # a dry run: the same requests, at the Batch API's price
        usage = result.usage  # type: ignore[attr-defined]
        result.cost = estimate_cost(result.model, usage.prompt_tokens, usage.completion_tokens,  # type: ignore[attr-defined]
                                    batch_api=True)
    progress.console.print(summary_table(result, dry_run=args.dry_run))  # type: ignore[arg-type]
    for line in summary_lines(result, dry_run=args.dry_run, replayed=args.replay):  # type: ignore[arg-type]
        progress.console.print(line, highlight=False, soft_wrap=True)
    if not args.dry_run:
        progress.console.print(f"summary: {out_dir / 'summary.jsonl'}", highlight=False, soft_wrap=True)
    if not result.outcomes:  # type: ignore[attr-defined]
        _err("batch: no pack matched the inputs (check the paths, --shard and --limit)")
        return EXIT_BAD_INPUT
    return int(result.exit_code)  # type: ignore[attr-defined]


@contextlib.contextmanager
def _batch_api_client(replay: str | None) -> Iterator[openai.OpenAI]:
    """A client from the environment, or one replaying a cassette in order (a polled batch repeats requests)."""
    if replay is None:
        yield make_client()
        return
    from drafter.replay import replaying

    with replaying(replay, repeats=False) as client:
        yield client


def _openai_batch(args: argparse.Namespace, formats: Sequence[str], shard: tuple[int, int] | None,
                  out_dir: Path) -> int:
    """``drafter batch --openai-batch``: the same drafting through the OpenAI Batch API; resumable."""
    from drafter.llm import resolve_model
    from drafter.openai_batch import EXIT_PENDING, BatchPending, OpenAIBatchError, run_openai_batch, summary_lines
    from drafter.progress import BatchProgress, summary_table

    if args.cache:
        raise UserError("--cache: the response cache is not used with --openai-batch (the job's state file, "
                        "OUT/.openai-batch-state.json, is what makes a rerun pay nothing twice)")
    if args.poll_interval < 0 or args.max_wait < 0:
        raise UserError(f"--poll-interval and --max-wait: expected 0 or more seconds, found {args.poll_interval} "
                        f"and {args.max_wait}")
    progress = BatchProgress(resolve_model(args.model))

    def event(line: str) -> None:
        progress.console.print(line, highlight=False, soft_wrap=True)

    try:
        with progress, _batch_api_client(args.replay) as client:
            result = run_openai_batch(
                args.inputs, out_dir, client=client, model=args.model, max_repairs=args.max_repairs,
                max_indications=args.max_indications, formats=formats, prompts=args.prompts, rules=args.rule_table,
                report_date=_parse_date(args.date), limit=args.limit, shard=shard,
                poll_interval=0.0 if args.replay else args.poll_interval,  # a cassette has nothing to wait for
                max_wait=args.max_wait, on_start=progress.start, on_progress=progress.update, on_event=event,
                retry_withheld=args.retry_withheld, force=args.force)
    except BatchPending as exc:
        _err(str(exc))
        return EXIT_PENDING
    except OpenAIBatchError as exc:
        _err(str(exc))
        return EXIT_CHECK_FAILED
    progress.console.print(summary_table(result))
    for line in summary_lines(result):
        progress.console.print(line, highlight=False, soft_wrap=True)
    progress.console.print(f"summary: {out_dir / 'summary.jsonl'}", highlight=False, soft_wrap=True)
    if not result.outcomes:
        _err("batch: no pack matched the inputs (check the paths, --shard and --limit)")
        return EXIT_BAD_INPUT
    return result.exit_code


# --- entry point ------------------------------------------------------------------------------------


def _version() -> str:
    from importlib import metadata

    import drafter

    try:
        return f"drafter {metadata.version(DISTRIBUTION)}"
    except metadata.PackageNotFoundError:
        return f"drafter {drafter.__version__}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drafter", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log lines (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="only errors on the log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="validate packs (drafter or TxGNN format); exit 2 if any is bad")
    p.add_argument("packs", nargs="+", metavar="PACK")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("rules", help="print the computed evidence table of each pack")
    p.add_argument("packs", nargs="+", metavar="PACK")
    p.add_argument("--rule-table", metavar="FILE", help="a replacement rule table (JSON); default: TxGNN's")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_rules)

    p = sub.add_parser("draft", help="draft, verify and assemble reports (exit 1 if any section is withheld)")
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack files, directories or globs")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, metavar="DIR")
    p.add_argument("--dry-run", action="store_true", help="count calls and estimate tokens; call nothing")
    p.add_argument("--format", default="md,json,html", help="comma-separated: md, json, html, jekyll, fhir (default: md,json,html)")
    p.add_argument("--replay", metavar="CASSETTE", help="serve model responses from a recorded cassette (no key needed)")
    p.add_argument("--model", help=f"model name (default: ${MODEL_ENV} or {DEFAULT_MODEL})")
    p.add_argument("--max-repairs", type=int, default=2, metavar="N")
    p.add_argument("--max-indications", type=int, default=DEFAULT_MAX_INDICATIONS, metavar="N",
                   help="drafted indications per report: the top-ranked one and further ones with evidence")
    p.add_argument("--prompts", metavar="DIR", help="a folder of prompt templates replacing the shipped ones")
    p.add_argument("--rule-table", metavar="FILE", help="a replacement rule table (JSON); default: TxGNN's")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the report's date (default: today)")
    p.set_defaults(func=_cmd_draft)

    p = sub.add_parser("batch", help="draft many packs concurrently, resumably, with a cache and a summary")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="pack files, directories or globs")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, metavar="DIR")
    p.add_argument("--retry-withheld", action="store_true",
                   help="draft again the packs an earlier run withheld or failed (a rerun otherwise keeps them)")
    p.add_argument("--force", action="store_true", help="draft every pack again, even those up to date")
    p.add_argument("--concurrency", type=int, default=8, metavar="N", help="model calls in flight (default 8)")
    p.add_argument("--limit", type=int, metavar="N", help="draft at most N packs")
    p.add_argument("--shard", metavar="I/N", help="draft only shard I of N (deterministic by path)")
    p.add_argument("--dry-run", action="store_true", help="count calls and estimate tokens and cost; call nothing")
    p.add_argument("--replay", metavar="CASSETTE", help="serve model responses from a recorded cassette")
    p.add_argument("--cache", metavar="DIR", help="response cache (default: OUT/.cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--format", default="md,json,html", help="comma-separated: md, json, html, jekyll, fhir (default: md,json,html)")
    p.add_argument("--model", help=f"model name (default: ${MODEL_ENV} or {DEFAULT_MODEL})")
    p.add_argument("--max-repairs", type=int, default=2, metavar="N")
    p.add_argument("--max-indications", type=int, default=DEFAULT_MAX_INDICATIONS, metavar="N")
    p.add_argument("--prompts", metavar="DIR")
    p.add_argument("--rule-table", metavar="FILE")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the reports' date (default: today)")
    p.add_argument("--openai-batch", action="store_true",
                   help="draft through the OpenAI Batch API (discounted, answers within 24 h); resumable: a rerun "
                   "picks up the batches saved in OUT/.openai-batch-state.json")
    p.add_argument("--poll-interval", type=float, default=30.0, metavar="SECONDS",
                   help="with --openai-batch: first wait between status checks, backing off to 10 min (default 30)")
    p.add_argument("--max-wait", type=float, default=26 * 3600.0, metavar="SECONDS",
                   help="with --openai-batch: stop waiting after this long and exit 75, leaving the batches to a "
                   "rerun (default 26 h; 0 submits and exits)")
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("merge", help="merge the summaries of sharded batch runs (--shard I/N) into one; "
                       "exit 1 if any pack was withheld, failed or bad")
    p.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="the --out folder of each shard")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, metavar="DIR",
                   help="folder for the merged summary.jsonl (not one of the shards)")
    p.set_defaults(func=_cmd_merge)

    p = sub.add_parser("verify", help="check drafted sections (JSON) or any report (Markdown/text) against a pack; "
                       "exit 1 if errors")
    p.add_argument("--pack", required=True, metavar="PACK")
    p.add_argument("inputs", nargs="+", metavar="DRAFT.json|REPORT.md")
    p.add_argument("--rule-table", metavar="FILE", help="a replacement rule table (JSON); default: TxGNN's")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("schema", help="write the JSON Schemas generated from the models")
    p.add_argument("--out-dir", metavar="DIR", help="default: the project's schemas/ folder")
    p.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("import-txgnn", help="convert a TxGNN v4 pack to drafter's format")
    p.add_argument("input", metavar="IN.json")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json", help="'-' for stdout")
    p.add_argument("--country", metavar="CC", help="ISO 3166-1 alpha-2 code, when the candidate id's prefix is wrong")
    p.set_defaults(func=_cmd_import_txgnn)
    return parser


class _Redacting(logging.Filter):
    """Every log line goes through :func:`drafter.errors.redact` (a server may echo a key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(verbose: int, quiet: int) -> None:
    """The ``drafter`` loggers on stderr: warnings by default, -v info, -vv debug, -q errors only."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logger = logging.getLogger("drafter")
    for handler in list(logger.handlers):
        if getattr(handler, "_drafter", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._drafter = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(_Redacting())
    logger.addHandler(handler)
    logger.setLevel(max(logging.DEBUG, min(logging.CRITICAL, level)))
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args))
    except UserError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        # `drafter ... | head`: the reader went away; say nothing more and exit as a killed pipe writer.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
