"""The evidence-pack stage: models, loading with located errors, and the TxGNN importer."""

from drafter.pack.load import (
    DEFAULT_MAX_BYTES,
    LoadedPack,
    detect_format,
    load_pack,
    read_pack,
    validate_pack_object,
)
from drafter.pack.models import (
    MOA_KEY,
    SCHEMA_VERSION,
    AdverseEffect,
    Article,
    Contraindication,
    DataGap,
    Drug,
    EvidencePack,
    Interaction,
    InteractionSeverity,
    Jurisdiction,
    Licence,
    MarketStatus,
    Meta,
    Phase,
    Population,
    PredictedIndication,
    QueryLogEntry,
    Safety,
    SafetyItem,
    SafetyWarning,
    SpecialPopulation,
    StudyKind,
    StudyType,
    Trial,
    TrialDesign,
    TrialStatus,
    dump_pack,
    parse_phase,
    parse_status,
)
from drafter.pack.txgnn import from_txgnn, import_txgnn

__all__ = [
    "DEFAULT_MAX_BYTES", "LoadedPack", "detect_format", "load_pack", "read_pack", "validate_pack_object",
    "MOA_KEY", "SCHEMA_VERSION", "AdverseEffect", "Article", "Contraindication", "DataGap", "Drug",
    "EvidencePack", "Interaction", "InteractionSeverity", "Jurisdiction", "Licence", "MarketStatus", "Meta",
    "Phase", "Population", "PredictedIndication", "QueryLogEntry", "Safety", "SafetyItem", "SafetyWarning",
    "SpecialPopulation", "StudyKind", "StudyType", "Trial", "TrialDesign", "TrialStatus", "dump_pack",
    "parse_phase", "parse_status", "from_txgnn", "import_txgnn",
]
