"""`iotscope isp run` against a real `iotscope serve`, killed with SIGKILL mid-way.

A lab site's NetFlow export (the `lab traffic` capture's datagrams, replayed over UDP on
127.0.0.1) goes to `isp run`, which detects every 2 s and publishes to the hub. The first run
is killed with SIGKILL as soon as the hub holds one of its indicators; the second run gets the
rest of the export and stops on SIGTERM. Then, read with the OASIS taxii2-client: every
indicator's versions share one ``created`` and exactly one of them is its first version
(``modified`` == ``created``), so no C2 was published twice as new; the hub's latest version
of each is the one the site's publish state recorded; and the site stored every flow of the
export exactly once. `share publish` afterwards finds nothing new to send.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Collection

from iotscope.flows import flows_root, ingest_files, read_flows
from iotscope.isp._state import load_published, outbox
from iotscope.lab.traffic import generate
from iotscope.pcap import read_frames, udp_payloads
from iotscope.share import SHARED_COLLECTION_ID
from iotscope.store import open_store
from iotscope.store._tokens import mint_token
from iotscope.telescope import Options, ingest
from tests.isp._medallion import free_port
from tests.share.server import serving

pytestmark = [pytest.mark.network, pytest.mark.slow]


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def hub_indicators(base: str, token: str) -> dict[str, list[dict[str, Any]]]:
    """Every version of every indicator in the shared collection (taxii2-client, paged)."""
    from taxii2client.v21 import as_pages

    url = f"{base}/taxii2/hub/collections/{SHARED_COLLECTION_ID}/"
    col = Collection(url, auth=Bearer(token))
    out: dict[str, list[dict[str, Any]]] = {}
    for page in as_pages(col.get_objects, per_request=500, type="indicator", version="all"):
        for obj in page.get("objects", []):
            out.setdefault(obj["id"], []).append(obj)
    return out


def isp_run(home: Path, site: str, port: int, hub: str, token: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "iotscope", "isp", "run", "--site", site,
           "--listen", f"127.0.0.1:{port}", "--hub", hub, "--token", token,
           "--every", "2", "--window", "3650d", "--batch-seconds", "0.5"]  # fmt: skip
    env = {**os.environ, "IOTSCOPE_HOME": str(home)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stderr is not None
    for _ in range(10):
        if "listening on" in proc.stderr.readline():
            return proc
    proc.kill()
    raise AssertionError("isp run did not start")


def replay(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, ("127.0.0.1", port))
            time.sleep(0.001)


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_publishes_no_c2_twice_as_new(tmp_path: Path, iotscope_home: Path) -> None:
    traffic = tmp_path / "traffic"
    generate(traffic, seed=3, days=0.25, scale=0.2, devices=40, network="127.78.0.0/22")
    truth = json.loads((traffic / "truth.json").read_text())
    site = max({c["site"] for c in truth["c2"]}, key=[c["site"] for c in truth["c2"]].count)
    isp_store = open_store()  # the ISP's own store: its telescope's bots, its publish state
    isp_store.save_sightings(ingest(traffic / "darknet.pcap", Options(sensor="t")).sightings)
    pcap = traffic / "sites" / site / "netflow.pcap"
    datagrams = [bytes(d[5]) for d in udp_payloads(read_frames(pcap.read_bytes()))]
    expected = ingest_files([pcap], fmt="netflow-pcap", site=site, root=tmp_path / "ref").flows

    hub_home = tmp_path / "hub"
    hub_store = open_store(f"sqlite:///{hub_home / 'iotscope.db'}")
    token = mint_token(hub_store.engine, "isp", site)
    reader = mint_token(hub_store.engine, "partner")
    hub_store.engine.dispose()
    port, cut = free_port(), len(datagrams) * 2 // 3
    with serving({"IOTSCOPE_HOME": str(hub_home)}) as base:
        proc = isp_run(iotscope_home, site, port, base, token)
        try:
            replay(port, datagrams[:cut])
            wait_for(lambda: hub_indicators(base, reader), 120, "a first publication")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = isp_run(iotscope_home, site, port, base, token)
            replay(port, datagrams[cut:])
            flows = flows_root()
            wait_for(lambda: read_flows(flows, site=site).num_rows >= expected, 60, "the flows")
            time.sleep(5)  # two more detection rounds over every flow
            wait_for(lambda: all(e.outcome != "pending" for e in outbox(isp_store, site)), 60,
                     "the outbox to drain")  # fmt: skip
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        on_hub = hub_indicators(base, reader)
        state = {p.object_id: p for p in load_published(isp_store, site).values()
                 if p.type == "indicator"}  # fmt: skip
        assert on_hub and set(on_hub) == set(state)
        for iid, versions in on_hub.items():
            assert len({v["created"] for v in versions}) == 1, iid  # one chain per indicator
            assert sum(v["created"] == v["modified"] for v in versions) == 1, iid  # one "new"
            assert max(v["modified"] for v in versions) == state[iid].modified
        assert all(e.outcome == "sent" for e in outbox(isp_store, site))
        stored = read_flows(flows_root(), site=site)
        assert stored.num_rows == expected  # every flow of the export, once

        cli = subprocess.run(
            [sys.executable, "-m", "iotscope", "share", "publish", "--site", site, "--hub", base,
             "--token", token],
            env={**os.environ, "IOTSCOPE_HOME": str(iotscope_home)},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        assert "sent 0 envelope(s)" in cli.stderr and hub_indicators(base, reader) == on_hub
