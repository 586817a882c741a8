"""An ISP's subscription to the hub's stream of new objects (server-sent events).

The hub sends each object added to a collection as an ``event: stix`` with the object as JSON
``data`` and a cursor as ``id`` at ``<collection>/stream/`` (WHATWG HTML, "Server-sent
events"). A :class:`Subscription` reads the stream with httpx-sse in a thread, hands each
object and the wall-clock time it arrived to ``on_object``, and after an error reconnects with
``Last-Event-ID`` (backing off), so nothing is missed across a reconnect once one event has
arrived (before that the hub starts a new stream at the present).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import connect_sse

__all__ = ["Subscription"]

OnObject = Callable[[dict[str, Any], float], None]


class Subscription:
    """Follows ``stream_url`` with ``token`` from :meth:`start` until :meth:`close`."""

    def __init__(
        self, stream_url: str, token: str, on_object: OnObject, *, last_id: str | None = None
    ) -> None:
        self.url = stream_url
        self.token = token
        self.on_object = on_object
        self.last_id = last_id
        self.connected = threading.Event()
        self.errors = 0
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=60.0))
        self._thread = threading.Thread(target=self._run, name="sse", daemon=True)

    def start(self, wait: float = 10.0) -> Subscription:
        """Start reading; return once the hub has answered (or after ``wait`` seconds)."""
        self._thread.start()
        self.connected.wait(wait)
        return self

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            self._client.close()  # ends a blocked read in the thread
        self._thread.join(5.0)

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                with connect_sse(self._client, "GET", self.url, headers=headers) as source:
                    source.response.raise_for_status()
                    self.connected.set()
                    delay = 0.2
                    for event in source.iter_sse():
                        if event.event == "stix" and event.data:
                            self.on_object(json.loads(event.data), time.time())
                        self.last_id = event.id or self.last_id
            except (httpx.HTTPError, ValueError, RuntimeError):
                if self._stop.is_set():
                    return
                self.errors += 1
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
