from __future__ import annotations

import ipaddress
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from iotscope.block import Policy, render_nftables, render_plain, render_rpz, select
from iotscope.block._formats import rpz_ip_owner
from tests.block.conftest import indicator


@pytest.fixture
def selection(fixed_now):
    objs = [
        indicator("198.51.100.7", fixed_now, port=23, valid_for=timedelta(hours=1)),
        indicator("203.0.113.9", fixed_now, valid_for=timedelta(seconds=90)),
        indicator("x", fixed_now, pattern="[ipv4-addr:value ISSUBSET '203.0.113.0/28']"),
        indicator("c2.bad.example", fixed_now),
        indicator("198.51.100.8", fixed_now, revoked=True),
    ]
    return select(objs, Policy("isp-a"), fixed_now)


def test_plain_has_a_header_and_one_address_a_line(selection) -> None:
    text = render_plain(selection)
    assert text.splitlines() == [
        "# iotscope blocklist for ISP isp-a",
        "# generated 2026-11-01T03:00:00Z",
        "# 3 addresses, 1 names; skipped: revoked=1; pattern errors: 0",
        "198.51.100.7",
        "203.0.113.0/28",
        "203.0.113.9",
    ]


def test_nftables_elements_time_out_when_the_indicator_does(selection) -> None:
    text = render_nftables(selection)
    assert "add element inet iotscope_block c2_v4 { 198.51.100.7 timeout 3600s" in text
    # the /28 swallows the /32 inside it (an interval set refuses overlaps) and keeps the later
    # of the two expiries (2 days), so nothing is unblocked early
    assert "203.0.113.9 " not in text
    assert "{ 203.0.113.0/28 timeout 172800s" in text


def _nft_check(path: Path) -> subprocess.CompletedProcess[str]:
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft not installed (Debian package nftables)")
    probe = subprocess.run([nft, "-c", "-f", "/dev/null"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"nft -c cannot run here: {probe.stderr.strip()[:200]}")
    return subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, text=True)


def test_nft_accepts_the_set_file(selection, tmp_path: Path) -> None:
    path = tmp_path / "c2.nft"
    path.write_text(render_nftables(selection))
    res = _nft_check(path)
    assert res.returncode == 0, res.stderr


def test_nft_accepts_an_empty_list(fixed_now, tmp_path: Path) -> None:
    path = tmp_path / "empty.nft"
    path.write_text(render_nftables(select([], Policy("isp-a"), fixed_now)))
    res = _nft_check(path)
    assert res.returncode == 0, res.stderr


def test_rpz_ip_trigger_names() -> None:
    assert rpz_ip_owner("198.51.100.7/32") == "32.7.100.51.198.rpz-ip"
    assert rpz_ip_owner("203.0.113.0/28") == "28.0.113.0.203.rpz-ip"


def test_rpz_zone_parses_with_dnspython(selection) -> None:
    import dns.rdatatype
    import dns.zone

    zone = dns.zone.from_text(render_rpz(selection), origin="rpz.iotscope.", relativize=False)
    cnames = {str(name): str(rds[0].target) for name, rds in zone.iterate_rdatasets("CNAME")}
    assert cnames == {
        "c2.bad.example.rpz.iotscope.": ".",
        "*.c2.bad.example.rpz.iotscope.": ".",
        "32.7.100.51.198.rpz-ip.rpz.iotscope.": ".",
        "32.9.113.0.203.rpz-ip.rpz.iotscope.": ".",
        "28.0.113.0.203.rpz-ip.rpz.iotscope.": ".",
    }
    soa = zone.get_rdataset("rpz.iotscope.", dns.rdatatype.SOA)
    assert soa is not None and soa[0].serial == int(selection.now.timestamp())


def test_named_checkzone_accepts_the_rpz(selection, tmp_path: Path) -> None:
    checkzone = shutil.which("named-checkzone")
    if checkzone is None:
        pytest.skip("named-checkzone not installed (Debian package bind9-utils)")
    path = tmp_path / "rpz.zone"
    path.write_text(render_rpz(selection))
    res = subprocess.run([checkzone, "rpz.iotscope", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK" in res.stdout


def test_ipv6_c2s_are_listed_in_every_format_but_not_announced(fixed_now, tmp_path: Path) -> None:
    from iotscope.block._bgp_speaker import routes_of

    objs = [
        indicator("198.51.100.7", fixed_now),
        indicator("v6", fixed_now, pattern="[ipv6-addr:value = '2001:db8::7']"),
        indicator("v6-net", fixed_now, pattern="[ipv6-addr:value ISSUBSET '2001:db8:1::/64']"),
        indicator("too-wide", fixed_now, pattern="[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
        indicator("allowed", fixed_now, pattern="[ipv6-addr:value = '2001:db8:2::1']"),
    ]
    policy = Policy("isp-a", allowlist=(ipaddress.ip_network("2001:db8:2::/48"),))
    sel = select(objs, policy, fixed_now)
    assert sel.skipped == {"too_broad": 1, "allowlisted": 1}
    assert render_plain(sel).splitlines()[3:] == ["198.51.100.7", "2001:db8:1::/64", "2001:db8::7"]
    text = render_nftables(sel)
    assert "add element inet iotscope_block c2_v6 { 2001:db8::7 timeout" in text
    assert "ip6 daddr @c2_v6" in text and "ip daddr @c2_v4" in text
    path = tmp_path / "v6.nft"
    path.write_text(text)
    res = _nft_check(path)
    assert res.returncode == 0, res.stderr
    assert "128.7.zz.db8.2001.rpz-ip CNAME ." in render_rpz(sel)
    assert rpz_ip_owner("2001:2:3::1/128") == "128.1.zz.3.2.2001.rpz-ip"  # BIND's own example
    assert [str(n) for n in routes_of(sel)] == ["198.51.100.7/32"]
