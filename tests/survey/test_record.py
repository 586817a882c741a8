"""Recording a run: progress as watermark + done set, batches that pair findings with the
progress marking their hosts done, store writes in a writer thread with a bounded queue."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from datetime import UTC, datetime

import pytest

from iotscope.records import Finding, Login
from iotscope.store import SurveyProgress, load_survey_progress, open_store, save_survey_batch
from iotscope.survey._record import Batch, BatchWriter, ProgressTracker, RunRecorder
from iotscope.survey._run import Target


def _finding(n: int) -> Finding:
    return Finding(ip=ipaddress.ip_address(f"127.63.0.{n}"), port=23, service="telnet",
                   time=datetime(2026, 11, 1, tzinfo=UTC), survey_id="s1",
                   login=Login(protocol="telnet", outcome="rejected"))  # fmt: skip


def _target(n: int) -> Target:
    return Target(ipaddress.ip_address(f"127.63.0.{n}"), position=n)


def test_tracker_watermark_and_out_of_order_completion() -> None:
    t = ProgressTracker()
    for p in (2, 0, 4):
        t.mark(p)
    assert t.snapshot() == (1, (2, 4))
    t.mark(1)
    assert t.snapshot() == (3, (4,))
    assert [t.is_done(p) for p in range(6)] == [True, True, True, False, True, False]
    again = ProgressTracker.from_progress(*t.snapshot())
    assert again == t


async def test_recorder_batches_pair_findings_with_their_progress() -> None:
    written: list[Batch] = []
    threads: set[int] = set()

    def write(batch: Batch) -> None:
        threads.add(threading.get_ident())
        written.append(batch)

    now = [0.0]
    writer = BatchWriter(write, maxsize=2)
    rec = RunRecorder(writer, SurveyProgress("s1", seed=3, size=10), flush_every=5.0,
                      batch_size=3, clock=lambda: now[0])  # fmt: skip
    await rec.on_done(_target(1), [_finding(1)])
    await rec.on_done(_target(0), [])
    await rec.on_done(_target(3), [_finding(3), _finding(3)])  # 3 findings: a batch is due
    await rec.on_done(_target(2), [])
    now[0] = 6.0
    await rec.on_done(_target(5), [_finding(5)])  # time is due
    await rec.on_done(_target(4), [])  # pending until close
    final = rec.close()
    assert threading.get_ident() not in threads  # written off the event loop's thread
    assert [len(b.findings) for b in written] == [3, 1, 0]
    assert (written[0].progress.watermark, written[0].progress.done) == (2, (3,))
    assert (written[1].progress.watermark, written[1].progress.done) == (4, (5,))
    assert (final.watermark, final.done) == (6, ())
    assert final.counts["hosts"] == 6 and final.counts["hosts_up"] == 3


async def test_a_full_queue_waits_without_blocking_the_loop() -> None:
    gate = threading.Event()
    writer = BatchWriter(lambda b: gate.wait(5), maxsize=1)
    progress = SurveyProgress("s1", seed=1, size=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    tick = asyncio.create_task(ticker())
    await asyncio.wait_for(writer.put(Batch([], progress)), 0.2)  # taken by the writer
    await asyncio.sleep(0.05)
    await asyncio.wait_for(writer.put(Batch([], progress)), 0.2)  # fills the queue
    third = asyncio.create_task(writer.put(Batch([], progress)))
    await asyncio.sleep(0.2)
    assert not third.done() and ticks >= 10  # the loop kept running
    gate.set()
    await asyncio.wait_for(third, 2)
    tick.cancel()
    writer.close()
    assert writer.written == 3


def test_findings_and_progress_are_one_transaction_in_the_store() -> None:
    store = open_store()
    progress = SurveyProgress("s1", seed=2**62, size=300, watermark=7, done=(9, 12),
                              counts={"hosts": 9}, config={"ports": "23"})  # fmt: skip
    save_survey_batch(store, [_finding(1), _finding(2)], progress)
    save_survey_batch(store, [_finding(2)], progress)  # idempotent
    assert load_survey_progress(store, "s1") == progress
    assert load_survey_progress(store, "nope") is None
    assert len(store.findings("s1")) == 2


@pytest.mark.postgres
def test_progress_round_trip_on_postgresql(pg_schema_url: str) -> None:
    store = open_store(pg_schema_url)
    try:
        progress = SurveyProgress("s1", seed=2**63 - 1, size=2**40, watermark=5, done=(8,),
                                  counts={"hosts": 6}, config={"rate": None})  # fmt: skip
        save_survey_batch(store, [_finding(3)], progress)
        assert load_survey_progress(store, "s1") == progress
        assert len(store.findings("s1")) == 1
    finally:
        store.engine.dispose()


def test_done_positions_are_stored_as_runs() -> None:
    from sqlalchemy import select

    from iotscope.store._schema import survey_progress

    store = open_store()
    done = (*range(100, 5100), 5200, *range(6000, 6010))
    progress = SurveyProgress("s2", seed=1, size=10_000, watermark=50, done=done)
    save_survey_batch(store, [], progress)
    with store.engine.connect() as conn:
        stored = conn.execute(select(survey_progress.c.done)).scalar_one()
    assert stored == [[100, 5099], [5200, 5200], [6000, 6009]]
    assert load_survey_progress(store, "s2") == progress


async def test_a_failed_store_write_stops_the_run_instead_of_losing_findings() -> None:
    def fail(batch: Batch) -> None:
        raise OSError("disk full")

    writer = BatchWriter(fail)
    progress = SurveyProgress("s1", seed=1, size=1)
    await writer.put(Batch([], progress))
    for _ in range(100):
        if writer.error is not None:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(OSError, match="disk full"):
        await writer.put(Batch([], progress))
    with pytest.raises(OSError, match="disk full"):
        writer.close()
