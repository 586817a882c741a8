"""The demo's centre step: the live run's own store and a month world, each served over real
HTTP, every page of every role answering 200; on the live store the facts the earlier steps
found are in the centre's JSON API.

The live store is filled by the demo's own steps on a small lab world (its ISPs registered,
traffic generated, telescope and flows ingested, every ISP's detection shared through the hub,
then what each ISP sends the centre). Only the survey is not run (that needs the lab's
processes: ``tests/test_demo.py`` runs it end to end): its findings are written with the
store's own insert function, one per lab device, every third one weak."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from iotscope.attribution import import_registry
from iotscope.demo._centre import LIVE, MONTH, Source, centre_step, tokens_for
from iotscope.demo._centre_facts import expect
from iotscope.demo._centre_feed import feed_centre
from iotscope.demo._share import share_lab
from iotscope.errors import IotscopeError
from iotscope.flows import flows_root, ingest_files
from iotscope.lab import build_world
from iotscope.lab._manifest import write_manifest
from iotscope.lab.traffic import generate
from iotscope.records import Finding, Identity, LabManifest, Login
from iotscope.store import Store, open_store
from iotscope.telescope import Options, ingest

pytestmark = pytest.mark.network

NETWORK, SEED, DEVICES = "127.78.0.0/22", 3, 40


def test_month_source_alone_checks_every_page(tmp_path: Path) -> None:
    demo = centre_step(tmp_path, seed=3, devices=300, isps=3, once=True)
    assert (tmp_path / "centre.sqlite").is_file()  # its own store beside the demo's
    month = demo.source(MONTH)
    assert [s.label for s in demo.sources] == [MONTH] and not demo.facts
    assert set(month.tokens) >= {"centre", "partner"} and len(month.tokens) == 4
    assert not demo.failed and {c.role for c in month.checks} == set(month.tokens)
    assert {c.path for c in month.checks if c.role == "centre"} >= {"/centre/"}
    with pytest.raises(httpx.ConnectError):  # served only while the step runs
        httpx.get(f"{month.url}/healthz", timeout=2)


def _survey(store: Store, manifest: LabManifest) -> None:
    now = datetime.now(UTC)
    found = [
        Finding(ip=d.ip, port=d.services[0].port, service=d.services[0].service, time=now,
                identity=Identity(vendor=d.vendor, model=d.model, version=d.version,
                                  product=d.product),
                login=Login(protocol="telnet", outcome="accepted" if i % 3 == 0 else "rejected"),
                survey_id="demo-test")
        for i, d in enumerate(manifest.devices) if d.services and not d.hostile
    ]  # fmt: skip
    store.save_findings(found)


@pytest.mark.slow
def test_live_centre_shows_what_the_live_run_found(iotscope_home: Path) -> None:
    store = open_store()
    manifest = build_world(DEVICES, SEED, NETWORK).manifest
    write_manifest(manifest, iotscope_home / "manifest.json")
    import_registry(store, iotscope_home / "manifest.json")
    _survey(store, manifest)
    out = iotscope_home / "traffic"
    summary = generate(out, seed=SEED, days=0.25, scale=0.2, devices=DEVICES, network=NETWORK)
    store.save_sightings(ingest(out / "darknet.pcap", Options(sensor="t")).sightings)
    for site in summary.flows:
        ingest_files([out / "sites" / site / "netflow.pcap"], fmt="netflow-pcap", site=site,
                     root=flows_root())  # fmt: skip
    share_lab(store, out)
    feeds = feed_centre(store, manifest)
    assert sum(f.contacts for f in feeds) > 0 and all(f.regions > 0 for f in feeds)
    exp = expect(store, manifest, [])
    assert exp.c2 is not None and exp.weak > 0 and exp.weak_by_pref
    isp = max(feeds, key=lambda f: f.bots).isp
    live = Source(LIVE, store, tokens_for(store, isp, manifest.devices[0].vendor))

    demo = centre_step(iotscope_home, live, exp, month=False, once=True)
    assert not demo.failed and {c.role for c in live.checks} == set(live.tokens)
    assert len(demo.facts) == 6 and all(f.ok for f in demo.facts), demo.facts
    views = {f.path.split("?")[0] for f in demo.facts}
    assert views == {"lineages", "correlation", "regions", "makers", "kpis"}

    # a fact the centre does not show fails the step (and `demo --once` with it)
    wrong = dataclasses.replace(exp, c2="192.0.2.1:1", acted=frozenset({("blocklist", isp)}))
    only_centre = Source(LIVE, store, {"centre": live.tokens["centre"]})
    with pytest.raises(IotscopeError, match="does not show") as err:
        centre_step(iotscope_home, only_centre, wrong, month=False, once=True)
    assert "192.0.2.1:1" in str(err.value) and f"blocklist of {isp}" in str(err.value)
