"""Vulnerability knowledge: NVD import rate and device matching rate, against per-record loops.

Run: ``.venv/bin/python -m benchmarks.bench_vulns [--records N] [--devices N] [--peer-devices N]``
(``make bench NAME=vulns``; defaults 20,000 records, 100,000 devices, 100 peer devices).

1. Writes ``--records`` synthetic NVD CVE API 2.0 records as pages of 2,000 (the API's page
   size), shaped like NVD's IoT entries: 2,000 products of 400 vendors; per record one to
   three configurations of firmware ``o:`` running on hardware ``h:`` (a configuration-level
   AND) with a version range (end including/excluding, sometimes a start) or exact versions
   (some with an update such as ``beta01``), or an application range in one node; CVSS v3.1
   and v2 metrics. Imports them into a fresh SQLite store with ``iotscope.vulns.import_file``
   (one transaction per page), then re-imports them (all unchanged) and times both.
2. Draws ``--devices`` devices, each a firmware CPE with a version and its hardware CPE, 60%
   of them products that the records name, and matches them all with ``iotscope.vulns.match``
   (the store's knowledge loaded once with ``load_db``, timed apart).
3. The same work on the first ``--peer-devices`` devices by two straightforward per-record
   loops (every record, every configuration, for each device; no index):
   - ``cpe-package``: the ``cpe`` package's NISTIR 7696 implementation
     (``CPESet2_3.cpe_superset``) for the names, criteria parsed once beforehand (not timed),
     ranges compared with iotscope's version order;
   - ``loop-iotscope``: iotscope's own entry matcher in the same loop (what the index saves).
   Both must give the same (device, CVE) pairs as ``match``; the run fails otherwise.
Prints a table and writes ``benchmarks/results/vulns.json`` (load average at start and end:
the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from iotscope.store import open_store
from iotscope.vulns import CveRecord, entry_matches, import_file, load_db, match
from iotscope.vulns._match import device_cpe
from iotscope.vulns._nvd import Configuration, Node
from iotscope.vulns._version import in_range

RESULTS = Path(__file__).parent / "results" / "vulns.json"
PAGE = 2000
SUFFIXES = ["", "b01", "b12", "_build210628", "-build170725"]


def catalog(rng: random.Random) -> list[tuple[str, str]]:
    vendors = [f"vendor{i:03d}" for i in range(400)]
    return [
        (rng.choice(vendors), f"model-{i:04d}\\/x" if i % 50 == 0 else f"model-{i:04d}")
        for i in range(2000)
    ]


def version(rng: random.Random) -> str:
    return f"{rng.randint(1, 6)}.{rng.randint(0, 20):02d}{rng.choice(SUFFIXES)}".strip()


def fs_version(v: str) -> str:
    return v.replace(" ", "\\ ")


def config(rng: random.Random, vendor: str, product: str) -> dict[str, Any]:
    fw = f"cpe:2.3:o:{vendor}:{product}_firmware"
    hw = {"vulnerable": False, "criteria": f"cpe:2.3:h:{vendor}:{product}:-:*:*:*:*:*:*:*"}
    kind = rng.random()
    if kind < 0.6:
        entry: dict[str, Any] = {"vulnerable": True, "criteria": f"{fw}:*:*:*:*:*:*:*:*"}
        entry[rng.choice(["versionEndIncluding", "versionEndExcluding"])] = version(rng)
        if rng.random() < 0.3:
            entry["versionStartIncluding"] = "1.00"
        entries = [entry]
    elif kind < 0.85:
        entries = [
            {
                "vulnerable": True,
                "criteria": f"{fw}:{fs_version(version(rng))}:{rng.choice(['*', '*', 'beta01'])}"
                ":*:*:*:*:*:*",
            }
            for _ in range(rng.randint(1, 4))
        ]
    else:
        app = {
            "vulnerable": True,
            "criteria": f"cpe:2.3:a:{vendor}:{product}:*:*:*:*:*:*:*:*",
            "versionStartExcluding": "1.00",
            "versionEndExcluding": version(rng),
        }
        return {"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [app]}]}
    return {
        "operator": "AND",
        "nodes": [
            {"operator": "OR", "negate": False, "cpeMatch": entries},
            {"operator": "OR", "negate": False, "cpeMatch": [hw]},
        ],
    }


def record(i: int, rng: random.Random, products: Sequence[tuple[str, str]]) -> dict[str, Any]:
    v31 = {
        "source": "nvd@nist.gov",
        "type": "Primary",
        "cvssData": {
            "version": "3.1",
            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "baseScore": 9.8,
            "baseSeverity": "CRITICAL",
        },
    }
    v2 = {
        "source": "nvd@nist.gov",
        "type": "Primary",
        "baseSeverity": "HIGH",
        "cvssData": {
            "version": "2.0",
            "vectorString": "AV:N/AC:L/Au:N/C:C/I:C/A:C",
            "baseScore": 10.0,
        },
    }
    configs = [config(rng, *rng.choice(products)) for _ in range(rng.randint(1, 3))]
    return {
        "cve": {
            "id": f"CVE-2020-{100000 + i}",
            "sourceIdentifier": "cve@mitre.org",
            "published": "2020-01-01T00:00:00.000",
            "lastModified": "2024-01-01T00:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": f"Synthetic record {i}."}],
            "metrics": {"cvssMetricV31": [v31], "cvssMetricV2": [v2]},
            "configurations": configs,
        }
    }


def write_pages(
    folder: Path, n: int, rng: random.Random, products: Sequence[tuple[str, str]]
) -> list[Path]:
    paths = []
    for start in range(0, n, PAGE):
        recs = [record(i, rng, products) for i in range(start, min(n, start + PAGE))]
        doc = {
            "resultsPerPage": len(recs),
            "startIndex": start,
            "totalResults": n,
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2026-11-01T00:00:00.000",
            "vulnerabilities": recs,
        }
        path = folder / f"page-{start:07d}.json"
        path.write_text(json.dumps(doc, indent=1))
        paths.append(path)
    return paths


def devices(n: int, rng: random.Random, products: Sequence[tuple[str, str]]) -> list[list[str]]:
    out = []
    for i in range(n):
        vendor, product = (
            rng.choice(products) if rng.random() < 0.6 else (f"other{i % 997}", f"thing-{i % 7919}")
        )
        out.append(
            [
                f"cpe:2.3:o:{vendor}:{product}_firmware:{fs_version(version(rng))}:*:*:*:*:*:*:*",
                f"cpe:2.3:h:{vendor}:{product}:-:*:*:*:*:*:*:*",
            ]
        )
    return out


# -- the per-record loops ------------------------------------------------------------------


def loop_matcher(
    records: Sequence[CveRecord],
    entry_ok: Callable[[Any, Any, Any], bool],
    prepare: Callable[[str], Any],
) -> Callable[[list[str]], set[str]]:
    """Every record and configuration for each device, NVD's AND/OR rule, no index."""

    def node_ok(node: Node, devs: list[tuple[Any, Any]], hits: list[bool]) -> bool:
        res = []
        for e in node.matches:
            hit = any(entry_ok(e, d, p) for d, p in devs)
            res.append(hit)
            if hit and e.vulnerable and not node.negate:
                hits.append(True)
        held = all(res) if node.operator == "AND" else any(res)
        return (not held) if node.negate else held

    def config_ok(c: Configuration, devs: list[tuple[Any, Any]]) -> bool:
        hits: list[bool] = []
        res = [node_ok(n, devs, hits) for n in c.nodes]
        held = bool(res) and (all(res) if c.operator == "AND" else any(res))
        return (not held if c.negate else held) and bool(hits)

    def run(cpes: list[str]) -> set[str]:
        devs = [(device_cpe(c), prepare(c)) for c in cpes]
        return {r.id for r in records if any(config_ok(c, devs) for c in r.configurations)}

    return run


def cpe_package_loop(records: Sequence[CveRecord]) -> Callable[[list[str]], set[str]]:
    from cpe import CPE
    from cpe.cpe2_3_wfn import CPE2_3_WFN
    from cpe.cpeset2_3 import CPESet2_3

    def wfn(text: str) -> Any:
        return CPE2_3_WFN(CPE(text).as_wfn())

    parsed = {
        id(e): wfn(e.criteria)
        for r in records
        for c in r.configurations
        for n in c.nodes
        for e in n.matches
    }  # criteria parsed once, before timing

    def entry_ok(e: Any, dev: Any, dev_wfn: Any) -> bool:
        if not CPESet2_3.cpe_superset(parsed[id(e)], dev_wfn):  # criteria as source
            return False
        if not e.ranged:
            return True
        v = dev.version
        return v.kind == "value" and in_range(
            v.text, e.start_incl, e.start_excl, e.end_incl, e.end_excl
        )

    return loop_matcher(records, entry_ok, lambda c: wfn(device_cpe(c).to_fs()))


def own_loop(records: Sequence[CveRecord]) -> Callable[[list[str]], set[str]]:
    return loop_matcher(records, lambda e, d, _p: entry_matches(e, d), lambda c: None)


CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], name: str = "") -> tuple[Any, float]:
    """``fn()`` and its wall seconds; its CPU seconds go to ``CPU[name]`` (on a shared machine
    CPU time says more about the code than wall time does)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    if name:
        CPU[name] = round(time.process_time() - c0, 2)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--peer-devices", type=int, default=100)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    load_start = os.getloadavg()
    rng = random.Random(args.seed)
    products = catalog(rng)
    with tempfile.TemporaryDirectory(prefix="bench-vulns-") as tmp:
        folder = Path(tmp)
        pages = write_pages(folder, args.records, rng, products)
        store = open_store(f"sqlite:///{folder / 'db.sqlite'}")
        reports, t_import = timed(lambda: [import_file(store, p) for p in pages], "import")
        again, t_reimport = timed(lambda: [import_file(store, p) for p in pages], "reimport")
        assert sum(r.new for r in reports) == args.records and not any(r.bad for r in reports)
        assert sum(r.unchanged for r in again) == args.records
        db, t_load = timed(lambda: load_db(store), "load_db")
        store.engine.dispose()
    devs = devices(args.devices, rng, products)
    found, t_match = timed(lambda: [match(d, db) for d in devs], "match")
    pairs = sum(len(f) for f in found)
    subset = devs[: args.peer_devices]
    ours = [{m.cve for m in match(d, db)} for d in subset]
    records = list(db.records.values())
    peers = {}
    for name, build in (("cpe-package", cpe_package_loop), ("loop-iotscope", own_loop)):
        run = build(records)
        theirs, t_peer = timed(lambda run=run: [run(d) for d in subset], name)  # type: ignore[misc]
        assert theirs == ours, f"{name} disagrees with iotscope.vulns.match"
        peers[name] = {
            "devices": len(subset),
            "seconds": round(t_peer, 3),
            "devices_per_s": round(len(subset) / t_peer, 2),
            "cpu_seconds": CPU[name],
            "devices_per_cpu_s": round(len(subset) / CPU[name], 2),
        }
    rate = args.devices / t_match
    result = {
        "benchmark": "vulns",
        "python": platform.python_version(),
        "records": args.records,
        "pages": len(pages),
        "cpe_match_entries": sum(
            len(n.matches) for r in records for c in r.configurations for n in c.nodes
        ),
        "import_seconds": round(t_import, 2),
        "import_records_per_s": round(args.records / t_import),
        "reimport_unchanged_seconds": round(t_reimport, 2),
        "load_db_seconds": round(t_load, 2),
        "devices": args.devices,
        "match_seconds": round(t_match, 2),
        "match_devices_per_s": round(rate),
        "device_cve_pairs": pairs,
        "devices_with_a_cve": sum(1 for f in found if f),
        "cpu_seconds": {k: CPU[k] for k in ("import", "reimport", "load_db", "match")},
        "import_records_per_cpu_s": round(args.records / CPU["import"]),
        "match_devices_per_cpu_s": round(args.devices / CPU["match"]),
        "peers": peers,
        "ratio_vs_cpe_package_cpu": round(
            args.devices / CPU["match"] / peers["cpe-package"]["devices_per_cpu_s"]
        ),
        "ratio_vs_loop_iotscope_cpu": round(
            args.devices / CPU["match"] / peers["loop-iotscope"]["devices_per_cpu_s"]
        ),
        "ratio_vs_cpe_package": round(rate / peers["cpe-package"]["devices_per_s"]),
        "ratio_vs_loop_iotscope": round(rate / peers["loop-iotscope"]["devices_per_s"]),
        "peer_parity": f"same (device, CVE) pairs on the first {len(subset)} devices",
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "note": "2-core machine shared by 8 engineers working at the same time",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
