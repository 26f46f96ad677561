"""Compatibility: the verifier now lives in :mod:`drafter.verify`, one module per kind of claim."""

from drafter.verify import (  # noqa: F401
    CODES,
    Finding,
    Severity,
    Verification,
    Verifier,
    indication_names,
    iter_codes,
    normalise_key,
    verify,
    verify_markdown,
)

__all__ = ["CODES", "Finding", "Severity", "Verification", "Verifier", "indication_names", "iter_codes",
           "normalise_key", "verify", "verify_markdown"]
