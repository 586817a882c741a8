"""A webhook receiver on 127.0.0.1 that records what it got and can be told to fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    fail_next: int = 0  # answer 500 to this many requests first
    always_fail: bool = False
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    got: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receiver() -> Iterator[tuple[str, Received]]:
    state = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.attempts += 1
            if state.always_fail or state.fail_next > 0:
                state.fail_next -= 1
                self.send_response(500)
            else:
                state.bodies.append(body)
                state.headers.append(dict(self.headers))
                state.got.set()
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    finally:
        server.shutdown()
        server.server_close()
