"""Publishing through the outbox to OASIS medallion: new, changed, expired reach the server
as TAXII 2.1 versions; a resent envelope is harmless; a hub that is down keeps the outbox."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from taxii2client.v21 import Collection

from iotscope.isp._publish import publish_candidates, send_pending
from iotscope.isp._state import load_published, outbox, pending
from iotscope.isp._taxii import Hub
from iotscope.records import C2Candidate
from iotscope.store import Store, open_store
from tests.isp._medallion import COLLECTION, PASSWORD, USER, free_port, medallion

pytestmark = [pytest.mark.network, pytest.mark.slow]
SITE = "isp-a"


def cand(ip: str, last: datetime, score: float = 0.7) -> C2Candidate:
    return C2Candidate(
        ip=ipaddress.ip_address(ip), port=23, proto="tcp", score=score, clients=4,
        infected_clients=3, first_seen=last - timedelta(hours=1), last_seen=last, site=SITE,
    )  # fmt: skip


def versions(base: str) -> dict[str, list[str]]:
    """Every object id on the server and its versions, read with the OASIS taxii2-client."""
    col = Collection(f"{base}/api1/collections/{COLLECTION}/", user=USER, password=PASSWORD)
    out: dict[str, list[str]] = {}
    for obj in col.get_objects(version="all").get("objects", []):
        out.setdefault(obj["id"], []).append(obj.get("modified") or obj.get("created") or "-")
    return {k: sorted(v) for k, v in out.items()}


def indicators(on_server: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in on_server.items() if k.startswith("indicator--")}


def test_new_changed_expired_reach_medallion(tmp_path: Path) -> None:
    store: Store = open_store()
    now = datetime.now(UTC).replace(microsecond=0)
    with medallion(tmp_path / "hub") as base:
        hub = Hub(base + "/", auth=httpx.BasicAuth(USER, PASSWORD))
        found = [cand("198.51.100.7", now), cand("198.51.100.8", now)]
        plan1, ids = publish_candidates(store, SITE, found, "run-1", now)
        assert plan1.counts()["new"] == 2 and len(ids) == 1
        report = send_pending(store, SITE, hub)
        assert (report.sent, report.objects, report.failed) == (1, len(plan1.objects), 0)
        first = versions(base)
        assert len(first) == len(plan1.objects) and all(len(v) == 1 for v in first.values())
        assert len(indicators(first)) == 2

        later = now + timedelta(minutes=5)
        plan2, _ = publish_candidates(store, SITE, [cand("198.51.100.7", now, 0.9)], "run-2", later)
        assert plan2.counts() | {} == {"new": 0, "changed": 1, "expired": 1, "lapsed": 0,
                                        "unchanged": 0}  # fmt: skip
        assert send_pending(store, SITE, hub).objects == len(plan2.objects)
        on_server = versions(base)
        assert sorted(len(v) for v in indicators(on_server).values()) == [2, 2]
        state = load_published(store, SITE)
        statuses = sorted(p.status for p in state.values() if p.type == "indicator")
        assert statuses == ["active", "expired"]
        for oid, p in state.items():
            if p.modified:  # the server's latest is what we recorded
                assert on_server[oid][-1] == p.modified

        # a resent envelope (as after a kill between POST and its commit) changes nothing
        again = hub.post(outbox(store, SITE)[0].objects)
        assert again.rejected == [] and versions(base) == on_server
        hub.close()


def test_hub_down_keeps_the_outbox_and_backs_off(tmp_path: Path) -> None:
    store = open_store()
    now = datetime.now(UTC)
    publish_candidates(store, SITE, [cand("198.51.100.7", now)], "run-1", now)
    hub = Hub(f"http://127.0.0.1:{free_port()}/", auth=httpx.BasicAuth(USER, PASSWORD))
    report = send_pending(store, SITE, hub)
    assert report.failed == 1 and report.sent == 0 and "unreachable" in (report.error or "")
    (entry,) = outbox(store, SITE)
    assert entry.outcome == "pending" and entry.attempts == 1 and entry.last_error
    assert pending(store, SITE, now) == []  # not due again at once: backoff
    assert len(pending(store, SITE, now + timedelta(minutes=5))) == 1
    hub.close()
