"""The traffic scenario: which ISPs, botnet lineages, C2 addresses, bots, victims and scanners
exist, and when. Pure and deterministic per seed; the flow and packet builders read it.

Every "Internet" address is drawn from documentation or benchmark ranges (RFC 5737, RFC 2544)
or from the default sites' shared address space (RFC 6598): the addresses are only bytes in
generated files and are never contacted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from iotscope.errors import ConfigError
from iotscope.lab.traffic._families import BenignFamily, Family
from iotscope.lab.traffic._variants import Variant, get_variant
from iotscope.records import Isp
from iotscope.tenancy import site_name

#: Flow time of the first generated record (fixed, so a seed gives the same bytes).
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
EPOCH_MS = int(EPOCH.timestamp() * 1000)
DAY_MS = 86_400_000

#: The telescope's dark prefix (captured in ``darknet.pcap``).
TELESCOPE = ipaddress.IPv4Network("198.19.0.0/16")
#: Benign Internet services (CDNs, DNS, NTP, popular sites, the long tail) and scan targets.
INTERNET = ipaddress.IPv4Network("198.18.0.0/16")
#: DDoS victims, research scanners, and C2 servers (documentation ranges, RFC 5737).
VICTIMS = ipaddress.IPv4Network("198.51.100.0/25")
RESEARCH = ipaddress.IPv4Network("192.0.2.0/26")
C2_POOLS = (ipaddress.IPv4Network("203.0.113.0/24"), ipaddress.IPv4Network("192.0.2.128/25"))

DEFAULT_ISPS = (
    Isp(name="isp-a", asn=64500, prefixes=("100.64.0.0/16",)),
    Isp(name="isp-b", asn=64501, prefixes=("100.65.0.0/16",)),
    Isp(name="isp-c", asn=64502, prefixes=("100.66.0.0/16",)),
)


@dataclass(frozen=True)
class Site:
    """One ISP's vantage point: its name and subscriber prefixes."""

    name: str
    asn: int
    prefixes: tuple[str, ...]
    iot: tuple[int, ...] = ()  # lab device addresses inside the ISP, preferred as bots

    def subscribers(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` distinct subscriber addresses (uint32) drawn from the prefixes."""
        nets = [ipaddress.IPv4Network(p) for p in self.prefixes]
        space = np.concatenate(
            [
                np.arange(int(net.network_address) + 1, int(net.broadcast_address), dtype=np.uint32)
                for net in nets
            ]
        )
        n = min(n, len(space))
        return np.sort(rng.choice(space, size=n, replace=False)).astype(np.uint32)


@dataclass(frozen=True)
class C2Addr:
    """One address of a lineage's C2, active in [start_ms, end_ms)."""

    ip: int
    port: int
    family: str
    lineage: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Lineage:
    name: str
    family: Family
    addrs: tuple[C2Addr, ...]
    sites: tuple[str, ...]

    def epochs(self) -> list[list[C2Addr]]:
        """The addresses grouped by activity period: a tier is one epoch's addresses."""
        out: dict[int, list[C2Addr]] = {}
        for a in self.addrs:
            out.setdefault(a.start_ms, []).append(a)
        return [out[k] for k in sorted(out)]


@dataclass(frozen=True)
class Attack:
    """A DDoS ordered by a lineage: its bots at ``site`` flood ``victim`` for a while."""

    lineage: str
    site: str
    victim: int
    port: int
    proto: str  # tcp (SYN flood) or udp
    start_ms: int
    dur_ms: int


@dataclass(frozen=True)
class Scenario:
    seed: int
    days: float
    scale: float
    start_ms: int
    end_ms: int
    sites: tuple[Site, ...]
    lineages: tuple[Lineage, ...]
    bots: dict[tuple[str, str], np.ndarray]  # (lineage, site) -> bot addresses (uint32)
    subscribers: dict[str, np.ndarray]  # site -> subscriber addresses (uint32), bots included
    attacks: tuple[Attack, ...]
    darknet_bots: np.ndarray  # bots (uint32) seen scanning the telescope
    external_scanners: np.ndarray  # infected hosts outside every site (uint32)
    variant: str = "default"
    held_out: bool = False
    benign: tuple[BenignFamily, ...] = ()  # look-alike families beyond the default benign mix

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)

    def lineage(self, name: str) -> Lineage:
        return next(x for x in self.lineages if x.name == name)


def _c2_pool() -> list[int]:
    return [int(h) for net in C2_POOLS for h in net.hosts()]


def _lineage_sites(rng: np.random.Generator, names: list[str], count: int) -> list[tuple[str, ...]]:
    """Give each of ``count`` lineages 1-3 sites so each site sees a different, overlapping
    subset."""
    out: list[tuple[str, ...]] = []
    for i in range(count):
        k = int(rng.integers(1, min(3, len(names)) + 1))
        chosen = {names[i % len(names)], *rng.choice(names, size=k, replace=False).tolist()}
        out.append(tuple(sorted(chosen)))
    return out


def _addresses(
    rng: np.random.Generator, fam: Family, name: str, start: int, end: int, pool: list[int]
) -> list[C2Addr]:
    """The lineage's C2 addresses over time: a new epoch (tier) every few hours."""
    addrs: list[C2Addr] = []
    t = start
    while t < end:
        life = int(rng.uniform(*fam.migrate_h) * 3_600_000)
        stop = t + life
        if end - stop < 7_200_000:  # no address is born in the last two hours
            stop = end
        for k in range(fam.tier):
            if not pool:
                raise ConfigError("too many C2 addresses for the address pool; lower --days")
            ip = pool.pop(int(rng.integers(len(pool))))
            addrs.append(C2Addr(ip, fam.ports[k % len(fam.ports)], fam.name, name, t, stop))
        t = stop
    return addrs


def _attacks(
    rng: np.random.Generator, lineages: list[Lineage], start: int, end: int
) -> list[Attack]:
    victims = [int(h) for h in VICTIMS.hosts()]
    out: list[Attack] = []
    for lin in lineages:
        if lin.family.scanner is None:
            continue
        days = (end - start) / DAY_MS
        for _ in range(max(1, round(days * 1.5))):
            proto = "tcp" if rng.random() < 0.5 else "udp"
            port = (
                int(rng.choice([80, 443, 53, 3074]))
                if proto == "udp"
                else int(rng.choice([80, 443, 22]))
            )
            t0 = int(rng.integers(start, end - 1_800_000))
            dur = int(rng.integers(300_000, 1_200_000))
            victim = victims[int(rng.integers(len(victims)))]
            for site in lin.sites:
                out.append(Attack(lin.name, site, victim, port, proto, t0, dur))
    return out


def build_scenario(
    seed: int = 7,
    days: float = 3.0,
    scale: float = 1.0,
    isps: tuple[Isp, ...] | None = None,
    iot_by_isp: dict[str, tuple[int, ...]] | None = None,
    variant: str | Variant = "default",
) -> Scenario:
    """The whole scenario for ``seed``: sites from ``isps`` (default three ISPs), botnet
    lineages and benign look-alikes from ``variant`` (a name in :data:`VARIANTS` or a
    :class:`Variant`; ``"default"`` is the original world, byte for byte)."""
    if days <= 0 or scale <= 0:
        raise ConfigError("--days and --scale must be positive", days=days, scale=scale)
    mix = get_variant(variant) if isinstance(variant, str) else variant
    rng = np.random.default_rng(seed)
    start, end = EPOCH_MS, EPOCH_MS + int(days * DAY_MS)
    iot = iot_by_isp or {}
    sites = tuple(
        Site(site_name(i.name), i.asn, i.prefixes, iot.get(i.name, ()))
        for i in (isps or DEFAULT_ISPS)
    )
    names = [s.name for s in sites]
    pool = _c2_pool()
    where = _lineage_sites(rng, names, len(mix.lineages))
    lineages = [
        Lineage(name, fam, tuple(_addresses(rng, fam, name, start, end, pool)), sites_of)
        for (name, fam), sites_of in zip(mix.lineages, where, strict=True)
    ]
    subscribers, bots = _population(rng, sites, lineages, scale)
    scanning = [
        b
        for (lin, _), b in bots.items()
        if next(x for x in lineages if x.name == lin).family.scanner
    ]
    all_scan = np.concatenate(scanning) if scanning else np.zeros(0, np.uint32)
    seen = all_scan[rng.random(len(all_scan)) < 0.8]
    ext = (
        int(INTERNET.network_address)
        + 40_000
        + rng.choice(20_000, size=int(60 * scale), replace=False)
    ).astype(np.uint32)
    return Scenario(
        seed,
        days,
        scale,
        start,
        end,
        sites,
        tuple(lineages),
        bots,
        subscribers,
        tuple(_attacks(rng, lineages, start, end)),
        np.unique(seen),
        np.sort(ext),
        variant=mix.name,
        held_out=mix.held_out,
        benign=mix.benign,
    )


def _population(
    rng: np.random.Generator, sites: tuple[Site, ...], lineages: list[Lineage], scale: float
) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], np.ndarray]]:
    """Subscribers per site and, among them, each lineage's bots (disjoint across lineages)."""
    subscribers: dict[str, np.ndarray] = {}
    bots: dict[tuple[str, str], np.ndarray] = {}
    for site in sites:
        subs = site.subscribers(rng, int(2500 * scale))
        preferred = np.array(site.iot, dtype=np.uint32)
        free = np.setdiff1d(subs, preferred)
        order = np.concatenate([rng.permutation(preferred), rng.permutation(free)])
        used = 0
        for lin in lineages:
            if site.name not in lin.sites:
                continue
            n = max(2, int(rng.integers(*lin.family.bots) * scale))
            bots[(lin.name, site.name)] = np.sort(order[used : used + n]).astype(np.uint32)
            used += n
        subscribers[site.name] = np.union1d(subs, preferred).astype(np.uint32)
    return subscribers, bots
