"""The tiered hand-over: a botnet replacing a whole tier of C2 addresses is reported from flows
alone, a CDN or vendor cloud rotating its address (clients moving together) is not."""

from __future__ import annotations

import pytest

from iotscope.c2 import EVIDENCE, Params, detect, detection_sql
from iotscope.errors import ConfigError
from iotscope.records import C2Candidate
from tests.c2.flowkit import MIN, T0, Kit, subscribers

HOUR = 60 * MIN
END = T0 + 16 * HOUR
#: Two tiers of an Emotet-like C2, each spread over two unrelated networks.
TIER1 = ("203.0.113.10", "192.0.2.140")
TIER2 = ("198.51.100.77", "203.0.113.200")


def _background(kit: Kit) -> None:
    """Clean subscribers: web browsing, a popular vendor cloud, one poller of a hub."""
    subs = subscribers(80)
    for s in subs:
        kit.poisson(s, "198.18.1.1", 443, T0, END, 6)
    for s in subs[:30]:
        kit.beacon(s, "198.18.2.2", 8883, T0, END, 300)
    kit.beacon(subs[40], "198.18.3.3", 8443, T0, END, 120)


def _tiered_botnet(kit: Kit, bots: list[str], tiers: tuple[tuple[str, ...], ...]) -> None:
    """Quiet bots (no scanning, no list) beaconing every 150 s to one address of each tier; the
    tier is replaced every 8 hours and the bots follow within two minutes."""
    for e, tier in enumerate(tiers):
        for i, bot in enumerate(bots):
            start = T0 + e * 8 * HOUR + i * 40_000
            port = 443 if i % 2 == 0 else 8080
            kit.beacon(bot, tier[i % len(tier)], port, start, T0 + (e + 1) * 8 * HOUR, 150,
                       nbytes=1500)  # fmt: skip


def _by_ip(found: list[C2Candidate]) -> dict[str, C2Candidate]:
    return {str(c.ip): c for c in found}


def test_tiered_handover_of_quiet_bots_is_reported_with_its_reason() -> None:
    kit = Kit()
    _background(kit)
    _tiered_botnet(kit, subscribers(3, "100.64.9."), (TIER1, TIER2))
    found = _by_ip(detect(kit.table()))
    assert set(found) == {*TIER1, *TIER2}
    for c in found.values():
        tier = next(r for r in c.reasons if "tiered handover" in r)
        assert tier.startswith("+0.25") and "another /24 network" in tier


def test_without_the_tier_term_the_same_quiet_botnet_is_not_reported() -> None:
    kit = Kit()
    _background(kit)
    _tiered_botnet(kit, subscribers(3, "100.64.9."), (TIER1, TIER2))
    assert detect(kit.table(), params=Params(w_tier=0.0)) == []


def test_rotating_cdn_with_clients_moving_together_is_not_reported() -> None:
    """Six clean clients polling a CDN address every 15 min that rotates every 6 hours to the
    next address of its own range; every client follows within a minute."""
    kit = Kit()
    _background(kit)
    for i, s in enumerate(subscribers(6, "100.64.9.")):
        for k in range(3):
            start = T0 + k * 6 * HOUR + i * 9_000
            kit.beacon(s, f"198.18.5.{10 + k}", 443, start, T0 + (k + 1) * 6 * HOUR, 900)
    assert detect(kit.table()) == []


def test_cdn_splitting_its_clients_inside_one_network_is_not_reported() -> None:
    """A vendor cloud behind two addresses at once (round-robin), both replaced together inside
    its own /24: tiers, but no move into another network."""
    kit = Kit()
    _background(kit)
    _tiered_botnet(kit, subscribers(4, "100.64.9."), (("198.18.6.1", "198.18.6.2"),
                                                     ("198.18.6.3", "198.18.6.4")))  # fmt: skip
    assert detect(kit.table()) == []


def test_one_client_or_one_address_per_tier_is_no_tier_evidence() -> None:
    """A single bot changing networks, and bots that all move from one address to one other
    (a plain migration, the shape of a CDN rotation) give no tier evidence."""
    for bots, tiers in (
        (["100.64.9.1"], (TIER1, TIER2)),
        (subscribers(3, "100.64.8."), (("192.0.2.130",), ("198.51.100.9",))),
    ):
        kit = Kit()
        _background(kit)
        _tiered_botnet(kit, bots, tiers)
        assert detect(kit.table()) == []


def test_network_prefix_is_checked_and_written_into_the_sql() -> None:
    with pytest.raises(ConfigError):
        detection_sql(Params(network_prefix=12))
    assert "'^([0-9]+[.][0-9]+)[.]'" in detection_sql(Params(network_prefix=16))


def test_without_the_network_test_a_split_inside_one_network_counts() -> None:
    """``network_prefix=32`` (every other address is another network) turns the network test
    off: the round-robin cloud of the test above is then taken for tiers."""
    kit = Kit()
    _background(kit)
    _tiered_botnet(kit, subscribers(4, "100.64.9."), (("198.18.6.1", "198.18.6.2"),
                                                     ("198.18.6.3", "198.18.6.4")))  # fmt: skip
    found = detect(kit.table(), params=Params(network_prefix=32))
    assert {str(c.ip) for c in found} == {"198.18.6.1", "198.18.6.2", "198.18.6.3", "198.18.6.4"}


def test_a_kept_channel_in_a_tiered_handover_reaches_the_threshold() -> None:
    """The tier term is sized so one kept channel in a tiered hand-over is reported (shape alone
    is not: test_detect.py)."""
    p = Params()
    assert p.w_channel + p.w_tier >= p.threshold
    assert [e.name for e in EVIDENCE].count("tier") == 1
