"""Connection blocks: equal-length numpy columns, one row per connection (Zeek's view).

Columns: ``start dur`` (ms), ``src dst`` (uint32), ``sport dport``, ``proto`` (6, 17), ``opk oby
rpk rby`` (originator/responder packets and payload bytes), ``state`` (index into
:data:`STATES`), ``rev`` (1: Zeek logs this connection with the roles reversed, the responder
as originator; NetFlow still exports the true direction). No Python object per row.
"""

from __future__ import annotations

import numpy as np

from iotscope.lab.traffic._scenario import DAY_MS, INTERNET, Scenario

STATES = ("SF", "S0", "REJ")
SF, S0, REJ = 0, 1, 2
TCP, UDP = 6, 17
COLUMNS = (
    "start",
    "dur",
    "src",
    "dst",
    "sport",
    "dport",
    "proto",
    "opk",
    "oby",
    "rpk",
    "rby",
    "state",
    "rev",
)
Block = dict[str, np.ndarray]

NET0 = int(INTERNET.network_address)


def make_block(
    start: np.ndarray,
    src: np.ndarray | np.integer,
    dst: np.ndarray | int,
    dport: np.ndarray | int,
    proto: int,
    rng: np.random.Generator,
    *,
    dur: np.ndarray | int = 0,
    sport: np.ndarray | None = None,
    opk: np.ndarray | int = 1,
    oby: np.ndarray | int = 0,
    rpk: np.ndarray | int = 0,
    rby: np.ndarray | int = 0,
    state: np.ndarray | int = SF,
    rev: np.ndarray | int = 0,
) -> Block:
    """One block; scalars broadcast to the length of ``start``."""
    n = len(start)

    def col(v: np.ndarray | np.integer | int, dtype: type) -> np.ndarray:
        return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

    return {
        "start": start.astype(np.int64),
        "dur": col(dur, np.int64),
        "src": col(src, np.uint32),
        "dst": col(dst, np.uint32),
        "sport": sport.astype(np.int32)
        if sport is not None
        else rng.integers(32768, 61000, n).astype(np.int32),
        "dport": col(dport, np.int32),
        "proto": col(proto, np.uint8),
        "opk": col(opk, np.int64),
        "oby": col(oby, np.int64),
        "rpk": col(rpk, np.int64),
        "rby": col(rby, np.int64),
        "state": col(state, np.uint8),
        "rev": col(rev, np.uint8),
    }


def concat(blocks: list[Block]) -> Block:
    """All blocks in one, sorted by start time."""
    out = {c: np.concatenate([b[c] for b in blocks]) for c in COLUMNS}
    order = np.argsort(out["start"], kind="stable")
    return {c: v[order] for c, v in out.items()}


def uniform_times(rng: np.random.Generator, sc: Scenario, n: int) -> np.ndarray:
    return rng.integers(sc.start_ms, sc.end_ms, n)


def per_day(sc: Scenario, rate: float) -> int:
    return int(rate * sc.scale * (sc.end_ms - sc.start_ms) / DAY_MS)


def periodic_times(
    rng: np.random.Generator, t0: int, t1: int, period_s: float, jitter: float = 0.05
) -> np.ndarray:
    """Start times of a heartbeat from ``t0`` until ``t1`` (ms), gaps period * (1 ± jitter)."""
    period = period_s * 1000
    n = int((t1 - t0) / period) + 2
    gaps = period * (1 + jitter * rng.standard_normal(n))
    times = t0 + np.cumsum(np.maximum(gaps, period * 0.5)) - gaps[0] * rng.random()
    return times[(times >= t0) & (times < t1)].astype(np.int64)


def split_active(block: Block, timeout_ms: int) -> Block:
    """``block`` as a NetFlow exporter reports it: a connection longer than the active timeout
    is cut into records of at most ``timeout_ms`` each (Cisco IOS: 30 minutes by default),
    packets and bytes shared evenly (the remainder on the first). Shorter rows are unchanged;
    the result is sorted by start."""
    pieces = np.maximum(1, -(-block["dur"] // timeout_ms))
    if (pieces == 1).all():
        return block
    row = np.repeat(np.arange(len(pieces)), pieces)
    first = np.concatenate([[0], np.cumsum(pieces)[:-1]])
    j = np.arange(len(row)) - np.repeat(first, pieces)  # piece index within its connection
    out = {c: v[row] for c, v in block.items()}
    out["start"] = block["start"][row] + j * timeout_ms
    out["dur"] = np.minimum(timeout_ms, block["dur"][row] - j * timeout_ms)
    k = pieces[row]
    for c in ("opk", "oby", "rpk", "rby"):
        total = block[c][row]
        out[c] = total // k + np.where(j == 0, total % k, 0)
    order = np.argsort(out["start"], kind="stable")
    return {c: v[order] for c, v in out.items()}
