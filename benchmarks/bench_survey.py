"""Survey benchmark: iotscope vs ``nmap -sV`` on the same hosts, ports and time limit, in one run.

    .venv/bin/python -m benchmarks.bench_survey [--devices 200] [--host-limit 120] [--sweep]

1. A lab of ``--devices`` emulated devices (200 by default) in its own process.
2. Every host, for both tools (no sample, no extrapolation): ``iotscope survey run
   --no-login`` and ``nmap -sV -Pn -n -T4`` over the same TCP ports (nmap's UDP 1900 would
   need -sU). The same per-host time limit for both: ``--host-limit`` seconds is nmap's
   ``--host-timeout`` and the survey's per-host ``--login-budget`` (without logins the
   survey's per-host time is bounded by its probe timeouts, well below it). nmap scans every
   host of a chunk in one group (``--min-hostgroup``), chunks of 25 hosts, 8 nmap processes
   at a time (``--nmap-jobs``), each killed at 3x the limit; the lab's few hostile hosts
   (tarpit, endless banner...) get a chunk of their own killed at the limit + 60 s: an
   endless banner keeps nmap past its ``--host-timeout`` (they are scored for neither tool).
   Wall time and peak RSS from ``wait4``.
3. Scoring on what each tool is able to name, each against the lab's truth:
   - *server software named*, per service whose software announces itself (an HTTP/RTSP
     Server header, an SSH version string): nmap's ``product``; iotscope's fingerprint rules
     applied to the banner the survey recorded (``service.product``/``service.family``, as
     ``iotscope fingerprint match`` gives them; the survey's finding keeps the device).
   - *device vendor named*, per benign device: iotscope's ``identity.vendor``; nmap's
     hardware/OS CPE vendor (``cpe:/h:`` or ``cpe:/o:``, Linux itself not a device vendor).
   For each: ``named`` (share of the truth the tool put any name on), ``correct`` (share
   named right) and ``accuracy`` (correct among named).
4. ``iotscope survey run`` with logins (same hosts, ``--login-budget`` = the host limit) on
   a freshly started lab (nmap's probes would have locked some telnet services out):
   weak-login recall and precision against the lab's truth.
5. ``--sweep``: a 10,000-device lab, ``--no-login``: hosts/s and peak memory.

Prints a table and writes ``benchmarks/results/survey.json`` (an earlier sweep is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iotscope.fingerprint import identify
from iotscope.lab import LabProcess, World, build_world
from iotscope.lab._creds import credential_protocol
from iotscope.survey import DEFAULT_PORTS, parse_ports

RESULTS = Path(__file__).resolve().parent / "results" / "survey.json"
NMAP_CHUNK = 25  # hosts per nmap process
SEED = 11
CHECKED = ("telnet", "ssh", "mqtt")
NOT_DEVICE_VENDORS = frozenset({"linux", "microsoft", "apple"})  # OS makers, not the device's


def _start(cmd: list[str], env: dict[str, str] | None, err: Any) -> subprocess.Popen[bytes]:
    print(f"[bench] {' '.join(cmd[:8])} ...", file=sys.stderr, flush=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)


def _wait(
    proc: subprocess.Popen[bytes], start: float, err: Any, cap: float | None = None
) -> tuple[float, float, int, bool]:
    """(wall s, peak RSS MiB, exit code, killed at ``cap``) of a child, from ``wait4``."""
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if cap is not None and time.perf_counter() - start > cap and not killed:
            proc.kill()
            killed = True
        time.sleep(0.2)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    wall = time.perf_counter() - start
    if code != 0 and not killed:
        err.seek(0)
        sys.stderr.write(err.read().decode(errors="replace")[-3000:])
    print(f"[bench]   {wall:.1f} s{' (killed)' if killed else ''}", file=sys.stderr, flush=True)
    return wall, usage.ru_maxrss / 1024, code, killed


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; (wall seconds, peak RSS MiB, exit code) measured with ``wait4``."""
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a full pipe would stall
        start = time.perf_counter()
        wall, rss, code, _ = _wait(_start(cmd, env, err), start, err)
    return wall, rss, code


def survey_cmd(scope: Path, out: Path, login: bool, survey_id: str, limit: int) -> list[str]:
    cmd = [sys.executable, "-m", "iotscope", "survey", "run", "--scope", str(scope),
           "--out", str(out), "--survey-id", survey_id, "--concurrency", "1500",
           "--rate", "0", "--per-subnet-concurrency", "256",
           "--login-budget", str(limit)]  # fmt: skip
    return [*cmd, "--no-login"] if not login else [*cmd, "--login-delay", "0.02"]


def read_findings(path: Path) -> dict[str, list[dict[str, Any]]]:
    hosts: dict[str, list[dict[str, Any]]] = {}
    if not path.exists():
        return hosts
    for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines: U+2028 is data
        if line.strip():
            rec = json.loads(line)
            hosts.setdefault(rec["ip"], []).append(rec)
    return hosts


# --- truth ----------------------------------------------------------------------------------


def norm(text: str | None) -> str:
    """Lower case, letters and digits only: ``TP-LINK`` and ``tp-link`` are one vendor."""
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def software_name(announced: str) -> str:
    """The software an HTTP Server header or SSH version string names, version left off:
    ``lighttpd/1.4.45`` -> ``lighttpd``, ``SSH-2.0-dropbear_2019.78`` -> ``dropbear``."""
    text = announced.split("-", 2)[2] if announced.startswith("SSH-") else announced
    return re.split(r"[/_ (,]", text.strip(), maxsplit=1)[0]


def software_truth(world: World) -> dict[str, str]:
    """``ip:port`` -> announced software, for the benign devices' TCP services that name it."""
    out: dict[str, str] = {}
    for dev in world.devices:
        if dev.hostile:
            continue
        for svc in dev.services:
            spec = svc.spec
            text = spec.version_string if spec.service == "ssh" else spec.server
            if spec.transport == "tcp" and text and norm(software_name(text)):
                out[f"{dev.ip}:{spec.port}"] = software_name(text)
    return out


def vendor_truth(world: World) -> dict[str, str]:
    return {dev.ip: dev.device.vendor for dev in world.devices
            if not dev.hostile and dev.services and dev.device.vendor}  # fmt: skip


# --- what each tool named -------------------------------------------------------------------


def same_name(truth: str, seen: str | None) -> bool:
    """Does ``seen`` name ``truth`` (either contains the other, letters and digits only)?"""
    t, s = norm(truth), norm(seen)
    return bool(t and s) and (t in s or s in t)


def score(truth: dict[str, str], seen: dict[str, str]) -> dict[str, float | int]:
    """named / correct over the truth; accuracy = correct among named."""
    named = [key for key in truth if seen.get(key)]
    correct = [key for key in named if same_name(truth[key], seen[key])]
    n = max(1, len(truth))
    return {"items": len(truth), "named": round(len(named) / n, 4),
            "correct": round(len(correct) / n, 4),
            "accuracy": round(len(correct) / max(1, len(named)), 4)}  # fmt: skip


def _banner_source(rec: dict[str, Any]) -> tuple[str, str] | None:
    service, details = rec.get("service"), rec.get("details") or {}
    if service == "ssh" and rec.get("banner"):
        return "ssh", rec["banner"]
    if service in ("http", "https") and details.get("http"):
        return "http", details["http"]
    if service == "rtsp" and rec.get("banner"):
        return "rtsp", rec["banner"]
    return None


def iotscope_software(found: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """``ip:port`` -> the software iotscope's rules name in the banner the survey recorded."""
    out: dict[str, str] = {}
    for recs in found.values():
        for rec in recs:
            source = _banner_source(rec)
            match = identify(*source) if source else None
            params = match.params if match is not None else {}
            name = params.get("service.product") or params.get("service.family")
            if name:
                out[f"{rec['ip']}:{rec['port']}"] = name
    return out


def iotscope_vendors(found: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    return {ip: (recs[0].get("identity") or {}).get("vendor") or "" for ip, recs in found.items()}


def nmap_timed_out(path: Path) -> int:
    """Hosts nmap gave up at ``--host-timeout`` (it reports nothing else of them)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):  # absent, or cut short by a kill
        return 0
    return sum(h.get("timedout") == "true" for h in root.iter("host"))


def parse_nmap_xml(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(``ip:port`` -> product, ``ip`` -> hardware/OS CPE vendor) from nmap's XML."""
    software: dict[str, str] = {}
    vendors: dict[str, str] = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):  # absent, or cut short by a kill
        return software, vendors
    for host in root.iter("host"):
        addr = host.find("address")
        ip = addr.get("addr", "") if addr is not None else ""
        for port in host.iter("port"):
            svc = port.find("service")
            if svc is None:
                continue
            if svc.get("product"):
                software[f"{ip}:{port.get('portid')}"] = svc.get("product", "")
            for cpe in svc.iter("cpe"):
                parts = (cpe.text or "").split(":")
                if (
                    len(parts) >= 3
                    and parts[1] in ("/h", "/o")
                    and parts[2] not in NOT_DEVICE_VENDORS
                ):
                    vendors.setdefault(ip, parts[2])
    return software, vendors


def nmap_options(hosts: int, limit: int) -> list[str]:
    """-sV at its default intensity, every host of a chunk in one group (nmap's default
    groups wait out the slowest host of each small group in turn)."""
    return ["-sV", "-Pn", "-n", "-T4", "--min-hostgroup", str(hosts),
            "--host-timeout", f"{limit}s"]  # fmt: skip


@dataclass
class _Chunk:
    name: str
    targets: list[str]
    cap: float
    xml: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    wall: float = 0.0
    rss_mib: float = 0.0
    killed: bool = False


def _poll(chunk: _Chunk) -> bool:
    """Has ``chunk``'s nmap ended (killed at its cap if need be)?"""
    assert chunk.proc is not None
    pid, status, usage = os.wait4(chunk.proc.pid, os.WNOHANG)
    if pid:
        chunk.proc.returncode = os.waitstatus_to_exitcode(status)
        chunk.wall = time.perf_counter() - chunk.started
        chunk.rss_mib = usage.ru_maxrss / 1024
        return True
    if time.perf_counter() - chunk.started > chunk.cap and not chunk.killed:
        chunk.proc.kill()
        chunk.killed = True
    return False


def run_nmap(
    benign: list[str], hostile: list[str], ports: str, work: Path, limit: int, jobs: int
) -> dict[str, Any]:
    """nmap over every host, as one would run it over a long list: chunks of
    ``NMAP_CHUNK`` hosts, ``jobs`` nmap processes at a time, each killed at 3x the limit if
    still running (an endless banner keeps nmap past ``--host-timeout``: the lab's hostile
    hosts get a chunk of their own, killed at the limit + 60 s). A killed chunk reports
    nothing; wall time is the whole run's."""
    chunks = [_Chunk(f"b{i}", benign[i : i + NMAP_CHUNK], limit * 3.0, work / f"nmap-b{i}.xml")
              for i in range(0, len(benign), NMAP_CHUNK)]  # fmt: skip
    if hostile:
        chunks.insert(0, _Chunk("hostile", hostile, limit + 60.0, work / "nmap-hostile.xml"))
    pending, running, done = list(chunks), list[_Chunk](), list[_Chunk]()
    start = time.perf_counter()
    print(f"[bench] nmap {' '.join(nmap_options(NMAP_CHUNK, limit))} x {len(chunks)} chunks",
          file=sys.stderr, flush=True)  # fmt: skip
    while pending or running:
        while pending and len(running) < jobs:
            chunk = pending.pop(0)
            listing = work / f"nmap-{chunk.name}.txt"
            listing.write_text("\n".join(chunk.targets) + "\n")
            cmd = ["nmap", *nmap_options(len(chunk.targets), limit), "-p", ports,
                   "-iL", str(listing), "-oX", str(chunk.xml)]  # fmt: skip
            chunk.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)  # fmt: skip
            chunk.started = time.perf_counter()
            running.append(chunk)
        for chunk in [c for c in running if _poll(c)]:
            running.remove(chunk)
            done.append(chunk)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    print(f"[bench]   {wall:.1f} s", file=sys.stderr, flush=True)
    killed = [c for c in done if c.killed]
    return {"wall_s": wall, "peak_rss_mib": max(c.rss_mib for c in done),
            "peak_rss_note": "the largest of the nmap processes", "processes_at_once": jobs,
            "hosts_per_process": NMAP_CHUNK,
            "xml": [c.xml for c in done if c.name != "hostile" and not c.killed],
            "hostile_hosts": len(hostile),
            "hostile_chunk_killed": any(c.name == "hostile" for c in killed),
            "benign_chunks_killed": sum(c.name != "hostile" for c in killed),
            "benign_hosts_lost_in_killed_chunks": sum(len(c.targets) for c in killed
                                                      if c.name != "hostile")}  # fmt: skip


# --- logins ---------------------------------------------------------------------------------


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
    return {
        "weak_devices": len(truth),
        "reported": len(reported),
        "recall": round(len(hit) / max(1, len(truth)), 4),
        "recall_without_lockout": round(len(reported & set(easy)) / max(1, len(easy)), 4),
        "weak_behind_lockout": len(set(truth) - set(easy)),
        "precision": round(len(hit) / max(1, len(reported)), 4),
        "missed": sorted(set(truth) - reported)[:20],
        "false": sorted(reported - set(truth))[:20],
    }


# --- the run --------------------------------------------------------------------------------


def _scope_file(work: Path, ips: list[str]) -> Path:
    path = work / "scope.txt"
    path.write_text("\n".join(ips) + "\n")
    return path


def compare(devices: int, limit: int, jobs: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    network = "127.88.0.0/16"
    world = build_world(devices, SEED, network)
    ips = [str(d.ip) for d in world.manifest.devices]
    scope = _scope_file(work, ips)
    tcp = ",".join(str(p) for p in parse_ports(DEFAULT_PORTS).tcp)
    hostile = {str(d.ip) for d in world.devices if d.hostile}
    with LabProcess(devices, SEED, network, work / "manifest.json"):
        ours = work / "nologin.jsonl"
        wall, rss, _ = _run(survey_cmd(scope, ours, False, "bench-nologin", limit), env)
        benign = [ip for ip in ips if ip not in hostile]
        nmap = run_nmap(benign, sorted(hostile), tcp, work, limit, jobs)
    # a fresh lab for the logins: nmap's probes count as failed logins on a telnet service
    # that locks out, and would hide those weak devices from the login check
    with LabProcess(devices, SEED, network, work / "manifest-logins.json"):
        logins = work / "login.jsonl"
        l_wall, l_rss, _ = _run(survey_cmd(scope, logins, True, "bench-login", limit), env)
    found = read_findings(ours)
    xmls: list[Path] = nmap.pop("xml")
    n_software: dict[str, str] = {}
    n_vendors: dict[str, str] = {}
    for xml in xmls:
        software, vendors = parse_nmap_xml(xml)
        n_software.update(software)
        n_vendors.update(vendors)
    soft, vend = software_truth(world), vendor_truth(world)
    return {
        "hosts": devices, "same_hosts_for_both": True, "per_host_limit_s": limit,
        "tcp_ports": tcp,
        "iotscope": {"wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
                     "server_software": score(soft, iotscope_software(found)),
                     "device_vendor": score(vend, iotscope_vendors(found))},
        "nmap": {**nmap, "wall_s": round(nmap["wall_s"], 2),
                 "peak_rss_mib": round(nmap["peak_rss_mib"], 1),
                 "server_software": score(soft, n_software),
                 "device_vendor": score(vend, n_vendors),
                 "hosts_timed_out": sum(nmap_timed_out(x) for x in xmls),
                 "command": f"nmap {' '.join(nmap_options(NMAP_CHUNK, limit))} -p <ports> "
                            f"-iL <{NMAP_CHUNK} hosts>, {jobs} at a time"},
        "speedup": round(nmap["wall_s"] / max(wall, 1e-9), 1),
        "logins": {"wall_s": round(l_wall, 2), "peak_rss_mib": round(l_rss, 1),
                   **score_logins(read_findings(logins), weak_truth(world),
                                   weak_truth(world, lockout=False))},
    }  # fmt: skip


def sweep(devices: int, work: Path, env: dict[str, str], limit: int) -> dict[str, Any]:
    network = "127.90.0.0/16"
    world = build_world(devices, SEED, network)
    ips = [str(d.ip) for d in world.manifest.devices]
    scope = _scope_file(work, ips)
    with LabProcess(devices, SEED, network, work / "sweep-manifest.json", timeout=600):
        out = work / "sweep.jsonl"
        wall, rss, _ = _run(survey_cmd(scope, out, False, "bench-sweep", limit), env)
    found = read_findings(out)
    return {"devices": devices, "wall_s": round(wall, 2), "hosts_per_s": round(devices / wall, 1),
            "peak_rss_mib": round(rss, 1), "hosts_up": len(found)}  # fmt: skip


def _table(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="survey benchmark: iotscope vs nmap -sV, same hosts, ports and time limit")
    for col in ("metric", "iotscope", "nmap -sV", "note"):
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
    t.add_row("hosts", str(c["hosts"]), str(c["hosts"]),
              f"every host for both; per-host limit {c['per_host_limit_s']} s")  # fmt: skip
    t.add_row(
        "wall time (s)", str(o["wall_s"]), str(n["wall_s"]), f"iotscope {c['speedup']}x faster"
    )
    t.add_row("peak RSS (MiB)", str(o["peak_rss_mib"]), str(n["peak_rss_mib"]), "")
    t.add_row("hosts given up at the limit", "-", str(n["hosts_timed_out"]),
              "of the benign hosts; nmap drops what it learned of them")  # fmt: skip
    t.add_row("hostile hosts", "in the same run", "a chunk of their own",
              "killed at the limit + 60 s" if n["hostile_chunk_killed"] else "")  # fmt: skip
    t.add_row(
        "benign hosts lost to killed chunks",
        "-",
        str(n["benign_hosts_lost_in_killed_chunks"]),
        "chunks killed at 3x the limit",
    )
    for key, label in (("server_software", "server software"), ("device_vendor", "device vendor")):
        items = o[key]["items"]
        for metric in ("named", "correct", "accuracy"):
            note = f"{items} services" if key == "server_software" else f"{items} devices"
            t.add_row(f"{label} {metric}", f"{o[key][metric]:.1%}", f"{n[key][metric]:.1%}",
                      note if metric == "named" else "")  # fmt: skip
    lg = c["logins"]
    t.add_row("weak-login recall", f"{lg['recall']:.1%}", "-",
              f"{lg['weak_devices']} weak devices, {lg['weak_behind_lockout']} behind a lockout; "
              f"without them {lg['recall_without_lockout']:.1%}")  # fmt: skip
    t.add_row("weak-login precision", f"{lg['precision']:.1%}", "-", f"run {lg['wall_s']} s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--small", action="store_true", help="30 devices, 30 s limit (about a minute)")
    ap.add_argument("--devices", type=int, default=200, help="hosts, every one for both tools")
    ap.add_argument(
        "--host-limit",
        type=int,
        default=120,
        help="seconds per host: nmap --host-timeout and the survey's --login-budget",
    )
    ap.add_argument("--nmap-jobs", type=int, default=8, help="nmap processes at a time")
    ap.add_argument("--sweep", action="store_true", help="also the 10,000-device sweep")
    ap.add_argument("--sweep-devices", type=int, default=10_000)
    ap.add_argument("--sweep-only", action="store_true", help="skip the nmap comparison")
    args = ap.parse_args(argv)  # fmt: skip
    if shutil.which("nmap") is None and not args.sweep_only:
        raise SystemExit("nmap is not installed (apt-get install nmap)")
    devices, limit = (30, 30) if args.small else (args.devices, args.host_limit)
    with tempfile.TemporaryDirectory(prefix="bench-survey-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "IOTSCOPE_HOME": str(work / "home")}
        res: dict[str, Any] = {}
        if not args.sweep_only:
            res["compare"] = compare(devices, limit, args.nmap_jobs, work, env)
            res["small"] = args.small
        if args.sweep or args.sweep_only:
            res["sweep"] = sweep(args.sweep_devices, work, env, limit)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if RESULTS.exists():  # keep the other half of an earlier run (compare or sweep)
        res = {**json.loads(RESULTS.read_text()), **res}
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    _table(res)
    return res


if __name__ == "__main__":
    main()
