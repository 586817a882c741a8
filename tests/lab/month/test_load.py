"""Loading a month world: the real tables, read back through the real readers, idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iotscope.lab.month import MonthWorld, load, survey_days
from iotscope.store import open_store
from iotscope.store.centre import list_c2_contacts, list_interventions, list_region_counts
from iotscope.tenancy import CENTRE, Principal


def test_load_writes_what_the_pipeline_reads(
    world: MonthWorld, facts: dict[str, Any], tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first = load(store, world)
    assert load(store, world) == first  # idempotent: the same rows again
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
