#!/usr/bin/env python3
"""Benchmark: load + validate + rules for evidence packs read from JSON files on disk.

What one "pack" costs here is exactly what a batch run pays per pack before any drafting:

    loaded = drafter.pack.load.read_pack(path)      # read bytes, parse JSON, pydantic validation,
                                                    # unknown-field walk, consistency checks
    assessment = drafter.rules.assess_pack(loaded.pack)   # evidence levels, stages, ceilings

Two workloads:

1. synthetic: one large, valid, drafter-format pack (default 100 predicted indications x (50 articles
   + 20 trials), ~30 safety items, PubMed-sized abstracts), written once to a temp file and loaded
   --repeat times; reports the median.
2. example: --count copies of examples/packs/baclofen.json (else baclofen-uk.json, else a small pack
   built here), each in its own file with its own meta.pack_id, loaded one after another.

Each workload runs in a fresh child interpreter (this script re-invoked with --child-spec) so that
"max RSS" belongs to that workload alone and is not inflated by building the input files or by the
other workload. Inside the child, timed runs come first (tracemalloc off, since it slows allocation
several-fold), then max RSS is read, then one extra pass with tracemalloc on gives the traced peak.

Every result is sanity-checked (counts, ranks, expected evidence level of each indication, pack ids,
no loader warnings); a mismatch raises, so a broken loader cannot produce a good-looking number.
Timings are reported, never asserted.

Units: MB = 10**6 bytes (file sizes, throughput and memory alike).

Usage (from the repo root, with the project's virtualenv active):

    python benchmarks/bench_packs.py            # full run (~100x(50+20) x 5, 1,000 example packs)
    python benchmarks/bench_packs.py --quick    # smoke run with small sizes
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CANDIDATES = ("baclofen.json", "baclofen-uk.json")
MB = 1_000_000


class SanityError(RuntimeError):
    """The loader or the rules produced something other than what the input guarantees."""


# ------------------------------------------------------------------------------------------------
# memory helpers


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    On Linux this is VmHWM from /proc/self/status: getrusage's ru_maxrss survives fork+exec, so a
    child would report the parent's peak (the parent builds the big input file). Elsewhere it falls
    back to ru_maxrss (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


# ------------------------------------------------------------------------------------------------
# synthetic pack (built in the parent; plain JSON data, no drafter imports needed)

_DISEASES = (
    "Alcohol Use Disorder", "Nicotine Dependence", "Attention Deficit-Hyperactivity Disorder",
    "Neuropathic Pain", "Essential Tremor", "Restless Legs Syndrome", "Trigeminal Neuralgia",
    "Gastro-oesophageal Reflux Disease", "Cocaine Use Disorder", "Chronic Hiccups",
    "Migraine", "Tourette Syndrome", "Spinal Cord Injury", "Cerebral Palsy", "Dystonia",
    "Amyotrophic Lateral Sclerosis", "Multiple Sclerosis", "Fibromyalgia", "Insomnia",
    "Post-traumatic Stress Disorder", "Binge Eating Disorder", "Gambling Disorder",
    "Opioid Withdrawal", "Stiff Person Syndrome", "Tetanus",
)
_QUALIFIERS = ("", " in Adults", " in Children", " (Refractory)")
_JOURNALS = (
    "Brain Research", "Neuropsychopharmacology", "Addiction", "The Lancet Psychiatry",
    "Journal of Clinical Psychopharmacology", "Drug and Alcohol Dependence", "Pain",
    "Neurology", "European Journal of Pharmacology", "Psychopharmacology (Berl)",
    "BMJ Open", "Cochrane Database of Systematic Reviews", "Movement Disorders",
)
_SURNAMES = (
    "Smith", "Garcia", "Chen", "Müller", "Rossi", "Kowalski", "Nakamura", "Olsen", "Dubois",
    "Patel", "Kim", "Silva", "Novak", "Andersson", "O'Brien", "Hernández", "Lindqvist", "Tanaka",
)
_WORDS = (
    "baclofen", "patients", "placebo", "randomised", "dose", "reduction", "outcome", "primary",
    "secondary", "weeks", "significant", "receptor", "GABA-B", "treatment", "adverse", "events",
    "tolerability", "efficacy", "cohort", "craving", "withdrawal", "relapse", "symptoms", "score",
    "baseline", "follow-up", "mg/day", "titration", "sedation", "participants", "trial", "analysis",
    "confidence", "interval", "hazard", "ratio", "model", "association", "clinical", "response",
)
# PubMed publication types, grouped by whether the rules count them as human evidence (L3) or not.
_HUMAN_PUB_TYPES = (
    ["Randomized Controlled Trial", "Journal Article"],
    ["Meta-Analysis", "Systematic Review"],
    ["Observational Study", "Journal Article"],
    ["Case Reports"],
    ["Clinical Trial, Phase II", "Journal Article"],
    ["Multicenter Study", "Randomized Controlled Trial"],
)
_OTHER_PUB_TYPES = (
    ["Review"],
    ["Journal Article", "Research Support, Non-U.S. Gov't"],
    ["Animal model (preclinical)"],
    ["Practice Guideline"],
    ["Comparative Study", "Journal Article"],
    [],
)
# Evidence profile per indication (cycled) and the level the packaged rule table must give it.
_PROFILES = ("L1", "L2", "L3", "L3", "L4")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 24))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _abstract(rng: random.Random) -> str:
    text = "BACKGROUND: "
    while len(text) < rng.randint(1000, 1600):
        text += _sentence(rng) + " "
    return text.strip()


def _authors(rng: random.Random) -> list[str]:
    return [f"{rng.choice(_SURNAMES)} {chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
            for _ in range(rng.randint(1, 8))]


def _article(rng: random.Random, pmid: int, human_allowed: bool) -> dict[str, Any]:
    pub_types = rng.choice(_HUMAN_PUB_TYPES + _OTHER_PUB_TYPES if human_allowed else _OTHER_PUB_TYPES)
    article: dict[str, Any] = {
        "pmid": str(pmid),
        "title": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14))).capitalize(),
        "authors": _authors(rng),
        "journal": rng.choice(_JOURNALS),
        "year": rng.randint(1985, 2025),
        "publication_types": list(pub_types),
        "abstract": _abstract(rng),
    }
    return article  # study_type omitted: the model derives it from publication_types, as for most packs


def _trial(rng: random.Random, nct: int, kind: str) -> dict[str, Any]:
    """kind: 'strong' (completed phase 3 RCT), 'phase2' (completed phase 2), 'any', 'weak', 'open'."""
    study_type = "interventional"
    randomised: bool | None = rng.choice([True, False, None])
    if kind == "strong":
        phase, status, randomised = "phase_3", "completed", True
    elif kind == "phase2":
        phase, status = "phase_2", "completed"
    elif kind == "any":
        phase = rng.choice(["phase_1", "phase_2", "phase_2_3", "phase_3", "phase_4", "not_applicable", "unknown"])
        status = rng.choice(["completed", "terminated", "recruiting", "active_not_recruiting", "withdrawn", "unknown"])
    elif kind == "weak":
        # nothing here reaches L1/L2, but completed phase 1 / terminated trials reach L3
        if rng.random() < 0.4:
            phase, status = rng.choice(["early_phase_1", "phase_1", "not_applicable"]), "completed"
            if phase == "not_applicable":
                study_type = "observational"
        else:
            phase = rng.choice(["phase_1", "phase_1_2", "phase_2", "phase_3"])
            status = rng.choice(["terminated", "recruiting", "active_not_recruiting", "withdrawn", "unknown"])
    elif kind == "open":
        # registered but not ended: only L4
        phase = rng.choice(["phase_1", "phase_2", "phase_2_3", "phase_3", "unknown"])
        status = rng.choice(["not_yet_recruiting", "recruiting", "enrolling_by_invitation",
                             "active_not_recruiting", "suspended", "withdrawn", "unknown"])
    else:
        raise ValueError(kind)
    start_year = rng.randint(2003, 2023)
    enrollment: int | None = 0 if status == "withdrawn" else rng.choice([None, rng.randint(8, 1200)])
    trial: dict[str, Any] = {
        "registry_id": f"NCT{nct:08d}",
        "title": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 12))).capitalize(),
        "phase": phase,
        "status": status,
        "study_type": study_type,
        "enrollment": enrollment,
        "start_date": f"{start_year}-{rng.randint(1, 12):02d}",
        "completion_date": f"{start_year + rng.randint(1, 4)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "summary": " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))),
        "design": {
            "randomised": randomised,
            "allocation": {True: "randomized", False: "non-randomized", None: None}[randomised],
            "masking": rng.choice(["none (open label)", "single", "double", "quadruple", None]),
        },
    }
    return trial


def _trial_kinds(profile: str, n: int) -> list[str]:
    if profile == "L1":
        head = ["strong"] * min(3, n)
        return head + ["any"] * (n - len(head))
    if profile == "L2":
        head = ["phase2"] * min(1, n)
        return head + ["weak"] * (n - len(head))
    if profile == "L3":
        return ["weak"] * n
    return ["open"] * n


def _safety(rng: random.Random) -> dict[str, Any]:
    src = "Summary of Product Characteristics, section 4"
    return {
        "warnings": [{"key": f"W{i}", "text": f"Warning {i}: " + _sentence(rng), "source": src} for i in range(1, 9)],
        "contraindications": [{"key": f"C{i}", "text": _sentence(rng), "source": src} for i in range(1, 6)],
        "interactions": [
            {"key": f"I{i}", "interacting": d, "severity": s, "text": _sentence(rng), "source": src}
            for i, (d, s) in enumerate([("Alcohol", "major"), ("Benzodiazepines", "major"), ("Opioids", "major"),
                                        ("Tricyclic antidepressants", "moderate"), ("Levodopa", "moderate"),
                                        ("Antihypertensives", "moderate"), ("Lithium", "minor")], start=1)
        ],
        "adverse_effects": [
            {"key": f"A{i}", "text": _sentence(rng), "frequency": rng.choice(["very common", "common", "uncommon", "rare"]),
             "source": src}
            for i in range(1, 7)
        ],
        "special_populations": [
            {"key": f"P{i}", "population": p, "text": _sentence(rng), "source": src}
            for i, p in enumerate(["pregnancy", "lactation", "renal_impairment", "elderly"], start=1)
        ],
    }


def build_synthetic(n_ind: int, n_art: int, n_tri: int, seed: int = 20250630) -> tuple[dict[str, Any], list[str]]:
    """A valid drafter-format pack and the evidence level each rank must get (rank order)."""
    rng = random.Random(seed)
    pmids = rng.sample(range(10_000_000, 40_000_000), n_ind * n_art)   # distinct 8-digit PMIDs
    ncts = rng.sample(range(100_000, 7_000_000), n_ind * n_tri)        # distinct NCT + 8 digits
    indications = []
    expected = []
    query_log = [{"source": "TxGNN", "query_date": "2025-06-30", "query": "drug=DB00181; top predictions",
                  "result_status": "success", "result_count": n_ind}]
    for i in range(n_ind):
        profile = _PROFILES[i % len(_PROFILES)]
        expected.append(profile)
        name = _DISEASES[i % len(_DISEASES)] + _QUALIFIERS[(i // len(_DISEASES)) % len(_QUALIFIERS)]
        if i >= len(_DISEASES) * len(_QUALIFIERS):
            name += f" #{i}"
        arts = [_article(rng, pmids[i * n_art + j], human_allowed=profile != "L4") for j in range(n_art)]
        tris = [_trial(rng, ncts[i * n_tri + j], kind) for j, kind in enumerate(_trial_kinds(profile, n_tri))]
        rng.shuffle(tris)
        indications.append({
            "rank": i + 1,
            "disease_name": name,
            "disease_ids": {"mondo": f"MONDO:{rng.randint(1, 999_999):07d}"},
            "score": round(0.999 - i * 0.0005, 4),
            "trials": tris,
            "articles": arts,
        })
        for source in ("ClinicalTrials.gov", "PubMed"):
            query_log.append({"source": source, "query_date": "2025-06-30",
                              "query": f"baclofen AND \"{name}\"", "result_status": "success",
                              "result_count": n_tri if source == "ClinicalTrials.gov" else n_art})
    pack = {
        "meta": {
            "pack_id": "synthetic-baclofen-bench",
            "schema_version": "1.0",
            "created": "2025-07-01",
            "data_cutoff": "2025-06-30",
            "generator": "benchmarks/bench_packs.py (synthetic)",
            "query_log": query_log,
            "data_gaps": [{"id": "G1", "category": "regulatory", "item": "Licence list not retrieved.",
                           "severity": "medium", "impact": "Licences cannot be counted."}],
        },
        "drug": {
            "inn": "baclofen",
            "drugbank_id": "DB00181",
            "synonyms": ["β-(4-chlorophenyl)-GABA"],
            "brand_names": ["Lioresal", "Gablofen", "Kemstro"],
            "original_indications": ["Muscle spasticity"],
            "mechanism_of_action": "GABA-B receptor agonist; " + _sentence(rng),
            "mechanism_source": "synthetic",
        },
        "jurisdiction": {"country": "GB", "market_status": "marketed", "total_licences": None, "licences": []},
        "safety": _safety(rng),
        "predicted_indications": indications,
    }
    return pack, expected


def build_tiny_pack() -> dict[str, Any]:
    """Fallback 'example-sized' pack when examples/packs has none: 2 indications x (10 articles + 3 trials)."""
    pack, _ = build_synthetic(2, 10, 3, seed=7)
    pack["meta"]["pack_id"] = "tiny-fallback"
    return pack


def write_json(path: Path, obj: Any) -> int:
    data = json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")
    path.write_bytes(data)
    return len(data)


# ------------------------------------------------------------------------------------------------
# child side: the measured work (drafter is imported only here)


def _signature(assessment: Any) -> list[tuple[Any, ...]]:
    return [(a.rank, a.level, a.stage, a.trial_count, a.article_count) for a in assessment.indications]


def child_synthetic(spec: dict[str, Any]) -> dict[str, Any]:
    from drafter.pack.load import DEFAULT_MAX_BYTES, read_pack
    from drafter.rules import assess_pack

    rss_after_import = max_rss_bytes()
    path = spec["path"]
    size = os.path.getsize(path)
    kwargs = {} if size <= DEFAULT_MAX_BYTES else {"max_bytes": size}
    expected_levels: list[str] = spec["expected_levels"]
    n_ind, n_art, n_tri = spec["n_ind"], spec["n_art"], spec["n_tri"]

    def check(loaded: Any, assessment: Any) -> None:
        if loaded.source_format != "drafter":
            raise SanityError(f"synthetic pack detected as {loaded.source_format!r}")
        if loaded.warnings:
            raise SanityError(f"synthetic pack gave {len(loaded.warnings)} warnings, e.g. {loaded.warnings[0]}")
        if loaded.pack.meta.pack_id != "synthetic-baclofen-bench":
            raise SanityError(f"wrong pack_id {loaded.pack.meta.pack_id!r}")
        n_safety = sum(1 for _ in loaded.pack.safety.items()) if loaded.pack.safety else 0
        if n_safety != 30:
            raise SanityError(f"expected 30 safety items, got {n_safety}")
        got = _signature(assessment)
        if len(got) != n_ind:
            raise SanityError(f"assessment has {len(got)} indications, expected {n_ind}")
        want = [(r + 1, lvl, "S3", n_tri, n_art) for r, lvl in enumerate(expected_levels)]
        if got != want:
            bad = next(g for g, w in zip(got, want, strict=True) if g != w)
            raise SanityError(f"assessment differs from the constructed evidence: got {bad}, expected "
                              f"{want[bad[0] - 1]} (rank, level, stage, trials, articles)")

    # warm-up on a small pack: rule table, country codes and other lazy caches are loaded once
    assess_pack(read_pack(spec["warmup"]).pack)

    load_times, rules_times, totals = [], [], []
    for _ in range(spec["repeat"]):
        gc.collect()
        t0 = time.perf_counter()
        loaded = read_pack(path, **kwargs)
        t1 = time.perf_counter()
        assessment = assess_pack(loaded.pack)
        t2 = time.perf_counter()
        check(loaded, assessment)
        load_times.append(t1 - t0)
        rules_times.append(t2 - t1)
        totals.append(t2 - t0)
        del loaded, assessment
    rss = max_rss_bytes()

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    loaded = read_pack(path, **kwargs)
    assessment = assess_pack(loaded.pack)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    check(loaded, assessment)
    return {"size": size, "totals": totals, "load": load_times, "rules": rules_times, "peak_traced": peak,
            "max_rss": rss, "rss_after_import": rss_after_import}


def child_examples(spec: dict[str, Any]) -> dict[str, Any]:
    from drafter.pack.load import read_pack
    from drafter.rules import assess_pack

    rss_after_import = max_rss_bytes()
    directory = Path(spec["dir"])
    paths = sorted(str(p) for p in directory.glob("*.json"))
    if len(paths) != spec["count"]:
        raise SanityError(f"expected {spec['count']} pack files in {directory}, found {len(paths)}")
    stems = [Path(p).stem for p in paths]  # each file is named after its meta.pack_id

    # warm-up and reference: the source pack itself
    ref_loaded = read_pack(spec["source"])
    ref_sig = _signature(assess_pack(ref_loaded.pack))
    ref_warnings = len(ref_loaded.warnings)
    if not ref_sig:
        raise SanityError("the example pack has no assessed indications")
    del ref_loaded

    def check(loaded: Any, assessment: Any, stem: str) -> None:
        if loaded.pack.meta.pack_id != stem:
            raise SanityError(f"{stem}.json loaded with pack_id {loaded.pack.meta.pack_id!r}")
        if len(loaded.warnings) != ref_warnings or _signature(assessment) != ref_sig:
            raise SanityError(f"{stem}.json assessed differently from its source pack")

    gc.collect()
    t0 = time.perf_counter()
    for path, stem in zip(paths, stems, strict=True):
        loaded = read_pack(path)
        assessment = assess_pack(loaded.pack)
        check(loaded, assessment, stem)   # a tuple comparison: microseconds next to the load
    elapsed = time.perf_counter() - t0
    del loaded, assessment
    rss = max_rss_bytes()

    gc.collect()
    tracemalloc.start()
    start_traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for path, stem in zip(paths, stems, strict=True):
        loaded = read_pack(path)
        assessment = assess_pack(loaded.pack)
        check(loaded, assessment, stem)
    del loaded, assessment
    gc.collect()
    end_traced, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"elapsed": elapsed, "peak_traced": peak, "traced_growth": end_traced - start_traced,
            "max_rss": rss, "rss_after_import": rss_after_import, "indications": len(ref_sig)}


def run_child(spec: dict[str, Any], spec_path: Path) -> dict[str, Any]:
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-spec", str(spec_path)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"bench_packs: the {spec['kind']} benchmark failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------
# parent side


def find_example_source() -> Path | None:
    for name in EXAMPLE_CANDIDATES:
        candidate = REPO_ROOT / "examples" / "packs" / name
        if candidate.is_file():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=None, help="timed loads of the synthetic pack (default 5)")
    parser.add_argument("--count", type=int, default=None, help="number of example-sized packs (default 1000)")
    parser.add_argument("--indications", type=int, default=None, help="synthetic indications (default 100)")
    parser.add_argument("--articles", type=int, default=None, help="articles per indication (default 50)")
    parser.add_argument("--trials", type=int, default=None, help="trials per indication (default 20)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10x(5+2) synthetic, 2 repeats, 20 example packs")
    parser.add_argument("--child-spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_spec:
        spec = json.loads(Path(args.child_spec).read_text(encoding="utf-8"))
        result = child_synthetic(spec) if spec["kind"] == "synthetic" else child_examples(spec)
        print(json.dumps(result))
        return 0

    quick = args.quick
    repeat = args.repeat if args.repeat is not None else (2 if quick else 5)
    count = args.count if args.count is not None else (20 if quick else 1000)
    n_ind = args.indications if args.indications is not None else (10 if quick else 100)
    n_art = args.articles if args.articles is not None else (5 if quick else 50)
    n_tri = args.trials if args.trials is not None else (2 if quick else 20)
    if min(repeat, count, n_ind) < 1 or min(n_art, n_tri) < 0:
        parser.error("--repeat, --count and --indications must be >= 1; --articles and --trials >= 0")
    if n_ind * n_art > 30_000_000 or n_ind * n_tri > 6_900_000:
        parser.error("too many articles or trials for distinct 8-digit ids")

    try:
        import drafter  # noqa: F401  (fail early, in the parent, with a clear message)
        import pydantic
    except ImportError as exc:
        raise SystemExit(f"bench_packs: cannot import drafter ({exc}); activate the virtualenv "
                         "(. .venv/bin/activate) and run from the repo root") from None

    print(f"python {platform.python_version()}, pydantic {pydantic.VERSION}, {os.cpu_count()} CPUs, "
          f"{platform.system()} {platform.machine()}")

    with tempfile.TemporaryDirectory(prefix="drafter-bench-") as tmp:
        tmpdir = Path(tmp)

        # example source (or fallback), also used as the warm-up pack
        source = find_example_source()
        if source is None:
            source = tmpdir / "tiny-fallback.json"
            write_json(source, build_tiny_pack())
            source_label = "no example pack found; built a small 2x(10+3) pack in the script"
        else:
            source_label = str(source.relative_to(REPO_ROOT))

        # 1. synthetic
        pack, expected = build_synthetic(n_ind, n_art, n_tri)
        synth_path = tmpdir / "synthetic.json"
        write_json(synth_path, pack)
        del pack
        res = run_child({"kind": "synthetic", "path": str(synth_path), "warmup": str(source), "repeat": repeat,
                         "expected_levels": expected, "n_ind": n_ind, "n_art": n_art, "n_tri": n_tri},
                        tmpdir / "spec-synthetic.json")
        med = statistics.median(res["totals"])
        levels = {lvl: expected.count(lvl) for lvl in sorted(set(expected))}
        print(f"synthetic {n_ind}x({n_art}+{n_tri}): median {med:.3f} s/pack, {1 / med:.2f} packs/s, "
              f"{res['size'] / MB:.1f} MB file, {res['size'] / MB / med:.1f} MB/s, "
              f"peak traced {res['peak_traced'] / MB:.1f} MB, max RSS {res['max_rss'] / MB:.0f} MB")
        print(f"  runs {', '.join(f'{t:.3f}' for t in res['totals'])} s (after 1 warm-up on a small pack); "
              f"median read_pack {statistics.median(res['load']):.3f} s + assess_pack "
              f"{statistics.median(res['rules']) * 1000:.1f} ms; RSS after imports {res['rss_after_import'] / MB:.0f} MB; "
              f"checked: levels {levels}, all S3, no warnings")
        synth_path.unlink()

        # 2. example-sized packs
        raw = source.read_bytes()
        base = json.loads(raw)
        base_id = str(base.get("meta", {}).get("pack_id") or source.stem)
        pack_dir = tmpdir / "examples"
        pack_dir.mkdir()
        sizes = []
        for i in range(count):
            base["meta"]["pack_id"] = f"{base_id}-bench-{i:05d}"
            sizes.append(write_json(pack_dir / f"{base['meta']['pack_id']}.json", base))
        res = run_child({"kind": "examples", "dir": str(pack_dir), "source": str(source), "count": count},
                        tmpdir / "spec-examples.json")
        elapsed = res["elapsed"]
        print(f"{count} example packs: {elapsed:.2f} s, {count / elapsed:.0f} packs/s, "
              f"peak traced {res['peak_traced'] / MB:.1f} MB, max RSS {res['max_rss'] / MB:.0f} MB")
        print(f"  source {source_label} ({len(raw) / 1000:.1f} kB, {res['indications']} indications), copies "
              f"{statistics.mean(sizes) / 1000:.1f} kB each, {1000 * elapsed / count:.2f} ms/pack, "
              f"{sum(sizes) / MB / elapsed:.1f} MB/s; RSS after imports {res['rss_after_import'] / MB:.0f} MB; "
              f"traced memory left after the loop {res['traced_growth'] / 1000:+.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
