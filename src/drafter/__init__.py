"""drafter: draft drug-repurposing evaluation reports and verify them against their evidence pack."""

# The checks package is imported before the functions that share its name, so that `drafter.verify`
# stays the function however the package is imported later.
import drafter.verify as _verify_package  # noqa: F401
from drafter.drafts import IndicationSections, ReportDraft, Statement, Support
from drafter.errors import DrafterError, PackError, PackProblem, UserError
from drafter.pack import EvidencePack, LoadedPack, from_txgnn, load_pack, read_pack
from drafter.rules import Decision, PackAssessment, assess_pack, load_rule_table
from drafter.verifier import CODES, Finding, Severity, Verification, Verifier, verify, verify_markdown

__version__ = "0.1.0"

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
    "assess_pack",
    "from_txgnn",
    "load_pack",
    "load_rule_table",
    "read_pack",
    "verify",
    "verify_markdown",
]
