"""Traffic variants: named mixes of botnet lineages and benign look-alike families.

A variant is data: its lineages (name, :class:`Family`) and its benign families
(:class:`Poller`, :class:`NatGateway`), each with its parameters. ``held_out`` variants are
for reporting only: detection is tuned on the variants with ``held_out=False`` and measured on
the others, whose ports, periods, jitter, daily windows, rotation intervals, NAT sizes and mixes
all differ from the tuning ones.

``default`` is the original lab world (the same bytes as before variants existed).
"""

from __future__ import annotations

from dataclasses import dataclass

from iotscope.errors import ConfigError
from iotscope.lab.traffic._families import (
    FAMILIES,
    LINEAGES,
    SLOT,
    BenignFamily,
    Family,
    NatGateway,
    Poller,
)

#: Benign families per variant at most (each gets 100 addresses of its own).
MAX_BENIGN = 10


@dataclass(frozen=True)
class Variant:
    """One world: a name, what it is for, whether it is held out, and its families."""

    name: str
    description: str
    held_out: bool
    lineages: tuple[tuple[str, Family], ...]
    benign: tuple[BenignFamily, ...] = ()

    def __post_init__(self) -> None:
        if len(self.benign) > MAX_BENIGN:
            raise ConfigError("too many benign families in a variant", variant=self.name)
        names = [n for n, _ in self.lineages]
        if len(set(names)) != len(names):
            raise ConfigError("lineage names repeat in a variant", variant=self.name)
        for label, ok in [(n, _family_ok(f)) for n, f in self.lineages] + [
            (b.family, _benign_ok(b)) for b in self.benign
        ]:
            if not ok:
                raise ConfigError("family parameters out of range", variant=self.name, family=label)


def _span(pair: tuple[float, float], low: float = 0) -> bool:
    return len(pair) == 2 and low <= pair[0] <= pair[1]


def _ints(pair: tuple[int, int], low: int = 0) -> bool:
    """A range of integers drawn from [pair[0], pair[1]): not empty."""
    return len(pair) == 2 and low <= pair[0] < pair[1]


def _ports(ports: tuple[int, ...]) -> bool:
    return len(ports) > 0 and all(0 < p < 65536 for p in ports)


def _family_ok(f: Family) -> bool:
    """Whether a botnet family's parameters can generate traffic."""
    return all(
        (
            _ports(f.ports),
            f.period_s > 0 and f.jitter >= 0 and f.tier >= 1,
            _ints(f.orig_bytes) and _ints(f.resp_bytes) and _ints(f.bots, 1),
            _span(f.migrate_h) and f.migrate_h[0] > 0,
            f.scanner in (None, "mirai", "iot"),
            0 <= f.fail_share <= 1 and 0 <= f.flipped_share <= 1,
            f.session_h is None or (_span(f.session_h) and f.session_h[0] > 0),
        )
    )


def _benign_ok(b: BenignFamily) -> bool:
    """Whether a benign family's parameters can generate traffic."""
    if isinstance(b, NatGateway):
        return all(
            (
                b.gateways >= 0 and _ints(b.devices, 1) and 0 < b.clouds <= SLOT,
                _ports(b.ports) and len(b.periods_s) > 0 and min(b.periods_s) > 0,
            )
        )
    return all(
        (
            _ports((b.port,)) and b.period_s > 0 and b.clients >= 0 and b.jitter >= 0,
            b.proto in ("tcp", "udp") and 0 <= b.days_on <= 1,
            len(b.hours) == 2 and all(0 <= h <= 24 for h in b.hours),
            b.rotate_h is None or b.rotate_h > 0,
            b.outages_per_day >= 0 and _span(b.off_h),
            0 <= b.download_share <= 1 and _span(b.download_mb),
            _ints(b.orig_bytes) and _ints(b.resp_bytes),
        )
    )


# --- malicious families beyond the original four ------------------------------------------------


def jitter_beacon(port: int, period_s: float, jitter: float, scanner: str | None) -> Family:
    """C2 polling with a large jitter (gaps period * (1 ± jitter), standard deviation)."""
    fam = "jitter-beacon"
    return Family(fam, (port,), period_s, (60, 400), (40, 900), scanner, jitter=jitter, bots=(3, 7))


def static_443(period_s: float, jitter: float = 0.05) -> Family:
    """One C2 address on 443 for the whole span; its bots never scan (no infected list)."""
    return Family(
        "static-443",
        (443,),
        period_s,
        (150, 400),
        (100, 1200),
        None,
        migrate_h=(1e6, 1e6),
        jitter=jitter,
        bots=(3, 8),
        quiet=True,
    )


def rotating_c2(port: int, hours: tuple[float, float], tier: int = 1) -> Family:
    """A C2 that moves to a new address every few hours; the bots follow."""
    fam = "rotating-c2"
    return Family(
        fam, (port,), 120.0, (30, 120), (30, 200), "iot", tier=tier, migrate_h=hours, bots=(4, 9)
    )


def mirai_reconnect(port: int, period_s: float, fail_share: float) -> Family:
    """Real Mirai bots: reconnecting every few seconds, a share failing, 52/124-byte exchanges."""
    return Family(
        "mirai-reconnect",
        (port,),
        period_s,
        (52, 53),
        (124, 125),
        "mirai",
        jitter=0.3,
        bots=(2, 4),
        fail_share=fail_share,
    )


def long_session(port: int, hours: tuple[float, float], flipped: float) -> Family:
    """Hours-long C2 sessions (a keepalive a minute inside); some logged roles-reversed by Zeek."""
    return Family(
        "long-session",
        (port,),
        60.0,
        (2, 12),
        (2, 40),
        "iot",
        bots=(3, 6),
        session_h=hours,
        flipped_share=flipped,
    )


def _original(names: tuple[str, ...] | None = None) -> tuple[tuple[str, Family], ...]:
    return tuple((n, FAMILIES[f]) for n, f in LINEAGES if names is None or n in names)


def _lineages(
    keep: tuple[str, ...] | None, *extra: tuple[str, Family]
) -> tuple[tuple[str, Family], ...]:
    """The original lineages named in ``keep`` (all when None), then ``extra``."""
    return (*_original(keep), *extra)


def _ntp(port: int, period_s: float, clients: int) -> Poller:
    return Poller(
        "odd-port-ntp",
        port,
        period_s,
        clients,
        jitter=0.01,
        proto="udp",
        orig_bytes=(48, 49),
        resp_bytes=(48, 49),
    )


def _dns(port: int, period_s: float, clients: int) -> Poller:
    return Poller(
        "odd-port-dns",
        port,
        period_s,
        clients,
        jitter=0.1,
        proto="udp",
        orig_bytes=(30, 60),
        resp_bytes=(60, 300),
    )


# --- the variants --------------------------------------------------------------------------------

_LOOKALIKE = Variant(
    "lookalike",
    "the original world plus every look-alike family and the new C2 kinds (tuning)",
    False,
    _lineages(
        None,
        ("beacon-j1", jitter_beacon(8080, 300.0, 0.4, "iot")),
        ("static-s1", static_443(150.0)),
        ("rotor-r1", rotating_c2(8443, (2.0, 4.0))),
        ("mirai-reconnect-m1", mirai_reconnect(23, 5.0, 0.5)),
        ("longsess-l1", long_session(443, (2.0, 6.0), 0.5)),
    ),
    (
        Poller("day-poller", 443, 300.0, 1, jitter=0.1, hours=(8.0, 20.0)),
        Poller("hub-poller", 8443, 120.0, 2),
        Poller("power-cycle", 8883, 60.0, 3, outages_per_day=1.0),
        Poller("rotating-cdn", 443, 900.0, 6, rotate_h=6.0),
        Poller("firmware-check", 443, 21600.0, 8, jitter=0.02, download_share=0.3),
        _ntp(1123, 1024.0, 4),
        NatGateway(gateways=1, devices=(20, 40), clouds=24),
    ),
)

_CROWDED = Variant(
    "crowded",
    "busier look-alikes (bigger NATs, more CDN clients, pollers that skip days) (tuning)",
    False,
    _lineages(
        ("mirai-okiru", "mirai-satori", "gafgyt-kaiten", "httpbot-tsunami", "emotet-e4"),
        ("beacon-j2", jitter_beacon(8443, 600.0, 0.3, None)),
        ("static-s2", static_443(300.0, 0.1)),
        ("rotor-r2", rotating_c2(443, (3.0, 5.0), tier=2)),
        ("mirai-reconnect-m2", mirai_reconnect(23, 3.0, 0.5)),
        ("longsess-l2", long_session(8443, (1.0, 3.0), 0.3)),
    ),
    (
        Poller("day-poller", 8080, 180.0, 3, jitter=0.1, hours=(7.0, 22.0), days_on=0.7),
        Poller("hub-poller", 8883, 60.0, 2),
        Poller("power-cycle", 443, 300.0, 5, outages_per_day=2.0),
        Poller("rotating-cdn", 443, 600.0, 20, rotate_h=4.0),
        Poller("firmware-check", 8443, 3600.0, 10, download_share=0.1),
        _dns(5300, 120.0, 3),
        NatGateway(gateways=2, devices=(30, 60), clouds=40),
    ),
)

_HO_OFFICE = Variant(
    "ho-office",
    "held out: office-hours pollers on 8883, fast CDN rotation, long flipped sessions",
    True,
    _lineages(
        ("mirai-okiru", "gafgyt-kaiten", "emotet-e4"),
        ("beacon-h1", jitter_beacon(443, 180.0, 0.6, "iot")),
        ("static-h1", static_443(240.0, 0.15)),
        ("rotor-h1", rotating_c2(8080, (1.0, 3.0))),
        ("mirai-reconnect-h1", mirai_reconnect(7777, 8.0, 0.6)),
        ("longsess-h1", long_session(8883, (4.0, 8.0), 0.7)),
    ),
    (
        Poller("day-poller", 8883, 240.0, 4, jitter=0.2, hours=(9.0, 17.0), days_on=0.6),
        Poller("hub-poller", 8080, 90.0, 2),
        Poller("power-cycle", 443, 300.0, 4, outages_per_day=2.0, off_h=(0.2, 1.0)),
        Poller("rotating-cdn", 8443, 1200.0, 10, rotate_h=2.0),
        Poller("firmware-check", 8443, 43200.0, 12, jitter=0.01, download_share=0.5),
        _dns(8053, 300.0, 5),
        NatGateway(gateways=1, devices=(10, 20), clouds=12, ports=(443, 8883)),
    ),
)

_HO_NAT = Variant(
    "ho-nat",
    "held out: large NATs, slow static C2, C2 rotating every two hours in pairs",
    True,
    _lineages(
        None,
        ("beacon-h2", jitter_beacon(443, 450.0, 0.5, None)),
        ("static-h2", static_443(600.0)),
        ("rotor-h2", rotating_c2(443, (1.5, 2.5), tier=2)),
        ("mirai-reconnect-h2", mirai_reconnect(23, 4.0, 0.45)),
        ("longsess-h2", long_session(443, (3.0, 10.0), 1.0)),
    ),
    (
        NatGateway(
            gateways=3,
            devices=(30, 60),
            clouds=60,
            ports=(443, 8883, 8443, 1883),
            periods_s=(60.0, 180.0, 600.0),
            jitter=0.08,
        ),
        Poller("hub-poller", 8443, 240.0, 3, jitter=0.08),
        Poller("rotating-cdn", 443, 300.0, 25, rotate_h=12.0),
        Poller("day-poller", 443, 600.0, 3, jitter=0.15, hours=(6.0, 23.0), days_on=0.5),
        Poller("firmware-check", 443, 86400.0, 20, jitter=0.01, download_share=0.05),
    ),
)

_HO_NIGHT = Variant(
    "ho-night",
    "held out: pollers across midnight, flaky power, odd-port NTP, slow beacons on 8883",
    True,
    _lineages(
        ("gafgyt-kaiten", "httpbot-tsunami", "emotet-e4", "emotet-e5"),
        ("beacon-h3", jitter_beacon(8883, 900.0, 0.3, "iot")),
        ("static-h3", static_443(120.0, 0.2)),
        ("rotor-h3", rotating_c2(8443, (4.0, 6.0))),
        ("mirai-reconnect-h3", mirai_reconnect(23, 10.0, 0.4)),
        ("longsess-h3", long_session(8080, (2.0, 4.0), 0.5)),
    ),
    (
        Poller("day-poller", 443, 300.0, 2, jitter=0.05, hours=(18.0, 6.0)),
        Poller("power-cycle", 8883, 30.0, 6, outages_per_day=3.0, off_h=(0.1, 2.0)),
        _ntp(10123, 512.0, 6),
        Poller("firmware-check", 443, 3600.0, 6, download_share=0.2),
        Poller("rotating-cdn", 443, 1800.0, 8, rotate_h=8.0),
        Poller("hub-poller", 8443, 300.0, 2, days_on=0.8),
        NatGateway(gateways=1, devices=(15, 30), clouds=20, periods_s=(120.0, 450.0)),
    ),
)

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("default", "the original lab world, unchanged (tuning)", False, _original()),
        _LOOKALIKE,
        _CROWDED,
        _HO_OFFICE,
        _HO_NAT,
        _HO_NIGHT,
    )
}


def get_variant(name: str) -> Variant:
    """The variant called ``name``; a :class:`ConfigError` naming the known ones otherwise."""
    if name not in VARIANTS:
        raise ConfigError("unknown traffic variant", variant=name, known=sorted(VARIANTS))
    return VARIANTS[name]
