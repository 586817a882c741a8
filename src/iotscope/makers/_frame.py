"""The devices the survey saw, one row per address and survey round, as numpy columns: the
one place the store is read for the manufacturers' views, and the one place tenancy applies.

What a row says (each column is computed in SQL over the whole round, then joined here):

- identity: vendor, product, model, version, cpe of the address's findings in the round (the
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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.makers._names import model_key, vendor_key
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES
from iotscope.tenancy import Principal

_COLUMNS = (
    "round",
    "ip",
    "vendor",
    "vendor_key",
    "model",
    "version",
    "product",
    "cpe",
    "weak",
    "vulnerable",
    "kev",
    "infected",
)
Bools = npt.NDArray[np.bool_]
Objects = npt.NDArray[np.object_]
IDENTITY = ("vendor", "product", "model", "version", "cpe")


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
class Devices:
    """Columns of equal length, one entry per device (address and round)."""

    rounds: tuple[Round, ...]
    round: npt.NDArray[np.int64]  # index into rounds
    ip: Objects
    vendor: Objects  # display name: the commonest spelling of the vendor's key
    vendor_key: Objects
    model: Objects
    version: Objects
    product: Objects
    cpe: Objects
    weak: Bools
    vulnerable: Bools
    kev: Bools
    infected: Bools
    cves: tuple[CveRow, ...]
    all_infected: tuple[int, ...]  # per round, infected devices of every vendor (see below)

    def __len__(self) -> int:
        return len(self.ip)

    def latest(self) -> int | None:
        """The index of the newest round (None when there is none)."""
        return len(self.rounds) - 1 if self.rounds else None


def _rows(store: Store, stmt: Any, what: str) -> list[Any]:
    try:
        with store.engine.connect() as conn:
            return list(conn.execute(stmt))
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=what, reason=str(exc)[:300]) from exc


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _device_query() -> Any:
    f = s.findings
    weak = f.c.login["outcome"].as_string().in_(WEAK_OUTCOMES)
    idents = [func.max(f.c.identity[k].as_string()).label(k) for k in IDENTITY]
    return select(
        f.c.survey_id,
        f.c.ip,
        *idents,
        func.max(case((weak, 1), else_=0)).label("weak"),
        func.min(f.c.time).label("seen"),
    ).group_by(f.c.survey_id, f.c.ip)


def _cve_query() -> Any:
    v, k, c = (
        s.metadata.tables["vuln_finding_cves"],
        s.metadata.tables["vuln_kev"],
        s.metadata.tables["vuln_cves"],
    )
    return (
        select(
            v.c.survey_id,
            v.c.ip,
            v.c.cve,
            v.c.evidence,
            k.c.cve.is_not(None).label("kev"),
            c.c.cvss,
            c.c.severity,
        )
        .select_from(v.outerjoin(k, k.c.cve == v.c.cve).outerjoin(c, c.c.cve == v.c.cve))
        .distinct()
    )


def _finding_cve_query() -> Any:
    """The CVEs a finding carries itself (the survey's exact-version table)."""
    f = s.findings
    return select(f.c.survey_id, f.c.ip, f.c.cves).where(func.json_array_length(f.c.cves) > 0)


def _rounds(
    survey_ids: Sequence[str], seen: Sequence[datetime]
) -> tuple[tuple[Round, ...], npt.NDArray[np.int64]]:
    first: dict[str, datetime] = {}
    for sid, t in zip(survey_ids, seen, strict=True):
        t = _utc(t)
        if sid not in first or t < first[sid]:
            first[sid] = t
    rounds = tuple(
        sorted((Round(k, v) for k, v in first.items()), key=lambda r: (r.start, r.survey_id))
    )
    index = {r.survey_id: i for i, r in enumerate(rounds)}
    return rounds, np.fromiter(
        (index[x] for x in survey_ids), dtype=np.int64, count=len(survey_ids)
    )


def _display_names(keys: Iterable[Any], raw: Objects, unknown: str | None = "(unknown)") -> Objects:
    """Per key its commonest spelling (ties: the alphabetically first)."""
    counts: dict[object, Counter[str | None]] = {}
    for k, r in zip(keys, raw, strict=True):
        counts.setdefault(k, Counter())[r or unknown] += 1
    best = {k: min(c.items(), key=lambda kv: (-kv[1], kv[0] or ""))[0] for k, c in counts.items()}
    return np.array([best[k] for k in keys], dtype=object)


def _models(vkeys: Objects, raw: Objects) -> Objects:
    """Model names: one spelling per vendor and model key ("A-100" and "A 100" are one)."""
    keys = [(v, model_key(m)) for v, m in zip(vkeys, raw, strict=True)]
    return _display_names(keys, raw, None)


def _allowed(store: Store, who: Principal, vkeys: Objects, ips: Objects) -> Bools:
    """Which rows ``who`` may see (module docstring, "Tenancy")."""
    if who.is_centre:
        return np.ones(len(ips), dtype=bool)
    if who.role == "manufacturer":
        return np.asarray(vkeys == vendor_key(who.tenant), dtype=bool)
    if who.role == "isp":
        return _isp_mask(store, who.tenant or "", ips)
    return np.zeros(len(ips), dtype=bool)


def _isp_mask(store: Store, isp: str, ips: Objects) -> Bools:
    from iotscope.attribution import table_of

    if len(ips) == 0:
        return np.zeros(0, dtype=bool)
    distinct, inverse = np.unique(ips.astype(str), return_inverse=True)
    owner = table_of(store).isp_of(list(distinct))
    mine = np.fromiter((o == isp for o in owner), dtype=bool, count=len(owner))
    return np.asarray(mine[inverse], dtype=bool)


def _windows(rounds: Sequence[Round]) -> npt.NDArray[np.float64]:
    """Round starts as epoch seconds; round r's window is [starts[r], starts[r+1])."""
    return np.array([r.start.timestamp() for r in rounds], dtype=np.float64)


def _seen_rounds(starts: npt.NDArray[np.float64], first: float, last: float) -> range:
    """The rounds whose window overlaps [first, last] (module docstring)."""
    lo = max(int(np.searchsorted(starts, first, side="right")) - 1, 0)
    hi = max(int(np.searchsorted(starts, last, side="right")) - 1, 0)
    return range(lo, hi + 1)


def _bot_spans(store: Store) -> Iterable[tuple[str, datetime, datetime]]:
    """(address, first seen, last seen) of every telescope sighting of a bot."""
    t = s.sightings
    stmt = select(t.c.src, t.c.first_seen, t.c.last_seen).where(
        t.c.classification.in_(INFECTED_CLASSES)
    )
    return ((r[0], r[1], r[2]) for r in _rows(store, stmt, t.name))


def _infected(
    store: Store, rounds: Sequence[Round], index: dict[tuple[int, str], int], n: int
) -> Bools:
    out = np.zeros(n, dtype=bool)
    if not rounds:
        return out
    starts = _windows(rounds)
    for ip, first, last in _bot_spans(store):
        for r in _seen_rounds(starts, _utc(first).timestamp(), _utc(last).timestamp()):
            i = index.get((r, ip))
            if i is not None:
                out[i] = True
    return out


def _cves(
    store: Store, sid_index: dict[str, int], index: dict[tuple[int, str], int]
) -> list[CveRow]:
    out: list[CveRow] = []
    for sid, ip, cve, evidence, kev, cvss, severity in _rows(
        store, _cve_query(), "vuln_finding_cves"
    ):
        i = index.get((sid_index.get(sid, -1), ip))
        if i is not None:
            out.append(CveRow(i, cve, evidence, bool(kev), cvss, severity))
    have = {(c.device, c.cve) for c in out}
    kev_ids = {r[0] for r in _rows(store, select(s.metadata.tables["vuln_kev"].c.cve), "vuln_kev")}
    for sid, ip, cves in _rows(store, _finding_cve_query(), "findings"):
        i = index.get((sid_index.get(sid, -1), ip))
        if i is None:
            continue
        for cve in cves:
            if (i, cve) not in have:
                have.add((i, cve))
                out.append(CveRow(i, cve, "inferred", cve in kev_ids, None, None))
    return out


def subset(dev: Devices, keep: Bools) -> Devices:
    """The rows of ``dev`` where ``keep`` (CVE rows renumbered)."""
    pick = np.flatnonzero(keep)
    new = np.full(len(dev), -1, dtype=np.int64)
    new[pick] = np.arange(len(pick))
    cves = tuple(replace(c, device=int(new[c.device])) for c in dev.cves if keep[c.device])
    cols = {f: getattr(dev, f)[pick] for f in _COLUMNS}
    return replace(dev, cves=cves, **cols)


def _load(store: Store) -> Devices:
    """Every device in the store (no tenancy: private to this module)."""
    rows = _rows(store, _device_query(), "findings")
    cols = list(zip(*rows, strict=True)) if rows else [()] * 9
    sids, ips = list(cols[0]), np.array(cols[1], dtype=object)
    rounds, rnd = _rounds(sids, cols[8])
    raw_vendor = np.array(cols[2], dtype=object)
    vkeys = np.array([vendor_key(v) for v in raw_vendor], dtype=object)
    ident = {k: np.array(cols[2 + j], dtype=object) for j, k in enumerate(IDENTITY)}
    index = {(int(r), str(ip)): i for i, (r, ip) in enumerate(zip(rnd, ips, strict=True))}
    cves = _cves(store, {r.survey_id: i for i, r in enumerate(rounds)}, index)
    vulnerable, kev = np.zeros(len(ips), dtype=bool), np.zeros(len(ips), dtype=bool)
    for c in cves:
        vulnerable[c.device] = True
        kev[c.device] |= c.kev
    infected = _infected(store, rounds, index, len(ips))
    return Devices(
        rounds=rounds,
        round=rnd,
        ip=ips,
        vendor=_display_names(vkeys, raw_vendor),
        vendor_key=vkeys,
        model=_models(vkeys, ident["model"]),
        version=ident["version"],
        product=ident["product"],
        cpe=ident["cpe"],
        weak=np.array(cols[7], dtype=bool),
        vulnerable=vulnerable,
        kev=kev,
        infected=infected,
        cves=tuple(cves),
        all_infected=tuple(int(infected[rnd == r].sum()) for r in range(len(rounds))),
    )


def load_devices(store: Store, who: Principal) -> Devices:
    """Every device ``who`` may see, with its outcomes (module docstring, "Tenancy")."""
    dev = _load(store)
    return subset(dev, _allowed(store, who, dev.vendor_key, dev.ip))
