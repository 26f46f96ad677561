"""A scripted, OpenAI-compatible HTTP server on 127.0.0.1 for recording cassettes.

Why a real server and not an ``httpx2.MockTransport``: the cassettes must hold
what the real ``openai`` SDK sends and receives over its real HTTP stack
(headers, retries, timeouts, dropped connections, status-code mapping).  A mock
transport would bypass the parts of the client that fail in production.

Why scripted: no machine here reaches the OpenAI API.  Each response is a body
written on purpose (see :mod:`tests.llm_server.wire`) and served in FIFO order,
so a test decides exactly what "the model" says, including failures.

Safety bounds, because a forgotten background server must not outlive a test
run or become reachable from elsewhere:

* binds 127.0.0.1 only (there is deliberately no host parameter);
* stops itself after ``lifetime`` seconds (default 120) and after
  ``max_requests`` requests (default 1000);
* ``close()`` / ``__exit__`` shut it down and join its thread, cutting any
  scripted ``delay`` short;
* silent: no access log and no tracebacks on stderr (handler errors are kept
  in :attr:`ScriptedOpenAIServer.errors` instead).

A *step* is a dict; exactly one is consumed per ``POST /v1/chat/completions``:

``{"json": body, "status": 200, "headers": {...}}``
    Reply with ``body`` as JSON.  ``status`` defaults to 200.
``{"body": "raw text or bytes", ...}``
    Reply with a raw body instead of JSON (e.g. a truncated or HTML body).
``{"delay": seconds, "json": ...}``
    Wait before replying, to provoke a client timeout.
``{"drop": True}``
    Read the request, then close the socket without any response.
``{"respond": callable}``
    ``callable(request_json) -> step`` computes the step from the request
    (e.g. :func:`tests.llm_server.wire.completion_step`).

When the queue is empty the endpoint answers 500 with an error body saying
``scripted server: no response left``, so a test that makes an unplanned call
fails instead of silently passing.
"""

from __future__ import annotations

import collections
import hashlib
import json
import socket
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .wire import DEFAULT_CREATED, DEFAULT_MODELS, error_body, models_list

__all__ = [
    "CHAT_COMPLETIONS_PATH",
    "DEFAULT_LIFETIME",
    "DEFAULT_MAX_REQUESTS",
    "MODELS_PATH",
    "NO_RESPONSE_LEFT",
    "RecordedRequest",
    "ScriptedOpenAIServer",
    "Step",
    "validate_step",
]

Step = dict[str, Any]

DEFAULT_LIFETIME = 120.0
DEFAULT_MAX_REQUESTS = 1000
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
NO_RESPONSE_LEFT = "scripted server: no response left"

_STEP_KEYS = frozenset({"json", "body", "status", "headers", "delay", "drop", "respond"})
# Request headers never kept in `requests`: they carry credentials.
_SECRET_REQUEST_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "cookie"})
_MAX_BODY_BYTES = 32 * 1024 * 1024
# Upper bound on a scripted delay so a typo (delay=3000) cannot hang a test run.
_MAX_DELAY = 60.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (credentials removed).

    ``headers`` has lower-case names and never contains ``authorization``,
    ``api-key``, ``x-api-key`` or ``cookie``; ``had_authorization`` says whether
    the client sent an ``authorization`` header at all, which is all a test
    should need to know about it.  ``json`` is the parsed body, or ``None``
    when the body was empty or not JSON (``body`` keeps the raw bytes).
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any
    body: bytes = field(repr=False)
    had_authorization: bool


def validate_step(step: Mapping[str, Any], *, allow_respond: bool = True) -> Step:
    """Check a step's shape and return it as a plain dict.

    Validating when a step is enqueued (not when it is served) turns a typo such
    as ``{"jsn": ...}`` into an immediate error in the test that wrote it,
    instead of a confusing 500 from a background thread.
    """
    if not isinstance(step, Mapping):
        raise TypeError(f"a step must be a dict, got {type(step).__name__}")
    unknown = set(step) - _STEP_KEYS
    if unknown:
        raise ValueError(f"unknown step keys {sorted(unknown)}; allowed: {sorted(_STEP_KEYS)}")
    if "respond" in step:
        if not allow_respond:
            raise ValueError("a step computed by 'respond' cannot itself contain 'respond'")
        if len(step) != 1:
            raise ValueError("a 'respond' step must not have other keys")
        if not callable(step["respond"]):
            raise TypeError("'respond' must be callable(request_json) -> step")
        return dict(step)
    if step.get("drop"):
        extra = set(step) - {"drop", "delay"}
        if extra:
            raise ValueError(f"a 'drop' step sends nothing, so {sorted(extra)} would be ignored")
    else:
        if ("json" in step) == ("body" in step):
            raise ValueError("a step needs exactly one of 'json' or 'body' (or 'drop' / 'respond')")
        if "body" in step and not isinstance(step["body"], (str, bytes)):
            raise TypeError("'body' must be str or bytes")
    status = step.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"'status' must be an HTTP status code, got {status!r}")
    headers = step.get("headers", {})
    if not isinstance(headers, Mapping):
        raise TypeError("'headers' must be a dict of name -> str (or list of str)")
    delay = step.get("delay", 0)
    if not isinstance(delay, (int, float)) or not 0 <= delay <= _MAX_DELAY:
        raise ValueError(f"'delay' must be a number of seconds in [0, {_MAX_DELAY}], got {delay!r}")
    return dict(step)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its owner and never prints tracebacks."""

    daemon_threads = True
    owner: ScriptedOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        # The stdlib prints the traceback to stderr.  Clients that time out or
        # go away mid-response are expected here, so keep the error for
        # inspection and stay quiet.
        exc = sys.exc_info()[1]
        if exc is not None:
            self.owner._note_error(exc)


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the owning :class:`ScriptedOpenAIServer`."""

    server: _HTTPServer
    # HTTP/1.0: one request per connection.  No idle keep-alive connections are
    # left for shutdown to wait on, and a 'drop' affects exactly one request.
    protocol_version = "HTTP/1.0"
    server_version = "scripted-openai"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the per-request access log (it goes to stderr by default)."""

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def do_POST(self) -> None:
        self.server.owner._handle(self)

    do_PUT = do_POST
    do_PATCH = do_POST
    do_DELETE = do_POST

    def read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        if length < 0 or length > _MAX_BODY_BYTES:
            raise ValueError(f"refusing request body of {length} bytes")
        return self.rfile.read(length) if length else b""

    def send_body(self, status: int, body: bytes, headers: Mapping[str, str | Sequence[str]]) -> None:
        self.send_response(status)
        lower = {name.lower() for name in headers}
        if "content-type" not in lower:
            self.send_header("content-type", "application/json")
        for name, value in headers.items():
            if name.lower() == "content-length":
                continue
            for item in [value] if isinstance(value, str) else value:
                self.send_header(name, str(item))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class ScriptedOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 that replays scripted steps.

    Use as a context manager::

        with ScriptedOpenAIServer([{"json": chat_completion(...)}]) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
            client.chat.completions.create(...)
            assert server.requests[0].json["model"] == "gpt-4o-mini"

    The server starts in the constructor, so ``base_url`` is usable at once.
    """

    def __init__(
        self,
        steps: Iterable[Mapping[str, Any]] = (),
        *,
        lifetime: float = DEFAULT_LIFETIME,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        port: int = 0,
        models: Sequence[str] = DEFAULT_MODELS,
        created: int = DEFAULT_CREATED,
    ) -> None:
        if lifetime <= 0:
            raise ValueError("lifetime must be positive")
        if max_requests <= 0:
            raise ValueError("max_requests must be positive")
        self._lock = threading.Lock()
        self._steps: collections.deque[Step] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._stop_event = threading.Event()
        self._stopped_reason: str | None = None
        self._stop_lock = threading.Lock()
        self.lifetime = float(lifetime)
        self.max_requests = int(max_requests)
        self._models = tuple(models)
        self._created = created
        self.enqueue(*steps)

        self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"scripted-openai:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self._stop, args=("lifetime",))
        self._timer.daemon = True
        self._timer.start()

    # ----------------------------------------------------------------- public

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass as ``openai.OpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised while handling requests (e.g. a client hung up mid-reply)."""
        with self._lock:
            return list(self._errors)

    @property
    def pending(self) -> int:
        """How many scripted steps have not been served yet."""
        with self._lock:
            return len(self._steps)

    @property
    def running(self) -> bool:
        """False once the server has stopped, for whatever reason."""
        return not self._stop_event.is_set()

    @property
    def stopped_reason(self) -> str | None:
        """``None`` while running, else ``"closed"``, ``"lifetime"`` or ``"max_requests"``."""
        return self._stopped_reason

    def enqueue(self, *steps: Mapping[str, Any]) -> None:
        """Append steps to the FIFO queue (validated now, served one per chat request)."""
        checked = [validate_step(step) for step in steps]
        with self._lock:
            self._steps.extend(checked)

    def assert_drained(self) -> None:
        """Fail if scripted steps were left unserved: the code under test made fewer calls than scripted."""
        left = self.pending
        if left:
            raise AssertionError(f"scripted server: {left} step(s) were never requested")

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped (or ``timeout``); return whether it stopped."""
        if not self._stop_event.wait(timeout):
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop serving, close the listening socket and join the server thread. Idempotent."""
        self._stop("closed")
        self._timer.cancel()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped ({self._stopped_reason})"
        return f"<ScriptedOpenAIServer {self.base_url} {state}, {self.pending} step(s) pending>"

    # --------------------------------------------------------------- internals

    def _stop(self, reason: str) -> None:
        # Called from close(), the lifetime timer or a handler thread, never
        # from the serve_forever thread itself (shutdown() would deadlock there).
        with self._stop_lock:
            if self._stop_event.is_set():
                return
            self._stopped_reason = reason
            self._stop_event.set()  # wakes handlers sleeping in a 'delay'
            self._httpd.shutdown()
            self._httpd.server_close()

    def _stop_in_background(self, reason: str) -> None:
        threading.Thread(target=self._stop, args=(reason,), daemon=True).start()

    def _note_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _handle(self, handler: _Handler) -> None:
        """Record the request, then route it.  Runs on a per-connection handler thread."""
        try:
            raw = handler.read_body()
        except (ValueError, OSError) as exc:
            self._note_error(exc)
            handler.close_connection = True
            return
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        headers = {name.lower(): value for name, value in handler.headers.items()}
        had_authorization = "authorization" in headers
        for name in _SECRET_REQUEST_HEADERS:
            headers.pop(name, None)
        try:
            parsed: Any = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            parsed, bad_json = None, True
        request = RecordedRequest(
            method=handler.command,
            path=path,
            query=split.query,
            headers=headers,
            json=parsed,
            body=raw,
            had_authorization=had_authorization,
        )
        with self._lock:
            self._requests.append(request)
            count = len(self._requests)

        if self._stop_event.is_set():
            handler.close_connection = True
            return
        if count > self.max_requests:
            self._stop_in_background("max_requests")
            self._send_json(
                handler,
                500,
                error_body(
                    f"scripted server: request limit ({self.max_requests}) reached; shutting down",
                    "server_error",
                ),
            )
            return

        if path == MODELS_PATH and handler.command == "GET":
            self._send_json(handler, 200, models_list(self._models, created=self._created))
            return
        if path != CHAT_COMPLETIONS_PATH or handler.command != "POST":
            self._send_json(
                handler,
                404,
                error_body(f"Invalid URL ({handler.command} {path})", "invalid_request_error"),
            )
            return
        if bad_json or not isinstance(parsed, dict):
            # The real API's wording; no step is consumed for a malformed request.
            self._send_json(
                handler,
                400,
                error_body(
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
                    "contact us through our help center at help.openai.com.)",
                    "invalid_request_error",
                ),
            )
            return

        with self._lock:
            step = self._steps.popleft() if self._steps else None
        if step is None:
            self._send_json(
                handler,
                500,
                error_body(
                    f"{NO_RESPONSE_LEFT} for {handler.command} {path} (request #{count})",
                    "server_error",
                ),
            )
            return
        self._serve_step(handler, step, parsed)

    def _serve_step(self, handler: _Handler, step: Step, request_json: dict[str, Any]) -> None:
        if "respond" in step:
            try:
                step = validate_step(step["respond"](request_json), allow_respond=False)
            except Exception as exc:  # reported to the client and kept for the test
                self._note_error(exc)
                self._send_json(
                    handler,
                    500,
                    error_body(f"scripted server: respond callable failed: {exc!r}", "server_error"),
                )
                return
        delay = float(step.get("delay", 0))
        if delay and self._stop_event.wait(delay):
            handler.close_connection = True  # shutting down: give up without a reply
            return
        if step.get("drop"):
            self._drop(handler)
            return
        if "json" in step:
            body = json.dumps(step["json"], ensure_ascii=False).encode()
        else:
            raw = step["body"]
            body = raw.encode() if isinstance(raw, str) else raw
        headers = self._default_headers(body)
        headers.update(step.get("headers", {}))
        try:
            handler.send_body(int(step.get("status", 200)), body, headers)
        except OSError as exc:  # client went away (e.g. it timed out during a delay)
            self._note_error(exc)
            handler.close_connection = True

    @staticmethod
    def _default_headers(body: bytes) -> dict[str, str | Sequence[str]]:
        # The non-secret headers the real API sends on every response.  They are
        # deterministic (x-request-id is a body hash) and vcr_support strips the
        # account-specific ones anyway.
        return {
            "content-type": "application/json",
            "openai-version": "2020-10-01",
            "openai-processing-ms": "1",
            "x-request-id": "req_" + hashlib.sha256(body).hexdigest()[:32],
        }

    @staticmethod
    def _drop(handler: _Handler) -> None:
        """Close the connection without sending a single byte of response."""
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_json(self, handler: _Handler, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        try:
            handler.send_body(status, body, self._default_headers(body))
        except OSError as exc:
            self._note_error(exc)
            handler.close_connection = True
