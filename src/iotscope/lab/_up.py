"""``iotscope lab up``: build the world, bind it, write the manifest, serve until a signal.

The manifest appears only once every device listens (it is the readiness signal) and is
removed on a clean shutdown (SIGINT/SIGTERM), so a stale file never claims a live lab.

One asyncio process hosts the whole lab when the open-file limit allows (it is raised as far
as the hard limit, and the hard limit too when the process may). Where the hard limit is too
low for every listener (a container without CAP_SYS_RESOURCE: 10,000 devices need ~35,000
sockets), the devices are split into shards, each one asyncio process forked from this one;
this process supervises them, and stops them all when one dies or a signal comes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from iotscope._output import console, table
from iotscope.errors import ConfigError
from iotscope.lab._catalog import Catalog
from iotscope.lab._manifest import write_manifest
from iotscope.lab._process import die_with_parent
from iotscope.lab._server import (
    RunningLab,
    lab_home,
    prepare,
    raise_open_files,
    socket_count,
    start_lab,
)
from iotscope.lab._world import DeviceRuntime, World, build_world
from iotscope.records import LabManifest

HEADROOM = 4096  # half the descriptors kept free per process for connections and files
READY_TIMEOUT = 180.0


def pss_mib(pid: int) -> float:
    """Proportional set size in MiB (/proc/PID/smaps_rollup): shared pages split fairly, so
    forked shards sum to the real footprint."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def rss_mib(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident set size of a process in MiB (/proc/PID/status)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in values:
                values[name] = int(rest.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return values["VmRSS"], values["VmHWM"]


def shards(devices: Sequence[DeviceRuntime], per_shard: int) -> list[list[DeviceRuntime]]:
    """Contiguous groups of devices with at most ``per_shard`` listening sockets each."""
    out: list[list[DeviceRuntime]] = [[]]
    used = 0
    for dev in devices:
        n = len(dev.services)
        if out[-1] and used + n > per_shard:
            out.append([])
            used = 0
        out[-1].append(dev)
        used += n
    return out


def plan(world: World) -> list[list[DeviceRuntime]]:
    """One shard if this process may open every socket, else as few as the limit allows."""
    needed = socket_count(world.devices)
    limit = raise_open_files(needed + 2 * HEADROOM)
    per_shard = max(256, limit - 2 * HEADROOM)
    return [list(world.devices)] if needed <= per_shard else shards(world.devices, per_shard)


def summary(manifest: LabManifest, listening: int, processes: int, timings: dict[str, float],
            rss: tuple[float, float]) -> None:  # fmt: skip
    hostile = sum(1 for d in manifest.devices if d.hostile)
    rows = [
        ("devices", len(manifest.devices)),
        ("hostile hosts", hostile),
        ("ISPs", len(manifest.isps)),
        ("listening sockets", listening),
        ("processes", processes),
        *((f"{k} (s)", f"{v:.2f}") for k, v in timings.items()),
        ("memory (MiB)", f"{rss[0]:.0f} (PSS, all processes); peak RSS of one {rss[1]:.0f}"),
    ]
    title = f"lab up: {manifest.network} seed {manifest.seed}"
    console.print(table(title, ["", ""], rows))


def run_up(
    devices: int,
    seed: int,
    network: str,
    manifest_path: Path,
    catalog: Catalog | None = None,
    transform: Callable[[World], World] | None = None,
) -> None:
    """The whole command: returns after a clean shutdown. ``transform``: the world as it
    stands later (``lab up --simulation DIR --day N``, see ``lab._dynamics.world_at``)."""
    t0 = time.perf_counter()
    world = build_world(devices, seed, network, catalog)
    if transform is not None:
        world = transform(world)
    home = lab_home()
    prepare(world, home)
    timings = {"world": time.perf_counter() - t0}
    groups = plan(world)
    if len(groups) == 1:
        asyncio.run(_serve_here(world, home, manifest_path, timings))
    else:
        _supervise(world, groups, home, manifest_path, timings)
    console.print("lab stopped")


async def _serve_here(
    world: World, home: Path, manifest_path: Path, timings: dict[str, float]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    t0 = time.perf_counter()
    async with await start_lab(world, home) as lab:
        timings["bind"] = time.perf_counter() - t0
        write_manifest(lab.manifest, manifest_path)
        summary(lab.manifest, lab.listening, 1, timings, rss_mib())
        try:
            await stop.wait()
        finally:
            manifest_path.unlink(missing_ok=True)
            report_stats(lab)


def report_stats(lab: RunningLab) -> None:
    stats = lab.stats
    console.print(
        f"served {stats.connections} connections; {stats.session_errors} session errors"
        + (f" (last: {stats.errors[-1]})" if stats.errors else "")
    )


# -- sharded: one supervisor, several asyncio worker processes ---------------------------------


def _worker(world: World, shard: list[DeviceRuntime], home: Path, conn: object) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    asyncio.run(_serve_shard(world, shard, home, conn))


async def _serve_shard(world: World, shard: list[DeviceRuntime], home: Path, conn: object) -> None:
    assert isinstance(conn, multiprocessing.connection.Connection)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        lab = await start_lab(world, home, shard)
    except Exception as exc:  # reported to the supervisor, which stops the lab
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", lab.listening))
    async with lab:
        await stop.wait()
        report_stats(lab)


def _supervise(
    world: World,
    groups: list[list[DeviceRuntime]],
    home: Path,
    manifest_path: Path,
    timings: dict[str, float],
) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    workers = []
    for shard in groups:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(world, shard, home, child), daemon=True)
        proc.start()
        child.close()
        workers.append((proc, parent))
    try:
        listening = sum(_ready(proc, conn) for proc, conn in workers)
        timings["bind"] = time.perf_counter() - t0
        manifest = world.manifest.model_copy(update={"created": datetime.now(UTC)})
        write_manifest(manifest, manifest_path)
        pids = [os.getpid()] + [p.pid for p, _ in workers if p.pid]
        pss = sum(pss_mib(pid) for pid in pids)
        summary(manifest, listening, len(pids), timings, (pss, max(rss_mib(p)[1] for p in pids)))
        sentinels = [p.sentinel for p, _ in workers]
        while not stop.is_set() and not multiprocessing.connection.wait(sentinels, timeout=0.5):
            pass
    finally:
        manifest_path.unlink(missing_ok=True)
        for proc, _ in workers:
            proc.terminate()
        for proc, _ in workers:
            proc.join(timeout=15)


def _ready(proc: multiprocessing.process.BaseProcess, conn: object) -> int:
    assert isinstance(conn, multiprocessing.connection.Connection)
    if not conn.poll(READY_TIMEOUT):
        raise ConfigError("a lab shard did not come up in time", pid=proc.pid)
    try:
        kind, value = conn.recv()
    except EOFError as exc:
        raise ConfigError("a lab shard died while binding", pid=proc.pid) from exc
    if kind != "ready":
        raise ConfigError("a lab shard failed", pid=proc.pid, reason=value)
    return int(value)
