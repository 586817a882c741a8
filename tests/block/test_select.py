from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from iotscope.block import Policy, policy_from_toml, select
from iotscope.errors import ConfigError
from tests.block.conftest import TLP, indicator, stamp


def test_current_indicators_pass_and_the_rest_is_counted_by_reason(fixed_now) -> None:
    objs = [
        indicator("198.51.100.1", fixed_now),
        indicator("198.51.100.2", fixed_now, revoked=True),
        indicator("198.51.100.3", fixed_now, valid_for=timedelta(seconds=-1)),
        indicator("198.51.100.4", fixed_now, since=timedelta(hours=-1)),
        indicator("198.51.100.5", fixed_now, confidence=40),
        indicator("198.51.100.6", fixed_now, confidence=None),
        indicator("198.51.100.7", fixed_now, tlp="red"),
        indicator("198.51.100.8", fixed_now, pattern="[file:name = 'x']"),
        indicator("192.0.2.53", fixed_now),
        indicator("10.0.0.0", fixed_now, pattern="[ipv4-addr:value = '10.0.0.0/8']"),
        {"type": "malware", "id": "malware--1", "name": "Mirai"},
    ]
    policy = Policy(
        "isp-a",
        min_confidence=50,
        max_tlp="amber",
        allowlist=(ipaddress.IPv4Network("192.0.2.0/25"),),
    )
    sel = select(objs, policy, fixed_now)
    assert [e.target.value for e in sel.entries] == ["198.51.100.1/32"]
    assert dict(sel.skipped) == {
        "revoked": 1,
        "expired": 1,
        "not_yet_valid": 1,
        "low_confidence": 2,
        "tlp": 1,
        "bad_pattern": 1,
        "allowlisted": 1,
        "too_broad": 1,
    }
    assert sel.errors[0][0] == objs[7]["id"] and "not supported" in sel.errors[0][1]


def test_newest_version_decides_so_a_revocation_wins(fixed_now) -> None:
    old = indicator("198.51.100.9", fixed_now)
    new = dict(old, modified=stamp(fixed_now), revoked=True)
    assert select([new, old], Policy("x"), fixed_now).entries == ()
    assert select([old], Policy("x"), fixed_now).entries != ()


def test_versions_compare_as_times_not_text(fixed_now) -> None:
    old = dict(indicator("198.51.100.9", fixed_now), modified="2026-11-01T02:00:01Z")
    new = dict(old, modified="2026-11-01T02:00:01.5Z", revoked=True)  # later; as text, "Z" > "."
    assert select([new, old], Policy("x"), fixed_now).entries == ()
    assert select([old, new], Policy("x"), fixed_now).entries == ()


def test_expiry_comes_from_valid_until_or_the_policy_ttl(fixed_now) -> None:
    with_until = indicator("198.51.100.10", fixed_now, valid_for=timedelta(hours=3))
    without = indicator("198.51.100.11", fixed_now, valid_for=None)
    far = indicator("198.51.100.12", fixed_now, valid_for=timedelta(days=400))
    sel = select([with_until, without, far], Policy("x", ttl=600), fixed_now)
    got = {e.target.value: e.expires - fixed_now for e in sel.entries}
    assert got == {
        "198.51.100.10/32": timedelta(hours=3),
        "198.51.100.11/32": timedelta(minutes=10),
        "198.51.100.12/32": timedelta(days=7),
    }


@pytest.mark.parametrize(
    ("marks", "max_tlp", "acted"),
    [
        ([], "clear", True),
        ([TLP["amber"]], "amber", True),
        ([TLP["amber+strict"]], "amber", False),
        (
            ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
            "green",
            False,
        ),  # TLP 1 amber
        (["marking-definition--00000000-0000-4000-8000-000000000000"], "amber+strict", False),
    ],
)
def test_tlp_threshold(fixed_now, marks: list[str], max_tlp: str, acted: bool) -> None:
    ind = dict(indicator("198.51.100.13", fixed_now), object_marking_refs=marks)
    assert bool(select([ind], Policy("x", max_tlp=max_tlp), fixed_now).entries) is acted


def test_a_statement_marking_defined_in_the_bundle_does_not_restrict(fixed_now) -> None:
    stmt = {
        "type": "marking-definition",
        "id": "marking-definition--1",
        "definition_type": "statement",
        "definition": {"statement": "(c) partner"},
    }
    ind = dict(indicator("198.51.100.14", fixed_now), object_marking_refs=["marking-definition--1"])
    assert select([stmt, ind], Policy("x", max_tlp="clear"), fixed_now).entries != ()


def test_policy_toml_default_then_isp(tmp_path) -> None:
    text = """
[default]
min_confidence = 60
allowlist = ["192.0.2.53"]
[isp.isp-b]
max_tlp = "red"
ttl = 3600
"""
    pol = policy_from_toml(text, "isp-b")
    assert (pol.min_confidence, pol.max_tlp, pol.ttl) == (60, "red", 3600)
    assert pol.allowlist == (ipaddress.IPv4Network("192.0.2.53/32"),)
    assert policy_from_toml(text, "isp-c").max_tlp == "amber"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[default]\nmin_confidence = 101", "0-100"),
        ("[default]\nmax_tlp = 'purple'", "max_tlp"),
        ("[default]\ncolour = 1", "unknown policy keys"),
        ("[default]\nallowlist = ['not-an-ip']", "bad allowlist"),
        ("[default\n", "not valid TOML"),
        ("[default]\nblackhole_next_hop = 'x'", "blackhole_next_hop"),
    ],
)
def test_bad_policy_is_a_clear_error(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as info:
        policy_from_toml(text, "isp-a", "policy.toml")
    assert info.value.data.get("file", "policy.toml") == "policy.toml"
