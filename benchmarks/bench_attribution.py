"""Attribution: load 1M routed prefixes (MRT and CSV), look up 1M addresses; reports for
100,000 findings.

Run: ``make bench NAME=attribution`` (``ARGS=--small`` for 100k prefixes/addresses).

Input (seeded): ``--prefixes`` IPv4 prefixes with a routing table's length mix (half /24,
nested /8-/23 aggregates above them), each with an origin AS, written once as a TABLE_DUMP_V2
RIB (one RIB entry per prefix) and as a ``prefix,asn`` CSV; ``--addresses`` addresses, half
drawn inside prefixes, half uniformly.

Timed, same input for every tool, in one run:
- MRT load: iotscope's ``read_mrt`` (numpy two-pass reader; the record-at-a-time reference
  reader too, as "before") against ``bgpdump -m FILE > /dev/null`` (Debian's C reader, the
  peer) on the same file, as a ratio.
- iotscope: ``read_mrt`` / ``read_routes_csv`` (file -> numpy columns), ``compile_table``
  (flattened range table), and lookups of the address strings (``AttributationTable.lookup``:
  string parsing included) -> origin AS.
- pytricia (a C Patricia trie, PyPI): insert every prefix from the CSV rows, then ``get`` per
  address string.
- the plain Python way: ``ipaddress`` for parsing, one dict per prefix length, longest first.
Every tool's origin AS for every address is compared (must agree).
Then reports: a SQLite store with the routes and 8 ISPs owning 16,000 of the routed ASNs,
100,000 findings (2/3 weak logins, 1/3 vulnerable devices; a few draw the same address and
port and are stored once) saved untimed; timed: ``report_isps`` (query, attribute, encode,
store, write the CSVs), cold (the routing table loaded and compiled first) and warm.
Writes ``benchmarks/results/attribution.json``.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from iotscope.attribution import IspEntry, compile_table
from iotscope.attribution._mrt_write import ORIGIN_IGP, peer_index
from iotscope.attribution._routes import read_mrt, read_routes_csv

RESULTS = Path(__file__).resolve().parent / "results" / "attribution.json"
LENGTHS = np.array([8, 12, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24])
SHARES = np.array([0.0005, 0.002, 0.004, 0.015, 0.01, 0.02, 0.035, 0.06, 0.07, 0.12, 0.11, 0.5])


def make_prefixes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lens = rng.choice(LENGTHS, size=n, p=SHARES / SHARES.sum()).astype(np.int64)
    raw = rng.integers(1 << 24, 224 << 24, size=n, dtype=np.int64)  # unicast space
    nets = raw & ~((1 << (32 - lens)) - 1)
    asns = rng.integers(1, 400_000, size=n)
    keep = np.unique(nets * 64 + lens, return_index=True)[1]  # one origin per prefix
    return nets[keep], lens[keep], asns[keep]


def make_addresses(nets: np.ndarray, lens: np.ndarray, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    pick = rng.integers(0, len(nets), n // 2)
    inside = nets[pick] + rng.integers(0, 1 << 62, n // 2) % (1 << (32 - lens[pick]))
    uniform = rng.integers(1 << 24, 224 << 24, n - n // 2)
    ints = np.concatenate([inside, uniform])
    rng.shuffle(ints)
    return [socket.inet_ntoa(struct.pack(">I", int(x))) for x in ints]


def write_mrt(path: Path, nets: np.ndarray, lens: np.ndarray, asns: np.ndarray) -> None:
    chunks = [peer_index("192.0.2.254", [("192.0.2.1", 64496)])]
    hdr, entry = struct.Struct(">IHHI"), struct.Struct(">HIH")
    for seq, (net, ln, asn) in enumerate(
        zip(nets.tolist(), lens.tolist(), asns.tolist(), strict=True)
    ):
        path_attr = b"\x40\x02\x0a\x02\x02" + struct.pack(">II", 64496, asn)
        attrs = ORIGIN_IGP + path_attr
        nb = (ln + 7) // 8
        body = struct.pack(">IB", seq, ln) + net.to_bytes(4, "big")[:nb] + b"\x00\x01"
        body += entry.pack(0, 1_700_000_000, len(attrs)) + attrs
        chunks.append(hdr.pack(1_700_000_000, 13, 2, len(body)) + body)
    path.write_bytes(b"".join(chunks))


def write_csv(path: Path, nets: np.ndarray, lens: np.ndarray, asns: np.ndarray) -> None:
    rows = zip(nets.tolist(), lens.tolist(), asns.tolist(), strict=True)
    lines = ["prefix,asn"] + [
        f"{socket.inet_ntoa(struct.pack('>I', n))}/{ln},{a}" for n, ln, a in rows
    ]
    path.write_text("\n".join(lines) + "\n")


def mrt_vs_bgpdump(path: Path, mrt_s: float, routes: Any) -> dict[str, Any]:
    """The MRT load beside the record-at-a-time reference and ``bgpdump -m`` (output to
    /dev/null: bgpdump parses every record and formats one line per RIB entry)."""
    from iotscope.attribution._mrt import parse_mrt_reference, read_bytes

    ref_s, ref = timed(lambda: parse_mrt_reference(read_bytes(path), str(path)))
    same = (
        np.array_equal(ref.v4_net.astype(np.uint32), routes.v4_net)
        and np.array_equal(ref.v4_len.astype(np.uint8), routes.v4_len)
        and np.array_equal(ref.v4_asn, routes.v4_asn)
    )
    assert same, "fast MRT reader disagrees with the reference"
    out: dict[str, Any] = {"iotscope_read_mrt_s": mrt_s, "reference_reader_s": ref_s,
                           "identical_to_reference": same,
                           "speedup_over_reference": ref_s / mrt_s}  # fmt: skip
    tool = shutil.which("bgpdump")
    if tool is None:
        out["bgpdump"] = "not installed"
        return out
    with open(os.devnull, "wb") as null:
        peer_s, _ = timed(lambda: subprocess.run([tool, "-m", str(path)], stdout=null, check=True))
    out["bgpdump_m_s"] = peer_s
    out["ratio_bgpdump_over_iotscope"] = peer_s / mrt_s
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def pytricia_peer(csv_path: Path, ips: list[str]) -> dict[str, Any]:
    import pytricia

    def load() -> Any:
        tree = pytricia.PyTricia(32)
        with csv_path.open() as fh:
            next(fh)
            for line in fh:
                prefix, asn = line.rstrip("\n").split(",")
                tree[prefix] = int(asn)
        return tree

    load_s, tree = timed(load)
    look_s, got = timed(lambda: [tree.get(ip, 0) for ip in ips])
    return {"load_csv_s": load_s, "lookup_s": look_s, "answers": got}


def python_peer(csv_path: Path, ips: list[str]) -> dict[str, Any]:
    def load() -> dict[int, dict[int, int]]:
        tables: dict[int, dict[int, int]] = {}
        with csv_path.open() as fh:
            next(fh)
            for line in fh:
                prefix, asn = line.rstrip("\n").split(",")
                net = ipaddress.ip_network(prefix)
                tables.setdefault(net.prefixlen, {})[int(net.network_address)] = int(asn)
        return tables

    load_s, tables = timed(load)
    order = sorted(tables, reverse=True)

    def lookup() -> list[int]:
        out = []
        for ip in ips:
            x = int(ipaddress.IPv4Address(ip))
            for ln in order:
                asn = tables[ln].get(x >> (32 - ln) << (32 - ln))
                if asn is not None:
                    out.append(asn)
                    break
            else:
                out.append(0)
        return out

    look_s, got = timed(lookup)
    return {"load_csv_s": load_s, "lookup_s": look_s, "answers": got}


def bench_reports(tmp: Path, nets: np.ndarray, lens: np.ndarray, asns: np.ndarray,
                  findings: int) -> dict[str, Any]:  # fmt: skip
    from iotscope.attribution import import_routes
    from iotscope.attribution._import import import_registry
    from iotscope.records import Finding, Identity, Login, Survey
    from iotscope.report import report_isps
    from iotscope.store import open_store

    store = open_store(f"sqlite:///{tmp / 'reports.sqlite'}")
    csv_path = tmp / "routes.csv"
    import_routes(store, csv_path, "csv")
    rng = np.random.default_rng(3)
    owned = rng.choice(np.unique(asns), size=8 * 2000, replace=False).reshape(8, 2000)
    reg = tmp / "registry.toml"
    reg.write_text("".join(
        f'[[isp]]\nname = "ISP {i}"\nasns = {owned[i].tolist()}\n'
        f'abuse_email = "abuse@isp{i}.example"\n'
        f'interval = "{"weekly" if i % 4 == 3 else "daily"}"\n'
        for i in range(8)
    ))  # fmt: skip
    import_registry(store, reg)
    day = datetime(2026, 11, 4, tzinfo=UTC)
    store.save_survey(Survey(id="bench", started=day, scope=("0.0.0.0/0",)))
    mine = np.isin(asns, owned.ravel())
    pick = rng.choice(np.flatnonzero(mine), size=findings)
    ints = nets[pick] + rng.integers(0, 1 << 62, findings) % (1 << (32 - lens[pick]))
    ident = Identity(vendor="Xiongmai", product="uc-httpd", version="1.0.0", device_type="camera")
    batch = []
    for i, x in enumerate(ints.tolist()):
        weak = i % 3 != 0
        batch.append(Finding(
            survey_id="bench", ip=ipaddress.IPv4Address(x), port=23 if weak else 80,
            service="telnet" if weak else "http", time=day + timedelta(seconds=i % 86400),
            banner="login:", identity=ident,
            login=Login(protocol="telnet" if weak else "http",
                        outcome="accepted" if weak else "rejected"),
            cves=() if weak else ("CVE-2017-7577",),
        ))  # fmt: skip
    store.save_findings(batch)
    # Cold: the first round in a process also loads and compiles the stored routing table
    # (cached afterwards until a new table or registry change); warm: a second round.
    cold, files = timed(lambda: report_isps(store, date(2026, 11, 4), out=tmp / "cold"))
    warm, files = timed(lambda: report_isps(store, date(2026, 11, 4), out=tmp / "warm"))
    rows = sum(f.rows for f in files)
    store.engine.dispose()
    return {"findings": findings, "distinct_findings_stored": rows, "report_rows": rows,
            "files": len(files), "seconds_cold": cold, "seconds_warm": warm}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefixes", type=int, default=1_000_000)
    ap.add_argument("--addresses", type=int, default=1_000_000)
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--small", action="store_true", help="100k prefixes/addresses, 10k findings")
    ap.add_argument("--no-python-peer", action="store_true", help="skip the slow plain peer")
    args = ap.parse_args()
    if args.small:
        args.prefixes, args.addresses, args.findings = 100_000, 100_000, 10_000
    load_start = os.getloadavg()
    nets, lens, asns = make_prefixes(args.prefixes, seed=11)
    ips = make_addresses(nets, lens, args.addresses, seed=11)
    result: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "note": "shared by 8 engineers working at once",
                    "loadavg_start": load_start},
        "input": {"prefixes": len(nets), "addresses": len(ips)},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        write_mrt(tmp / "rib.mrt", nets, lens, asns)
        write_csv(tmp / "routes.csv", nets, lens, asns)
        result["input"]["mrt_bytes"] = (tmp / "rib.mrt").stat().st_size
        mrt_s, routes = timed(lambda: read_mrt(tmp / "rib.mrt"))
        result["mrt_load"] = mrt_vs_bgpdump(tmp / "rib.mrt", mrt_s, routes)
        csv_s, (routes_csv, _) = timed(lambda: read_routes_csv(tmp / "routes.csv"))
        registry = [IspEntry(name="all", asns=())]
        compile_s, table = timed(lambda: compile_table(routes, registry))
        look_s, (_, got) = timed(lambda: table.lookup(ips))
        ours = got.tolist()
        assert len(routes) == len(routes_csv) == len(nets)
        result["iotscope"] = {"load_mrt_s": mrt_s, "load_csv_s": csv_s, "compile_s": compile_s,
                              "lookup_s": look_s, "ranges": len(table.v4.bounds)}  # fmt: skip
        tri = pytricia_peer(tmp / "routes.csv", ips)
        assert tri.pop("answers") == ours, "pytricia disagrees"
        result["pytricia"] = tri
        if not args.no_python_peer:
            plain = python_peer(tmp / "routes.csv", ips)
            assert plain.pop("answers") == ours, "plain Python disagrees"
            result["python_dicts"] = plain
        result["agree"] = True
        ours_total = csv_s + compile_s + look_s
        result["ratios"] = {
            "lookup_pytricia_over_iotscope": tri["lookup_s"] / look_s,
            "csv_load_plus_lookup_pytricia_over_iotscope":
                (tri["load_csv_s"] + tri["lookup_s"]) / ours_total,
        }  # fmt: skip
        if "python_dicts" in result:
            p = result["python_dicts"]
            result["ratios"]["lookup_python_over_iotscope"] = p["lookup_s"] / look_s
            result["ratios"]["csv_load_plus_lookup_python_over_iotscope"] = (
                p["load_csv_s"] + p["lookup_s"]
            ) / ours_total
        result["reports"] = bench_reports(tmp, nets, lens, asns, args.findings)
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
