"""Per-source aggregation of decoded packet rows, chunk by chunk, with numpy only.

A chunk is reduced to a :class:`Partial` (per-source sums and time bounds, per (source, port)
counts, distinct (source, destination) pairs); partials of many chunks merge by the same
reductions, so a capture of any size needs memory for one chunk plus the partials. Groups
are formed by sorting keys (``argsort``) and reducing runs (``ufunc.reduceat``), counts by
``np.unique``; there is no loop over packets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iotscope.telescope._decode import Bits, Decoded

__all__ = ["TRAITS", "Partial", "merge", "reduce_chunk", "top_ports"]

TRAITS = ("syn", "mirai", "reply", "zmap", "masscan", "iot")
_TRAIT_BITS = (Bits.SYN, Bits.MIRAI, Bits.REPLY, Bits.ZMAP, Bits.MASSCAN, Bits.IOT)


@dataclass
class Partial:
    """Per-source columns (sorted by ``src``), ``port_keys`` = src << 16 | port with
    ``port_counts``, and distinct ``pair_src``/``pair_dst`` pairs."""

    src: np.ndarray
    packets: np.ndarray
    first: np.ndarray
    last: np.ndarray
    traits: np.ndarray  # (sources, len(TRAITS)) int64
    port_keys: np.ndarray
    port_counts: np.ndarray
    pair_src: np.ndarray
    pair_dst: np.ndarray


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, starts, inverse)``: a stable sort of ``keys``, where each run of equal keys
    starts in sorted order, and each element's run number."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    new = np.empty(sk.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    run = np.cumsum(new) - 1
    inverse = np.empty_like(run)
    inverse[order] = run
    return order, np.flatnonzero(new), inverse


def _unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (sort-based: faster than ``np.unique``'s
    hash path for tens of millions of 64-bit keys)."""
    sk = np.sort(keys)
    new = np.empty(sk.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return sk[starts], np.diff(np.append(starts, sk.shape[0]))


def _distinct_pairs(
    src_keys: np.ndarray, inverse: np.ndarray, dst: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    pairs, _ = _unique((inverse.astype(np.int64) << 32) | dst.astype(np.int64))
    return src_keys[pairs >> 32], pairs & 0xFFFFFFFF


def reduce_chunk(rows: Decoded) -> Partial:
    """One chunk's packet rows reduced per source."""
    order, starts, inverse = _runs(rows.src)
    src = rows.src[order][starts]
    ts = rows.ts_ns[order]
    bits = rows.bits.astype(np.int64)
    traits = np.stack(
        [
            np.bincount(inverse, weights=(bits & b) != 0, minlength=src.shape[0])
            for b in _TRAIT_BITS
        ],
        axis=1,
    ).astype(np.int64)
    has_port = rows.port >= 0
    port_keys, port_counts = _unique(
        (rows.src[has_port].astype(np.int64) << 16) | rows.port[has_port]
    )
    pair_src, pair_dst = _distinct_pairs(src, inverse, rows.dst)
    return Partial(
        src=src,
        packets=np.diff(np.append(starts, order.shape[0])),
        first=np.minimum.reduceat(ts, starts) if ts.size else ts,
        last=np.maximum.reduceat(ts, starts) if ts.size else ts,
        traits=traits.reshape(src.shape[0], len(TRAITS)),
        port_keys=port_keys,
        port_counts=port_counts.astype(np.int64),
        pair_src=pair_src,
        pair_dst=pair_dst,
    )


def merge(parts: list[Partial]) -> Partial:
    """Partials of several chunks as one (sums, minima, maxima and unions per source)."""
    if len(parts) == 1:
        return parts[0]
    cat = {k: np.concatenate([getattr(p, k) for p in parts]) for k in Partial.__dataclass_fields__}
    order, starts, _ = _runs(cat["src"])
    src = cat["src"][order][starts]
    port_order, port_starts, _ = _runs(cat["port_keys"])
    pair_inverse = np.searchsorted(src, cat["pair_src"])
    pair_src, pair_dst = _distinct_pairs(src, pair_inverse, cat["pair_dst"])
    return Partial(
        src=src,
        packets=np.add.reduceat(cat["packets"][order], starts),
        first=np.minimum.reduceat(cat["first"][order], starts),
        last=np.maximum.reduceat(cat["last"][order], starts),
        traits=np.add.reduceat(cat["traits"][order], starts, axis=0),
        port_keys=cat["port_keys"][port_order][port_starts],
        port_counts=np.add.reduceat(cat["port_counts"][port_order], port_starts),
        pair_src=pair_src,
        pair_dst=pair_dst,
    )


def targets(part: Partial) -> np.ndarray:
    """Distinct destinations per source, aligned with ``part.src``."""
    return np.bincount(np.searchsorted(part.src, part.pair_src), minlength=part.src.shape[0])


def top_ports(part: Partial, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``n`` most-hit ports of each source (ties: lower port first), as
    ``(source index, port, count)`` rows sorted by source index."""
    src = part.port_keys >> 16
    port = part.port_keys & 0xFFFF
    order = np.lexsort((port, -part.port_counts, src))
    src, port, count = src[order], port[order], part.port_counts[order]
    new = np.ones(src.shape[0], dtype=bool)
    new[1:] = src[1:] != src[:-1]
    group_start = np.maximum.accumulate(np.where(new, np.arange(src.shape[0]), 0))
    keep = np.arange(src.shape[0]) - group_start < n
    return np.searchsorted(part.src, src[keep]), port[keep], count[keep]
