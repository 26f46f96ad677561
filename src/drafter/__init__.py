"""drafter: draft drug-repurposing evaluation reports and verify them against their evidence pack."""

from drafter.errors import DrafterError, PackError, PackProblem, UserError
from drafter.pack import EvidencePack, LoadedPack, from_txgnn, load_pack, read_pack

__version__ = "0.1.0"

__all__ = [
    "DrafterError",
    "EvidencePack",
    "LoadedPack",
    "PackError",
    "PackProblem",
    "UserError",
    "from_txgnn",
    "load_pack",
    "read_pack",
    "__version__",
]
