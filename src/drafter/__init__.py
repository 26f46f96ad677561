"""drafter: draft drug-repurposing evaluation reports and verify them against their evidence pack."""

from drafter.drafts import IndicationSections, ReportDraft, Statement, Support
from drafter.errors import DrafterError, PackError, PackProblem, UserError
from drafter.pack import EvidencePack, LoadedPack, from_txgnn, load_pack, read_pack
from drafter.rules import Decision, PackAssessment, assess_pack, load_rule_table
# Importing the names binds `drafter.verify` to the function after its package has loaded, so it stays
# the function however `drafter.verify.<module>` is imported later.
from drafter.verify import CODES, Finding, Severity, Verification, Verifier, verify, verify_markdown

__version__ = "0.1.0"

# Drafting needs the openai client; it is imported when first used, so `import drafter` stays quick
# for validating and verifying.
_LAZY = {"draft_report": "drafter.pipeline", "adraft_report": "drafter.pipeline", "replaying": "drafter.replay",
         "draft_batch": "drafter.batch", "adraft_batch": "drafter.batch"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'drafter' has no attribute {name!r}")


__all__ = [
    "CODES",
    "Decision",
    "DrafterError",
    "EvidencePack",
    "Finding",
    "IndicationSections",
    "LoadedPack",
    "PackAssessment",
    "PackError",
    "PackProblem",
    "ReportDraft",
    "Severity",
    "Statement",
    "Support",
    "UserError",
    "Verification",
    "Verifier",
    "__version__",
    "adraft_batch",
    "adraft_report",
    "assess_pack",
    "draft_batch",
    "draft_report",
    "from_txgnn",
    "load_pack",
    "load_rule_table",
    "read_pack",
    "replaying",
    "verify",
    "verify_markdown",
]
