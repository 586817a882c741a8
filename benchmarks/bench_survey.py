"""Survey benchmark: iotscope vs ``nmap -sV -Pn -n`` on the same lab, in one run.

    .venv/bin/python -m benchmarks.bench_survey [--small] [--sweep]

1. A lab of ``--devices`` (1,000) emulated devices in its own process (``LabProcess``).
2. ``iotscope survey run --no-login`` over the lab's addresses and the default ports (a
   subprocess: wall time and peak RSS from ``wait4``), and ``nmap -sV -Pn -n -T4`` over the
   same TCP ports (nmap's UDP 1900 would need -sU: the comparison is on TCP ports). When nmap
   would take too long it runs on a random sample of hosts and the wall-time ratio is per host.
3. Identification accuracy against the manifest (vendor, product, version) for both; nmap's
   vendor is taken from its CPE or product string, best effort.
4. ``iotscope survey run`` with logins: weak-login recall and precision against the lab's
   truth (a device is weak when a service the survey checks (telnet, ssh, mqtt, HTTP
   Basic/Digest) accepts a publicly listed pair or needs no login).
5. ``--sweep``: a 10,000-device lab, ``--no-login``: hosts/s and peak memory.

Prints a table and writes ``benchmarks/results/survey.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from iotscope.lab import LabProcess, World, build_world
from iotscope.lab._creds import credential_protocol
from iotscope.records import LabManifest
from iotscope.survey import DEFAULT_PORTS, parse_ports

RESULTS = Path(__file__).resolve().parent / "results" / "survey.json"
SEED = 11
CHECKED = ("telnet", "ssh", "mqtt")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; (wall seconds, peak RSS MiB, exit code) measured with ``wait4``."""
    print(f"[bench] {' '.join(cmd[:8])} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a full pipe would stall
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if status != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace")[-3000:])
    print(f"[bench]   {wall:.1f} s", file=sys.stderr, flush=True)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def survey_cmd(scope: Path, out: Path, login: bool, survey_id: str) -> list[str]:
    cmd = [sys.executable, "-m", "iotscope", "survey", "run", "--scope", str(scope),
           "--out", str(out), "--survey-id", survey_id, "--concurrency", "1500",
           "--rate", "0", "--per-subnet-concurrency", "256"]  # fmt: skip
    return [*cmd, "--no-login"] if not login else [*cmd, "--login-delay", "0.02"]


def read_findings(path: Path) -> dict[str, list[dict[str, Any]]]:
    hosts: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines: U+2028 is data
        if line.strip():
            rec = json.loads(line)
            hosts.setdefault(rec["ip"], []).append(rec)
    return hosts


# --- scoring --------------------------------------------------------------------------------


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().replace("_", " ").split())


def _field_ok(truth: str | None, seen: str | None) -> bool:
    return bool(truth) and _norm(truth) == _norm(seen)


def score_identity(
    manifest: LabManifest, seen: dict[str, dict[str, str | None]], hosts: list[str]
) -> dict[str, float]:
    """Share of ``hosts`` whose vendor, product, version (and all three) match the manifest."""
    by_ip = manifest.by_ip()
    ok = {"vendor": 0, "product": 0, "version": 0, "all": 0}
    for ip in hosts:
        d, got = by_ip[ip], seen.get(ip, {})
        fields = {
            "vendor": _field_ok(d.vendor, got.get("vendor")),
            "product": _field_ok(d.product, got.get("product")),
            "version": _field_ok(d.version, got.get("version")),
        }
        for key, good in fields.items():
            ok[key] += good
        ok["all"] += all(fields.values())
    n = max(1, len(hosts))
    return {k: round(v / n, 4) for k, v in ok.items()}


def iotscope_identities(found: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {ip: (recs[0].get("identity") or {}) for ip, recs in found.items()}


def weak_truth(world: World, lockout: bool = True) -> dict[str, set[int]]:
    """ip -> ports of services the survey checks that accept a weak (listed) pair or none
    (services that lock out after failed logins left out unless ``lockout``)."""
    out: dict[str, set[int]] = {}
    for dev in world.devices:
        if dev.hostile:
            continue
        for svc in dev.services:
            spec, pair = svc.spec, svc.pair
            if pair is None or not pair.weak or (spec.lockout_after and not lockout):
                continue
            proto = credential_protocol(spec.service)
            if proto in CHECKED or (proto == "http" and spec.auth in ("basic", "digest")):
                out.setdefault(dev.ip, set()).add(spec.port)
    return out


def score_logins(
    found: dict[str, list[dict[str, Any]]], truth: dict[str, set[int]], easy: dict[str, set[int]]
) -> dict[str, Any]:
    """Device-level weak-login recall and precision (accepted or no_auth counts as weak);
    ``easy`` are the weak devices without a lockout on the weak service."""
    reported = {
        ip for ip, recs in found.items()
        if any(r["login"]["outcome"] in ("accepted", "no_auth") for r in recs)
    }  # fmt: skip
    hit = reported & set(truth)
    missed = sorted(set(truth) - reported)
    return {
        "weak_devices": len(truth),
        "reported": len(reported),
        "recall": round(len(hit) / max(1, len(truth)), 4),
        "recall_without_lockout": round(len(reported & set(easy)) / max(1, len(easy)), 4),
        "weak_behind_lockout": len(set(truth) - set(easy)),
        "precision": round(len(hit) / max(1, len(reported)), 4),
        "missed": missed[:20],
        "false": sorted(reported - set(truth))[:20],
    }


# --- nmap -----------------------------------------------------------------------------------


def parse_nmap_xml(path: Path) -> dict[str, dict[str, str | None]]:
    """ip -> best-effort vendor/product/version from nmap's service detection."""
    out: dict[str, dict[str, str | None]] = {}
    for host in ET.parse(path).getroot().iter("host"):
        addr = host.find("address")
        if addr is None:
            continue
        best: dict[str, str | None] = {}
        for svc in host.iter("service"):
            product, version = svc.get("product"), svc.get("version")
            cpes = [c.text or "" for c in svc.iter("cpe")]
            vendor = next((c.split(":")[2] for c in cpes if c.count(":") >= 3), None)
            if product and not best.get("product"):
                best = {"vendor": vendor or product.split()[0], "product": product,
                        "version": version}  # fmt: skip
        out[addr.get("addr", "")] = best
    return out


def run_nmap(
    targets: list[str], ports: str, work: Path, host_timeout: int
) -> tuple[float, float, dict[str, Any]]:
    listing = work / "nmap-targets.txt"
    listing.write_text("\n".join(targets) + "\n")
    xml = work / "nmap.xml"
    cmd = ["nmap", "-sV", "-Pn", "-n", "-T4", "--host-timeout", f"{host_timeout}s", "-p", ports,
           "-iL", str(listing), "-oX", str(xml)]  # fmt: skip
    wall, rss, code = _run(cmd)
    return wall, rss, parse_nmap_xml(xml) if code == 0 and xml.exists() else {}


# --- the run --------------------------------------------------------------------------------


def _scope_file(work: Path, ips: list[str]) -> Path:
    path = work / "scope.txt"
    path.write_text("\n".join(ips) + "\n")
    return path


def compare(
    devices: int, nmap_sample: int, host_timeout: int, work: Path, env: dict[str, str]
) -> dict[str, Any]:
    network = "127.88.0.0/16"
    world = build_world(devices, SEED, network)
    ips = [str(d.ip) for d in world.manifest.devices]
    scope = _scope_file(work, ips)
    tcp = ",".join(str(p) for p in parse_ports(DEFAULT_PORTS).tcp)
    with LabProcess(devices, SEED, network, work / "manifest.json") as lab:
        manifest = lab.manifest
        ours = work / "nologin.jsonl"
        wall, rss, _ = _run(survey_cmd(scope, ours, False, "bench-nologin"), env)
        found = read_findings(ours)
        sample = sorted(random.Random(SEED).sample(ips, min(nmap_sample, len(ips))))
        n_wall, n_rss, n_seen = run_nmap(sample, tcp, work, host_timeout)
        logins = work / "login.jsonl"
        l_wall, l_rss, _ = _run(survey_cmd(scope, logins, True, "bench-login"), env)
    benign = [str(d.ip) for d in manifest.devices if not d.hostile and d.services]
    sample_benign = [ip for ip in sample if ip in set(benign)]
    per_host_ours, per_host_nmap = wall / len(ips), n_wall / max(1, len(sample))
    return {
        "devices": devices,
        "iotscope": {"wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
                     "identification": score_identity(manifest, iotscope_identities(found), benign),
                     "identification_on_nmap_sample": score_identity(
                         manifest, iotscope_identities(found), sample_benign)},
        "nmap": {"hosts": len(sample), "wall_s": round(n_wall, 2), "peak_rss_mib": round(n_rss, 1),
                 "identification": score_identity(manifest, n_seen, sample_benign),
                 "note": f"TCP ports only (nmap needs -sU for SSDP); -T4; "
                         f"--host-timeout {host_timeout}s (tarpits otherwise stall nmap)"},
        "speedup_per_host": round(per_host_nmap / max(per_host_ours, 1e-9), 1),
        "logins": {"wall_s": round(l_wall, 2), "peak_rss_mib": round(l_rss, 1),
                   **score_logins(read_findings(logins), weak_truth(world),
                                   weak_truth(world, lockout=False))},
    }  # fmt: skip


def sweep(devices: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    network = "127.90.0.0/16"
    world = build_world(devices, SEED, network)
    ips = [str(d.ip) for d in world.manifest.devices]
    scope = _scope_file(work, ips)
    with LabProcess(devices, SEED, network, work / "sweep-manifest.json", timeout=600):
        out = work / "sweep.jsonl"
        wall, rss, _ = _run(survey_cmd(scope, out, False, "bench-sweep"), env)
    found = read_findings(out)
    return {"devices": devices, "wall_s": round(wall, 2), "hosts_per_s": round(devices / wall, 1),
            "peak_rss_mib": round(rss, 1), "hosts_up": len(found)}  # fmt: skip


def _table(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="survey benchmark")
    for col in ("metric", "iotscope", "nmap -sV", "ratio / note"):
        t.add_column(col)
    if "compare" in res:
        _compare_rows(t, res["compare"])
    if "sweep" in res:
        s = res["sweep"]
        t.add_row(f"sweep {s['devices']} devices", f"{s['hosts_per_s']} hosts/s",
                  "-", f"{s['wall_s']} s, {s['peak_rss_mib']} MiB")  # fmt: skip
    Console().print(t)


def _compare_rows(t: Any, c: dict[str, Any]) -> None:
    o, n = c["iotscope"], c["nmap"]
    t.add_row("devices", str(c["devices"]), str(n["hosts"]), "nmap runs on a random sample")
    t.add_row("wall time (s)", str(o["wall_s"]), f"{n['wall_s']} ({n['hosts']} hosts)",
              f"{c['speedup_per_host']}x faster per host")  # fmt: skip
    t.add_row("peak RSS (MiB)", str(o["peak_rss_mib"]), str(n["peak_rss_mib"]), "")
    for key in ("vendor", "product", "version", "all"):
        t.add_row(
            f"identified {key}",
            f"{o['identification'][key]:.1%}",
            f"{n['identification'][key]:.1%}",
            f"iotscope on nmap's sample: {o['identification_on_nmap_sample'][key]:.1%}",
        )
    lg = c["logins"]
    t.add_row("weak-login recall", f"{lg['recall']:.1%}", "-",
              f"{lg['weak_devices']} weak devices, {lg['weak_behind_lockout']} behind a lockout; "
              f"without them {lg['recall_without_lockout']:.1%}")  # fmt: skip
    t.add_row("weak-login precision", f"{lg['precision']:.1%}", "-", f"run {lg['wall_s']} s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="50 devices, nmap on 6 (about a minute)")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--nmap-sample", type=int, default=100)
    ap.add_argument("--nmap-host-timeout", type=int, default=120, help="seconds per host")
    ap.add_argument("--sweep", action="store_true", help="also the 10,000-device sweep")
    ap.add_argument("--sweep-devices", type=int, default=10_000)
    ap.add_argument("--sweep-only", action="store_true", help="skip the nmap comparison")
    args = ap.parse_args(argv)
    if shutil.which("nmap") is None:
        raise SystemExit("nmap is not installed (apt-get install nmap)")
    devices, sample = (50, 6) if args.small else (args.devices, args.nmap_sample)
    host_timeout = 10 if args.small else args.nmap_host_timeout
    with tempfile.TemporaryDirectory(prefix="bench-survey-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "IOTSCOPE_HOME": str(work / "home")}
        res: dict[str, Any] = {}
        if not args.sweep_only:
            res["compare"] = compare(devices, sample, host_timeout, work, env)
        if args.sweep or args.sweep_only:
            res["sweep"] = sweep(args.sweep_devices, work, env)
    res["small"] = args.small
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if RESULTS.exists():  # keep the other half of an earlier run (compare or sweep)
        res = {**json.loads(RESULTS.read_text()), **res}
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    _table(res)
    return res


if __name__ == "__main__":
    main()
