"""The survey benchmark's scoring: each tool is scored on what it is able to name."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: benchmarks/

from benchmarks.bench_survey import (
    iotscope_software,
    nmap_timed_out,
    parse_nmap_xml,
    same_name,
    score,
    software_name,
    software_truth,
    vendor_truth,
)

from iotscope.lab import build_world

NMAP_XML = """<?xml version="1.0"?>
<nmaprun><host><status state="up"/><address addr="127.88.0.5" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="Dropbear sshd"
 version="2019.78"><cpe>cpe:/a:matt_johnston:dropbear_ssh_server:2019.78</cpe>
<cpe>cpe:/o:linux:linux_kernel</cpe></service></port>
<port protocol="tcp" portid="80"><state state="open"/><service name="http"
 product="Hikvision IP camera httpd" devicetype="webcam"><cpe>cpe:/h:hikvision:ds-2cd</cpe>
</service></port>
<port protocol="tcp" portid="23"><state state="open"/><service name="telnet"/></port>
</ports></host>
<host timedout="true"><status state="up"/><address addr="127.88.0.6" addrtype="ipv4"/></host>
</nmaprun>
"""


def test_software_name_leaves_the_version_off() -> None:
    assert software_name("lighttpd/1.4.45") == "lighttpd"
    assert software_name("SSH-2.0-dropbear_2019.78") == "dropbear"
    assert software_name("SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2") == "OpenSSH"
    assert software_name("uc-httpd 1.0.0") == "uc-httpd"
    assert software_name("Jetty(9.4.20.v20190813)") == "Jetty"


def test_names_compare_on_letters_and_digits() -> None:
    assert same_name("dropbear", "Dropbear sshd")
    assert same_name("TP-LINK", "tp-link")
    assert same_name("uc-httpd", "uc-httpd")
    assert not same_name("Boa", "lighttpd")
    assert not same_name("lighttpd", None) and not same_name("", "x")


def test_score_separates_named_correct_and_accuracy() -> None:
    truth = {"a": "lighttpd", "b": "Boa", "c": "dropbear", "d": "nginx"}
    seen = {"a": "lighttpd", "b": "GoAhead", "c": "Dropbear sshd"}
    assert score(truth, seen) == {"items": 4, "named": 0.75, "correct": 0.5,
                                  "accuracy": 0.6667}  # fmt: skip
    assert score({}, {}) == {"items": 0, "named": 0.0, "correct": 0.0, "accuracy": 0.0}


def test_nmap_xml_gives_products_and_device_vendors_only(tmp_path: Path) -> None:
    path = tmp_path / "nmap.xml"
    path.write_text(NMAP_XML)
    software, vendors = parse_nmap_xml(path)
    assert software == {"127.88.0.5:22": "Dropbear sshd",
                        "127.88.0.5:80": "Hikvision IP camera httpd"}  # fmt: skip
    assert vendors == {"127.88.0.5": "hikvision"}  # linux_kernel is not a device vendor
    assert nmap_timed_out(path) == 1
    assert parse_nmap_xml(tmp_path / "missing.xml") == ({}, {})


def test_truth_comes_from_the_world_and_leaves_hostile_hosts_out() -> None:
    world = build_world(60, 11, "127.88.0.0/16")
    soft, vendors = software_truth(world), vendor_truth(world)
    hostile = {d.ip for d in world.devices if d.hostile}
    assert soft and vendors
    assert not {key.rsplit(":", 1)[0] for key in soft} & hostile
    assert not set(vendors) & hostile
    by_ip = {d.ip: d for d in world.devices}
    for key, name in soft.items():
        ip, port = key.rsplit(":", 1)
        spec = next(s.spec for s in by_ip[ip].services if s.spec.port == int(port))
        assert name in (spec.server or spec.version_string or "")


def test_iotscope_software_uses_its_rules_on_recorded_banners() -> None:
    found = {"127.88.0.5": [
        {"ip": "127.88.0.5", "port": 22, "service": "ssh", "banner": "SSH-2.0-dropbear_2019.78",
         "details": {}},
        {"ip": "127.88.0.5", "port": 80, "service": "http", "banner": "Camera",
         "details": {"http": "lighttpd/1.4.45"}},
        {"ip": "127.88.0.5", "port": 23, "service": "telnet", "banner": "login", "details": {}},
    ]}  # fmt: skip
    named = iotscope_software(found)
    assert same_name("dropbear", named.get("127.88.0.5:22"))
    assert same_name("lighttpd", named.get("127.88.0.5:80"))
    assert "127.88.0.5:23" not in named  # telnet announces no software
