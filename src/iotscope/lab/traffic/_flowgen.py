"""Per-site connection records built with numpy from a :class:`Scenario`.

Records are :mod:`iotscope.lab.traffic._blocks` blocks (no Python object per row). The
variants' extra C2 kinds come from :mod:`._c2kinds`, their benign look-alikes from
:mod:`._benign`; each draws from its own random stream, so the default world's bytes do not
change when they are added.

Simplification, stated once: each C2 heartbeat or poll is one connection record (as NetFlow
exports a long-lived session when its active timeout is shorter than the heartbeat interval);
the ``long-session`` family is the exception, one record per hours-long session.
"""

from __future__ import annotations

import numpy as np

from iotscope.lab.traffic._benign import benign_blocks
from iotscope.lab.traffic._blocks import (
    NET0,
    S0,
    TCP,
    UDP,
    Block,
    concat,
    make_block,
    per_day,
    periodic_times,
    uniform_times,
)
from iotscope.lab.traffic._c2kinds import long_sessions, reconnects
from iotscope.lab.traffic._scenario import DAY_MS, RESEARCH, Attack, Lineage, Scenario

_IOT_SCAN_PORTS = np.array([23, 2323, 80, 8080, 5555, 7547, 37215, 52869])
#: Internet address offsets of the standing benign services (listed in truth.json's benign).
RESOLVERS = (53, 54)
NTP_SERVERS = (123, 124, 125, 126)
WEB_ENDPOINTS = (256, 656)  # [first, last + 1)
LONG_TAIL = (10_000, 40_000)  # [first, last + 1): rarely contacted hosts

# --- botnet traffic ---------------------------------------------------------------------------


def c2_sessions(rng: np.random.Generator, sc: Scenario, lin: Lineage, site: str) -> list[Block]:
    """The bots of ``lin`` at ``site`` heartbeating to each C2 epoch; bots follow migrations.

    Families with long sessions or failing reconnects are built by :mod:`._c2kinds`."""
    fam = lin.family
    if fam.session_h is not None:
        return long_sessions(rng, sc, lin, site)
    if fam.fail_share > 0:
        return reconnects(rng, sc, lin, site)
    out: list[Block] = []
    for epoch in lin.epochs():
        for bot in sc.bots[(lin.name, site)]:
            addr = epoch[int(rng.integers(len(epoch)))]
            t0 = addr.start_ms + int(rng.integers(0, 120_000))  # bots switch within 2 minutes
            times = periodic_times(rng, t0, addr.end_ms, fam.period_s, fam.jitter)
            n = len(times)
            sport = np.full(n, rng.integers(32768, 61000), np.int32)
            out.append(
                make_block(
                    times,
                    np.uint32(bot),
                    addr.ip,
                    addr.port,
                    TCP,
                    rng,
                    dur=rng.integers(40, 900, n),
                    sport=sport,
                    opk=rng.integers(3, 6, n),
                    oby=rng.integers(*fam.orig_bytes, n),
                    rpk=rng.integers(2, 5, n),
                    rby=rng.integers(*fam.resp_bytes, n),
                )
            )
    return out


def bot_scans(rng: np.random.Generator, sc: Scenario, lin: Lineage, site: str) -> Block | None:
    """Outbound SYN scanning by the lineage's bots (Mirai: 23, every tenth probe 2323)."""
    kind = lin.family.scanner
    bots = sc.bots[(lin.name, site)]
    if kind is None or len(bots) == 0:
        return None
    n = int(500 * len(bots) * (sc.end_ms - sc.start_ms) / DAY_MS)
    src = rng.choice(bots, n)
    if kind == "mirai":
        dport = np.where(rng.random(n) < 0.1, 2323, 23)
    else:
        dport = rng.choice(_IOT_SCAN_PORTS, n)
    dst = NET0 + rng.integers(1, 65535, n)
    return make_block(uniform_times(rng, sc, n), src, dst, dport, TCP, rng, opk=1, state=S0)


def ddos(rng: np.random.Generator, sc: Scenario, attack: Attack) -> Block:
    """Bots flooding one victim: many short flows per bot, every ~3 s, for the attack's span."""
    bots = sc.bots[(attack.lineage, attack.site)]
    per_bot = max(1, attack.dur_ms // 3000)
    src = np.repeat(bots, per_bot)
    start = attack.start_ms + rng.integers(0, attack.dur_ms, len(src))
    n = len(src)
    tcp = attack.proto == "tcp"
    opk = rng.integers(20, 200, n) if tcp else rng.integers(100, 2000, n)
    return make_block(
        start,
        src,
        attack.victim,
        attack.port,
        TCP if tcp else UDP,
        rng,
        dur=rng.integers(500, 3000, n),
        opk=opk,
        oby=0 if tcp else opk * 512,
        state=S0,
    )


def inbound_scans(rng: np.random.Generator, sc: Scenario, site: str) -> list[Block]:
    """Research scanners and infected hosts elsewhere probing the site's subscribers."""
    subs = sc.subscribers[site]
    research = np.array([int(h) for h in RESEARCH.hosts()], np.uint32)
    n = per_day(sc, 8000)
    res = make_block(
        uniform_times(rng, sc, n),
        rng.choice(research, n),
        rng.choice(subs, n),
        rng.choice([22, 23, 80, 443, 8080, 3389, 5555], n),
        TCP,
        rng,
        state=S0,
    )
    others = np.concatenate(
        [sc.external_scanners]
        + [b for (x, s), b in sc.bots.items() if s != site and not sc.lineage(x).family.quiet]
        + [np.zeros(0, np.uint32)]
    )
    m = per_day(sc, 6000) if len(others) else 0
    inf = make_block(
        uniform_times(rng, sc, m),
        rng.choice(others, m) if m else others[:0],
        rng.choice(subs, m),
        np.where(rng.random(m) < 0.1, 2323, 23),
        TCP,
        rng,
        state=S0,
    )
    return [res, inf]


# --- benign traffic ---------------------------------------------------------------------------


def _zipf_pick(rng: np.random.Generator, k: int, n: int, a: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, k + 1) ** a
    return rng.choice(k, n, p=weights / weights.sum())


def web(rng: np.random.Generator, sc: Scenario, site: str) -> Block:
    """CDNs and popular services: huge fan-in on 443/80, heavy-tailed responses."""
    n = per_day(sc, 40_000)
    endpoints = NET0 + WEB_ENDPOINTS[0] + np.arange(WEB_ENDPOINTS[1] - WEB_ENDPOINTS[0])
    ports = np.where(np.arange(400) % 7 == 0, 80, 443)
    pick = _zipf_pick(rng, 400, n)
    rpk = rng.integers(5, 400, n)
    return make_block(
        uniform_times(rng, sc, n),
        rng.choice(sc.subscribers[site], n),
        endpoints[pick],
        ports[pick],
        TCP,
        rng,
        dur=rng.lognormal(7, 1.5, n).astype(np.int64),
        opk=rng.integers(4, 60, n),
        oby=rng.integers(300, 3000, n),
        rpk=rpk,
        rby=rpk * rng.integers(400, 1400, n),
    )


def dns_ntp(rng: np.random.Generator, sc: Scenario, site: str) -> list[Block]:
    """Resolver queries (UDP 53) and periodic NTP polls (UDP 123, 1024 s)."""
    subs = sc.subscribers[site]
    n = per_day(sc, 30_000)
    resolvers = NET0 + np.array(RESOLVERS)
    dns = make_block(
        uniform_times(rng, sc, n),
        rng.choice(subs, n),
        rng.choice(resolvers, n),
        53,
        UDP,
        rng,
        dur=rng.integers(1, 60, n),
        oby=rng.integers(30, 80, n),
        rpk=1,
        rby=rng.integers(60, 400, n),
    )
    out = [dns]
    clients = rng.choice(subs, max(1, len(subs) * 6 // 100), replace=False)
    for c in clients:
        times = periodic_times(
            rng, sc.start_ms + int(rng.integers(0, 1_024_000)), sc.end_ms, 1024.0, 0.01
        )
        out.append(
            make_block(
                times,
                np.uint32(c),
                NET0 + NTP_SERVERS[int(rng.integers(len(NTP_SERVERS)))],
                123,
                UDP,
                rng,
                dur=20,
                oby=48,
                rpk=1,
                rby=48,
                sport=np.full(len(times), 123),
            )
        )
    return out


#: Vendor clouds the site's IoT devices keep alive to: (host offset, port, keepalive s, share
#: of devices). MQTT keepalives of a minute are as common as the 15-minute HTTPS polls.
CLOUDS = (
    (8001, 8883, 900.0, 0.35),
    (8002, 443, 900.0, 0.3),
    (8003, 8883, 60.0, 0.15),
    (8004, 443, 300.0, 0.2),
)


def iot_devices(rng: np.random.Generator, sc: Scenario, site: str) -> np.ndarray:
    """The site's IoT devices: its lab devices, its IoT bots (every family that scans; Emotet
    infects PCs), and 6% of the other subscribers.

    Infected and clean devices alike poll their vendor's cloud, and a cloud's fan-in grows
    with the site's device count.
    """
    subs = sc.subscribers[site]
    iot_bots = [
        b for (name, s), b in sc.bots.items() if s == site and sc.lineage(name).family.scanner
    ]
    lab = np.intersect1d(
        np.concatenate([np.array(sc.site(site).iot, dtype=np.uint32), *iot_bots]), subs
    )
    others = np.setdiff1d(subs, lab)
    extra = rng.choice(others, min(len(others), max(2, len(subs) * 6 // 100)), replace=False)
    return np.union1d(lab, extra).astype(np.uint32)


def iot_cloud(rng: np.random.Generator, sc: Scenario, site: str) -> list[Block]:
    """Each IoT device keeping alive to one vendor cloud from the start of the data: periodic
    sessions with small steady payloads, for the whole span, from the same devices."""
    devices = iot_devices(rng, sc, site)
    shares = np.array([c[3] for c in CLOUDS])
    pick = rng.choice(len(CLOUDS), len(devices), p=shares / shares.sum())
    out = []
    for c, k in zip(devices, pick, strict=True):
        host, port, period, _ = CLOUDS[int(k)]
        t0 = sc.start_ms + int(rng.integers(0, int(period * 1000)))
        times = periodic_times(rng, t0, sc.end_ms, period)
        n = len(times)
        out.append(
            make_block(
                times,
                np.uint32(c),
                NET0 + host,
                port,
                TCP,
                rng,
                dur=rng.integers(50, 400, n),
                opk=rng.integers(4, 8, n),
                oby=rng.integers(100, 300, n),
                rpk=rng.integers(3, 7, n),
                rby=rng.integers(100, 300, n),
            )
        )
    return out


def long_tail(rng: np.random.Generator, sc: Scenario, site: str) -> Block:
    """Rarely contacted hosts: a few irregular flows each, on assorted ports."""
    n = per_day(sc, 15_000)
    subs = sc.subscribers[site]
    dst = NET0 + rng.integers(*LONG_TAIL, n // 3)
    pick = rng.integers(0, len(dst), n)  # repeats come at random (Poisson) times
    port_of = rng.choice([443, 80, 8080, 22, 8443, 5222, 993, 23, 7080], len(dst))
    src_of = rng.choice(subs, len(dst))
    rpk = rng.integers(2, 50, n)
    return make_block(
        uniform_times(rng, sc, n),
        src_of[pick],
        dst[pick],
        port_of[pick],
        TCP,
        rng,
        dur=rng.lognormal(6, 1.5, n).astype(np.int64),
        opk=rng.integers(3, 30, n),
        oby=rng.integers(100, 2000, n),
        rpk=rpk,
        rby=rpk * 500,
    )


def site_connections(sc: Scenario, site: str) -> Block:
    """Every connection record of ``site``, sorted by start."""
    index = [s.name for s in sc.sites].index(site)
    rng = np.random.default_rng([sc.seed, index, 17])
    blocks: list[Block] = [web(rng, sc, site), long_tail(rng, sc, site)]
    blocks += dns_ntp(rng, sc, site) + iot_cloud(rng, sc, site) + inbound_scans(rng, sc, site)
    for lin in sc.lineages:
        if site in lin.sites:
            blocks += c2_sessions(rng, sc, lin, site)
            scans = bot_scans(rng, sc, lin, site)
            blocks += [scans] if scans is not None else []
    blocks += [ddos(rng, sc, a) for a in sc.attacks if a.site == site]
    blocks += benign_blocks(sc, site)
    merged = concat(blocks)
    keep = (merged["start"] >= sc.start_ms) & (merged["start"] < sc.end_ms)
    return {c: v[keep] for c, v in merged.items()}
