"""The world generator: determinism, addresses, ISPs, hostile share, credentials."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from iotscope.errors import ConfigError
from iotscope.lab import HOSTILE_KINDS, build_world
from iotscope.lab._creds import public_pairs
from iotscope.lab._world import hostile_count, lab_network
from tests.lab.labkit import test_catalog


def test_same_seed_same_world() -> None:
    a = build_world(200, 7, "127.150.0.0/16", test_catalog())
    b = build_world(200, 7, "127.150.0.0/16", test_catalog())
    assert a.manifest == b.manifest
    assert [d.facts for d in a.devices] == [d.facts for d in b.devices]


def test_different_seed_different_world() -> None:
    a = build_world(200, 1, "127.150.0.0/16", test_catalog()).manifest
    b = build_world(200, 2, "127.150.0.0/16", test_catalog()).manifest
    assert [d.ip for d in a.devices] != [d.ip for d in b.devices]
    assert a.isps != b.isps


@pytest.mark.parametrize("network", ["10.0.0.0/8", "192.0.2.0/24", "0.0.0.0/0", "::1/128", "nope"])
def test_refuses_networks_outside_loopback(network: str) -> None:
    with pytest.raises(ConfigError):
        build_world(5, 1, network, test_catalog())


def test_refuses_a_network_too_small() -> None:
    with pytest.raises(ConfigError, match="too small"):
        build_world(300, 1, "127.150.3.0/24", test_catalog())


def test_addresses_are_distinct_inside_and_never_dot_zero_or_255() -> None:
    net = lab_network("127.150.0.0/22")
    world = build_world(900, 3, str(net), test_catalog())
    ips = [d.ip for d in world.manifest.devices]
    assert len(set(ips)) == 900
    assert ips == sorted(ips)
    assert all(ip in net and int(ip) & 0xFF not in (0, 255) for ip in ips)


def test_isps_split_the_network_and_hold_their_devices() -> None:
    world = build_world(500, 4, "127.150.0.0/16", test_catalog())
    isps = world.manifest.isps
    assert 2 <= len(isps) <= 8
    nets = [ipaddress.ip_network(p) for isp in isps for p in isp.prefixes]
    assert sum(n.num_addresses for n in nets) == 65536
    assert all(64512 <= isp.asn <= 65534 and isp.prefecture for isp in isps)
    assert len({isp.name for isp in isps}) == len(isps)
    by_name = {isp.name: isp for isp in isps}
    for dev in world.manifest.devices:
        assert dev.isp is not None
        prefixes = by_name[dev.isp].prefixes
        assert any(dev.ip in ipaddress.ip_network(p) for p in prefixes)


def test_hostile_hosts_are_a_small_share_with_every_kind() -> None:
    world = build_world(400, 5, "127.150.0.0/16", test_catalog())
    kinds = Counter(d.hostile for d in world.manifest.devices if d.hostile)
    assert set(kinds) == set(HOSTILE_KINDS)
    assert sum(kinds.values()) == hostile_count(400) <= 400 * 0.02
    hostile = next(d for d in world.manifest.devices if d.hostile)
    assert hostile.credentials == () and hostile.services


def test_no_hostile_hosts_in_a_tiny_world() -> None:
    assert hostile_count(10) == 0
    assert hostile_count(50) == len(HOSTILE_KINDS)


def test_placeholders_filled_and_overrides_applied() -> None:
    world = build_world(300, 6, "127.150.0.0/16", test_catalog())
    cams = [d for d in world.devices if d.device.profile == "test-camera"]
    assert cams
    for dev in cams:
        assert (
            dev.device.cpe
            == f"cpe:2.3:h:acme:{dev.device.model}:{dev.device.version}:*:*:*:*:*:*:*"
        )
        http = next(s for s in dev.services if s.spec.service == "http")
        assert http.spec.title == f"Acme {dev.device.model} Web"
        assert http.spec.realm == f"Acme-{dev.facts['serial']}"
        assert http.spec.server == (
            "AcmeWeb/2.0" if dev.device.version == "2.0.0" else "AcmeWeb/1.0"
        )
        assert dev.device.cves == (("CVE-2017-0001",) if dev.device.version == "1.2.3" else ())


def test_weak_flag_means_a_public_pair() -> None:
    catalog = test_catalog()
    vendor = {
        (p.id, d.protocol): (d.username, d.password) for p in catalog.profiles for d in p.defaults
    }
    listed = public_pairs()
    world = build_world(600, 8, "127.150.0.0/16", catalog)
    weak = Counter()
    for dev in world.manifest.devices:
        for cred in dev.credentials:
            pair = (cred.username, cred.password)
            public = pair == vendor.get((dev.profile, cred.protocol)) or pair in listed.get(
                cred.protocol, ()
            )
            if cred.username is None:
                assert cred.weak and cred.password is None
            else:
                assert cred.weak == public, (dev.ip, cred)
            weak[cred.weak] += 1
    assert weak[True] > 50 and weak[False] > 50  # a realistic mix, not all one way


def test_open_services_are_null_weak_credentials() -> None:
    world = build_world(300, 9, "127.150.0.0/16", test_catalog())
    opened = [d for d in world.manifest.devices if d.profile == "test-open"]
    assert opened
    for dev in opened:
        creds = {c.protocol: c for c in dev.credentials}
        assert (creds["telnet"].username, creds["telnet"].password, creds["telnet"].weak) == (
            None,
            None,
            True,
        )
        assert creds["mqtt"].username is None and creds["mqtt"].weak
        assert creds["ssh"].username is not None


def test_https_logs_in_as_http() -> None:
    world = build_world(300, 10, "127.150.0.0/16", test_catalog())
    router = next(d for d in world.devices if d.device.profile == "test-router")
    pairs = {s.spec.service: s.pair for s in router.services}
    assert pairs["http"] == pairs["https"]
    assert [c.protocol for c in router.device.credentials].count("http") == 1


def test_shipped_catalog_builds_a_world() -> None:
    world = build_world(120, 1)
    assert len(world.manifest.devices) == 120
    assert world.manifest.network == "127.77.0.0/16"
    assert all(d.services for d in world.manifest.devices)
