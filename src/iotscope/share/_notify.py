"""Wake-ups for push (SSE streams, the webhook worker) when a collection gains objects.

In one process :meth:`Notifier.publish` wakes waiters at once (no polling interval): an
asyncio waiter through its loop's ``call_soon_threadsafe``, a thread through a
``threading.Event``. Across processes on PostgreSQL, writers ``NOTIFY`` on commit
(:data:`iotscope.share._hubstore.PG_CHANNEL`) and :func:`start_pg_listener` relays them here;
on SQLite there is no such channel, so waiters also wake every ``poll`` seconds and look in
the store (``SQLITE_POLL``). A wake-up carries no data: the waiter reads the store from its
own cursor, so a lost or duplicated wake-up loses or duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable

from sqlalchemy import Engine

log = logging.getLogger(__name__)
SQLITE_POLL = 0.25
PG_POLL = 5.0

ANY = "*"


class Notifier:
    """Per-collection wake-ups; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Callable[[], None]]] = {}

    def publish(self, collection_id: str) -> None:
        """Wake everyone waiting on ``collection_id`` (and on any collection)."""
        with self._lock:
            targets = [*self._waiters.get(collection_id, ()), *self._waiters.get(ANY, ())]
        for wake in targets:
            wake()

    def _add(self, collection_id: str, wake: Callable[[], None]) -> None:
        with self._lock:
            self._waiters.setdefault(collection_id, set()).add(wake)

    def _remove(self, collection_id: str, wake: Callable[[], None]) -> None:
        with self._lock:
            self._waiters.get(collection_id, set()).discard(wake)

    async def wait(self, collection_id: str, timeout: float) -> bool:
        """Wait (in asyncio) for a publish on ``collection_id``; False on timeout."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(event.set)

        self._add(collection_id, wake)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._remove(collection_id, wake)

    def subscribe_thread(
        self, collection_id: str = ANY
    ) -> tuple[threading.Event, Callable[[], None]]:
        """A ``threading.Event`` set on each publish, and the function that unsubscribes."""
        event = threading.Event()
        self._add(collection_id, event.set)
        return event, lambda: self._remove(collection_id, event.set)


_NOTIFIERS: weakref.WeakKeyDictionary[Engine, Notifier] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def notifier_for(engine: Engine) -> Notifier:
    """The process's notifier for the store on ``engine`` (one per engine)."""
    with _GUARD:
        n = _NOTIFIERS.get(engine)
        if n is None:
            n = _NOTIFIERS[engine] = Notifier()
        return n


def poll_interval(engine: Engine) -> float:
    """How often a waiter re-reads the store without a wake-up (see the module docstring)."""
    return PG_POLL if engine.dialect.name == "postgresql" else SQLITE_POLL


def start_pg_listener(engine: Engine, stop: threading.Event) -> threading.Thread | None:
    """Relay PostgreSQL ``NOTIFY`` of other processes to this process's notifier (a daemon
    thread on its own connection); None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    from iotscope.share._hubstore import PG_CHANNEL

    notifier = notifier_for(engine)

    def run() -> None:
        import psycopg

        url = engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {PG_CHANNEL}")
                    while not stop.is_set():
                        for n in conn.notifies(timeout=1.0):
                            notifier.publish(n.payload)
            except Exception as exc:  # the database went away: retry, waiters still poll
                log.warning("hub LISTEN connection lost: %s", exc)
                stop.wait(1.0)

    thread = threading.Thread(target=run, name="hub-pg-listen", daemon=True)
    thread.start()
    return thread
