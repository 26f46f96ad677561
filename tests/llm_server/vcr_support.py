"""The vcrpy configuration drafter's cassette tests use.

Recording: run a test with ``DRAFTER_RECORD=1`` (and ``CI`` unset) while the
test points the real ``openai`` client at a :class:`ScriptedOpenAIServer`; the
cassette is rewritten from scratch.  Everywhere else (CI, a plain
``python -m pytest``) the record mode is ``"none"``: cassettes are replayed and
any request that does not match a recorded one raises
``vcr.errors.CannotOverwriteExistingCassetteException``.  No network is used in
replay: vcrpy patches ``httpx2.HTTPTransport.handle_request``, the transport the
openai 3.x SDK sends through, and answers from the cassette.

Matching is on ``method``, ``path`` and ``body``.  The body is matched because
the prompt *is* what the tests check: if a prompt template changes, the
recorded answer no longer belongs to it, and the test must fail until the
cassette is re-recorded.  vcrpy compares ``application/json`` bodies after
``json.loads``, so key order and whitespace do not matter.  Scheme, host and
port are deliberately not matched: the scripted server listens on an ephemeral
port, and replay must work against any ``base_url``.

What is removed before anything is written (so cassettes hold nothing
account-specific and re-recording yields the same bytes):

* request headers ``authorization``, ``proxy-authorization``, ``api-key``,
  ``x-api-key``, ``x-goog-api-key``, ``openai-organization``,
  ``openai-project``, ``cookie`` (and ``host``, which only repeats the
  ephemeral port);
* credential parameters of a query string (``?key=``, ``api_key=``,
  ``access_token=``, ... see :data:`QUERY_SECRETS`) in the recorded URI;
* a loopback origin (``http://127.0.0.1:54321``) in the recorded URI becomes
  :data:`RECORDED_ORIGIN`; the path is kept;
* ``sk-...`` API keys of any length, bearer/basic tokens and ``AIza...``
  Google keys anywhere in request or response bodies;
* response headers ``set-cookie``, ``openai-organization``, ``openai-project``,
  ``x-request-id``, ``request-id``, ``cf-ray``, ``cf-cache-status``,
  ``server``, ``date`` and every ``x-ratelimit-*``.

The ``user-agent`` and ``x-stainless-*`` request headers are kept: they
identify the SDK/Python/OS that recorded the cassette, not an account.  They
change (and so do the cassette bytes) when re-recorded with another SDK
version, Python or OS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import vcr
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serializers import yamlserializer

__all__ = [
    "DEFAULT_CASSETTE_DIR",
    "FILTERED_REQUEST_HEADERS",
    "FILTERED_RESPONSE_HEADERS",
    "MATCH_ON",
    "RECORDED_ORIGIN",
    "assert_all_played",
    "cassette_leaks",
    "make_vcr",
    "record_mode_from_env",
    "scrub_request",
    "scrub_response",
    "strict_cassette",
]

#: The repository's cassette directory (``<repo>/cassettes``).
DEFAULT_CASSETTE_DIR = Path(__file__).resolve().parents[2] / "cassettes"

MATCH_ON: tuple[str, ...] = ("method", "path", "body")

#: Request headers that identify an account or carry a credential.
FILTERED_REQUEST_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "x-goog-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    # Machine-specific (SDK, Python and OS versions, per-call retry counters): dropped so that a
    # re-recording on another machine gives the same bytes.
    "user-agent",
    "x-stainless-lang",
    "x-stainless-package-version",
    "x-stainless-os",
    "x-stainless-arch",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-async",
    "x-stainless-retry-count",
    "x-stainless-read-timeout",
    "x-stainless-raw-response",
)

#: Response headers that are account-specific or differ on every call.
FILTERED_RESPONSE_HEADERS: frozenset[str] = frozenset(
    {
        "set-cookie",
        "openai-organization",
        "openai-project",
        "x-request-id",
        "request-id",
        "cf-ray",
        "cf-cache-status",
        "server",
        "date",
    }
)
_FILTERED_RESPONSE_PREFIXES: tuple[str, ...] = ("x-ratelimit-",)

#: What a loopback ``scheme://host:port`` is rewritten to in recorded URIs.
#: ``.invalid`` is reserved (RFC 2606) and never resolves, so the cassette
#: cannot be mistaken for a recording of the real API, and the ephemeral port
#: does not change the bytes on every re-recording.
RECORDED_ORIGIN = "http://scripted-openai.invalid"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# An OpenAI secret key: sk-..., sk-proj-..., sk-svcacct-..., sk-admin-...
# The look-behind keeps words such as "risk-stratification" from matching.
# Any length: a short test or proxy key is still a key (the replacement itself never matches).
_SECRET_KEY_RE = re.compile(r"(?<![A-Za-z0-9_-])sk-(?!REDACTED\b)[A-Za-z0-9_-]{3,}")
_SECRET_KEY_REPLACEMENT = "sk-REDACTED"
_BEARER_RE = re.compile(r"\b([Bb]earer|Basic)\s+(?!REDACTED\b)(?:(?<=earer )[A-Za-z0-9._~+/=-]{4,}|[A-Za-z0-9+/]{6,}={0,2}(?![A-Za-z0-9-]))")
_GOOGLE_KEY_RE = re.compile(r"\bAIza[0-9A-Za-z_-]{10,}")
#: Query-string parameters that carry a credential (``?key=...`` for Google, ``api_key=``, tokens).
QUERY_SECRETS = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token", "auth", "signature"})
_QUERY_SECRET_RE = re.compile(r"(?i)[?&](?:" + "|".join(re.escape(n) for n in sorted(QUERY_SECRETS))
                              + r")=(?!REDACTED\b)[^&\s#'\"]+")
_LEAK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("API key (sk-...)", _SECRET_KEY_RE),
    ("bearer token", _BEARER_RE),
    ("Google API key (AIza...)", _GOOGLE_KEY_RE),
    ("credential in a query string", _QUERY_SECRET_RE),
    ("organisation id (org-...)", re.compile(r"(?<![A-Za-z0-9_-])org-[A-Za-z0-9]{16,}")),
    ("project id (proj_...)", re.compile(r"(?<![A-Za-z0-9_-])proj_[A-Za-z0-9]{16,}")),
)
_LEAKY_REQUEST_HEADERS = frozenset(FILTERED_REQUEST_HEADERS)
_LEAKY_RESPONSE_HEADERS = frozenset({"set-cookie", "openai-organization", "openai-project"})


# --------------------------------------------------------------------- filters


def _scrub_text(text: str) -> str:
    text = _SECRET_KEY_RE.sub(_SECRET_KEY_REPLACEMENT, text)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)} REDACTED", text)
    return _GOOGLE_KEY_RE.sub("AIza-REDACTED", text)


def _scrub_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
        return _scrub_text(text).encode("utf-8")
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def scrub_query(query: str) -> str:
    """A query string with the value of every credential parameter (:data:`QUERY_SECRETS`) redacted."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "REDACTED" if k.lower() in QUERY_SECRETS else v) for k, v in pairs], safe="-")


def scrub_request(request: Request) -> Request:
    """``before_record_request``: redact ``sk-`` keys in the body, normalise a loopback origin.

    vcrpy runs this (on a copy) both before recording and before matching, so
    the redaction and URI rewrite are applied identically to both sides and do
    not break body matching.
    """
    request.body = _scrub_bytes(request.body)
    parts = urlsplit(request.uri)
    if parts.query:
        parts = parts._replace(query=scrub_query(parts.query))
        request.uri = urlunsplit(parts)
    if parts.hostname in _LOOPBACK_HOSTS:
        origin = urlsplit(RECORDED_ORIGIN)
        request.uri = urlunsplit((origin.scheme, origin.netloc, parts.path, parts.query, parts.fragment))
        headers = request.headers.copy()
        headers.pop("host", None)
        request.headers = headers
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """``before_record_response``: drop account-specific/volatile headers, redact ``sk-`` keys.

    Error bodies can echo a key (``Incorrect API key provided: sk-proj-...``),
    hence the body redaction.  vcrpy hands us a deep copy, so mutating is safe.
    """
    headers = response.get("headers") or {}
    response["headers"] = {
        name: value
        for name, value in headers.items()
        if name.lower() not in FILTERED_RESPONSE_HEADERS
        and not name.lower().startswith(_FILTERED_RESPONSE_PREFIXES)
    }
    body = response.get("body")
    if isinstance(body, dict) and "string" in body:
        body["string"] = _scrub_bytes(body["string"])
    return response


# ---------------------------------------------------------------- configuration


def record_mode_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The vcrpy record mode for this run, from the environment.

    * ``CI`` set (to anything non-empty): ``"none"``, always.  CI must never
      record; a request missing from a cassette is a failure there.
    * ``DRAFTER_RECORD`` unset, empty or ``0``: ``"none"`` (replay only).
    * ``DRAFTER_RECORD=1`` (or ``all``): ``"all"``, re-record every cassette the
      run touches, from scratch.
    * ``DRAFTER_RECORD=new_episodes`` / ``once`` / ``none``: that vcrpy mode, for
      adding an interaction without re-recording the others.

    Anything else raises ``ValueError``, so a typo cannot silently replay.
    """
    env = os.environ if environ is None else environ
    if env.get("CI"):
        return RecordMode.NONE.value
    value = (env.get("DRAFTER_RECORD") or "").strip().lower()
    if value in ("", "0"):
        return RecordMode.NONE.value
    if value in ("1", "all"):
        return RecordMode.ALL.value
    if value in ("new_episodes", "once", "none"):
        return value
    raise ValueError(f"DRAFTER_RECORD={value!r}: expected 1, all, new_episodes, once, none or 0")


def make_vcr(cassette_dir: str | os.PathLike[str], record_mode: str) -> vcr.VCR:
    """A ``vcr.VCR`` configured for drafter's OpenAI cassettes (see module docstring).

    Beyond the matching and filtering described above:

    * ``decode_compressed_response=True``: bodies are stored as readable text
      even if a server gzip-encodes them.
    * ``record_mode="all"`` also sets ``drop_unused_requests`` so a re-recorded
      cassette holds exactly the interactions this run made; stale ones (an old
      prompt) are dropped instead of kept next to the new ones.  It is *not* set
      in other modes, where vcrpy would rewrite a committed cassette whenever a
      test used only part of it.
    * ``record_on_exception=False``: a test that fails while recording does not
      save a half-recorded cassette.
    * a ``.yaml`` suffix is added to cassette names that lack one.
    """
    mode = RecordMode(record_mode).value
    return vcr.VCR(
        cassette_library_dir=os.fspath(cassette_dir),
        record_mode=mode,
        match_on=MATCH_ON,
        decode_compressed_response=True,
        serializer="yaml",
        filter_headers=list(FILTERED_REQUEST_HEADERS),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        drop_unused_requests=mode == RecordMode.ALL.value,
        record_on_exception=False,
        path_transformer=vcr.VCR.ensure_suffix(".yaml"),
    )


# ---------------------------------------------------------------------- checks


def assert_all_played(cassette: Cassette) -> None:
    """Raise ``AssertionError`` listing recorded interactions the test never used.

    A cassette with unused interactions means the code made fewer (or different)
    calls than when it was recorded, which a test must not ignore.  vcrpy's own
    ``cassette.all_played`` also counts interactions recorded during this run
    as unplayed, so this checks only those loaded from the file.  In ``"all"``
    mode nothing is replayed (everything is re-recorded), so nothing is checked.
    """
    if cassette.record_mode == RecordMode.ALL:
        return
    # vcrpy >= 9 keeps the number of interactions read from the file; older
    # versions did not, and then every interaction was loaded if it was rewound.
    loaded = getattr(cassette, "_loaded_count", None)
    if loaded is None:
        loaded = len(cassette.data) if cassette.rewound else 0
    unplayed = [index for index in range(loaded) if cassette.play_counts[index] == 0]
    if not unplayed:
        return
    lines = []
    for index in unplayed:
        request = cassette.data[index][0]
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        snippet = (body or "")[:160]
        lines.append(f"  #{index}: {request.method} {request.path} body={snippet!r}")
    raise AssertionError(
        f"cassette {getattr(cassette, 'path', cassette._path)} has {len(unplayed)} unplayed interaction(s) of {loaded}:\n" + "\n".join(lines)
    )


@contextmanager
def strict_cassette(
    name: str,
    *,
    cassette_dir: str | os.PathLike[str] = DEFAULT_CASSETTE_DIR,
    record_mode: str | None = None,
) -> Iterator[Cassette]:
    """Use cassette ``name`` and, if the block succeeds, :func:`assert_all_played`.

    The usual way for a drafter test to use a cassette: the record mode comes
    from :func:`record_mode_from_env` unless given.
    """
    mode = record_mode_from_env() if record_mode is None else record_mode
    with make_vcr(cassette_dir, mode).use_cassette(name) as cassette:
        yield cassette
    assert_all_played(cassette)


def _header_names(headers: Any) -> list[str]:
    return [str(name).lower() for name in headers] if isinstance(headers, Mapping) else []


def cassette_leaks(path: str | os.PathLike[str]) -> list[str]:
    """List everything in a cassette file that looks like a credential or account id.

    Checks request headers (authorization, api keys, organisation/project,
    cookie), response headers (set-cookie, organisation/project), and the whole
    text for ``sk-`` keys, bearer tokens, ``org-`` and ``proj_`` ids.  An empty
    list means clean.  Meant for a test over ``cassettes/*.yaml`` so a cassette
    recorded without these filters (by hand or by another tool) cannot be
    committed.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    problems: list[str] = []
    for label, pattern in _LEAK_PATTERNS:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found = match.group(0)
            problems.append(f"{p}:{line}: {label}: {found[:min(12, len(found) // 2)]}...")  # never the whole secret
    try:
        data = yamlserializer.deserialize(text)
    except Exception as exc:  # a cassette we cannot read is a cassette we cannot vouch for
        problems.append(f"{p}: not a readable YAML cassette ({type(exc).__name__}: {exc})")
        return problems
    interactions = data.get("interactions") if isinstance(data, Mapping) else None
    if not isinstance(interactions, list):
        problems.append(f"{p}: no 'interactions' list (not a vcrpy cassette?)")
        return problems
    for index, interaction in enumerate(interactions):
        if not isinstance(interaction, Mapping):
            continue
        request = interaction.get("request") or {}
        response = interaction.get("response") or {}
        for name in _header_names(request.get("headers") if isinstance(request, Mapping) else None):
            if name in _LEAKY_REQUEST_HEADERS:
                problems.append(f"{p}: interaction {index}: request header {name!r}")
        for name in _header_names(response.get("headers") if isinstance(response, Mapping) else None):
            if name in _LEAKY_RESPONSE_HEADERS:
                problems.append(f"{p}: interaction {index}: response header {name!r}")
    return problems
