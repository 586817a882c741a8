"""Per-source aggregation of decoded packet rows, chunk by chunk, with numpy only.

Rows are aggregated per address family with family-local source keys (the IPv4 address, or
the IPv6 registry id), so that ``src << 32 | dst`` fits 64 bits. One ``argsort`` of that
key per chunk gives both the source groups (runs of ``key >> 32``, reduced with
``ufunc.reduceat``) and the distinct (source, destination) pairs (runs of the key). A chunk
becomes a :class:`Partial`; partials of many chunks merge by the same reductions, so a
capture of any size needs memory for one chunk plus the partials. No loop over packets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iotscope.telescope._decode import Bits

__all__ = ["TRAITS", "Partial", "merge", "reduce_rows", "targets", "top_ports"]

TRAITS = ("syn", "mirai", "reply", "zmap", "masscan", "iot")
_TRAIT_BITS = (Bits.SYN, Bits.MIRAI, Bits.REPLY, Bits.ZMAP, Bits.MASSCAN, Bits.IOT)


@dataclass
class Partial:
    """Per-source columns sorted by family-local ``src``; ``port_keys`` = src << 16 | port
    with ``port_counts``; ``pairs`` = distinct src << 32 | dst, sorted."""

    src: np.ndarray
    packets: np.ndarray
    first: np.ndarray
    last: np.ndarray
    traits: np.ndarray  # (sources, len(TRAITS)) int64
    port_keys: np.ndarray
    port_counts: np.ndarray
    pairs: np.ndarray


def _run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where a new value starts in ``sorted_keys``."""
    new = np.empty(sorted_keys.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return np.flatnonzero(new)


def _lengths(starts: np.ndarray, total: int) -> np.ndarray:
    out = np.empty(starts.shape[0], dtype=np.int64)
    out[:-1] = starts[1:] - starts[:-1]
    out[-1:] = total - starts[-1:]
    return out


def _unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (sort-based; faster than ``np.unique``'s hash
    path on millions of 64-bit keys)."""
    sk = np.sort(keys)
    starts = _run_starts(sk)
    return sk[starts], _lengths(starts, sk.shape[0])


def _distinct(keys: np.ndarray, *, runs: bool = False) -> np.ndarray:
    """Sorted distinct values (as :func:`_unique`, without counts or index arrays).
    ``runs``: ``keys`` is a few sorted runs end to end, which the stable sort (timsort)
    merges in near-linear time."""
    sk = np.sort(keys, kind="stable" if runs else None)
    new = np.empty(sk.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    return sk[new]


def reduce_rows(
    src: np.ndarray, dst: np.ndarray, ts_ns: np.ndarray, port: np.ndarray, bits: np.ndarray
) -> Partial:
    """One chunk of one family's rows reduced per source (``src``, ``dst`` < 2**32)."""
    key = (src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64)
    order = np.argsort(key)
    skey = key[order]
    owner = skey >> np.uint64(32)
    starts = _run_starts(owner)
    ts = ts_ns[order]
    sbits = bits[order]
    traits = np.stack(
        [np.add.reduceat(((sbits & b) != 0).astype(np.int64), starts) for b in _TRAIT_BITS],
        axis=1,
    )
    has_port = port >= 0
    port_keys, port_counts = _unique(
        (src[has_port].astype(np.uint64) << np.uint64(16)) | port[has_port].astype(np.uint64)
    )
    return Partial(
        src=owner[starts],
        packets=_lengths(starts, skey.shape[0]),
        first=np.minimum.reduceat(ts, starts),
        last=np.maximum.reduceat(ts, starts),
        traits=traits,
        port_keys=port_keys,
        port_counts=port_counts,
        pairs=skey[_run_starts(skey)],
    )


def merge(parts: list[Partial]) -> Partial:
    """Partials of several chunks as one (sums, minima, maxima and unions per source)."""
    if len(parts) == 1:
        return parts[0]
    cat = {k: np.concatenate([getattr(p, k) for p in parts]) for k in Partial.__dataclass_fields__}
    order = np.argsort(cat["src"], kind="stable")
    starts = _run_starts(cat["src"][order])
    port_order = np.argsort(cat["port_keys"], kind="stable")
    port_starts = _run_starts(cat["port_keys"][port_order])
    pairs = _distinct(cat["pairs"], runs=True)
    return Partial(
        src=cat["src"][order][starts],
        packets=np.add.reduceat(cat["packets"][order], starts),
        first=np.minimum.reduceat(cat["first"][order], starts),
        last=np.maximum.reduceat(cat["last"][order], starts),
        traits=np.add.reduceat(cat["traits"][order], starts, axis=0),
        port_keys=cat["port_keys"][port_order][port_starts],
        port_counts=np.add.reduceat(cat["port_counts"][port_order], port_starts),
        pairs=pairs,
    )


def targets(part: Partial) -> np.ndarray:
    """Distinct destinations per source, aligned with ``part.src`` (every source has >= 1)."""
    owners = part.pairs >> np.uint64(32)
    return _lengths(_run_starts(owners), owners.shape[0])


def top_ports(part: Partial, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``n`` most-hit ports of each source (ties: lower port first), as
    ``(source index, port, count)`` rows grouped by source index, most-hit first.

    One ``argsort`` of a composite 64-bit key ``(source rank, -count, port)``; counts are
    clipped to the bits left for them (>= 2**27 with a million sources), which can only
    reorder ports that both have more packets than that.
    """
    owner = (part.port_keys >> np.uint64(16)).astype(np.int64)
    port = (part.port_keys & np.uint64(0xFFFF)).astype(np.int64)
    rank = np.searchsorted(part.src.astype(np.int64), owner)
    rank_bits = max(int(part.src.shape[0]).bit_length(), 1)
    count_cap = (1 << (63 - 16 - rank_bits)) - 1
    inverted = count_cap - np.minimum(part.port_counts, count_cap)
    order = np.argsort((rank << (63 - rank_bits)) | (inverted << 16) | port)
    rank, port, count = rank[order], port[order], part.port_counts[order]
    starts = _run_starts(rank)
    position = np.arange(rank.shape[0]) - np.repeat(starts, _lengths(starts, rank.shape[0]))
    keep = position < n
    return rank[keep], port[keep], count[keep]
