"""The real pipeline feeding the centre's ``c2_contacts``: lab traffic through the real commands.

Run: ``.venv/bin/python -m benchmarks.bench_month_pipeline [--small]``

Per world (``iotscope lab traffic``, one day; the default variant and the held-out ``ho-nat``
and ``ho-office``, which were not looked at while writing ``isp contacts``), in a fresh
IOTSCOPE_HOME: ``telescope ingest`` of the darknet capture, then for every ISP site ``flows
ingest`` of its Zeek conn.log, ``c2 detect --site``, and ``isp contacts`` (the command this
issue adds). Then, against the traffic's truth: which of the site's truly infected addresses
appear as bots (each address's pseudonym under the ISP's key, ``addr:`` subjects: the lab
traffic has no lease log) and which bots are not infected at all, and which contacted
endpoints are true C2s. Seconds are wall-clock on a SHARED machine. Writes
``benchmarks/results/month_pipeline.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "month_pipeline.json"
WORLDS = (("default", 5), ("ho-nat", 6), ("ho-office", 7))


def cli(home: Path, *args: str) -> float:
    env = {**os.environ, "IOTSCOPE_HOME": str(home)}
    env.pop("IOTSCOPE_DATABASE_URL", None)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "iotscope", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    return time.perf_counter() - t


def score(home: Path, truth: dict[str, Any], site: str) -> dict[str, Any]:
    """Bots and endpoints of ``site``'s stored contacts against the traffic's truth."""
    from iotscope.isp import pseudonym_key
    from iotscope.store import open_store
    from iotscope.store.centre import list_c2_contacts, pseudonym
    from iotscope.tenancy import Principal

    os.environ["IOTSCOPE_HOME"] = str(home)
    from iotscope.config import settings

    settings.cache_clear()
    key = pseudonym_key(site)
    rows = list_c2_contacts(open_store(), Principal("isp", site), isp=site)
    store_bots = {r.bot for r in rows}
    infected = {pseudonym(key, f"addr:{x['ip']}") for x in truth["infected"] if x["site"] == site}
    c2 = {(x["ip"], int(x["port"])) for x in truth["c2"]}
    eps = {(r.c2_ip, r.c2_port) for r in rows}
    hit = store_bots & infected
    return {
        "site": site, "contact_rows": len(rows), "bots": len(store_bots),
        "infected_in_truth": len(infected), "infected_seen": len(hit),
        "bot_recall": round(len(hit) / len(infected), 3) if infected else None,
        "bot_precision": round(len(hit) / len(store_bots), 3) if store_bots else None,
        "endpoints": len(eps), "endpoints_true_c2": len(eps & c2),
    }  # fmt: skip


def world(variant: str, seed: int, days: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="iotscope-bench-") as tmp:
        home, out = Path(tmp) / "home", Path(tmp) / "traffic"
        times = {"traffic_s": cli(home, "lab", "traffic", "--out", str(out), "--seed", str(seed),
                                  "--days", str(days), "--variant", variant)}  # fmt: skip
        times["telescope_s"] = cli(home, "telescope", "ingest", str(out / "darknet.pcap"))
        truth = json.loads((out / "truth.json").read_text())
        sites, detect_s, contacts_s = [], 0.0, 0.0
        for site in truth["sites"]:
            cli(home, "flows", "ingest", str(out / "sites" / site / "conn.log"), "--format",
                "zeek", "--site", site)  # fmt: skip
            detect_s += cli(home, "c2", "detect", "--site", site)
            contacts_s += cli(home, "isp", "contacts", "--isp", site, "--site", site)
            sites.append(score(home, truth, site))
    times.update(detect_s=round(detect_s, 2), contacts_s=round(contacts_s, 2))
    seen = sum(s["infected_seen"] for s in sites)
    total = sum(s["infected_in_truth"] for s in sites)
    bots = sum(s["bots"] for s in sites)
    return {
        "variant": variant, "seed": seed, "days": days, "sites": sites,
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "bot_recall": round(seen / total, 3) if total else None,
        "bot_precision": round(seen / bots, 3) if bots else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="one world, a quarter day")
    args = parser.parse_args()
    plan = WORLDS[:1] if args.small else WORLDS
    days = 0.25 if args.small else 1.0
    runs = []
    for variant, seed in plan:
        runs.append(world(variant, seed, days))
        r = runs[-1]
        print(f"{variant} seed {seed}: bot recall {r['bot_recall']}, precision "
              f"{r['bot_precision']}, {r['seconds']}")  # fmt: skip
    result = {
        "benchmark": "month_pipeline",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "real commands (lab traffic, telescope ingest, flows ingest, c2 detect, isp "
        "contacts) per site; bots compared with the traffic truth's infected addresses; "
        "wall-clock seconds on a shared 2-core machine",
        "runs": runs,
    }
    if args.small:
        print(json.dumps(result, indent=1)[:3000])
    else:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
