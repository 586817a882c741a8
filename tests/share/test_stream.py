"""Server-sent events from ``iotscope serve`` (a real uvicorn process): objects arrive as they
are committed, a reconnect with Last-Event-ID resumes exactly, tenancy holds."""

from __future__ import annotations

import json
import queue
import threading

import httpx
import pytest

from iotscope.share import SHARED_COLLECTION_ID, TAXII_MEDIA, private_collection_id
from tests.share.conftest import indicator

pytestmark = [pytest.mark.network, pytest.mark.slow]


def _events(url: str, token: str, out: queue.Queue, last_id: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_id:
        headers["Last-Event-ID"] = last_id
    event: dict[str, str] = {}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=30) as r:
            out.put(("status", r.status_code))
            for line in r.iter_lines():
                if line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    event[key] = value.strip()
                elif not line and "data" in event:
                    out.put(("event", event))
                    event = {}
    except httpx.HTTPError:
        pass  # the server stopped at the end of the test


def _collect(q: queue.Queue, n: int) -> list[dict[str, str]]:
    got = []
    while len(got) < n:
        kind, item = q.get(timeout=15)
        if kind == "event":
            got.append(item)
    return got


def test_stream_delivers_new_objects_and_resumes(live_hub: tuple[str, dict[str, str]]) -> None:
    base, tokens = live_hub
    coll = f"{base}/taxii2/hub/collections/{SHARED_COLLECTION_ID}/"
    q: queue.Queue = queue.Queue()
    threading.Thread(
        target=_events, args=(coll + "stream/", tokens["isp-b"], q), daemon=True
    ).start()
    assert q.get(timeout=15) == ("status", 200)
    body = json.dumps({"objects": [indicator(i) for i in range(3)]})
    post = {
        "Authorization": f"Bearer {tokens['isp-a']}",
        "Accept": TAXII_MEDIA,
        "Content-Type": TAXII_MEDIA,
    }
    assert httpx.post(coll + "objects/", headers=post, content=body).status_code == 202
    events = _collect(q, 3)
    assert [json.loads(e["data"])["id"] for e in events] == [indicator(i)["id"] for i in range(3)]
    assert {e["event"] for e in events} == {"stix"}

    again: queue.Queue = queue.Queue()
    args = (coll + "stream/", tokens["partner"], again, events[0]["id"])
    threading.Thread(target=_events, args=args, daemon=True).start()
    resumed = _collect(again, 2)
    assert [e["id"] for e in resumed] == [e["id"] for e in events[1:]]


def test_stream_of_another_isps_private_collection_is_refused(
    live_hub: tuple[str, dict[str, str]],
) -> None:
    base, tokens = live_hub
    url = f"{base}/taxii2/hub/collections/{private_collection_id('isp-a')}/stream/"
    for who in ("isp-b", "partner", "vendor"):
        r = httpx.get(url, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=10)
        assert r.status_code == 404, who
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {tokens['revoked']}"}).status_code == 401
    )
