"""Indicators from the hub: the local store's shared collection, and TAXII 2.1 + server-sent
events from a real ``iotscope serve`` (what an ISP site that is not the hub uses)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.block import BlockError, Policy, select, taxii_objects
from iotscope.block._events import watch_hub
from iotscope.block._store_source import store_objects
from iotscope.cli import app
from iotscope.records import C2Candidate
from iotscope.share import SHARED_COLLECTION_ID, add_objects, ensure_shared, private_collection_id
from iotscope.share.stix import c2_bundle_objects
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import Principal

ISP_B = Principal("isp", "isp-b")


def _published(store: Store, ip: str, now: datetime) -> dict[str, object]:
    c = C2Candidate(
        ip=ip,
        port=23,
        proto="tcp",
        score=0.95,
        clients=40,
        infected_clients=30,
        first_seen=now - timedelta(hours=1),
        last_seen=now,
        site="isp-b",
    )
    objs = c2_bundle_objects([c], "isp-b", now, tlp="amber")
    return add_objects(store, ISP_B, SHARED_COLLECTION_ID, objs)


def test_local_hub_feeds_the_export(tmp_path: Path) -> None:
    store = open_store()
    ensure_shared(store)
    now = datetime.now(UTC)
    status = _published(store, "198.51.100.7", now)
    assert status["failure_count"] == 0
    objs = store_objects(store, Principal("isp", "isp-a"))
    sel = select(objs, Policy("isp-a", min_confidence=0), now)
    assert [e.target.value for e in sel.entries] == ["198.51.100.7/32"]
    out = tmp_path / "c2.txt"
    res = CliRunner().invoke(
        app, ["block", "export", "--isp", "isp-a", "--format", "plain", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "198.51.100.7" in out.read_text().splitlines()
    # another ISP's private collection is not a source isp-a may read
    with pytest.raises(BlockError, match="cannot read"):
        store_objects(store, Principal("isp", "isp-a"), private_collection_id("isp-b"))


@pytest.mark.network
@pytest.mark.slow
async def test_taxii_source_and_hub_events() -> None:
    from tests.share.server import serving

    store = open_store()
    ensure_shared(store)
    token = mint_token(store.engine, "isp", "isp-a")
    now = datetime.now(UTC)
    _published(store, "198.51.100.7", now)
    with serving() as base:
        objs = await asyncio.to_thread(taxii_objects, base, token)
        ids = {o["type"] for o in objs}
        assert ids == {"indicator", "marking-definition"}
        sel = select(objs, Policy("isp-a", min_confidence=0), now)
        assert [e.target.value for e in sel.entries] == ["198.51.100.7/32"]
        with pytest.raises(BlockError, match="hub request failed"):
            await asyncio.to_thread(taxii_objects, base, "iots_bad_token")
        reload = asyncio.Event()
        watcher = asyncio.create_task(watch_hub(base, token, SHARED_COLLECTION_ID, reload))
        try:
            # the stream starts at the present, so publish until the watcher (connecting
            # meanwhile) has seen one: each try is a new C2
            for i in range(1, 20):
                _published(store, f"203.0.113.{i}", now + timedelta(seconds=i))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reload.wait(), 2)
                    break
            assert reload.is_set()
        finally:
            watcher.cancel()
    store.engine.dispose()
    assert json.dumps(sel.entries[0].indicator_id).startswith('"indicator--')
