"""The demo's sharing step on a small lab: every ISP's detection is published to a real hub
(the service app on uvicorn) and each C2 reaches the other ISPs over the push stream."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from iotscope.demo._share import share_lab
from iotscope.flows import flows_root, ingest_files
from iotscope.isp._state import load_published, outbox
from iotscope.lab.traffic import generate
from iotscope.store import open_store
from iotscope.telescope import Options, ingest

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("iotscope.share._router") is None, reason="no TAXII hub yet"
    ),
]


def test_share_step_delivers_every_isps_c2s_to_the_others(tmp_path: Path) -> None:
    out = tmp_path / "traffic"
    summary = generate(out, seed=3, days=0.25, scale=0.2, devices=40, network="127.78.0.0/22")
    store = open_store()
    store.save_sightings(ingest(out / "darknet.pcap", Options(sensor="t")).sightings)
    sites = sorted(summary.flows)
    for site in sites:
        ingest_files([out / "sites" / site / "netflow.pcap"], fmt="netflow-pcap", site=site,
                     root=flows_root())  # fmt: skip
    seen: list[tuple[str, str]] = []

    def on_arrival(isp: str, indicator: dict[str, Any], now: datetime) -> list[str]:
        seen.append((isp, indicator["id"]))
        return [f"  {isp}: would block {indicator['id']}"]

    demo = share_lab(store, out, on_arrival=on_arrival)
    assert sum(demo.published.values()) > 0
    first = [isps[0] for isps in demo.found_by.values()]
    for publisher in set(first):  # the C2s each ISP shared first reached every other ISP
        for other in sites:
            if other != publisher:
                assert len(demo.latencies[(publisher, other)]) == first.count(publisher)
    assert seen and any("would block" in line for line in demo.lines)
    for site in sites:  # every envelope was accepted; the state knows every indicator
        assert all(e.outcome == "sent" for e in outbox(store, site))
        indicators = [p for p in load_published(store, site).values() if p.type == "indicator"]
        assert len(indicators) == demo.published[site]
