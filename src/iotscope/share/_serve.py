"""Run the service (hub included) in a background thread of this process: for the demo and
for tests that need a real HTTP hub next to in-process code. ``iotscope serve`` is the
command-line way; this is the same app on the same uvicorn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from iotscope.errors import ConfigError
from iotscope.store import Store


@contextmanager
def serve_in_thread(store: Store, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``create_app(store)`` on ``host:port`` (0: a free port) until the block ends;
    yields the base URL (``http://host:port``)."""
    import socket

    import uvicorn

    from iotscope.service import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(store), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError("the hub did not start", listen=f"{host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
