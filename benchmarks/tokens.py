"""What drafter sends to and receives from the model per report, against the one-shot approach.

The TxGNN pipelines send their whole pack as JSON plus a whole-report prompt of about 10,000
characters, and get the whole report back (median about 6,700 characters). drafter sends one
structured call per report: a static system prompt, the drug-level data once, and each drafted
indication's own evidence; it gets back only the drafted statements as compact JSON. Both sides
cover the same example packs and the same indications.

Responses are the scripted drafts the cassettes serve (tests/llm_server/drafts/), as compact JSON.
No tokenizer is available offline here (tiktoken downloads its encoding files at first use), so
the figures are characters; "~tokens" is characters / 4, an estimate, labelled as such.

    python benchmarks/tokens.py
"""

from __future__ import annotations

import statistics
from pathlib import Path

import drafter
from drafter.drafting import select_indications
from drafter.prompts import IndicationEntry, load_prompts, report_messages, static_prefix_chars

ROOT = Path(__file__).resolve().parents[1]
ONE_SHOT_PROMPT_CHARS = 10_000
ONE_SHOT_OUTPUT_CHARS = 6_700
TARGET = 0.40


def main() -> None:
    templates = load_prompts()
    ratios = []
    print(f"{'pack':24} {'drafted':>7} {'sent':>7} {'static':>7} {'recv':>6} {'drafter':>8} {'one-shot':>9} {'ratio':>6}")
    for path in sorted((ROOT / "examples" / "packs").glob("*.json")):
        pack = drafter.load_pack(path)
        assessment = drafter.assess_pack(pack)
        ranks = select_indications(pack)
        entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications() if i.rank in ranks]
        messages = report_messages(templates, pack, entries)
        sent = sum(len(m["content"]) for m in messages)
        static = static_prefix_chars(messages)
        draft_file = ROOT / "tests" / "llm_server" / "drafts" / path.name
        draft = drafter.ReportDraft.model_validate_json(draft_file.read_text(encoding="utf-8"))
        received = len(draft.model_dump_json())
        ours = sent + received
        one_shot = len(path.read_text(encoding="utf-8")) + ONE_SHOT_PROMPT_CHARS + ONE_SHOT_OUTPUT_CHARS
        ratio = ours / one_shot
        ratios.append(ratio)
        print(f"{path.stem:24} {len(ranks):>7} {sent:>7} {static / sent:>6.0%} {received:>6} {ours:>8} {one_shot:>9} "
              f"{ratio:>6.2f}")
    total_ratio = statistics.median(ratios)
    print(f"median ratio drafter / one-shot: {total_ratio:.2f} (target <= {TARGET:.2f}: "
          f"{'met' if total_ratio <= TARGET else 'NOT met'}); worst {max(ratios):.2f}")
    print("characters only: no offline tokenizer; ~tokens = characters / 4 (estimate) for both approaches alike")


if __name__ == "__main__":
    main()
