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
``{"content_length": n, "json": ...}``
    Announce ``n`` as the Content-Length (e.g. more than is sent: a reply cut short).
``{"trickle": seconds, "json": ...}``
    Send the body one byte at a time, ``seconds`` apart (a server that never trips a read timeout).
``{"drop": True}``
    Read the request, then close the socket without any response.
``{"respond": callable}``
    ``callable(request_json) -> step`` computes the step from the request
    (e.g. :func:`tests.llm_server.wire.completion_step`).

When the queue is empty the endpoint answers with the ``default`` step if the
server has one (any number of times; a ``respond`` default is called per
request), else 500 with an error body saying ``scripted server: no response
left``, so a test that makes an unplanned call fails instead of silently passing.

``latency`` adds a fixed wait before every chat reply (in the handler thread),
and :attr:`ScriptedOpenAIServer.chat_calls` / ``max_in_flight`` count the chat
requests and the most that were being handled at once, for concurrency tests
and benchmarks.

The Batch API is served too (``/v1/files`` and ``/v1/batches``, see
:meth:`ScriptedOpenAIServer._batch_api`): uploads are kept in memory, a batch
advances one status per ``GET /v1/batches/{id}`` and, when it completes, each
input line is answered by the same responder as a chat request (the queue
first, then ``default``).
"""

from __future__ import annotations

import collections
import copy
import hashlib
import json
import re
import socket
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .wire import (
    BATCH_COMPLETION_WINDOW_SECONDS,
    DEFAULT_CREATED,
    DEFAULT_MODELS,
    batch_output_line,
    error_body,
    file_object,
    jsonl,
    models_list,
    parse_jsonl,
    parse_multipart,
)

__all__ = [
    "BATCHES_PATH",
    "CHAT_COMPLETIONS_PATH",
    "DEFAULT_BATCH_POLLS_TO_COMPLETE",
    "DEFAULT_LIFETIME",
    "DEFAULT_MAX_REQUESTS",
    "FILES_PATH",
    "MODELS_PATH",
    "NO_RESPONSE_LEFT",
    "RecordedRequest",
    "ScriptedOpenAIServer",
    "Step",
    "StoredFile",
    "validate_step",
]

Step = dict[str, Any]

DEFAULT_LIFETIME = 120.0
DEFAULT_MAX_REQUESTS = 1000
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
FILES_PATH = "/v1/files"
BATCHES_PATH = "/v1/batches"
NO_RESPONSE_LEFT = "scripted server: no response left"
DEFAULT_BATCH_POLLS_TO_COMPLETE = 3

_STEP_KEYS = frozenset({"json", "body", "status", "headers", "delay", "drop", "respond", "content_length",
                        "trickle"})
# Request headers never kept in `requests`: they carry credentials.
_SECRET_REQUEST_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "cookie"})
_MAX_BODY_BYTES = 32 * 1024 * 1024
# Upper bound on a scripted delay so a typo (delay=3000) cannot hang a test run.
_MAX_DELAY = 60.0
# Upper bound on everything uploaded or produced through /v1/files, kept in memory.
_MAX_STORED_BYTES = 256 * 1024 * 1024
_FILE_PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
_BATCH_ENDPOINTS = frozenset({CHAT_COMPLETIONS_PATH})
_BATCH_STAGES = ("validating", "in_progress", "finalizing", "completed")
_BATCH_CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})
_FILE_RE = re.compile(r"^/v1/files/([^/]+)$")
_FILE_CONTENT_RE = re.compile(r"^/v1/files/([^/]+)/content$")
_BATCH_RE = re.compile(r"^/v1/batches/([^/]+)$")
_BATCH_CANCEL_RE = re.compile(r"^/v1/batches/([^/]+)/cancel$")
_BAD_JSON_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)


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


@dataclass(frozen=True)
class StoredFile:
    """A file held by the server: its ``file`` object and its bytes."""

    info: dict[str, Any]
    content: bytes = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.info["id"])

    def lines(self) -> list[Any]:
        """The content parsed as JSON Lines (batch input, output and error files)."""
        return parse_jsonl(self.content)


class _Reply:
    """A computed HTTP reply: status, body bytes and headers beyond the defaults."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, payload: Any = None, *, raw: bytes | None = None,
                 content_type: str = "application/json") -> None:
        self.status = status
        self.body = raw if raw is not None else json.dumps(payload).encode()
        self.headers = {"content-type": content_type}


def _error(status: int, message: str, type: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> _Reply:
    return _Reply(status, error_body(message, type, code, param))


@dataclass
class _Batch:
    """A batch's state: the object the API returns, plus what the server needs to advance it."""

    obj: dict[str, Any]
    polls: int = 0
    lines: list[Any] = field(default_factory=list)


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
    trickle = step.get("trickle", 0)
    if not isinstance(trickle, (int, float)) or not 0 <= trickle <= _MAX_DELAY:
        raise ValueError(f"'trickle' must be a number of seconds in [0, {_MAX_DELAY}], got {trickle!r}")
    length = step.get("content_length")
    if length is not None and (not isinstance(length, int) or length < 0):
        raise ValueError(f"'content_length' must be a whole number of bytes, got {length!r}")
    return dict(step)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its owner and never prints tracebacks.

    The listen backlog is :data:`_LISTEN_BACKLOG`, not socketserver's 5: a batch opens one
    connection per concurrent call at once, and a full backlog drops the surplus SYNs, which the
    client's kernel retransmits a second later (calls of 1.3 s against a 0.3 s server).
    """

    daemon_threads = True
    request_queue_size = 128
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
    # HTTP/1.1 with keep-alive, as the real API: the SDK keeps its connections (httpx pools them),
    # and a server that closes each one makes every call pay a TCP connect. A reply that leaves the
    # connection unusable (a 'drop', a body shorter than its Content-Length, a trickle cut short)
    # closes it, so a fault still affects exactly one request; stopping the server ends idle
    # connections too (see ScriptedOpenAIServer._stop).
    protocol_version = "HTTP/1.1"
    server_version = "scripted-openai"
    # Each reply is written as headers then body: without TCP_NODELAY, Nagle's algorithm holds the
    # body back until the client's delayed ACK of the headers (up to 40 ms a call on Linux).
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this long (the SDK's pool expires its own after
    # 5 s, so the server never closes one the client is about to reuse).
    timeout = 60.0

    def setup(self) -> None:
        super().setup()
        self.server.owner._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._connection_closed(self.connection)

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

    def send_body(self, status: int, body: bytes, headers: Mapping[str, str | Sequence[str]], *,
                  content_length: int | None = None, trickle: float = 0.0,
                  stop: threading.Event | None = None) -> None:
        """Send one reply; ``content_length`` announces another length, ``trickle`` paces each byte."""
        self.send_response(status)
        lower = {name.lower() for name in headers}
        if "content-type" not in lower:
            self.send_header("content-type", "application/json")
        for name, value in headers.items():
            if name.lower() == "content-length":
                continue
            for item in [value] if isinstance(value, str) else value:
                self.send_header(name, str(item))
        self.send_header("content-length", str(len(body) if content_length is None else content_length))
        if content_length is not None and content_length != len(body):
            # The announced length is a lie: the connection cannot carry another request after it.
            self.close_connection = True
        self.end_headers()
        if not trickle:
            self.wfile.write(body)
            self.wfile.flush()
            return
        self.wfile.flush()
        for index in range(len(body)):
            if stop is not None and stop.wait(trickle):
                self.close_connection = True  # cut short: the rest of the body never comes
                return
            self.wfile.write(body[index:index + 1])
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
        latency: float = 0.0,
        default: Mapping[str, Any] | None = None,
        batch_polls_to_complete: int = DEFAULT_BATCH_POLLS_TO_COMPLETE,
    ) -> None:
        if lifetime <= 0:
            raise ValueError("lifetime must be positive")
        if max_requests <= 0:
            raise ValueError("max_requests must be positive")
        if not isinstance(latency, (int, float)) or not 0 <= latency <= _MAX_DELAY:
            raise ValueError(f"latency must be a number of seconds in [0, {_MAX_DELAY}], got {latency!r}")
        if not isinstance(batch_polls_to_complete, int) or batch_polls_to_complete < 1:
            raise ValueError(f"batch_polls_to_complete must be a positive int, got {batch_polls_to_complete!r}")
        self.latency = float(latency)
        self._default: Step | None = validate_step(default) if default is not None else None
        self.batch_polls_to_complete = batch_polls_to_complete
        self._chat_calls = 0
        self._in_flight = 0
        self._max_in_flight = 0
        # Batch API state.  _batch_lock serialises file/batch changes (and so the ids and the
        # clock); it is never held while _lock is wanted by a respond callable's caller.
        self._batch_lock = threading.RLock()
        self._files: dict[str, StoredFile] = {}
        self._batches: dict[str, _Batch] = {}
        self._stored_bytes = 0
        self._sequence = 0
        self._lock = threading.Lock()
        self._steps: collections.deque[Step] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._stop_event = threading.Event()
        #: Batch API: called with each result line (a dict) as a batch completes; whatever it returns is
        #: written instead (a dict, or raw str/bytes for a line that is not JSON). For malformed-output tests.
        self.output_line_hook: Any = None
        self._stopped_reason: str | None = None
        self._stop_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_opened = 0
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
    def default(self) -> Step | None:
        """The step served when the queue is empty (``None``: answer 500 instead)."""
        return self._default

    @property
    def chat_calls(self) -> int:
        """How many ``POST /v1/chat/completions`` requests arrived (batch lines are not counted)."""
        with self._lock:
            return self._chat_calls

    @property
    def in_flight(self) -> int:
        """How many chat requests are being handled right now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most chat requests that were being handled at the same time (latency included)."""
        with self._lock:
            return self._max_in_flight

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far: with keep-alive, far fewer than the requests."""
        with self._lock:
            return self._connections_opened

    @property
    def files(self) -> dict[str, StoredFile]:
        """Every file uploaded or produced (batch output/error files), by id."""
        with self._batch_lock:
            return dict(self._files)

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        """A copy of every batch object, by id, as ``GET /v1/batches/{id}`` would show it (without polling)."""
        with self._batch_lock:
            return {batch_id: copy.deepcopy(batch.obj) for batch_id, batch in self._batches.items()}

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
            with self._lock:
                connections = list(self._connections)
        for connection in connections:
            self._end_reading(connection)

    @staticmethod
    def _end_reading(connection: socket.socket) -> None:
        """Make a keep-alive connection's next read see end-of-file: an idle handler thread ends at
        once, a busy one finishes the reply it is writing and then ends (writing is not shut)."""
        try:
            connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            self._connections_opened += 1
        if self._stop_event.is_set():
            self._end_reading(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

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
        if path == CHAT_COMPLETIONS_PATH and handler.command == "POST":
            self._handle_chat(handler, path, parsed if not bad_json else None, count)
            return
        reply = self._batch_api(handler.command, path, request, bad_json)
        if reply is None:
            reply = _error(404, f"Invalid URL ({handler.command} {path})")
        self._send_reply(handler, reply)

    def _handle_chat(self, handler: _Handler, path: str, parsed: Any, count: int) -> None:
        """One chat request: counted, delayed by ``latency``, answered by the next step."""
        with self._lock:
            self._chat_calls += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            if self.latency and self._stop_event.wait(self.latency):
                handler.close_connection = True  # shutting down: give up without a reply
                return
            if not isinstance(parsed, dict):
                # The real API's wording; no step is consumed for a malformed request.
                self._send_json(handler, 400, error_body(_BAD_JSON_MESSAGE, "invalid_request_error"))
                return
            step = self._take_step()
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
        finally:
            with self._lock:
                self._in_flight -= 1

    def _take_step(self) -> Step | None:
        """The next scripted step, else the default step, else ``None``."""
        with self._lock:
            if self._steps:
                return self._steps.popleft()
        return self._default

    def _resolve_step(self, step: Step, request_json: dict[str, Any]) -> tuple[Step | None, dict[str, Any] | None]:
        """Run a ``respond`` step: ``(concrete step, None)``, or ``(None, 500 error body)`` if it failed."""
        if "respond" not in step:
            return step, None
        try:
            return validate_step(step["respond"](request_json), allow_respond=False), None
        except Exception as exc:  # reported to the client and kept for the test
            self._note_error(exc)
            return None, error_body(f"scripted server: respond callable failed: {exc!r}", "server_error")

    def _serve_step(self, handler: _Handler, step: Step, request_json: dict[str, Any]) -> None:
        concrete, failure = self._resolve_step(step, request_json)
        if concrete is None:
            self._send_json(handler, 500, failure)
            return
        step = concrete
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
            handler.send_body(int(step.get("status", 200)), body, headers, content_length=step.get("content_length"),
                              trickle=float(step.get("trickle", 0)), stop=self._stop_event)
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
        self._send_reply(handler, _Reply(status, payload))

    def _send_reply(self, handler: _Handler, reply: _Reply) -> None:
        headers = self._default_headers(reply.body)
        headers.update(reply.headers)
        try:
            handler.send_body(reply.status, reply.body, headers)
        except OSError as exc:
            self._note_error(exc)
            handler.close_connection = True

    # ------------------------------------------------------------- Batch API

    def _tick(self) -> int:
        """The next value of the server's clock: ``created`` plus a counter (deterministic)."""
        with self._batch_lock:
            self._sequence += 1
            return self._created + self._sequence

    @staticmethod
    def _hash(*parts: str | bytes) -> str:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def _batch_api(self, method: str, path: str, request: RecordedRequest, bad_json: bool) -> _Reply | None:
        """Route ``/v1/files`` and ``/v1/batches``; ``None`` for any other path.

        ``POST /v1/files`` (multipart ``file`` + ``purpose``), ``GET /v1/files``,
        ``GET|DELETE /v1/files/{id}``, ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
        ``GET /v1/batches``, ``GET /v1/batches/{id}`` (advances the batch one status) and
        ``POST /v1/batches/{id}/cancel``.  A known path with another method gets the same 404
        as an unknown path.
        """
        if path == FILES_PATH:
            if method == "POST":
                return self._create_file(request)
            if method == "GET":
                return self._list(self._files, lambda f: f.info)
            return None
        if path == BATCHES_PATH:
            if method == "POST":
                if bad_json or not isinstance(request.json, dict):
                    return _error(400, _BAD_JSON_MESSAGE)
                return self._create_batch(request.json)
            if method == "GET":
                return self._list(self._batches, lambda b: b.obj)
            return None
        if (match := _FILE_CONTENT_RE.match(path)) and method == "GET":
            stored = self.files.get(match.group(1))
            if stored is None:
                return self._no_such_file(match.group(1))
            return _Reply(200, raw=stored.content, content_type="application/octet-stream")
        if match := _FILE_RE.match(path):
            file_id = match.group(1)
            with self._batch_lock:
                stored = self._files.get(file_id)
                if stored is None:
                    return self._no_such_file(file_id) if method in ("GET", "DELETE") else None
                if method == "GET":
                    return _Reply(200, stored.info)
                if method == "DELETE":
                    del self._files[file_id]
                    self._stored_bytes -= len(stored.content)
                    return _Reply(200, {"id": file_id, "object": "file", "deleted": True})
            return None
        if (match := _BATCH_CANCEL_RE.match(path)) and method == "POST":
            return self._cancel_batch(match.group(1))
        if (match := _BATCH_RE.match(path)) and method == "GET":
            return self._poll_batch(match.group(1))
        return None

    def _list(self, items: Mapping[str, Any], view: Any) -> _Reply:
        with self._batch_lock:
            data = [copy.deepcopy(view(item)) for item in items.values()]
        data.reverse()  # newest first, as the API lists
        return _Reply(200, {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": False,
        })

    @staticmethod
    def _no_such_file(file_id: str) -> _Reply:
        return _error(404, f"No such File object: {file_id}", param="id")

    def _store_file(self, content: bytes, *, filename: str, purpose: str) -> StoredFile | None:
        """Keep ``content`` as a new file; ``None`` if the in-memory bound would be exceeded."""
        with self._batch_lock:
            if self._stored_bytes + len(content) > _MAX_STORED_BYTES:
                return None
            created_at = self._tick()
            file_id = "file-" + self._hash(str(self._sequence), purpose, filename, content)[:24]
            stored = StoredFile(
                file_object(file_id, size=len(content), created_at=created_at, filename=filename, purpose=purpose),
                content,
            )
            self._files[file_id] = stored
            self._stored_bytes += len(content)
            return stored

    def _create_file(self, request: RecordedRequest) -> _Reply:
        content_type = request.headers.get("content-type", "")
        try:
            parts = {part.name: part for part in parse_multipart(request.body, content_type)}
        except ValueError as exc:
            return _error(400, f"Invalid multipart/form-data body: {exc}")
        for name in ("purpose", "file"):
            if name not in parts:
                return _error(400, f"Missing required parameter: '{name}'.", code="missing_required_parameter",
                              param=name)
        purpose = parts["purpose"].data.decode("utf-8", "replace").strip()
        if purpose not in _FILE_PURPOSES:
            return _error(400, f"Invalid value for 'purpose': '{purpose}'. Supported values are: "
                          f"{', '.join(sorted(_FILE_PURPOSES))}.", code="invalid_value", param="purpose")
        filename = parts["file"].filename or "file"
        if purpose == "batch" and not filename.endswith(".jsonl"):
            return _error(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
        stored = self._store_file(parts["file"].data, filename=filename, purpose=purpose)
        if stored is None:
            return _error(400, f"scripted server: stored files would exceed {_MAX_STORED_BYTES} bytes", param="file")
        return _Reply(200, stored.info)

    def _create_batch(self, body: dict[str, Any]) -> _Reply:
        for name in ("input_file_id", "endpoint", "completion_window"):
            if name not in body:
                return _error(400, f"Missing required parameter: '{name}'.", code="missing_required_parameter",
                              param=name)
        endpoint = body["endpoint"]
        if endpoint not in _BATCH_ENDPOINTS:
            return _error(400, f"Invalid value for 'endpoint': {endpoint!r}. The scripted server supports only "
                          f"{', '.join(sorted(_BATCH_ENDPOINTS))}.", code="invalid_value", param="endpoint")
        if body["completion_window"] != "24h":
            return _error(400, f"Invalid value for 'completion_window': {body['completion_window']!r}. Supported "
                          "values are: '24h'.", code="invalid_value", param="completion_window")
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or len(metadata) > 16
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            return _error(400, "Invalid 'metadata': at most 16 string keys with string values.", param="metadata")
        file_id = str(body["input_file_id"])
        with self._batch_lock:
            stored = self._files.get(file_id)
            if stored is None:
                return _error(404, f"No such File object: {file_id}", param="input_file_id")
            if stored.info["purpose"] != "batch":
                return _error(400, f"The input file {file_id} must be uploaded with purpose 'batch', not "
                              f"{stored.info['purpose']!r}.", param="input_file_id")
            created_at = self._tick()
            batch_id = "batch_" + self._hash(str(self._sequence), file_id, endpoint,
                                             json.dumps(metadata, sort_keys=True))[:32]
            obj: dict[str, Any] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": endpoint,
                "model": None,
                "errors": None,
                "input_file_id": file_id,
                "completion_window": "24h",
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": created_at,
                "in_progress_at": None,
                "expires_at": created_at + BATCH_COMPLETION_WINDOW_SECONDS,
                "finalizing_at": None,
                "completed_at": None,
                "failed_at": None,
                "expired_at": None,
                "cancelling_at": None,
                "cancelled_at": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "usage": _zero_usage(),
                "metadata": metadata,
            }
            self._batches[batch_id] = _Batch(obj)
            return _Reply(200, copy.deepcopy(obj))

    def _poll_batch(self, batch_id: str) -> _Reply:
        """``GET /v1/batches/{id}``: advance the batch one poll, return it."""
        with self._batch_lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return _error(404, f"No such Batch object: {batch_id}", param="batch_id")
            status = batch.obj["status"]
            if status == "cancelling":
                batch.obj["status"] = "cancelled"
                batch.obj["cancelled_at"] = self._tick()
            elif status in _BATCH_STAGES[:-1]:
                batch.polls += 1
                n = self.batch_polls_to_complete
                target = 3 if batch.polls >= n else 2 if batch.polls == n - 1 else 1
                while batch.obj["status"] in _BATCH_STAGES[:-1] and _BATCH_STAGES.index(batch.obj["status"]) < target:
                    self._advance(batch)
            return _Reply(200, copy.deepcopy(batch.obj))

    def _advance(self, batch: _Batch) -> None:
        """Move a batch one stage on: validating -> in_progress -> finalizing -> completed (or failed)."""
        obj = batch.obj
        status = obj["status"]
        if status == "validating":
            lines, errors = self._validate_batch_input(obj)
            if errors:
                obj["status"] = "failed"
                obj["errors"] = {"object": "list", "data": errors}
                obj["failed_at"] = self._tick()
                return
            batch.lines = lines
            models = {line["body"].get("model") for line in lines}
            obj["model"] = models.pop() if len(models) == 1 else None
            obj["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
            obj["status"] = "in_progress"
            obj["in_progress_at"] = self._tick()
        elif status == "in_progress":
            obj["status"] = "finalizing"
            obj["finalizing_at"] = self._tick()
        elif status == "finalizing":
            self._complete(batch)

    def _validate_batch_input(self, obj: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Check every input line as the API does before running a batch: ``(lines, errors)``.

        ``errors`` are the batch's ``errors.data`` entries (``code``, ``line`` (1-based),
        ``message``, ``param``); any error fails the whole batch, as with the real API.
        """
        stored = self._files.get(obj["input_file_id"])
        if stored is None:  # deleted after the batch was created
            return [], [{"code": "file_not_found", "line": None, "param": "input_file_id",
                         "message": f"The input file {obj['input_file_id']} no longer exists."}]
        lines: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()

        def fail(number: int, code: str, param: str | None, message: str) -> None:
            errors.append({"code": code, "line": number, "message": message, "param": param})

        raw_lines = stored.content.decode("utf-8", "replace").splitlines()
        for number, raw in enumerate(raw_lines, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                fail(number, "invalid_json_line", None, "This line is not parseable as valid JSON.")
                continue
            if not isinstance(line, dict):
                fail(number, "invalid_json_line", None, "This line is not a JSON object.")
                continue
            missing = [name for name in ("custom_id", "method", "url", "body") if name not in line]
            if missing:
                fail(number, "missing_required_parameter", missing[0],
                     f"Missing required parameter: '{missing[0]}'.")
                continue
            custom_id = line["custom_id"]
            if not isinstance(custom_id, str) or not custom_id:
                fail(number, "invalid_value", "custom_id", "The custom_id must be a non-empty string.")
                continue
            if custom_id in seen:
                fail(number, "duplicate_custom_id", "custom_id",
                     "The custom_id for this request is a duplicate of another request. The custom_id "
                     "parameter must be unique for each request in a batch.")
                continue
            seen.add(custom_id)
            if line["method"] != "POST":
                fail(number, "invalid_value", "method", "The method for this request must be 'POST'.")
                continue
            if line["url"] != obj["endpoint"]:
                fail(number, "invalid_url", "url",
                     "The URL provided for this request does not prefix-match the batch endpoint.")
                continue
            if not isinstance(line["body"], dict):
                fail(number, "invalid_value", "body", "The body of this request must be a JSON object.")
                continue
            lines.append(line)
        if not lines and not errors:
            errors.append({"code": "empty_file", "line": None, "param": None,
                           "message": "The batch input file is empty."})
        return lines, errors

    def _answer_line(self, batch_id: str, index: int, line: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Answer one batch line like a chat request: ``(output line, succeeded)``.

        Delays are ignored (nothing waits on a batch line); a ``drop`` step, an empty queue
        without a default, and a failing ``respond`` become a 500 in the error file.
        """
        custom_id = line["custom_id"]
        step = self._take_step()
        payload: Any
        if step is None:
            status, payload = 500, error_body(
                f"{NO_RESPONSE_LEFT} for batch {batch_id} line {index + 1} ({custom_id})", "server_error")
        else:
            concrete, failure = self._resolve_step(step, line["body"])
            if concrete is None:
                status, payload = 500, failure
            elif concrete.get("drop"):
                status, payload = 500, error_body(
                    "scripted server: a 'drop' step answered a batch line; reported as a server error",
                    "server_error")
            else:
                status = int(concrete.get("status", 200))
                if "json" in concrete:
                    payload = concrete["json"]
                else:
                    raw = concrete["body"]
                    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                    try:
                        payload = json.loads(text)
                    except ValueError:
                        payload = text
        output = batch_output_line(
            "batch_req_" + self._hash(batch_id, str(index), custom_id)[:32],
            custom_id,
            status_code=status,
            request_id=self._hash("request", batch_id, str(index))[:32],
            body=payload,
        )
        return output, 200 <= status < 300

    def _complete(self, batch: _Batch) -> None:
        """Answer every line, write the output and error files, and mark the batch completed."""
        obj = batch.obj
        batch_id = obj["id"]
        succeeded: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        usage = _zero_usage()
        for index, line in enumerate(batch.lines):
            output, ok = self._answer_line(batch_id, index, line)
            hook = self.output_line_hook
            (succeeded if ok else failed).append(hook(output) if hook is not None else output)
            body = output["response"]["body"]
            counted = body.get("usage") if ok and isinstance(body, dict) else None
            if isinstance(counted, dict):
                usage["input_tokens"] += int(counted.get("prompt_tokens") or 0)
                usage["output_tokens"] += int(counted.get("completion_tokens") or 0)
                usage["input_tokens_details"]["cached_tokens"] += int(
                    (counted.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
                usage["output_tokens_details"]["reasoning_tokens"] += int(
                    (counted.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        for lines, key, suffix in ((succeeded, "output_file_id", "output"), (failed, "error_file_id", "error")):
            if lines:
                # A line is a dict (encoded as JSON) or, from output_line_hook, raw str/bytes (a malformed line).
                content = b"".join((item if isinstance(item, bytes) else item.encode() if isinstance(item, str)
                                    else jsonl([item]).rstrip(b"\n")) + b"\n" for item in lines)
                stored = self._store_file(content, filename=f"{batch_id}_{suffix}.jsonl", purpose="batch_output")
                if stored is None:
                    obj["status"] = "failed"
                    obj["errors"] = {"object": "list", "data": [{
                        "code": "server_error", "line": None, "param": None,
                        "message": f"scripted server: stored files would exceed {_MAX_STORED_BYTES} bytes"}]}
                    obj["failed_at"] = self._tick()
                    return
                obj[key] = stored.id
        obj["request_counts"] = {"total": len(batch.lines), "completed": len(succeeded), "failed": len(failed)}
        obj["usage"] = usage
        obj["status"] = "completed"
        obj["completed_at"] = self._tick()

    def _cancel_batch(self, batch_id: str) -> _Reply:
        """``POST /v1/batches/{id}/cancel``: ``cancelling`` now, ``cancelled`` at the next poll."""
        with self._batch_lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return _error(404, f"No such Batch object: {batch_id}", param="batch_id")
            status = batch.obj["status"]
            if status in _BATCH_CANCELLABLE:
                batch.obj["status"] = "cancelling"
                batch.obj["cancelling_at"] = self._tick()
            elif status not in ("cancelling", "cancelled"):
                return _error(409, f"Cannot cancel a batch with status '{status}'.")
            return _Reply(200, copy.deepcopy(batch.obj))


def _zero_usage() -> dict[str, Any]:
    return {
        "input_tokens": 0,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    }
