"""C2 detection over 100M flow records: DuckDB (the shipped SQL) vs a per-record Python loop.

Run: ``.venv/bin/python -m benchmarks.bench_c2 [--small] [--rows N] [--keep]``

1. Generates ``--rows`` FLOW_SCHEMA rows (default 100M; ``--small`` 5M) as Parquet in the
   flows layout (``site=<site>/day=<day>/part-*.parquet``), in chunks of 5M with numpy and
   pyarrow: mostly benign traffic (subscribers to Zipf-popular services, DNS, NTP, the long tail)
   with embedded C2 heartbeats (20 C2s x 40 bots, every 60 s), DDoS bursts and clean devices'
   vendor-cloud polls (the bots are given as the infected list, as a telescope would list them).
2. Runs :func:`iotscope.c2.run_duckdb` on it in a subprocess, timing it and reading the
   subprocess's peak RSS (``VmHWM`` from ``/proc/self/status``).
3. Runs the baseline: a plain Python loop over rows (dicts from ``to_pylist``) doing the same
   per-pair and per-endpoint aggregation, gap periodicity and scoring terms (no handover join),
   on a slice (``--baseline-rows``, default 2M), extrapolated per row to the full size.
Prints a table, writes ``benchmarks/results/c2.json``, deletes the generated data unless --keep.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iotscope.flows import flows_table, ipv4_strings, proto_strings

T0 = 1_793_491_200_000  # 2026-11-01T00:00Z
DAY = 86_400_000
CHUNK = 5_000_000
SITES = ("bench-a", "bench-b")
SUBS = 400_000  # subscribers per site
SUB0 = {s: 0x64400000 + i * 0x00100000 for i, s in enumerate(SITES)}  # 100.64/12, 100.80/12
NET0 = 0xC6120000  # 198.18.0.0
C2_0 = 0xCB007100  # 203.0.113.0
CLOUD_0 = 0xC6336500  # 198.51.101.0
VICTIM0 = 0xC6336400  # 198.51.100.0
RESULTS = Path(__file__).resolve().parent / "results" / "c2.json"


def _favourites(rng: np.random.Generator) -> np.ndarray:
    """Each subscriber's 32 usual services (Zipf-popular ranks among 200k endpoints)."""
    return np.minimum(rng.zipf(1.3, (SUBS, 32)), 200_000).astype(np.int64)


def _benign(rng: np.random.Generator, n: int, site: str, fav: np.ndarray) -> dict[str, np.ndarray]:
    """Benign flows: subscribers to their usual services (most flows; repeat connections to
    the same service, as browsing makes), DNS/NTP, the long tail, inbound scans."""
    kind = rng.choice(4, n, p=[0.78, 0.14, 0.05, 0.03])
    sub = rng.integers(1, SUBS, n)
    src = SUB0[site] + sub
    ranks = fav[sub, np.minimum(rng.zipf(1.6, n), 32) - 1]
    dst = NET0 + 256 + ranks
    dport = np.where(ranks % 7 == 0, 80, 443)
    proto = np.full(n, 6)
    dns = kind == 1
    dst[dns], dport[dns], proto[dns] = NET0 + 53, np.where(rng.random(dns.sum()) < 0.9, 53, 123), 17
    tail = kind == 2
    dst[tail] = NET0 + 300_000 + rng.integers(0, 2_000_000, tail.sum())
    dport[tail] = rng.choice([443, 80, 8080, 22, 7080, 23], tail.sum())
    scan = kind == 3
    src[scan], dst[scan] = NET0 + 9000 + rng.integers(0, 200, scan.sum()), src[scan]
    dport[scan] = rng.choice([23, 22, 80, 2323], scan.sum())
    flags = np.where(proto == 6, np.where(scan, 0x02, 0x1B), 0)
    packets = np.where(scan, 1, rng.integers(3, 200, n))
    return {
        "start": T0 + rng.integers(0, DAY, n),
        "src": src,
        "dst": dst,
        "sport": rng.integers(32768, 61000, n),
        "dport": dport,
        "proto": proto,
        "packets": packets,
        "bytes": packets * rng.integers(60, 1400, n),
        "flags": flags,
    }


def _c2(rng: np.random.Generator, site: str) -> dict[str, np.ndarray]:
    """20 C2s with 40 bots each, heartbeats every 60 s (3% jitter) all day, and DDoS bursts."""
    bots = SUB0[site] + 1 + rng.choice(SUBS - 2, (20, 40), replace=False)
    beats = np.arange(0, DAY, 60_000)
    c2 = np.repeat(np.arange(20), 40 * len(beats))
    src = np.repeat(bots.ravel(), len(beats))
    start = T0 + np.tile(beats, 800) + rng.integers(0, 1800, len(src))
    n = len(src)
    flood_src = np.repeat(bots[:5].ravel(), 300)
    m = len(flood_src)
    polls = _cloud_polls(rng, site)
    k = len(polls["src"])
    return {
        "start": np.concatenate(
            [start, T0 + DAY // 2 + rng.integers(0, 600_000, m), polls["start"]]
        ),
        "src": np.concatenate([src, flood_src, polls["src"]]),
        "dst": np.concatenate([C2_0 + 1 + c2, np.full(m, VICTIM0 + 7), polls["dst"]]),
        "sport": rng.integers(32768, 61000, n + m + k),
        "dport": np.concatenate([np.where(c2 % 3 == 0, 6667, 23), np.full(m, 80), polls["dport"]]),
        "proto": np.full(n + m + k, 6),
        "packets": np.concatenate([rng.integers(3, 6, n), np.full(m, 100), rng.integers(8, 12, k)]),
        "bytes": np.concatenate(
            [rng.integers(120, 200, n), np.full(m, 4000), rng.integers(900, 1400, k)]
        ),
        "flags": np.concatenate([np.full(n, 0x1B), np.full(m, 0x02), np.full(k, 0x1B)]),
        "bots": bots.ravel(),
    }


def _cloud_polls(rng: np.random.Generator, site: str) -> dict[str, np.ndarray]:
    """Clean devices keeping vendor-cloud channels (2,000 hosts, 8 clouds, 443/8883, every
    300 s): the periodic base rate a real site has, against which the bots' share is lifted."""
    hosts = SUB0[site] + 1 + rng.choice(SUBS - 2, 2000, replace=False)
    beats = np.arange(0, DAY, 300_000)
    src = np.repeat(hosts, len(beats))
    cloud = np.repeat(rng.integers(0, 8, len(hosts)), len(beats))
    return {
        "start": T0 + np.tile(beats, len(hosts)) + rng.integers(0, 9000, len(src)),
        "src": src,
        "dst": CLOUD_0 + 1 + cloud,
        "dport": np.where(cloud % 2 == 0, 443, 8883),
    }


def _table(cols: dict[str, np.ndarray], site: str) -> pa.Table:
    return flows_table(
        start_ms=cols["start"],
        end_ms=cols["start"] + 500,
        src=ipv4_strings(cols["src"].astype(np.uint32)),
        dst=ipv4_strings(cols["dst"].astype(np.uint32)),
        sport=cols["sport"],
        dport=cols["dport"],
        proto=proto_strings(cols["proto"]),
        packets=cols["packets"],
        octets=cols["bytes"],
        tcp_flags=cols["flags"],
        exporter="bench",
        site=site,
    )


def generate(root: Path, rows: int, seed: int = 1) -> int:
    """Write ``rows`` flows (plus the embedded C2 traffic) as Parquet; return rows written."""
    rng = np.random.default_rng(seed)
    fav = {site: _favourites(rng) for site in SITES}
    written = 0
    bots: list[np.ndarray] = []
    for site in SITES:
        part = root / f"site={site}" / "day=2026-11-01"
        part.mkdir(parents=True, exist_ok=True)
        cols = _c2(rng, site)
        bots.append(cols["bots"])
        pq.write_table(_table(cols, site), part / "part-c2.parquet")
        written += pq.read_metadata(part / "part-c2.parquet").num_rows
    k, chunk = 0, max(1, min(CHUNK, (rows - written) // 4))
    while written < rows:
        n = min(chunk, rows - written)
        site = SITES[k % len(SITES)]
        path = root / f"site={site}" / "day=2026-11-01" / f"part-{k:04d}.parquet"
        pq.write_table(_table(_benign(rng, n, site, fav[site]), site), path, compression="zstd")
        written, k = written + n, k + 1
    # The bots, as a telescope would list them (they do not scan in this data, and the
    # detector reports no endpoint without bot evidence).
    infected = ipv4_strings(np.concatenate(bots).astype(np.uint32)).to_pylist()
    _infected_file(root).write_text("\n".join(infected) + "\n")
    return written


def _infected_file(root: Path) -> Path:
    return root.parent / "infected.txt"


_CHILD = """
import json, sys, time
from pathlib import Path
from iotscope.c2 import Window, run_duckdb
import duckdb
con = duckdb.connect()
con.execute("SET memory_limit = '{mem}'")
con.execute("SET preserve_insertion_order = false")
con.execute("SET temp_directory = '{tmp}'")
t = time.perf_counter()
infected = Path(sys.argv[2]).read_text().split()
rows = run_duckdb(Path(sys.argv[1]), infected, Window(), con=con)
elapsed = time.perf_counter() - t
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({{"seconds": elapsed, "peak_rss_mb": hwm / 1024, "candidates": len(rows),
                  "c2_found": sum(1 for r in rows if r["ip"].startswith("203.0.113."))}}))
"""


def run_duckdb_child(root: Path, mem: str = "18GB") -> dict[str, Any]:
    code = _CHILD.format(mem=mem, tmp=root.parent / "duck-spill")
    out = subprocess.run(
        [sys.executable, "-c", code, str(root), str(_infected_file(root))],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the DuckDB run failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline(table: pa.Table) -> tuple[int, float]:
    """The per-record loop: pairs, gaps, endpoints and the scoring terms; (candidates, s)."""
    t = time.perf_counter()
    pairs: dict[tuple, dict[str, Any]] = {}
    for batch in table.to_batches(200_000):
        for r in batch.to_pylist():
            if r["proto"] == "udp" and (r["dport"] in (53, 123) or r["sport"] in (53, 123)):
                continue
            if not (r["dport"] < r["sport"] or r["dport"] < 1024):
                continue
            key = (r["site"], r["src"], r["dst"], r["dport"], r["proto"])
            p = pairs.get(key)
            if p is None:
                p = pairs[key] = {"starts": [], "failed": 0, "bytes": []}
            failed = r["proto"] == "tcp" and (r["tcp_flags"] & 16) == 0
            p["failed"] += failed
            p["bytes"].append(r["bytes"])
            if not failed:
                p["starts"].append(r["start"].timestamp())
    eps: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (site, _src, dst, dport, proto), p in pairs.items():
        e = eps[(site, dst, dport, proto)]
        e["clients"] += 1
        n = len(p["bytes"])
        e["flows"] += n
        e["failed"] += p["failed"]
        starts = sorted(p["starts"])
        if len(starts) >= 4:
            gaps = [b - a for a, b in itertools.pairwise(starts)]
            mean = statistics.fmean(gaps)
            if 20 <= mean <= 1200 and statistics.stdev(gaps) <= 0.25 * mean:
                e["periodic"] += 1
        if n >= 3 and statistics.pstdev(p["bytes"]) <= 0.5 * statistics.fmean(p["bytes"]):
            e["steady"] += 1
    found = 0
    for e in eps.values():
        score = 0.3 * e["periodic"] / e["clients"] + 0.1 * e["steady"] / e["clients"]
        score += 0.1 * (e["periodic"] >= 2) - 0.6 * e["failed"] / e["flows"]
        found += score >= 0.5
    return found, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="5M rows, finishes in < 60 s")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--baseline-rows", type=int, default=None)
    ap.add_argument("--dir", type=Path, default=None, help="where to generate (default: tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the generated Parquet")
    args = ap.parse_args()
    rows = args.rows or (5_000_000 if args.small else 100_000_000)
    base_rows = args.baseline_rows or (500_000 if args.small else 2_000_000)
    work = Path(tempfile.mkdtemp(prefix="bench-c2-", dir=args.dir))
    root = work / "flows"
    try:
        result = _run(root, rows, base_rows)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    _report(result)


def _run(root: Path, rows: int, base_rows: int) -> dict[str, Any]:
    t = time.perf_counter()
    written = generate(root, rows)
    gen_s = time.perf_counter() - t
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    duck = run_duckdb_child(root)
    files = sorted(root.rglob("part-0*.parquet"))
    slice_ = pq.read_table(files[0]).slice(0, base_rows)
    c2 = pq.read_table(next(root.rglob("part-c2.parquet")))
    share = c2.num_rows * base_rows // max(1, written)  # keep the C2 share of the full data
    slice_ = pa.concat_tables([slice_, c2.slice(0, share)])
    found, base_s = baseline(slice_)
    per_row = base_s / slice_.num_rows
    return {
        "rows": written,
        "parquet_bytes": size,
        "generate_s": round(gen_s, 1),
        "duckdb_s": round(duck["seconds"], 1),
        "duckdb_peak_rss_mb": round(duck["peak_rss_mb"]),
        "duckdb_candidates": duck["candidates"],
        "duckdb_c2_found": duck["c2_found"],
        "c2_embedded": 40,
        "baseline_rows": slice_.num_rows,
        "baseline_s": round(base_s, 1),
        "baseline_candidates_on_slice": found,
        "baseline_extrapolated_s": round(per_row * written, 1),
        "ratio_baseline_over_duckdb": round(per_row * written / duck["seconds"], 1),
        "goal_s": 120,
        "goal_met": duck["seconds"] < 120,
        "machine": f"{os.cpu_count()} cores",
        "note": "baseline measured on a slice and extrapolated per row (linear)",
    }


def _report(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"C2 detection over {r['rows']:,} flows ({r['parquet_bytes'] / 1e9:.1f} GB)")
    for col in ("engine", "rows", "seconds", "rows/s", "peak RSS MB", "candidates"):
        t.add_column(col)
    t.add_row(
        "DuckDB (iotscope SQL)",
        f"{r['rows']:,}",
        str(r["duckdb_s"]),
        f"{r['rows'] / r['duckdb_s']:,.0f}",
        str(r["duckdb_peak_rss_mb"]),
        f"{r['duckdb_candidates']} ({r['duckdb_c2_found']}/{r['c2_embedded']} C2)",
    )
    t.add_row(
        "Python per-record loop (slice)",
        f"{r['baseline_rows']:,}",
        str(r["baseline_s"]),
        f"{r['baseline_rows'] / r['baseline_s']:,.0f}",
        "-",
        str(r["baseline_candidates_on_slice"]),
    )
    t.add_row(
        "Python loop, extrapolated",
        f"{r['rows']:,}",
        str(r["baseline_extrapolated_s"]),
        "-",
        "-",
        "-",
    )
    Console().print(t)
    print(
        f"ratio (baseline / DuckDB): {r['ratio_baseline_over_duckdb']}x; "
        f"goal < {r['goal_s']} s: {'met' if r['goal_met'] else 'NOT met'}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(r, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
