"""The pack's names, found in any case and spelling, and blanked without moving a character."""

from __future__ import annotations

from pathlib import Path

import drafter
from drafter.verify.index import PackIndex

ROOT = Path(__file__).resolve().parent.parent
INDEX = PackIndex.build(drafter.load_pack(ROOT / "examples" / "packs" / "baclofen.json"), None, None)


def test_an_indication_name_is_found_in_any_case() -> None:
    assert INDEX.named_ranks("NICOTINE DEPENDENCE responds") == [2]
    assert INDEX.named_ranks("in attention deficit hyperactivity disorder and nicotine-dependence") == [1, 2]
    assert INDEX.named_ranks("Attention-Deficit Hyperactivity Disorder's course") == [1]


def test_a_derived_acronym_is_matched_only_as_written() -> None:
    assert INDEX.named_ranks("children with ADHD") == [1]
    assert INDEX.named_ranks("the adhd clinic") == []
    assert INDEX.named_ranks("ADHDX") == []


def test_the_drug_its_brands_and_indications_are_blanked_in_place() -> None:
    text = "BACLOFEN (Lioresal, gablofen) in Nicotine Dependence caused drowsiness."
    blanked = INDEX.blank_names(text)
    assert len(blanked) == len(text)
    assert "drowsiness" in blanked and "caused" in blanked
    for name in ("BACLOFEN", "Lioresal", "gablofen", "Nicotine Dependence"):
        assert name not in blanked
    start = text.index("Lioresal")
    assert blanked[start:start + len("Lioresal")] == "\x00" * len("Lioresal")


def _index_for(*names: str) -> PackIndex:
    pack = drafter.load_pack({
        "meta": {"pack_id": "names", "schema_version": "1.0"}, "drug": {"inn": "cimetidine"},
        "jurisdiction": {"country": "GB"},
        "predicted_indications": [{"rank": i + 1, "disease_name": n, "score": 0.9} for i, n in enumerate(names)]})
    return PackIndex.build(pack, None, None)


def test_a_disease_named_again_without_its_course_word_is_the_same_indication() -> None:
    index = _index_for("Smouldering Systemic Mastocytosis", "Active Peptic Ulcer Disease", "Acne")
    assert index.named_ranks("its efficacy in peptic ulcer disease (rank 2)") == [2]
    assert index.named_ranks("H2 blockade in systemic mastocytosis") == [1]
    assert index.named_ranks("ulcer disease") == []  # only the course word is dropped


def test_a_shorter_name_two_indications_share_names_neither() -> None:
    index = _index_for("Acute Myeloid Leukaemia", "Chronic Myeloid Leukaemia")
    assert index.named_ranks("in myeloid leukaemia") == []
    assert index.named_ranks("in chronic myeloid leukaemia") == [2]
