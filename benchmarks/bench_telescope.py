"""Telescope ingest throughput and memory against a plain dpkt loop, in one run.

Run: ``.venv/bin/python -m benchmarks.bench_telescope [--small]``.

The capture: a synthetic darknet pcap (5M packets; ``--small``: 500k) written with
``iotscope.pcap.write_interleaved``: Mirai bots (SYN, seq == dst, port 23 and every tenth
2323), IoT scanners without the fingerprint (SYN with MSS option to IoT ports), ZMap-like and
masscan-like research scanners, SYN-ACK and RST backscatter, and scattered other sources, in
time order, with mixed packet lengths (54, 58, 74 bytes). Sources lie in 100.64.0.0/10
(RFC 6598) and the darknet is 198.18.0.0/15 (RFC 2544 benchmarking range): addresses inside
a file, never contacted.

- ``iotscope``: ``iotscope.telescope.ingest`` on the whole file.
- ``dpkt``: ``dpkt.pcap.Reader`` + ``dpkt.ethernet.Ethernet`` parsing + per-source dict
  accumulation of the same figures (packets, distinct targets, port counts (source port for
  TCP replies), SYN / seq==dst /
  reply / ZMap / masscan / IoT-port counts, the same classification rules). dpkt is slow, so it
  runs on the first ``--dpkt-packets`` packets (default 500k; 100k with ``--small``) and its
  rate is extrapolated per packet (stated in the output).

The same capture is also converted to pcapng with Wireshark's ``editcap -F pcapng`` (when
installed) and ingested again; it must give the same sightings.

Each runs in its own subprocess (one core each, one after the other), reporting wall time,
CPU time and peak RSS (``VmHWM``; it includes the pages of the memory-mapped capture that were
touched, which the OS can drop at will). Both tools are also run on the same prefix and must
agree source by source (packets, targets, top ports, Mirai share, class); the run fails if
not. Writes benchmarks/results/telescope.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from iotscope.pcap import ipv4_tcp_batch, iter_frames, with_ethernet, write_interleaved

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "telescope.json"
SRC_BASE, DARK_BASE, DARK_SIZE = 0x64400000, 0xC6120000, 1 << 17
T0 = 1_790_000_000 * 10**9
IOT_PORTS = (23, 2323, 80, 8080, 8081, 5555, 7547, 37215, 52869)
MSS = b"\x02\x04\x05\xb4"
# kind: (share of packets, sources)
MIX = {
    "mirai": (0.55, 3000),
    "iot": (0.15, 1500),
    "zmap": (0.07, 10),
    "masscan": (0.03, 10),
    "synack": (0.08, 300),
    "rst": (0.05, 300),
    "other": (0.07, 8000),
}


# --- the capture ----------------------------------------------------------------------------


def _group(kind: str, n: int, first_src: int, sources: int, rng: np.random.Generator) -> Any:
    src = first_src + rng.integers(0, sources, n)
    dst = DARK_BASE + rng.integers(0, DARK_SIZE, n)
    sport = rng.integers(1024, 65536, n)
    seq = rng.integers(0, 2**32, n)
    ip_id = rng.integers(0, 65536, n)
    flags, options = 0x02, b""
    if kind == "mirai":
        dport, seq = np.where(rng.random(n) < 0.1, 2323, 23), dst
    elif kind == "iot":
        dport, options = rng.choice(IOT_PORTS, n), MSS
    elif kind == "zmap":
        dport, ip_id = rng.integers(1, 65536, n), np.full(n, 54321)
    elif kind == "masscan":
        dport = rng.integers(1, 65536, n)
        ip_id = (dst ^ dport ^ seq) & 0xFFFF
    elif kind in ("synack", "rst"):
        sport, dport = rng.choice([80, 443, 53], n), rng.integers(1024, 65536, n)
        flags, options = (
            (0x12, MSS + b"\x04\x02\x08\x0a" + bytes(10))
            if kind == "synack"
            else (
                0x14,
                b"",
            )
        )
    else:
        dport, options = rng.integers(1, 65536, n), MSS
    rows = ipv4_tcp_batch(
        src, dst, sport, dport, seq, flags, 64, 14600, ip_id=ip_id, options=options
    )
    ts = T0 + rng.integers(0, 3600 * 10**9, n)
    return ts, with_ethernet(rows)


def generate(path: Path, packets: int, seed: int = 7) -> dict[str, int]:
    """Write the synthetic darknet capture; return packets per kind."""
    rng = np.random.default_rng(seed)
    groups, counts, first_src = [], {}, SRC_BASE
    for kind, (share, sources) in MIX.items():
        n = int(packets * share)
        groups.append(_group(kind, n, first_src, sources, rng))
        counts[kind] = n
        first_src += sources
    write_interleaved(path, groups)
    return counts


def prefix_file(path: Path, packets: int, out: Path) -> int:
    """The first ``packets`` records of ``path`` as their own capture; returns the count."""
    raw = path.read_bytes()
    for frames in iter_frames(path, batch=packets):
        cut = int(frames.offsets[-1] + frames.caplen[-1]) if len(frames) else 24
        out.write_bytes(raw[:cut])
        return len(frames)
    return 0


# --- the two contenders (run in child processes) --------------------------------------------


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_iotscope(path: Path) -> dict[str, Any]:
    from iotscope.telescope import ingest

    wall, cpu = time.perf_counter(), time.process_time()
    result = ingest(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    summary = {
        str(s.src): [
            s.packets,
            s.targets,
            {str(k): v for k, v in s.ports.items()},
            round(s.mirai_fingerprint, 9),
            s.classification,
        ]
        for s in result.sightings
    }
    return {
        "packets": result.stats.frames,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "sources": summary,
    }


class _Source:
    __slots__ = ("counts", "packets", "ports", "targets")

    def __init__(self) -> None:
        self.packets = 0
        self.targets: set[bytes] = set()
        self.ports: Counter[int] = Counter()
        self.counts = [0, 0, 0, 0, 0, 0]  # syn, mirai, reply, zmap, masscan, iot


def _dpkt_packet(buf: bytes, stats: dict[bytes, _Source]) -> None:
    import dpkt

    ip = dpkt.ethernet.Ethernet(buf).data
    if not isinstance(ip, dpkt.ip.IP):
        return
    s = stats.get(ip.src)
    if s is None:
        s = stats[ip.src] = _Source()
    s.packets += 1
    s.targets.add(ip.dst)
    s.counts[3] += ip.id == 54321
    tcp = ip.data
    if isinstance(tcp, dpkt.tcp.TCP):
        syn = tcp.flags & 0x17 == 0x02
        reply = (tcp.flags & 0x12 == 0x12) or bool(tcp.flags & 0x04)
        s.ports[tcp.sport if reply else tcp.dport] += 1
        dst = int.from_bytes(ip.dst, "big")
        s.counts[0] += syn
        s.counts[1] += syn and tcp.seq == dst
        s.counts[2] += reply
        s.counts[4] += syn and ip.id == (dst ^ tcp.dport ^ tcp.seq) & 0xFFFF
        s.counts[5] += syn and tcp.dport in IOT_PORTS


def _dpkt_class(s: _Source) -> str:
    syn, mirai, reply, zmap, masscan, iot = s.counts
    if reply >= 0.5 * s.packets:
        return "backscatter"
    if syn and mirai / syn >= 0.5:
        return "mirai"
    if zmap / s.packets >= 0.5 or (syn and masscan / syn >= 0.5):
        return "research"
    if syn and iot / syn >= 0.5:
        return "iot"
    return "other"


def run_dpkt(path: Path) -> dict[str, Any]:
    import ipaddress

    import dpkt

    wall, cpu = time.perf_counter(), time.process_time()
    stats: dict[bytes, _Source] = {}
    n = 0
    with path.open("rb") as fh:
        for _ts, buf in dpkt.pcap.Reader(fh):
            n += 1
            _dpkt_packet(buf, stats)
    summary = {}
    for src, s in stats.items():
        top = sorted(s.ports.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        share = s.counts[1] / s.counts[0] if s.counts[0] else 0.0
        summary[str(ipaddress.IPv4Address(src))] = [
            s.packets,
            len(s.targets),
            {str(k): v for k, v in top},
            round(share, 9),
            _dpkt_class(s),
        ]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "packets": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "sources": summary,
    }


def _child(tool: str, path: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_telescope", "--child", tool, str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return dict(json.loads(out))


# --- the report -----------------------------------------------------------------------------


def _rate(r: dict[str, Any]) -> tuple[float, float]:
    return r["packets"] / r["wall_s"], r["packets"] / r["cpu_s"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="500k packets (finishes in < 60 s)")
    ap.add_argument("--packets", type=int, default=None)
    ap.add_argument("--dpkt-packets", type=int, default=None)
    ap.add_argument("--child", nargs=2, metavar=("TOOL", "PCAP"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run = run_iotscope if args.child[0] == "iotscope" else run_dpkt
        print(json.dumps(run(Path(args.child[1]))))
        return 0
    packets = args.packets or (500_000 if args.small else 5_000_000)
    dpkt_packets = min(packets, args.dpkt_packets or (100_000 if args.small else 500_000))
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-telescope-") as tmp:
        full, head = Path(tmp) / "darknet.pcap", Path(tmp) / "head.pcap"
        t = time.perf_counter()
        mix = generate(full, packets)
        gen_s = time.perf_counter() - t
        prefix_file(full, dpkt_packets, head)
        size_mb = full.stat().st_size / 2**20
        console.print(
            f"capture: {sum(mix.values()):,} packets, {size_mb:.0f} MiB, "
            f"written in {gen_s:.1f} s; dpkt runs on the first {dpkt_packets:,}"
        )
        ours = _child("iotscope", full)
        ours_ng = _pcapng_run(full, Path(tmp) / "darknet.pcapng")
        ours_head = _child("iotscope", head)
        base = _child("dpkt", head)
    agree = ours_head["sources"] == base["sources"]
    if ours_ng is not None:
        agree &= ours_ng.pop("sources") == ours["sources"]
    return _report(console, mix, ours, ours_ng, ours_head, base, agree, size_mb)


def _pcapng_run(pcap: Path, out: Path) -> dict[str, Any] | None:
    """iotscope on the same capture as pcapng (converted by Wireshark's editcap), if present."""
    editcap = shutil.which("editcap")
    if editcap is None:
        return None
    subprocess.run([editcap, "-F", "pcapng", str(pcap), str(out)], check=True, timeout=600)
    return _child("iotscope", out)


def _report(
    console: Console,
    mix: dict[str, int],
    ours: dict[str, Any],
    ours_ng: dict[str, Any] | None,
    ours_head: dict[str, Any],
    base: dict[str, Any],
    agree: bool,
    size_mb: float,
) -> int:
    kinds = Counter(v[4] for v in ours["sources"].values())
    rows = [
        ("iotscope (whole file)", ours),
        *([("iotscope (same, pcapng)", ours_ng)] if ours_ng else []),
        ("iotscope (dpkt's prefix)", ours_head),
        ("dpkt loop (prefix)", base),
    ]
    table = Table(title="telescope ingest: iotscope vs dpkt")
    for col in ("run", "packets", "wall s", "cpu s", "pkt/s wall", "pkt/s cpu", "peak RSS MiB"):
        table.add_column(col)
    for name, r in rows:
        wall, cpu = _rate(r)
        table.add_row(
            name,
            f"{r['packets']:,}",
            f"{r['wall_s']:.2f}",
            f"{r['cpu_s']:.2f}",
            f"{wall:,.0f}",
            f"{cpu:,.0f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    console.print(table)
    ratio_cpu = _rate(ours)[1] / _rate(base)[1]
    ratio_wall = _rate(ours)[0] / _rate(base)[0]
    console.print(
        f"speed-up per packet (whole-file iotscope vs dpkt prefix, extrapolated): "
        f"{ratio_cpu:.1f}x CPU, {ratio_wall:.1f}x wall; all agree: {agree}; "
        f"classes: {dict(kinds)}"
    )
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "capture": {"packets": sum(mix.values()), "mib": round(size_mb, 1), "mix": mix},
        "iotscope": {k: v for k, v in ours.items() if k != "sources"},
        "iotscope_pcapng": ours_ng,
        "iotscope_prefix": {k: v for k, v in ours_head.items() if k != "sources"},
        "dpkt_prefix": {k: v for k, v in base.items() if k != "sources"},
        "iotscope_pkts_per_s_cpu": _rate(ours)[1],
        "iotscope_pkts_per_s_wall": _rate(ours)[0],
        "dpkt_pkts_per_s_cpu": _rate(base)[1],
        "ratio_cpu": ratio_cpu,
        "ratio_wall": ratio_wall,
        "agree": agree,
        "sources": len(ours["sources"]),
        "classes": dict(kinds),
        "note": "dpkt ran on a prefix of the capture; its rate is per packet, extrapolated",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
