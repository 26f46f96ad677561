"""The verifier's checks, one module per kind of claim.

This package is being filled in: the public entry points (``drafter.verify``,
``drafter.verify_markdown``, ``drafter.Verifier``) still live in :mod:`drafter.verifier` and call into
the modules here.
"""
