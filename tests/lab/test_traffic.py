"""Lab traffic: scenario, darknet capture, Zeek conn.log, NetFlow/IPFIX pcaps, truth.json."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from iotscope.lab.traffic import build_scenario, generate, scenario_for, site_flows
from iotscope.lab.traffic._flowgen import CLOUDS, site_connections
from iotscope.lab.traffic._scenario import INTERNET, TELESCOPE, site_name
from iotscope.lab.traffic._zeek import FIELDS
from iotscope.lab.traffic.cli import traffic
from iotscope.pcap import be32, ip_layer_offsets, read_frames
from tests.conftest import require_tool


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traffic")
    generate(out, seed=3, days=0.5, scale=0.3)
    return out


def test_scenario_is_deterministic_per_seed() -> None:
    a, b, c = build_scenario(5, 1, 0.3), build_scenario(5, 1, 0.3), build_scenario(6, 1, 0.3)
    fa, fb, fc = (site_connections(x, x.sites[0].name) for x in (a, b, c))
    assert all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert len(fa["start"]) != len(fc["start"]) or not np.array_equal(fa["dst"], fc["dst"])


def test_sites_see_different_but_overlapping_lineages() -> None:
    sc = build_scenario(7, 1, 0.3)
    seen = {s.name: {x.name for x in sc.lineages if s.name in x.sites} for s in sc.sites}
    sets = list(seen.values())
    assert len({frozenset(s) for s in sets}) > 1
    assert any(a & b for i, a in enumerate(sets) for b in sets[i + 1 :])


def test_c2_migrates_while_bots_stay() -> None:
    sc = build_scenario(7, 2, 0.3)
    lin = sc.lineages[0]
    site = lin.sites[0]
    flows = site_connections(sc, site)
    bots = sc.bots[(lin.name, site)]
    epochs = lin.epochs()
    assert len(epochs) >= 2
    for epoch in epochs[:2]:
        ips = [a.ip for a in epoch]
        clients = np.unique(flows["src"][np.isin(flows["dst"], ips)])
        assert set(clients.tolist()) == set(bots.tolist())


def test_vendor_clouds_scale_with_devices_and_poll_from_the_start() -> None:
    """Each cloud's fan-in grows with the site's IoT devices; infected and clean devices alike
    poll it, from within two keepalives of the data's start until its end."""
    sc = build_scenario(7, 1, 0.3)
    big = build_scenario(7, 1, 1.0)
    bots = {
        s.name: np.concatenate([b for (_, x), b in sc.bots.items() if x == s.name])
        for s in sc.sites
    }
    for site in sc.sites:
        flows = site_connections(sc, site.name)
        for host, port, period, _ in CLOUDS:
            ip = int(INTERNET.network_address) + host
            mine = (flows["dst"] == ip) & (flows["dport"] == port)
            clients = np.unique(flows["src"][mine])
            assert len(clients) >= 1
            assert flows["start"][mine].min() < sc.start_ms + 2 * period * 1000
            assert flows["start"][mine].max() > sc.end_ms - 2 * period * 1000
        cloud_ips = int(INTERNET.network_address) + np.array([c[0] for c in CLOUDS])
        polling = np.unique(flows["src"][np.isin(flows["dst"], cloud_ips)])
        assert (
            np.isin(polling, bots[site.name]).any() and not np.isin(polling, bots[site.name]).all()
        )
        big_flows = site_connections(big, site.name)
        big_polling = np.unique(big_flows["src"][np.isin(big_flows["dst"], cloud_ips)])
        assert len(big_polling) > 2 * len(polling)


def test_site_name_is_a_safe_key() -> None:
    assert site_name("Kaede Networks") == "kaede-networks"
    assert site_name("  ") == "site"


def test_darknet_mirai_fingerprint(lab_dir: Path) -> None:
    truth = json.loads((lab_dir / "truth.json").read_text())
    frames = read_frames(lab_dir / "darknet.pcap")
    ip = ip_layer_offsets(frames)
    data = frames.data
    src, dst = be32(data, ip + 12), be32(data, ip + 16)
    seq = be32(data, ip + 24)
    dport = (data[ip + 22].astype(np.int64) << 8) | data[ip + 23]
    assert np.all((dst >> 16) == int(TELESCOPE.network_address) >> 16)
    kinds = {s["src"]: s["kind"] for s in truth["scanners"]}
    mirai = np.array([kinds.get(str(ipaddress.IPv4Address(int(s)))) == "mirai" for s in src])
    assert mirai.any() and (~mirai).any()
    assert np.array_equal(seq[mirai], dst[mirai])
    assert set(np.unique(dport[mirai]).tolist()) == {23, 2323}
    assert 0.05 < np.mean(dport[mirai] == 2323) < 0.15
    assert np.mean(seq[~mirai] == dst[~mirai]) < 0.01
    assert {"mirai", "iot", "research", "backscatter"} <= set(kinds.values())
    research = np.array([kinds.get(str(ipaddress.IPv4Address(int(s)))) == "research" for s in src])
    ip_id = (data[ip + 4].astype(np.int64) << 8) | data[ip + 5]
    masscan = ip_id == (dst ^ dport ^ seq) & 0xFFFF
    assert np.all((ip_id[research] == 54321) | masscan[research])


def test_conn_log_has_zeek_header_and_rows(lab_dir: Path) -> None:
    truth = json.loads((lab_dir / "truth.json").read_text())
    site = truth["sites"][0]
    lines = (lab_dir / "sites" / site / "conn.log").read_text().splitlines()
    assert lines[0] == "#separator \\x09"
    fields = next(x for x in lines if x.startswith("#fields")).split("\t")[1:]
    types = next(x for x in lines if x.startswith("#types")).split("\t")[1:]
    assert fields == [f for f, _ in FIELDS] and types == [t for _, t in FIELDS]
    assert lines[-1].startswith("#close\t")
    rows = [x.split("\t") for x in lines if not x.startswith("#")]
    assert all(len(r) == len(fields) for r in rows)
    first = dict(zip(fields, rows[0], strict=True))
    assert first["ts"].count(".") == 1 and len(first["ts"].split(".")[1]) == 6
    assert first["conn_state"] in {"SF", "S0", "REJ"}
    assert len(rows) == site_flows(scenario_for(3, 0.5, 0.3), site).num_rows


def test_truth_lists_every_part(lab_dir: Path) -> None:
    truth = json.loads((lab_dir / "truth.json").read_text())
    c2 = truth["c2"][0]
    assert set(c2) >= {"ip", "port", "proto", "family", "site", "active_from", "active_to"}
    assert {x["family"] for x in truth["c2"]} >= {"mirai", "emotet"}
    assert truth["infected"] and truth["victims"]
    assert {x["site"] for x in truth["infected"]} <= set(truth["sites"])
    per_address = {(x["ip"], x["site"]) for x in truth["c2"]}
    assert len(per_address) == len(truth["c2"])


def test_netflow_pcap_decodes_with_tshark(lab_dir: Path) -> None:
    tshark = require_tool("tshark")
    truth = json.loads((lab_dir / "truth.json").read_text())
    for site in truth["sites"][:2]:
        pcap = lab_dir / "sites" / site / "netflow.pcap"
        out = subprocess.run(
            [
                tshark,
                "-r",
                str(pcap),
                "-d",
                "udp.port==2055,cflow",
                "-T",
                "fields",
                "-e",
                "cflow.version",
                "-e",
                "ip.dst",
                "-e",
                "udp.dstport",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split("\n")
        versions = {line.split("\t")[0] for line in out if line}
        assert versions <= {"9", "10"} and len(versions) == 1
        assert all(line.split("\t")[1:] == ["127.0.0.1", "2055"] for line in out if line)


def test_command_through_a_typer_app(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(traffic)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(
        app,
        ["traffic", "--out", str(tmp_path / "t"), "--seed", "2", "--days", "0.2", "--scale", "0.2"],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / "truth.json").is_file()
    assert (tmp_path / "t" / "darknet.pcap").stat().st_size > 24
    assert len(list((tmp_path / "t" / "sites").glob("*/conn.log"))) >= 2
