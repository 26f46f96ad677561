"""A scripted OpenAI-compatible server and vcrpy helpers for drafter's cassette tests.

See README.md in this directory.  This package re-exports the names tests
normally need; the submodules hold the rest (e.g. ``vcr_support.RECORDED_ORIGIN``).
"""

from __future__ import annotations

from .auto import auto_draft_step, scripted_by_pack
from .server import NO_RESPONSE_LEFT, RecordedRequest, ScriptedOpenAIServer, Step, StoredFile, validate_step
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
    batch_input_line,
    chat_completion,
    completion_id_for,
    completion_step,
    error_body,
    estimate_prompt_tokens,
    estimate_tokens,
    jsonl,
    models_list,
    parse_jsonl,
    with_multipart_support,
)

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "DEFAULT_CREATED",
    "NO_RESPONSE_LEFT",
    "RecordedRequest",
    "ScriptedOpenAIServer",
    "Step",
    "StoredFile",
    "assert_all_played",
    "auto_draft_step",
    "batch_input_line",
    "cassette_leaks",
    "chat_completion",
    "completion_id_for",
    "completion_step",
    "error_body",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "jsonl",
    "make_vcr",
    "models_list",
    "parse_jsonl",
    "record_mode_from_env",
    "scripted_by_pack",
    "strict_cassette",
    "validate_step",
    "with_multipart_support",
]
