#!/usr/bin/env python3
"""Benchmark: `drafter batch` throughput, resumption and memory, against the scripted OpenAI server.

Every batch runs as `drafter batch ...` in a child interpreter (this script re-invoked with --child),
so its wall time, CPU time and peak memory are its own; the scripted server (tests/llm_server) runs
in this process on 127.0.0.1 and stops itself. Prints figures with their targets; asserts nothing.

0. bare: the openai SDK alone, 200 calls at concurrency 16 against the same server: the yardstick
   (target <= 1.1x ideal); also the TCP connections the server accepted (keep-alive: <= 16).
1. live: 200 packs at --concurrency 16, 300 ms latency per call; by default realistic drafts (copies
   of the example packs, each with its own drug name, answered with their recorded drafts renamed
   alike; --drafts trivial for the synthetic packs and one background statement per section). Wall
   time against the ideal (calls x latency / concurrency) and against the sequential design of the
   TxGNN pipelines with a 2 s pause between calls (computed, not run), packs/s, the process's CPU
   per pack, and the event-loop thread's CPU per pack by stage (see STAGES).
2. re-run: the same packs into the same output folder: calls made (target 0), wall time.
3. 10,000 small synthetic packs (generated once into a temp dir):
   a. --dry-run: peak memory (target <= 300 MB) and packs/s;
   b. served from the response cache: the cache is pre-filled by a run against the server with no
      latency, the server is closed, and the first 2,000 packs (--cached-packs) are drafted again
      into a NEW output folder with the same cache. Every call is answered from the cache (a call
      that was not would fail: nothing listens any more), and everything else runs as in a live
      batch. Peak memory, packs/s (target >= 300) and the loop's CPU by stage.
4. scaling (--only scaling): dry run and cache-served run at --scaling counts: wall and peak memory.

Peak memory is VmHWM from /proc/self/status at the end of the child (getrusage's ru_maxrss survives
fork+exec, so it could report this process's peak). MB = 10**6 bytes.

    python benchmarks/bench_batch.py                      # parts 0-3, a few minutes on 2 cores
    python benchmarks/bench_batch.py --only live --drafts trivial
    python benchmarks/bench_batch.py --only scaling       # 1,000 and 10,000 packs
    python benchmarks/bench_batch.py --quick              # smoke run: small counts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from collections.abc import Sequence
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"
MB = 1_000_000
TXGNN_PAUSE = 2.0  # seconds between calls in the TxGNN pipelines' sequential design

TARGET_IDEAL_RATIO = 1.15  # issue 11
TARGET_SPEEDUP = 20.0
TARGET_RERUN_CALLS = 0
TARGET_RSS_MB = 300.0


# --- the child: one `drafter batch` run, measured ---------------------------------------------------------


def vmhwm_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


# The stages whose CPU time on the event-loop thread (the main thread) the child accounts for. Each is
# timed exclusively (a stage called inside another is taken out of the outer one's figure), and only
# when it runs on the main thread: work moved to a worker thread no longer delays the loop, so it no
# longer counts here. Whatever the loop thread spends outside these (the SDK, httpx, asyncio, the
# progress lines) is "other".
STAGES: tuple[tuple[str, str, str], ...] = (
    ("drafter.batch", "read_pack", "load + validate"),
    ("drafter.batch", "assess_pack", "rules"),
    ("drafter.drafting", "RepairLoop.__init__", "prompt + schema + verifier index"),
    ("drafter.drafting", "RepairLoop.consume", "parse + verify"),
    ("drafter.batch", "assemble", "assemble"),
    ("drafter.cache", "ResponseCache.get", "cache read"),
    ("drafter.cache", "ResponseCache.put", "cache write"),
    ("drafter.cache", "request_key", "request key"),
    ("drafter.llm", "request_key", "request key"),
    ("drafter.llm", "parse_completion", "reply parse"),
    ("drafter.fsio", "_write_temp", "file writes"),
    ("drafter.progress", "BatchProgress.update", "progress line"),
    ("drafter.batch", "SummaryWriter.add", "summary line"),
)


def instrument_stages() -> dict[str, float]:
    """Wrap the STAGES so each adds its exclusive main-thread CPU seconds to the returned dict."""
    import importlib
    import threading

    main_thread = threading.main_thread()
    totals: dict[str, float] = {label: 0.0 for _, _, label in STAGES}
    stack: list[float] = []  # CPU seconds spent in nested stages, per open stage

    def wrap(function: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not main_thread:
                return function(*args, **kwargs)
            started = time.thread_time()
            stack.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                inner = stack.pop()
                spent = time.thread_time() - started
                totals[label] += spent - inner
                if stack:
                    stack[-1] += spent

        return timed

    for module_name, qualname, label in STAGES:
        owner: Any = importlib.import_module(module_name)
        *path, name = qualname.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if hasattr(owner, name):  # a stage the code under test does not have is simply not timed
            setattr(owner, name, wrap(getattr(owner, name), label))
    return totals


def child(argv: list[str], result_path: Path, log_path: Path) -> None:
    started = time.monotonic()
    from drafter.cli import main  # imports drafter, openai, pydantic, rich

    stages = instrument_stages()
    imported = time.monotonic()
    loop_cpu_before = time.thread_time()
    with open(log_path, "w", encoding="utf-8") as log:
        saved, sys.stdout = sys.stdout, log  # the progress lines and the summary go to the log
        try:
            code = main(argv)
        finally:
            sys.stdout = saved
    ended = time.monotonic()
    loop_cpu = time.thread_time() - loop_cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result_path.write_text(json.dumps({
        "code": code, "seconds": ended - imported, "import_seconds": imported - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime, "vmhwm": vmhwm_bytes(),
        "loop_cpu_seconds": loop_cpu, "stages": stages,
    }), encoding="utf-8")


def bare_child(spec_path: Path, result_path: Path) -> None:
    """The SDK alone: ``calls`` chat calls at ``concurrency`` against the server, no drafter work at all.

    The yardstick for the live run: whatever this misses of the ideal is the server's and the SDK's,
    not drafter's. The body is a real drafting request (prompt and response schema), sent as is.
    """
    import asyncio

    import openai

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    body, calls, concurrency = spec["body"], spec["calls"], spec["concurrency"]

    async def run() -> float:
        client = openai.AsyncOpenAI(base_url=spec["base_url"], api_key="bench-key", max_retries=0, timeout=60)
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                reply = await client.chat.completions.create(**body)
                assert reply.choices[0].message.content

        begun = time.monotonic()
        await asyncio.gather(*(one() for _ in range(calls)))
        elapsed = time.monotonic() - begun
        await client.close()
        return elapsed

    cpu_before = time.thread_time()
    seconds = asyncio.run(run())
    result_path.write_text(json.dumps({"seconds": seconds, "loop_cpu_seconds": time.thread_time() - cpu_before}),
                           encoding="utf-8")


# --- the parent -------------------------------------------------------------------------------------------


class Run:
    """A finished child run: its measurements, its log and its summary.jsonl (when it wrote one)."""

    def __init__(self, data: dict[str, Any], wall: float, log: str, out: Path) -> None:
        self.code: int = data["code"]
        self.seconds: float = data["seconds"]
        self.import_seconds: float = data["import_seconds"]
        self.cpu_seconds: float = data["cpu_seconds"]
        self.rss_mb: float = data["vmhwm"] / MB
        self.loop_cpu_seconds: float = data.get("loop_cpu_seconds", 0.0)
        self.stages: dict[str, float] = data.get("stages", {})
        self.process_wall = wall
        self.log = log
        summary = out / "summary.jsonl"
        text = summary.read_text(encoding="utf-8") if summary.exists() else ""
        self.lines = [json.loads(line) for line in text.splitlines()]

    @property
    def statuses(self) -> Counter[str]:
        return Counter(line["status"] for line in self.lines)

    def total(self, key: str) -> int:
        return sum(int(line[key]) for line in self.lines)


def run_batch(args: list[str], *, base_url: str, work: Path, name: str, out: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k not in ("DRAFTER_MODEL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="bench-key")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result_path, log_path = work / f"{name}.result.json", work / f"{name}.log"
    argv = ["batch", *args, "--out", str(out), "--model", MODEL, "--date", DATE]
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(argv),
                           str(result_path), str(log_path)], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=7200)
    wall = time.monotonic() - started
    if proc.returncode != 0 or not result_path.exists():
        sys.exit(f"{name}: the batch child failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return Run(json.loads(result_path.read_text(encoding="utf-8")), wall, log_path.read_text(encoding="utf-8"), out)


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def row(label: str, value: str, extra: str = "") -> None:
    print(f"  {label:<38} {value:>13}  {extra}".rstrip())


def rss_row(run: Run) -> None:
    ratio = run.rss_mb / TARGET_RSS_MB
    row("peak memory (VmHWM)", f"{run.rss_mb:.1f} MB",
        f"target <= {TARGET_RSS_MB:.0f} MB  ratio {ratio:.2f}  {verdict(ratio <= 1)}")


# --- realistic drafts: the example packs and the answers recorded for them --------------------------------

_DRUG_ID = re.compile(r"\(DB[0-9]{5}\)")
TARGET_BARE_RATIO = 1.1


def _neutral(text: str) -> str:
    """A prompt with the drug's DrugBank id blanked: the one thing a benchmark copy changes in it."""
    return _DRUG_ID.sub("(DB-----)", text, count=1)


def realistic_library() -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """The example packs whose recorded answer (cassettes/examples.yaml) is the answer to today's prompt.

    Returns those packs (as JSON dicts), the answers by neutralised user prompt, and one recorded
    request body (for the bare-client run). A pack whose prompt no longer matches its recording
    (prompts or rules changed since) is left out and named, so the drafts stay real, verifying ones.
    """
    import yaml

    from drafter.drafting import select_indications
    from drafter.pack import read_pack
    from drafter.prompts import IndicationEntry, load_prompts, report_messages
    from drafter.rules import assess_pack, load_rule_table

    recorded: dict[str, str] = {}
    bodies: dict[str, dict[str, Any]] = {}
    cassette = yaml.safe_load((REPO_ROOT / "cassettes" / "examples.yaml").read_text(encoding="utf-8"))
    for interaction in cassette["interactions"]:
        request = json.loads(interaction["request"]["body"])
        answer = json.loads(interaction["response"]["body"]["string"])["choices"][0]["message"]["content"]
        recorded[_neutral(request["messages"][1]["content"])] = answer
        bodies[_neutral(request["messages"][1]["content"])] = request
    templates, table = load_prompts(None), load_rule_table(None)
    packs, answers = [], {}
    for path in sorted((REPO_ROOT / "examples" / "packs").glob("*.json")):
        pack = read_pack(path).pack
        assessment = assess_pack(pack, table)
        ranks = select_indications(pack)
        entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications() if i.rank in ranks]
        prompt = _neutral(report_messages(templates, pack, entries)[1]["content"])
        if prompt in recorded:
            packs.append(json.loads(path.read_text(encoding="utf-8")))
            answers[prompt] = recorded[prompt]
        else:
            print(f"  (left out of the realistic drafts: {path.name}, its recorded answer is for another prompt)")
    if not packs:
        sys.exit("no example pack matches its recorded answer: re-record cassettes/examples.yaml")
    return packs, answers, bodies[next(iter(answers))]


_TAG = "zq"  # renamed drugs are '<inn>zq<three letters>': made-up names no vocabulary knows


def _tag(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return _TAG + letters[n // 676 % 26] + letters[n // 26 % 26] + letters[n % 26]


def _rename(text: str, inn: str, renamed: str) -> str:
    return text.replace(inn, renamed).replace(inn.capitalize(), renamed.capitalize())


def _prompt(pack: Any) -> str:
    """The user prompt drafter sends for a pack (default prompts, rules and settings)."""
    from drafter.drafting import select_indications
    from drafter.prompts import IndicationEntry, load_prompts, report_messages
    from drafter.rules import assess_pack, load_rule_table

    assessment = assess_pack(pack, load_rule_table(None))
    ranks = select_indications(pack)
    entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications() if i.rank in ranks]
    return report_messages(load_prompts(None), pack, entries)[1]["content"]  # type: ignore[no-any-return]


def write_realistic_packs(directory: Path, count: int, library: Sequence[dict[str, Any]],
                          answers: dict[str, str]) -> dict[str, str]:
    """``count`` copies of the library's packs, each with its own pack id and its own drug name; returns
    the answer to each copy's prompt.

    The drug is renamed in the whole pack (``baclofen`` -> ``baclofenzqaab``) and in the recorded
    draft the same way, so every quote is still verbatim and the draft still verifies; but each
    copy's prompt, cache entry and draft text are its own, so no cache in the verifier (its
    extractors memoise by statement text) serves one copy from another's work. Statements that
    never name the drug still repeat every ``len(library)`` packs.
    """
    from drafter.pack import load_pack

    directory.mkdir(parents=True, exist_ok=True)
    by_prompt: dict[str, str] = {}
    originals = {id(p): answers[_neutral(_prompt(load_pack(p)))] for p in library}
    for n in range(count):
        source = library[n % len(library)]
        inn = source["drug"]["inn"]
        renamed = inn + _tag(n // len(library))
        data = json.loads(_rename(json.dumps(source), inn, renamed))
        data["meta"]["pack_id"] = f"bench-{n + 1:05d}-{source['meta']['pack_id']}"
        (directory / f"{data['meta']['pack_id']}.json").write_text(json.dumps(data), encoding="utf-8")
        by_prompt[_prompt(load_pack(data))] = _rename(originals[id(source)], inn, renamed)
    return by_prompt


def realistic_step(answers: dict[str, str]) -> dict[str, Any]:
    """A server step answering each copy with its draft (see write_realistic_packs); any other prompt
    of the library (the bare client's) with its recorded draft."""
    from tests.llm_server import completion_step
    from tests.llm_server.auto import user_text

    def respond(request_json: dict[str, Any]) -> dict[str, Any]:
        text = user_text(request_json)
        answer = answers.get(text) or answers[_neutral(text)]
        return completion_step(answer)["respond"](request_json)  # type: ignore[no-any-return]

    return {"respond": respond}


def run_bare(server: Any, body: dict[str, Any], calls: int, concurrency: int, work: Path) -> dict[str, Any]:
    spec, result = work / "bare.spec.json", work / "bare.result.json"
    spec.write_text(json.dumps({"body": body, "calls": calls, "concurrency": concurrency,
                                "base_url": server.base_url}), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--bare-child", str(spec), str(result)],
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        sys.exit(f"bare client failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(result.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def stage_rows(run: Run, packs: int) -> None:
    """The event-loop thread's CPU per pack, by stage (see STAGES): what keeps replies waiting."""
    loop_ms = 1000 * run.loop_cpu_seconds / packs
    row("event-loop thread CPU", f"{loop_ms:.1f} ms/pack",
        f"(of {1000 * run.cpu_seconds / packs:.1f} ms/pack for the process; target <= {TARGET_LOOP_MS:.0f} ms  "
        f"{verdict(loop_ms <= TARGET_LOOP_MS)})")
    staged = 0.0
    for label, seconds in sorted(run.stages.items(), key=lambda kv: -kv[1]):
        staged += seconds
        if seconds * 1000 / packs >= 0.05:
            row(f"  {label}", f"{1000 * seconds / packs:.2f} ms")
    row("  other (SDK, httpx, asyncio, thread hand-offs)", f"{1000 * (run.loop_cpu_seconds - staged) / packs:.2f} ms")


PARTS = ("bare", "live", "rerun", "dry", "cached", "scaling")
TARGET_LOOP_MS = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live-packs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--drafts", choices=("realistic", "trivial"), default="realistic",
                        help="live run: copies of the example packs with their recorded drafts (default), or the "
                             "synthetic packs with one background statement per section")
    parser.add_argument("--packs", type=int, default=10_000, help="packs for the dry run (default 10,000)")
    parser.add_argument("--cached-packs", type=int, default=2_000,
                        help="packs for the pre-fill and the cache-served run (default 2,000; 10000 for the full run)")
    parser.add_argument("--scaling", default="1000,10000",
                        help="pack counts of the scaling part (dry run and cache-served; default 1000,10000)")
    parser.add_argument("--scaling-cached-max", type=int, default=10_000,
                        help="scaling: above this pack count, run the dry run only (the cache-served run of 10,000 "
                             "packs takes about 10 minutes on 2 cores)")
    parser.add_argument("--only", default="bare,live,rerun,dry,cached",
                        help=f"comma-separated parts to run, of {','.join(PARTS)} (default all but scaling)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 live packs, 500 for the rest")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if unknown := parts - set(PARTS):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; expected some of {', '.join(PARTS)}")
    if args.quick:
        args.live_packs, args.packs, args.cached_packs, args.scaling = 40, 500, 500, "200,500"
    args.cached_packs = min(args.cached_packs, args.packs)

    sys.path.insert(0, str(REPO_ROOT))
    from tests.llm_server import ScriptedOpenAIServer, auto_draft_step
    from tests.synthetic_packs import write_packs

    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"bench_batch: Python {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.platform()}")
    print(f"work dir {work} (MB = 10^6 bytes; every batch is `drafter batch` in its own child process)")
    n, c, latency = args.live_packs, args.concurrency, args.latency
    try:
        library, answers, body = realistic_library()
        
        # ---- 0: the bare client: the SDK alone against the server -----------------------------------
        if "bare" in parts:
            with ScriptedOpenAIServer(default=realistic_step(answers), latency=latency, lifetime=900,
                                      max_requests=n + 100) as server:
                bare = run_bare(server, body, n, c, work)
                connects = server.connections_opened
            ideal = n * latency / c
            ratio = bare["seconds"] / ideal
            print()
            print(f"0. bare client: the openai SDK alone, {n} calls at concurrency {c}, {latency * 1000:.0f} ms per "
                  f"call, no drafter work (a {len(json.dumps(body)) / 1000:.0f} kB drafting request)")
            row("wall time", f"{bare['seconds']:.2f} s",
                f"ideal {ideal:.2f} s  ratio {ratio:.2f}x  target <= {TARGET_BARE_RATIO}x  "
                f"{verdict(ratio <= TARGET_BARE_RATIO)}")
            row("TCP connections opened", f"{connects}", f"for {n} calls (keep-alive: at most {c})")
            row("client CPU per call", f"{1000 * bare['loop_cpu_seconds'] / n:.1f} ms", "(SDK + httpx + asyncio)")

        # ---- 1 and 2: the live run and its re-run --------------------------------------------------
        if parts & {"live", "rerun"}:
            live_dir = work / "live_packs"
            live_step = auto_draft_step()
            if args.drafts == "realistic":
                live_step = realistic_step(write_realistic_packs(live_dir, n, library, answers))
                what = (f"copies of {len(library)} example pack(s) "
                        f"({', '.join(p['meta']['pack_id'] for p in library)}) answered with their recorded drafts")
            else:
                write_packs(live_dir, n)
                what = "synthetic packs answered with one background statement per section"
            with ScriptedOpenAIServer(default=live_step, latency=latency, lifetime=1800,
                                      max_requests=n * 3 + 100) as server:
                out, cache = work / "live_out", work / "live_cache"
                live = run_batch([str(live_dir), "--concurrency", str(c), "--cache", str(cache)],
                                 base_url=server.base_url, work=work, name="live", out=out)
                calls = server.chat_calls
                in_flight = server.max_in_flight
                connects = server.connections_opened
                if "rerun" in parts:
                    rerun = run_batch([str(live_dir), "--concurrency", str(c), "--cache", str(cache)],
                                      base_url=server.base_url, work=work, name="rerun", out=out)
                    rerun_calls = server.chat_calls - calls
            ideal = calls * latency / c
            sequential = calls * (latency + TXGNN_PAUSE)
            ratio = live.seconds / ideal
            speedup = sequential / live.seconds
            print()
            print(f"1. live: {n} packs, --concurrency {c}, {latency * 1000:.0f} ms injected latency per call; {what}")
            row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(live.statuses.items())))
            row("calls received by the server", f"{calls}", f"(failed and retried: {live.total('failed_calls')}; "
                f"most in flight at once: {in_flight}; TCP connections: {connects})")
            row("wall time of the batch", f"{live.seconds:.2f} s",
                f"(process: {live.process_wall:.2f} s, of which {live.import_seconds:.2f} s importing)")
            row("ideal: calls x latency / concurrency", f"{ideal:.2f} s",
                f"ratio {ratio:.2f}x  target <= {TARGET_IDEAL_RATIO}x  {verdict(ratio <= TARGET_IDEAL_RATIO)}")
            row("sequential, 2 s pause (computed)", f"{sequential:.1f} s",
                f"= {calls} x ({latency:.1f} + {TXGNN_PAUSE:.0f}) s; drafter is {speedup:.1f}x faster  "
                f"target >= {TARGET_SPEEDUP:.0f}x  {verdict(speedup >= TARGET_SPEEDUP)}")
            row("throughput", f"{n / live.seconds:.1f} packs/s",
                f"(ideal {c / latency:.1f} packs/s at one call per pack)")
            row("CPU time of the batch process", f"{live.cpu_seconds:.2f} s",
                f"= {1000 * live.cpu_seconds / n:.1f} ms per pack (all threads)")
            stage_rows(live, n)
            rss_row(live)
            if "rerun" in parts:
                print()
                print(f"2. re-run: the same {n} packs, same output folder and cache")
                row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(rerun.statuses.items())))
                row("calls made", f"{rerun_calls}",
                    f"target {TARGET_RERUN_CALLS}  {verdict(rerun_calls == TARGET_RERUN_CALLS)}")
                row("wall time of the batch", f"{rerun.seconds:.2f} s",
                    f"(process: {rerun.process_wall:.2f} s); {n / rerun.seconds:.0f} packs/s")

        # ---- 3: 10,000 small packs -----------------------------------------------------------------
        if parts & {"dry", "cached", "scaling"}:
            biggest = max([args.packs, *(int(x) for x in args.scaling.split(",") if "scaling" in parts)])
            big_dir = work / "packs"
            started = time.monotonic()
            write_packs(big_dir, biggest)
            size = sum(p.stat().st_size for p in big_dir.iterdir())
            print()
            print(f"3. {biggest:,} small synthetic packs ({size / biggest / 1000:.1f} kB each on average; written in "
                  f"{time.monotonic() - started:.1f} s)")
        if "dry" in parts:
            dry = dry_run(big_dir, args.packs, c, work, "dry")
            print(f"3a. --dry-run over {args.packs:,} packs")
            row("wall time of the batch", f"{dry.seconds:.2f} s", f"(process: {dry.process_wall:.2f} s)")
            row("throughput", f"{args.packs / dry.seconds:.0f} packs/s")
            rss_row(dry)
        if "cached" in parts:
            m = args.cached_packs
            fill, fill_calls, served = cache_served(big_dir, m, c, work, "big", ScriptedOpenAIServer, auto_draft_step)
            print(f"3b. pre-fill: the first {m:,} packs against the server with no latency (--cache DIR)")
            row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(fill.statuses.items())))
            row("calls received by the server", f"{fill_calls:,}")
            row("wall time of the batch", f"{fill.seconds:.2f} s", f"(process: {fill.process_wall:.2f} s)")
            row("throughput", f"{m / fill.seconds:.1f} packs/s",
                f"(CPU {1000 * fill.cpu_seconds / m:.1f} ms per pack in the batch process)")
            rss_row(fill)
            print(f"3c. served from the cache: the same {m:,} packs, a NEW output folder, the server closed")
            row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(served.statuses.items())))
            row("calls made / answered from cache", f"{served.total('calls')} / {served.total('cached_calls'):,}")
            row("wall time of the batch", f"{served.seconds:.2f} s", f"(process: {served.process_wall:.2f} s)")
            row("throughput", f"{m / served.seconds:.1f} packs/s",
                f"(CPU {1000 * served.cpu_seconds / m:.1f} ms per pack; target >= {TARGET_CACHED_RATE:.0f} packs/s  "
                f"{verdict(m / served.seconds >= TARGET_CACHED_RATE)})")
            stage_rows(served, m)
            rss_row(served)
        if "scaling" in parts:
            print()
            print("4. scaling: wall time and peak memory as the pack count grows (synthetic packs)")
            print(f"  {'packs':>7}  {'dry-run s':>9} {'MB':>7}   {'cache-served s':>14} {'packs/s':>8} {'MB':>7}")
            for count in (int(x) for x in args.scaling.split(",")):
                dry = dry_run(big_dir, count, c, work, f"dry{count}")
                if count > args.scaling_cached_max:
                    print(f"  {count:>7,}  {dry.seconds:>9.2f} {dry.rss_mb:>7.1f}   {'(not run)':>14}")
                    continue
                _, _, served = cache_served(big_dir, count, c, work, f"scale{count}", ScriptedOpenAIServer,
                                            auto_draft_step)
                print(f"  {count:>7,}  {dry.seconds:>9.2f} {dry.rss_mb:>7.1f}   {served.seconds:>14.2f} "
                      f"{count / served.seconds:>8.1f} {served.rss_mb:>7.1f}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


TARGET_CACHED_RATE = 300.0


def dry_run(packs: Path, count: int, concurrency: int, work: Path, name: str) -> Run:
    dry = run_batch([str(packs), "--limit", str(count), "--dry-run", "--concurrency", str(concurrency)],
                    base_url="http://127.0.0.1:9/v1", work=work, name=name, out=work / f"{name}_out")
    match = re.search(r"(\d+) pack\(s\) in ([\d.]+) s; (\d+) calls estimated", dry.log)
    if not match or int(match.group(1)) != count:
        sys.exit(f"{name}: the dry run did not plan {count} packs:\n{dry.log[-2000:]}")
    return dry


def cache_served(packs: Path, count: int, concurrency: int, work: Path, name: str, server_class: Any,
                 step: Any) -> tuple[Run, int, Run]:
    """Pre-fill a cache against a zero-latency server, close it, then draft the same packs from the cache."""
    cache = work / f"{name}_cache"
    with server_class(default=step(), latency=0.0, lifetime=3600, max_requests=count * 2 + 100) as server:
        base_url = server.base_url
        fill = run_batch([str(packs), "--limit", str(count), "--concurrency", str(concurrency), "--cache", str(cache)],
                         base_url=base_url, work=work, name=f"{name}_prefill", out=work / f"{name}_prefill_out")
        fill_calls = server.chat_calls
    assert not server.running
    served = run_batch([str(packs), "--limit", str(count), "--concurrency", str(concurrency), "--cache", str(cache)],
                       base_url=base_url, work=work, name=f"{name}_cached", out=work / f"{name}_cached_out")
    if served.total("calls") or served.total("cached_calls") != count:
        sys.exit(f"{name}: not every call was answered from the cache ({served.total('calls')} made)")
    return fill, fill_calls, served


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--bare-child":
        bare_child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
