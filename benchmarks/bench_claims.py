"""Cost per sentence of the regulatory and study-design claim modules over a real corpus of reports.

Reads the anchor-uk corpus beside the repository (``../shared/anchor-uk``: 80 published LLM reports
and the packs rebuilt from them), splits every line into sentences, and times
``regulatory_problems`` and ``design_problems`` on each (cited items: the pack's PMIDs and NCT ids
the sentence writes). Most sentences carry no regulatory or design word, so the median is the cost
of the cheap gate. Prints figures only; nothing is asserted. Run from the repository root:

    python benchmarks/bench_claims.py [--corpus ../shared/anchor-uk]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from drafter.errors import DrafterError
from drafter.extract import split_sentences
from drafter.pack.load import read_pack
from drafter.pack.models import Article, EvidencePack, Trial
from drafter.verify.design import design_problems
from drafter.verify.regulatory import regulatory_problems

Work = list[tuple[str, EvidencePack, list[Article | Trial]]]


def load_work(corpus: Path) -> Work:
    work: Work = []
    for report in sorted((corpus / "reports").glob("*.md")):
        try:
            pack = read_pack(corpus / "packs" / f"{report.stem}_drug_evidence_pack.json", country="GB").pack
        except DrafterError:
            continue  # a few rebuilt packs lack a score; they are not this benchmark's business
        items: dict[str, Article | Trial] = {}
        for indication in pack.predicted_indications:
            items.update({a.pmid: a for a in indication.articles})
            items.update({t.registry_id: t for t in indication.trials})
        for line in report.read_text(encoding="utf-8").splitlines():
            for sentence in split_sentences(line):
                ids = re.findall(r"\b(\d{6,9}|NCT\d{8})\b", sentence.text)
                work.append((sentence.text, pack, [items[i] for i in ids if i in items]))
    return work


def measure(name: str, work: Work, check: Callable[[str, EvidencePack, list[Article | Trial]], object]) -> None:
    for text, pack, cited in work:  # warm the caches (folding, record profiles)
        check(text, pack, cited)
    times = []
    for text, pack, cited in work:
        start = time.perf_counter()
        check(text, pack, cited)
        times.append(time.perf_counter() - start)
    print(f"{name}: {len(times)} sentences, median {statistics.median(times) * 1e6:.1f} us, "
          f"mean {statistics.mean(times) * 1e6:.1f} us, total {sum(times) * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "anchor-uk")
    args = parser.parse_args()
    if not (args.corpus / "reports").is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: expected reports/ and packs/ (pass --corpus)")
    work = load_work(args.corpus)
    measure("regulatory_problems", work, lambda text, pack, cited: regulatory_problems(text, pack))
    measure("design_problems", work, lambda text, pack, cited: design_problems(text, cited))


if __name__ == "__main__":
    main()
