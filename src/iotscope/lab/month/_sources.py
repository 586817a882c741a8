"""The month world's other sources, in the tables the real parts fill:

- the ISP registry (``isps``: name, ASN, prefix), as ``iotscope registry import`` writes it;
- each ISP's lease log (``leases``: which subscriber held which address when; subscriber data,
  in that ISP's tenancy), so attribution and follow-up find a device after an address change;
- subscriber counts (``isp_subscribers``), the KPIs' denominator;
- the darknet telescope's sightings of scanning bots (``sightings``, one capture a week), so an
  infected address can be joined to the survey's identification of the same address.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

import numpy as np

from iotscope.lab.month._botnets import FAMILIES
from iotscope.lab.month._truth import SURVEY_EVERY
from iotscope.lab.month._world import MonthWorld
from iotscope.records import Sighting
from iotscope.store import Store
from iotscope.store import _attribution as sa
from iotscope.store.centre import Subscribers, save_subscribers
from iotscope.tenancy import CENTRE

TELESCOPE = "lab-month-telescope"


def registry_rows(world: MonthWorld) -> list[dict[str, Any]]:
    """The ``isps`` rows (as the registry import writes them, less ``updated``)."""
    return [
        {"name": x.name, "asns": [x.asn], "prefixes": [x.prefix], "abuse_email": None,
         "language": "ja", "report_format": "shadowserver-csv", "interval": "daily",
         "domain": None}
        for x in world.isps
    ]  # fmt: skip


def lease_rows(world: MonthWorld, k: int) -> list[dict[str, Any]]:
    """ISP ``k``'s leases: one per device and address it held, day boundaries in UTC."""
    addr = world.addresses
    cols = np.nonzero(world.devices.isp == k)[0]
    change = np.ones(addr.shape, dtype=bool)
    change[1:] = addr[1:] != addr[:-1]
    rows = []
    for i in cols.tolist():
        days = np.nonzero(change[:, i])[0].tolist()
        for j, d in enumerate(days):
            end = world.day_start(days[j + 1]) if j + 1 < len(days) else None
            rows.append({"address": str(ipaddress.IPv4Address(int(addr[d, i]))),
                         "start": world.day_start(d), "end": end,
                         "subscriber_id": world.devices.subscriber[i]})  # fmt: skip
    return rows


def sightings(world: MonthWorld, week: int) -> list[Sighting]:
    """Scanning bots the telescope saw in week ``week``: one sighting per device and address."""
    st, addr = world.run.states.lineage, world.addresses
    d0, d1 = week * SURVEY_EVERY, min((week + 1) * SURVEY_EVERY, world.days)
    scans = np.array([FAMILIES[x.family][2] for x in world.lineages] + [False])
    mirai = np.array([x.family.startswith("mirai") for x in world.lineages] + [False])
    rng = np.random.default_rng([world.seed, 11, week])
    seen: dict[tuple[int, int], list[int]] = {}
    for d in range(d0, d1):
        lin = st[d]
        for i in np.nonzero((lin >= 0) & scans[lin])[0].tolist():
            seen.setdefault((i, int(addr[d, i])), []).append(d)
    out = []
    for (i, ip), days in sorted(seen.items()):
        t0 = world.day_start(days[0]) + timedelta(seconds=int(rng.integers(0, 43_200)))
        t1 = world.day_start(days[-1]) + timedelta(seconds=int(rng.integers(43_200, 86_399)))
        packets = int(rng.integers(40, 400)) * len(days)
        m = bool(mirai[st[days[0], i]])
        ports = (
            {23: packets * 9 // 10, 2323: packets - packets * 9 // 10}
            if m
            else {23: packets // 2, 80: packets // 4, 8080: packets - packets // 2 - packets // 4}
        )
        out.append(Sighting(src=ipaddress.IPv4Address(ip), first_seen=t0, last_seen=t1,
                            packets=packets, targets=packets, ports=ports,
                            mirai_fingerprint=1.0 if m else 0.0,
                            classification="mirai" if m else "iot", sensor=TELESCOPE))  # fmt: skip
    return out


def load_sources(store: Store, world: MonthWorld) -> dict[str, int]:
    """Write the registry, leases, subscriber counts and weekly telescope captures."""
    counts = {"isps": sa.save_isps(store, registry_rows(world))}
    counts["leases"] = sum(
        sa.replace_leases(store, x.name, lease_rows(world, k), replace=True)
        for k, x in enumerate(world.isps)
    )
    subs = [Subscribers(x.name, world.start.date(), x.subscribers) for x in world.isps]
    counts["isp_subscribers"] = save_subscribers(store, CENTRE, subs)
    counts["sightings"] = 0
    for week in range((world.days + SURVEY_EVERY - 1) // SURVEY_EVERY):
        start = world.day_start(week * SURVEY_EVERY)
        end = world.day_start(min((week + 1) * SURVEY_EVERY, world.days))
        found = sightings(world, week)
        cid = f"lab-month-{world.seed}-w{week}"
        counts["sightings"] += store.save_capture(TELESCOPE, cid, (start, end), found)
    return counts
