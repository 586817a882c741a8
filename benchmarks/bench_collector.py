"""Collector decode rate: iotscope's vectorised NetFlow v9/IPFIX decoder vs a per-record one.

Run: ``.venv/bin/python -m benchmarks.bench_collector [--small] [--flows N] [--no-udp]``

1. Builds ``--flows`` flows (default 1M; ``--small`` 100k) with numpy and encodes them with
   ``iotscope.flows.encode_ipfix`` and ``encode_netflow_v9`` (24 records per packet, template
   every 20 packets), i.e. what a router exports.
2. Decodes each export in a fresh subprocess with ``FlowDecoder`` (columnar, a pyarrow table
   out) and with the baseline below: a straightforward per-record decoder (``struct.unpack``
   of every record into a dict, the way a small Python collector is usually written). Times the
   decode alone (best of 3) and reads the subprocess's peak RSS (``VmHWM``) and its RSS
   before decoding.
3. End to end (unless ``--no-udp``): the asyncio collector on 127.0.0.1 in a subprocess, this
   process sending the IPFIX export to it over UDP paced at ``--rate`` flows/s (default the
   300k goal); flows decoded per second from the first send to the last decoded batch, and
   datagrams lost (loopback drops what the receive buffer cannot hold).
Prints a table and writes ``benchmarks/results/collector.json``. For scale: ipfixcol2 (C)
reports 200-400k flows/s to JSON; the goal here is >= 300k flows/s on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table, ipv4_strings, proto_strings

RESULTS = Path(__file__).resolve().parent / "results" / "collector.json"
T0 = 1_793_491_200_000  # 2026-11-01T00:00Z
REPEATS = 3


# --- input -------------------------------------------------------------------------------


def make_flows(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = T0 + np.sort(rng.integers(0, 3_600_000, n))
    return flows_table(
        start_ms=start,
        end_ms=start + rng.integers(0, 60_000, n),
        src=ipv4_strings(0x64400000 + rng.integers(0, 1 << 20, n)),
        dst=ipv4_strings(0xC6120000 + rng.integers(0, 1 << 16, n)),
        sport=rng.integers(1024, 65536, n),
        dport=rng.choice([23, 80, 443, 53, 2323, 48101], n),
        proto=proto_strings(rng.choice([6, 17, 1], n, p=[0.8, 0.17, 0.03])),
        packets=rng.integers(1, 1000, n),
        octets=rng.integers(40, 1_000_000, n),
        tcp_flags=rng.integers(0, 64, n),
        exporter="192.0.2.254",
        site="bench",
    )


def save_packets(path: Path, packets: list[tuple[int, bytes]]) -> None:
    with path.open("wb") as fh:
        for _, payload in packets:
            fh.write(struct.pack(">I", len(payload)) + payload)


def load_packets(path: Path) -> list[bytes]:
    data, out, off = path.read_bytes(), [], 0
    while off < len(data):
        (length,) = struct.unpack_from(">I", data, off)
        out.append(data[off + 4 : off + 4 + length])
        off += 4 + length
    return out


# --- the baseline: one struct.unpack and one dict per record -----------------------------

_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}
_ADDRESS = {8: "src", 12: "dst"}
_NAMES = {7: "sport", 11: "dport", 4: "proto", 2: "packets", 1: "bytes", 6: "tcp_flags"}
_TIMES = {22: "first", 21: "last", 152: "start", 153: "end"}


def _compile(fields: list[tuple[int, int]]) -> tuple[struct.Struct, list[str]]:
    fmt, names = ">", []
    for ie, length in fields:
        if ie in _ADDRESS and length == 4:
            fmt += "4s"
            names.append(_ADDRESS[ie])
        elif length in _FMT:
            fmt += _FMT[length]
            names.append(_NAMES.get(ie) or _TIMES.get(ie) or f"ie{ie}")
        else:
            fmt += f"{length}x"
    return struct.Struct(fmt), names


def _templates(body: bytes, ipfix: bool) -> list[tuple[int, list[tuple[int, int]]]]:
    out, off = [], 0
    while len(body) - off >= 4:
        tid, count = struct.unpack_from(">HH", body, off)
        off += 4
        fields = []
        for _ in range(count):
            ie, length = struct.unpack_from(">HH", body, off)
            off += 4
            if ipfix and ie & 0x8000:
                off += 4
            fields.append((ie & 0x7FFF, length))
        out.append((tid, fields))
    return out


def _record(values: tuple[Any, ...], names: list[str], base_ms: int) -> dict[str, Any]:
    rec = dict(zip(names, values, strict=True))
    rec["src"] = socket.inet_ntoa(rec["src"])
    rec["dst"] = socket.inet_ntoa(rec["dst"])
    if "first" in rec:
        rec["start"], rec["end"] = base_ms + rec.pop("first"), base_ms + rec.pop("last")
    return rec


def baseline_decode(packets: list[bytes]) -> list[dict[str, Any]]:
    """Per-record NetFlow v9 / IPFIX decoding into dicts (no vectorisation)."""
    templates: dict[tuple[int, int], tuple[struct.Struct, list[str]]] = {}
    flows: list[dict[str, Any]] = []
    for p in packets:
        version = struct.unpack_from(">H", p)[0]
        if version == 9:
            _, _, uptime, secs, _, domain = struct.unpack_from(">HHIIII", p)
            off, base = 20, secs * 1000 - uptime
        else:
            _, _, _, _, domain = struct.unpack_from(">HHIII", p)
            off, base = 16, 0
        while off + 4 <= len(p):
            set_id, length = struct.unpack_from(">HH", p, off)
            body = p[off + 4 : off + length]
            off += max(length, 4)
            if set_id in (0, 2):
                for tid, fields in _templates(body, version == 10):
                    templates[(domain, tid)] = _compile(fields)
            elif set_id >= 256 and (domain, set_id) in templates:
                rec, names = templates[(domain, set_id)]
                for i in range(len(body) // rec.size):
                    flows.append(_record(rec.unpack_from(body, i * rec.size), names, base))
    return flows


# --- workers (each in a fresh subprocess) ------------------------------------------------


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _decode_vectorised(packets: list[bytes]) -> int:
    from iotscope.flows._decoder import FlowDecoder

    decoder = FlowDecoder("bench")
    for p in packets:
        decoder.feed(p, "192.0.2.254")
    return int(decoder.finish().num_rows)


def worker_decode(kind: str, path: Path) -> dict[str, Any]:
    packets = load_packets(path)
    warm = _decode_vectorised if kind == "vectorised" else baseline_decode
    warm(packets[:40])  # first-call costs (imports, pyarrow kernels) are not the rate
    rss_before = _status("VmRSS")
    times, flows = [], 0
    for _ in range(REPEATS):  # best of REPEATS: the machine is shared
        started = time.perf_counter()
        flows = (
            _decode_vectorised(packets) if kind == "vectorised" else len(baseline_decode(packets))
        )
        times.append(time.perf_counter() - started)
    seconds = min(times)
    return {
        "flows": flows,
        "seconds": seconds,
        "peak_rss": _status("VmHWM"),
        "rss_before": rss_before,
    }


async def _udp_collect(timeout: float) -> dict[str, Any]:
    """Collect on 127.0.0.1 until SIGTERM; note when the last batch of flows was decoded."""
    import signal

    from iotscope.flows._collector import CollectorOptions, collect

    flows, last = [0], [0.0]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def sink(table: pa.Table) -> None:
        if table.num_rows:
            flows[0] += table.num_rows
            last[0] = time.time()

    def ready(addr: tuple[str, int]) -> None:
        print(addr[1], flush=True)

    options = CollectorOptions(batch_flows=24_000, batch_seconds=0.05, duration=timeout)
    counts = await collect(
        "127.0.0.1:0", site="bench", sink=sink, options=options, ready=ready, stop=stop
    )
    return {
        "flows": counts.flows,
        "packets": counts.packets,
        "malformed": counts.malformed,
        "last_flow_wall": last[0],
        "peak_rss": _status("VmHWM"),
    }


def worker_udp(timeout: float) -> dict[str, Any]:
    return asyncio.run(_udp_collect(timeout))


# --- the run -----------------------------------------------------------------------------


def _subprocess(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_collector", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_udp(
    packets: list[tuple[int, bytes]], rate: float, timeout: float = 120.0
) -> dict[str, Any]:
    """Send the export to a collector subprocess on 127.0.0.1, paced at ``rate`` flows/s."""
    cmd = [sys.executable, "-m", "benchmarks.bench_collector", "--worker", "udp"]
    proc = subprocess.Popen([*cmd, "--timeout", str(timeout)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    per_packet = 24 / rate
    started, started_wall = time.perf_counter(), time.time()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, (_, payload) in enumerate(packets):
            ahead = started + i * per_packet - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            s.sendto(payload, ("127.0.0.1", port))
    send_seconds = time.perf_counter() - started
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=timeout + 30)
    result = dict(json.loads(out.strip().splitlines()[-1]))
    result.update(target_rate=rate, sent=len(packets), send_seconds=send_seconds)
    result["seconds"] = result["last_flow_wall"] - started_wall  # first send -> last decoded
    result["loss"] = 1 - result["packets"] / len(packets)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="100k flows (< 60 s)")
    parser.add_argument("--flows", type=int, default=None)
    parser.add_argument("--no-udp", action="store_true")
    parser.add_argument(
        "--worker", choices=["vectorised", "baseline", "udp"], help=argparse.SUPPRESS
    )
    parser.add_argument("--packets", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=300_000, help="UDP send rate, flows/s")
    parser.add_argument("--timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "udp":
        print(json.dumps(worker_udp(args.timeout)))
        return
    if args.worker:
        print(json.dumps(worker_decode(args.worker, args.packets)))
        return
    run(
        args.flows or (100_000 if args.small else 1_000_000),
        udp=args.rate if not args.no_udp else 0,
    )


def run(n: int, *, udp: float) -> None:
    table = make_flows(n)
    results: dict[str, Any] = {
        "flows": n,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, encode in (("ipfix", encode_ipfix), ("netflow_v9", encode_netflow_v9)):
            packets = encode(table)
            path = Path(tmp) / f"{name}.bin"
            save_packets(path, packets)
            vec = _subprocess(["--worker", "vectorised", "--packets", str(path)])
            base = _subprocess(["--worker", "baseline", "--packets", str(path)])
            assert vec["flows"] == base["flows"] == n, (vec, base)
            entry = {
                "packets": len(packets),
                "vectorised": vec,
                "baseline": base,
                "speedup": base["seconds"] / vec["seconds"],
            }
            results[name] = entry
            for label, r in (
                ("iotscope (vectorised)", vec),
                ("baseline (struct per record)", base),
            ):
                rows.append(
                    (
                        name,
                        label,
                        r["flows"] / r["seconds"],
                        r["peak_rss"],
                        r["peak_rss"] - r["rss_before"],
                    )
                )
            if udp and name == "ipfix":
                results["udp_ipfix"] = run_udp(packets, udp)
    _print(rows, results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def _print(rows: list[tuple[str, str, float, int, int]], results: dict[str, Any]) -> None:
    mib = 1 << 20
    print(f"decode of {results['flows']:,} flows (24 records/packet), one core each")
    print(f"{'export':<11} {'decoder':<30} {'flows/s':>12} {'peak RSS MiB':>13} {'decode MiB':>11}")
    for fmt, label, rate, peak, extra in rows:
        print(f"{fmt:<11} {label:<30} {rate:>12,.0f} {peak / mib:>13.0f} {extra / mib:>11.0f}")
    for fmt in ("ipfix", "netflow_v9"):
        print(f"{fmt}: vectorised is {results[fmt]['speedup']:.1f}x the per-record baseline")
    if "udp_ipfix" in results:
        u = results["udp_ipfix"]
        print(
            f"UDP 127.0.0.1 end to end (IPFIX, sent at {u['target_rate']:,.0f} flows/s): "
            f"{u['flows']:,} flows decoded from {u['packets']:,}/{u['sent']:,} datagrams "
            f"({u['loss']:.1%} lost) in {u['seconds']:.2f} s -> "
            f"{u['flows'] / max(u['seconds'], 1e-9):,.0f} flows/s"
        )


if __name__ == "__main__":
    main()
