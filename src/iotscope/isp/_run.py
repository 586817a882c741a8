"""`isp run`: the site's collector, rolling detection and publisher as one supervised process.

Asyncio tasks over one store and one flow root:

- the collector (:func:`iotscope.flows.collect`) with a :class:`SpooledDecoder`: every datagram
  is spooled before decoding; each batch is written as Parquet parts named by the spool
  position, then the position is committed (see :mod:`iotscope.isp._spool`);
- detection every ``every`` seconds over the last ``window`` of flow time
  (:func:`detect_round`), in a worker thread; a round that queued envelopes wakes the sender;
- the sender (:func:`send_pending`), woken by a round or by the earliest retry due;
- optionally, follow-up rounds of an ISP's notices every N days (:mod:`iotscope.isp._followup`).

Start-up recovers what a kill left: uncommitted parts are removed and the spool replayed, the
outbox is sent again (the hub keeps one copy of an object version). SIGINT/SIGTERM stop it
cleanly; ``duration`` stops it after so many seconds (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from iotscope.c2 import Params
from iotscope.flows._collector import CollectorOptions, collect
from iotscope.flows._compact import compact_site
from iotscope.flows._rolling import BucketWriter, RollOptions
from iotscope.flows._sequence import SequenceTracker
from iotscope.flows._staging import sweep_stale
from iotscope.flows._state import save_collector
from iotscope.isp._followup import FollowUpOptions, follow_up_loop
from iotscope.isp._plan import DEFAULT_REFRESH
from iotscope.isp._publish import Round, SendReport, detect_round, send_pending
from iotscope.isp._spool import (
    Mark,
    Spool,
    SpooledDecoder,
    part_run,
    replay,
    uncommitted_parts,
)
from iotscope.isp._state import StateCache, next_attempt
from iotscope.isp._taxii import Hub
from iotscope.store import Store

__all__ = ["RunOptions", "Stats", "run_isp"]

Say = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """How often to detect, over how much flow time, and how the collector batches."""

    every: float = 300.0
    window: timedelta | None = timedelta(hours=6)
    refresh: timedelta = DEFAULT_REFRESH
    params: Params = field(default_factory=Params)
    batch_seconds: float = 5.0
    duration: float | None = None
    spool_bytes: int = 64 << 20
    follow_up: FollowUpOptions | None = None  # also re-check an ISP's notices on schedule


@dataclass
class Stats:
    recovered_flows: int = 0
    removed_parts: int = 0
    flows: int = 0
    rounds: int = 0
    failed_rounds: int = 0
    published: dict[str, int] = field(default_factory=dict)
    envelopes: int = 0
    send_failures: int = 0
    follow_up_rounds: int = 0


class _Site:
    """The collector's side: spool, decoder and bucket writer of one site."""

    def __init__(self, root: Path, site: str, opts: RunOptions) -> None:
        self.root, self.site = root, site
        self.spool = Spool(root, site, max_bytes=opts.spool_bytes)
        self.decoder = SpooledDecoder(site, self.spool)
        self.writer = BucketWriter(root, RollOptions())

    def recover(self) -> tuple[int, int]:
        """Remove parts of uncommitted batches, replay the spool; (flows, parts removed)."""
        stale = uncommitted_parts(self.root, self.site, self.spool.committed)
        for path in stale:
            path.unlink(missing_ok=True)
        sweep_stale(self.root, self.site)
        table, mark = replay(self.decoder)
        self.decoder.marks.clear()
        self.store_batch(table, mark)
        compact_site(self.root, self.site, keep=lambda day, bucket: False)
        return table.num_rows, len(stale)

    def store_batch(self, table: pa.Table, mark: Mark) -> None:
        """Write one batch as parts named by where it starts in the spool, then commit."""
        self.writer.run = part_run(self.spool.committed.segment, self.spool.committed.offset)
        self.writer.write(table)
        self.spool.commit(mark)
        save_collector(self.root, self.site, SequenceTracker.from_json(mark.sequences))
        self.writer.compact()


async def run_isp(
    store: Store,
    root: Path,
    site: str,
    listen: str,
    hub: Hub,
    opts: RunOptions,
    *,
    say: Say = lambda _: None,
    stop: asyncio.Event | None = None,
    ready: Callable[[tuple[str, int]], None] | None = None,
) -> Stats:
    """Run until stopped (signal, ``stop``, or ``opts.duration``); return what happened."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    stats = Stats()
    state = _Site(root, site, opts)
    stats.recovered_flows, stats.removed_parts = await asyncio.to_thread(state.recover)
    say(
        f"recovered {stats.recovered_flows} flows from the spool, "
        f"removed {stats.removed_parts} uncommitted parts"
    )
    wake = asyncio.Event()
    wake.set()  # send what a previous run left in the outbox

    async def sink(table: pa.Table) -> None:
        mark = state.decoder.marks.popleft()
        stats.flows += table.num_rows
        await asyncio.to_thread(state.store_batch, table, mark)
        state.spool.maybe_roll()

    def on_ready(address: tuple[str, int]) -> None:
        say(f"listening on {address[0]}:{address[1]}")
        if ready is not None:
            ready(address)

    collector = asyncio.create_task(
        collect(
            listen,
            site=site,
            sink=sink,
            stop=stop,
            ready=on_ready,
            decoder=state.decoder,
            options=CollectorOptions(batch_seconds=opts.batch_seconds),
        )
    )
    tasks: list[asyncio.Task[Any]] = [
        asyncio.create_task(_detect_loop(store, root, site, opts, stats, wake, stop, say)),
        asyncio.create_task(_send_loop(store, site, hub, stats, wake, stop, say)),
    ]
    follow = None
    if opts.follow_up is not None:
        follow = asyncio.create_task(follow_up_loop(store, opts.follow_up, stop, say))
        tasks.append(follow)
    if opts.duration is not None:
        loop.call_later(opts.duration, stop.set)
    try:
        await collector
        stop.set()
        await asyncio.gather(*tasks)
        stats.follow_up_rounds = follow.result() if follow is not None else 0
    finally:
        for t in (collector, *tasks):
            t.cancel()
        state.spool.close()
    await asyncio.to_thread(state.writer.compact, final=True)
    return stats


async def _sleep(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def _detect_loop(
    store: Store,
    root: Path,
    site: str,
    opts: RunOptions,
    stats: Stats,
    wake: asyncio.Event,
    stop: asyncio.Event,
    say: Say,
) -> None:
    cache = StateCache()  # this process is the site's publisher: keep its state between rounds
    while not stop.is_set():
        await _sleep(stop, opts.every)
        if stop.is_set():
            return
        try:
            result: Round = await asyncio.to_thread(
                detect_round,
                store,
                site,
                root,
                window=opts.window,
                params=opts.params,
                refresh=opts.refresh,
                cache=cache,
            )
        except Exception as exc:  # one failed round (store down, a file compacted away under
            # the reader) must not end the service: say it, try again next time
            stats.failed_rounds += 1
            say(f"detection round failed: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        stats.rounds += 1
        for k, v in result.plan.counts().items():
            stats.published[k] = stats.published.get(k, 0) + v
        counts = ", ".join(f"{k} {v}" for k, v in result.plan.counts().items() if v)
        say(
            f"run {result.run_id or '-'}: {result.flows} flows in window, "
            f"{len(result.candidates)} C2 candidates; {counts or 'nothing to publish'}"
        )
        if result.outbox:
            wake.set()


async def _send_loop(
    store: Store,
    site: str,
    hub: Hub,
    stats: Stats,
    wake: asyncio.Event,
    stop: asyncio.Event,
    say: Say,
) -> None:
    while not stop.is_set():
        wake.clear()
        try:
            report: SendReport = await asyncio.to_thread(send_pending, store, site, hub)
        except Exception as exc:  # the store itself failed: the outbox is intact, retry
            say(f"sending failed: {type(exc).__name__}: {str(exc)[:300]}")
            await _sleep(stop, 5.0, wake)
            continue
        stats.envelopes += report.sent
        stats.send_failures += report.failed
        if report.sent or report.dead:
            say(
                f"sent {report.sent} envelope(s), {report.objects} objects"
                + (f", {report.dead} refused" if report.dead else "")
            )
        if report.error:
            say(f"hub: {report.error} (will retry)")
        due = await asyncio.to_thread(next_attempt, store, site)
        delay = 3600.0 if due is None else (due - datetime.now(UTC)).total_seconds()
        await _sleep(stop, delay, wake)
    with contextlib.suppress(Exception):  # a last try on the way out, never blocking the stop
        await asyncio.wait_for(asyncio.to_thread(send_pending, store, site, hub), 5.0)
