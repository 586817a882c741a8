"""The month world's people and things: ISPs, the prefectures they serve, and their subscribers'
devices (product, model, firmware from the lab catalog; weak login; address over time).

Pure and seeded; every per-device quantity is a numpy array indexed by device.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotscope.lab._catalog import Catalog, Profile
from iotscope.lab._isps import ISP_NAMES
from iotscope.prefectures import PREFECTURES, REGIONS
from iotscope.vulns import Releases, default_releases

# The first ISP is national; the others are regional, serving these regions in turn.
_REGIONAL = (
    ("Kanto", "Tohoku", "Hokkaido"),
    ("Kinki", "Chugoku", "Shikoku"),
    ("Chubu",),
    ("Kyushu", "Okinawa"),
)
ISP_BITS = 18  # each ISP holds a /14 of the lab's 127.64.0.0/10
_BASE = int(ipaddress.IPv4Address("127.64.0.0"))
MAX_ISPS = len(ISP_NAMES)

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MonthIsp:
    """A participating ISP: its ASN (RFC 6996 private), prefix, prefectures and subscribers.
    ``key`` is its secret pseudonym key (hex): only the ISP itself derives bot names with it."""

    name: str
    asn: int
    prefix: str
    prefectures: tuple[str, ...]  # JIS codes it serves
    subscribers: int
    key: str


@dataclass(frozen=True)
class Products:
    """The catalog flattened for vectorised lookups (profiles in catalog order), with the
    releases table's current firmware per release line (``vulns/releases.toml``)."""

    profiles: tuple[Profile, ...]
    nver: IntArray  # versions per profile (newest last)
    vulnerable: npt.NDArray[np.bool_]  # [profile, version]: the version carries a CVE
    weakable: npt.NDArray[np.bool_]  # the profile ships a default credential
    update_to: IntArray  # [profile, version]: the current release of that version's line

    @classmethod
    def of(cls, catalog: Catalog, releases: Releases | None = None) -> Products:
        profiles = catalog.profiles
        width = max(len(p.versions) for p in profiles)
        vuln = np.zeros((len(profiles), width), dtype=bool)
        update = np.zeros((len(profiles), width), dtype=np.int64)
        for i, p in enumerate(profiles):
            vuln[i, : len(p.versions)] = [bool(v.cves) for v in p.versions]
            update[i, : len(p.versions)] = _current(p, releases or default_releases())
        nver = np.array([len(p.versions) for p in profiles], dtype=np.int64)
        weakable = np.array([bool(p.defaults) for p in profiles], dtype=bool)
        return cls(profiles, nver, vuln, weakable, update)


def _current(p: Profile, releases: Releases) -> list[int]:
    """Per version, the index of its line's current release in the releases table (the
    profile's newest version where the table does not say)."""
    names = [v.version for v in p.versions]
    parts = (p.cpe or "").split(":")
    vendor, product = (parts[3], parts[4]) if len(parts) > 4 else ("", "")
    out = []
    for v in names:
        cur = releases.current(vendor, product, v)
        out.append(names.index(cur) if cur in names else len(names) - 1)
    return out


@dataclass(frozen=True)
class Devices:
    """One device per subscriber; arrays indexed by device."""

    isp: IntArray
    pref: IntArray  # index into PREFECTURES
    profile: IntArray
    model: IntArray  # index into the profile's models
    version0: IntArray  # firmware index on day 0
    weak0: npt.NDArray[np.bool_]
    subscriber: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.isp)


def make_isps(rng: np.random.Generator, count: int) -> tuple[MonthIsp, ...]:
    """``count`` ISPs (at most 8): the first national, the rest regional."""
    count = max(1, min(count, MAX_ISPS))
    names = rng.permutation(len(ISP_NAMES))[:count]
    asns = rng.choice(np.arange(64512, 65535), size=count, replace=False)
    out = []
    for i in range(count):
        codes = _served(i, count)
        subs = int(rng.integers(300_000, 3_000_000)) * (4 if i == 0 else 1)
        prefix = f"{ipaddress.IPv4Address(_BASE + (i << ISP_BITS))}/{32 - ISP_BITS}"
        key = rng.bytes(32).hex()
        out.append(MonthIsp(ISP_NAMES[names[i]], int(asns[i]), prefix, codes, subs, key))
    return tuple(out)


def _served(i: int, count: int) -> tuple[str, ...]:
    if i == 0 or count == 1:
        return tuple(p.code for p in PREFECTURES)
    regions = set(_REGIONAL[(i - 1) % len(_REGIONAL)])
    if count == 2:  # one regional ISP: give it every region
        regions = set(REGIONS)
    return tuple(p.code for p in PREFECTURES if p.region in regions)


def make_devices(
    rng: np.random.Generator, isps: tuple[MonthIsp, ...], products: Products, n: int
) -> Devices:
    """``n`` devices split over the ISPs by subscribers, placed by prefecture population."""
    subs = np.array([x.subscribers for x in isps], dtype=float)
    isp = rng.choice(len(isps), size=n, p=subs / subs.sum())
    pref = np.empty(n, dtype=np.int64)
    pop = np.array([p.population_m for p in PREFECTURES])
    index = {p.code: i for i, p in enumerate(PREFECTURES)}
    for k, x in enumerate(isps):
        mine = np.nonzero(isp == k)[0]
        served = np.array([index[c] for c in x.prefectures])
        w = pop[served] / pop[served].sum()
        pref[mine] = served[rng.choice(len(served), size=len(mine), p=w)]
    weights = np.array([p.weight for p in products.profiles])
    profile = rng.choice(len(weights), size=n, p=weights / weights.sum())
    nmodels = np.array([len(p.all_models()) for p in products.profiles])
    model = (rng.random(n) * nmodels[profile]).astype(np.int64)
    version0 = _versions(rng, products, profile)
    share = np.array([p.weak_share for p in products.profiles])
    weak0 = (rng.random(n) < share[profile]) & products.weakable[profile]
    subscriber = tuple(f"S{k}-{i:07d}" for i, k in enumerate(isp.tolist()))
    return Devices(isp.astype(np.int64), pref, profile.astype(np.int64), model, version0, weak0,
                   subscriber)  # fmt: skip


def _versions(rng: np.random.Generator, products: Products, profile: IntArray) -> IntArray:
    """Firmware on day 0: per profile a hidden mix over its versions (Dirichlet(1))."""
    out = np.zeros(len(profile), dtype=np.int64)
    for j, nv in enumerate(products.nver.tolist()):
        mine = np.nonzero(profile == j)[0]
        if len(mine):
            out[mine] = rng.choice(nv, size=len(mine), p=rng.dirichlet(np.ones(nv)))
    return out


def address_days(
    rng: np.random.Generator, isp: IntArray, days: int, hazard: float, nisps: int
) -> npt.NDArray[np.uint32]:
    """Each device's address (as an integer) on each day ``[day, device]``: a fresh address
    from its ISP's /14 on day 0 and after each address change (daily ``hazard``); no address is
    handed out twice within the month."""
    n = len(isp)
    change = rng.random((days, n)) < hazard
    change[0] = True
    out = np.empty((days, n), dtype=np.uint32)
    for k in range(nisps):
        cols = np.nonzero(isp == k)[0]
        events = change[:, cols]
        need = int(events.sum())
        pool = rng.choice(1 << ISP_BITS, size=need, replace=False).astype(np.uint32)
        pool += np.uint32(_BASE + (k << ISP_BITS))
        seq = np.cumsum(events.ravel(order="C")).reshape(events.shape) - 1
        # the address in force: the last change at or before each day
        idx = np.maximum.accumulate(np.where(events, seq, -1), axis=0)
        out[:, cols] = pool[idx]
    return out
