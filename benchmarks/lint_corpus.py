"""Lint a corpus of published TxGNN reports against the packs rebuilt from them; print the figures.

The default corpus is ``../shared/anchor-uk`` next to the repository (80 reports of the UK site,
see its README). Each report is linted as ``drafter verify --pack`` would, but with the page template
blanked first (:func:`drafter.verify.page.report_text`), so the figures measure the report's prose.
Run from anywhere:

    python benchmarks/lint_corpus.py [--corpus DIR] [--findings FILE.jsonl] [--json]

Prints: reports linted and packs that failed to load (with the reason), errors per report (median,
p90, max), error counts by code, reports with no error, the same split by the manifest's ``clean``
flag, reports not in English, on the clean reports the errors left once the labelled true faults are
set aside, and lint time per report. Nothing is asserted: the labelled sample in
``tests/lint_labels/`` and ``tests/test_lint_corpus.py`` hold the verifier to account.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drafter import Finding, PackError, Verifier, read_pack
from drafter.verify.page import language_hint, report_text

REPO = Path(__file__).resolve().parent.parent


def default_corpus() -> Path:
    """``../shared/anchor-uk`` beside the repository, or beside a parent of it (a git worktree in a
    sub-folder); the first one that exists, else the plain ``../shared/anchor-uk``."""
    for parent in REPO.parents:
        candidate = parent / "shared" / "anchor-uk"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "anchor-uk"


DEFAULT_CORPUS = default_corpus()
_LINE = re.compile(r"^line (\d+)$")


@dataclass(frozen=True)
class Entry:
    """One report of the corpus and the pack it is linted against."""

    name: str  # the report's file stem: "abacavir"
    report: Path
    pack: Path
    clean: bool | None  # the manifest's flag; None if the manifest does not list the report
    safety_basis: str | None = None  # the manifest's: "report_says_unavailable" or "unknown:..."
    ids_in_no_table: tuple[str, ...] = ()  # the manifest's independent flags
    safety_assertions: int = 0


@dataclass
class Outcome:
    """What linting one report gave: its error findings, or why its pack did not load."""

    entry: Entry
    errors: list[Finding] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)
    load_failure: str | None = None
    language: str | None = None
    seconds: float = 0.0


def corpus_entries(corpus: Path) -> list[Entry]:
    """The corpus's reports, from ``manifest.json`` if there is one, else every ``reports/*.md``.

    Raises ``SystemExit`` with one line naming the file when the corpus is missing or unreadable.
    """
    manifest = corpus / "manifest.json"
    if manifest.is_file():
        try:
            records = json.loads(manifest.read_text(encoding="utf-8"))["reports"]
            return [Entry(Path(r["report"]).stem, corpus / r["report"], corpus / r["pack"], r.get("clean"),
                          r.get("safety_basis"), tuple(r.get("independent_flags", {}).get("ids_in_no_table", ())),
                          int(r.get("independent_flags", {}).get("safety_assertions_without_data", 0)))
                    for r in records]
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"{manifest}: expected {{'reports': [{{'report', 'pack', 'clean'}}, ...]}} ({exc})") from None
    reports = sorted((corpus / "reports").glob("*.md"))
    if not reports:
        raise SystemExit(f"{corpus}: no manifest.json and no reports/*.md (pass --corpus DIR)")
    return [Entry(p.stem, p, corpus / "packs" / f"{p.stem}_drug_evidence_pack.json", None) for p in reports]


def lint_entry(entry: Entry, *, whole_page: bool = False) -> Outcome:
    """Load the entry's pack (drafter or TxGNN format, as ``drafter verify --pack`` does) and lint
    the report, its page template blanked unless ``whole_page`` (the file as it is)."""
    outcome = Outcome(entry)
    try:
        loaded = read_pack(entry.pack)
    except PackError as exc:
        errors = [p for p in exc.problems if p.severity == "error"] or list(exc.problems)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        outcome.load_failure = f"{first.path}: {first.expected if first.found is None else first}{more}"
        return outcome
    raw = entry.report.read_text(encoding="utf-8")
    text = raw if whole_page else report_text(raw)
    outcome.language = language_hint(text)
    start = time.perf_counter()
    verification = Verifier(loaded.pack).verify_markdown(text)
    outcome.seconds = time.perf_counter() - start
    outcome.errors = verification.errors
    outcome.unchecked = verification.unchecked
    return outcome


def lint_corpus(corpus: Path, *, whole_page: bool = False) -> list[Outcome]:
    return [lint_entry(entry, whole_page=whole_page) for entry in corpus_entries(corpus)]


def finding_line(finding: Finding) -> int | None:
    match = _LINE.match(finding.location)
    return int(match.group(1)) if match else None


def finding_records(outcomes: Sequence[Outcome]) -> Iterator[dict[str, Any]]:
    """Every error finding as one flat record: report, line, code, message, span."""
    for outcome in outcomes:
        for finding in outcome.errors:
            yield {"report": outcome.entry.name, "line": finding_line(finding), "code": finding.code,
                   "message": finding.message, "span": finding.span, "section": finding.section}


def sample_keys(outcomes: Sequence[Outcome], n: int, seed: int) -> list[tuple[str, int | None, str]]:
    """``n`` distinct (report, line, code) keys of error findings, drawn at random with ``seed``.

    Labels are kept per key, not per finding: one line can draw several findings of one code (one per
    safety term), and a test can only ask whether the key is still produced.
    """
    keys = sorted({(r["report"], r["line"], r["code"]) for r in finding_records(outcomes)},
                  key=lambda k: (k[0], k[1] or 0, k[2]))
    return sorted(random.Random(seed).sample(keys, min(n, len(keys))), key=lambda k: (k[0], k[1] or 0, k[2]))


def write_sheet(outcomes: Sequence[Outcome], keys: Sequence[tuple[str, int | None, str]], path: Path) -> None:
    """A labelling sheet (JSON lines): each sampled key with its findings and the report line.

    The sheet quotes the reports, so write it outside the repository; the labels file keeps only
    report, line, code, verdict and the labeller's own reason.
    """
    by_key: dict[tuple[str, int | None, str], list[dict[str, Any]]] = {}
    for record in finding_records(outcomes):
        by_key.setdefault((record["report"], record["line"], record["code"]), []).append(record)
    entries = {o.entry.name: o.entry for o in outcomes}
    with path.open("w", encoding="utf-8") as out:
        for report, line, code in keys:
            entry = entries[report]
            lines = entry.report.read_text(encoding="utf-8").splitlines()
            text = lines[line - 1] if line and line <= len(lines) else ""
            out.write(json.dumps({"report": report, "line": line, "code": code, "clean": entry.clean,
                                  "safety_basis": entry.safety_basis, "text": text,
                                  "findings": [(f["span"], f["message"]) for f in by_key[(report, line, code)]]},
                                 ensure_ascii=False) + "\n")


def _p90(values: Sequence[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))])


def _spread(values: Sequence[int]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):g}, p90 {_p90(values):g}, max {max(values)}"


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures the script prints, as data (``--json``)."""
    linted = [o for o in outcomes if o.load_failure is None]
    errors = [len(o.errors) for o in linted]
    by_code = Counter(f.code for o in linted for f in o.errors)
    groups: dict[str, Any] = {}
    for label, flag in (("clean", True), ("flagged", False)):
        group = [len(o.errors) for o in linted if o.entry.clean is flag]
        groups[label] = {"reports": len(group), "no_error": sum(1 for n in group if n == 0),
                         "median": statistics.median(group) if group else None,
                         "p90": _p90(group) if group else None, "max": max(group) if group else None}
    times = [o.seconds * 1000 for o in linted]
    flagged_ids = [(o, key) for o in linted for key in o.entry.ids_in_no_table]
    ids_found = sum(1 for o, key in flagged_ids if any(
        f.code in ("ID_UNKNOWN", "ID_MALFORMED") and key.removeprefix("PMID:") in f"{f.span} {f.message}"
        for f in o.errors))
    safety_flagged = [o for o in linted if o.entry.safety_assertions]
    safety_found = sum(1 for o in safety_flagged if any(f.code.startswith("SAFETY_") for f in o.errors))
    return {
        "reports": len(outcomes), "linted": len(linted),
        "load_failures": {o.entry.name: o.load_failure for o in outcomes if o.load_failure is not None},
        "not_english": {o.entry.name: o.language for o in linted if o.language not in ("en", None)},
        "errors_total": sum(errors),
        "errors_per_report": {"median": statistics.median(errors) if errors else None,
                              "p90": _p90(errors) if errors else None, "max": max(errors) if errors else None},
        "by_code": dict(by_code.most_common()),
        "no_error": sum(1 for n in errors if n == 0),
        "by_manifest_flag": groups,
        "lint_ms_median": round(statistics.median(times), 2) if times else None,
        "unchecked_total": sum(len(o.unchecked) for o in linted),
        "unchecked_by_code": dict(Counter(f.code for o in linted for f in o.unchecked).most_common()),
        "manifest_ids_found_as_errors": [ids_found, len(flagged_ids)],
        "manifest_safety_reports_with_a_safety_error": [safety_found, len(safety_flagged)],
        "clean_beyond_true_faults": clean_beyond_true_faults(outcomes),
        "labelled_precision": labelled_precision(outcomes),
    }


LABELS = REPO / "tests" / "lint_labels" / "anchor_uk.csv"


def labelled_true(path: Path = LABELS) -> set[tuple[str, int, str]]:
    """The (report, line, code) keys the labelled sample judges true faults of their report."""
    return {key for key, verdict in labels(path).items() if verdict == "true"}


def labels(path: Path = LABELS) -> dict[tuple[str, int, str], str]:
    """Every labelled (report, line, code) key with its verdict: true, artefact or false_alarm."""
    import csv
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {(r["report"], int(r["line"]), r["code"]): r["verdict"] for r in rows}


def labelled_precision(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The error findings lint produces today, by the verdict of their label (unlabelled counted apart).

    Precision is the share of labelled findings that are true faults or declared artefacts of the
    rebuilt packs; findings without a label are not guessed at.
    """
    verdicts = labels()
    counts: Counter[str] = Counter()
    for record in finding_records(outcomes):
        counts[verdicts.get((record["report"], record["line"], record["code"]), "unlabelled")] += 1
    judged = counts["true"] + counts["artefact"] + counts["false_alarm"]
    return {"findings": sum(counts.values()), "by_verdict": dict(counts),
            "precision": round((counts["true"] + counts["artefact"]) / judged, 4) if judged else None}


def clean_beyond_true_faults(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """On the manifest's clean reports: how many carry a labelled true fault, and how many errors per
    report are left once those are set aside (unlabelled errors count against lint).

    The manifest's ``clean`` means that its independent parser found no id outside the tables and no
    safety assertion without data; it does not look at levels, decisions or every safety sentence.
    """
    true = labelled_true()
    clean = {o.entry.name for o in outcomes if o.load_failure is None and o.entry.clean}
    left = dict.fromkeys(clean, 0)
    with_true: set[str] = set()
    for record in finding_records(outcomes):
        if record["report"] not in clean:
            continue
        if (record["report"], record["line"], record["code"]) in true:
            with_true.add(record["report"])
        else:
            left[record["report"]] += 1
    values = list(left.values())
    return {"reports": len(clean), "with_a_labelled_true_fault": len(with_true),
            "errors_not_labelled_true": {"median": statistics.median(values) if values else None,
                                         "p90": _p90(values) if values else None}}


def print_summary(outcomes: Sequence[Outcome], corpus: Path, *, whole_page: bool = False) -> None:
    s = summary(outcomes)
    linted = [o for o in outcomes if o.load_failure is None]
    print(f"corpus: {corpus}{' (whole pages, template included)' if whole_page else ''}")
    print(f"reports linted: {s['linted']} of {s['reports']}; packs that failed to load: {len(s['load_failures'])}")
    for name, reason in s["load_failures"].items():
        print(f"  {name}: {reason}")
    if s["not_english"]:
        print("not in English (lint figures for these are noise): "
              + ", ".join(f"{n} ({lang})" for n, lang in s["not_english"].items()))
    print(f"errors: {s['errors_total']} in all; per report {_spread([len(o.errors) for o in linted])}")
    print(f"reports with no error: {s['no_error']} of {s['linted']}")
    for label, flag in (("clean", True), ("flagged", False)):
        group = [len(o.errors) for o in linted if o.entry.clean is flag]
        g = s["by_manifest_flag"][label]
        print(f"  manifest {label:<7}: {g['reports']} reports, {g['no_error']} with no error; "
              f"errors per report {_spread(group)}")
    print("errors by code:")
    for code, count in s["by_code"].items():
        print(f"  {count:5d}  {code}")
    print(f"unchecked (the pack cannot decide; not errors): {s['unchecked_total']}: "
          + ", ".join(f"{code} {n}" for code, n in s["unchecked_by_code"].items()))
    ids_found, ids_flagged = s["manifest_ids_found_as_errors"]
    safety_found, safety_flagged = s["manifest_safety_reports_with_a_safety_error"]
    print(f"manifest's independent flags still errors: ids in no table {ids_found} of {ids_flagged}; "
          f"reports with safety assertions without data that draw a safety error {safety_found} of {safety_flagged}")
    beyond = s["clean_beyond_true_faults"]
    if labelled_true():
        rest = beyond["errors_not_labelled_true"]
        print(f"manifest clean reports with an error labelled a true fault (tests/lint_labels): "
              f"{beyond['with_a_labelled_true_fault']} of {beyond['reports']}; errors per clean report that are "
              f"not labelled true faults: median {rest['median']:g}, p90 {rest['p90']:g}")
    precision = s["labelled_precision"]
    if precision["precision"] is not None:
        v = precision["by_verdict"]
        print(f"labelled error findings (tests/lint_labels): {precision['findings']} produced; true fault "
              f"{v.get('true', 0)}, artefact {v.get('artefact', 0)}, false alarm {v.get('false_alarm', 0)}, unlabelled "
              f"{v.get('unlabelled', 0)}; precision {precision['precision']:.1%} (true or artefact, of the labelled)")
    print(f"lint time per report: median {s['lint_ms_median']} ms (verify_markdown, pack index included)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"corpus directory with reports/, packs/ and manifest.json (default {DEFAULT_CORPUS})")
    parser.add_argument("--findings", type=Path, metavar="FILE",
                        help="write every error finding as JSON lines (report, line, code, message, span)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--whole-page", action="store_true",
                        help="lint each file as it is, page template included (what `drafter verify` reads today)")
    parser.add_argument("--sample", type=int, metavar="N", help="draw N (report, line, code) keys for labelling")
    parser.add_argument("--seed", type=int, default=9, help="seed of --sample (default 9)")
    parser.add_argument("--sheet", type=Path, metavar="FILE",
                        help="with --sample: write the labelling sheet here (outside the repository: it quotes reports)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"{args.corpus}: not a directory (pass --corpus DIR)", file=sys.stderr)
        return 2
    outcomes = lint_corpus(args.corpus, whole_page=args.whole_page)
    if args.findings:
        with args.findings.open("w", encoding="utf-8") as out:
            for record in finding_records(outcomes):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.sample:
        keys = sample_keys(outcomes, args.sample, args.seed)
        print(f"sampled {len(keys)} keys with seed {args.seed}", file=sys.stderr)
        if args.sheet:
            write_sheet(outcomes, keys, args.sheet)
    if args.json:
        print(json.dumps(summary(outcomes), indent=2, ensure_ascii=False))
    else:
        print_summary(outcomes, args.corpus, whole_page=args.whole_page)
        if args.findings:
            print(f"findings written to {args.findings}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
