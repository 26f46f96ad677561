#!/usr/bin/env python3
"""Benchmark: `drafter batch` throughput, resumption and memory, against the scripted OpenAI server.

Every batch runs as `drafter batch ...` in a child interpreter (this script re-invoked with --child),
so its wall time, CPU time and peak memory are its own; the scripted server (tests/llm_server) runs
in this process on 127.0.0.1 and stops itself. Prints figures with their targets; asserts nothing.

1. live: 200 synthetic packs at --concurrency 16, 300 ms latency per call. Wall time against the
   ideal (calls x latency / concurrency, target <= 1.25x) and against the sequential design of the
   TxGNN pipelines with a 2 s pause between calls (calls x (latency + 2 s), computed, not run;
   target >= 20x faster), packs/s.
2. re-run: the same 200 packs into the same output folder: calls made (target 0), wall time.
3. 10,000 small packs (generated once into a temp dir):
   a. --dry-run: peak memory (target <= 300 MB) and packs/s;
   b. served from the response cache: the cache is pre-filled by a run against the server with no
      latency, the server is closed, and the same packs are drafted again into a NEW output folder
      with the same cache. Every call is answered from the cache (a call that was not would fail:
      nothing listens any more), and everything else (load, validate, rules, prompts, schema,
      verify, assemble, atomic writes) runs as in a live batch. Peak memory and packs/s.
      By default this part uses the first 2,000 packs (--cached-packs) because, on 2 cores, the
      pre-fill and the cache-served run of 10,000 packs take about 7 and 5 minutes; --cached-packs
      10000 runs it in full.

Peak memory is VmHWM from /proc/self/status at the end of the child (getrusage's ru_maxrss survives
fork+exec, so it could report this process's peak). MB = 10**6 bytes.

    python benchmarks/bench_batch.py                      # a few minutes on 2 cores
    python benchmarks/bench_batch.py --cached-packs 10000 # the cache-served run at full size (~12 min)
    python benchmarks/bench_batch.py --quick              # smoke run: small counts, under a minute
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
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4.1-mini"
DATE = "2026-11-21"
MB = 1_000_000
TXGNN_PAUSE = 2.0  # seconds between calls in the TxGNN pipelines' sequential design

TARGET_IDEAL_RATIO = 1.25
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


def child(argv: list[str], result_path: Path, log_path: Path) -> None:
    started = time.monotonic()
    from drafter.cli import main  # imports drafter, openai, pydantic, rich

    imported = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        saved, sys.stdout = sys.stdout, log  # the progress lines and the summary go to the log
        try:
            code = main(argv)
        finally:
            sys.stdout = saved
    ended = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result_path.write_text(json.dumps({
        "code": code, "seconds": ended - imported, "import_seconds": imported - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime, "vmhwm": vmhwm_bytes(),
    }), encoding="utf-8")


# --- the parent -------------------------------------------------------------------------------------------


class Run:
    """A finished child run: its measurements, its log and its summary.jsonl (when it wrote one)."""

    def __init__(self, data: dict[str, Any], wall: float, log: str, out: Path) -> None:
        self.code: int = data["code"]
        self.seconds: float = data["seconds"]
        self.import_seconds: float = data["import_seconds"]
        self.cpu_seconds: float = data["cpu_seconds"]
        self.rss_mb: float = data["vmhwm"] / MB
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live-packs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--packs", type=int, default=10_000, help="packs for the dry run (default 10,000)")
    parser.add_argument("--cached-packs", type=int, default=2_000,
                        help="packs for the pre-fill and the cache-served run (default 2,000; 10000 for the full run)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 live packs, 500 for the rest")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    if args.quick:
        args.live_packs, args.packs, args.cached_packs = 40, 500, 500
    args.cached_packs = min(args.cached_packs, args.packs)

    sys.path.insert(0, str(REPO_ROOT))
    from tests.llm_server import ScriptedOpenAIServer, auto_draft_step
    from tests.synthetic_packs import write_packs

    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"bench_batch: Python {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.platform()}")
    print(f"work dir {work} (MB = 10^6 bytes; every batch is `drafter batch` in its own child process)")
    try:
        # ---- 1 and 2: the live run and its re-run --------------------------------------------------
        live_dir = work / "live_packs"
        write_packs(live_dir, args.live_packs)
        n, c, latency = args.live_packs, args.concurrency, args.latency
        with ScriptedOpenAIServer(default=auto_draft_step(), latency=latency, lifetime=900,
                                  max_requests=n * 3 + 100) as server:
            out, cache = work / "live_out", work / "live_cache"
            live = run_batch([str(live_dir), "--concurrency", str(c), "--cache", str(cache)],
                             base_url=server.base_url, work=work, name="live", out=out)
            calls = server.chat_calls
            in_flight = server.max_in_flight
            rerun = run_batch([str(live_dir), "--concurrency", str(c), "--cache", str(cache)],
                              base_url=server.base_url, work=work, name="rerun", out=out)
            rerun_calls = server.chat_calls - calls
        ideal = calls * latency / c
        sequential = calls * (latency + TXGNN_PAUSE)
        ratio = live.seconds / ideal
        speedup = sequential / live.seconds
        print()
        print(f"1. live: {n} packs, --concurrency {c}, {latency * 1000:.0f} ms injected latency per call")
        row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(live.statuses.items())))
        row("calls received by the server", f"{calls}", f"(failed and retried: {live.total('failed_calls')}; "
            f"most in flight at once: {in_flight})")
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
            f"= {1000 * live.cpu_seconds / n:.1f} ms per pack, one event-loop thread: at most "
            f"{n / live.cpu_seconds:.1f} packs/s")
        rss_row(live)
        print()
        print(f"2. re-run: the same {n} packs, same output folder and cache")
        row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(rerun.statuses.items())))
        row("calls made", f"{rerun_calls}",
            f"target {TARGET_RERUN_CALLS}  {verdict(rerun_calls == TARGET_RERUN_CALLS)}")
        row("wall time of the batch", f"{rerun.seconds:.2f} s",
            f"(process: {rerun.process_wall:.2f} s); {n / rerun.seconds:.0f} packs/s")

        # ---- 3: 10,000 small packs -----------------------------------------------------------------
        big_dir = work / "packs"
        started = time.monotonic()
        write_packs(big_dir, args.packs)
        size = sum(p.stat().st_size for p in big_dir.iterdir())
        print()
        print(f"3. {args.packs:,} small packs ({size / args.packs / 1000:.1f} kB each on average; written in "
              f"{time.monotonic() - started:.1f} s)")
        dry = run_batch([str(big_dir), "--dry-run", "--concurrency", str(c)], base_url="http://127.0.0.1:9/v1",
                        work=work, name="dry", out=work / "dry_out")
        match = re.search(r"(\d+) pack\(s\) in ([\d.]+) s; (\d+) calls estimated", dry.log)
        planned = int(match.group(1)) if match else -1
        print(f"3a. --dry-run over {args.packs:,} packs")
        row("packs planned", f"{planned:,}", f"(exit code {dry.code})")
        row("wall time of the batch", f"{dry.seconds:.2f} s", f"(process: {dry.process_wall:.2f} s)")
        row("throughput", f"{args.packs / dry.seconds:.0f} packs/s")
        rss_row(dry)

        m = args.cached_packs
        cache = work / "big_cache"
        with ScriptedOpenAIServer(default=auto_draft_step(), latency=0.0, lifetime=3600,
                                  max_requests=m * 2 + 100) as server:
            base_url = server.base_url
            fill = run_batch([str(big_dir), "--limit", str(m), "--concurrency", str(c), "--cache", str(cache)],
                             base_url=base_url, work=work, name="prefill", out=work / "prefill_out")
            fill_calls = server.chat_calls
        assert not server.running
        print(f"3b. pre-fill: the first {m:,} packs against the server with no latency (--cache DIR)")
        row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(fill.statuses.items())))
        row("calls received by the server", f"{fill_calls:,}")
        row("wall time of the batch", f"{fill.seconds:.2f} s", f"(process: {fill.process_wall:.2f} s)")
        row("throughput", f"{m / fill.seconds:.1f} packs/s",
            f"(CPU {1000 * fill.cpu_seconds / m:.1f} ms per pack in the batch process)")
        rss_row(fill)
        served = run_batch([str(big_dir), "--limit", str(m), "--concurrency", str(c), "--cache", str(cache)],
                           base_url=base_url, work=work, name="cached", out=work / "cached_out")
        print(f"3c. served from the cache: the same {m:,} packs, a NEW output folder, the server closed")
        row("outcomes", ", ".join(f"{v} {k}" for k, v in sorted(served.statuses.items())))
        row("calls made / answered from cache", f"{served.total('calls')} / {served.total('cached_calls'):,}")
        row("wall time of the batch", f"{served.seconds:.2f} s", f"(process: {served.process_wall:.2f} s)")
        row("throughput", f"{m / served.seconds:.1f} packs/s",
            f"(CPU {1000 * served.cpu_seconds / m:.1f} ms per pack)")
        rss_row(served)
        if m < args.packs:
            print(f"  note: run at {m:,} packs, not {args.packs:,}: at the rates above the pre-fill and this run "
                  f"would take about {fill.seconds * args.packs / m / 60:.0f} + "
                  f"{served.seconds * args.packs / m / 60:.0f} min at full size (--cached-packs {args.packs})")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
