"""The device table: identity, outcomes, the infection join per round, and tenancy."""

from __future__ import annotations

import numpy as np

from iotscope.makers import load_devices, vendor_key
from iotscope.store import Store
from iotscope.tenancy import CENTRE, Principal


def test_centre_sees_every_device_of_every_round(world: Store) -> None:
    dev = load_devices(world, CENTRE)
    assert [r.survey_id for r in dev.rounds] == ["r1", "r2"]
    assert len(dev) == 2 * 110
    assert int(dev.weak[dev.round == 1].sum()) == 20 + 2 + 10 + 10


def test_infection_is_joined_per_round_window(world: Store) -> None:
    dev = load_devices(world, CENTRE)
    per_round = [int(dev.infected[dev.round == r].sum()) for r in (0, 1)]
    assert per_round == [4, 10]  # backscatter is no bot
    assert dev.all_infected == (4, 10)


def test_vulnerable_and_kev_from_vuln_finding_cves_and_the_findings_own(world: Store) -> None:
    dev = load_devices(world, CENTRE)
    assert int(dev.vulnerable.sum()) == 80 + 30 and int(dev.kev.sum()) == 80
    assert {c.cve for c in dev.cves.rows()} == {"CVE-2014-8361", "CVE-2020-0001", "CVE-2018-10561"}
    from_finding = [c for c in dev.cves.rows() if c.cve == "CVE-2018-10561"]
    assert len(from_finding) == 30 and {c.evidence for c in from_finding} == {"inferred"}
    assert {int(dev.round[c.device]) for c in from_finding} == {0}


def test_manufacturer_sees_only_its_own_vendor_in_any_spelling(world: Store) -> None:
    dev = load_devices(world, Principal("manufacturer", "ACME Corporation"))
    assert set(dev.vendor_key) == {"acme"}
    assert len(dev) == 2 * 70
    assert set(dev.vendor) == {"Acme Corp."}  # the commonest spelling names it
    assert all(str(dev.ip[c.device]).startswith("10.0.0.") for c in dev.cves.rows())
    other = load_devices(world, Principal("manufacturer", "Beta Networks"))
    assert set(other.vendor_key) == {vendor_key("Beta Networks Inc.")}
    assert not set(other.ip) & set(dev.ip)
    assert {c.cve for c in other.cves.rows()} == {"CVE-2018-10561"}  # its own only


def test_isp_sees_only_devices_on_its_network(world: Store) -> None:
    alpha = load_devices(world, Principal("isp", "alpha"))
    assert len(alpha) == 2 * 80
    assert all(not str(ip).startswith("10.0.1.") for ip in alpha.ip)
    beta = load_devices(world, Principal("isp", "beta"))
    assert len(beta) == 2 * 30 and int(beta.infected.sum()) == 2


def test_partner_and_unknown_tenants_see_nothing(world: Store) -> None:
    assert len(load_devices(world, Principal("partner"))) == 0
    nobody = load_devices(world, Principal("manufacturer", "Gamma"))
    assert len(nobody) == 0 and len(nobody.cves) == 0 and not np.any(nobody.infected)


def test_postgresql_gives_the_same_table(pg_schema_url: str) -> None:
    from iotscope.store import open_store
    from tests.makers.world import build

    store = open_store(pg_schema_url)
    try:
        build(store)
        dev = load_devices(store, Principal("manufacturer", "acme"))
        assert len(dev) == 140 and int(dev.infected.sum()) == 12
        assert int(dev.vulnerable.sum()) == 80 and int(dev.kev.sum()) == 80
        assert int(dev.weak.sum()) == 2 * 22 and set(dev.model) == {"A-100", "X9"}
    finally:
        store.engine.dispose()
