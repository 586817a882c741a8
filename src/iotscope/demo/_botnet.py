"""Demo step 3: the botnet from the network side (darknet, ISP flows, C2 detection)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from iotscope._output import console, table
from iotscope.c2 import Window, detect, evaluate, known_infected
from iotscope.flows import flows_root, ingest_files
from iotscope.lab.traffic import generate
from iotscope.store import Store
from iotscope.telescope import Options, ingest

DAYS = 1.0  # a day of flow time keeps the demo under a minute
SCALE = 0.3


def botnet_picture(seed: int, devices: int, network: str, work: Path, store: Store) -> None:
    """Generate lab traffic, run the telescope and every ISP's C2 detection, score them."""
    console.rule("[bold]4. the botnet from the network side: darknet and ISP flows")
    out = work / "traffic"
    t0 = time.monotonic()
    summary = generate(out, seed=seed, days=DAYS, scale=SCALE, devices=devices, network=network)
    console.print(f"lab traffic for {len(summary.flows)} ISPs in {time.monotonic() - t0:.1f} s")
    truth = json.loads((out / "truth.json").read_text())
    _telescope(out / "darknet.pcap", truth, store)
    infected = known_infected(store)
    rows = [_site(site, out, truth, infected, store) for site in sorted(summary.flows)]
    console.print(table(
        "C2 detection per ISP (flows stay in the ISP; only candidates leave)",
        ["ISP", "flows", "candidates", "true C2", "precision", "recall", "time to detect"],
        rows))  # fmt: skip


def _telescope(pcap: Path, truth: dict[str, list[dict[str, str]]], store: Store) -> None:
    result = ingest(pcap, Options(sensor="demo-darknet"))
    store.save_sightings(result.sightings)
    kinds = {s["src"]: s["kind"] for s in truth["scanners"]}
    got = {str(s.src): s.classification for s in result.sightings}
    agree = sum(1 for src, kind in kinds.items() if got.get(src) == kind)
    mirai = sum(1 for c in got.values() if c == "mirai")
    console.print(f"darknet: {result.stats.frames} packets, {len(got)} sources, "
                  f"{mirai} Mirai-fingerprinted; classification agrees with truth for "
                  f"{agree}/{len(kinds)} scanners")  # fmt: skip


def _site(site: str, out: Path, truth: dict[str, object], infected: set[str],
          store: Store) -> tuple[object, ...]:  # fmt: skip
    report = ingest_files([out / "sites" / site / "netflow.pcap"], fmt="netflow-pcap",
                          site=site, root=flows_root())  # fmt: skip
    found = detect(flows_root(), infected=infected, window=Window(site=site))
    store.save_c2_candidates(found)
    ev = evaluate(flows_root(), truth, infected=infected, site=site)
    ttd = f"max {ev.ttd_max_s / 60:.1f} min" if ev.ttd_max_s is not None else "-"
    return (site, report.flows, len(found), len(ev.tp) + len(ev.fn), f"{ev.precision:.2f}",
            f"{ev.recall:.2f}", ttd)  # fmt: skip
