"""The UDP collector on 127.0.0.1, alone and against softflowd + nfdump's nfcapd."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.errors import ConfigError, IotscopeError
from iotscope.flows import _replay as replay
from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table
from iotscope.flows._collector import CollectorOptions, ReceiveStats, collect, parse_listen
from iotscope.flows._decoder import DecodeCounts, FlowDecoder
from iotscope.flows._nfdump import read_nfdump_csv
from iotscope.flows._receiver import MIN_RING
from tests.conftest import require_tool
from tests.flows._traffic import write_capture

Key = tuple[str, str, int, int, str]


def _table(n: int) -> pa.Table:
    t0 = 1_700_000_000_000
    return flows_table(
        start_ms=[t0 + i for i in range(n)],
        end_ms=[t0 + i + 10 for i in range(n)],
        src=[f"192.0.2.{i % 250}" for i in range(n)],
        dst=["203.0.113.1"] * n,
        sport=[1024 + i for i in range(n)],
        dport=[23] * n,
        proto=["tcp"] * n,
        packets=[2] * n,
        octets=[100] * n,
        tcp_flags=[2] * n,
        exporter="127.0.0.1",
        site="isp-a",
    )


class Run:
    """A collector task on 127.0.0.1:<free port>, its batches and its counts."""

    def __init__(
        self,
        options: CollectorOptions,
        decoder: FlowDecoder | None = None,
        sink_delay: float = 0.0,
    ) -> None:
        self.batches: list[pa.Table] = []
        self.decoder = decoder or FlowDecoder("isp-a")
        self.stats = ReceiveStats()
        self.sink_delay = sink_delay
        self.stop = asyncio.Event()
        self.port = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(
            collect(
                "127.0.0.1:0",
                site="isp-a",
                sink=self._sink,
                options=options,
                stop=self.stop,
                ready=lambda addr: self.port.set_result(addr[1]),
                decoder=self.decoder,
                stats=self.stats,
            )
        )

    async def _sink(self, table: pa.Table) -> None:
        self.batches.append(table)
        await asyncio.sleep(self.sink_delay)  # a slow store: the collector must not pile up

    async def send(self, payloads: list[bytes]) -> None:
        port = await asyncio.wait_for(self.port, 5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for p in payloads:
                s.sendto(p, ("127.0.0.1", port))
                await asyncio.sleep(0)

    async def result(self) -> tuple[pa.Table, DecodeCounts]:
        counts = await asyncio.wait_for(self.task, 20)
        return pa.concat_tables(self.batches), counts


@pytest.mark.network
async def test_collects_until_max_packets_and_batches() -> None:
    packets = [p for _, p in encode_ipfix(_table(240), records_per_packet=24)]
    run = Run(CollectorOptions(batch_flows=48, batch_seconds=5, max_packets=10))
    await run.send([*packets, b"garbage that arrives too late"])
    flows, counts = await run.result()
    assert flows.num_rows == counts.flows == 240
    assert counts.packets == 10 and counts.malformed == 0
    # the datagram past the limit, when the receiver read it, is counted as not decoded
    assert run.stats.undecoded == run.stats.datagrams - run.stats.ring_drops - 10 >= 0
    assert len([b for b in run.batches if b.num_rows]) >= 2  # batched before the end
    assert set(flows["exporter"].to_pylist()) == {"127.0.0.1"}


@pytest.mark.network
async def test_stop_event_and_malformed_counts() -> None:
    run = Run(CollectorOptions(batch_seconds=0.05))
    v9 = [p for _, p in encode_netflow_v9(_table(30))]
    await run.send([b"\x00\x09\x00", b"\x00\x0a" + b"\xff" * 30, *v9])
    for _ in range(200):
        if sum(b.num_rows for b in run.batches) == 30:
            break
        await asyncio.sleep(0.02)
    run.stop.set()
    flows, counts = await run.result()
    assert flows.num_rows == 30 and counts.malformed == 2 and counts.packets == 4


@pytest.mark.network
async def test_duration_stops_the_collector() -> None:
    run = Run(CollectorOptions(duration=0.2, batch_seconds=1))
    _, counts = await run.result()
    assert counts.packets == 0


# --- bursts from another process: nothing lost, or every drop counted ---------------------


def _export(tmp: Path, flows: int) -> tuple[Path, list[bytes]]:
    """``flows`` flows as IPFIX (24 per datagram), saved for the sender process."""
    packets = [p for _, p in encode_ipfix(_table(flows), records_per_packet=24)]
    path = tmp / "export.bin"
    replay.save(path, packets)
    return path, packets


async def _send_burst(path: Path, port: int, rate: int = 0) -> dict[str, float]:
    """Every datagram of ``path`` from another process, ``rate`` a second (0: unpaced)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(replay.__file__)), str(path), str(port), str(rate),
        stdout=subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    return dict(json.loads(out))


async def _settle(run: Run, quiet: float = 1.5, limit: float = 60.0) -> None:
    """Until the collector has decoded nothing new for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    last, since, deadline = -1, loop.time(), loop.time() + limit
    while loop.time() < deadline and loop.time() - since < quiet:
        if run.decoder.counts.packets != last:
            last, since = run.decoder.counts.packets, loop.time()
        await asyncio.sleep(0.05)


@pytest.mark.network
@pytest.mark.slow
async def test_a_burst_from_another_process_is_stored_whole(tmp_path: Path) -> None:
    """10,000 datagrams (240,000 flows, 12 MB) from another process at 1.5 M flows/s (above the
    benchmark's unpaced sender) into a socket buffer of 8 MiB (what its host grants without
    privileges): the receiver process drains the socket into the ring while decoding lags
    behind. The event-loop collector this replaced lost most of such bursts (the benchmark's
    ``iotscope_before`` rows, benchmarks/results/collector.json)."""
    path, packets = _export(tmp_path, 240_000)
    run = Run(CollectorOptions(batch_seconds=0.2, receive_buffer=4 << 20, ring_bytes=32 << 20))
    port = await asyncio.wait_for(run.port, 5)
    sent = await _send_burst(path, port, rate=62_500)
    await _settle(run)
    run.stop.set()
    flows, counts = await run.result()
    stats, (seq,) = run.stats, run.decoder.sequences.domains.values()
    print(f"burst: {240_000 / sent['seconds']:,.0f} flows/s sent, stats {stats}")
    assert (stats.socket_drops, stats.ring_drops, seq.lost) == (0, 0, 0)
    assert counts.packets == stats.datagrams == len(packets)
    assert flows.num_rows == counts.flows == 240_000
    assert stats.peak_ring_bytes > 0  # the ring did hold a backlog


@pytest.mark.network
@pytest.mark.slow
async def test_a_slow_sink_fills_the_ring_and_every_drop_is_counted(tmp_path: Path) -> None:
    """A sink that takes 50 ms a batch, a ring of 256 KiB (about 200 datagrams) and a burst of
    4,000 datagrams (20 times the ring): the collector holds one batch and the ring, never
    more; the receiver drops what does not fit and counts it. Every datagram sent is decoded,
    or counted as dropped by the ring or by the kernel; the exporter's sequence numbers, seen
    again once a last datagram gets through, lose exactly the dropped flows."""
    path, packets = _export(tmp_path, 96_000)
    path.write_bytes(path.read_bytes()[: -(4 + len(packets[-1]))])  # the last one: sent later
    batch = 240
    options = CollectorOptions(batch_flows=batch, batch_seconds=0.2, ring_bytes=MIN_RING)
    run = Run(options, sink_delay=0.05)
    port = await asyncio.wait_for(run.port, 5)
    await _send_burst(path, port)
    await _settle(run)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(packets[-1], ("127.0.0.1", port))
    await _settle(run, quiet=0.5)
    run.stop.set()
    flows, counts = await run.result()
    stats, (seq,) = run.stats, run.decoder.sequences.domains.values()
    dropped = stats.ring_drops + stats.socket_drops
    assert stats.ring_drops > len(packets) // 2  # back-pressure, counted
    assert stats.datagrams == counts.packets + stats.ring_drops
    assert stats.datagrams + stats.socket_drops == len(packets)  # nothing silent
    assert seq.lost == 24 * dropped and seq.received == flows.num_rows == 24 * counts.packets
    assert max(b.num_rows for b in run.batches) < batch + 24  # bounded: one batch at a time
    assert 0 < stats.peak_ring_bytes <= MIN_RING


@pytest.mark.network
async def test_a_dead_receiver_stops_the_collector_with_an_error() -> None:
    """The receiver process killed: what it had received is still decoded and handed over,
    then ``collect`` fails loudly instead of listening to nothing."""
    run = Run(CollectorOptions(batch_seconds=0.05))
    await run.send([p for _, p in encode_ipfix(_table(48))])
    for _ in range(200):
        if run.decoder.counts.packets == 2:
            break
        await asyncio.sleep(0.02)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    receivers = [int(c) for c in children if "_receiver.py" in _cmdline(int(c))]
    assert len(receivers) == 1
    os.kill(receivers[0], signal.SIGKILL)
    with pytest.raises(IotscopeError, match="receiver process failed"):
        await asyncio.wait_for(run.task, 20)
    assert sum(b.num_rows for b in run.batches) == 48


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def test_ring_too_small_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        CollectorOptions(ring_bytes=1 << 10)


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:2055") == ("127.0.0.1", 2055)
    assert parse_listen("[::1]:4739") == ("::1", 4739)
    for bad in ("localhost:2055", "127.0.0.1", "127.0.0.1:99999", ":2055"):
        with pytest.raises(ConfigError):
            parse_listen(bad)


# --- softflowd (Debian) exporting a capture to us and to nfdump's nfcapd -----------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _softflowd(capture: Path, port: int, version: int) -> None:
    """softflowd reads the capture, exports to 127.0.0.1:port and exits (-a: pcap times)."""
    proc = await asyncio.create_subprocess_exec(
        "softflowd", "-r", str(capture), "-n", f"127.0.0.1:{port}", "-v", str(version), "-d", "-a",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=capture.parent,
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _nfcapd_flows(tmp: Path, export: Callable[[int], object]) -> pa.Table:
    """Run nfcapd on a free port while ``export(port)`` runs; return nfdump's CSV as flows."""
    out = tmp / "nfcapd"
    out.mkdir()
    port = _free_udp_port()
    nfcapd = subprocess.Popen(
        ["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", str(out), "-t", "3600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await asyncio.sleep(0.5)
        await export(port)  # type: ignore[misc]
        await asyncio.sleep(0.5)
    finally:
        nfcapd.send_signal(signal.SIGTERM)
        nfcapd.wait(10)
    files = sorted(out.glob("nfcapd.2*"))
    assert files, "nfcapd wrote no file"
    env = {**os.environ, "TZ": "UTC"}
    csv = subprocess.run(
        ["nfdump", "-r", str(files[0]), "-o", "csv"], capture_output=True, env=env, check=True
    )
    table, bad = read_nfdump_csv(csv.stdout, site="isp-a")
    assert bad.count == 0
    return table


def _by_tuple(table: pa.Table) -> dict[Key, tuple[int, int, int, int, int]]:
    out = {}
    for r in table.to_pylist():
        key = (r["src"], r["dst"], r["sport"], r["dport"], r["proto"])
        out[key] = (
            r["packets"],
            r["bytes"],
            r["tcp_flags"],
            int(r["start"].timestamp()),
            int(r["end"].timestamp()),
        )
    return out


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize("version", [5, 9, 10])
async def test_softflowd_export_matches_nfcapd(tmp_path: Path, version: int) -> None:
    for tool in ("softflowd", "nfcapd", "nfdump"):
        require_tool(tool)
    capture = tmp_path / "traffic.pcap"
    write_capture(capture)
    run = Run(CollectorOptions(batch_seconds=0.2))
    port = await asyncio.wait_for(run.port, 5)
    await _softflowd(capture, port, version)
    theirs = await _nfcapd_flows(tmp_path, lambda p: _softflowd(capture, p, version))
    run.stop.set()
    ours, counts = await run.result()
    assert counts.malformed == counts.no_template == 0
    assert ours.num_rows == theirs.num_rows == 48
    (state,) = run.decoder.sequences.domains.values()  # softflowd's sequence numbers hold
    assert state.lost == state.resets == state.duplicates == 0 and state.packets > 0
    assert _by_tuple(ours) == _by_tuple(theirs)


class _Relay(asyncio.DatagramProtocol):
    """Forwards softflowd's datagrams to the collector, dropping the ones numbered in ``drop``;
    a decoder of its own sees every datagram (what was really exported)."""

    def __init__(self, target: int, drop: set[int]) -> None:
        self.target, self.drop, self.seen = target, drop, 0
        self.truth = FlowDecoder("truth")
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.truth.feed(data, "relay")
        if self.seen not in self.drop:
            self.out.sendto(data, ("127.0.0.1", self.target))
        self.seen += 1


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize("version", [5, 9, 10])
async def test_softflowd_sequence_loss_is_what_was_dropped(tmp_path: Path, version: int) -> None:
    require_tool("softflowd")
    capture = tmp_path / "traffic.pcap"
    write_capture(capture, connections=200)
    decoder = FlowDecoder("isp-a")
    run = Run(CollectorOptions(batch_seconds=0.2), decoder=decoder)
    port = await asyncio.wait_for(run.port, 5)
    relay = _Relay(port, drop={5, 9})
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: relay, local_addr=("127.0.0.1", 0))
    try:
        await _softflowd(capture, transport.get_extra_info("sockname")[1], version)
        await asyncio.sleep(0.5)
    finally:
        transport.close()
        relay.out.close()
    run.stop.set()
    ours, _ = await run.result()
    truth = relay.truth.finish()
    assert relay.seen > 10 and truth.num_rows == 800
    (state,) = decoder.sequences.domains.values()
    assert state.resets == 0 and state.duplicates == 0
    if version == 9:
        assert (state.unit, state.lost) == ("packets", 2)
    else:
        assert state.unit == "flows" and state.lost == truth.num_rows - ours.num_rows > 0
    assert state.received == (relay.seen - 2 if version == 9 else ours.num_rows)
