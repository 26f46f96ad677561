"""Run the scripted server by hand: ``python -m tests.llm_server --steps FILE.json --port N``.

For poking at the server with curl or a local script while writing a scenario.
The steps file is a JSON list of steps (``respond`` callables cannot be written
in JSON, so every step is a literal ``json``/``body``/``status``/``headers``/
``delay``/``drop`` step).  The base URL is printed on stdout; the server stops
after ``--lifetime`` seconds (default 120), ``--max-requests`` requests, or
Ctrl-C, whichever comes first: like the in-test server, it cannot be left
running by accident.  Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .server import DEFAULT_LIFETIME, DEFAULT_MAX_REQUESTS, ScriptedOpenAIServer

_MAX_LIFETIME = 3600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.llm_server", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=Path, help="JSON file holding a list of steps (default: none)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: 0, an ephemeral port)")
    parser.add_argument(
        "--lifetime",
        type=float,
        default=DEFAULT_LIFETIME,
        help=f"seconds before the server stops itself (default {DEFAULT_LIFETIME:g}, at most {_MAX_LIFETIME:g})",
    )
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    args = parser.parse_args(argv)
    if not 0 < args.lifetime <= _MAX_LIFETIME:
        parser.error(f"--lifetime must be in (0, {_MAX_LIFETIME:g}]")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be in [0, 65535]")

    steps: list[dict[str, object]] = []
    if args.steps is not None:
        loaded = json.loads(args.steps.read_text(encoding="utf-8"))
        if not isinstance(loaded, list):
            parser.error("--steps must hold a JSON list of steps")
        steps = loaded
    try:
        server = ScriptedOpenAIServer(steps, lifetime=args.lifetime, max_requests=args.max_requests, port=args.port)
    except (TypeError, ValueError) as exc:
        parser.error(f"bad step: {exc}")
    with server:
        print(server.base_url, flush=True)
        print(
            f"{len(steps)} step(s) queued; stops after {args.lifetime:g} s or {args.max_requests} requests",
            file=sys.stderr,
            flush=True,
        )
        try:
            server.wait_stopped()
        except KeyboardInterrupt:
            pass
        reason = server.stopped_reason or "interrupted"
    print(
        f"stopped ({reason}); {len(server.requests)} request(s), {server.pending} step(s) unused",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
