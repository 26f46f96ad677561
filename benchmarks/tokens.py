"""What drafter sends to and receives from the model per report, against the one-shot approach.

The TxGNN pipelines send their whole pack as JSON plus a whole-report prompt of about 10,000
characters, and get the whole report back (median about 6,700 characters). drafter sends one
structured call per report: a static system prompt, the drug-level data once, each drafted
indication's own evidence with the texts a statement may quote (clipped to
``drafter.prompts.QUOTE_BUDGET``), and the response schema (strict structured outputs send it with
every request, so it is traffic too); it gets back only the drafted statements and their quotes as
compact JSON. Both sides cover the same example packs and the same indications.

Responses are the scripted drafts the cassettes serve (tests/llm_server/drafts/), as compact JSON.
The last row is a stress case: baclofen with a 1,500-character abstract on every article (the
example packs carry none), to show the quote budget holds when a pack does; its response is the
baclofen draft, and its one-shot side includes the same abstracts.

No tokenizer is available offline here (tiktoken downloads its encoding files at first use), so
the figures are characters; "~tokens" is characters / 4, an estimate, labelled as such.

    python benchmarks/tokens.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import drafter
from drafter.drafting import citable_keys_for, select_indications
from drafter.drafts import report_schema_for
from drafter.pack.models import EvidencePack
from drafter.prompts import IndicationEntry, load_prompts, report_messages, static_prefix_chars

ROOT = Path(__file__).resolve().parents[1]
ONE_SHOT_PROMPT_CHARS = 10_000
ONE_SHOT_OUTPUT_CHARS = 6_700
TARGET = 0.40  # issue 11: drafter traffic, schema counted, at most 40% of the one-shot approach
STRESS_ABSTRACT_CHARS = 1_500


def _stress_pack(path: Path) -> tuple[EvidencePack, int]:
    """``path``'s pack with a long abstract on every article, and its JSON size."""
    data = json.loads(path.read_text(encoding="utf-8"))
    sentence = "Background methods results and conclusions of the study are written here at length. "
    for indication in data["predicted_indications"]:
        for article in indication.get("articles", []):
            article["abstract"] = (sentence * (STRESS_ABSTRACT_CHARS // len(sentence) + 1))[:STRESS_ABSTRACT_CHARS]
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return EvidencePack.model_validate(data), len(text)


def measure(name: str, pack: EvidencePack, pack_chars: int, draft_file: Path) -> tuple[float, str]:
    templates = load_prompts()
    assessment = drafter.assess_pack(pack)
    ranks = select_indications(pack)
    entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications() if i.rank in ranks]
    messages = report_messages(templates, pack, entries)
    prompt = sum(len(m["content"]) for m in messages)
    schema = len(json.dumps(report_schema_for(citable_keys_for(pack, ranks), ranks), separators=(",", ":")))
    static = static_prefix_chars(messages)
    draft = drafter.ReportDraft.model_validate_json(draft_file.read_text(encoding="utf-8"))
    received = len(draft.model_dump_json())
    quotes = sum(len(q) for item in draft.indications for _, s in item.sections.statements() for q in s.quotes)
    ours = prompt + schema + received
    one_shot = pack_chars + ONE_SHOT_PROMPT_CHARS + ONE_SHOT_OUTPUT_CHARS
    ratio = ours / one_shot
    row = (f"{name:24} {len(ranks):>7} {prompt:>7} {schema:>7} {static / prompt:>6.0%} {received:>6} {quotes:>6} "
           f"{ours:>8} {one_shot:>9} {ratio:>6.2f}")
    return ratio, row


def main() -> None:
    ratios = []
    print(f"{'pack':24} {'drafted':>7} {'prompt':>7} {'schema':>7} {'static':>6} {'recv':>6} {'quotes':>6} "
          f"{'drafter':>8} {'one-shot':>9} {'ratio':>6}")
    drafts = ROOT / "tests" / "llm_server" / "drafts"
    for path in sorted((ROOT / "examples" / "packs").glob("*.json")):
        ratio, row = measure(path.stem, drafter.load_pack(path), len(path.read_text(encoding="utf-8")),
                             drafts / path.name)
        ratios.append(ratio)
        print(row)
    stress, stress_chars = _stress_pack(ROOT / "examples" / "packs" / "baclofen.json")
    stress_ratio, row = measure("baclofen+abstracts", stress, stress_chars, drafts / "baclofen.json")
    print(row)
    median = statistics.median(ratios)
    print(f"median ratio drafter / one-shot (example packs): {median:.3f} (target <= {TARGET:.2f}: "
          f"{'met' if median <= TARGET else 'NOT met'}); worst {max(ratios):.2f}; "
          f"abstract-heavy stress case {stress_ratio:.2f}")
    print("prompt = system + user messages; schema = the response schema sent with the request (compact JSON); "
          "recv = the drafted JSON, of which quotes = the quoted characters")
    print("characters only: no offline tokenizer; ~tokens = characters / 4 (estimate) for both approaches alike")


if __name__ == "__main__":
    main()
