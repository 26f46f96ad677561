"""Drafting from recorded model responses (vcrpy cassettes), so the pipeline runs with no API key.

The cassettes in ``cassettes/`` were recorded by running the real openai client against a local
OpenAI-compatible server (see ``cassettes/README.md``). Replaying serves those HTTP responses to the
same real client; requests are matched on method, path and body, so a changed prompt or pack finds
no recorded answer and fails loudly instead of drafting from a stale one.

File uploads (the Batch API's ``files.create``) are ``multipart/form-data``, whose boundary the HTTP
client draws at random for every request; their bodies are therefore compared field by field (names,
file names, contents), never byte for byte. And a polled batch asks the same question several times
(``GET /v1/batches/{id}``) and gets different answers, so ``repeats=False`` plays each recorded
interaction once, in the recorded order.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai

from drafter.errors import UserError

REPLAY_BASE_URL = "https://api.openai.com/v1"
REPLAY_API_KEY = "replay-no-key"


_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


class ReplayMiss(UserError):
    """A request with no recorded response: the prompts, the pack or the model changed."""


def _header(request: Any, wanted: str) -> str:
    for name, value in (getattr(request, "headers", None) or {}).items():
        if str(name).lower() == wanted:
            value = value[0] if isinstance(value, list | tuple) and value else value
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


def form_fields(request: Any) -> list[tuple[str, bytes]] | None:
    """A multipart/form-data body as (content-disposition, content) per part; None for any other body.

    A part's own Content-Type is left out: the client guesses it from the file name with the
    machine's mimetypes database, so the same upload differs between machines.
    """
    content_type = _header(request, "content-type")
    match = _BOUNDARY_RE.search(content_type) if content_type.lower().startswith("multipart/form-data") else None
    body = getattr(request, "body", None)
    body = body.encode("utf-8") if isinstance(body, str) else body
    if match is None or not isinstance(body, bytes):
        return None
    chunks = body.split(b"--" + match.group(1).encode("latin-1"))
    fields = []
    for chunk in chunks[1:-1]:
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")  # each part sits between CRLFs
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        fields.append((disposition, data))
    return fields


def multipart_aware_body(r1: Any, r2: Any) -> None:
    """vcrpy ``body`` matcher: multipart uploads field by field, every other body as vcrpy compares it."""
    fields1, fields2 = form_fields(r1), form_fields(r2)
    if fields1 is None or fields2 is None:
        from vcr.matchers import body

        body(r1, r2)
        return
    if fields1 != fields2:
        raise AssertionError("the uploaded form fields differ")


def check_cassette(path: Path) -> None:
    """A one-line UserError unless ``path`` is a vcrpy cassette (YAML with a list of interactions)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: not a cassette: cannot read it as YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise UserError(f"{path}: not a cassette: expected YAML with an 'interactions' list (a vcrpy recording; "
                        "see cassettes/README.md)")


@contextlib.contextmanager
def replaying(cassette: str | os.PathLike[str], *, asynchronous: bool = False, repeats: bool = True) -> Iterator[Any]:
    """A client (``openai.OpenAI``, or ``AsyncOpenAI`` when ``asynchronous``) served from ``cassette``.

    From Python: ``with drafter.replaying("cassettes/examples.yaml") as client:
    drafter.draft_report(pack, client=client)``.

    With ``repeats`` (the default) a recorded answer may be served again; without, each is served
    once and identical requests get their answers in the recorded order (a polled batch).
    """
    path = Path(cassette)
    if not path.is_file():
        raise UserError(f"{path}: no such cassette (see cassettes/README.md for how cassettes are recorded)")
    try:
        import vcr
        from vcr.errors import CannotOverwriteExistingCassetteException
    except ImportError:
        raise UserError("--replay needs vcrpy: pip install 'drafter[replay]'") from None
    check_cassette(path)
    recorder = vcr.VCR(record_mode="none", match_on=("method", "path", "body"), decode_compressed_response=True)
    recorder.register_matcher("body", multipart_aware_body)
    factory = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    client = factory(api_key=REPLAY_API_KEY, base_url=REPLAY_BASE_URL, max_retries=0)
    try:
        with recorder.use_cassette(str(path), allow_playback_repeats=repeats):
            yield client
    except CannotOverwriteExistingCassetteException as exc:
        raise ReplayMiss(f"{path}: no recorded response for a request ({str(exc).splitlines()[0]}); the prompts, the "
                         "pack or the model differ from the recording - re-record (cassettes/README.md)") from None
