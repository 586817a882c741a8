"""Recording a survey run: progress, batches, and store writes off the event loop.

* :class:`ProgressTracker` (pure): which positions of the visiting order are done, as a
  watermark (every position below it) plus the done positions above it (hosts finish out
  of order; the set stays as small as the hosts that overtook the slowest one in flight).
* :class:`BatchWriter`: one thread that writes batches from a bounded queue, so a slow
  database never stalls the event loop's sockets; a full queue makes the producer wait
  (back-pressure), never drop.
* :class:`RunRecorder`: the engine's ``on_done`` hook. Each finished host's findings and
  its position join the pending batch *together*; every ``flush_every`` seconds (or
  ``batch_size`` findings) the batch goes to the writer, which stores findings and progress
  in one transaction. :meth:`RunRecorder.close` flushes the last batch (on SIGINT/SIGTERM
  too); a kill -9 loses only the hosts of the unwritten batch, which a resume probes again.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from iotscope.records import Finding
from iotscope.store import SurveyProgress
from iotscope.survey._run import Target, host_counts

__all__ = ["Batch", "BatchWriter", "ProgressTracker", "RunRecorder"]


@dataclass
class ProgressTracker:
    """Positions done: all below ``watermark``, plus ``above``."""

    watermark: int = 0
    above: set[int] = field(default_factory=set)

    @classmethod
    def from_progress(cls, watermark: int, done: Iterable[int]) -> ProgressTracker:
        return cls(watermark, {p for p in done if p >= watermark})

    def mark(self, position: int) -> None:
        if position < self.watermark:
            return
        self.above.add(position)
        while self.watermark in self.above:
            self.above.discard(self.watermark)
            self.watermark += 1

    def is_done(self, position: int) -> bool:
        return position < self.watermark or position in self.above

    def snapshot(self) -> tuple[int, tuple[int, ...]]:
        return self.watermark, tuple(sorted(self.above))


@dataclass(frozen=True)
class Batch:
    findings: list[Finding]
    progress: SurveyProgress


_STOP = object()


class BatchWriter:
    """A writer thread over a bounded queue; ``write`` is called in the thread, in order."""

    def __init__(self, write: Callable[[Batch], object], maxsize: int = 8) -> None:
        self._write = write
        self._queue: queue.Queue[object] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._drain, name="survey-writer", daemon=True)
        self.error: BaseException | None = None
        self.written = 0
        self._thread.start()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            assert isinstance(item, Batch)
            if self.error is None:
                try:
                    self._write(item)
                    self.written += 1
                except BaseException as exc:  # reported by close(); later batches skipped
                    self.error = exc

    async def put(self, batch: Batch) -> None:
        """Queue ``batch``; waits (without blocking the loop) while the queue is full.
        Cancel-safe: when cancelled, the batch was either queued whole or not at all.
        A failed write ends the run here (the store is gone: surveying on would lose it)."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put_nowait(batch)
                return
            except queue.Full:
                await asyncio.sleep(0.02)

    def put_blocking(self, batch: Batch) -> None:
        """Queue ``batch``, blocking the caller while the queue is full (at shutdown)."""
        self._queue.put(batch)

    def close(self) -> None:
        """Write what is queued, stop the thread; re-raise a write error."""
        self._queue.put(_STOP)
        self._thread.join()
        if self.error is not None:
            raise self.error


class RunRecorder:
    """Collects finished hosts into batches for the writer (see the module docstring)."""

    def __init__(
        self,
        writer: BatchWriter,
        progress: SurveyProgress,
        flush_every: float = 2.0,
        batch_size: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.writer, self.base = writer, progress
        self.tracker = ProgressTracker.from_progress(progress.watermark, progress.done)
        self.counts: Counter[str] = Counter(progress.counts)
        self.flush_every, self.batch_size, self.clock = flush_every, batch_size, clock
        self.pending: list[Finding] = []
        self._last = clock()
        self._flushing = False

    def progress(self) -> SurveyProgress:
        watermark, done = self.tracker.snapshot()
        return replace(self.base, watermark=watermark, done=done, counts=dict(self.counts))

    async def on_done(self, target: Target, findings: list[Finding]) -> None:
        """The engine's hook: record the host, flush when a batch is due."""
        if target.position is not None:
            self.tracker.mark(target.position)
        self.counts.update(host_counts(findings))
        self.pending.extend(findings)
        due = self.clock() - self._last >= self.flush_every
        if due or len(self.pending) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        """Hand the pending batch to the writer (one flush at a time; the findings leave
        ``pending`` only once the writer has the batch)."""
        if self._flushing:
            return
        self._flushing = True
        try:
            batch = Batch(list(self.pending), self.progress())
            await self.writer.put(batch)
            self.pending = self.pending[len(batch.findings) :]
            self._last = self.clock()
        finally:
            self._flushing = False

    def close(self) -> SurveyProgress:
        """Queue the last batch (blocking: the loop's work is over) and stop the writer."""
        progress = self.progress()
        self.writer.put_blocking(Batch(list(self.pending), progress))
        self.pending = []
        self.writer.close()
        return progress
