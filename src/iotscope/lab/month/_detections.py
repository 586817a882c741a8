"""Each ISP's daily C2 detection runs, as ``c2 detect`` stores them (``c2_runs``,
``c2_candidates``): one run per ISP site and day over that day's flows, its candidates the C2
endpoints the ISP's detector reported contacts with that day. So "when did each ISP first
detect this C2" reads the same table for the lab as for real runs (``c2 history``).

Each run is then published as ``isp run`` publishes a run when it ends (the real planner,
:func:`iotscope.isp.publish_candidates`: new, changed and expired C2s into the site's publish
state and outbox), so the sharing KPIs (detection to share, C2 lifetime after sharing) read the
same tables as a deployment.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

import numpy as np

from iotscope.lab.month._botnets import FAMILIES
from iotscope.lab.month._world import MonthWorld
from iotscope.records import C2Candidate, C2Run
from iotscope.store import Store
from iotscope.store import _c2 as c2rows
from iotscope.store import _schema as s
from iotscope.store.centre import upsert_rows
from iotscope.tenancy import site_name


def run_id(world: MonthWorld, day: int) -> str:
    return f"lab-month-{world.seed}-d{day:02d}"


def detections(world: MonthWorld) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``c2_runs`` and ``c2_candidates`` rows of every ISP and day."""
    c = world.run.contacts
    m = c.reported
    day, dev, c2 = c.day[m], c.device[m], c.c2[m]
    isp = world.devices.isp[dev]
    scans = np.array([FAMILIES[world.lineages[x.lineage].family][2] for x in world.run.c2s])
    t0 = day * 86_400 + c.first_s[m]
    t1 = day * 86_400 + c.last_s[m]
    runs, cands = [], []
    for k, x in enumerate(world.isps):
        site = site_name(x.name)
        for d in range(world.days):
            sel = (isp == k) & (day == d)
            run = C2Run(id=run_id(world, d), site=site, since=world.day_start(d),
                        until=world.day_start(d + 1), engine="lab", started=world.day_start(d + 1),
                        finished=world.day_start(d + 1),
                        counts={"candidates": len(np.unique(c2[sel]))})  # fmt: skip
            runs.append(c2rows.run_row(run))
            for j in np.unique(c2[sel]).tolist():
                hit = sel & (c2 == j)
                cands.append(c2rows.candidate_row(run, _candidate(world, site, j, hit, t0, t1,
                                                                  bool(scans[j]))))  # fmt: skip
    return runs, cands


def _candidate(
    world: MonthWorld, site: str, j: int, hit: Any, t0: Any, t1: Any, scans: bool
) -> C2Candidate:
    ep = world.run.c2s[j]
    clients = int(hit.sum())
    return C2Candidate(
        ip=ipaddress.IPv4Address(ep.ip), port=ep.port, proto="tcp",
        score=round(min(1.0, 0.55 + 0.05 * clients), 3), clients=clients,
        infected_clients=clients if scans else 0,
        first_seen=world.start + timedelta(seconds=int(t0[hit].min())),
        last_seen=world.start + timedelta(seconds=int(t1[hit].max())),
        reasons=(f"{clients} local clients beacon to this endpoint",), site=site,
    )  # fmt: skip


def load_detections(store: Store, world: MonthWorld) -> int:
    """Write the runs and candidates (bulk, idempotent); the number of candidates."""
    runs, cands = detections(world)
    upsert_rows(store, s.c2_runs, runs)
    return upsert_rows(store, s.c2_candidates, cands)


def publish_detections(store: Store, world: MonthWorld) -> int:
    """Publish every ISP's runs in day order at the end of each run; the C2s published new."""
    from iotscope.isp._publish import publish_candidates
    from iotscope.isp._state import StateCache

    new = 0
    for x in world.isps:
        site, cache = site_name(x.name), StateCache()
        for d in range(world.days):
            rid = run_id(world, d)
            found = store.c2_run_candidates(rid, site)
            plan, _ = publish_candidates(store, site, found, rid, world.day_start(d + 1),
                                         cache=cache)  # fmt: skip
            new += plan.counts()["new"]
    return new
