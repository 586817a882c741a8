"""Loading a month world: the real tables, read back through the real readers, idempotent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from iotscope.lab.month import MonthWorld, load, survey_days
from iotscope.store import open_store
from iotscope.store.centre import list_c2_contacts, list_interventions, list_region_counts
from iotscope.tenancy import CENTRE, Principal


def test_load_writes_what_the_pipeline_reads(
    world: MonthWorld, facts: dict[str, Any], tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first = load(store, world)
    # idempotent: the same rows again, and a capture already stored adds no sighting
    assert load(store, world) == replace(first, sightings=0, published=0, jcstar_labels=0)
    assert len(store.sightings()) <= first.sightings
    assert first.surveys == len(survey_days(world.days)) == len(store.surveys())
    findings = store.findings()  # parsed back into Finding records
    assert len(findings) == first.findings
    assert all(f.identity and f.identity.vendor and f.identity.version for f in findings)
    assert {f.login.outcome for f in findings} <= {"accepted", "no_auth", "rejected"}
    contacts = list_c2_contacts(store, CENTRE)
    assert len(contacts) == first.c2_contacts == int(world.run.contacts.reported.sum())
    truth_c2 = {c["endpoint"]: c["lineage"] for c in facts["c2"]}
    assert {f"{c.c2_ip}:{c.c2_port}" for c in contacts} <= set(truth_c2)
    name = world.isps[1].name
    mine = list_c2_contacts(store, Principal("isp", name))
    assert mine and {c.isp for c in mine} == {name}
    assert {x.id for x in list_interventions(store, CENTRE)} == {
        x["id"] for x in facts["interventions"]
    }
    counts = list_region_counts(store, Principal("isp", name), kind="weak")
    assert {c.isp for c in counts} == {name}
    day0 = [c.count for c in counts if c.day == world.start.date()]
    assert sum(day0) == facts["series"][name]["weak"][0]


def test_sources_registry_leases_sightings(world: MonthWorld, tmp_path: Path) -> None:
    from iotscope.attribution import subscriber_at
    from iotscope.lab.month._sources import TELESCOPE, lease_rows, load_sources

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    counts = load_sources(store, world)
    assert counts["isps"] == len(world.isps) and counts["leases"] > len(world.devices)
    # the lease log names each device's subscriber at its address on any day
    isp = world.isps[0]
    row = lease_rows(world, 0)[-1]
    who = subscriber_at(store, Principal("isp", isp.name), isp.name, row["address"], row["start"])
    assert who == row["subscriber_id"]
    # the telescope saw scanning bots at the addresses they held
    infected = store.infected_ips()
    assert infected and counts["sightings"] >= len(infected) // 2
    assert all(s.sensor == TELESCOPE for s in store.sightings(TELESCOPE))


def test_daily_detection_runs_per_isp(world: MonthWorld, tmp_path: Path) -> None:
    from iotscope.lab.month._detections import load_detections
    from iotscope.tenancy import site_name

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert load_detections(store, world) > 0
    reported = world.run.contacts
    k = int(np.bincount(world.devices.isp[reported.device[reported.reported]]).argmax())
    site = site_name(world.isps[k].name)
    runs = store.c2_runs(site)
    assert len(runs) == world.days and runs[0].until == world.day_start(world.days)
    seen = {(str(c.ip), c.port) for r in runs for c in store.c2_run_candidates(r.id, site)}
    truth = {(c.ip, c.port) for c in world.run.c2s}
    assert seen and seen <= truth
