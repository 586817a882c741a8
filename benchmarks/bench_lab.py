"""How fast ``iotscope lab up`` brings a world up, and what it costs, against real daemons.

Run: ``.venv/bin/python -m benchmarks.bench_lab [--small]`` (10,000 devices; --small: 1,000).

- ``iotscope``: ``lab up --devices N`` in a child process (``LabProcess``); time until the
  manifest appears (every device listens), memory of the lab's processes once up (PSS: shared
  pages of forked shards counted once; and each process's peak RSS, VmHWM), then a sample of
  devices is contacted over TCP (and SSDP over UDP) and must answer.
- ``dropbear``: the baseline a lab of real daemons would pay: K Debian dropbear servers, one
  per loopback address; time until all listen and their memory, scaled per device.

The table gives per-device memory and start time for both and the ratio. Writes
benchmarks/results/lab.json. Traffic goes only to 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from iotscope.lab import LabProcess
from iotscope.lab._up import pss_mib, rss_mib
from iotscope.records import Device, LabManifest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "lab.json"
NETWORK = "127.61.0.0/16"  # not 127.88 (the survey benchmark) nor the tests' 127.100-227
DROPBEAR_NET = "127.62.0"
SAMPLE = 300


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (the forked shards of a sharded lab)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def memory(pid: int) -> dict[str, float]:
    pids = family(pid)
    return {
        "processes": len(pids),
        "pss_mib": round(sum(pss_mib(p) for p in pids), 1),
        "rss_sum_mib": round(sum(rss_mib(p)[0] for p in pids), 1),
        "peak_rss_max_mib": round(max(rss_mib(p)[1] for p in pids), 1),
    }


async def _answer(dev: Device) -> bool:
    """True when the device's first TCP service accepts and (unless it is silent) speaks."""
    svc = next((s for s in dev.services if s.transport == "tcp"), None)
    if svc is None:
        return await asyncio.to_thread(_ssdp, str(dev.ip))
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(str(dev.ip), svc.port), 5)
    except OSError:
        return dev.hostile == "reset"
    try:
        if dev.hostile == "tarpit":
            return True  # accepting and never speaking is its answer
        if svc.service in ("http", "rtsp"):
            proto = "RTSP/1.0" if svc.service == "rtsp" else "HTTP/1.1"
            writer.write(f"OPTIONS / {proto}\r\nCSeq: 1\r\nHost: x\r\n\r\n".encode())
        elif svc.service == "mqtt":
            writer.write(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd")
        elif svc.service == "https":
            return True  # TCP accept is enough here; TLS is tested in tests/lab
        data = await asyncio.wait_for(reader.read(64), 5)
        return bool(data) or dev.hostile == "reset"
    except (OSError, TimeoutError):
        return dev.hostile == "reset"
    finally:
        writer.close()


def _ssdp(ip: str) -> bool:
    msg = b'M-SEARCH * HTTP/1.1\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(msg, (ip, 1900))
        try:
            return sock.recv(2048).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


async def probe(manifest: LabManifest, count: int) -> dict[str, float]:
    rng = random.Random(1)
    sample = rng.sample(list(manifest.devices), min(count, len(manifest.devices)))
    sem = asyncio.Semaphore(50)

    async def one(dev: Device) -> bool:
        async with sem:
            return await _answer(dev)

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(d) for d in sample))
    return {"sampled": len(sample), "answered": sum(results),
            "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip


def run_lab(devices: int) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="bench-lab-"))
    os.environ["IOTSCOPE_HOME"] = str(home)
    path = home / "manifest.json"
    with LabProcess(devices, 1, NETWORK, path, timeout=300) as lab:
        ready = lab.ready_seconds or 0.0
        mem = memory(lab.pid)
        sockets = sum(len(d.services) for d in lab.manifest.devices)
        answers = asyncio.run(probe(lab.manifest, SAMPLE))
        mem_after = memory(lab.pid)
    shutil.rmtree(home, ignore_errors=True)
    return {"devices": devices, "sockets": sockets, "ready_seconds": round(ready, 2),
            "memory_up": mem, "memory_after_probe": mem_after, "probe": answers}  # fmt: skip


def run_dropbear(count: int) -> dict[str, object] | None:
    exe = shutil.which("dropbear") or (
        "/usr/sbin/dropbear" if Path("/usr/sbin/dropbear").exists() else None
    )
    if exe is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-dropbear-"))
    key = folder / "ed25519"
    subprocess.run(
        ["dropbearkey", "-t", "ed25519", "-f", str(key)], capture_output=True, check=True
    )
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [exe, "-F", "-E", "-r", str(key), "-p", f"{DROPBEAR_NET}.{i + 1}:22"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    try:
        for i in range(count):
            _wait_listening(f"{DROPBEAR_NET}.{i + 1}", 22)
        ready = time.perf_counter() - t0
        pss = sum(pss_mib(p.pid) for p in procs)
        rss = sum(rss_mib(p.pid)[0] for p in procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return {"instances": count, "ready_seconds": round(ready, 3), "pss_mib": round(pss, 1),
            "rss_sum_mib": round(rss, 1)}  # fmt: skip


def _wait_listening(ip: str, port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 devices instead of 10,000")
    parser.add_argument("--devices", type=int, default=None)
    args = parser.parse_args()
    devices = args.devices or (1000 if args.small else 10000)
    lab = run_lab(devices)
    base = run_dropbear(50)
    report(lab, base)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    RESULTS.write_text(json.dumps({"lab": lab, "dropbear": base, "machine": platform.platform(),
                                   "cpus": os.cpu_count(), "nofile_limit": [soft, hard],
                                   "load_average": os.getloadavg()}, indent=1))  # fmt: skip


def report(lab: dict[str, object], base: dict[str, object] | None) -> None:
    mem = lab["memory_up"]
    probe_ = lab["probe"]
    assert isinstance(mem, dict) and isinstance(probe_, dict)
    n = int(str(lab["devices"]))
    per_dev_mib = mem["pss_mib"] / n
    per_dev_s = float(str(lab["ready_seconds"])) / n
    table = Table(title=f"lab up: {n} devices, {lab['sockets']} listening sockets")
    for col in ("", "iotscope lab", "dropbear x K (baseline)", "ratio baseline/iotscope"):
        table.add_column(col)
    table.add_row("ready (s)", str(lab["ready_seconds"]), "", "")
    table.add_row("processes", str(mem["processes"]), "", "")
    table.add_row("memory PSS (MiB)", str(mem["pss_mib"]), "", "")
    table.add_row("peak RSS, largest process (MiB)", str(mem["peak_rss_max_mib"]), "", "")
    table.add_row(
        "sample answered",
        f"{probe_['answered']}/{probe_['sampled']} in {probe_['seconds']} s",
        "",
        "",
    )
    if base is not None:
        k = int(str(base["instances"]))
        b_mem, b_s = float(str(base["pss_mib"])) / k, float(str(base["ready_seconds"])) / k
        table.add_row("memory per device (KiB)", f"{per_dev_mib * 1024:.1f}", f"{b_mem * 1024:.1f}",
                      f"{b_mem / per_dev_mib:.1f}x")  # fmt: skip
        table.add_row("start per device (ms)", f"{per_dev_s * 1000:.2f}", f"{b_s * 1000:.2f}",
                      f"{b_s / per_dev_s:.1f}x")  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
