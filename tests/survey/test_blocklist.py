"""The built-in special-purpose blocklist: subtracted from overlapping scope entries, kept
for entries wholly inside a range (deliberate), enforced at the socket layer."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from iotscope.errors import ConfigError, ScopeError
from iotscope.survey import Limits, RealBackend, Scope, open_checked_socket
from iotscope.survey._scope import parse_networks, special_purpose_ranges

ZMAP_DEFAULT_V4 = {
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "255.255.255.255/32",
}  # fmt: skip


def _scope(nets: list[str], exclude: tuple[str, ...] = ()) -> Scope:
    return Scope.from_networks(parse_networks(nets), parse_networks(exclude))


def test_the_data_file_holds_the_iana_special_purpose_ranges() -> None:
    ranges = special_purpose_ranges()
    v4 = {str(r.network) for r in ranges if r.network.version == 4}
    assert v4 == ZMAP_DEFAULT_V4
    assert all(r.name and r.reference.startswith("RFC") for r in ranges)
    assert {"::1/128", "fe80::/10", "ff00::/8", "fc00::/7"} <= {str(r.network) for r in ranges}


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "127.0.0.1", "127.99.0.7", "224.0.0.1", "239.255.255.250", "255.255.255.255",
     "240.0.0.1", "0.0.0.0", "169.254.1.1", "192.168.1.1", "172.31.255.255", "100.64.0.1",
     "198.51.100.7", "203.0.113.9", "192.0.2.1", "198.19.0.1"],
)  # fmt: skip
def test_the_whole_internet_never_reaches_special_space(address: str) -> None:
    scope = _scope(["0.0.0.0/0"])
    assert not scope.contains(address)
    with pytest.raises(ScopeError):
        scope.check(address)


def test_the_whole_internet_keeps_public_space_and_names_what_it_left_out() -> None:
    scope = _scope(["0.0.0.0/0"])
    for address in ("1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "223.255.255.255"):
        assert scope.contains(address), address
    special = sum(n.num_addresses for n in ipaddress.collapse_addresses(
        ipaddress.ip_network(c) for c in ZMAP_DEFAULT_V4))  # fmt: skip
    assert scope.size() == 2**32 - special
    assert scope.deliberate == ()
    assert any(b.startswith("10.0.0.0/8 (Private-Use") for b in scope.blocked)
    assert any(b.startswith("224.0.0.0/4 (Multicast") for b in scope.blocked)


def test_an_entry_wholly_inside_a_range_is_deliberate_and_kept() -> None:
    scope = _scope(["127.99.0.0/16", "203.0.113.0/25", "8.8.8.0/24"])
    assert scope.contains("127.99.3.4") and scope.contains("203.0.113.5")
    assert scope.size() == 65536 + 128 + 256
    assert scope.deliberate == (
        "127.99.0.0/16 inside 127.0.0.0/8 (Loopback, RFC 1122 §3.2.1.3)",
        "203.0.113.0/25 inside 203.0.113.0/24 (Documentation (TEST-NET-3), RFC 5737)",
    )
    assert scope.blocked == ()


def test_overlap_is_cut_even_next_to_a_deliberate_entry() -> None:
    scope = _scope(["127.5.0.0/16", "96.0.0.0/3"])  # 96/3 covers 100.64/10 and 127/8
    assert scope.contains("127.5.1.1")  # deliberate entry
    assert not scope.contains("127.6.1.1")  # 127/8 cut out of 96/3
    assert not scope.contains("100.64.0.1") and scope.contains("100.128.0.1")


def test_exclusions_still_apply_inside_a_deliberate_entry() -> None:
    scope = _scope(["127.99.0.0/24"], ("127.99.0.0/25",))
    assert scope.size() == 128 and not scope.contains("127.99.0.1")


def test_a_scope_of_special_space_only_by_overlap_is_empty() -> None:
    with pytest.raises(ConfigError, match="blocklist"):
        _scope(["224.0.0.0/3"])  # 224/4 + 240/4


def test_ipv6_special_space() -> None:
    scope = _scope(["2001:db8::/31"])
    assert scope.contains("2001:db9::1") and not scope.contains("2001:db8::1")
    assert _scope(["::1/128"]).deliberate  # deliberate, e.g. a lab on ::1


def test_socket_layer_refuses_blocklisted_addresses_whoever_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller that bypasses target generation still cannot open a socket to special
    space: the socket factory and every backend path ask the scope first."""
    scope = _scope(["0.0.0.0/0"])
    made: list[object] = []

    class Spy(socket.socket):
        def __init__(self, *args: object) -> None:
            made.append(args)
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", Spy)
    for bad in ("10.0.0.1", "127.0.0.1", "224.0.0.251", "255.255.255.255", "192.168.0.1"):
        with pytest.raises(ScopeError):
            open_checked_socket(scope, bad, socket.SOCK_STREAM)
        with pytest.raises(ScopeError):
            open_checked_socket(scope, ipaddress.ip_address(bad), socket.SOCK_DGRAM)
    assert made == []


async def test_real_backend_refuses_blocklisted_addresses_on_every_path() -> None:
    backend = RealBackend(_scope(["0.0.0.0/0"]), Limits(10, 10))
    for bad in ("10.9.9.9", "127.0.0.1", "239.255.255.250"):
        ip = ipaddress.ip_address(bad)
        with pytest.raises(ScopeError):
            await backend.is_open(ip, 80)
        with pytest.raises(ScopeError):
            async with backend.connect(ip, 80):
                pass
        with pytest.raises(ScopeError):
            async with backend.raw_socket(ip, 22):
                pass
        with pytest.raises(ScopeError):
            await backend.datagram(ip, 1900, b"M-SEARCH", 100)
    assert backend.sockets_opened == 0


def test_address_at_agrees_with_ascending_addresses() -> None:
    scope = _scope(["127.9.0.0/30", "127.9.1.0/31", "2001:db9::/126"], ("127.9.0.1",))
    listed = list(scope.addresses())
    assert [scope.address_at(i) for i in range(scope.size())] == listed
    with pytest.raises(IndexError):
        scope.address_at(scope.size())
