"""A scripted OpenAI-compatible server and vcrpy helpers for drafter's cassette tests.

See README.md in this directory.  This package re-exports the names tests
normally need; the submodules hold the rest (e.g. ``vcr_support.RECORDED_ORIGIN``).
"""

from __future__ import annotations

from .server import NO_RESPONSE_LEFT, RecordedRequest, ScriptedOpenAIServer, Step, validate_step
from .vcr_support import (
    DEFAULT_CASSETTE_DIR,
    assert_all_played,
    cassette_leaks,
    make_vcr,
    record_mode_from_env,
    strict_cassette,
)
from .wire import (
    DEFAULT_CREATED,
    chat_completion,
    completion_id_for,
    completion_step,
    error_body,
    estimate_prompt_tokens,
    estimate_tokens,
    models_list,
)

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "DEFAULT_CREATED",
    "NO_RESPONSE_LEFT",
    "RecordedRequest",
    "ScriptedOpenAIServer",
    "Step",
    "assert_all_played",
    "cassette_leaks",
    "chat_completion",
    "completion_id_for",
    "completion_step",
    "error_body",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "make_vcr",
    "models_list",
    "record_mode_from_env",
    "strict_cassette",
    "validate_step",
]
