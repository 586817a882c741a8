"""C2 traffic of the variants' extra kinds: failing reconnects and hours-long sessions.

Both follow the lineage's C2 epochs like the plain heartbeat (:func:`._flowgen.c2_sessions`):
each bot picks one address of an epoch and switches within two minutes of its start.
"""

from __future__ import annotations

import numpy as np

from iotscope.lab.traffic._blocks import REJ, S0, SF, TCP, Block, make_block, periodic_times
from iotscope.lab.traffic._scenario import C2Addr, Lineage, Scenario

HOUR_MS = 3_600_000


def _bot_epochs(
    rng: np.random.Generator, sc: Scenario, lin: Lineage, site: str
) -> list[tuple[int, C2Addr, int]]:
    """(bot, address, first contact ms) for every bot of ``lin`` at ``site`` and every epoch."""
    out = []
    for epoch in lin.epochs():
        for bot in sc.bots[(lin.name, site)]:
            addr = epoch[int(rng.integers(len(epoch)))]
            out.append((int(bot), addr, addr.start_ms + int(rng.integers(0, 120_000))))
    return out


def reconnects(rng: np.random.Generator, sc: Scenario, lin: Lineage, site: str) -> list[Block]:
    """Bots reconnecting to their C2 every ``period_s`` (jittered), each attempt a new
    connection: ``fail_share`` of them fail (half unanswered SYNs, S0; half refused, REJ), the
    others exchange the family's payload (52 bytes out, 124 back for real Mirai)."""
    fam = lin.family
    out: list[Block] = []
    for bot, addr, t0 in _bot_epochs(rng, sc, lin, site):
        times = periodic_times(rng, t0, addr.end_ms, fam.period_s, fam.jitter)
        n = len(times)
        fail = rng.random(n) < fam.fail_share
        refused = fail & (rng.random(n) < 0.5)
        lost = fail & ~refused
        ok = ~fail
        out.append(
            make_block(
                times,
                np.uint32(bot),
                addr.ip,
                addr.port,
                TCP,
                rng,
                dur=np.where(ok, rng.integers(30, 600, n), np.where(lost, 3000, 0)),
                opk=np.where(ok, rng.integers(4, 7, n), np.where(lost, rng.integers(1, 4, n), 1)),
                oby=np.where(ok, rng.integers(*fam.orig_bytes, n), 0),
                rpk=np.where(ok, rng.integers(3, 6, n), np.where(refused, 1, 0)),
                rby=np.where(ok, rng.integers(*fam.resp_bytes, n), 0),
                state=np.where(refused, REJ, np.where(lost, S0, SF)),
            )
        )
    return out


def _session_spans(
    rng: np.random.Generator, t0: int, t1: int, hours: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Back-to-back sessions of ``hours`` from ``t0`` to ``t1``, seconds to two minutes apart:
    (starts, durations) in ms, the last one cut at ``t1``."""
    k = int((t1 - t0) / (hours[0] * HOUR_MS)) + 2
    durs = (rng.uniform(*hours, k) * HOUR_MS).astype(np.int64)
    gaps = rng.integers(2_000, 120_000, k)
    starts = t0 + np.concatenate([[0], np.cumsum(durs + gaps)[:-1]])
    keep = starts < t1
    return starts[keep], np.minimum(durs[keep], t1 - starts[keep])


def long_sessions(rng: np.random.Generator, sc: Scenario, lin: Lineage, site: str) -> list[Block]:
    """Bots holding one TCP session to their C2 for hours (``session_h``), a keepalive every
    ``period_s`` inside it, one record per session; ``flipped_share`` of the sessions are
    marked ``rev`` (Zeek saw them mid-stream and logs the C2 as originator)."""
    fam = lin.family
    assert fam.session_h is not None
    out: list[Block] = []
    for bot, addr, t0 in _bot_epochs(rng, sc, lin, site):
        if t0 >= addr.end_ms:
            continue
        starts, durs = _session_spans(rng, t0, addr.end_ms, fam.session_h)
        n = len(starts)
        beats = np.maximum(1, durs // int(fam.period_s * 1000))
        out.append(
            make_block(
                starts,
                np.uint32(bot),
                addr.ip,
                addr.port,
                TCP,
                rng,
                dur=durs,
                opk=beats + 3,
                oby=beats * rng.integers(*fam.orig_bytes, n),
                rpk=beats + 2,
                rby=beats * rng.integers(*fam.resp_bytes, n),
                rev=(rng.random(n) < fam.flipped_share).astype(np.uint8),
            )
        )
    return out
