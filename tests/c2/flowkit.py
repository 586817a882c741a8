"""Small hand-made flow tables for the C2 tests (FLOW_SCHEMA, built column-wise)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from iotscope.flows import flows_table

T0 = 1_793_491_200_000  # 2026-11-01T00:00Z in ms
MIN = 60_000
SYN, FULL = 0x02, 0x1B


@dataclass
class Kit:
    """Collects flows, then builds one table."""

    site: str = "isp-t"
    rows: list[tuple[int, str, str, int, int, str, int, int, int, int]] = field(
        default_factory=list
    )
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(1))

    def add(
        self,
        t: int,
        src: str,
        dst: str,
        dport: int,
        *,
        proto: str = "tcp",
        packets: int = 4,
        nbytes: int = 200,
        flags: int = FULL,
        sport: int = 0,
        dur_ms: int = 500,
    ) -> None:
        sp = sport or int(self.rng.integers(32768, 61000))
        self.rows.append((t, src, dst, sp, dport, proto, packets, nbytes, flags, dur_ms))

    def beacon(
        self,
        src: str,
        dst: str,
        dport: int,
        t0: int,
        t1: int,
        period_s: float,
        nbytes: int = 150,
        proto: str = "tcp",
        jitter: float = 0.03,
    ) -> None:
        """Periodic sessions (gaps period * (1 + jitter * N(0, 1))) from ``t0`` until ``t1``."""
        t = float(t0)
        while t < t1:
            flags = FULL if proto == "tcp" else 0
            self.add(int(t), src, dst, dport, proto=proto, nbytes=nbytes, flags=flags)
            t += period_s * 1000 * max(0.3, 1 + jitter * self.rng.standard_normal())

    def poisson(
        self, src: str, dst: str, dport: int, t0: int, t1: int, n: int, proto: str = "tcp"
    ) -> None:
        for t in np.sort(self.rng.integers(t0, t1, n)):
            self.add(
                int(t),
                src,
                dst,
                dport,
                proto=proto,
                flags=FULL if proto == "tcp" else 0,
                nbytes=int(self.rng.integers(300, 3000)),
            )

    def table(self) -> pa.Table:
        cols = list(zip(*sorted(self.rows), strict=True))
        start = np.array(cols[0], dtype=np.int64)
        return flows_table(
            start_ms=start,
            end_ms=start + np.array(cols[9], dtype=np.int64),
            src=list(cols[1]),
            dst=list(cols[2]),
            sport=cols[3],
            dport=cols[4],
            proto=list(cols[5]),
            packets=cols[6],
            octets=cols[7],
            tcp_flags=cols[8],
            exporter="test",
            site=self.site,
        )


def subscribers(n: int, base: str = "100.64.1.") -> list[str]:
    return [f"{base}{i}" for i in range(1, n + 1)]


# Spark settings for test-sized data: the tests compare results, not plans, and on a few
# hundred flows planning and code generation cost more than the work (the history test took
# 84 s with adaptive execution and whole-stage code generation on, 49 s with both off).
SPARK_SMALL = {"spark.sql.adaptive.enabled": "false", "spark.sql.codegen.wholeStage": "false"}
