"""`iotscope flows` commands (thin: parse options, call the part, print).

Flows land in Parquet under ``IOTSCOPE_HOME/flows`` per site and day and stay there: raw flows
never leave the site; only C2 candidates (``iotscope c2 detect``) do.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import typer

from iotscope._output import console, jsonl_sink, table
from iotscope.flows._collector import CollectorOptions, ReceiveStats, collect
from iotscope.flows._compact import compact_site
from iotscope.flows._decoder import FlowDecoder
from iotscope.flows._ingest import IngestReport, ingest_files
from iotscope.flows._jsonl import write_flow_lines
from iotscope.flows._parquet import check_site, flows_root
from iotscope.flows._rolling import BucketWriter, RollOptions
from iotscope.flows._sequence import DomainSequence
from iotscope.flows._staging import sweep_stale
from iotscope.flows._state import collector_tracker, save_collector
from iotscope.flows._status import ExporterStatus, status

app = typer.Typer(
    help=(
        "NetFlow v5/v9, IPFIX, Zeek and nfdump flows into the site's Parquet "
        "(raw flows stay in the site; only C2 candidates leave it)."
    ),
    no_args_is_help=True,
)


class FlowFormat(StrEnum):
    zeek = "zeek"
    nfdump_csv = "nfdump-csv"
    netflow_pcap = "netflow-pcap"


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., help="flow files, read in this order"),
    fmt: FlowFormat = typer.Option(..., "--format", help="zeek | nfdump-csv | netflow-pcap"),
    site: str = typer.Option(..., "--site", help="ISP site the flows belong to"),
    out: Path | None = typer.Option(None, "--out", help="also write flows as JSON Lines"),
) -> None:
    """Ingest Zeek conn.log, nfdump CSV or NetFlow/IPFIX export pcaps into the site's Parquet.

    Files given together share exporter state: templates in one decode data in the next.
    """
    check_site(site)
    with jsonl_sink(out) as sink:

        def emit(flows: pa.Table) -> None:
            if sink is not None:
                write_flow_lines(sink, flows)

        report = ingest_files(files, fmt=fmt.value, site=site, root=flows_root(), on_flows=emit)
    _print_ingest(report)


def _print_ingest(report: IngestReport) -> None:
    rows = [
        ("files", report.files),
        ("flows", report.flows),
        ("bad lines", report.bad_lines.count),
        *(
            (k.replace("_", " "), v)
            for k, v in report.decode.as_dict().items()
            if v and k != "flows"
        ),
        ("truncated datagrams", report.truncated_datagrams),
        ("truncated capture records", report.capture.truncated_records),
        ("bad capture records", report.capture.bad_records),
        ("parquet parts", len(report.parts)),
        *(
            (f"lost {unit} ({e['exporter']} {e['kind']} domain {e['domain']})", e["lost"])
            for e in report.sequences.rows()
            for unit in [e["unit"]]
        ),
    ]
    console.print(table("flows ingest", ["what", "count"], rows))
    for sample in report.bad_lines.samples[:5]:
        console.print(f"bad line: {sample!r}", markup=False, highlight=False)


@app.command("collect")
def collect_command(
    listen: str = typer.Option(..., "--listen", help="HOST:PORT to receive export datagrams on"),
    site: str = typer.Option(..., "--site", help="ISP site the flows belong to"),
    out: Path | None = typer.Option(None, "--out", help="also write flows as JSON Lines"),
    max_packets: int | None = typer.Option(None, "--max-packets", help="stop after N datagrams"),
    duration: float | None = typer.Option(None, "--duration", help="stop after S seconds"),
    batch_flows: int = typer.Option(50_000, "--batch-flows", help="write every N flows"),
    batch_seconds: float = typer.Option(5.0, "--batch-seconds", help="... or every S seconds"),
    bucket_minutes: int = typer.Option(60, "--bucket-minutes", help="one file per bucket"),
    grace: float = typer.Option(600.0, "--grace", help="flow-time seconds before a bucket closes"),
    receive_buffer_mib: int = typer.Option(
        32, "--receive-buffer-mib", help="socket receive buffer to ask for (forced when root)"
    ),
    ring_mib: int = typer.Option(64, "--ring-mib", help="datagrams waiting to be decoded, MiB"),
) -> None:
    """Collect NetFlow v5/v9 and IPFIX over UDP into the site's Parquet (Ctrl-C stops).

    A receiver process drains the socket into a ring of --ring-mib; datagrams it drops because
    the ring is full are counted, as are the kernel's drops (see ``iotscope flows status``).
    Batches roll into time buckets; closed buckets are compacted into one file each. Export
    sequence numbers are tracked per exporter.
    """
    check_site(site)
    options = CollectorOptions(
        batch_flows, batch_seconds, max_packets, duration, receive_buffer_mib << 20, ring_mib << 20
    )
    roll = RollOptions(bucket_minutes=bucket_minutes, grace_s=grace)
    with jsonl_sink(out) as sink:
        counts = asyncio.run(_collect(listen, site, options, roll, sink))
    console.print(
        "collector: " + ", ".join(f"{k.replace('_', ' ')}={v}" for k, v in counts.items()),
        markup=False,
        highlight=False,
    )


async def _collect(
    listen: str, site: str, options: CollectorOptions, roll: RollOptions, jsonl: IO[str] | None
) -> dict[str, int]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    root = flows_root()
    writer = BucketWriter(root, roll)
    decoder = FlowDecoder(site)
    decoder.sequences = collector_tracker(root, site)
    received = ReceiveStats()
    await asyncio.to_thread(compact_site, root, site, keep=lambda day, bucket: False)

    def store(flows: pa.Table) -> None:
        writer.write(flows)
        save_collector(root, site, decoder.sequences, _receiver_state(received))
        writer.compact()

    def store_and_copy(flows: pa.Table) -> None:
        store(flows)
        if jsonl is not None and flows.num_rows:
            write_flow_lines(jsonl, flows)

    async def sink(flows: pa.Table) -> None:
        await asyncio.to_thread(store_and_copy, flows)

    def ready(address: tuple[str, int]) -> None:
        console.print(f"listening on {address[0]}:{address[1]}", markup=False, highlight=False)

    counts = await collect(
        listen, site=site, sink=sink, options=options, stop=stop, ready=ready, decoder=decoder,
        stats=received,
    )  # fmt: skip
    save_collector(root, site, decoder.sequences, _receiver_state(received))
    await asyncio.to_thread(writer.compact, final=True)
    lost = decoder.sequences.rows()
    return {
        "packets": counts.packets,
        "flows": counts.flows,
        "malformed": counts.malformed,
        "no_template": counts.no_template,
        "no_address": counts.no_address,
        "parts": writer.parts,
        "compacted_buckets": writer.compacted.buckets,
        "lost_packets": sum(r["lost"] for r in lost if r["unit"] == "packets"),
        "lost_flows": sum(r["lost"] for r in lost if r["unit"] == "flows"),
        "received_datagrams": received.datagrams,
        "ring_drops": received.ring_drops,
        "socket_drops": received.socket_drops,
        "undecoded": received.undecoded,
        "receive_buffer": received.receive_buffer_effective,
    }


def _receiver_state(received: ReceiveStats) -> dict[str, object]:
    return {**received.as_dict(), "updated": datetime.now(UTC).isoformat(timespec="seconds")}


@app.command("compact")
def compact_command(
    site: str = typer.Option(..., "--site", help="ISP site whose buckets to compact"),
) -> None:
    """Compact every bucket of the site that still has small collector parts (also finishes a
    compaction a kill interrupted)."""
    check_site(site)
    root = flows_root()
    swept = sweep_stale(root, site)
    done = compact_site(root, site)
    console.print(
        f"compacted {done.buckets} buckets ({done.merged_parts} parts, {done.rows} flows); "
        f"recovered {done.recovered_parts} parts; removed {swept} stale temporary files",
        markup=False,
        highlight=False,
    )


@app.command("status")
def status_command(
    site: str | None = typer.Option(None, "--site", help="one site (default: every site)"),
    out: Path | None = typer.Option(None, "--out", help="write JSON Lines here"),
) -> None:
    """Per site and exporter: flows stored, files, days, last flow, sequence state and loss."""
    if site is not None:
        check_site(site)
    rows = status(flows_root(), site)
    with jsonl_sink(out) as sink:
        if sink is not None:
            for row in rows:
                sink.write(json.dumps(row.as_dict()) + "\n")
            return
    console.print(table("flows status", list(_STATUS_COLUMNS), [_status_row(r) for r in rows]))
    for site in dict.fromkeys(r.site for r in rows):
        seq_rows = [
            _sequence_row(site, src, seq)
            for r in rows
            if r.site == site
            for src, seq in r.sequences
        ]
        if seq_rows:
            console.print(table(f"export sequences: {site}", list(_SEQUENCE_COLUMNS), seq_rows))
        receiver = next(r.receiver for r in rows if r.site == site)
        if receiver:
            console.print(table(f"collector receive path: {site}", ["what", "value"],
                                _receiver_rows(receiver)))  # fmt: skip


_STATUS_COLUMNS = ("site", "exporter", "flows", "files", "days", "last flow", "lost")
_SEQUENCE_COLUMNS = ("exporter", "source", "domain", "packets", "received", "lost", "loss", "r/d/x")
_UNIT = {"packets": "pkt", "flows": "flows"}


def _status_row(r: ExporterStatus) -> tuple[object, ...]:
    lost = ", ".join(f"{v} {unit}" for unit, v in sorted(r.lost().items())) or "-"
    last = r.last_flow.strftime("%Y-%m-%d %H:%M:%S") if r.last_flow else "-"
    return (r.site, r.exporter, r.flows, r.files, r.days, last, lost)


def _receiver_rows(r: dict[str, Any]) -> list[tuple[str, object]]:
    """The collector's receive path as of its last batch (Linux reports twice the buffer
    size set; see iotscope.flows._receiver)."""
    mib = 1 << 20
    asked, granted = r["receive_buffer_requested"] / mib, r["receive_buffer_effective"] / mib
    return [
        ("socket receive buffer (asked, granted)", f"{asked:g} MiB, {granted:g} MiB"),
        ("ring (size, peak use)",
         f"{r['ring_bytes'] / mib:g} MiB, {r['peak_ring_bytes'] / mib:.1f} MiB"),
        ("datagrams received", r["datagrams"]),
        ("dropped: ring full (collector too slow)", r["ring_drops"]),
        ("dropped: socket buffer full (kernel)", r["socket_drops"]),
        ("not decoded (left after --max-packets)", r.get("undecoded", 0)),
        ("as of", r.get("updated", "-")),
    ]  # fmt: skip


def _sequence_row(site: str, source: str, seq: DomainSequence) -> tuple[object, ...]:
    """One exporter domain; r/d/x = reordered / duplicate exports / exporter restarts."""
    short = source if source == "collector" else "ingest " + source.rsplit("-", 1)[-1][:8]
    unit = _UNIT[seq.unit]
    return (
        seq.exporter, short, f"{seq.kind} {seq.domain}", seq.packets, f"{seq.received} {unit}",
        f"{seq.lost} {unit}", f"{seq.loss_ratio:.2%}",
        f"{seq.reordered}/{seq.duplicates}/{seq.resets}",
    )  # fmt: skip
