"""Blackhole routes into a real router: iotscope's BGP speaker against ExaBGP, side by side.

Run: ``.venv/bin/python -m benchmarks.bench_block [--small] [--routes N]``

The same work for both: N C2 addresses (198.18.0.0/15, RFC 2544's benchmark range) announced
as /32s with next hop 192.0.2.1 and communities 65535:666 (RFC 7999 BLACKHOLE) and NO_EXPORT
to a fresh BIRD 2 on loopback (``iotscope.block._bird``: imports only /32s with the
BLACKHOLE community), then the speaker is stopped (SIGTERM) and the routes leave.

- iotscope: the real command, ``iotscope block bgp --bundle FEED`` (FEED: a STIX 2.1 bundle
  of N indicators, parsed, policy-checked and selected first);
- ExaBGP (Debian's exabgp 4.2): the same N routes as ``static`` routes in its configuration.

Measured per tool: seconds from process start until BIRD reports all N routes imported
(``birdc show protocols all``, polled every 50 ms) and from the session's Established until
then (the speaker's own work, without Python start-up), seconds from SIGTERM until BIRD holds
none, and the speaker's CPU seconds and peak RSS over its life (``wait4``). Best of
``REPEATS`` by convergence time. Writes ``benchmarks/results/block.json``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iotscope.block._bird import SPEAKER_ADDR, Bird, start_bird

RESULTS = Path(__file__).resolve().parent / "results" / "block.json"
REPEATS = 3
LOCAL_AS, PEER_AS = 65000, 65001


def addresses(n: int) -> list[str]:
    base = int(ipaddress.IPv4Address("198.18.0.1"))
    return [str(ipaddress.IPv4Address(base + i)) for i in range(n)]


def stix_bundle(ips: list[str], path: Path) -> None:
    now = datetime.now(UTC)
    stamp = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    until = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    objs = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{i:08x}-0000-4000-8000-000000000000",
            "created": stamp,
            "modified": stamp,
            "valid_from": stamp,
            "valid_until": until,
            "pattern_type": "stix",
            "confidence": 90,
            "pattern": f"[network-traffic:dst_ref.type = 'ipv4-addr' AND "
            f"network-traffic:dst_ref.value = '{ip}' AND network-traffic:dst_port = 23]",
        }
        for i, ip in enumerate(ips)
    ]
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--0", "objects": objs}))


def exabgp_config(ips: list[str], port: int, path: Path) -> None:
    routes = "\n".join(
        f"    route {ip}/32 next-hop 192.0.2.1 community [65535:666 no-export];" for ip in ips
    )
    path.write_text(f"""neighbor 127.0.0.2 {{
  router-id 192.0.2.253;
  local-address {SPEAKER_ADDR};
  local-as {LOCAL_AS};
  peer-as {PEER_AS};
  hold-time 9;
  connect {port};
  family {{ ipv4 unicast; }}
  static {{
{routes}
  }}
}}
""")


def imported(bird: Bird) -> int:
    m = re.search(r"Routes:\s+(\d+) imported", bird.cli("show", "protocols", "all", "iotscope"))
    return int(m.group(1)) if m else 0


def run(tool: str, cmd: list[str], env: dict[str, str], bird: Bird, n: int) -> dict[str, Any]:
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    converged = established = None
    while time.monotonic() - t0 < 600 and proc.poll() is None:
        if established is None and "Established" in bird.state():
            established = time.monotonic() - t0
        if imported(bird) >= n:
            converged = time.monotonic() - t0
            break
        time.sleep(0.05)
    t1 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    while time.monotonic() - t1 < 60 and imported(bird) > 0:
        time.sleep(0.02)
    withdrawn = time.monotonic() - t1
    _pid, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, -1, None)
    return {
        "tool": tool,
        "routes": n,
        "established_s": established,
        "converge_s": converged,
        "after_established_s": converged - established if converged and established else None,
        "withdraw_s": round(withdrawn, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3) if usage else None,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1) if usage else None,
        "exit_status": status,
    }


def one(tool: str, n: int, work: Path) -> dict[str, Any]:
    ips = addresses(n)
    bird = start_bird(work, bird_as=PEER_AS, speaker_as=LOCAL_AS)
    env = dict(os.environ)
    try:
        if tool == "iotscope":
            feed = work / "feed.json"
            stix_bundle(ips, feed)
            env["IOTSCOPE_HOME"] = str(work / "home")
            cmd = [
                sys.executable,
                "-m",
                "iotscope",
                "block",
                "bgp",
                "--isp",
                "bench",
                "--peer",
                f"127.0.0.2:{bird.port}",
                "--local-as",
                str(LOCAL_AS),
                "--peer-as",
                str(PEER_AS),
                "--local-address",
                SPEAKER_ADDR,
                "--hold-time",
                "9",
                "--bundle",
                str(feed),
                "--reload-every",
                "3600",
            ]
        else:
            conf = work / "exabgp.conf"
            exabgp_config(ips, bird.port, conf)
            env.update({"exabgp.tcp.bind": "", "exabgp.daemon.daemonize": "false"})
            cmd = [shutil.which("exabgp") or "exabgp", str(conf)]
        return run(tool, cmd, env, bird, n)
    finally:
        bird.stop()


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="2,000 routes")
    ap.add_argument("--routes", type=int, default=20000)
    args = ap.parse_args()
    n = 2000 if args.small else args.routes
    if shutil.which("bird") is None or shutil.which("exabgp") is None:
        sys.exit("needs Debian's bird2 and exabgp (make system-deps)")
    load_start = loadavg()
    best: dict[str, dict[str, Any]] = {}
    runs = []
    for _ in range(REPEATS):
        for tool in ("iotscope", "exabgp"):
            with tempfile.TemporaryDirectory(prefix=f"bench-block-{tool}-") as tmp:
                r = one(tool, n, Path(tmp))
            runs.append(r)
            print(json.dumps(r))
            ok = r["converge_s"] is not None
            if ok and (tool not in best or r["converge_s"] < best[tool]["converge_s"]):
                best[tool] = r
    ratio = None
    if len(best) == 2:
        ratio = round(best["exabgp"]["converge_s"] / best["iotscope"]["converge_s"], 2)
    results = {
        "what": "N blackhole /32s (RFC 7999) into BIRD 2 on loopback: iotscope block bgp vs ExaBGP",
        "command": "make bench NAME=block" + (" ARGS=--small" if args.small else ""),
        "routes": n,
        "best": best,
        "runs": runs,
        "exabgp_over_iotscope_converge_ratio": ratio,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "shared_machine": "8 engineers share 2 cores; load average at start and end below",
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("routes", "exabgp_over_iotscope_converge_ratio")}))


if __name__ == "__main__":
    main()
