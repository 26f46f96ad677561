"""Small, valid, drafter-format evidence packs made up for batch tests and benchmarks.

Every pack is SYNTHETIC: the drug ("testdrug-0001"), its DrugBank id, every trial id and every PMID
are invented, and ``meta.generator`` says so in words, so a pack that leaks into a report folder or a
bug report can never pass for real evidence. The ids are chosen outside the ranges real registries
have issued so far:

* DrugBank ids ``DB9xxxx`` (real ones are below DB2xxxx);
* ClinicalTrials.gov ids ``NCT09xxxxxx`` (real ones are below NCT08000000);
* PMIDs ``9xxxxxxx`` (real ones are below 50,000,000).

The packs look like real ones otherwise (real disease names, a GB/US/... jurisdiction, a query log,
safety items with sources), are deterministic (pack ``n`` is always the same bytes), and load without
a single warning. Every third pack drafts one indication (its rank 2 has no evidence), the others
draft two, so both shapes of the response schema (a rank ``enum`` and a rank ``const``) are exercised.

    from tests.synthetic_packs import write_packs
    paths = write_packs(tmp_path / "packs", 30)          # testdrug-0001.json ... testdrug-0030.json
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

GENERATOR = ("tests/synthetic_packs.py - SYNTHETIC TEST DATA: the drug, its DrugBank id, every trial id and "
             "every PMID are made up; nothing in this pack is real evidence")

_DISEASES = (
    "essential tremor", "migraine", "restless legs syndrome", "neuropathic pain", "chronic cough",
    "alcohol use disorder", "fibromyalgia", "spasticity after stroke", "tinnitus", "overactive bladder",
    "post-herpetic neuralgia", "insomnia", "generalised anxiety disorder", "irritable bowel syndrome",
    "gastro-oesophageal reflux disease", "tension-type headache", "cluster headache", "trigeminal neuralgia",
)
_COUNTRIES = ("GB", "US", "TW", "JP", "CA", "AU")
_PHASES = ("Phase 2", "Phase 3", "Phase 1/2", "Phase 4", "Phase 2/3")
_STATUSES = ("completed", "terminated", "recruiting", "active_not_recruiting", "completed")
_PUBLICATION_TYPES = (["Randomized Controlled Trial"], ["Review"], ["Case Reports"], ["Systematic Review"],
                      ["Observational Study"])
_MECHANISMS = (
    "Selective antagonist of a synthetic test receptor subtype; reduces neuronal excitability in vitro.",
    "Positive allosteric modulator of a synthetic test ion channel; lowers spinal reflex activity.",
    "Inhibitor of a synthetic test enzyme; reduces the synthesis of an inflammatory mediator.",
)


def pack_id(n: int) -> str:
    """The id (and file stem) of synthetic pack ``n`` (1-based): ``testdrug-0001``."""
    return f"testdrug-{n:04d}"


def _nct(n: int, j: int) -> str:
    return f"NCT09{n * 10 + j:06d}"


def _pmid(n: int, j: int) -> str:
    return f"9{n * 10 + j:07d}"


def synthetic_pack(n: int) -> dict[str, Any]:
    """Synthetic pack ``n`` (1 <= n <= 99,999) as a JSON-ready dict in drafter's format."""
    if not 1 <= n <= 99_999:
        raise ValueError(f"n must be in 1..99999, got {n}")
    name = pack_id(n)
    country = _COUNTRIES[n % len(_COUNTRIES)]
    first, second = _DISEASES[n % len(_DISEASES)], _DISEASES[(n * 7 + 3) % len(_DISEASES)]
    if second == first:
        second = _DISEASES[(n + 1) % len(_DISEASES)]
    one_drafted = n % 3 == 0  # rank 2 without evidence: the call drafts rank 1 only (schema "const": 1)
    rank1 = {
        "rank": 1,
        "disease_name": first,
        "score": round(0.95 - (n % 10) * 0.01, 4),
        "trials": [{
            "registry_id": _nct(n, 1),
            "title": f"A synthetic study of {name} in {first}",
            "phase": _PHASES[n % len(_PHASES)],
            "status": _STATUSES[n % len(_STATUSES)],
            "study_type": "interventional",
            "enrollment": 20 + n % 180,
            "start_date": f"{2010 + n % 12}-0{1 + n % 9}",
            "summary": "Synthetic record for testing; no such trial exists.",
        }],
        "articles": [{
            "pmid": _pmid(n, 1),
            "title": f"{name} in {first}: a synthetic article for testing",
            "authors": ["A. Synthetic", "B. Fixture"],
            "journal": "Journal of Synthetic Test Data",
            "year": 2012 + n % 12,
            "publication_types": _PUBLICATION_TYPES[n % len(_PUBLICATION_TYPES)],
            "abstract": f"Made-up abstract for {name}. It describes no real patients and no real results.",
        }],
    }
    rank2: dict[str, Any] = {"rank": 2, "disease_name": second, "score": round(0.80 - (n % 10) * 0.01, 4),
                             "trials": [], "articles": []}
    if not one_drafted:
        rank2["articles"] = [{
            "pmid": _pmid(n, 2),
            "title": f"{name} and {second}: a synthetic case series",
            "authors": ["C. Placeholder"],
            "journal": "Synthetic Reports",
            "year": 2015 + n % 9,
            "publication_types": ["Case Reports"],
        }]
    return {
        "meta": {
            "pack_id": name,
            "schema_version": "1.0",
            "created": "2026-01-15",
            "data_cutoff": "2025-12-31",
            "generator": GENERATOR,
            "query_log": [
                {"source": "ClinicalTrials.gov", "query_date": "2025-12-31", "query": f"intervention={name}",
                 "result_status": "success", "result_count": 1, "notes": "synthetic query; never sent"},
                {"source": "PubMed", "query_date": "2025-12-31", "query": f"{name}[tiab]",
                 "result_status": "success", "result_count": 1 if one_drafted else 2,
                 "notes": "synthetic query; never sent"},
            ],
            "data_gaps": [],
        },
        "drug": {
            "inn": name,
            "drugbank_id": f"DB9{n % 10000:04d}",
            "synonyms": [f"{name} hydrochloride"],
            "brand_names": [f"Testdrugex {n}"],
            "original_indications": ["synthetic original indication for testing"],
            "mechanism_of_action": _MECHANISMS[n % len(_MECHANISMS)],
            "mechanism_source": "synthetic test fixture",
        },
        "jurisdiction": {"country": country, "market_status": "marketed", "total_licences": 1,
                         "licences": [{"number": f"TEST {n:05d}", "product": f"{name} 10 mg tablets",
                                       "dosage_form": "tablet", "holder": "Synthetic Test Pharma Ltd"}]},
        "safety": {
            "warnings": [{"key": "W1", "text": "Drowsiness may occur; synthetic warning for testing.",
                          "source": "synthetic label section 4.4"}],
            "contraindications": [{"key": "C1", "text": "Hypersensitivity to the active substance.",
                                   "source": "synthetic label section 4.3"}],
            "adverse_effects": [{"key": "A1", "text": "Dizziness.", "frequency": "common"}],
        },
        "predicted_indications": [rank1, rank2],
    }


def write_packs(directory: str | os.PathLike[str], count: int, *, start: int = 1,
                indent: int | None = None) -> list[Path]:
    """Write packs ``start`` .. ``start + count - 1`` as ``directory/testdrug-NNNN.json``; return the paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        path = folder / f"{pack_id(n)}.json"
        path.write_text(json.dumps(synthetic_pack(n), indent=indent, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def pack_ids(paths: Iterable[Path]) -> list[str]:
    return [Path(p).stem for p in paths]


__all__ = ["GENERATOR", "pack_id", "pack_ids", "synthetic_pack", "write_packs"]
