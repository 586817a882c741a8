"""Counts over :class:`Devices` (numpy, no I/O): per vendor, model and firmware, per round,
the Pareto table of infections, and the CVEs per firmware.

A count is of devices (address and round); "devices seen" in a snapshot are those of one
round, so a device surveyed every week is not counted once a week.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotscope.makers._frame import Cves, Devices
from iotscope.vulns import CpeError, Releases, default_releases, device_cpe

COLUMNS = ("vendor", "model", "version", "vendor_key", "cpe")
OUTCOMES = ("weak", "vulnerable", "kev", "infected")


@dataclass(frozen=True, slots=True)
class Tally:
    """One group's counts: devices, and of them weak, vulnerable (kev: with a KEV CVE) and
    infected."""

    key: tuple[str, ...]
    devices: int
    weak: int
    vulnerable: int
    kev: int
    infected: int

    def rate(self, outcome: str) -> float:
        return round(getattr(self, outcome) / self.devices, 4) if self.devices else 0.0


@dataclass(frozen=True, slots=True)
class ParetoRow:
    """A rank of the Pareto table: the group's infections, its share of all, the running sum."""

    rank: int
    name: str
    infected: int
    share: float
    cum_share: float


def _column(dev: Devices, name: str) -> npt.NDArray[np.object_]:
    if name == "round":
        ids = np.array([r.survey_id for r in dev.rounds], dtype=object)
        return ids[dev.round] if len(ids) else np.zeros(0, dtype=object)
    values: npt.NDArray[np.object_] = getattr(dev, name)
    return values


def _text(x: object) -> str:
    return "" if x is None else str(x)


def _mask(dev: Devices, rounds: Sequence[int] | None) -> npt.NDArray[np.bool_]:
    if rounds is None:
        return np.ones(len(dev), dtype=bool)
    return np.isin(dev.round, np.asarray(rounds, dtype=np.int64))


def _codes(values: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.intp]]:
    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    return uniq, inverse.reshape(-1)


def tally(dev: Devices, by: Sequence[str], rounds: Sequence[int] | None = None) -> list[Tally]:
    """Counts per distinct value of the columns ``by`` (``round`` or names of
    :data:`COLUMNS`) over the devices of ``rounds`` (None: every round), sorted by key."""
    pick = np.flatnonzero(_mask(dev, rounds))
    if len(pick) == 0:
        return []
    coded = [_codes(_column(dev, b)[pick]) for b in by]
    shape = tuple(len(u) for u, _ in coded)
    flat = np.ravel_multi_index(tuple(inv for _, inv in coded), shape)
    groups, inverse = np.unique(flat, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(groups)
    counts = {o: np.bincount(inverse, weights=getattr(dev, o)[pick], minlength=n) for o in OUTCOMES}
    total = np.bincount(inverse, minlength=n)
    where = np.unravel_index(groups, shape)
    return [
        Tally(
            tuple(str(u[w[g]]) for (u, _), w in zip(coded, where, strict=True)),
            int(total[g]),
            *(int(counts[o][g]) for o in OUTCOMES),
        )
        for g in range(n)
    ]


def pareto(names: Sequence[str], infected: Sequence[int]) -> list[ParetoRow]:
    """Groups sorted by infections (most first, ties by name) with each one's share of all
    infections and the cumulative share; every share is 0 when there is no infection."""
    order = sorted(range(len(names)), key=lambda i: (-infected[i], names[i]))
    total = float(sum(infected))
    out, running = [], 0
    for rank, i in enumerate(order, start=1):
        running += infected[i]
        share = infected[i] / total if total else 0.0
        cum = running / total if total else 0.0
        out.append(ParetoRow(rank, names[i], int(infected[i]), round(share, 4), round(cum, 4)))
    return out


def vital_few(rows: Sequence[ParetoRow], level: float = 0.5) -> int:
    """How many of the top groups hold ``level`` of all infections (0: none recorded)."""
    return next((r.rank for r in rows if r.cum_share >= level), 0) if rows else 0


def _outdated(cpe: str, version: str, releases: Releases) -> bool | None:
    try:
        c = device_cpe(cpe)
    except CpeError:
        return None
    return releases.outdated(c.vendor.text, c.product.text, version)


def outdated(cpe: str | None, version: str | None, releases: Releases | None = None) -> bool | None:
    """ "Firmware not latest" for an identity (None: the vendor's release table cannot say)."""
    if not cpe or not version:
        return None
    return _outdated(cpe, version, releases or default_releases())


@dataclass(frozen=True, slots=True)
class CveCount:
    """One CVE on one firmware (vendor, model, version): devices affected, its evidence
    (``verified`` when a safe check confirmed it on any device), KEV, CVSS."""

    vendor: str
    model: str
    version: str
    cve: str
    devices: int
    evidence: str
    kev: bool
    cvss: float | None
    severity: str | None


def cve_counts(dev: Devices, rounds: Sequence[int] | None = None) -> list[CveCount]:
    """The CVEs per firmware over the devices of ``rounds``, most devices first."""
    keep = _mask(dev, rounds)
    c = dev.cves
    pick = np.flatnonzero(keep[c.device]) if len(c) else np.zeros(0, dtype=np.int64)
    devices: dict[tuple[str, str, str, str], int] = {}
    first: dict[tuple[str, str, str, str], int] = {}
    verified: set[tuple[str, str, str, str]] = set()
    for j in pick.tolist():
        i = int(c.device[j])
        key = (str(dev.vendor[i]), str(dev.model[i]), str(dev.version[i]), str(c.cve[j]))
        devices[key] = devices.get(key, 0) + 1
        first.setdefault(key, j)
        if c.verified[j]:
            verified.add(key)
    return sorted(
        (_cve_count(c, k, n, first[k], k in verified) for k, n in devices.items()),
        key=lambda x: (-x.devices, x.vendor, x.model, x.version, x.cve),
    )


def _cve_count(c: Cves, key: tuple[str, str, str, str], n: int, j: int, verified: bool) -> CveCount:
    cvss = float(c.cvss[j])
    return CveCount(
        *key,
        n,
        "verified" if verified else "inferred",
        bool(c.kev[j]),
        None if math.isnan(cvss) else cvss,
        c.severity[j],
    )
