"""A real scanner looks at the lab: Debian's nmap -sV must name the servers plausibly."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iotscope.lab import RunningLab, build_world, start_lab
from tests.conftest import require_tool
from tests.lab.labkit import find, test_catalog

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture
async def lab(lab_network: str, iotscope_home: Path) -> AsyncIterator[RunningLab]:
    async with await start_lab(build_world(60, 11, lab_network, test_catalog())) as running:
        yield running


async def nmap(ips: list[str], ports: str) -> dict[tuple[str, int], str]:
    """(ip, port) -> nmap's service/version text (-oG, grepable output)."""
    proc = await asyncio.create_subprocess_exec(
        require_tool("nmap"), "-sV", "--version-light", "-Pn", "-n", "-T4", "-p", ports,
        "-oG", "-", *ips, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 80)
    found: dict[tuple[str, int], str] = {}
    for line in out.decode().splitlines():
        m = re.match(r"Host: (\S+) .*Ports: (.*)", line)
        if not m:
            continue
        for entry in m.group(2).split(", "):
            port, state, _, _, service, _, version, *_ = entry.split("/")
            if state == "open":
                found[(m.group(1), int(port))] = f"{service} {version}".strip()
    return found


async def test_nmap_names_ssh_and_http_servers(lab: RunningLab) -> None:
    require_tool("nmap")
    router, _ = find(lab.world, "test-router", "ssh")
    dvr, _ = find(lab.world, "test-open", "ssh")
    hub, _ = find(lab.world, "test-broker", "http")
    seen = await nmap([router.ip, dvr.ip, hub.ip], "22,80,8080")
    assert "Dropbear sshd 2019.78" in seen[(router.ip, 22)]
    assert "OpenSSH 7.4p1 Debian 10+deb9u7" in seen[(dvr.ip, 22)]
    assert "thttpd 2.25b 29dec2003" in seen[(router.ip, 80)]
    assert "lighttpd 1.4.35" in seen[(hub.ip, 8080)]
    assert (hub.ip, 22) not in seen  # nothing invented: a port the device lacks is not open
