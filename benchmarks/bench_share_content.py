"""STIX content and MISP feed: iotscope's writers against the reference libraries, same work.

Run: ``.venv/bin/python -m benchmarks.bench_share_content [--small] [--c2 N]``

1. STIX: ``--c2`` C2 candidates (default 5,000; ``--small`` 1,000) of 5 ISPs, each with a
   family, become STIX 2.1 objects (indicator, infrastructure, address, 4 relationships, the
   ISP's sighting, plus identities, malware and the TLP marking) and one JSON bundle:
   - iotscope: ``share.stix.c2_bundle_objects`` per ISP + ``json.dumps`` of the bundle;
   - peer: the OASIS ``stix2`` library building the very same objects (same ids, times and
     properties, taken from iotscope's dicts field by field, so the work is identical) with
     its classes (``Indicator``, ``Infrastructure``, ``Relationship``, ``Sighting``...), which
     check every property on construction (the pattern through stix2-patterns), then its
     ``Bundle.serialize()``. That is what a producer written with stix2 pays.
   The two outputs are checked equal object by object (parsed JSON) before timing counts.
2. MISP: those indicators as a MISP feed (one event a day, ``ip-dst|port`` attributes with
   tags; ``<uuid>.json``, ``manifest.json``, ``hashes.csv``):
   - iotscope: ``share.misp.feed_events`` + ``write_feed``;
   - peer: PyMISP building the same events (``MISPEvent.add_attribute`` with the same values
     and tags) and writing them with ``to_feed()``, ``manifest`` and ``attributes_hashes('md5')``
     (PyMISP's own feed generator's calls).
3. For scale: the OASIS stix2-validator's time over a 2,000-object bundle (what the tests run).
Best of 3 per tool. Prints a table and writes ``benchmarks/results/share_content.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iotscope.records import C2Candidate
from iotscope.share import misp, stix

RESULTS = Path(__file__).resolve().parent / "results" / "share_content.json"
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
ISPS = ("isp-a", "isp-b", "isp-c", "isp-d", "isp-e")
FAMS = ("mirai-okiru", "mirai-satori", "gafgyt-irc", "emotet", "tsunami")
REPEATS = 3


def candidates(n: int) -> tuple[dict[str, list[C2Candidate]], dict[stix.Endpoint, str]]:
    by_isp: dict[str, list[C2Candidate]] = {i: [] for i in ISPS}
    fams: dict[stix.Endpoint, str] = {}
    t0 = datetime(2026, 10, 25, tzinfo=UTC)
    for k in range(n):
        ip = f"198.{18 + (k >> 16) % 2}.{(k >> 8) & 255}.{k & 255}"
        port = (23, 48101, 6667, 443, 8080)[k % 5]
        isp = ISPS[k % len(ISPS)]
        first = t0 + timedelta(minutes=7 * k % 10_000)
        c = C2Candidate(ip=ip, port=port, proto="tcp", score=0.5 + (k % 30) / 100, clients=5,
                        infected_clients=4, first_seen=first,
                        last_seen=first + timedelta(hours=k % 48), site=isp)  # fmt: skip
        by_isp[isp].append(c)
        fams[(ip, port, "tcp")] = FAMS[k % len(FAMS)]
    return by_isp, fams


def ours_stix(by_isp: dict[str, list[C2Candidate]], fams: dict[stix.Endpoint, str]) -> str:
    objs: dict[str, dict[str, Any]] = {}
    for isp, cands in by_isp.items():
        for o in stix.c2_bundle_objects(cands, isp, NOW, families=fams):
            objs[o["id"]] = o
    return json.dumps(stix.bundle(list(objs.values())))


def peer_stix(objects: list[dict[str, Any]]) -> str:
    """The same objects built with the stix2 library's classes, then its Bundle."""
    import stix2

    made: list[Any] = []
    classes: dict[str, Callable[..., Any]] = {
        "indicator": stix2.Indicator,
        "infrastructure": stix2.Infrastructure,
        "relationship": stix2.Relationship,
        "sighting": stix2.Sighting,
        "identity": stix2.Identity,
        "malware": stix2.Malware,
        "ipv4-addr": stix2.IPv4Address,
    }
    for o in objects:
        cls = classes.get(o["type"])
        if cls is None:  # the TLP 2.0 marking (an extension-based marking-definition)
            made.append(stix2.parse(o, allow_custom=True))
            continue
        made.append(cls(**{k: v for k, v in o.items() if k != "type"}))
    return str(stix2.Bundle(objects=made, allow_custom=True).serialize())


def ours_misp(objects: list[dict[str, Any]], out: Path) -> None:
    misp.write_feed(out, misp.feed_events(objects, NOW))


def peer_misp(events: list[dict[str, Any]], out: Path) -> None:
    """PyMISP builds the same events attribute by attribute, then writes them as its feed
    generator does (to_feed, manifest, attributes_hashes)."""
    from pymisp import MISPEvent, MISPOrganisation

    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    for src in events:
        e = src["Event"]
        ev = MISPEvent()
        ev.uuid, ev.info, ev.date = e["uuid"], e["info"], e["date"]
        ev.threat_level_id, ev.analysis = int(e["threat_level_id"]), int(e["analysis"])
        ev.timestamp, ev.published = int(e["timestamp"]), True
        org = MISPOrganisation()
        org.name, org.uuid = e["Orgc"]["name"], e["Orgc"]["uuid"]
        ev.Orgc = org
        for t in e["Tag"]:
            ev.add_tag(t["name"])
        for a in e["Attribute"]:
            ev.add_attribute(
                a["type"], a["value"], uuid=a["uuid"], category=a["category"],
                to_ids=a["to_ids"], comment=a["comment"], timestamp=int(a["timestamp"]),
                first_seen=a["first_seen"], last_seen=a["last_seen"],
                Tag=[{"name": t["name"]} for t in a["Tag"]],
            )  # fmt: skip
        (out / f"{ev.uuid}.json").write_text(json.dumps(ev.to_feed(), indent=1))
        manifest.update(ev.manifest)
        hashes += [f"{h},{ev.uuid}" for h in ev.attributes_hashes("md5")]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (out / "hashes.csv").write_text("\n".join(hashes) + "\n")


_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _norm(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Objects by id with timestamps as instants (stix2 writes ``...00Z`` for ``...00.000Z``
    outside created/modified: the same time)."""

    def fix(v: Any) -> Any:
        return stix.parse_ts(v) if isinstance(v, str) and _TS.match(v) else v

    return {o["id"]: {k: fix(v) for k, v in o.items()} for o in objects}


def best(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def validator_seconds(objects: list[dict[str, Any]]) -> float:
    from stix2validator import ValidationOptions, validate_instance

    opts = ValidationOptions(version="2.1", strict=True, disabled=["uuid-check"])
    t = time.perf_counter()
    validate_instance(stix.bundle(objects), opts)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--c2", type=int, default=None)
    args = ap.parse_args()
    n = args.c2 or (1_000 if args.small else 5_000)
    load0 = os.getloadavg()
    by_isp, fams = candidates(n)
    t_ours, text = best(lambda: ours_stix(by_isp, fams))
    objects = json.loads(text)["objects"]
    t_peer, peer_text = best(lambda: peer_stix(objects))
    same = _norm(json.loads(peer_text)["objects"]) == _norm(objects)
    if not same:
        raise SystemExit("stix2's objects differ from iotscope's: not the same work")
    events = misp.feed_events(objects, NOW)
    with tempfile.TemporaryDirectory() as tmp:
        t_mo, _ = best(lambda: ours_misp(objects, Path(tmp) / "ours"))
        t_mp, _ = best(lambda: peer_misp(events, Path(tmp) / "peer"))
        ours_manifest = json.loads((Path(tmp) / "ours" / "manifest.json").read_text())
        peer_manifest = json.loads((Path(tmp) / "peer" / "manifest.json").read_text())
        if set(ours_manifest) != set(peer_manifest):
            raise SystemExit("PyMISP's feed lists other events: not the same work")
    sample = objects[: min(2_000, len(objects))]
    t_val = validator_seconds(sample)
    attrs = sum(len(e["Event"]["Attribute"]) for e in events)
    load1 = os.getloadavg()
    result = {
        "benchmark": "share_content",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_start": load0, "load_avg_end": load1,
                    "note": "2 cores shared with 7 other engineers' work at the time"},
        "c2": n,
        "stix_objects": len(objects),
        "stix": {"iotscope_s": round(t_ours, 3), "stix2_library_s": round(t_peer, 3),
                 "ratio_stix2_over_iotscope": round(t_peer / t_ours, 1),
                 "iotscope_objects_per_s": round(len(objects) / t_ours),
                 "outputs_equal": same},
        "misp": {"events": len(events), "attributes": attrs, "iotscope_s": round(t_mo, 3),
                 "pymisp_s": round(t_mp, 3), "ratio_pymisp_over_iotscope": round(t_mp / t_mo, 1)},
        "stix2_validator": {"objects": len(sample), "seconds": round(t_val, 2)},
        "repeats": REPEATS,
        "command": "make bench NAME=share_content" + (" ARGS=--small" if args.small else ""),
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"STIX  {n} C2 -> {len(objects)} objects: iotscope {t_ours:.2f} s, stix2 {t_peer:.2f} s "
          f"({t_peer / t_ours:.1f}x)")  # fmt: skip
    print(f"MISP  {len(events)} events, {attrs} attributes: iotscope {t_mo:.2f} s, "
          f"PyMISP {t_mp:.2f} s ({t_mp / t_mo:.1f}x)")  # fmt: skip
    print(f"stix2-validator: {len(sample)} objects in {t_val:.2f} s -> {RESULTS}")


if __name__ == "__main__":
    main()
