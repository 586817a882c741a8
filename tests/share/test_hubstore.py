"""The hub store's contract on SQLite and PostgreSQL: concurrent writers get distinct,
increasing date_added in commit order; version flags stay right; cross-process wake-ups."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from iotscope.share import SHARED_COLLECTION_ID, add_objects, ensure_shared, notifier_for
from iotscope.share._hubstore import Query, page
from iotscope.share._notify import start_pg_listener
from iotscope.store import Store, open_store
from iotscope.store._schema_hub import hub_objects
from iotscope.tenancy import Principal
from tests.share.conftest import indicator

ISP = Principal("isp", "isp-a")


def test_concurrent_writers_get_unique_increasing_dates(store: Store) -> None:
    ensure_shared(store)

    def write(k: int) -> None:
        add_objects(store, ISP, SHARED_COLLECTION_ID, [indicator(k * 100 + j) for j in range(20)])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(8)))
    o = hub_objects
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.c.rid, o.c.added_us).order_by(o.c.rid)).all()
    assert len(rows) == 160
    dates = [r.added_us for r in rows]
    assert len(set(dates)) == 160
    assert dates == sorted(dates)  # row order (insert order) == date_added order
    got, more = page(store.engine, SHARED_COLLECTION_ID, Query(limit=1000), ("id",))
    assert len(got) == 160 and not more


def test_version_flags_with_out_of_order_versions(store: Store) -> None:
    days = [f"2026-11-0{d}T00:00:00.000Z" for d in (3, 1, 2, 5, 4)]
    for d in days:
        add_objects(store, ISP, SHARED_COLLECTION_ID, [indicator(1, d)])

    def versions(v: str) -> list[str]:
        rows, _ = page(store.engine, SHARED_COLLECTION_ID, Query(versions=(v,)), ("version",))
        return [r.version for r in rows]

    assert versions("last") == [days[3]]
    assert versions("first") == [days[1]]
    assert sorted(versions("all")) == sorted(days)


def test_delete_and_filters(store: Store) -> None:
    from iotscope.share._api import delete_object

    v1, v2 = "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z"
    add_objects(
        store, ISP, SHARED_COLLECTION_ID, [indicator(1, v1), indicator(1, v2), indicator(2)]
    )
    oid = indicator(1)["id"]
    assert delete_object(store, ISP, SHARED_COLLECTION_ID, oid, Query(versions=(v2,))) == 1
    rows, _ = page(store.engine, SHARED_COLLECTION_ID, Query(ids=(oid,)), ("version",))
    assert [r.version for r in rows] == [v1]  # the remaining version became the last
    rows, _ = page(
        store.engine, SHARED_COLLECTION_ID, Query(types=("indicator",), limit=1), ("id",)
    )
    after = (rows[0].added_us, rows[0].rid)
    rest, more = page(store.engine, SHARED_COLLECTION_ID, Query(after=after), ("id",))
    assert len(rest) == 1 and not more


@pytest.mark.postgres
def test_pg_notify_wakes_another_process_listener(pg_schema_url: str) -> None:
    writer = open_store(pg_schema_url)
    reader = open_store(pg_schema_url)  # another engine: stands for another server process
    ensure_shared(writer)
    stop = threading.Event()
    start_pg_listener(reader.engine, stop)
    woken, unsubscribe = notifier_for(reader.engine).subscribe_thread(SHARED_COLLECTION_ID)
    try:
        for i in range(50):  # the LISTEN connection is up once a NOTIFY gets through
            add_objects(writer, ISP, SHARED_COLLECTION_ID, [indicator(1000 + i)])
            if woken.wait(0.2):
                break
        woken.clear()
        add_objects(writer, ISP, SHARED_COLLECTION_ID, [indicator(2)])
        assert woken.wait(5)
    finally:
        unsubscribe()
        stop.set()
        writer.engine.dispose()
        reader.engine.dispose()
