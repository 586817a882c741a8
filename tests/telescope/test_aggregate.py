"""Per-source reductions: one chunk, merged chunks, distinct targets, top ports with ties."""

from __future__ import annotations

import numpy as np

from iotscope.telescope._aggregate import merge, reduce_rows, targets, top_ports
from iotscope.telescope._decode import Bits


def _rows(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 6, n)
    dst = rng.integers(0, 2**32, n) % 17
    ts = rng.integers(0, 10**12, n)
    port = np.where(src == 5, -1, rng.integers(0, 4, n))  # source 5: no ports (ICMP)
    bits = rng.choice([0, Bits.SYN, Bits.SYN | Bits.MIRAI, Bits.REPLY], n)
    return src, dst, ts, port, bits


def _expected(
    src: np.ndarray, dst: np.ndarray, ts: np.ndarray, bits: np.ndarray
) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    for s in np.unique(src).tolist():
        m = src == s
        out[s] = (
            int(m.sum()),
            len(set(dst[m].tolist())),
            int(ts[m].min()),
            int(ts[m].max()),
            int(((bits[m] & Bits.SYN) != 0).sum()),
            int(((bits[m] & Bits.MIRAI) != 0).sum()),
        )
    return out


def _got(part) -> dict[int, tuple[int, ...]]:  # type: ignore[no-untyped-def]
    t = targets(part)
    return {
        int(s): (
            int(part.packets[i]),
            int(t[i]),
            int(part.first[i]),
            int(part.last[i]),
            int(part.traits[i, 0]),
            int(part.traits[i, 1]),
        )
        for i, s in enumerate(part.src.tolist())
    }


def test_one_chunk_and_merged_chunks_agree_with_plain_python() -> None:
    src, dst, ts, port, bits = _rows(3000, 1)
    want = _expected(src, dst, ts, bits)
    assert _got(reduce_rows(src, dst, ts, port, bits)) == want
    parts = [
        reduce_rows(
            src[i : i + 700],
            dst[i : i + 700],
            ts[i : i + 700],
            port[i : i + 700],
            bits[i : i + 700],
        )
        for i in range(0, 3000, 700)
    ]
    merged = merge(parts)
    assert _got(merged) == want
    whole = reduce_rows(src, dst, ts, port, bits)
    assert merged.port_keys.tolist() == whole.port_keys.tolist()
    assert merged.port_counts.tolist() == whole.port_counts.tolist()


def test_top_ports_order_and_ties() -> None:
    # source 7: ports 80 x3, 23 x3, 22 x1, 8080 x5; source 9: port 1 x1
    port = np.array([80, 80, 80, 23, 23, 23, 22, 8080, 8080, 8080, 8080, 8080, 1])
    src = np.array([7] * 12 + [9])
    n = port.shape[0]
    part = reduce_rows(
        src, np.zeros(n, np.int64), np.zeros(n, np.int64), port, np.zeros(n, np.int64)
    )
    idx, ports, counts = top_ports(part, 3)
    assert list(zip(idx.tolist(), ports.tolist(), counts.tolist(), strict=True)) == [
        (0, 8080, 5),
        (0, 23, 3),
        (0, 80, 3),
        (1, 1, 1),
    ]
