"""`iotscope flows` commands (thin: parse options, call the part, print).

Flows land in Parquet under ``IOTSCOPE_HOME/flows`` per site and day and stay there: raw flows
never leave the site; only C2 candidates (``iotscope c2 detect``) do.
"""

from __future__ import annotations

import asyncio
import signal
import time
from enum import StrEnum
from pathlib import Path
from typing import IO

import pyarrow as pa
import typer

from iotscope._output import console, jsonl_sink, table
from iotscope.flows._collector import CollectorOptions, collect
from iotscope.flows._ingest import IngestReport, ingest_files
from iotscope.flows._jsonl import write_flow_lines
from iotscope.flows._parquet import check_site, flows_root, write_parquet

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
        ("parquet parts", len(report.parts)),
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
) -> None:
    """Collect NetFlow v5/v9 and IPFIX over UDP into the site's Parquet (Ctrl-C stops)."""
    check_site(site)
    options = CollectorOptions(batch_flows, batch_seconds, max_packets, duration)
    with jsonl_sink(out) as sink:
        counts = asyncio.run(_collect(listen, site, options, sink))
    console.print(
        "collector: " + ", ".join(f"{k.replace('_', ' ')}={v}" for k, v in counts.items()),
        markup=False,
        highlight=False,
    )


async def _collect(
    listen: str, site: str, options: CollectorOptions, jsonl: IO[str] | None
) -> dict[str, int]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    root, started, batches = flows_root(), time.strftime("%Y%m%dT%H%M%S", time.gmtime()), [0]

    async def sink(flows: pa.Table) -> None:
        if flows.num_rows == 0:
            return
        batches[0] += 1
        key = f"collect-{started}-{batches[0]:06d}"
        await asyncio.to_thread(write_parquet, flows, root, source_key=key)
        if jsonl is not None:
            write_flow_lines(jsonl, flows)

    def ready(address: tuple[str, int]) -> None:
        console.print(f"listening on {address[0]}:{address[1]}", markup=False, highlight=False)

    counts = await collect(listen, site=site, sink=sink, options=options, stop=stop, ready=ready)
    return {
        "packets": counts.packets,
        "flows": counts.flows,
        "malformed": counts.malformed,
        "no_template": counts.no_template,
        "no_address": counts.no_address,
    }
