"""Drafting from recorded model responses (vcrpy cassettes), so the pipeline runs with no API key.

The cassettes in ``cassettes/`` were recorded by running the real openai client against a local
OpenAI-compatible server (see ``cassettes/README.md``). Replaying serves those HTTP responses to the
same real client; requests are matched on method, path and body, so a changed prompt or pack finds
no recorded answer and fails loudly instead of drafting from a stale one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai

from drafter.errors import UserError

REPLAY_BASE_URL = "https://api.openai.com/v1"
REPLAY_API_KEY = "replay-no-key"


class ReplayMiss(UserError):
    """A request with no recorded response: the prompts, the pack or the model changed."""


@contextlib.contextmanager
def replaying(cassette: str | os.PathLike[str], *, asynchronous: bool = False) -> Iterator[Any]:
    """A client (``openai.OpenAI``, or ``AsyncOpenAI`` when ``asynchronous``) served from ``cassette``."""
    path = Path(cassette)
    if not path.is_file():
        raise UserError(f"{path}: no such cassette (see cassettes/README.md for how cassettes are recorded)")
    try:
        import vcr
        from vcr.errors import CannotOverwriteExistingCassetteException
    except ImportError:
        raise UserError("--replay needs vcrpy: pip install 'drafter[replay]'") from None
    recorder = vcr.VCR(record_mode="none", match_on=("method", "path", "body"), decode_compressed_response=True)
    factory = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    client = factory(api_key=REPLAY_API_KEY, base_url=REPLAY_BASE_URL, max_retries=0)
    try:
        with recorder.use_cassette(str(path), allow_playback_repeats=True):
            yield client
    except CannotOverwriteExistingCassetteException as exc:
        raise ReplayMiss(f"{path}: no recorded response for a request ({str(exc).splitlines()[0]}); the prompts, the "
                         "pack or the model differ from the recording - re-record (cassettes/README.md)") from None
