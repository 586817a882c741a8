"""The lab ISPs' lease logs: which subscriber held which lab address when, over simulated days.

Every lab device is one subscriber's line. On each simulated day a subscriber's address changes
with probability ``churn`` (a PPPoE reconnect or a DHCP lease lost), to a free address of the
same ISP; the address it leaves may go to a newcomer later, so "same address" is not "same
subscriber" — exactly what a follow-up must get right. Seeded and pure: same arguments, same
log. The rows are written per ISP in the lease-log CSV (``address,start,end,subscriber_id``)
that ``iotscope registry leases`` imports.

``lab/_dynamics.py`` (device changes over days) reads the returned rows to move devices: a
subscriber's newest lease is where its device answers.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from iotscope.records import Device, Isp
from iotscope.tenancy import site_name

LEASE_START = datetime(2026, 11, 1, tzinfo=UTC)
"""Day 0 of the simulated lease log unless the caller gives another start."""


@dataclass(frozen=True, slots=True)
class LeaseRow:
    """One lease: ``end`` None means still held at the end of the simulation."""

    isp: str
    address: str
    start: datetime
    end: datetime | None
    subscriber_id: str


def subscriber_id(isp: str, device_ip: str, seed: int) -> str:
    """A stable opaque subscriber id for the line behind a lab device (no address inside)."""
    digest = hashlib.sha256(f"{seed}|{isp}|{device_ip}".encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z]+", "", isp.lower())[:6] or "isp"
    return f"{slug}-{digest}"


def lease_log(
    manifest_isps: Sequence[Isp],
    devices: Sequence[Device],
    seed: int,
    days: int,
    churn: float,
    start: datetime = LEASE_START,
    anchor: Literal["start", "end"] = "start",
) -> list[LeaseRow]:
    """Leases of every device's subscriber over ``days`` days from ``start`` (sorted by ISP,
    start, address). A device with no ISP (outside every prefix) has no lease.

    ``anchor="start"``: each subscriber holds its device's manifest address on day 0 and may
    move later (for a simulation that moves devices forward). ``anchor="end"``: it holds that
    address at the end (a lab running now, with the address history behind it), made by
    mirroring the same log in time."""
    if not 0.0 <= churn <= 1.0:
        raise ValueError("churn is a probability (0-1)")
    if anchor == "end":
        end = start + timedelta(days=days)
        forward = lease_log(manifest_isps, devices, seed, days, churn, start, "start")
        return sorted(
            (_mirror(r, start, end) for r in forward),
            key=lambda r: (r.isp, r.start, _ip_int(r.address)),
        )
    rng = random.Random(f"leases|{seed}")
    rows: list[LeaseRow] = []
    for isp in sorted(manifest_isps, key=lambda i: i.name):
        mine = sorted((d for d in devices if _owner(d, manifest_isps) == isp.name), key=_ip_key)
        rows += _isp_leases(isp, mine, seed, days, churn, start, rng)
    return sorted(rows, key=lambda r: (r.isp, r.start, _ip_int(r.address)))


def _isp_leases(
    isp: Isp,
    devices: Sequence[Device],
    seed: int,
    days: int,
    churn: float,
    start: datetime,
    rng: random.Random,
) -> list[LeaseRow]:
    pool = _Pool(isp.prefixes, {str(d.ip) for d in devices}, rng)
    rows: list[LeaseRow] = []
    current: dict[str, tuple[str, datetime]] = {}
    for d in devices:
        # Leases began some time before the log starts (up to 30 days earlier).
        began = start - timedelta(hours=rng.randrange(1, 24 * 30))
        current[subscriber_id(isp.name, str(d.ip), seed)] = (str(d.ip), began)
    for day in range(days):
        for sub in sorted(current):
            if rng.random() >= churn:
                continue
            new = pool.take()
            if new is None:
                continue
            old, began = current[sub]
            moved = start + timedelta(days=day, seconds=rng.randrange(86400))
            rows.append(LeaseRow(isp.name, old, began, moved, sub))
            pool.give_back(old)
            current[sub] = (new, moved)
    rows += [LeaseRow(isp.name, ip, began, None, sub) for sub, (ip, began) in current.items()]
    return rows


def _mirror(r: LeaseRow, start: datetime, end: datetime) -> LeaseRow:
    """``t -> start + (end - t)``: the open lease becomes the first, the first becomes the open
    one (its pre-log part keeps its length, before ``start``)."""

    def m(t: datetime) -> datetime:
        return start + (end - t)

    if r.end is None and r.start < start:  # held all along: unchanged
        return r
    if r.end is None:  # held at the end -> held from before the start
        return LeaseRow(r.isp, r.address, start - (end - r.start), m(r.start), r.subscriber_id)
    if r.start < start:  # began before the log -> still held at the end
        return LeaseRow(r.isp, r.address, m(r.end), None, r.subscriber_id)
    return LeaseRow(r.isp, r.address, m(r.end), m(r.start), r.subscriber_id)


class _Pool:
    """Free addresses of one ISP (never a device's own starting address while it is held)."""

    def __init__(self, prefixes: Sequence[str], used: set[str], rng: random.Random) -> None:
        self.nets = [ipaddress.IPv4Network(p) for p in prefixes if ":" not in p]
        self.used = set(used)
        self.rng = rng

    def take(self) -> str | None:
        for _ in range(64):
            net = self.rng.choice(self.nets)
            if net.num_addresses < 4:
                continue
            ip = str(net[self.rng.randrange(1, net.num_addresses - 1)])  # no network/broadcast
            if ip not in self.used:
                self.used.add(ip)
                return ip
        return None

    def give_back(self, ip: str) -> None:
        self.used.discard(ip)


def _owner(device: Device, isps: Sequence[Isp]) -> str | None:
    if device.isp is not None:
        return device.isp
    for isp in isps:
        if any(device.ip in ipaddress.ip_network(p) for p in isp.prefixes):
            return isp.name
    return None


def _ip_int(ip: str) -> int:
    return int(ipaddress.ip_address(ip))


def _ip_key(d: Device) -> int:
    return int(d.ip)


def write_lease_logs(rows: Sequence[LeaseRow], out_dir: Path) -> dict[str, Path]:
    """One lease-log CSV per ISP under ``out_dir`` (``<slug>.leases.csv``); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    by_isp: dict[str, list[LeaseRow]] = {}
    for r in rows:
        by_isp.setdefault(r.isp, []).append(r)
    for isp, mine in sorted(by_isp.items()):
        path = out_dir / f"{site_name(isp)}.leases.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["address", "start", "end", "subscriber_id"])
            for r in mine:
                w.writerow(
                    [r.address, _iso(r.start), _iso(r.end) if r.end else "", r.subscriber_id]
                )
        paths[isp] = path
    return paths


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
