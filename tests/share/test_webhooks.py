"""Webhooks: signed delivery, retries with backoff, dead letters, resumption from the store,
and the subscriptions' tenancy."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from iotscope.share import SHARED_COLLECTION_ID, add_objects, private_collection_id
from iotscope.share import _webhooks as wh
from iotscope.store import Store, open_store
from iotscope.tenancy import Principal
from tests.share.conftest import indicator, mint_all
from tests.share.receiver import receiver

pytestmark = pytest.mark.network
ISP_A = Principal("isp", "isp-a")
ISP_B = Principal("isp", "isp-b")


def _ids(bodies: list[bytes]) -> list[str]:
    return [o["id"] for b in bodies for o in json.loads(b)["objects"]]


def test_signature_round_trip_and_tamper() -> None:
    body = b'{"objects":[]}'
    header = wh.sign("s3cret-s3cret-s3cret", body, 1_800_000_000)
    assert wh.verify("s3cret-s3cret-s3cret", header, body, now=1_800_000_010)
    assert not wh.verify("s3cret-s3cret-s3cret", header, body + b" ", now=1_800_000_010)
    assert not wh.verify("other-secret-other", header, body, now=1_800_000_010)
    assert not wh.verify("s3cret-s3cret-s3cret", header, body, now=1_800_009_999)
    assert not wh.verify("s3cret-s3cret-s3cret", "garbage", body, now=1_800_000_000)
    assert [wh.backoff(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0] and wh.backoff(
        40
    ) == wh.BACKOFF_CAP


def test_subscribe_over_http_and_worker_delivers_signed(sqlite_store: Store) -> None:
    from iotscope.service import create_app

    tokens = mint_all(sqlite_store)
    with receiver() as (url, got), TestClient(create_app(sqlite_store)) as client:
        h = {"Authorization": f"Bearer {tokens['isp-b']}"}
        r = client.post(
            "/taxii2/hub/webhooks/",
            headers=h,
            json={"collection_id": SHARED_COLLECTION_ID, "url": url},
        )
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        # the worker started with the app; a commit wakes it at once
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(i) for i in range(3)])
        assert got.got.wait(10)
        assert _ids(got.bodies) == [indicator(i)["id"] for i in range(3)]
        sig = got.headers[0][wh.SIGNATURE_HEADER]
        assert wh.verify(secret, sig, got.bodies[0], now=time.time())
        # the worker records the delivery once the receiver has answered: wait for that
        deadline = time.monotonic() + 10
        while True:
            listing = client.get("/taxii2/hub/webhooks/", headers=h).json()["webhooks"]
            if listing[0]["delivered"] == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert listing[0]["delivered"] == 3 and "secret" not in listing[0]
        other = {"Authorization": f"Bearer {tokens['isp-a']}"}
        assert client.get("/taxii2/hub/webhooks/", headers=other).json()["webhooks"] == []
        wid = listing[0]["id"]
        assert client.delete(f"/taxii2/hub/webhooks/{wid}/", headers=other).status_code == 404
        private = {"collection_id": private_collection_id("isp-a"), "url": url}
        assert client.post("/taxii2/hub/webhooks/", headers=h, json=private).status_code == 404
        assert client.delete(f"/taxii2/hub/webhooks/{wid}/", headers=h).status_code == 204


def test_retry_with_backoff_then_success(sqlite_store: Store) -> None:
    engine = sqlite_store.engine
    with receiver() as (url, got), httpx.Client() as http:
        sub, _ = wh.create(engine, ISP_B, SHARED_COLLECTION_ID, url, None, from_start=True)
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(1)])
        got.fail_next = 2
        t0 = 10**15
        assert wh.deliver_due(engine, http, now=t0) == 0
        assert wh.deliver_due(engine, http, now=t0 + 500_000) == 0  # not due yet (1 s backoff)
        assert wh.deliver_due(engine, http, now=t0 + 1_000_000) == 0  # 2nd failure -> 2 s
        state = wh.get_for(engine, ISP_B, sub.id)
        assert state is not None and state.failures == 2 and state.last_error == "HTTP 500"
        assert wh.deliver_due(engine, http, now=t0 + 3_000_000) == 1
        assert got.attempts == 3 and _ids(got.bodies) == [indicator(1)["id"]]
        assert wh.get_for(engine, ISP_B, sub.id).failures == 0  # type: ignore[union-attr]


def test_dead_letter_after_max_attempts_then_moves_on(sqlite_store: Store) -> None:
    engine = sqlite_store.engine
    with receiver() as (url, got), httpx.Client() as http:
        sub, _ = wh.create(engine, ISP_B, SHARED_COLLECTION_ID, url, None, from_start=True)
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(1)])
        got.always_fail = True
        now = 10**15
        for _ in range(wh.MAX_ATTEMPTS):
            wh.deliver_due(engine, http, now=now)
            now += int(wh.BACKOFF_CAP * 1e6)
        assert got.attempts == wh.MAX_ATTEMPTS
        dead = wh.dead_letters(engine, sub.id)
        assert len(dead) == 1 and indicator(1)["id"] in dead[0]["body"]
        got.always_fail = False
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(2)])
        assert wh.deliver_due(engine, http, now=now) == 1
        assert _ids(got.bodies) == [indicator(2)["id"]]


def test_a_new_worker_resumes_from_the_store(tmp_path: object, sqlite_store: Store) -> None:
    url_db = str(sqlite_store.engine.url)
    with receiver() as (url, got):
        wh.create(sqlite_store.engine, ISP_B, SHARED_COLLECTION_ID, url, None, from_start=False)
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(1)])
        stop = threading.Event()
        worker = wh.start_worker(sqlite_store.engine, stop)
        assert got.got.wait(10)
        stop.set()
        worker.join(5)
        add_objects(sqlite_store, ISP_A, SHARED_COLLECTION_ID, [indicator(2)])
        fresh = open_store(url_db)  # another process would see only the store
        got.got.clear()
        stop2 = threading.Event()
        worker2 = wh.start_worker(fresh.engine, stop2)
        assert got.got.wait(10)
        stop2.set()
        worker2.join(5)
        assert _ids(got.bodies) == [indicator(1)["id"], indicator(2)["id"]]
