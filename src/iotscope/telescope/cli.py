"""`iotscope telescope` commands (thin: parse options, call the part, print).

JSON Lines go to ``--out`` or to stdout when it is not a terminal; a rich table of the
busiest sources and the counts (including skipped packets) go to the terminal (stderr).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer
from rich.progress import Progress

from iotscope._output import console, jsonl_sink, table, write_jsonl
from iotscope.pcap import Frames, iter_frames
from iotscope.records import Sighting
from iotscope.store import open_store
from iotscope.telescope._capture import ingest_stored
from iotscope.telescope._ingest import Ingest, Options, ingest_frames

app = typer.Typer(help="Darknet captures to per-source sightings.", no_args_is_help=True)

TABLE_ROWS = 25


@app.command("ingest")
def ingest_command(
    capture: Path = typer.Argument(..., help="darknet capture (pcap or pcapng)"),
    out: Path | None = typer.Option(None, "--out", help="write sightings as JSON Lines here"),
    sensor: str = typer.Option("telescope", "--sensor", help="sensor name stored with sightings"),
    prefix: list[str] = typer.Option(
        [], "--telescope-prefix", help="count only packets to this darknet CIDR (repeatable)"
    ),
    research: list[str] = typer.Option(
        [], "--research-prefix", help="sources in this CIDR are research scanners (repeatable)"
    ),
    top_ports: int = typer.Option(20, "--top-ports", min=1, help="ports kept per source"),
    store: bool = typer.Option(True, "--store/--no-store", help="save sightings in the store"),
) -> None:
    """Summarise a darknet capture per source, classify sources, store the sightings.

    With the store, the capture is stored once (a file already stored is not counted again)
    and packets inside the time range of the sensor's stored captures are skipped (counted as
    already stored); the store merges the sightings of overlapping or adjacent captures.
    """
    opts = Options(
        sensor=sensor,
        prefixes=tuple(prefix),
        research_prefixes=tuple(research),
        top_ports=top_ports,
    )
    if store:
        result, status = ingest_stored(open_store(), capture, opts, _with_progress)
        if status != "stored":
            console.print(f"{capture} ({sensor}): {status}, nothing saved")
    else:
        result = ingest_frames(_with_progress(capture, opts.batch), opts)
    with jsonl_sink(out) as sink:
        if sink is not None:
            write_jsonl(sink, result.sightings)
    _print_summary(result)


def _with_progress(capture: Path, batch: int) -> Iterator[Frames]:
    """The capture's batches, with a progress bar (by bytes read) when stderr is a terminal."""
    frames = iter_frames(capture, batch=batch)
    if not console.is_terminal:
        yield from frames
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("reading", total=capture.stat().st_size)
        for part in frames:
            if len(part):
                bar.update(task, completed=int(part.offsets[-1] + part.caplen[-1]))
            yield part


def _row(s: Sighting) -> list[object]:
    ports = ", ".join(f"{p}:{n}" for p, n in list(s.ports.items())[:4])
    return [s.src, s.classification, s.packets, s.targets, f"{s.mirai_fingerprint:.2f}", ports]


def _print_summary(result: Ingest) -> None:
    busiest = sorted(result.sightings, key=lambda s: (-s.packets, str(s.src)))[:TABLE_ROWS]
    columns = ["src", "class", "packets", "targets", "mirai", "top ports"]
    console.print(table(f"busiest {len(busiest)} sources", columns, map(_row, busiest)))
    kinds: dict[str, int] = {}
    for s in result.sightings:
        kinds[s.classification] = kinds.get(s.classification, 0) + 1
    st = result.stats
    counts = [
        ("packets read", st.frames),
        ("counted", st.counted),
        ("skipped: not IP", st.not_ip),
        ("skipped: malformed", st.malformed),
        ("skipped: outside prefix", st.outside_prefix),
        ("skipped: already stored", st.already_stored),
        ("broken capture records", st.capture_errors),
        ("sources", st.sources),
        *((f"  {k}", v) for k, v in sorted(kinds.items())),
    ]
    console.print(table("telescope ingest", ["what", "count"], counts))
