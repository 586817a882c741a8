"""Collector: decode rate against a per-record decoder, and UDP end to end against nfcapd.

Run: ``.venv/bin/python -m benchmarks.bench_collector [--small] [--flows N] [--no-udp]
[--rates 100000,300000,0] [--udp-flows N] [--before-src DIR]``

1. Builds ``--flows`` flows (default 1M; ``--small`` 100k) with numpy and encodes them with
   ``iotscope.flows.encode_ipfix`` and ``encode_netflow_v9`` (24 records per packet, template
   every 20 packets), i.e. what a router exports.
2. Decodes each export in a fresh subprocess with ``FlowDecoder`` (columnar, a pyarrow table
   out) and with the baseline below: a straightforward per-record decoder (``struct.unpack``
   of every record into a dict, the way a small Python collector is usually written). Times the
   decode alone (best of 3) and reads the subprocess's peak RSS (``VmHWM``) and its RSS
   before decoding.
3. End to end over UDP on 127.0.0.1 (unless ``--no-udp``): ``--udp-flows`` flows (default 1M)
   encoded as IPFIX (24 records per datagram) are sent by a separate sender process, paced at
   each of ``--rates`` flows/s (0: as fast as the sender can), first to ``iotscope flows
   collect`` (the real command: Parquet buckets, compaction, sequence state), then, with the
   same sender, file and pace, to nfdump's ``nfcapd`` (Debian's nfdump package). Both ask for a
   32 MiB socket receive buffer; what each got is recorded (``ss``: iotscope, as root, forces
   it with SO_RCVBUFFORCE; nfcapd's SO_RCVBUF is capped by net.core.rmem_max). So the unpaced
   and >= 1 M flows/s runs are repeated with iotscope asking for 4 MiB, i.e. granted nfcapd's
   buffer (``iotscope_same_buffer``), and, with ``--before-src DIR`` (the ``src`` of an older
   checkout), with that older collector (``iotscope_before``). Loss is counted on what each
   stored: for iotscope the rows in its Parquet dataset after it stopped (and, as
   cross-checks, the lost flows its IPFIX sequence tracking reports and the datagrams its
   receiver counted as dropped by its ring or by the kernel); for nfcapd the ``Flows:`` of
   ``nfdump -r FILE -I`` over the files it wrote (and its own ``Sequence failures``, and the
   kernel's drops on its socket). flows/s = stored flows / sending time; CPU seconds are each
   receiver's whole life (``wait4``; iotscope's includes its receiver process, which it reaps),
   start-up included; peak RSS is VmHWM, read until exit: iotscope's collector process and,
   separately, its receiver process (the ring's pages are resident in both).
   iotscope's stdout is a terminal (a pty), so it keeps no JSON Lines copy of the flows.
   The machine is shared with other jobs: figures vary from run to run.
Prints a table and writes ``benchmarks/results/collector.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pty
import re
import shutil
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

from iotscope.flows import _replay as replay
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
    packets = replay.load(path)
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


def _queued_socket(packets: list[bytes]) -> socket.socket:
    """A non-blocking socket on 127.0.0.1 with every datagram of ``packets`` waiting in it."""
    from iotscope.flows._collector import _socket

    sock = _socket("127.0.0.1", 0, 512 << 20)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for p in packets:
            tx.sendto(p, sock.getsockname())
    sock.setblocking(False)
    return sock


def _read_dry(sock: socket.socket, counter: list[int]) -> None:
    buffer = bytearray(65_535)
    while True:
        try:
            sock.recvfrom_into(buffer)
        except BlockingIOError:
            return
        counter[0] += 1


def worker_profile(path: Path) -> dict[str, Any]:
    """Where a collector's time goes, in µs per datagram of 24 flows (best of REPEATS), on
    20,000 queued datagrams: the socket read alone, the receiver process's loop, a reading
    thread while the main thread decodes (the GIL shared), decoding (``feed``: per datagram,
    ``drain``: columnar) and writing bucket parts (``BucketWriter.write``, 50,000 flows a
    batch)."""
    import threading

    from iotscope.flows._decoder import FlowDecoder
    from iotscope.flows._receiver import PUBLISHED, _Receiving
    from iotscope.flows._rolling import BucketWriter

    packets = replay.load(path)[:20_000]
    n, out = len(packets), {"datagrams": float(len(packets))}

    def best(run: Any) -> float:
        return min(run() for _ in range(REPEATS)) / n * 1e6

    def socket_read() -> float:
        sock, count = _queued_socket(packets), [0]
        started = time.perf_counter()
        _read_dry(sock, count)
        sock.close()
        assert count[0] == n
        return time.perf_counter() - started

    def receiver_loop() -> float:
        sock = _queued_socket(packets)
        publish_r, publish_w = os.pipe()
        release_r, release_w = os.pipe()
        for fd in (publish_w, release_r):
            os.set_blocking(fd, False)
        receiving = _Receiving(sock, memoryview(bytearray(128 << 20)), publish_w, release_r)
        receiving.idle = lambda: setattr(receiving, "closed", True)  # type: ignore[method-assign]
        started = time.perf_counter()
        receiving.run()
        elapsed = time.perf_counter() - started
        assert receiving.received == n and len(os.read(publish_r, 1 << 20)) % PUBLISHED.size == 0
        for fd in (publish_r, publish_w, release_r, release_w):
            os.close(fd)
        sock.close()
        return elapsed

    out["socket_read_us"] = best(socket_read)
    out["receiver_loop_us"] = best(receiver_loop)
    sock, count = _queued_socket(packets), [0]
    reader = threading.Thread(target=_read_dry, args=(sock, count))
    decoder, fed = FlowDecoder("bench"), 0
    started = time.perf_counter()
    reader.start()
    while reader.is_alive():
        decoder.feed(packets[fed % n], "192.0.2.254")
        fed += 1
    elapsed = time.perf_counter() - started
    sock.close()
    out["thread_read_while_decoding_us"] = elapsed / count[0] * 1e6
    out["decoded_meanwhile"] = float(fed)

    decoder = FlowDecoder("bench")
    started = time.perf_counter()
    for p in packets:
        decoder.feed(p, "192.0.2.254")
    out["feed_us"] = (time.perf_counter() - started) / n * 1e6
    started = time.perf_counter()
    table = decoder.flush()
    out["drain_us"] = (time.perf_counter() - started) / n * 1e6
    with tempfile.TemporaryDirectory() as tmp:
        writer = BucketWriter(Path(tmp))
        started = time.perf_counter()
        for offset in range(0, table.num_rows, 50_000):
            writer.write(table.slice(offset, 50_000))
        out["write_us"] = (time.perf_counter() - started) / n * 1e6
    return out


def worker_send(path: Path, port: int, rate: float) -> dict[str, Any]:
    """The sender (its own process): every datagram of ``path`` to 127.0.0.1:``port``, paced
    at ``rate`` flows/s (24 per datagram; 0: as fast as it can)."""
    return dict(replay.send(replay.load(path), port, rate / 24))


def _send(path: Path, port: int, rate: float) -> dict[str, Any]:
    return _subprocess(["--worker", "send", "--packets", str(path), "--port", str(port),
                        "--rate", str(rate)])  # fmt: skip


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hwm(pid: int) -> int:
    """Peak RSS of ``pid`` since its exec (VmHWM; wait4's ru_maxrss would count the memory the
    child shared with this process before exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _stop(proc: subprocess.Popen[str]) -> dict[str, float]:
    """SIGTERM, then reap the receiver: its whole-life CPU seconds (wait4, with the children it
    reaped) and peak RSS (VmHWM, read before the signal and every 20 ms until it exits), its
    own and its child processes' (iotscope's receiver)."""
    peak = _hwm(proc.pid)  # before the signal: a fast receiver is a zombie (no VmHWM) at once
    children = {c: _hwm(c) for c in _children(proc.pid)}
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        peak = max(peak, _hwm(proc.pid))
        for c in children:
            children[c] = max(children[c], _hwm(c))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return {
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss": peak,
                "child_peak_rss": sum(children.values()),
            }
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    return {"cpu_seconds": float("nan"), "peak_rss": 0, "child_peak_rss": 0}


def _socket_memory(port: int) -> dict[str, int]:
    """The receive buffer granted (``rb``) and the kernel's drops (``d``) of the UDP socket on
    127.0.0.1:``port``, from ``ss -m``."""
    out = subprocess.run(["ss", "-u", "-a", "-m", "-n", "-H", f"sport = :{port}"],
                         capture_output=True, text=True).stdout  # fmt: skip
    found = re.search(r"skmem:\(([^)]*)\)", out)
    if not found:
        return {}
    fields = dict(re.findall(r"([a-z]+)(\d+)", found.group(1)))
    return {"receive_buffer": int(fields.get("rb", 0)), "socket_drops": int(fields.get("d", 0))}


def run_iotscope(
    path: Path,
    flows: int,
    rate: float,
    home: Path,
    *,
    buffer_mib: int = 32,
    src: Path | None = None,
) -> dict[str, Any]:
    """``iotscope flows collect`` (Parquet, buckets, compaction, sequence state) receiving the
    export from a sender process; flows counted in the Parquet dataset afterwards. ``src``: run
    the collector of another checkout (its ``src`` directory) instead of this one."""
    from iotscope.flows import read_flows
    from iotscope.flows._state import load_state, merged_sequences

    port = _free_port()
    env = {**os.environ, "IOTSCOPE_HOME": str(home)}
    cmd = [sys.executable, "-m", "iotscope", "flows", "collect", "--listen", f"127.0.0.1:{port}",
           "--site", "bench", "--batch-seconds", "1"]  # fmt: skip
    if src is None:
        cmd += ["--receive-buffer-mib", str(buffer_mib)]
    else:
        env["PYTHONPATH"] = str(src)
    # stdout on a terminal (a pty): no JSON Lines copy of every flow, Parquet only, as nfcapd
    # writes only its own files
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=slave, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    assert proc.stderr is not None
    assert "listening on" in proc.stderr.readline()
    sent = _send(path, port, rate)
    _drain(port)
    socket_memory = _socket_memory(port)
    usage = _stop(proc)
    os.close(master)
    stored = read_flows(home / "flows", site="bench").num_rows
    seq_lost = sum(d.lost for _, d in merged_sequences(home / "flows", "bench"))
    receiver = load_state(home / "flows", "bench").get("receiver")
    usage["receiver_peak_rss"] = usage.pop("child_peak_rss")
    return (
        _result(sent, flows, stored, rate)
        | usage
        | {"sequence_lost_flows": seq_lost, "socket": socket_memory, "receiver": receiver}
    )


def run_nfcapd(path: Path, flows: int, rate: float, out: Path) -> dict[str, Any]:
    """nfdump's nfcapd receiving the same export at the same pace, with the same 32 MiB socket
    buffer; flows counted afterwards with ``nfdump -r FILE -I``."""
    out.mkdir(parents=True)
    port = _free_port()
    cmd = ["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", str(out), "-t", "3600",
           "-B", str(32 << 20)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1.0)
    sent = _send(path, port, rate)
    _drain(port)
    socket_memory = _socket_memory(port)
    usage = _stop(proc)
    usage.pop("child_peak_rss")
    stats = _nfdump_stats(out)
    return (
        _result(sent, flows, stats.get("flows", 0), rate)
        | usage
        | {"sequence_failures": stats.get("sequence failures", 0), "socket": socket_memory}
    )


def _nfdump_stats(out: Path) -> dict[str, int]:
    files = sorted(p for p in out.glob("nfcapd.*") if "current" not in p.name)
    stats: dict[str, int] = {}
    for f in files:
        info = subprocess.run(["nfdump", "-r", str(f), "-I"], capture_output=True, text=True)
        for line in info.stdout.splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("flows", "sequence failures") and value.strip().isdigit():
                stats[key] = stats.get(key, 0) + int(value)
    return stats


def _rx_queue(port: int) -> int:
    """Bytes waiting in the receive queue of the UDP socket bound to 127.0.0.1:``port``."""
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}":
            return int(fields[4].split(":")[1], 16)
    return 0


def _drain(port: int, settle: float = 1.5, limit: float = 120.0) -> None:
    """Wait until the receiver has read its socket dry, then ``settle`` for its last write."""
    deadline = time.monotonic() + limit
    while _rx_queue(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(settle)


def _result(sent: dict[str, Any], flows: int, stored: int, rate: float) -> dict[str, Any]:
    return {
        "target_rate": rate or None,
        "sent_flows": flows,
        "sent_datagrams": sent["sent"],
        "send_seconds": sent["seconds"],
        "send_rate": flows / sent["seconds"],
        "stored_flows": stored,
        "loss": 1 - stored / flows,
        "stored_per_second_of_sending": stored / sent["seconds"],
    }


# --- the run -----------------------------------------------------------------------------


def _receive_buffer() -> dict[str, int]:
    """What a 32 MiB receive buffer request gets here (net.core.rmem_max caps it unless the
    process may use SO_RCVBUFFORCE); the same request is made by both receivers."""
    from iotscope.flows._collector import _socket

    sock = _socket("127.0.0.1", 0, 32 << 20)
    try:
        effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    finally:
        sock.close()
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    return {"requested": 32 << 20, "effective": effective, "rmem_max": rmem_max}


def run_udp(
    tmp: Path, flows: int, rates: list[float], before: Path | None = None
) -> list[dict[str, Any]]:
    """Each rate: the same export, from a sender process, to iotscope then to nfcapd; for bursts
    (unpaced or 1 M flows/s and more) also to iotscope granted nfcapd's buffer; and to the
    ``before`` collector if given."""
    path = tmp / "udp-ipfix.bin"
    replay.save(path, (p for _, p in encode_ipfix(make_flows(flows, seed=11))))
    have_nfcapd = shutil.which("nfcapd") is not None and shutil.which("nfdump") is not None
    out: list[dict[str, Any]] = [{"receive_buffer": _receive_buffer()}]
    for i, rate in enumerate(rates):
        row: dict[str, Any] = {"rate": rate or None}
        row["iotscope"] = run_iotscope(path, flows, rate, tmp / f"home-{i}")
        row["nfcapd"] = run_nfcapd(path, flows, rate, tmp / f"nfcapd-{i}") if have_nfcapd else None
        if not rate or rate >= 1_000_000:  # a burst: is the bigger buffer what saves it?
            row["iotscope_same_buffer"] = run_iotscope(
                path, flows, rate, tmp / f"home-{i}-4mib", buffer_mib=4
            )
        if before is not None:
            row["iotscope_before"] = run_iotscope(
                path, flows, rate, tmp / f"home-{i}-before", src=before
            )
        out.append(row)
    return out


def _subprocess(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_collector", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="100k flows (< 60 s)")
    parser.add_argument("--flows", type=int, default=None)
    parser.add_argument("--no-udp", action="store_true")
    parser.add_argument(
        "--worker", choices=["vectorised", "baseline", "send", "profile"], help=argparse.SUPPRESS
    )
    parser.add_argument("--packets", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--rates",
        default="100000,300000,1300000,0",
        help="UDP send rates, flows/s (0: unpaced; 1.3 M was the unpaced sender's rate once)",
    )
    parser.add_argument("--udp-flows", type=int, default=1_000_000, help="flows per UDP run")
    parser.add_argument(
        "--before-src", type=Path, help="also run the collector of this older checkout's src/"
    )
    args = parser.parse_args()
    if args.worker == "send":
        print(json.dumps(worker_send(args.packets, args.port, args.rate)))
        return
    if args.worker == "profile":
        print(json.dumps(worker_profile(args.packets)))
        return
    if args.worker:
        print(json.dumps(worker_decode(args.worker, args.packets)))
        return
    rates = [] if args.no_udp else [float(r) for r in args.rates.split(",")]
    run(
        args.flows or (100_000 if args.small else 1_000_000),
        rates=rates,
        udp_flows=100_000 if args.small else args.udp_flows,
        before=args.before_src,
    )


def run(n: int, *, rates: list[float], udp_flows: int, before: Path | None = None) -> None:
    table = make_flows(n)
    results: dict[str, Any] = {
        "flows": n,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "note": "2 cores shared with other jobs (other helpers' tests and benchmarks): "
        "figures vary from run to run",
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, encode in (("ipfix", encode_ipfix), ("netflow_v9", encode_netflow_v9)):
            packets = encode(table)
            path = Path(tmp) / f"{name}.bin"
            replay.save(path, (p for _, p in packets))
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
        results["where_time_goes"] = _subprocess(
            ["--worker", "profile", "--packets", str(Path(tmp) / "ipfix.bin")]
        )
        if rates:
            results["udp_ipfix"] = run_udp(Path(tmp), udp_flows, rates, before)
            results["load_average_at_end"] = os.getloadavg()
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
    where = results.get("where_time_goes")
    if where:
        print(
            "µs per datagram (24 flows): socket read {socket_read_us:.1f}, receiver loop "
            "{receiver_loop_us:.1f}, a thread reading while the main thread decodes "
            "{thread_read_while_decoding_us:.1f}, feed {feed_us:.1f}, drain {drain_us:.1f}, "
            "write {write_us:.1f}".format(**where)
        )
    for run_ in results.get("udp_ipfix", []):
        if "receive_buffer" in run_:
            buf = run_["receive_buffer"]
            print(f"socket receive buffer: asked 32 MiB, got {buf['effective'] >> 20} MiB")
            continue
        for tool in ("iotscope", "iotscope_same_buffer", "iotscope_before", "nfcapd"):
            r = run_.get(tool)
            if r is not None:
                print(_udp_line(tool, r))


def _udp_line(tool: str, r: dict[str, Any]) -> str:
    mib = 1 << 20
    pace = f"{r['target_rate']:,.0f}/s" if r["target_rate"] else "unpaced"
    rss = f"{r['peak_rss'] / mib:.0f}"
    if r.get("receiver_peak_rss"):
        rss += f" + receiver {r['receiver_peak_rss'] / mib:.0f}"
    buffer = r.get("socket", {}).get("receive_buffer", 0) / mib
    drops = ""
    if r.get("receiver"):
        drops = f", ring drops {r['receiver']['ring_drops']}"
    if "socket_drops" in r.get("socket", {}):
        drops += f", kernel drops {r['socket']['socket_drops']}"
    return (
        f"UDP IPFIX {pace:>10} (sent {r['send_rate']:,.0f}/s) {tool:<20} buffer {buffer:g} MiB: "
        f"stored {r['stored_flows']:>9,} of {r['sent_flows']:,} (loss {r['loss']:.2%}{drops}), "
        f"CPU {r['cpu_seconds']:.1f} s, peak RSS {rss} MiB"
    )


if __name__ == "__main__":
    main()
