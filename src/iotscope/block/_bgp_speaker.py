"""The asyncio edge of the BGP speaker: one TCP connection at a time to the ISP's router,
timers (hold, keepalive, connect retry), and reloading the blocklist.

The announced set follows the blocklist: it is recomputed every ``reload_every`` seconds, when
``reload`` is set (a hub event), and at the moment the next entry expires, so a C2 whose
``valid_until`` passes is withdrawn then, not at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from iotscope.block._bgp_session import Output, Session, SessionConfig
from iotscope.block._select import Entry, Selection

log = logging.getLogger(__name__)
Net = ipaddress.IPv4Network
OPEN_HOLD = 240.0  # RFC 4271 section 8.2.2: a large hold time until the OPEN arrives


@dataclass(frozen=True, slots=True)
class SpeakerOptions:
    peer_host: str
    peer_port: int
    session: SessionConfig
    local_address: str | None = None
    reload_every: float = 60.0
    connect_retry: float = 5.0


Changed = Callable[[frozenset[Net], Output, Selection, datetime], None]
"""Called after routes were announced or withdrawn: the routes announced now, the step's
output, the selection behind the routes and the time. Runs in one worker thread, in order, so
a slow store never stalls the session (keepalives, a prompt Cease on stop)."""


def routes_of(selection: Selection) -> dict[Net, Entry]:
    """The IPv4 routes to announce (the session carries IPv4 unicast only: IPv6 C2s are in
    the lists and the RPZ, not announced)."""
    return {Net(e.target.value): e for e in selection.addresses_v4()}


async def run_speaker(
    opts: SpeakerOptions,
    blocklist: Callable[[], Selection],
    stop: asyncio.Event,
    changed: Changed | None = None,
    reload: asyncio.Event | None = None,
) -> None:
    """Keep a session up (reconnecting after ``connect_retry``) until ``stop`` is set."""
    reload = reload or asyncio.Event()
    first: Selection | None = None
    while not stop.is_set():
        if first is None:  # know what to announce before opening a session (as ExaBGP does)
            try:
                first = await asyncio.to_thread(blocklist)
            except Exception as exc:
                log.warning("blocklist not available yet: %s", exc)
        try:
            local = (opts.local_address, 0) if opts.local_address else None
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(opts.peer_host, opts.peer_port, local_addr=local), 10
            )
        except (OSError, TimeoutError) as exc:
            log.info("BGP connect to %s:%s failed: %s", opts.peer_host, opts.peer_port, exc)
            if (
                first is not None
                and (datetime.now(UTC) - first.now).total_seconds() > opts.reload_every
            ):
                first = None  # too old to announce: recompute before the next try
        else:
            try:
                conn = _Connection(opts, reader, writer, blocklist, stop, reload, changed)
                await conn.run(first)
                first = None  # a new session recomputes
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), opts.connect_retry)


class _Connection:
    """One TCP connection's session: reads, timers and reloads multiplexed in one loop."""

    def __init__(
        self,
        opts: SpeakerOptions,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        blocklist: Callable[[], Selection],
        stop: asyncio.Event,
        reload: asyncio.Event,
        changed: Changed | None,
    ) -> None:
        self.opts, self.reader, self.writer = opts, reader, writer
        self.blocklist, self.stop, self.reload, self.changed = blocklist, stop, reload, changed
        self.session = Session(opts.session)
        self.entries: dict[Net, Entry] = {}
        self.selection: Selection | None = None
        self.loop = asyncio.get_running_loop()
        self.recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bgp-record")
        self.recording: list[asyncio.Future[None]] = []

    def _apply(self, out: Output) -> None:
        if out.send:
            self.writer.write(b"".join(out.send))
        if out.closed:
            log.info("BGP session closed: %s", out.closed)
        if (out.announced or out.withdrawn) and self.changed is not None:
            now = datetime.now(UTC)
            args = (
                frozenset(self.session.announced),
                out,
                self.selection or Selection("", now, ()),
            )
            self.recording.append(
                self.loop.run_in_executor(self.recorder, self.changed, *args, now)
            )

    def _install(self, selecting: asyncio.Future[Selection]) -> float:
        """Push a computed blocklist's difference; seconds until its next expiry."""
        try:
            selection = selecting.result()
        except Exception as exc:  # a source that fails keeps the routes we have
            log.warning("blocklist reload failed, keeping %d routes: %s", len(self.entries), exc)
            return self.opts.reload_every
        self.selection, self.entries = selection, routes_of(selection)
        self._apply(self.session.set_routes(set(self.entries)))
        if not self.entries:
            return self.opts.reload_every
        soonest = min(e.expires for e in self.entries.values())
        return max(0.05, (soonest - datetime.now(UTC)).total_seconds() + 0.01)

    def _select(self) -> asyncio.Future[Selection]:
        """Compute the blocklist in a thread: the session keeps answering meanwhile."""
        return asyncio.ensure_future(asyncio.to_thread(self.blocklist))

    async def run(self, first: Selection | None = None) -> None:
        self._apply(self.session.start())
        selecting: asyncio.Future[Selection] | None = None
        heard, next_reload, again = self.loop.time(), float("inf"), False
        if first is None:
            selecting = self._select()
        else:
            done: asyncio.Future[Selection] = self.loop.create_future()
            done.set_result(first)
            next_reload = self.loop.time() + min(self.opts.reload_every, self._install(done))
        next_keepalive = float("inf")
        read = asyncio.ensure_future(self.reader.read(65536))
        stop = asyncio.ensure_future(self.stop.wait())
        reload = asyncio.ensure_future(self.reload.wait())
        try:
            while self.session.state != "Closed":
                hold = self.session.hold_time if self.session.peer else OPEN_HOLD
                deadline = min(next_reload, next_keepalive, heard + hold if hold else float("inf"))
                waiting = {read, stop, reload} | ({selecting} if selecting else set())
                await asyncio.wait(
                    waiting,
                    timeout=max(0.0, deadline - self.loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                now = self.loop.time()
                if stop.done():
                    self._apply(self.session.stop())
                    await self.writer.drain()
                    break
                if read.done():
                    data = read.result() if not read.cancelled() else b""
                    if not data:
                        self._apply(self.session.connection_lost())
                        break
                    heard = now
                    was = self.session.state
                    self._apply(self.session.receive(data))
                    if was != "Established" and self.session.state == "Established":
                        next_keepalive = now  # answer at once, then every third of hold
                    read = asyncio.ensure_future(self.reader.read(65536))
                if reload.done():
                    self.reload.clear()
                    reload = asyncio.ensure_future(self.reload.wait())
                    # a reload already running may have read the feed before this event
                    next_reload, again = now, again or selecting is not None
                if hold and now >= heard + hold:
                    self._apply(self.session.hold_expired())
                    break
                if now >= next_keepalive and self.session.keepalive_interval:
                    self._apply(self.session.keepalive())
                    next_keepalive = now + self.session.keepalive_interval
                if selecting is not None and selecting.done():
                    wait = self._install(selecting)
                    selecting, next_reload = (
                        None,
                        self.loop.time() + min(self.opts.reload_every, wait),
                    )
                if selecting is None and now >= next_reload:
                    selecting, next_reload = self._select(), float("inf")
                await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            self._apply(self.session.connection_lost())
            log.info("BGP connection error: %s", exc)
        finally:
            for task in (read, stop, reload, selecting):
                if task is not None:
                    task.cancel()
            await self._recorded()

    async def _recorded(self) -> None:
        """Wait for the action log to catch up (errors are logged, never fatal here)."""
        for fut in asyncio.as_completed(self.recording):
            try:
                await fut
            except Exception as exc:  # the store is down: the routes still had to go out
                log.warning("could not record BGP actions: %s", exc)
        self.recorder.shutdown(wait=True)
