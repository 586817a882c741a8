"""C2 detection quality on lab traffic: precision, recall and time-to-detect per variant and seed.

Run: ``.venv/bin/python -m benchmarks.bench_c2_eval [--small] [--variants V ...]``

For each variant of the lab traffic generator (``iotscope lab traffic --variant``) and seed:
the traffic is generated; the darknet capture goes through the telescope (its mirai and iot
classes are the known-infected list, as at an ISP: never the truth); every site's
NetFlow/IPFIX capture is ingested into a fresh Parquet root; :func:`iotscope.c2.evaluate`
gives precision and recall over the whole span and time-to-detect by incremental replay
(every 5 min of flow time over the last 6 h). The same detection is also run with no list,
and, as a labelled extra that no ISP has, with the truth's own bots as the list (ORACLE).

Tuning variants (``held_out=False``) run with the tuning seeds; held-out variants run with
other seeds, never used while tuning, and are reported in their own section. False positives
are counted by the benign family the truth names for them. A last row runs the detection over
the real IoT-23 capture of a Philips Hue bridge (Zeek conn.log; must give no C2).

Two more known-C2 columns use ``known_c2`` (clients of a known C2 endpoint count as infected
by C2 contact): HISTORY, the C2s an earlier detection run reported (the first half of the flows,
every site: what the hub shares between ISPs), evaluated over the whole span; and FEED, a model
of a public C2 blocklist (abuse.ch Feodo Tracker): each C2 address is published with
probability ``FEED_COVERAGE`` (one draw per address for every site, per seed) once it has been
active ``FEED_DELAY_H`` hours before the flows end. FEED is scored only *beyond the feed*: the
listed endpoints are left out of both the candidates and the truth, so it measures what the
detection finds that the feed did not say (migrated addresses, other tiers). The feed is drawn
from the truth's C2 list, so it is labelled as a model, not a sensor. NOISY FEED adds wrong
entries (benign look-alike endpoints, ``FEED_WRONG`` per true one): what false entries spread
to. SHAPE shows what a lower threshold would buy instead: precision and recall when the
threshold of the no-list run is lowered (channel shape, no list). REACHABILITY
counts every C2 of the truth by what finds it: the sensors, the feed's own listing, the
detection beyond the feed, or nothing an ISP has (only the ORACLE list).
ANY NETWORK reruns the telescope column with the tiered hand-over's network test off
(``network_prefix=32``): what the /24 test costs in the lab, whose C2 pools are two
documentation prefixes (an Internet-wide C2 pool spreads a tier over unrelated networks).
Per C2 family: found/all and the median time-to-detect. ``--fresh``: instead, every variant
with seeds 201-202, never seen before the final run, the telescope column's precision and
recall only (no replay, no extra columns), written to ``c2_eval_fresh.json``.

Goals (held-out variants, telescope list): precision >= 0.95, recall >= 0.9. Prints tables and
writes ``benchmarks/results/c2_eval.json``. ``--small``: one tuning and one held-out variant,
one seed each, a small world (about a minute).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from iotscope.c2 import (
    Evaluation,
    Params,
    Window,
    detect,
    evaluate,
    fp_by_family,
    load_truth,
    oracle_infected,
    run_duckdb,
    truth_c2,
)
from iotscope.c2._evaluate import Key
from iotscope.c2._views import Endpoint
from iotscope.flows import ingest_files
from iotscope.lab import traffic as lab_traffic
from iotscope.telescope import Options
from iotscope.telescope import ingest as telescope_ingest

RESULTS = Path(__file__).resolve().parent / "results" / "c2_eval.json"
FRESH_RESULTS = RESULTS.with_name("c2_eval_fresh.json")
IOT23 = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "iot23"
    / "CTU-Honeypot-Capture-4-1.conn.log.labeled"
)
TUNING_SEEDS = (7, 8)
HELD_OUT_SEEDS = (101, 102)  # never used while tuning
FRESH_SEEDS = (201, 202)  # never seen before the final run: every variant, to show no seed-fit
WORLD = {"days": 1.0, "scale": 0.3, "devices": 300, "network": "127.77.0.0/16"}
SMALL = {"days": 1.0, "scale": 0.3, "devices": 100, "network": "127.78.0.0/22"}
GOAL_PRECISION, GOAL_RECALL = 0.95, 0.9
FEED_COVERAGE, FEED_DELAY_H = 0.5, 6.0
FEED_WRONG = 0.1  # the noisy feed: one benign look-alike endpoint listed per ten true C2s
SHAPE_CUTS = (0.3, 0.35, 0.4, 0.45, 0.5)
ANY_NETWORK = Params(network_prefix=32)  # the tiered hand-over without its network test


def variants() -> dict[str, bool]:
    """Variant name -> held out, from the generator (one ``default`` tuning world if the
    generator has no variants)."""
    table = getattr(lab_traffic, "VARIANTS", None)
    if not table:
        return {"default": False}
    return {name: bool(getattr(v, "held_out", False)) for name, v in table.items()}


def telescope_infected(pcap: Path) -> set[str]:
    """The telescope's mirai and iot scanners in the darknet capture."""
    result = telescope_ingest(pcap, Options(sensor="bench-c2-eval"))
    return {str(s.src) for s in result.sightings if s.classification in ("mirai", "iot")}


def _generate(out: Path, seed: int, variant: str, world: dict[str, Any]) -> Any:
    gen: Any = lab_traffic.generate  # takes ``variant`` where the generator has variants
    if variant == "default" and not getattr(lab_traffic, "VARIANTS", None):
        return gen(out, seed=seed, **world)
    return gen(out, seed=seed, variant=variant, **world)


def _figures(result: Any, truth: dict[str, Any]) -> dict[str, Any]:
    s = result.summary()
    keys = ("precision", "recall", "tp", "fp", "fn", "new_c2", "ttd_median_s", "ttd_max_s",
            "ttd_missed", "false_positives", "false_negatives")  # fmt: skip
    family = {(c["ip"], int(c["port"]), c["site"]): c["family"] for c in truth["c2"]}
    tp = set(result.tp)
    by_family: dict[str, list[int]] = {}
    for key, fam in family.items():
        by_family.setdefault(fam, [0, 0])[1] += 1
        by_family[fam][0] += key in tp
    found = {f: f"{a}/{b}" for f, (a, b) in sorted(by_family.items())}
    ttd: dict[str, list[float]] = {}
    for key, seconds in result.ttd_s.items():
        ttd.setdefault(family.get(key, "other"), []).append(seconds)
    return {**{k: s[k] for k in keys}, "fp_by_family": fp_by_family(result.fp, truth),
            "found_by_c2_family": found, "ttd_s_by_c2_family": ttd}  # fmt: skip


def feed_model(truth: dict[str, Any], seed: int) -> set[Endpoint]:
    """A public C2 blocklist as the flows end: each address the truth names that was active
    ``FEED_DELAY_H`` hours before the end, listed with probability ``FEED_COVERAGE`` (one
    draw per address and seed, the same for every site). A model drawn from the truth."""
    end = datetime.fromisoformat(str(truth["end"]).replace("Z", "+00:00"))
    cutoff = end - timedelta(hours=FEED_DELAY_H)
    out: set[Endpoint] = set()
    for c in truth["c2"]:
        since = datetime.fromisoformat(str(c["active_from"]).replace("Z", "+00:00"))
        digest = hashlib.sha256(f"{seed}:{c['ip']}:{c['port']}".encode()).digest()
        if since <= cutoff and int.from_bytes(digest[:4], "big") < FEED_COVERAGE * 2**32:
            out.add((str(c["ip"]), int(c["port"]), str(c.get("proto", "tcp"))))
    return out


def wrong_entries(truth: dict[str, Any], seed: int, n: int) -> set[Endpoint]:
    """``n`` benign endpoints a careless feed lists as C2: look-alike families and vendor
    clouds (not the long tail of web sites), drawn by a hash per seed."""
    skip = {"web", "dns", "ntp"}
    pool = sorted({(str(b["ip"]), int(b["port"]), str(b.get("proto", "tcp")))
                   for b in truth.get("benign", []) if b.get("family") not in skip})  # fmt: skip
    ranked = sorted(pool, key=lambda e: hashlib.sha256(f"{seed}:{e}".encode()).digest())
    return set(ranked[:n])


def beyond_feed(result: Evaluation, feed: set[Endpoint]) -> Evaluation:
    """``result`` without the feed's endpoints: what the detection found that it did not say."""
    listed = {(ip, port) for ip, port, _ in feed}

    def keep(keys: list[Key]) -> list[Key]:
        return [k for k in keys if (k[0], k[1]) not in listed]

    out = Evaluation(result.threshold, keep(result.tp), keep(result.fp), keep(result.fn))
    out.ttd_s = {k: v for k, v in result.ttd_s.items() if (k[0], k[1]) not in listed}
    out.missed = keep(result.missed)
    return out


def history_c2(root: Path, truth: dict[str, Any], listed: set[str]) -> set[Endpoint]:
    """The C2 endpoints an earlier run reported: detection over the first half of the flows
    (every site, the telescope's list), as the hub would share them between ISPs."""
    start = datetime.fromisoformat(str(truth["start"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(truth["end"]).replace("Z", "+00:00"))
    found = detect(root, infected=listed, window=Window(until=start + (end - start) / 2))
    return {(str(c.ip), c.port, c.proto) for c in found}


def shape_frontier(root: Path, truth: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The no-list run (channel shape, no bot evidence) cut at lower thresholds: found C2s
    and false positives at each cut (what a lower threshold would buy)."""
    params = dataclasses.replace(Params(), threshold=min(SHAPE_CUTS))
    rows = run_duckdb(root, (), Window(), params)
    wanted = truth_c2(truth)
    out = {}
    for cut in SHAPE_CUTS:
        found = {(str(r["ip"]), int(r["port"]), str(r["site"])) for r in rows if r["score"] >= cut}
        out[f"{cut:.2f}"] = {"tp": len(found & wanted), "fp": len(found - wanted),
                             "c2": len(wanted)}  # fmt: skip
    return out


def reachability(
    truth: dict[str, Any], tele: Evaluation, fed: Evaluation, feed: set[Endpoint]
) -> dict[str, dict[str, int]]:
    """Every C2 of the truth by the information that finds it: the sensors (telescope and the
    flows' own scanning), the feed itself (listed), the detection from the feed's contacts
    (beyond it), or nothing an ISP has (only the ORACLE list finds those): counts by family."""
    listed = {(ip, port) for ip, port, _ in feed}
    sensed, beyond = set(tele.tp), set(fed.tp)
    out: dict[str, dict[str, int]] = {}
    for c in truth["c2"]:
        key = (str(c["ip"]), int(c["port"]), str(c["site"]))
        how = ("sensors" if key in sensed else "feed_listed" if key[:2] in listed
               else "beyond_feed" if key in beyond else "unreachable")  # fmt: skip
        fam = out.setdefault(how, {})
        fam[c["family"]] = fam.get(c["family"], 0) + 1
    return out


def _sense(
    variant: str, seed: int, world: dict[str, Any], work: Path
) -> tuple[Path, dict[str, Any], set[str]]:
    """Generate one variant and seed, ingest every site's NetFlow, and run the telescope:
    (the flow root, the truth, the telescope's infected list)."""
    traffic, root = work / "traffic", work / "flows"
    summary = _generate(traffic, seed, variant, world)
    for site in summary.flows:
        pcap = traffic / "sites" / site / "netflow.pcap"
        ingest_files([pcap], fmt="netflow-pcap", site=site, root=root)
    truth = load_truth(traffic / "truth.json")
    return root, truth, telescope_infected(traffic / "darknet.pcap")


def run_one(variant: str, held_out: bool, seed: int, world: dict[str, Any], work: Path) -> dict:
    """Generate, sense (telescope), ingest and evaluate one variant and seed."""
    t0 = time.monotonic()
    root, truth, listed = _sense(variant, seed, world, work)
    bots = oracle_infected(truth)
    t1 = time.monotonic()
    row: dict[str, Any] = {
        "variant": variant,
        "held_out": held_out,
        "seed": seed,
        "c2_in_truth": len(truth["c2"]),
        "telescope_listed": len(listed),
        "telescope_listed_bots": len(listed & bots),
        "bots_in_truth": len(bots),
    }
    tele = evaluate(root, truth, infected=listed)
    row["telescope"] = _figures(tele, truth)
    t2 = time.monotonic()
    no_list = evaluate(root, truth, infected=(), step_ms=0)
    any_net = evaluate(root, truth, infected=listed, params=ANY_NETWORK, step_ms=0)
    row["tier_any_network"] = _figures(any_net, truth)
    row["no_list"] = _figures(no_list, truth)
    oracle = evaluate(root, truth, infected=bots, step_ms=0)
    row["oracle_truth_infected"] = _figures(oracle, truth)
    known = history_c2(root, truth, listed)
    hist = evaluate(root, truth, infected=listed, known_c2=known, step_ms=0)
    row["history"] = {**_figures(hist, truth), "known_c2": len(known)}
    feed = feed_model(truth, seed)
    fed = beyond_feed(evaluate(root, truth, infected=listed, known_c2=feed), feed)
    no_feed = beyond_feed(tele, feed)
    listed_c2 = {(ip, port) for ip, port, _ in feed}
    unlisted = {**truth, "c2": [c for c in truth["c2"] if (c["ip"], c["port"]) not in listed_c2]}
    row["feed"] = {**_figures(fed, unlisted), "feed_size": len(feed),
                   "recall_beyond_feed_without_it": round(no_feed.recall, 4)}  # fmt: skip
    wrong = wrong_entries(truth, seed, max(1, round(FEED_WRONG * len(feed))))
    noisy = feed | wrong
    unlisted["c2"] = [c for c in unlisted["c2"] if (c["ip"], c["port"]) not in wrong]
    bad = beyond_feed(evaluate(root, truth, infected=listed, known_c2=noisy, step_ms=0), noisy)
    row["noisy_feed"] = {**_figures(bad, unlisted), "wrong_entries": sorted(map(list, wrong))}
    row["shape_frontier"] = shape_frontier(root, truth)
    row["reachability"] = reachability(truth, tele, fed, feed)
    row["seconds"] = {"generate_ingest": round(t1 - t0, 1), "evaluate": round(t2 - t1, 1),
                      "extra_columns": round(time.monotonic() - t2, 1)}  # fmt: skip
    return row


def iot23_row() -> dict[str, Any]:
    """The real Hue bridge capture, read as the Zeek file it is: C2 candidates (must be 0)."""
    if not IOT23.exists():
        return {"variant": "iot23-hue (real)", "skipped": f"absent: {IOT23}"}
    with tempfile.TemporaryDirectory(prefix="bench-c2-iot23-") as tmp:
        report = ingest_files([IOT23], fmt="zeek", site="home", root=Path(tmp))
        found = detect(Path(tmp), window=Window(site="home"))
    return {"variant": "iot23-hue (real)", "flows": report.flows,
            "bad_lines": report.bad_lines.count, "c2_candidates": len(found),
            "candidates": [[str(c.ip), c.port, c.score] for c in found]}  # fmt: skip


def _ok(f: dict[str, Any]) -> bool:
    return f["precision"] >= GOAL_PRECISION and f["recall"] >= GOAL_RECALL


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    t = Table(title=title)
    for col in ("variant", "seed", "C2", "P (telescope)", "R (telescope)", "ttd med/max s",
                "missed", "P/R no list", "HISTORY P/R", "FEED P/R beyond it (R without)",
                "NOISY FEED P/R",
                "ORACLE P/R", "FP by family", "C2 missed (found/all)", "goal"):  # fmt: skip
        t.add_column(col)
    for r in rows:
        f, n, o = r["telescope"], r["no_list"], r["oracle_truth_infected"]
        h, d, z = r["history"], r["feed"], r["noisy_feed"]
        feed = f"{d['precision']:.2f}/{d['recall']:.2f} ({d['recall_beyond_feed_without_it']:.2f})"
        ttd = f"{f['ttd_median_s'] or 0:.0f} / {f['ttd_max_s'] or 0:.0f}"
        fams = ", ".join(f"{k} {v}" for k, v in sorted(f["fp_by_family"].items())) or "-"
        short = [f"{k} {v}" for k, v in f["found_by_c2_family"].items()
                 if v.split("/")[0] != v.split("/")[1]]  # fmt: skip
        t.add_row(r["variant"], str(r["seed"]), str(r["c2_in_truth"]), f"{f['precision']:.3f}",
                  f"{f['recall']:.3f}", ttd, str(f["ttd_missed"]),
                  f"{n['precision']:.2f}/{n['recall']:.2f}",
                  f"{h['precision']:.2f}/{h['recall']:.2f}", feed,
                  f"{z['precision']:.2f}/{z['recall']:.2f}",
                  f"{o['precision']:.2f}/{o['recall']:.2f}", fams, ", ".join(short) or "-",
                  "yes" if _ok(f) else "NO")  # fmt: skip
    return t


def _pooled(rows: list[dict[str, Any]], column: str = "telescope") -> dict[str, Any]:
    """Precision and recall over every C2 and candidate of the rows (micro average), and the
    median and max time-to-detect of the runs (seconds)."""
    tp = sum(r[column]["tp"] for r in rows)
    fp = sum(r[column]["fp"] for r in rows)
    fn = sum(r[column]["fn"] for r in rows)
    medians = [r[column]["ttd_median_s"] for r in rows if r[column].get("ttd_median_s")]
    maxes = [r[column]["ttd_max_s"] for r in rows if r[column].get("ttd_max_s")]
    return {"runs": len(rows), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
            "ttd_median_of_runs_s": round(statistics.median(medians), 1) if medians else None,
            "ttd_max_s": round(max(maxes), 1) if maxes else None}  # fmt: skip


def _frontier(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The shape-only cuts summed over the rows: precision and recall at each threshold."""
    out = {}
    for cut in rows[0]["shape_frontier"] if rows else ():
        tp = sum(r["shape_frontier"][cut]["tp"] for r in rows)
        fp = sum(r["shape_frontier"][cut]["fp"] for r in rows)
        c2 = sum(r["shape_frontier"][cut]["c2"] for r in rows)
        out[cut] = {"tp": tp, "fp": fp, "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
                    "recall": round(tp / c2, 4) if c2 else 1.0}  # fmt: skip
    return out


def _reach(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        for how, fams in r["reachability"].items():
            for fam, n in fams.items():
                out.setdefault(how, {})[fam] = out.get(how, {}).get(fam, 0) + n
    return {how: dict(sorted(f.items())) for how, f in sorted(out.items())}


def _fp_families(rows: list[dict[str, Any]]) -> dict[str, int]:
    """False positives of the telescope column by benign family, summed over the rows."""
    out: dict[str, int] = {}
    for r in rows:
        for fam, n in r["telescope"]["fp_by_family"].items():
            out[fam] = out.get(fam, 0) + n
    return dict(sorted(out.items()))


def _families(rows: list[dict[str, Any]], column: str = "telescope") -> dict[str, Any]:
    """Per C2 family over the rows: found/all, recall, and the median and max time-to-detect
    of its new or migrated addresses (seconds; addresses first seen in the first hour have
    none)."""
    out: dict[str, Any] = {}
    for r in rows:
        for fam, text in r[column]["found_by_c2_family"].items():
            got, wanted = map(int, text.split("/"))
            f = out.setdefault(fam, {"found": 0, "c2": 0, "ttd": []})
            f["found"] += got
            f["c2"] += wanted
            f["ttd"] += r[column].get("ttd_s_by_c2_family", {}).get(fam, [])
    return {fam: {"found": f["found"], "c2": f["c2"],
                  "recall": round(f["found"] / f["c2"], 4) if f["c2"] else 1.0,
                  "ttd_median_s": round(statistics.median(f["ttd"]), 1) if f["ttd"] else None,
                  "ttd_max_s": round(max(f["ttd"]), 1) if f["ttd"] else None}
            for fam, f in sorted(out.items())}  # fmt: skip


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_pooled(rows), "by_c2_family": _families(rows),
            "fp_by_family": _fp_families(rows),
            "tier_any_network": _pooled(rows, "tier_any_network"),
            "tier_any_network_by_c2_family": _families(rows, "tier_any_network"),
            "no_list": _pooled(rows, "no_list"),
            "history": _pooled(rows, "history"), "feed_beyond": _pooled(rows, "feed"),
            "noisy_feed_beyond": _pooled(rows, "noisy_feed"),
            "oracle_truth_infected": _pooled(rows, "oracle_truth_infected"),
            "shape_only_no_list": _frontier(rows), "reachability": _reach(rows)}  # fmt: skip


def fresh_one(variant: str, held_out: bool, seed: int, world: dict[str, Any], work: Path) -> dict:
    """One variant and fresh seed: generate, sense, ingest; the telescope column's precision
    and recall over the whole span (no time-to-detect replay, no extra columns)."""
    root, truth, listed = _sense(variant, seed, world, work)
    tele = evaluate(root, truth, infected=listed, step_ms=0)
    return {"variant": variant, "held_out": held_out, "seed": seed,
            "c2_in_truth": len(truth["c2"]), "telescope": _figures(tele, truth)}  # fmt: skip


def _fresh_section(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_pooled(rows), "by_c2_family": _families(rows), "fp_by_family": _fp_families(rows)}


def fresh(chosen: dict[str, bool], world: dict[str, Any], out: Path, small: bool) -> dict:
    """Every chosen variant with the fresh seeds (``--fresh``), written to ``out``."""
    t0 = time.monotonic()
    rows = []
    for name, held_out in chosen.items():
        for seed in FRESH_SEEDS[:1] if small else FRESH_SEEDS:
            with tempfile.TemporaryDirectory(prefix="bench-c2-eval-") as tmp:
                rows.append(fresh_one(name, held_out, seed, world, Path(tmp)))
    section = {
        "all_variants": rows,
        "tuning_variants": [r for r in rows if not r["held_out"]],
        "held_out_variants": [r for r in rows if r["held_out"]],
    }
    result = {
        "benchmark": "c2_eval --fresh",
        "command": "python -m benchmarks.bench_c2_eval " + " ".join(sys.argv[1:]),
        "world": world,
        "fresh_seeds": list(FRESH_SEEDS),
        "note": "seeds never used before the final run; telescope list; precision/recall only",
        "summary": {k: _fresh_section(v) for k, v in section.items()},
        "load_note": "shared machine (other helpers' load): seconds are wall-clock under load",
        "runs": rows,
        "seconds": round(time.monotonic() - t0, 1),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    Console(width=200).print(f"fresh seeds: {result['summary']} -> {out}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--small", action="store_true", help="a small world, a seed per section")
    ap.add_argument("--variants", nargs="+", help="only these variants")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--fresh", action="store_true", help=f"only seeds {FRESH_SEEDS}, P/R only")
    args = ap.parse_args(argv)
    known = variants()
    chosen = {k: v for k, v in known.items() if not args.variants or k in args.variants}
    world = SMALL if args.small else WORLD
    if args.small and not args.variants:
        tuning = [k for k, h in chosen.items() if not h][:1]
        held = [k for k, h in chosen.items() if h][:1]
        chosen = {k: chosen[k] for k in tuning + held}
    if args.fresh:
        return fresh(chosen, world, args.out or FRESH_RESULTS, args.small)
    args.out = args.out or RESULTS
    rows: list[dict[str, Any]] = []
    t0 = time.monotonic()
    for name, held_out in chosen.items():
        seeds = HELD_OUT_SEEDS if held_out else TUNING_SEEDS
        for seed in seeds[:1] if args.small else seeds:
            with tempfile.TemporaryDirectory(prefix="bench-c2-eval-") as tmp:
                rows.append(run_one(name, held_out, seed, world, Path(tmp)))
    tuning_rows = [r for r in rows if not r["held_out"]]
    held_rows = [r for r in rows if r["held_out"]]
    console = Console(width=200)
    console.print(_table("TUNING variants (tuning seeds)", tuning_rows))
    if held_rows:
        console.print(_table("HELD-OUT variants (seeds never used in tuning)", held_rows))
    real = iot23_row()
    console.print(f"real capture {real['variant']}: {real.get('c2_candidates', real)} C2")
    result = {
        "benchmark": "c2_eval",
        "command": "python -m benchmarks.bench_c2_eval " + " ".join(sys.argv[1:]),
        "world": world,
        "tuning_seeds": list(TUNING_SEEDS),
        "held_out_seeds": list(HELD_OUT_SEEDS),
        "infected_list": "telescope (darknet.pcap through iotscope.telescope, mirai+iot)",
        "oracle_note": "oracle_truth_infected uses the truth's bots: not a field figure",
        "summary": {
            "tuning": _summary(tuning_rows),
            "held_out": _summary(held_rows),
        },
        "feed_model": {
            "coverage": FEED_COVERAGE,
            "delay_h": FEED_DELAY_H,
            "note": "drawn from truth.json's C2 list: a model of a public "
            "blocklist, scored beyond the feed only",
        },
        "load_note": "shared machine (other helpers' load): seconds are wall-clock under load",
        "runs": rows,
        "real_capture": real,
        "seconds": round(time.monotonic() - t0, 1),
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    console.print(f"pooled: {result['summary']}; {result['seconds']} s -> {args.out}")
    return result


if __name__ == "__main__":
    main()
