"""Real runs against the lab on loopback: identification and logins vs the manifest, and a
tcpdump capture proving nothing outside scope-minus-exclusions is contacted."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import time
from pathlib import Path

import pytest

from iotscope.lab import build_world, start_lab
from iotscope.records import Device, Finding
from iotscope.survey import LoginPolicy, SurveyConfig, Timeouts, prepare, run_survey
from tests.conftest import require_tool
from tests.survey.conftest import weak_truth

pytestmark = [pytest.mark.network, pytest.mark.slow]
QUICK = Timeouts(connect=2.0, read=1.5, probe=4.0, login=20.0)  # slack for a loaded 2-core CI


def _scope(tmp_path: Path, lines: list[str], name: str = "scope.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_identification_and_logins_match_the_manifest(
    lab_network: str, tmp_path: Path
) -> None:
    world = build_world(40, 5, lab_network)
    config = SurveyConfig(
        scope=_scope(tmp_path, [str(d.ip) for d in world.manifest.devices]),
        timeouts=QUICK, policy=LoginPolicy(delay=0.0, lockout_backoff=0.2),
    )  # fmt: skip
    found: list[Finding] = []
    async with await start_lab(world) as lab:
        survey = await run_survey(prepare(config), found.extend)
    by_ip = lab.manifest.by_ip()
    assert survey.counts["hosts"] == 40
    benign = {str(d.ip) for d in lab.manifest.devices if not d.hostile and d.services}
    assert {str(f.ip) for f in found} >= benign
    for f in found:  # ports seen are ports the device really serves
        device = by_ip[str(f.ip)]
        assert (f.port, f.transport) in {(s.port, s.transport) for s in device.services}
        if f.identity is not None and f.identity.vendor:
            assert f.identity.vendor.lower() == device.vendor.lower()
    identified = {str(f.ip) for f in found if _same(f, by_ip[str(f.ip)])}
    assert len(identified & benign) >= 0.9 * len(benign)
    reported = {str(f.ip) for f in found if f.login.outcome in ("accepted", "no_auth")}
    assert reported <= set(weak_truth(world))  # precision 100%
    # recall 100% wherever a lockout does not stop the list before the device's pair
    assert reported >= set(weak_truth(world, lockout=False))
    weak_ok = 0
    for f in found:
        if f.login.outcome in ("accepted", "no_auth"):  # precision: never a false weak login
            creds = by_ip[str(f.ip)].credentials
            proto = "http" if f.service == "https" else f.service
            assert any(c.weak and c.protocol == proto for c in creds), f
            weak_ok += 1
        if f.login.outcome == "accepted":
            assert f.login.credential and f.login.username
    assert weak_ok > 0


def _same(f: Finding, device: Device) -> bool:
    i = f.identity
    return i is not None and (i.vendor, i.product, i.version) == (
        device.vendor, device.product, device.version)  # fmt: skip


async def test_tcpdump_sees_no_packet_outside_scope(lab_network: str, tmp_path: Path) -> None:
    tcpdump = require_tool("tcpdump")
    world = build_world(12, 9, lab_network)
    net = ipaddress.ip_network(lab_network)
    excluded = str(world.manifest.devices[0].ip)
    config = SurveyConfig(
        scope=_scope(tmp_path, [lab_network]),
        exclude=_scope(tmp_path, [excluded], "exclude.txt"),
        timeouts=QUICK, login=False,
    )  # fmt: skip
    pcap = tmp_path / "lo.pcap"
    capture = subprocess.Popen(
        [tcpdump, "-i", "lo", "-n", "-U", "-w", str(pcap), "net", lab_network],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # let tcpdump attach
        async with await start_lab(world):
            await run_survey(prepare(config), lambda f: None)
        time.sleep(0.5)
    finally:
        capture.terminate()
        capture.wait(10)
    text = subprocess.run([tcpdump, "-n", "-r", str(pcap)], capture_output=True, text=True).stdout
    destinations = set(re.findall(r" > (\d+\.\d+\.\d+\.\d+)\.\d+", text))
    assert destinations, "the capture saw no traffic"
    scope = prepare(config).scope
    for dst in destinations:
        if ipaddress.ip_address(dst) in net:
            assert scope.contains(dst), dst
    assert excluded not in destinations
    assert not re.search(rf"\b{re.escape(excluded)}\.\d+ >", text)
