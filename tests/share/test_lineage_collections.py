"""Per-lineage collections: the shared feed cut by the centre's C2 lineages, one read-only
collection each, readable by every role over TAXII, re-published idempotently."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from iotscope.centre._botnets import analysis
from iotscope.cli import app
from iotscope.lab.month import generate, load
from iotscope.share import SHARED_COLLECTION_ID, access, collections_for, stix
from iotscope.share._model import lineage_collection_id
from iotscope.share._sources import publish, store_objects
from iotscope.share.lineages import publish_lineages
from iotscope.store import open_store
from iotscope.tenancy import Principal


def test_one_collection_per_lineage_with_its_members_indicators() -> None:
    store = open_store()
    load(store, generate(6, devices=300, isps=3, days=30))
    publish(store, SHARED_COLLECTION_ID, store_objects(store, datetime(2026, 11, 1, tzinfo=UTC)))
    got = {p.lineage: p for p in publish_lineages(store)}
    lineages = analysis(store).lineages
    assert set(got) == {x.id for x in lineages}
    assert sum(p.indicators for p in got.values()) > 0
    assert sum(p.added for p in got.values()) >= sum(p.indicators for p in got.values())
    partner = Principal("partner")
    colls = {c.id: c for c in collections_for(store, partner) if c.kind == "lineage"}
    assert set(colls) == {lineage_collection_id(x.id) for x in lineages}
    assert all(access(partner, c) == (True, False) for c in colls.values())
    assert access(Principal("isp", "any"), next(iter(colls.values()))) == (True, False)
    from iotscope.share._sources import hub_objects

    feed_ids = {o["id"] for o in hub_objects(store, partners=False)}
    for lin in lineages:
        want = {stix.indicator_id(ip, port, "tcp") for ip, port in (m.c2 for m in lin.members)}
        assert got[lin.id].indicators == len(want & feed_ids)
    again = CliRunner().invoke(app, ["share", "lineages"])
    assert again.exit_code == 0, again.output
    assert all(json.loads(line)["added"] == 0 for line in again.output.splitlines())
