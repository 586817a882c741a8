"""The devices the survey saw, one row per address and survey round, as numpy columns: the
one place the store is read for the manufacturers' views, and the one place tenancy applies.

What a row says (each column is computed in SQL over the whole round, then joined here):

- identity: vendor, model, version, cpe of the address's findings in the round (the
  greatest non-null value over its services: services of one device agree); vendor and model
  are shown in their commonest spelling per normalised key (``_names``), so "A-100" and
  "A 100" of one vendor count as one model;
- ``weak``: some service accepted a default login or needed none (login outcome ``accepted``
  or ``no_auth``, the survey's definition of a weak device);
- ``vulnerable``: some service has a CVE (``vuln_finding_cves``, inferred or verified, or the
  finding's own ``cves``); ``kev`` when one of them is in CISA's KEV catalog;
- ``infected``: the address was seen as a bot *during the round*: a telescope sighting classed
  ``mirai`` or ``iot`` overlapping the round's window. Round r's window runs from its first
  finding to the first finding of round r+1 (the first round's window is open to the past,
  the last one's to the future), so an address is matched to the device that held it when it
  was seen. C2 contacts (``c2_contacts``) are *not* joined: an ISP reports a bot there under a
  pseudonym keyed with its own secret, never by address, so only that ISP (with its key and
  lease log) could link a contact to a surveyed address; the centre cannot, by design.

Tenancy (:func:`load_devices` takes the caller): the centre sees every row; a manufacturer only
rows whose normalised vendor is its own (``vendor_key(tenant)``); an ISP only rows whose
address its registry entry or routing data attribute to it (``iotscope.attribution``);
anyone else nothing. The one figure not restricted is ``all_infected``: per round, how many
devices of every vendor were infected (a single count, no vendor, model or address), so that a
manufacturer can read its own share of all infections.

The whole table is built once per state of its sources and kept in memory (``_CACHE``, keyed
by the store's URL and :func:`_read.stamp`: row counts and newest times of the findings,
sightings, device CVEs and KEV, checked on every request in a few milliseconds); each request
only applies its caller's restriction, so a page costs the restriction and the counts, not the
reads. An upsert that rewrites a finding in place without changing its time is not seen until
the next change to those tables (surveys write new rounds, so this does not arise in use).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from iotscope.makers import _read
from iotscope.makers._names import model_key, vendor_key
from iotscope.store import Store
from iotscope.tenancy import Principal

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Round:
    """One survey round: its id and the time of its first finding."""

    survey_id: str
    start: datetime


@dataclass(frozen=True, slots=True)
class CveRow:
    """One CVE on one device (address and round)."""

    device: int  # row index in :class:`Devices`
    cve: str
    evidence: str  # inferred | verified
    kev: bool
    cvss: float | None
    severity: str | None


@dataclass(frozen=True, slots=True)
class Cves:
    """Device CVEs as columns (one entry per device and CVE)."""

    device: Ints  # row index in :class:`Devices`
    cve: Objects
    verified: Bools  # else inferred
    kev: Bools
    cvss: npt.NDArray[np.float64]  # NaN: unknown
    severity: Objects

    def __len__(self) -> int:
        return len(self.device)

    def rows(self) -> Iterable[CveRow]:
        for i in range(len(self.device)):
            cvss = float(self.cvss[i])
            yield CveRow(
                int(self.device[i]),
                str(self.cve[i]),
                "verified" if self.verified[i] else "inferred",
                bool(self.kev[i]),
                None if cvss != cvss else cvss,
                self.severity[i],
            )


_DEVICE_COLUMNS = (
    "round",
    "ip",
    "vendor",
    "vendor_key",
    "model",
    "version",
    "cpe",
    "weak",
    "vulnerable",
    "kev",
    "infected",
)


@dataclass(frozen=True, slots=True)
class Devices:
    """Columns of equal length, one entry per device (address and round). Identity columns
    hold "" where the survey could not say."""

    rounds: tuple[Round, ...]
    round: Ints  # index into rounds
    ip: Objects
    vendor: Objects  # display name: the commonest spelling of the vendor's key
    vendor_key: Objects
    model: Objects  # display name: the commonest spelling of the (vendor, model) key
    version: Objects
    cpe: Objects
    weak: Bools
    vulnerable: Bools
    kev: Bools
    infected: Bools
    cves: Cves
    all_infected: tuple[int, ...]  # per round, infected devices of every vendor (docstring)

    def __len__(self) -> int:
        return len(self.ip)

    def latest(self) -> int | None:
        """The index of the newest round (None when there is none)."""
        return len(self.rounds) - 1 if self.rounds else None


def subset(dev: Devices, keep: Bools) -> Devices:
    """The rows of ``dev`` where ``keep`` (CVE rows kept with their device, renumbered)."""
    pick = np.flatnonzero(keep)
    new = np.full(len(dev), -1, dtype=np.int64)
    new[pick] = np.arange(len(pick))
    c = dev.cves
    ck = keep[c.device] if len(c) else np.zeros(0, dtype=bool)
    cves = Cves(new[c.device[ck]], c.cve[ck], c.verified[ck], c.kev[ck], c.cvss[ck], c.severity[ck])
    cols = {f: getattr(dev, f)[pick] for f in _DEVICE_COLUMNS}
    return replace(dev, cves=cves, **cols)


# -- building the table ------------------------------------------------------------------------


def _rounds(store: Store, sids: Sequence[str]) -> tuple[tuple[Round, ...], Ints]:
    """The survey rounds in time order, and each row's round."""
    starts = _read.round_starts(store)
    rounds = tuple(sorted((Round(k, t) for k, t in starts), key=lambda r: (r.start, r.survey_id)))
    index = {r.survey_id: i for i, r in enumerate(rounds)}
    return rounds, np.array([index[x] for x in sids], dtype=np.int64)


def _text(values: Sequence[Any]) -> Objects:
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


@lru_cache(maxsize=65536)
def _vkey(name: str) -> str:
    return vendor_key(name)


@lru_cache(maxsize=65536)
def _mkey(name: str) -> str:
    return model_key(name)


def _display(keys: Iterable[Any], raw: Iterable[str], unknown: str) -> Objects:
    """Per key its commonest spelling (ties: the alphabetically first)."""
    keys = list(keys)
    best: dict[Any, tuple[int, str]] = {}
    for (k, r), n in Counter(zip(keys, raw, strict=True)).items():
        r = r or unknown
        if k not in best or (-n, r) < (-best[k][0], best[k][1]):
            best[k] = (n, r)
    return np.array([best[k][1] for k in keys], dtype=object)


class _CveColumns:
    """Accumulates device CVEs, one entry per device and CVE (``verified`` wins)."""

    def __init__(self) -> None:
        self.at: dict[tuple[int, str], int] = {}
        self.cols: tuple[list[Any], ...] = ([], [], [], [], [], [])

    def add(self, i: int, cve: str, verified: bool, kev: bool, cvss: Any, severity: Any) -> None:
        j = self.at.get((i, cve))
        if j is not None:
            self.cols[2][j] |= verified
            return
        self.at[(i, cve)] = len(self.cols[0])
        for col, v in zip(self.cols, (i, cve, verified, kev, cvss, severity), strict=True):
            col.append(v)

    def done(self) -> Cves:
        d, c, v, k, score, sev = self.cols
        return Cves(
            np.array(d, dtype=np.int64),
            np.array(c, dtype=object),
            np.array(v, dtype=bool),
            np.array(k, dtype=bool),
            np.array([np.nan if x is None else float(x) for x in score]),
            np.array(sev, dtype=object),
        )


def _cves(store: Store, index: dict[tuple[int, str], int], sid_index: dict[str, int]) -> Cves:
    """Device CVEs from ``vuln_finding_cves`` and the findings' own ``cves``."""
    acc = _CveColumns()
    for sid, ip, cve, evidence, kev, cvss, severity in _read.cve_rows(store):
        i = index.get((sid_index.get(sid, -1), ip))
        if i is not None:
            acc.add(i, cve, evidence == "verified", bool(kev), cvss, severity)
    kevs = _read.kev_ids(store)
    for sid, ip, cve in _read.finding_cves(store):
        i = index.get((sid_index.get(sid, -1), ip))
        if i is not None and (i, cve) not in acc.at:
            acc.add(i, cve, False, cve in kevs, None, None)
    return acc.done()


def _infected(
    store: Store, rounds: Sequence[Round], index: dict[tuple[int, str], int], n: int
) -> Bools:
    """Devices whose address a bot sighting overlaps within the round's window."""
    out = np.zeros(n, dtype=bool)
    if not rounds:
        return out
    starts = np.array([r.start.timestamp() for r in rounds], dtype=np.float64)
    for ip, first, last in _read.bot_spans(store):
        lo = int(np.searchsorted(starts, _read.utc(first).timestamp(), side="right")) - 1
        hi = int(np.searchsorted(starts, _read.utc(last).timestamp(), side="right")) - 1
        for r in range(max(lo, 0), max(hi, 0) + 1):
            i = index.get((r, ip))
            if i is not None:
                out[i] = True
    return out


def _build(store: Store) -> Devices:
    """Every device in the store (no tenancy: private to this module)."""
    rows = _read.device_rows(store)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    rounds, rnd = _rounds(store, cols[0])
    ips = np.array(cols[1], dtype=object)
    vendor, model = _text(cols[2]), _text(cols[3])
    vkeys = np.array([_vkey(v) for v in vendor], dtype=object)
    mkeys = [(v, _mkey(m)) for v, m in zip(vkeys, model, strict=True)]
    index = dict(zip(zip(rnd.tolist(), cols[1], strict=True), range(len(ips)), strict=True))
    cves = _cves(store, index, {r.survey_id: i for i, r in enumerate(rounds)})
    vulnerable, kev = np.zeros(len(ips), dtype=bool), np.zeros(len(ips), dtype=bool)
    vulnerable[cves.device] = True
    kev[cves.device[cves.kev]] = True
    infected = _infected(store, rounds, index, len(ips))
    return Devices(
        rounds=rounds,
        round=rnd,
        ip=ips,
        vendor=_display(vkeys, vendor, "(unknown)"),
        vendor_key=vkeys,
        model=_display(mkeys, model, ""),
        version=_text(cols[4]),
        cpe=_text(cols[5]),
        weak=np.array(cols[6], dtype=bool),
        vulnerable=vulnerable,
        kev=kev,
        infected=infected,
        cves=cves,
        all_infected=tuple(int(np.count_nonzero(infected[rnd == r])) for r in range(len(rounds))),
    )


_CACHE: dict[str, tuple[tuple[Any, ...], Devices]] = {}
_LOCK = threading.Lock()
_BUILD = threading.Lock()


def _table(store: Store) -> Devices:
    """The whole table, from the cache while the store's sources are unchanged (one build at
    a time: a request arriving during the warm-up waits for it instead of building again)."""
    url = str(store.engine.url)
    stamp = _read.stamp(store)
    with _LOCK:
        hit = _CACHE.get(url)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with _BUILD:
        with _LOCK:
            hit = _CACHE.get(url)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        dev = _build(store)
        with _LOCK:
            if len(_CACHE) >= 4:
                _CACHE.clear()
            _CACHE[url] = (stamp, dev)
    return dev


# -- tenancy -----------------------------------------------------------------------------------


def _isp_mask(store: Store, isp: str, ips: Objects) -> Bools:
    from iotscope.attribution import table_of

    if len(ips) == 0:
        return np.zeros(0, dtype=bool)
    distinct, inverse = np.unique(ips.astype(str), return_inverse=True)
    owner = table_of(store).isp_of(list(distinct))
    mine = np.fromiter((o == isp for o in owner), dtype=bool, count=len(owner))
    return np.asarray(mine[inverse], dtype=bool)


def _allowed(store: Store, who: Principal, dev: Devices) -> Bools:
    """Which rows ``who`` may see (module docstring, "Tenancy")."""
    if who.is_centre:
        return np.ones(len(dev), dtype=bool)
    if who.role == "manufacturer":
        return np.asarray(dev.vendor_key == vendor_key(who.tenant), dtype=bool)
    if who.role == "isp":
        return _isp_mask(store, who.tenant or "", dev.ip)
    return np.zeros(len(dev), dtype=bool)


def warm(store: Store) -> None:
    """Build the table in the background (a thread), so the first page after the service
    starts does not pay for it; a failure there only leaves the cache cold."""

    def build() -> None:
        try:
            _table(store)
        except Exception:
            log.debug("makers: warming the device table failed", exc_info=True)

    threading.Thread(target=build, name="makers-warm", daemon=True).start()


def load_devices(store: Store, who: Principal) -> Devices:
    """Every device ``who`` may see, with its outcomes (module docstring, "Tenancy")."""
    dev = _table(store)
    return subset(dev, _allowed(store, who, dev))
