"""Benign look-alikes of C2 traffic (a variant's :class:`Poller` and :class:`NatGateway`
families), built per site with numpy from their own random stream.

Addresses: the ``i``-th benign family of a variant owns the 100 Internet addresses from
:func:`family_base` ``(i)``; a rotating endpoint walks through them (address ``k`` in its
``k``-th rotation period, modulo 100), a NAT's clouds are its first ``clouds``. The clients are
clean subscribers (no bot of the site); the same endpoints serve every site.
"""

from __future__ import annotations

import numpy as np

from iotscope.lab.traffic._blocks import (
    NET0,
    S0,
    SF,
    TCP,
    UDP,
    Block,
    make_block,
    periodic_times,
)
from iotscope.lab.traffic._families import SLOT, NatGateway, Poller
from iotscope.lab.traffic._scenario import DAY_MS, Scenario

HOUR_MS = 3_600_000
#: Offset in the Internet range of the first benign family's addresses.
BENIGN_BASE = 9000


def family_base(i: int) -> int:
    """The first address (uint32 value) of a variant's ``i``-th benign family."""
    return NET0 + BENIGN_BASE + SLOT * i


def clean_devices(sc: Scenario, site: str) -> np.ndarray:
    """The site's subscribers that are no bot of any lineage."""
    bots = [b for (_, s), b in sc.bots.items() if s == site]
    return np.setdiff1d(sc.subscribers[site], np.concatenate([*bots, np.zeros(0, np.uint32)]))


def benign_blocks(sc: Scenario, site: str) -> list[Block]:
    """Every benign look-alike connection of ``site`` (none in the default variant)."""
    if not sc.benign:
        return []
    index = [s.name for s in sc.sites].index(site)
    rng = np.random.default_rng([sc.seed, index, 29])
    clean = clean_devices(sc, site)
    out: list[Block] = []
    for i, fam in enumerate(sc.benign):
        if isinstance(fam, NatGateway):
            out += nat_blocks(rng, sc, fam, family_base(i), clean)
        else:
            out += poller_blocks(rng, sc, fam, family_base(i), clean)
    return out


def _polls(
    rng: np.random.Generator,
    src: int,
    times: np.ndarray,
    dst: np.ndarray | int,
    port: int,
    proto: int,
    size: tuple[tuple[int, int], tuple[int, int]],
    state: np.ndarray | int = SF,
) -> Block:
    """Small request/response exchanges from ``src`` at ``times``; UDP keeps one source port."""
    n = len(times)
    ok = np.asarray(state) == SF
    udp = proto == UDP
    return make_block(
        times,
        np.uint32(src),
        dst,
        port,
        proto,
        rng,
        dur=rng.integers(1, 50, n) if udp else rng.integers(50, 400, n),
        sport=np.full(n, rng.integers(1024, 65535)) if udp else None,
        opk=1 if udp else np.where(ok, rng.integers(4, 8, n), rng.integers(1, 4, n)),
        oby=np.where(ok, rng.integers(*size[0], n), 0),
        rpk=np.where(ok, 1 if udp else rng.integers(3, 7, n), 0),
        rby=np.where(ok, rng.integers(*size[1], n), 0),
        state=state,
    )


# --- pollers -----------------------------------------------------------------------------------


def _in_window(times: np.ndarray, fam: Poller, on_days: np.ndarray, start_ms: int) -> np.ndarray:
    """Whether each time lies in the daily UTC window on a day the device runs."""
    hour = (times % DAY_MS) / HOUR_MS
    lo, hi = fam.hours
    inside = (hour >= lo) & (hour < hi) if lo <= hi else (hour >= lo) | (hour < hi)
    return inside & on_days[(times - start_ms) // DAY_MS]


def _power_cycles(
    rng: np.random.Generator, sc: Scenario, fam: Poller, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the polls while the device is off; after each restart a burst of 3-8 reconnects a
    few seconds apart, the first ones failing (S0). Returns (times, states)."""
    k = int(rng.poisson(fam.outages_per_day * (sc.end_ms - sc.start_ms) / DAY_MS))
    offs = rng.integers(sc.start_ms, sc.end_ms, k)
    ons = offs + (rng.uniform(*fam.off_h, k) * HOUR_MS).astype(np.int64)
    dark = np.zeros(len(times), bool)
    for a, b in zip(offs, ons, strict=True):
        dark |= (times >= a) & (times < b)
    parts, states = [times[~dark]], [np.full(int((~dark).sum()), SF)]
    for on in ons[ons < sc.end_ms]:
        m = int(rng.integers(3, 9))
        parts.append(on + np.cumsum(rng.integers(1_000, 10_000, m)))
        states.append(np.where(np.arange(m) < rng.integers(1, m), S0, SF))
    return np.concatenate(parts), np.concatenate(states).astype(np.uint8)


def _endpoint(fam: Poller, base: int, times: np.ndarray, start_ms: int, delay: int) -> np.ndarray:
    """The address polled at each time: fixed, or the ``k``-th of the family after ``k``
    rotations (a client follows ``delay`` ms after the rotation)."""
    if fam.rotate_h is None:
        return np.full(len(times), base, np.int64)
    k = np.maximum(times - start_ms - delay, 0) // int(fam.rotate_h * HOUR_MS)
    return base + k % SLOT


def _downloads(rng: np.random.Generator, fam: Poller, block: Block) -> Block:
    """Turn ``download_share`` of the polls into file fetches of ``download_mb``."""
    n = len(block["start"])
    big = (rng.random(n) < fam.download_share) & (block["state"] == SF)
    size = (rng.uniform(*fam.download_mb, n) * 1e6).astype(np.int64)
    block["rby"] = np.where(big, size, block["rby"])
    block["rpk"] = np.where(big, size // 1400 + 2, block["rpk"])
    block["opk"] = np.where(big, size // 2800 + 4, block["opk"])
    block["dur"] = np.where(big, size // rng.integers(500, 5000, n), block["dur"])
    return block


def poller_blocks(
    rng: np.random.Generator, sc: Scenario, fam: Poller, base: int, clean: np.ndarray
) -> list[Block]:
    """``fam.clients`` clean devices polling the family's endpoint, with its shapes."""
    clients = rng.choice(clean, min(fam.clients, len(clean)), replace=False)
    ndays = -(-(sc.end_ms - sc.start_ms) // DAY_MS)
    proto = UDP if fam.proto == "udp" else TCP
    out = []
    for c in clients:
        t0 = sc.start_ms + int(rng.integers(0, int(fam.period_s * 1000)))
        times = periodic_times(rng, t0, sc.end_ms, fam.period_s, fam.jitter)
        times = times[_in_window(times, fam, rng.random(ndays) < fam.days_on, sc.start_ms)]
        state = np.full(len(times), SF, np.uint8)
        if fam.outages_per_day > 0:
            times, state = _power_cycles(rng, sc, fam, times)
        dst = _endpoint(fam, base, times, sc.start_ms, int(rng.integers(0, 60_000)))
        size = (fam.orig_bytes, fam.resp_bytes)
        block = _polls(rng, int(c), times, dst, fam.port, proto, size, state)
        out.append(_downloads(rng, fam, block) if fam.download_share > 0 else block)
    return out


# --- NAT gateways ------------------------------------------------------------------------------


def nat_blocks(
    rng: np.random.Generator, sc: Scenario, fam: NatGateway, base: int, clean: np.ndarray
) -> list[Block]:
    """Each gateway address carrying the cloud keepalives of every device behind it (the
    number of devices scales with the scenario's scale, at least three)."""
    gateways = rng.choice(clean, min(fam.gateways, len(clean)), replace=False)
    out = []
    for gw in gateways:
        for _ in range(max(3, int(rng.integers(*fam.devices) * sc.scale))):
            j = int(rng.integers(fam.clouds))
            period = float(rng.choice(fam.periods_s))
            t0 = sc.start_ms + int(rng.integers(0, int(period * 1000)))
            times = periodic_times(rng, t0, sc.end_ms, period, fam.jitter)
            port = fam.ports[j % len(fam.ports)]
            out.append(_polls(rng, int(gw), times, base + j, port, TCP, ((80, 300), (80, 400))))
    return out
